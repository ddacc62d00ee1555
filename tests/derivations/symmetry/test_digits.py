"""sym-digits (needs the optional scikit-learn): the data split and the quick reproduction's report."""

import numpy as np
import pytest

pytestmark = pytest.mark.long  # whole reproductions or subprocesses: not in the quick subset

pytest.importorskip("sklearn")

from gradflow.derivations.registry import get_experiment  # noqa: E402
from gradflow.derivations.symmetry.digits import digits_data  # noqa: E402
from gradflow.theory.errors import ParameterError  # noqa: E402


def test_digits_split_is_stratified_and_scaled():
    X, Y = digits_data()
    assert X.shape == (1078, 64) and Y.shape == (1078, 10)
    assert X.min() == 0.0 and X.max() == 1.0 and np.array_equal(Y.sum(axis=1), np.ones(1078))
    from sklearn.datasets import load_digits

    full = np.bincount(load_digits().target, minlength=10)
    assert np.max(np.abs(Y.sum(axis=0) - 0.6 * full)) <= 1.0  # each digit in its share of the whole set
    again, _ = digits_data()
    assert np.array_equal(X, again)


def test_quick_reproduction_reports_every_pair():
    rep = get_experiment("sym-digits").reproduce({}, quick=True)
    r = rep.results
    assert r["P"] == 64 * 3 + 3 + 4 * 3 + 4 * 10 and r["n_train"] == 120 and r["constant_inputs"] >= 1
    assert np.isfinite(r["loss_star"]) and r["grad_star"] >= 0
    assert [p["layer"] for p in r["pairs"]] == [1, 2]
    for p in r["pairs"]:
        zeros = p["anti_zero_count"]
        assert zeros["1e-09"] <= zeros["1e-06"] <= p["n_next"] + r["widths"][p["layer"] - 1] + 1
        assert len(p["B_singular_values"]) == min(p["n_next"], r["widths"][p["layer"] - 1] + 1)
        assert 0 <= p["rank_B"] <= len(p["B_singular_values"]) and p["barrier"] >= 0
        assert p["smallest"] == sorted(p["smallest"]) and p["lambda_max"] > 0
        profile = rep.arrays[f"profile_{p['layer']}_{p['i']}_{p['j']}"]
        assert np.array_equal(profile, profile[::-1]) and profile[0] == pytest.approx(r["loss_star"], rel=1e-12)
    if r["pairs"][0]["layer"] == 1:  # the constant pixels' weight differences are exact zeros of the block
        assert r["pairs"][0]["anti_zero_count"]["1e-09"] >= r["constant_inputs"]
    assert set(rep.figures) == {"smallest_eigenvalues", "loss_along_paths"}


def test_widths_are_checked():
    with pytest.raises(ParameterError, match="widths"):
        get_experiment("sym-digits").reproduce({"widths": (64, 16, 9)}, quick=True)


@pytest.mark.slow
def test_full_size_reproduction():
    """[64, 16, 16, 10] on all 1078 training digits, five pairs per hidden layer: eleven BFGS runs of up to
    150 s each plus Newton and Lanczos (most of an hour on two busy cores)."""
    rep = get_experiment("sym-digits").reproduce({"seconds": 150.0})
    r = rep.results
    assert r["P"] == 1482 and r["n_train"] == 1078 and [p["layer"] for p in r["pairs"]] == [1] * 5 + [2] * 5
    assert r["loss_star"] < 1e-2  # the 16-16 network nearly fits the training digits
    for p in r["pairs"]:
        assert p["barrier"] >= p["loss_P"] - r["loss_star"] - 1e-12
        if p["grad_norm_P"] <= 1e-6 and p["lanczos_converged"]:
            # a minimum inside Fix(P_ij): every negative direction is antisymmetric
            assert p["negative_count"] == min(p["anti_negative_count"], 20)
