"""The derivation's step "Which inputs pin a neuron's weights": at a zero-loss point the curvature of the loss
along (w_ik + delta, b_i - delta m_k) is at most 2 |a_i|^2 max(sigma')^2 Var(x_k), and zero for a constant
input; measured on the exact Hessian kernel."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.mlp import MLPObjective
from gradflow.derivations.expand_cluster.theory_doc import expand_cluster_derivation
from gradflow.theory.mlp import Layer, Network, random_params

pytestmark = pytest.mark.long  # kernels for three new networks, compiled cold: not in the quick subset


def _curvature(net, theta, X, neuron, k):
    Y = net.forward(theta, X)  # the student is the teacher: zero loss
    H = MLPObjective.create(net, X, Y).hessian(theta)
    W1 = net.unflatten(np.arange(net.n_params))[0]  # parameter indices in the layout
    move = np.zeros(net.n_params)
    move[W1[neuron, k]] = 1.0
    move[W1[neuron, -1]] = -X[:, k].mean()
    return float(move @ H @ move)


@settings(max_examples=20)
@given(seed=st.integers(0, 10_000), neuron=st.integers(0, 2), k=st.integers(0, 3),
       output_mean=st.booleans())
def test_the_curvature_along_an_input_weight_is_bounded_by_the_input_variance(seed, neuron, k, output_mean):
    rng = np.random.default_rng(seed)
    net = Network(4, (Layer(3, "tanh"), Layer(2, "identity")), output_mean=output_mean)
    theta = random_params(net, seed)
    X = rng.normal(size=(200, 4)) * np.array([1.0, 0.3, 1e-2, 1e-4]) + rng.normal(size=4)
    W1, W2 = net.unflatten(theta)
    a = W2[:, neuron]
    bound = 2 * float(a @ a) * X[:, k].var()  # max tanh' = 1
    curvature = _curvature(net, theta, X, neuron, k)
    assert -1e-14 * bound <= curvature <= bound * (1 + 1e-9)
    # and the bound is the right scale: the curvature is the Gauss-Newton value with the neuron's own slopes
    # (a saturated neuron's is far below the bound, hence no fixed share of it)
    slopes = 1 - np.tanh(X @ W1[neuron, :-1] + W1[neuron, -1]) ** 2
    centred = X[:, k] - X[:, k].mean()
    exact = 2 * float(a @ a) * np.mean(slopes ** 2 * centred ** 2) / (W2.shape[0] if output_mean else 1)
    assert curvature == pytest.approx(exact, rel=1e-6, abs=1e-14 * float(a @ a) * (1 + X[:, k].mean() ** 2))


def test_a_constant_input_leaves_its_weight_free_and_the_step_is_in_the_derivation():
    rng = np.random.default_rng(1)
    net = Network(3, (Layer(2, "tanh"), Layer(1, "identity")))
    theta = random_params(net, 1)
    X = rng.normal(size=(100, 3))
    X[:, 1] = 0.7
    assert _curvature(net, theta, X, 0, 1) == pytest.approx(0.0, abs=1e-14)
    assert _curvature(net, theta, X, 0, 0) > 1e-3
    steps = [step.title for step in expand_cluster_derivation().steps]
    assert "Which inputs pin a neuron's weights" in steps
