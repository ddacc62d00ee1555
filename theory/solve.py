"""Closed-form solutions of scalar autonomous flows d x/dt = f(x)."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from gradflow.theory.flow import Flow
from gradflow.theory.latex import latex


@dataclass(frozen=True)
class Solution:
    """x(t) of a scalar flow from x(0) = initial.

    ``implicit`` is an equation F(x, t) = 0 that the trajectory satisfies; ``explicit`` is
    x(t) where SymPy found one (it may contain LambertW), else None.
    """

    flow: Flow
    initial: sp.Expr
    implicit: sp.Eq
    explicit: sp.Expr | None

    @property
    def state(self) -> sp.Symbol:
        return self.flow.states[0]

    def implicit_residual_of_ode(self, simplify: bool = True) -> sp.Expr:
        """dx/dt from implicit differentiation of F(x, t) = 0, minus f(x): 0 if F solves the ODE."""
        relation = self.implicit.lhs - self.implicit.rhs
        x, t = self.state, self.flow.time
        slope = -sp.diff(relation, t) / sp.diff(relation, x)
        residual = slope - self.flow.rhs[0]
        return sp.simplify(residual) if simplify else residual

    def explicit_residual(self, simplify: bool = True) -> sp.Expr:
        """F(explicit(t), t), simplified with W(z) e^{W(z)} = z: 0 if the closed form is right."""
        if self.explicit is None:
            raise ValueError("this solution has no explicit form")
        relation = self.implicit.lhs - self.implicit.rhs
        residual = relation.subs(self.state, self.explicit)
        return simplify_lambert(residual) if simplify else residual

    def latex(self) -> str:
        text = latex(self.implicit)
        if self.explicit is not None:
            text += r",\qquad " + latex(self.state) + "(" + latex(self.flow.time) + ") = " + latex(self.explicit)
        return text


def solve_autonomous(flow: Flow, initial=0) -> Solution:
    """Separate variables: t = integral_{x0}^{x} dx'/f(x'), then try to invert for x."""
    if flow.dimension != 1:
        raise ValueError(f"solve_autonomous needs a scalar flow, got dimension {flow.dimension}")
    x, t, f = flow.states[0], flow.time, flow.rhs[0]
    dummy = sp.Dummy("xi")
    integrand = sp.simplify(1 / f.subs(x, dummy))
    integrand = sp.apart(integrand, dummy) if integrand.is_rational_function(dummy) else sp.expand(integrand)
    antiderivative = sp.integrate(integrand, dummy)
    if antiderivative.has(sp.Integral):
        raise ValueError(f"SymPy could not integrate 1/f for f = {f}")
    elapsed = sp.simplify(sp.expand_log(antiderivative.subs(dummy, x) - antiderivative.subs(dummy, initial), force=True))
    implicit = sp.Eq(elapsed, t)
    explicit = _invert(elapsed - t, x)
    return Solution(flow, sp.sympify(initial), implicit, explicit)


def _invert(relation, x):
    try:
        roots = sp.solve(relation, x)
    except NotImplementedError:
        return None
    # The trajectory is the real root that is not identically on the boundary; with
    # positive parameters SymPy returns a single root for the flows we handle.
    return sp.simplify(roots[0]) if len(roots) == 1 else None


def simplify_lambert(expr) -> sp.Expr:
    """Simplify using e^{-W(z)} = W(z)/z for every LambertW(z) in expr."""
    expr = sp.sympify(expr)
    for lw in expr.atoms(sp.LambertW):
        z, w = lw.args[0], sp.Dummy("w", positive=True)
        expr = sp.powsimp(sp.expand(sp.expand_log(expr.subs(lw, w), force=True)), combine="exp")

        def split(e, z=z, w=w):
            arg = sp.expand(e.args[0])
            k = sp.cancel(arg.coeff(w))
            return sp.exp(arg - k * w) * (z / w) ** k

        expr = expr.replace(lambda e: isinstance(e, sp.exp) and w in e.free_symbols, split)
        expr = sp.simplify(sp.powsimp(sp.expand(expr), force=True)).subs(w, lw)
    return sp.simplify(sp.expand_log(sp.simplify(expr), force=True))
