"""Confusion scores: exact values at known ensembles, bounds, invariances, stability at huge logits."""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.confusion import (confusion_score, get_score, log_probabilities, log_softmax, register_score,
                                         score_names, unregister_score)
from gradflow.theory.errors import ParameterError

BUILT_IN = ("cs_entropy", "cs_norm", "cs_vote", "cs_mi", "cs_var")


def one_hot(classes, C):
    return log_probabilities(np.eye(C)[np.asarray(classes)])


def test_registry_lists_the_built_in_scores_first():
    assert score_names()[:5] == BUILT_IN


@pytest.mark.parametrize("name", BUILT_IN[:1] + BUILT_IN[2:])
def test_agreeing_one_hot_members_score_zero(name):
    lp = one_hot(np.full((4, 3), 2), C=5)  # 4 members, 3 inputs, all on class 2
    assert np.array_equal(confusion_score(lp, name), np.zeros(3))


def test_uniform_mean_reaches_log_C_and_norm_one():
    C = 4
    lp = one_hot(np.arange(C)[:, None].repeat(2, axis=1), C)  # member m votes class m: p_bar uniform
    assert np.allclose(confusion_score(lp), np.log(C), rtol=0, atol=1e-15)
    assert np.allclose(confusion_score(lp, "cs_norm"), 1.0, rtol=0, atol=1e-15)
    uniform = np.full((3, 2, C), -np.log(C))
    assert np.allclose(confusion_score(uniform), np.log(C), atol=1e-15)
    assert np.allclose(confusion_score(uniform, "cs_mi"), 0.0, atol=1e-15)  # agreeing, if uncertain


@pytest.mark.parametrize("M", [2, 4, 6])
def test_half_split_members_give_log_2(M):
    classes = np.array([[1] * 3] * (M // 2) + [[3] * 3] * (M // 2))
    lp = one_hot(classes, 5)
    for name in ("cs_entropy", "cs_vote", "cs_mi"):
        assert np.allclose(confusion_score(lp, name), np.log(2), rtol=1e-15, atol=0)
    assert np.allclose(confusion_score(lp, "cs_var"), 2 * 0.25)  # two classes, each 0/1 half the time


def _dirichlet_members(seed, M, n, C, alpha=0.5):
    return np.random.default_rng(seed).dirichlet(np.full(C, alpha), size=(M, n))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10 ** 6), M=st.integers(1, 6), n=st.integers(1, 5), C=st.integers(2, 6))
def test_bounds_and_jensen_on_random_members(seed, M, n, C):
    lp = log_probabilities(_dirichlet_members(seed, M, n, C))
    H = confusion_score(lp)
    assert np.all(H >= 0) and np.all(H <= np.log(C) + 1e-12)
    norm = confusion_score(lp, "cs_norm")
    assert np.all((norm >= 0) & (norm <= 1))
    mi = confusion_score(lp, "cs_mi")
    assert np.all(mi >= 0) and np.all(mi <= H + 1e-12)
    assert np.all(confusion_score(lp, "cs_vote") <= np.log(C) + 1e-12)
    assert np.all(confusion_score(lp, "cs_var") >= 0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10 ** 6), M=st.integers(1, 5), n=st.integers(1, 4), C=st.integers(2, 5))
def test_permuting_classes_or_members_changes_no_score(seed, M, n, C):
    rng = np.random.default_rng(seed)
    lp = log_softmax(rng.normal(0, 3, size=(M, n, C)))  # continuous draws: no argmax ties
    classes, members = rng.permutation(C), rng.permutation(M)
    for name in BUILT_IN:
        base = confusion_score(lp, name)
        assert np.allclose(confusion_score(lp[:, :, classes], name), base, rtol=1e-12, atol=1e-15)
        assert np.allclose(confusion_score(lp[members], name), base, rtol=1e-12, atol=1e-15)


def _mp_entropy(logit_rows):
    """H(p_bar) and H(p_bar) - mean H(p_m) with 50 digits, from logits (M, C)."""
    mpmath.mp.dps = 50
    probs = []
    for row in logit_rows:
        z = [mpmath.mpf(float(v)) for v in row]
        total = mpmath.fsum(mpmath.exp(v - max(z)) for v in z)
        probs.append([mpmath.exp(v - max(z)) / total for v in z])
    M = len(probs)

    def H(p):
        return -mpmath.fsum(q * mpmath.log(q) for q in p if q > 0)

    mean = [mpmath.fsum(p[c] for p in probs) / M for c in range(len(probs[0]))]
    return float(H(mean)), float(H(mean) - mpmath.fsum(H(p) for p in probs) / M)


def test_logits_of_size_1e3_give_finite_exact_scores():
    rng = np.random.default_rng(3)
    logits = 1e3 * rng.normal(size=(6, 4, 5))
    logits[:, 0, :] = 1e3 * np.array([1.0, 1.0 + 1e-3, -1.0, 0.5, 0.2])  # a near tie at scale 1e3: p ~ (e^-1, 1)
    lp = log_softmax(logits)
    H, mi = confusion_score(lp), confusion_score(lp, "cs_mi")
    assert np.all(np.isfinite(H)) and np.all(np.isfinite(mi))
    for i in range(4):
        ref_H, ref_mi = _mp_entropy(logits[:, i, :])
        assert H[i] == pytest.approx(ref_H, rel=1e-12, abs=1e-300)
        assert mi[i] == pytest.approx(ref_mi, rel=1e-10, abs=1e-14)
    assert H[0] > 0.3  # the near tie is a real disagreement, not rounding


def test_user_registered_score_is_used_and_checked():
    register_score("max_prob_gap", lambda lp: 1.0 - np.exp(lp).mean(axis=0).max(axis=1))
    try:
        lp = one_hot(np.array([[0, 1], [0, 1]]), 3)
        assert np.allclose(confusion_score(lp, "max_prob_gap"), 0.0)
        with pytest.raises(ParameterError, match="^name"):
            register_score("max_prob_gap", np.sum)
        register_score("bad_shape", lambda lp: np.zeros(7))
        with pytest.raises(ParameterError, match="^score"):
            confusion_score(lp, "bad_shape")
    finally:
        unregister_score("max_prob_gap")
        unregister_score("bad_shape")
    with pytest.raises(ParameterError, match="^score: must be one of cs_entropy"):
        get_score("max_prob_gap")


def test_bad_input_names_the_parameter():
    with pytest.raises(ParameterError, match="^probabilities: must be rows summing to 1"):
        log_probabilities(np.full((2, 3, 4), 0.3))
    with pytest.raises(ParameterError, match="^C: must be at least 2"):
        log_probabilities(np.ones((2, 3, 1)))
    with pytest.raises(ParameterError, match="^log_probs: must be rows whose probabilities sum to 1"):
        confusion_score(np.full((2, 3, 4), -1.0))
    with pytest.raises(ParameterError, match="^score: must be one of"):
        confusion_score(np.full((2, 3, 4), -np.log(4)), "cs_unknown")
    with pytest.raises(ParameterError, match="^log_probs: must be log-probabilities"):
        confusion_score(np.full((2, 3, 2), np.nan))


def test_score_ranges_for_equal_width_bins():
    from gradflow.numerics.confusion import score_range

    assert score_range("cs_entropy", 5) == (0.0, np.log(5)) and score_range("cs_norm", 5) == (0.0, 1.0)
    with pytest.raises(ParameterError, match="^score: must be a built-in score"):
        score_range("my_score", 5)
