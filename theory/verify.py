"""Check a symbolic claim two ways: SymPy simplification to zero and numbers at random points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp


@dataclass(frozen=True)
class Claim:
    statement: str
    simplifies_to_zero: bool
    max_abs_at_random_points: float
    points: int

    @property
    def holds(self) -> bool:
        return self.simplifies_to_zero and self.max_abs_at_random_points <= 1e-9

    def __str__(self) -> str:
        return (f"{self.statement}: simplifies to 0: {self.simplifies_to_zero}; "
                f"max |value| at {self.points} random points: {self.max_abs_at_random_points:.2e}")


def _sample(symbol: sp.Symbol, rng) -> sp.Expr:
    if symbol.is_integer:
        return sp.Integer(int(rng.integers(2, 12)))  # sizes such as M: >= 2
    if symbol.is_positive:
        return sp.Float(float(np.exp(rng.uniform(-3, 2))), 30)
    return sp.Float(float(rng.uniform(-5, 5)), 30)


def vanishes(expr, statement: str = "", points: int = 12, seed: int = 0, simplifier=sp.simplify) -> Claim:
    """Does ``expr`` vanish identically?  Simplify it (with ``simplifier``), and evaluate the
    unsimplified expression at random points (respecting each symbol's assumptions) with 30
    significant digits."""
    expr = sp.sympify(expr)
    symbolic = simplifier(expr) == 0
    rng = np.random.default_rng(seed)
    symbols = sorted(expr.free_symbols, key=str)
    worst = 0.0
    for _ in range(points):
        value = expr.subs({s: _sample(s, rng) for s in symbols}).evalf(30)
        worst = max(worst, float(abs(value)))
    return Claim(statement or str(expr), bool(symbolic), worst, points)


def backed(label: str, *evidence) -> str:
    """``label`` if every piece of evidence holds (a :class:`Claim` or a bool), else "".

    A derivation step says "Checked by SymPy: <label>" only when the check behind the label was run
    and passed; a step whose check fails is printed without the label."""
    if not evidence:
        raise ValueError("a checked_by label needs the check behind it")
    return label if all(e.holds if isinstance(e, Claim) else bool(e) for e in evidence) else ""
