"""The CPU kernels' row softmax helpers (eight-way row maximum and sum, the vectorisable exp with fused
multiply-adds) against the exact softmax computed by mpmath, and their NaN behaviour."""

import math

import mpmath
import numpy as np
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.codegen import support


def _exact_softmax(row: np.ndarray) -> np.ndarray:
    with mpmath.workprec(160):
        exps = [mpmath.exp(mpmath.mpf(float(v))) for v in row]
        total = mpmath.fsum(exps)
        return np.array([float(e / total) for e in exps])


def _ulps(got: np.ndarray, exact: np.ndarray) -> float:
    spacing = np.array([math.ulp(float(v)) for v in exact])
    return float(np.max(np.abs(got - exact) / spacing))


# Row lengths around the eight-way unrolling (1, 7, 8, 9, 16, 17, ...) and a maximum placed anywhere,
# the unrolled tail included; logits spread up to 60 (exponents of the shifted values down to -120).
@settings(max_examples=60)
@given(st.integers(1, 41), st.integers(0, 40), st.floats(0.1, 60.0), st.integers(0, 2**32 - 1))
def test_row_softmax_is_within_a_few_ulps_of_the_exact_softmax(m, top_at, spread, seed):
    rng = np.random.default_rng(seed)
    S = rng.uniform(-spread, spread, size=(3, m))
    S[1, top_at % m] = spread + 1.0  # a single clear maximum, in the unrolled part or the tail
    got = support._row_softmax(S)
    for i in range(3):
        # of the shifted logits as rounded to doubles: the rounding of S - max (up to |S - max| ulp/2
        # relative in e^(S - max)) is every shifted softmax's, SciPy's included
        exact = _exact_softmax(S[i] - S[i].max())
        # exp within 1 ulp, the sum of m terms in eight running sums, one division: a few ulps
        assert _ulps(got[i], exact) <= 4.0 + m / 8, (i, _ulps(got[i], exact))


@settings(max_examples=40)
@given(st.integers(1, 41), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_weighted_softmax_minus_matches_its_definition(m, n, seed):
    rng = np.random.default_rng(seed)
    S = rng.normal(0.0, 5.0, size=(n, m))
    B = np.eye(m)[rng.integers(0, m, size=n)]
    w = rng.uniform(0.0, 1.0, size=(n, 1))
    got = support._weighted_softmax_minus(S, B, w)
    expected = w * (scipy.special.softmax(S, axis=1) - B)
    # w (pi - b) with pi near b = 1 cancels: the absolute error is a few ulps of w <= 1
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)


def test_row_maximum_and_sum_see_every_column():
    # the eight running maxima / sums and the tail: the extreme value in each position in turn
    for m in (1, 7, 8, 9, 15, 16, 17, 24, 31):
        for j in range(m):
            S = np.zeros((1, m))
            S[0, j] = 800.0  # a shift by anything but this maximum overflows
            pi = support._row_softmax(S)
            assert np.argmax(pi[0]) == j and pi[0, j] > 0.99
            np.testing.assert_allclose(pi.sum(), 1.0, rtol=1e-15)


def test_a_nan_in_a_row_makes_that_row_nan_and_no_other():
    S = np.array([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, math.nan],
                  [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                  [math.nan, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]])
    for out in (support._row_softmax(S), support._weighted_softmax_minus(S, np.zeros_like(S), np.ones((3, 1)))):
        assert np.isnan(out[0]).all() and np.isnan(out[2]).all()
        assert np.isfinite(out[1]).all()


def test_minus_infinity_logits_get_zero_probability():
    S = np.array([[-math.inf, 0.0, -math.inf, 1.0, 2.0, -math.inf, 0.5, 3.0, -math.inf]])
    pi = support._row_softmax(S)
    assert (pi[0, np.isinf(S[0])] == 0.0).all()
    np.testing.assert_allclose(pi[0], scipy.special.softmax(S[0]), rtol=1e-15, atol=0.0)
