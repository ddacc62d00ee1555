"""Tests for numerics.compare: the verdicts that check simulation against theory.

Oracles: differences built from exactly representable (dyadic) numbers, so the expected
error is known exactly and not recomputed with the formula under test.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.compare import Verdict, compare, compare_bound, compare_each

SETTINGS = settings(max_examples=25, deadline=None)

# Integers and dyadic offsets: every sum and difference below is exact in binary64.
ints = st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=20)
dyadic = st.integers(min_value=1, max_value=2**20).map(lambda k: k / 1024.0)  # in (0, 1024]


# ------------------------------------------------------------------------------ compare


@SETTINGS
@given(predicted=ints, delta=dyadic, where=st.integers(min_value=0, max_value=10**6), data=st.data())
def test_compare_absolute_error_is_the_largest_deviation(predicted, delta, where, data):
    predicted = np.array(predicted, dtype=float)
    measured = predicted.copy()
    index = where % predicted.size
    sign = data.draw(st.sampled_from([-1.0, 1.0]))
    measured[index] += sign * delta
    # the other entries deviate by at most half of delta (exact dyadic offsets)
    others = data.draw(st.lists(st.integers(0, 512), min_size=predicted.size, max_size=predicted.size))
    for i, k in enumerate(others):
        if i != index:
            measured[i] += delta * k / 1024.0
    verdict = compare("x", measured, predicted, tolerance=delta)
    assert verdict.error == delta
    assert verdict.passed  # error == tolerance passes (<=)
    assert verdict.measure == "max abs"
    below = compare("x", measured, predicted, tolerance=math.nextafter(delta, 0.0))
    assert not below.passed and below.error == delta
    above = compare("x", measured, predicted, tolerance=2 * delta)
    assert above.passed


@pytest.mark.parametrize(
    "measured, predicted, tolerance, passed, error",
    [
        (1.0, 1.0, 0.0, True, 0.0),
        (1.5, 1.0, 0.5, True, 0.5),
        (1.5, 1.0, 0.25, False, 0.5),
        ([1.0, 2.0, 3.0], [1.0, 2.25, 2.0], 1.0, True, 1.0),
        ([1.0, 2.0, 3.0], [1.0, 2.25, 2.0], 0.75, False, 1.0),
        ([-4.0, 4.0], [4.0, -4.0], 8.0, True, 8.0),
    ],
)
def test_compare_table(measured, predicted, tolerance, passed, error):
    verdict = compare("table", measured, predicted, tolerance, regime="t in [1, 2]")
    assert verdict.passed is passed
    assert verdict.error == error
    assert verdict.tolerance == tolerance
    assert verdict.regime == "t in [1, 2]"
    assert verdict.name == "table"


def test_compare_broadcasts_a_scalar_prediction():
    verdict = compare("b", [0.5, 1.0, 1.75], 1.0, tolerance=0.75)
    assert verdict.passed and verdict.error == 0.75
    verdict = compare("b", [[0.5], [1.0]], [1.0, 2.0], tolerance=1.5)  # (2,1) vs (2,) -> (2,2)
    assert verdict.error == 1.5 and verdict.passed


@SETTINGS
@given(
    predicted=st.lists(st.integers(1, 2**10), min_size=1, max_size=10).map(
        lambda v: np.array(v, float) * np.where(np.arange(len(v)) % 2, -1.0, 1.0)),
    exponent=st.integers(min_value=-20, max_value=-1),
)
def test_compare_relative_divides_by_the_prediction(predicted, exponent):
    rel = 2.0 ** exponent
    measured = predicted * (1.0 + rel)  # exact: predicted has <= 11 significant bits
    verdict = compare("r", measured, predicted, tolerance=rel, relative=True)
    assert verdict.measure == "max rel"
    assert verdict.error == rel
    assert verdict.passed
    assert not compare("r", measured, predicted, tolerance=rel / 2, relative=True).passed
    # the same data in absolute mode: error is the largest |predicted| * rel
    absolute = compare("r", measured, predicted, tolerance=rel)
    assert absolute.error == np.abs(predicted).max() * rel


def test_compare_relative_with_zero_prediction():
    # an exact zero matched exactly is fine; anything else against 0 is an infinite-like relative error
    assert compare("z", 0.0, 0.0, tolerance=1e-12, relative=True).passed
    verdict = compare("z", 1e-300, 0.0, tolerance=1e-3, relative=True)
    assert not verdict.passed
    assert verdict.error > 1e3


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("side", ["measured", "predicted"])
@pytest.mark.parametrize("relative", [False, True])
def test_compare_non_finite_values_fail(bad, side, relative):
    good = np.array([1.0, 2.0, 3.0])
    broken = good.copy()
    broken[1] = bad
    measured, predicted = (broken, good) if side == "measured" else (good, broken)
    verdict = compare("nf", measured, predicted, tolerance=1e300, relative=relative)
    assert not verdict.passed
    assert verdict.error == float("inf")
    assert "non-finite" in verdict.measure
    assert "FAIL" in str(verdict)


def test_compare_inf_equal_to_inf_is_still_a_failure():
    # inf - inf is nan: a run that blew up never "matches" a prediction
    assert not compare("inf", np.inf, np.inf, tolerance=1.0).passed


def test_compare_empty_arrays_pass_with_zero_error():
    verdict = compare("empty", [], [], tolerance=0.0)
    assert verdict.passed and verdict.error == 0.0


def test_verdict_text_dict_and_frozen():
    verdict = compare("loss law", [1.0, 2.0], [1.0, 2.5], tolerance=0.25, regime="t in [1e4, 2e4]")
    text = str(verdict)
    assert text.startswith("[FAIL] loss law:")
    assert "0.5" in text and "0.25" in text and "t in [1e4, 2e4]" in text
    d = verdict.to_dict()
    assert d == {"name": "loss law", "passed": False, "error": 0.5, "tolerance": 0.25,
                 "regime": "t in [1e4, 2e4]", "measure": "max abs"}
    assert Verdict(**d) == verdict
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.passed = True  # type: ignore[misc]
    assert str(compare("ok", 1.0, 1.0, 0.0)).startswith("[PASS] ok:")


# ------------------------------------------------------------------------ compare_bound


@SETTINGS
@given(
    bound=st.integers(-4096, 4096).map(lambda k: k / 4.0),
    violation=st.integers(1, 2**12).map(lambda k: k / 64.0),
    kind=st.sampled_from(["lower", "upper"]),
)
def test_compare_bound_measures_the_violation(bound, violation, kind):
    # lower: measured >= bound is required; upper: measured <= bound
    measured = bound - violation if kind == "lower" else bound + violation
    verdict = compare_bound("b", [measured, bound], bound, kind, tolerance=0.0)
    expected = violation / max(1.0, abs(bound))  # violation relative to the bound's scale (at least 1)
    assert verdict.measure == "violation"
    assert verdict.error == pytest.approx(expected, rel=1e-15, abs=0.0)
    assert not verdict.passed
    assert compare_bound("b", measured, bound, kind, tolerance=expected * (1 + 1e-12)).passed
    # the mirror image satisfies the bound: no violation at all
    mirror = bound + violation if kind == "lower" else bound - violation
    ok = compare_bound("b", [mirror, bound], bound, kind, tolerance=0.0)
    assert ok.passed and ok.error == 0.0


def test_compare_bound_takes_the_largest_violation_over_points():
    measured = np.array([0.0, 0.5, 0.9, 2.0])
    bound = np.array([0.25, 0.5, 1.0, 1.0])
    lower = compare_bound("lo", measured, bound, "lower", tolerance=0.2)
    assert lower.error == pytest.approx(0.25) and not lower.passed  # point 0: 0.25 below
    upper = compare_bound("up", measured, bound, "upper", tolerance=0.2)
    assert upper.error == pytest.approx(1.0) and not upper.passed  # point 3: 1.0 above a bound of 1
    # large bounds: violation is relative, 150 above a bound of 1000 is 0.15
    assert compare_bound("big", 1150.0, 1000.0, "upper", tolerance=0.2).error == pytest.approx(0.15)
    assert compare_bound("big", 1150.0, 1000.0, "upper", tolerance=0.2).passed


def test_compare_bound_default_tolerance_is_tight():
    assert compare_bound("t", 1.0, 1.0, "lower").passed
    assert not compare_bound("t", 1.0 - 1e-9, 1.0, "lower").passed
    assert compare_bound("t", 1.0 - 1e-14, 1.0, "lower").passed


@pytest.mark.parametrize("kind", ["lower", "upper"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_compare_bound_non_finite_measured_fails(kind, bad):
    verdict = compare_bound("nf", [0.0, bad], [0.0, 0.0], kind, tolerance=1e300)
    assert not verdict.passed
    assert verdict.error == float("inf")


@pytest.mark.parametrize("kind", ["both", "Lower", "", None])
def test_compare_bound_rejects_unknown_kind(kind):
    with pytest.raises(ValueError, match="kind"):
        compare_bound("k", 1.0, 0.0, kind)


# ------------------------------------------------------------------------------ verdicts from claims


def test_verdict_from_claim_carries_the_claims_error_and_points():
    from gradflow.theory.verify import Claim

    holds = Verdict.from_claim("identity", Claim("x - x", True, 2.5e-31, 12))
    assert holds.passed and holds.error == 2.5e-31 and holds.tolerance == 1e-9
    assert holds.regime == "simplification to 0 and 12 random points" and holds.measure == "symbolic + numeric"
    # either failure mode fails the verdict: no simplification to 0, or a value at a random point
    assert not Verdict.from_claim("no", Claim("x", False, 0.0, 12)).passed
    assert not Verdict.from_claim("no", Claim("x", True, 1e-3, 12)).passed


@pytest.mark.parametrize("holds", [True, False, np.bool_(True), np.bool_(False)])
def test_symbolic_verdict(holds):
    verdict = Verdict.symbolic("closure", holds, "SymPy reduction")
    assert verdict.passed is bool(holds) and type(verdict.passed) is bool
    assert verdict.error == (0.0 if holds else 1.0) and verdict.tolerance == 0.0 and verdict.measure == "symbolic"


# ------------------------------------------------------------------------ compare_each


def test_compare_each_reports_the_point_closest_to_its_own_tolerance():
    # the largest error (0.5) is within its tolerance (1.0); the second point (0.25 of 0.125) fails
    verdict = compare_each("law", [1.5, 2.25, 3.0], [1.0, 2.0, 3.0], [1.0, 0.125, 0.125], "T = 10")
    assert not verdict.passed
    assert (verdict.measured, verdict.predicted, verdict.error, verdict.tolerance) == (2.25, 2.0, 0.25, 0.125)
    assert compare_each("law", [1.5, 2.0625], [1.0, 2.0], [1.0, 0.125]).passed
    assert not compare_each("law", [np.nan], [1.0], [1.0]).passed


def test_measured_and_predicted_travel_in_the_dict_only_when_given():
    verdict = compare_each("law", [1.5], [1.0], 1.0, "T = 10", "|m - law|")
    d = verdict.to_dict()
    assert d["measured"] == 1.5 and d["predicted"] == 1.0 and Verdict(**d) == verdict
    assert "measured" not in compare("plain", 1.0, 1.0, 0.0).to_dict()


def test_compare_bound_names_the_point_nearest_to_violation():
    verdict = compare_bound("lower", [3.0, 1.5, 5.0], [1.0, 1.0, 1.0], "lower")
    assert verdict.passed and (verdict.measured, verdict.predicted) == (1.5, 1.0)
