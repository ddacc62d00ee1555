"""Claims of the symmetry derivations: residuals simplified by SymPy and evaluated at numbers."""

from __future__ import annotations

import sympy as sp

from gradflow.theory.verify import Claim


def residual_claim(statement: str, symbolic, numeric, points: int, simplifier=sp.simplify) -> Claim:
    """A claim whose residuals (iterables of SymPy expressions) must vanish: ``symbolic`` ones are
    simplified, ``numeric`` ones (the same residuals with numbers substituted, one list per random
    point) evaluated to 30 digits."""
    zero = all(_is_zero(simplifier(sp.sympify(r).doit())) for r in symbolic)
    worst = max((float(abs(sp.sympify(r).doit().evalf(30))) for r in numeric), default=0.0)
    return Claim(statement, bool(zero), worst, points)


def _is_zero(value) -> bool:
    return value == 0 or bool(getattr(value, "is_ZeroMatrix", False))


def exact_claim(statement: str, proved: bool, mismatches: int, cases: int) -> Claim:
    """An identity between integers, proved symbolically (``proved``) and compared exactly in
    ``cases`` cases of which ``mismatches`` differ (the 'value at random points' is the count of
    mismatches: 0 when the table agrees)."""
    return Claim(statement, bool(proved), float(mismatches), cases)
