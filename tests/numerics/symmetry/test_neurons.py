import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.embeddings import permute
from gradflow.numerics.symmetry import neuron_indices, swap_neurons, transposition, transposition_matrix
from gradflow.theory.mlp import Layer, Network


def _deep(widths, activation, bias):
    hidden = tuple(Layer(n, activation, bias) for n in widths[1:-1])
    return Network(widths[0], hidden + (Layer(widths[-1], "identity", bias),))


def test_indices_pick_the_row_and_the_column():
    net = _deep([2, 3, 2], "tanh", True)
    theta = np.arange(net.n_params, dtype=float)
    W1, W2 = net.unflatten(theta)
    inc, out = neuron_indices(net, 1, 2)
    assert np.array_equal(theta[inc], W1[2]) and np.array_equal(theta[out], W2[:, 2])


def test_transposition_is_the_swap_of_the_embeddings_module():
    net = _deep([2, 4, 3, 2], "tanh", True)
    theta = np.random.default_rng(0).normal(size=net.n_params)
    for layer, width in ((1, 4), (2, 3)):
        order = np.arange(width)
        order[[0, width - 1]] = order[[width - 1, 0]]
        assert np.array_equal(swap_neurons(net, theta, layer, 0, width - 1), permute(net, theta, layer, order)[1])
    P = transposition_matrix(net, 1, 1, 3)
    assert np.array_equal(P @ P, np.eye(net.n_params)) and np.array_equal(P, P.T)


def test_bad_neurons_are_named():
    net = _deep([2, 3, 1], "tanh", True)
    with pytest.raises(ValueError, match="layer"):
        neuron_indices(net, 2, 0)
    with pytest.raises(ValueError, match="i: must be a neuron index in 0..2"):
        neuron_indices(net, 1, 3)
    with pytest.raises(ValueError, match="j"):
        transposition(net, 1, 1, 1)


@settings(max_examples=12, deadline=None)
@given(widths=st.lists(st.integers(2, 3), min_size=2, max_size=3), out=st.integers(1, 2),
       act=st.sampled_from(["tanh", "softplus", "sigmoid"]), bias=st.booleans(), seed=st.integers(0, 10 ** 6))
def test_equivariance_of_loss_gradient_and_hessian(widths, out, act, bias, seed):
    """L(P theta) = L(theta), grad L(P theta) = P grad L(theta), H(P theta) = P H P^T."""
    net = _deep([2, *widths, out], act, bias)
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(15, 2)), rng.normal(size=(15, out))
    objective = MLPObjective.create(net, X, Y)
    theta = rng.normal(size=net.n_params)
    layer = int(rng.integers(1, len(widths) + 1))
    i, j = rng.choice(widths[layer - 1], size=2, replace=False)
    perm = transposition(net, layer, int(i), int(j))
    loss, grad, H = objective.loss_gradient_hessian(theta)
    loss_p, grad_p, H_p = objective.loss_gradient_hessian(theta[perm])
    scale = max(1.0, float(np.max(np.abs(H))))
    assert abs(loss_p - loss) <= 1e-12 * max(1.0, loss)
    assert np.max(np.abs(grad_p - grad[perm])) <= 1e-12 * max(1.0, float(np.max(np.abs(grad))))
    assert np.max(np.abs(H_p - H[np.ix_(perm, perm)])) <= 1e-12 * scale


def test_gradient_descent_stays_in_the_collision_subspace():
    net = _deep([2, 3, 3, 2], "tanh", True)
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    objective = MLPObjective.create(net, X, Y)
    theta = rng.normal(size=net.n_params)
    perm = transposition(net, 2, 0, 2)
    theta = 0.5 * (theta + theta[perm])  # a point of Fix(P_02)
    for _ in range(100):
        theta = theta - 0.05 * objective.loss_and_gradient(theta)[1]
    assert np.max(np.abs(theta - theta[perm])) <= 1e-12
