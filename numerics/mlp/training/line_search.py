"""A step length along a descent direction that satisfies the strong Wolfe conditions

    phi(a) <= phi(0) + c1 a phi'(0)          (sufficient decrease)
    |phi'(a)| <= c2 |phi'(0)|                 (curvature)

by bracketing, then zooming into the bracket with safeguarded cubic interpolation (the bracketing
and zoom algorithms of Nocedal and Wright, Numerical Optimization, chapter 3).  ``phi(a)`` returns
(value, slope, payload); the payload (for BFGS: the point and its gradient) is handed back with the
chosen step so that nothing is evaluated twice.  A non-finite value counts as "too far".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from gradflow.theory.errors import require

_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class LineStep:
    """The step taken: ``wolfe`` False when only sufficient decrease could be met (the evaluations ran
    out or the bracket shrank to rounding), so the caller may skip its curvature-based update."""

    alpha: float
    value: float
    slope: float
    payload: Any
    evaluations: int
    wolfe: bool


def cubic_minimizer(a: float, fa: float, da: float, b: float, fb: float, db: float) -> float | None:
    """The minimiser of the cubic matching value and slope at a and b; None when it has none within
    1e4 interval lengths."""
    if a == b or not all(math.isfinite(v) for v in (fa, da, fb, db)):
        return None
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if disc < 0:
        return None
    d2 = math.copysign(math.sqrt(disc), b - a)
    denominator = db - da + 2.0 * d2
    # a concave quadratic or a line (zero up to rounding): no minimum; a real one inside [a, b] has a
    # denominator of at least a third of this scale
    if abs(denominator) <= 1e-6 * (abs(db) + abs(da) + 2 * abs(d2)):
        return None
    value = b - (b - a) * (db + d2 - d1) / denominator
    # beyond 1e4 interval lengths the cubic is no guide (and for a line it is rounding noise)
    return value if math.isfinite(value) and abs(value - b) <= 1e4 * abs(b - a) else None


@dataclass
class _Point:
    alpha: float
    value: float
    slope: float
    payload: Any = None


def strong_wolfe(phi: Callable[[float], tuple], phi0: float, slope0: float, alpha0: float = 1.0, c1: float = 1e-4,
                 c2: float = 0.9, max_evaluations: int = 30, alpha_max: float = 1e10) -> LineStep | None:
    """A strong-Wolfe step from ``alpha0``; None when not even sufficient decrease was found."""
    require(0 < c1 < c2 < 1, "c1, c2", "0 < c1 < c2 < 1", (c1, c2))
    require(slope0 < 0, "slope0", "< 0 (a descent direction)", slope0)
    require(0 < alpha0 <= alpha_max, "alpha0", f"in (0, {alpha_max:g}]", alpha0)
    state = {"evaluations": 0}

    def evaluate(alpha: float) -> _Point:
        state["evaluations"] += 1
        value, slope, payload = phi(alpha)
        if not (math.isfinite(value) and math.isfinite(slope)):
            value, slope = math.inf, math.nan
        return _Point(alpha, float(value), float(slope), payload)

    def decreases(p: _Point) -> bool:
        return p.value <= phi0 + c1 * p.alpha * slope0

    def flat(p: _Point) -> bool:
        return abs(p.slope) <= -c2 * slope0

    def done(p: _Point, wolfe: bool = True) -> LineStep:
        return LineStep(p.alpha, p.value, p.slope, p.payload, state["evaluations"], wolfe)

    previous = _Point(0.0, phi0, slope0)
    alpha = alpha0
    while state["evaluations"] < max_evaluations:
        current = evaluate(alpha)
        if not decreases(current) or (previous.alpha > 0 and current.value >= previous.value):
            return _zoom(evaluate, previous, current, decreases, flat, done, state, max_evaluations, phi0)
        if flat(current):
            return done(current)
        if current.slope >= 0:
            return _zoom(evaluate, current, previous, decreases, flat, done, state, max_evaluations, phi0)
        if alpha >= alpha_max:
            return done(current, wolfe=False)
        # still going down: extrapolate (cubic minimiser, kept within [2, 10] times the step)
        guess = cubic_minimizer(previous.alpha, previous.value, previous.slope, alpha, current.value, current.slope)
        low, high = 2.0 * alpha, 10.0 * alpha
        guess = 4.0 * alpha if guess is None else min(max(guess, low), high)
        previous, alpha = current, min(guess, alpha_max)
    return done(previous, wolfe=False) if previous.alpha > 0 and previous.value < phi0 else None


def _zoom(evaluate, lo: _Point, hi: _Point, decreases, flat, done, state, max_evaluations,
          phi0: float) -> LineStep | None:
    """Shrink [lo, hi] (lo: sufficient decrease and the lower value; the minimiser lies between)."""
    while state["evaluations"] < max_evaluations:
        left, right = min(lo.alpha, hi.alpha), max(lo.alpha, hi.alpha)
        width = right - left
        if width <= 4 * _EPS * right:
            break  # the bracket is at rounding level: no point in it can be told apart
        guess = cubic_minimizer(lo.alpha, lo.value, lo.slope, hi.alpha, hi.value, hi.slope)
        if guess is None and not math.isfinite(hi.value):
            guess = lo.alpha + 0.1 * (hi.alpha - lo.alpha)  # past a blow-up: creep back towards lo
        elif guess is None:
            guess = 0.5 * (left + right)
        alpha = min(max(guess, left + 0.1 * width), right - 0.1 * width)  # the bracket must shrink
        point = evaluate(alpha)
        # a value equal to lo's (rounding, near the minimum) is no reason to drop the point: the slope decides
        if not decreases(point) or point.value > lo.value or point.value >= phi0:
            hi = point
            continue
        if flat(point):
            return done(point)
        if point.slope * (hi.alpha - lo.alpha) >= 0:
            hi = lo
        lo = point
    return done(lo, wolfe=False) if lo.alpha > 0 and lo.value < phi0 else None
