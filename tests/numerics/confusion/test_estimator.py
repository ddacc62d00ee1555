"""The estimate from score bins: its exact identities, one bin, bin-wise resampling, merging, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.confusion import (Bins, correct_predictions, difficulty, edge_bins, estimate_ood_accuracy,
                                         make_bins, model_relation, quantile_bins)
from gradflow.theory.errors import ParameterError


def _sets(seed, n_id, n_ood, ties=False):
    rng = np.random.default_rng(seed)
    draw = (lambda n: rng.integers(0, 4, n) / 4.0) if ties else (lambda n: rng.random(n))
    s_id, s_ood = draw(n_id), draw(n_ood) + rng.uniform(-0.3, 0.3)
    return s_id, rng.random(n_id) < 0.7, s_ood, rng.random(n_ood) < 0.5


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10 ** 6), n_id=st.integers(1, 60), n_ood=st.integers(1, 60), B=st.integers(1, 12),
       binning=st.sampled_from(["quantile", "width", "edges"]), ties=st.booleans())
def test_error_identity_and_drop_decomposition_are_exact(seed, n_id, n_ood, B, binning, ties):
    s_id, c_id, s_ood, c_ood = _sets(seed, n_id, n_ood, ties)
    edges = np.sort(np.random.default_rng(seed).random(B - 1)) if binning == "edges" else None
    if edges is not None and np.any(np.diff(edges) <= 0):
        return
    e = estimate_ood_accuracy(s_id, c_id, s_ood, c_ood, B=B, binning=binning, edges=edges, score_range=(0.0, 1.0))
    A_id, A_ood = c_id.mean(), c_ood.mean()
    assert e.id_accuracy == pytest.approx(A_id, abs=1e-15) and e.true_accuracy == pytest.approx(A_ood, abs=1e-15)
    assert abs(e.error - e.within_bin) <= 1e-12  # A_hat - A_OOD = sum_b pi_ood (A_id - A_ood)
    assert abs((A_id - A_ood) - (e.mix_shift + e.within_bin)) <= 1e-12
    assert abs(e.mix_shift - (A_id - e.estimate)) <= 1e-12
    assert abs(e.contribution.sum() - (A_id - A_ood)) <= 1e-12
    assert np.all(np.bincount(e.bins.assign(s_id), minlength=e.bins.count) > 0)  # no empty ID bin survives
    assert e.pi_id.sum() == pytest.approx(1.0) and e.pi_ood.sum() == pytest.approx(1.0)
    if e.drop != 0:
        assert e.gap_closed == pytest.approx((A_id - e.estimate) / (A_id - A_ood), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10 ** 6), n_id=st.integers(1, 50), n_ood=st.integers(1, 50))
def test_one_bin_is_the_naive_estimate_exactly(seed, n_id, n_ood):
    s_id, c_id, s_ood, c_ood = _sets(seed, n_id, n_ood)
    e = estimate_ood_accuracy(s_id, c_id, s_ood, c_ood, B=1)
    assert e.estimate == e.id_accuracy == np.mean(c_id)
    assert e.gap_closed == 0.0 or (np.isnan(e.gap_closed) and e.drop == 0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10 ** 6), n_id=st.integers(5, 80), B=st.integers(1, 8))
def test_bin_wise_resampling_of_id_points_is_estimated_exactly(seed, n_id, B):
    rng = np.random.default_rng(seed)
    s_id, c_id = rng.random(n_id), rng.random(n_id) < 0.6
    bins = quantile_bins(s_id, B)
    multiplicity = rng.integers(0, 5, bins.count)  # depends on the bin only
    multiplicity[rng.integers(bins.count)] += 1  # at least one OOD point
    repeat = multiplicity[bins.assign(s_id)]
    s_ood, c_ood = np.repeat(s_id, repeat), np.repeat(c_id, repeat)
    e = estimate_ood_accuracy(s_id, c_id, s_ood, c_ood, bins=bins)
    assert e.estimate == pytest.approx(e.true_accuracy, rel=0, abs=1e-14)


def test_the_estimate_moves_with_the_difficulty_mix():
    # ID: half easy (always right), half hard (always wrong); OOD is 80 % hard
    s_id = np.r_[np.zeros(50), np.ones(50)]
    c_id = s_id == 0
    s_ood = np.r_[np.zeros(20), np.ones(80)]
    e = estimate_ood_accuracy(s_id, c_id, s_ood, s_ood == 0, B=2)
    assert e.estimate == pytest.approx(0.2) and e.true_accuracy == pytest.approx(0.2) and e.gap_closed == 1.0
    assert e.bins.merged == () and e.bins.count == 2


def test_empty_id_bins_are_merged_and_reported():
    s_id = np.r_[np.zeros(30), np.ones(30)]  # ties: every inner quantile edge is 0 or 1
    bins = quantile_bins(s_id, 5)
    assert bins.count == 2 and bins.inner == (1.0,) and len(bins.merged) == 3
    user = make_bins(s_id, binning="edges", edges=[0.2, 0.4, 0.6])  # two bins between 0 and 1 hold nothing
    assert user.count == 2 and user.inner == (0.2,) and user.merged == (0.4, 0.6)  # each into its right neighbour
    assert np.array_equal(user.masses(s_id), [0.5, 0.5])
    e = estimate_ood_accuracy(s_id, s_id == 0, np.full(4, 0.5), np.ones(4), bins=edge_bins([0.2, 0.4, 0.6]))
    assert e.bins.merged == (0.4, 0.6) and e.to_json()["bins"]["merged_edges"] == [0.4, 0.6]


def test_bins_are_half_open_on_the_left():
    bins = Bins((0.5,))
    assert list(bins.assign([0.49, 0.5, 0.51])) == [0, 1, 1]


def test_relation_across_models_and_difficulty():
    acc_id = np.array([0.9, 0.8, 0.7])
    rel = model_relation(acc_id, 0.5 * acc_id, 0.5 * acc_id + 0.01)
    assert rel.line_observed == pytest.approx((0.0, 0.5)) and rel.line_predicted == pytest.approx((0.01, 0.5))
    assert rel.pearson_estimate == pytest.approx(1.0) and rel.mae_estimate == pytest.approx(0.01)
    assert rel.mae_naive == pytest.approx(np.mean(0.5 * acc_id))
    assert np.isnan(model_relation([0.8], [0.7], [0.75]).pearson_naive)  # one model: no correlation
    scores = np.linspace(0, 1, 100)
    diag = difficulty(scores, scores < 0.6, quantile_bins(scores, 5))
    assert diag.point_biserial > 0.7 and diag.non_increasing_violations == 0
    assert diag.bin_accuracy[0] == 1.0 and diag.bin_accuracy[-1] == 0.0


def test_bad_input_names_the_parameter():
    s = np.linspace(0, 1, 10)
    ok = np.ones(10, dtype=bool)
    with pytest.raises(ParameterError, match="^B: must be an integer >= 1"):
        estimate_ood_accuracy(s, ok, s, ok, B=0)
    with pytest.raises(ParameterError, match="^ood_scores: must be a non-empty"):
        estimate_ood_accuracy(s, ok, np.empty(0))
    with pytest.raises(ParameterError, match="^id_correct"):
        estimate_ood_accuracy(s, ok[:5], s)
    with pytest.raises(ParameterError, match="^binning"):
        estimate_ood_accuracy(s, ok, s, binning="log")
    with pytest.raises(ParameterError, match="^edges"):
        make_bins(s, binning="edges", edges=[0.5, 0.2])
    with pytest.raises(ParameterError, match=r"^labels: must be classes in 0..2 \(got 3\)"):
        correct_predictions([0, 1, 2], [0, 1, 3], 3)
    with pytest.raises(ParameterError, match="^C: must be an integer >= 2"):
        correct_predictions([0], [0], 1)
    assert list(correct_predictions([0, 2, 1], [0, 1, 1], 3)) == [True, False, True]
