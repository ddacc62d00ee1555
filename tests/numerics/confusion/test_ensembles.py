"""GD through the generated MLP kernels against a plain NumPy GD, with weights and an L2 term."""

import numpy as np
import pytest

from gradflow.derivations.confusion import oracles
from gradflow.numerics.confusion.ensembles import (bootstrap_weights, initial_parameters, member_log_probabilities,
                                                   softmax_regression, tanh_mlp, train_gd)
from gradflow.theory.errors import ParameterError


def _data(seed=0, n=40, d=3, C=4):
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 1.5, size=(C, d))
    y = rng.integers(0, C, n)
    return mu[y] + rng.normal(size=(n, d)), y, rng


@pytest.mark.parametrize("hidden", [None, 5])
def test_generated_gd_equals_numpy_gd_after_300_steps(hidden):
    X, y, rng = _data()
    d, C = X.shape[1], 4
    net = softmax_regression(d, C) if hidden is None else tanh_mlp(d, hidden, C)
    weights = bootstrap_weights(len(y), 2, rng)
    Theta0 = np.stack([initial_parameters(net, seed) + (0.1 * rng.normal(size=net.n_params) if hidden is None else 0)
                       for seed in (1, 2)])
    Theta = train_gd(net, X, y, Theta0, steps=300, lr=0.5, l2=1e-2, weights=weights)
    for member in range(2):
        ref = oracles.gd(Theta0[member], X, y, C, hidden, steps=300, lr=0.5, l2=1e-2, weights=weights[member])
        assert np.linalg.norm(Theta[member] - ref) <= 1e-10 * np.linalg.norm(ref)
        assert np.linalg.norm(ref - Theta0[member]) > 0.1  # it moved: the comparison is not of two starts


def test_bootstrap_weights_are_gd_on_the_resampled_set():
    X, y, rng = _data(seed=1, n=30)
    net = tanh_mlp(3, 4, 4)
    w = bootstrap_weights(len(y), 1, np.random.default_rng(5))
    index = np.random.default_rng(5).integers(0, len(y), len(y))  # the same draw, as indices
    assert np.array_equal(w[0], np.bincount(index, minlength=len(y)))
    theta0 = initial_parameters(net, 3)[None]
    weighted = train_gd(net, X, y, theta0, steps=200, lr=0.5, l2=1e-3, weights=w)
    resampled = train_gd(net, X[index], y[index], theta0, steps=200, lr=0.5, l2=1e-3)
    assert np.linalg.norm(weighted - resampled) <= 1e-10 * np.linalg.norm(resampled)


def test_softmax_regression_starts_at_zero_and_members_give_distributions():
    X, y, _ = _data()
    net = softmax_regression(3, 4)
    assert np.array_equal(initial_parameters(net, 7), np.zeros(16))
    lp = member_log_probabilities(net, train_gd(net, X, y, np.zeros((3, 16)), steps=5, lr=0.5), X)
    assert lp.shape == (3, 40, 4) and np.allclose(np.exp(lp).sum(axis=2), 1.0)


def test_bad_training_settings_name_the_parameter():
    X, y, _ = _data()
    net = softmax_regression(3, 4)
    with pytest.raises(ParameterError, match="^lr"):
        train_gd(net, X, y, np.zeros(16), steps=3, lr=0.0)
    with pytest.raises(ParameterError, match="^Y: must be labels in 0..3"):
        train_gd(net, X, y + 1, np.zeros(16), steps=3, lr=0.1)
    with pytest.raises(ParameterError, match="^weights"):
        train_gd(net, X, y, np.zeros((2, 16)), steps=3, lr=0.1, weights=np.ones((3, 40)))
