"""The vectorisable log1p of the generated CPU kernels (and its [0, 1] variant) against mpmath."""

import math
from functools import lru_cache

import mpmath
import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st


@lru_cache(maxsize=None)
def cpu_log1p(unit: bool = False):
    from gradflow.numerics.codegen.support import _log1p, _log1p_unit

    function = _log1p_unit if unit else _log1p

    @numba.njit(error_model="numpy")
    def many(ys):
        out = np.empty_like(ys)
        for i in range(ys.size):
            out[i] = function(ys[i])
        return out

    return many


def _ulps(got, y) -> float:
    with mpmath.workprec(140):
        exact = mpmath.log1p(mpmath.mpf(float(y)))
        return float(abs(mpmath.mpf(float(got)) - exact) / mpmath.mpf(math.ulp(float(exact))))


def test_cpu_log1p_is_within_one_ulp():
    rng = np.random.default_rng(5)
    ys = np.concatenate([np.exp(rng.uniform(-700, 700, 3000)),  # positive, every scale
                         -1.0 + np.exp(rng.uniform(-36, 0, 1500)),  # towards -1
                         rng.uniform(-1e-3, 1e-3, 500), rng.uniform(-0.3, 0.5, 1000),  # near 0
                         np.exp(-rng.exponential(3.0, 1000)),  # e^{-|x|}: what softplus passes
                         [5e-324, -5e-324, 1e-300, 0.5, 1.0, math.sqrt(2) - 1, 1e308, -0.5, 2.0 ** -53]])
    got = cpu_log1p()(ys)
    worst = max(_ulps(g, y) for g, y in zip(got, ys))
    assert worst <= 1.0, worst


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1.0, max_value=1e300, allow_nan=False, exclude_min=True))
def test_cpu_log1p_is_within_one_ulp_anywhere(y):
    got = cpu_log1p()(np.array([y]))[0]
    assert _ulps(got, y) <= 1.0, (y, got)


def test_cpu_log1p_special_values():
    got = cpu_log1p()(np.array([-1.0, -1.5, -np.inf, np.inf, np.nan, 0.0, -0.0]))
    assert got[0] == -np.inf and np.isnan(got[1]) and np.isnan(got[2]) and got[3] == np.inf and np.isnan(got[4])
    assert got[5] == 0.0 and got[6] == 0.0 and math.copysign(1.0, got[6]) == -1.0


def test_cpu_log1p_unit_is_within_one_ulp_on_its_range():
    rng = np.random.default_rng(6)
    ys = np.concatenate([rng.uniform(0.0, 1.0, 3000), np.exp(-rng.uniform(0, 745, 3000)),  # e^{-|x|}, every scale
                         0.5 + rng.uniform(-1e-6, 1e-6, 500),  # around its switch
                         [0.0, 5e-324, 2.0 ** -53, math.sqrt(2) - 1, np.nextafter(0.5, 0), 0.5, np.nextafter(0.5, 1), 1.0]])
    got = cpu_log1p(True)(ys)
    assert got[ys == 0.0][0] == 0.0
    worst = max(_ulps(g, y) for g, y in zip(got, ys) if y > 0.0)
    assert worst <= 1.0, worst


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0.0, max_value=1.0, allow_nan=False, exclude_min=True))
def test_cpu_log1p_unit_is_within_one_ulp_anywhere_on_its_range(y):
    got = cpu_log1p(True)(np.array([y]))[0]
    assert _ulps(got, y) <= 1.0, (y, got)
