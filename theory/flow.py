"""Flows (d x/dt = F(x)) and maps (x <- G(x)) over a few lane variables.

A *lane* is one independent copy of a small system: one particle's margin, one mode's
strength.  A Flow or Map stores one lane symbolically; numerics runs many lanes at once,
each with its own parameter values.  Sizes such as M or N stay symbols.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from gradflow.theory.latex import latex


class ClosureError(ValueError):
    """A change of variables whose new right-hand side still depends on the old variables."""


def _as_tuple(items) -> tuple:
    if isinstance(items, (list, tuple)):
        return tuple(items)
    return (items,)


@dataclass(frozen=True)
class Flow:
    """Autonomous ODE d states/dt = rhs, one lane.

    ``params`` lists every other symbol the right-hand side may use, in the order generated
    code takes them.  ``time`` is the time symbol used by solutions and laws.
    """

    states: tuple
    rhs: tuple
    params: tuple
    time: sp.Symbol = field(default_factory=lambda: sp.Symbol("t", positive=True))  # the same t as in Laws
    name: str = "flow"

    def __post_init__(self):
        object.__setattr__(self, "states", _as_tuple(self.states))
        object.__setattr__(self, "rhs", tuple(sp.sympify(r) for r in _as_tuple(self.rhs)))
        object.__setattr__(self, "params", _as_tuple(self.params))
        if len(self.states) != len(self.rhs):
            raise ValueError(
                f"states and rhs must have the same length, got {len(self.states)} and {len(self.rhs)}"
            )
        allowed = set(self.states) | set(self.params)
        for expr in self.rhs:
            extra = expr.free_symbols - allowed
            if extra:
                raise ValueError(f"rhs uses symbols {sorted(map(str, extra))} that are neither states nor params")

    @property
    def dimension(self) -> int:
        return len(self.states)

    def vector_field(self, substitutions: dict | None = None) -> tuple:
        subs = substitutions or {}
        return tuple(r.subs(subs) for r in self.rhs)

    def time_derivative(self, quantity) -> sp.Expr:
        """d quantity/dt along the flow (chain rule), simplified."""
        quantity = sp.sympify(quantity)
        return sp.simplify(sum(sp.diff(quantity, x) * f for x, f in zip(self.states, self.rhs)))

    def reduce(self, definitions: dict, ansatz: dict, name: str | None = None, params=None) -> "Flow":
        """Change variables to ``definitions`` (new symbol -> expression of old states).

        ``ansatz`` expresses old states through new ones (plus, possibly, old states left
        free as gauge).  The reduction is accepted only if, after substituting the ansatz,
        the new right-hand side is free of every old state: closure is proved by SymPy.
        """
        new_states = tuple(definitions)
        new_rhs = []
        for new in new_states:
            derivative = sum(sp.diff(definitions[new], x) * f for x, f in zip(self.states, self.rhs))
            new_rhs.append(_close(derivative, ansatz, self.states, new))
        kept = tuple(q for q in self.params if any(q in r.free_symbols for r in new_rhs))
        return Flow(new_states, tuple(new_rhs), kept if params is None else params, self.time, name or self.name)

    def gradient_descent_map(self, eta: sp.Symbol, name: str | None = None) -> "Map":
        """The explicit Euler map x <- x + eta F(x), i.e. GD when F = -grad L."""
        update = tuple(x + eta * f for x, f in zip(self.states, self.rhs))
        return Map(self.states, update, (*self.params, eta), eta, name or f"{self.name} (GD)")

    def latex(self) -> str:
        lines = [
            rf"\frac{{d {latex(x)}}}{{d {latex(self.time)}}} &= {latex(f)}"
            for x, f in zip(self.states, self.rhs)
        ]
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


@dataclass(frozen=True)
class Map:
    """One step of a discrete-time system: states <- update(states), one lane."""

    states: tuple
    update: tuple
    params: tuple
    step_size: sp.Symbol | None = None
    name: str = "map"

    def __post_init__(self):
        object.__setattr__(self, "states", _as_tuple(self.states))
        object.__setattr__(self, "update", tuple(sp.sympify(u) for u in _as_tuple(self.update)))
        object.__setattr__(self, "params", _as_tuple(self.params))
        if len(self.states) != len(self.update):
            raise ValueError("states and update must have the same length")

    @property
    def dimension(self) -> int:
        return len(self.states)

    @property
    def increments(self) -> tuple:
        return tuple(sp.simplify(u - x) for x, u in zip(self.states, self.update))

    def reduce(self, definitions: dict, ansatz: dict, name: str | None = None) -> "Map":
        """Change variables; closure proved as for :meth:`Flow.reduce`."""
        after_step = dict(zip(self.states, self.update))
        new_states = tuple(definitions)
        new_update = []
        for new in new_states:
            stepped = definitions[new].subs(after_step, simultaneous=True)
            increment = _close(stepped - definitions[new], ansatz, self.states, new)
            new_update.append(new + increment)
        kept = tuple(q for q in self.params if any(q in u.free_symbols for u in new_update))
        return Map(new_states, tuple(new_update), kept, self.step_size, name or self.name)

    def latex(self) -> str:
        # braces keep subscripted names (m_1) valid LaTeX: {m_{1}}_{t+1}
        at_t = {x: sp.Symbol("{" + latex(x) + "}_t") for x in self.states}
        lines = [rf"{{{latex(x)}}}_{{t+1}} &= {latex(u.xreplace(at_t))}" for x, u in zip(self.states, self.update)]
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def _close(expr, ansatz, old_states, new) -> sp.Expr:
    closed = sp.simplify(sp.expand(sp.sympify(expr).subs(ansatz, simultaneous=True)))
    closed = sp.simplify(sp.powsimp(sp.expand_power_exp(closed)))
    leftover = closed.free_symbols & set(old_states)
    if leftover:
        raise ClosureError(
            f"reduction to {new} is not closed: its right-hand side still depends on "
            f"{sorted(map(str, leftover))}"
        )
    return closed
