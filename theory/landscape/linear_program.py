"""Small linear programs, exact (SymPy's simplex) or float (SciPy's HiGHS), behind one call.

    minimize c . x  subject to  A_ub x <= b_ub,  A_eq x = b_eq,  lower <= x <= upper

Exact mode needs a feasible ``start`` point.  Why: SymPy's simplex has a phase 1 (finding a
feasible point) that can oscillate and then reports a feasible problem as infeasible.  Every LP of
this package knows a feasible point, so we shift it to the origin (x = start + p - q, p, q >= 0):
then every right-hand side is >= 0, phase 1 is skipped, and phase 2 with Bland's rule always
terminates with the exact optimum.  Float mode ignores ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import linprog as highs_linprog
from sympy.solvers.simplex import UnboundedLPError
from sympy.solvers.simplex import linprog as exact_linprog


@dataclass(frozen=True)
class LPSolution:
    value: object  # Rational (exact) or float
    x: np.ndarray  # a minimiser


def minimize(c, *, A_ub=(), b_ub=(), A_eq=(), b_eq=(), lower=None, upper=None, start=None,
             exact: bool) -> LPSolution | None:
    """Minimise c . x; None when the problem is infeasible (float mode only: exact callers pass a
    feasible ``start``).  ``lower``/``upper`` are per-variable bounds, None entries meaning infinite."""
    c = list(c)
    size = len(c)
    lower = [None] * size if lower is None else list(lower)
    upper = [None] * size if upper is None else list(upper)
    if exact:
        return _exact(c, [list(r) for r in A_ub], list(b_ub), [list(r) for r in A_eq], list(b_eq), lower, upper, start)
    return _float(c, A_ub, b_ub, A_eq, b_eq, lower, upper)


def maximize(c, **kwargs) -> LPSolution | None:
    """Maximise c . x (same arguments as ``minimize``)."""
    solution = minimize([-v for v in c], **kwargs)
    return None if solution is None else LPSolution(-solution.value, solution.x)


def _exact(c, A_ub, b_ub, A_eq, b_eq, lower, upper, start) -> LPSolution:
    if start is None:
        raise TypeError("exact LPs need a feasible start point (see module docstring)")
    start = [sp.Rational(v) for v in start]
    size = len(c)
    rows, rhs = [], []

    def add(row, bound):  # row . (x - start) <= bound, written for x - start = p - q
        rows.append(list(row) + [-v for v in row])
        rhs.append(bound)

    for row, bound in zip(A_ub, b_ub):
        add(row, bound - _dot(row, start))
    for row, bound in zip(A_eq, b_eq):
        _check(_dot(row, start) == bound, "equality")
        add(row, sp.Integer(0))
        add([-v for v in row], sp.Integer(0))
    for j in range(size):
        unit = [sp.Integer(1) if l == j else sp.Integer(0) for l in range(size)]
        if lower[j] is not None:
            add([-v for v in unit], start[j] - lower[j])
        if upper[j] is not None:
            add(unit, upper[j] - start[j])
    _check(all(b >= 0 for b in rhs), "inequality or bound")
    if not rows:  # an unconstrained problem still needs one (trivial) row for SymPy
        add([sp.Integer(0)] * size, sp.Integer(0))
    try:
        shift, split = exact_linprog(c + [-v for v in c], rows, rhs)
    except UnboundedLPError:
        raise RuntimeError("internal error: an exact landscape LP is unbounded") from None
    x = np.array([start[j] + split[j] - split[size + j] for j in range(size)], dtype=object)
    return LPSolution(_dot(c, start) + shift, x)


def _float(c, A_ub, b_ub, A_eq, b_eq, lower, upper) -> LPSolution | None:
    bounds = [(None if lo is None else float(lo), None if hi is None else float(hi)) for lo, hi in zip(lower, upper)]
    result = highs_linprog(np.asarray(c, dtype=float), A_ub=_floats(A_ub), b_ub=_floats(b_ub),
                           A_eq=_floats(A_eq), b_eq=_floats(b_eq), bounds=bounds, method="highs")
    if result.status == 2:
        return None
    if result.status != 0:
        raise RuntimeError(f"internal error: HiGHS could not solve a landscape LP: {result.message}")
    return LPSolution(float(result.fun), np.asarray(result.x, dtype=float))


def _floats(values):
    """HiGHS takes None for an absent block of constraints."""
    return np.asarray(values, dtype=float) if len(values) else None


def _dot(row, x):
    return sum((a * b for a, b in zip(row, x)), sp.Integer(0))


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(f"internal error: the start point of an exact LP breaks an {what} constraint")
