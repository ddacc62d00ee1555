"""The strong-Wolfe line search on 1-D polynomials whose values and slopes are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.mlp.training.line_search import cubic_minimizer, strong_wolfe
from gradflow.theory.errors import ParameterError


def _polynomial(c):
    """phi(a) = c0 + c1 a + c2 a^2 + c3 a^3 as the search wants it: (value, slope, payload)."""

    def phi(a):
        return c[0] + c[1] * a + c[2] * a * a + c[3] * a ** 3, c[1] + 2 * c[2] * a + 3 * c[3] * a * a, a

    return phi


coefficient = st.floats(-10, 10, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(c0=coefficient, slope=st.floats(-100, -1e-3), curvature=st.floats(1e-3, 100), cubic=st.floats(0, 50),
       alpha0=st.floats(1e-3, 1e3), c2=st.sampled_from([0.1, 0.5, 0.9]))
def test_the_step_satisfies_the_strong_wolfe_conditions(c0, slope, curvature, cubic, alpha0, c2):
    # convex along a >= 0 (curvature > 0, cubic term >= 0): a strong-Wolfe step always exists
    coefficients = (c0, slope, curvature, cubic)
    phi = _polynomial(coefficients)
    step = strong_wolfe(phi, c0, slope, alpha0=alpha0, c1=1e-4, c2=c2, max_evaluations=60)
    assert step is not None and step.wolfe
    a = step.alpha
    value, derivative, payload = phi(a)
    assert payload == a and step.value == value and step.slope == derivative
    assert value <= c0 + 1e-4 * a * slope + 1e-12 * (1 + abs(c0))
    assert abs(derivative) <= c2 * abs(slope)


@settings(max_examples=200, deadline=None)
@given(slope=st.floats(-10, -1e-2), curvature=st.floats(1e-2, 10), alpha0=st.floats(1e-2, 1e2))
def test_a_tiny_c2_finds_the_exact_minimum_of_a_quadratic(slope, curvature, alpha0):
    step = strong_wolfe(_polynomial((0.0, slope, curvature, 0.0)), 0.0, slope, alpha0=alpha0, c1=1e-11, c2=1e-10,
                        max_evaluations=60)
    assert step.alpha == pytest.approx(-slope / (2 * curvature), rel=1e-9)
    assert step.evaluations <= 12 + max(0.0, math.log10(-slope / (2 * curvature) / alpha0))


# zero or of order one: a coefficient of 1e-300 only probes the root finder of the check itself
polynomial_coefficient = st.one_of(st.just(0.0), st.floats(1e-3, 5), st.floats(-5, -1e-3))


@settings(max_examples=200, deadline=None)
@given(a=polynomial_coefficient, b=polynomial_coefficient, c=polynomial_coefficient, d=polynomial_coefficient)
def test_the_cubic_minimizer_is_a_stationary_point_with_positive_curvature(a, b, c, d):
    # p(x) = a x^3 + b x^2 + c x + d interpolated at 0 and 1 (values and slopes)
    p = lambda x: a * x ** 3 + b * x * x + c * x + d  # noqa: E731
    dp = lambda x: 3 * a * x * x + 2 * b * x + c  # noqa: E731
    m = cubic_minimizer(0.0, p(0.0), dp(0.0), 1.0, p(1.0), dp(1.0))
    if m is None:
        # None: no local minimum, or one so far away (over 1e4 interval lengths) that it is no guide
        roots = np.roots([3 * a, 2 * b, c]) if (a, b, c) != (0.0, 0.0, 0.0) else np.array([])
        minima = [r.real for r in roots if abs(r.imag) < 1e-12 and 6 * a * r.real + 2 * b > 1e-12]
        assert all(abs(r) > 1e4 for r in minima), minima
        return
    assert abs(dp(m)) <= 1e-6 * (1 + abs(a) * m * m + abs(b * m) + abs(c))
    assert 6 * a * m + 2 * b >= -1e-6


def test_a_blow_up_counts_as_too_far():
    def phi(a):  # a quadratic with its minimum at 1 that becomes non-finite beyond a = 3
        return (math.inf, math.nan, None) if a > 3 else ((a - 1) ** 2, 2 * (a - 1), a)

    step = strong_wolfe(phi, 1.0, -2.0, alpha0=100.0)
    assert step is not None and step.wolfe and abs(step.slope) <= 0.9 * 2.0


def test_an_ascent_direction_or_bad_constants_are_clear_errors():
    phi = _polynomial((0.0, -1.0, 1.0, 0.0))
    with pytest.raises(ParameterError, match="slope0"):
        strong_wolfe(phi, 0.0, 1.0)
    with pytest.raises(ParameterError, match="c1, c2"):
        strong_wolfe(phi, 0.0, -1.0, c1=0.9, c2=0.1)
    with pytest.raises(ParameterError, match="alpha0"):
        strong_wolfe(phi, 0.0, -1.0, alpha0=0.0)


def test_no_decrease_anywhere_gives_none():
    # a loss that only goes up along the line although its slope claims otherwise (inconsistent gradient)
    step = strong_wolfe(lambda a: (1.0 + a, -1.0, a), 1.0, -1.0, max_evaluations=20)
    assert step is None
