"""Claims of the symmetry derivations: residuals simplified by SymPy and evaluated at numbers."""

from __future__ import annotations

import numpy as np
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


def identity_claim(statement: str, pairs, symbols, concrete: dict, rng, points: int = 3,
                   simplifier=None) -> Claim:
    """lhs = rhs for every (lhs, rhs) in ``pairs`` (expressions with undefined functions):
    the differences simplify to 0; and with the undefined functions replaced by ``concrete``
    ({function: Lambda}), both sides compiled separately and evaluated at ``points`` random normal
    values of ``symbols`` agree (the difference of two independently evaluated trees)."""
    simplifier = simplifier or (lambda e: sp.simplify(sp.expand(e)))
    lhs = [sp.sympify(a).doit() for a, _ in pairs]
    rhs = [sp.sympify(b).doit() for _, b in pairs]
    zero = all(_vanishes(sp.expand(a - b), simplifier) for a, b in zip(lhs, rhs))
    left, right = (compiled(side, symbols, concrete) for side in (lhs, rhs))
    worst = 0.0
    for _ in range(points):
        values = rng.normal(size=len(symbols))
        worst = max(worst, float(np.max(np.abs(left(values) - right(values)), initial=0.0)))
    return Claim(statement, bool(zero), worst, points)


def _vanishes(expanded, simplifier) -> bool:
    # expanding decides most of these differences; the simplifier only sees what is left
    return _is_zero(expanded) or _is_zero(simplifier(expanded))


def compiled(exprs, symbols, concrete: dict):
    """NumPy function of the values of ``symbols`` returning ``exprs`` (flat), with the undefined
    functions replaced by ``concrete`` ({function: Lambda})."""
    made = [e.subs(concrete).doit() if concrete else e for e in exprs]
    fn = sp.lambdify(symbols, made, modules="numpy", cse=True)
    return lambda values: np.asarray(fn(*values), dtype=float).ravel()


def tanh_and_quadratic(sigma, ell, arguments: int, rng) -> dict:
    """The concrete functions of the numeric checks: ``sigma`` = tanh and ``ell`` = a random positive
    quadratic plus a random linear term in its ``arguments`` variables."""
    t = sp.Symbol("t")
    v = sp.symbols(f"v0:{arguments}", real=True)
    A = sp.Matrix(rng.normal(size=(arguments, arguments)))
    quadratic = (sp.Matrix(v).T * A * A.T * sp.Matrix(v))[0] + sum(rng.normal() * s for s in v)
    return {sigma: sp.Lambda(t, sp.tanh(t)), ell: sp.Lambda(v, quadratic)}
