"""Laws: asymptotic statements, limits and bounds, derived by SymPy and carried as data.

A Law says ``quantity ~ leading`` (kind "asymptotic"), ``quantity -> leading`` ("limit"),
``quantity >= leading`` ("lower bound") or ``quantity <= leading`` ("upper bound"), as
``variable`` (usually t) goes to infinity, with the error term, the constants that appear in
it and the assumptions under which it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from gradflow.theory.flow import Flow, Map
from gradflow.theory.latex import latex

KINDS = ("asymptotic", "limit", "lower bound", "upper bound")


@dataclass(frozen=True)
class Law:
    name: str
    quantity: sp.Expr
    leading: sp.Expr
    variable: sp.Symbol
    kind: str = "asymptotic"
    error: sp.Expr | None = None
    constants: dict = field(default_factory=dict)
    assumptions: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def latex(self) -> str:
        q, lead = latex(self.quantity), latex(self.leading)
        if self.kind == "asymptotic":
            rel = f"{q} = {lead}"
            if self.error is not None:
                rel += rf" + O\left({latex(self.error)}\right)"
        elif self.kind == "limit":
            rel = rf"\lim_{{{latex(self.variable)} \to \infty}} {q} = {lead}"
        elif self.kind == "lower bound":
            rel = f"{q} \\ge {lead}"
        else:
            rel = f"{q} \\le {lead}"
        return rel

    def leading_function(self, params: tuple):
        """A NumPy function leading(variable, *params)."""
        return sp.lambdify((self.variable, *params), self.leading, modules="numpy")


@dataclass(frozen=True)
class GrowthExpansion:
    """e^{x(t)} = rate * t + log_coefficient * log t + O(1) for a growing scalar system."""

    rate: sp.Expr
    log_coefficient: sp.Expr


def exponential_growth(system: Flow | Map) -> GrowthExpansion:
    """Large-x expansion of u = e^x along a scalar flow or map whose drift decays like e^{-x}.

    For a flow, du/dt = u f(log u); for a map, u_{t+1} - u_t = u (e^{g(log u)} - 1) with g the
    increment.  Expanding at u = oo gives a0 + a1/u + O(u^-2), hence
    u_t = a0 t + (a1/a0) log t + O(1).
    """
    if system.dimension != 1:
        raise ValueError("exponential_growth needs a scalar system")
    x = system.states[0]
    u = sp.Symbol("u", positive=True)
    if isinstance(system, Flow):
        drift = u * system.rhs[0].subs(x, sp.log(u))
    else:
        drift = u * (sp.exp(system.increments[0].subs(x, sp.log(u))) - 1)
    expansion = sp.series(sp.simplify(drift), u, sp.oo, n=2).removeO()
    a0 = sp.simplify(sp.limit(expansion, u, sp.oo))
    a1 = sp.simplify(sp.limit((expansion - a0) * u, u, sp.oo))
    if a0.is_positive is False or a0 == 0:
        raise ValueError(f"drift of e^x does not tend to a positive constant (got {a0})")
    return GrowthExpansion(sp.factor(a0), sp.factor(sp.simplify(a1 / a0)))


def logarithmic_growth_law(system: Flow | Map, name: str, assumptions=()) -> Law:
    """x(t) = log(a0 t) + O(log t / t), from :func:`exponential_growth`."""
    growth = exponential_growth(system)
    t = sp.Symbol("t", positive=True)
    x = system.states[0]
    error = sp.log(t) / t if growth.log_coefficient != 0 else 1 / t
    return Law(name, x, sp.log(growth.rate * t), t, "asymptotic", error,
               {"rate": growth.rate, "log_coefficient": growth.log_coefficient}, tuple(assumptions))


def exponential_expansion_law(system: Flow | Map, name: str, assumptions=()) -> Law:
    """e^{x_t} = a0 t + (a1/a0) log t + O(1)."""
    growth = exponential_growth(system)
    t = sp.Symbol("t", positive=True)
    x = system.states[0]
    return Law(name, sp.exp(x), growth.rate * t + growth.log_coefficient * sp.log(t), t,
               "asymptotic", sp.Integer(1), {"rate": growth.rate, "log_coefficient": growth.log_coefficient},
               tuple(assumptions))


def rate_limit(loss: sp.Expr, state: sp.Symbol, growth_law: Law, scale: sp.Expr) -> sp.Expr:
    """lim_{t->oo} scale * t * loss(state = growth_law.leading)."""
    t = growth_law.variable
    return sp.simplify(sp.limit(scale * t * loss.subs(state, growth_law.leading), t, sp.oo))
