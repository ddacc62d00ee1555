"""Embeddings keep the network function; checked against a forward pass written here in NumPy."""

import numpy as np
import pytest
import scipy.optimize
import scipy.special
from hypothesis import given, settings, strategies as st

from gradflow.numerics.mlp.embeddings import (add_neuron, flip_neuron, permute, remove_neuron,
                                              scale_neuron, split_neuron)
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp.activations import activation
from gradflow.theory.mlp.network import Layer, Network

SIGMA = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "identity": lambda z: z,
         "sigmoid": scipy.special.expit, "erf": scipy.special.erf, "abs": np.abs,
         "softplus": lambda z: np.logaddexp(0.0, z), "cube": lambda z: z ** 3}
HIDDEN_NAMES = sorted(SIGMA) + ["leaky_relu"]


def sigma(act, z):
    if act.name == "leaky_relu":
        return np.where(z > 0, z, act.params[0] * z)
    return SIGMA[act.name](z)


def make_net(input_dim, hidden, out_width=1, out_act="identity", biases=None):
    """``hidden``: one tuple of activation names per hidden layer."""
    biases = biases or [True] * (len(hidden) + 1)
    layers = [Layer(len(names), tuple(activation(n) for n in names), bias)
              for names, bias in zip(hidden, biases)]
    layers.append(Layer(out_width, tuple(activation(out_act) for _ in range(out_width)), biases[-1]))
    return Network(input_dim, tuple(layers))


def forward(net, theta, X):
    """Plain NumPy forward pass, unflattening ``theta`` itself from the widths (rows = samples)."""
    a, fan_in, offset = X, net.input_dim, 0
    for layer in net.layers:
        cols = fan_in + int(layer.bias)
        W = theta[offset: offset + layer.width * cols].reshape(layer.width, cols)
        offset += W.size
        if layer.bias:
            a = np.concatenate([a, np.ones((a.shape[0], 1))], axis=1)
        z = a @ W.T
        a = np.column_stack([sigma(act, z[:, k]) for k, act in enumerate(layer.activation)])
        fan_in = layer.width
    assert offset == theta.size
    return a


def names(net, layer):
    return [a.name for a in net.layers[layer - 1].activation]


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 3))
    hidden = [tuple(draw(st.lists(st.sampled_from(HIDDEN_NAMES), min_size=1, max_size=4)))
              for _ in range(depth)]
    biases = draw(st.lists(st.booleans(), min_size=depth + 1, max_size=depth + 1))
    net = make_net(draw(st.integers(1, 3)), hidden, draw(st.integers(1, 2)), biases=biases)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31)))
    theta = rng.standard_normal(net.n_params)
    X = rng.standard_normal((7, net.input_dim))
    return net, theta, X, rng


def assert_same_function(net, theta, new_net, new_theta, X):
    before, after = forward(net, theta, X), forward(new_net, new_theta, X)
    assert np.max(np.abs(after - before)) <= 1e-13 * max(1.0, np.max(np.abs(before)))


def test_own_forward_agrees_with_the_network():
    net = make_net(3, [("tanh", "relu"), ("erf",)], 2)
    rng = np.random.default_rng(0)
    theta, X = rng.standard_normal(net.n_params), rng.standard_normal((5, 3))
    np.testing.assert_allclose(np.asarray(net.forward(theta, X)).reshape(5, 2), forward(net, theta, X),
                               rtol=1e-13, atol=1e-14)


@settings(max_examples=40)
@given(networks(), st.data())
def test_every_embedding_keeps_the_function(case, data):
    net, theta, X, rng = case
    for layer in range(1, len(net.layers)):
        width = net.layers[layer - 1].width
        i = data.draw(st.integers(0, width - 1))
        j = data.draw(st.integers(0, width))
        gamma = data.draw(st.floats(-2.0, 3.0))
        new_net, new_theta = split_neuron(net, theta, layer, i, gamma, j)
        assert new_net.layers[layer - 1].width == width + 1 and new_theta.size == new_net.n_params
        assert_same_function(net, theta, new_net, new_theta, X)

        w_in = rng.standard_normal(net.shapes[layer - 1][1])
        position = data.draw(st.integers(0, width))
        act = data.draw(st.sampled_from(HIDDEN_NAMES))
        new_net, new_theta = add_neuron(net, theta, layer, w_in, activation=act, position=position)
        assert names(new_net, layer)[position] == act
        assert_same_function(net, theta, new_net, new_theta, X)

        order = rng.permutation(width)
        new_net, new_theta = permute(net, theta, layer, order)
        assert names(new_net, layer) == [names(net, layer)[k] for k in order]
        assert_same_function(net, theta, new_net, new_theta, X)

        for k, name in enumerate(names(net, layer)):
            if name in ("relu", "leaky_relu", "identity", "abs"):
                c = data.draw(st.floats(1e-3, 1e3).filter(lambda c: abs(c - 1) > 1e-3))
                new_net, new_theta = scale_neuron(net, theta, layer, k, c)
                assert not np.allclose(new_theta, theta)
                assert_same_function(net, theta, new_net, new_theta, X)
            if name in ("tanh", "erf", "identity", "cube"):
                new_net, new_theta = flip_neuron(net, theta, layer, k)
                assert_same_function(net, theta, new_net, new_theta, X)


def test_split_bookkeeping():
    net = make_net(2, [("tanh", "relu", "erf")], 2)
    theta = np.arange(net.n_params, dtype=float) + 1.0
    new_net, new_theta = split_neuron(net, theta, 1, 1, 0.25, 0)
    W1, W2 = net.unflatten(theta)
    V1, V2 = new_net.unflatten(new_theta)
    assert names(new_net, 1) == ["relu", "tanh", "relu", "erf"]
    np.testing.assert_array_equal(V1, W1[[1, 0, 1, 2]])
    np.testing.assert_array_equal(V2[:, 0], 0.75 * W2[:, 1])
    np.testing.assert_array_equal(V2[:, 2], 0.25 * W2[:, 1])
    np.testing.assert_array_equal(V2[:, [1, 3, 4]], W2[:, [0, 2, 3]])  # bias column last


def test_remove_undoes_add_and_permute_composes():
    net = make_net(2, [("tanh", "relu"), ("tanh", "tanh", "erf")], 1)
    rng = np.random.default_rng(3)
    theta = rng.standard_normal(net.n_params)
    grown, grown_theta = add_neuron(net, theta, 2, rng.standard_normal(3), a_out=0.7, activation="relu",
                                    position=1)
    back, back_theta = remove_neuron(grown, grown_theta, 2, 1)
    assert back == net
    np.testing.assert_array_equal(back_theta, theta)
    # remove_neuron changes the function when the outgoing weights are not zero
    shrunk, shrunk_theta = remove_neuron(net, theta, 2, 0)
    assert shrunk.layers[1].width == 2
    X = rng.standard_normal((4, 2))
    assert not np.allclose(forward(shrunk, shrunk_theta, X), forward(net, theta, X))
    order = np.array([2, 0, 1])
    once = permute(net, theta, 2, order)
    twice = permute(*once, 2, np.argsort(order))
    assert twice[0] == net
    np.testing.assert_array_equal(twice[1], theta)


def test_add_neuron_default_activation_and_outgoing_vector():
    net = make_net(1, [("tanh", "tanh")], 2)
    theta = np.random.default_rng(0).standard_normal(net.n_params)
    new_net, new_theta = add_neuron(net, theta, 1, [0.5, -1.0], a_out=[1.0, 2.0])
    assert names(new_net, 1) == ["tanh"] * 3
    np.testing.assert_array_equal(new_net.unflatten(new_theta)[1][:, 2], [1.0, 2.0])
    mixed = make_net(1, [("tanh", "relu")])
    with pytest.raises(ParameterError) as info:
        add_neuron(mixed, np.zeros(mixed.n_params), 1, [0.0, 0.0])
    assert info.value.parameter == "activation"


@pytest.mark.parametrize("call, parameter", [
    (lambda n, t: split_neuron(n, t, 0, 0, 0.5, 0), "layer"),
    (lambda n, t: split_neuron(n, t, 2, 0, 0.5, 0), "layer"),
    (lambda n, t: split_neuron(n, t, 1, 3, 0.5, 0), "i"),
    (lambda n, t: split_neuron(n, t, 1, 0, 0.5, 4), "j"),
    (lambda n, t: split_neuron(n, t[:-1], 1, 0, 0.5, 0), "theta"),
    (lambda n, t: add_neuron(n, t, 1, [1.0]), "w_in"),
    (lambda n, t: add_neuron(n, t, 1, [1.0, 2.0], a_out=[1.0, 2.0]), "a_out"),
    (lambda n, t: add_neuron(n, t, 1, [1.0, 2.0], activation="tanh", position=-1), "position"),
    (lambda n, t: permute(n, t, 1, [0, 0, 1]), "order"),
    (lambda n, t: permute(n, t, 1, [0, 1]), "order"),
    (lambda n, t: scale_neuron(n, t, 1, 0, 2.0), "i"),     # tanh is not positively homogeneous
    (lambda n, t: scale_neuron(n, t, 1, 1, -2.0), "c"),
    (lambda n, t: flip_neuron(n, t, 1, 1), "i"),           # relu is not odd
    (lambda n, t: remove_neuron(n, t, 1, 5), "i"),
])
def test_bad_indices_name_the_argument(call, parameter):
    net = make_net(1, [("tanh", "relu", "erf")])
    with pytest.raises(ParameterError) as info:
        call(net, np.zeros(net.n_params))
    assert info.value.parameter == parameter


# --- splitting a polished minimum keeps the gradient small -------------------------------------------

def tanh_loss_and_gradient(theta, X, Y, width):
    """MSE (mean over samples, no 1/2) of x -> W2 [tanh(W1 [x; 1]); 1] and its gradient by backprop."""
    d = X.shape[1]
    W1 = theta[: width * (d + 1)].reshape(width, d + 1)
    W2 = theta[width * (d + 1):].reshape(Y.shape[1], width + 1)
    Xb = np.column_stack([X, np.ones(len(X))])
    h = np.tanh(Xb @ W1.T)
    hb = np.column_stack([h, np.ones(len(X))])
    r = hb @ W2.T - Y
    loss = np.mean(np.sum(r ** 2, axis=1))
    dout = 2 * r / len(X)
    g2 = dout.T @ hb
    dz = (dout @ W2[:, :width]) * (1 - h ** 2)
    g1 = dz.T @ Xb
    return loss, np.concatenate([g1.ravel(), g2.ravel()])


def test_numpy_gradient_matches_central_differences():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((9, 2)), rng.standard_normal((9, 1))
    theta = rng.standard_normal(2 * 3 + 3)
    _, grad = tanh_loss_and_gradient(theta, X, Y, 2)
    h = 1e-6
    fd = [(tanh_loss_and_gradient(theta + h * e, X, Y, 2)[0]
           - tanh_loss_and_gradient(theta - h * e, X, Y, 2)[0]) / (2 * h) for e in np.eye(theta.size)]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("gamma", [0.5, 0.2, 1.7])
def test_splitting_a_polished_minimum_keeps_the_gradient_small(gamma):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((30, 2))
    Y = np.tanh(X @ [[1.0], [-0.5]]) + 0.5 * np.tanh(X @ [[0.3], [1.2]] + 0.2) + 0.1 * X[:, :1] ** 2
    net = make_net(2, [("tanh", "tanh")], 1)
    fun = lambda t: tanh_loss_and_gradient(t, X, Y, 2)  # noqa: E731
    sol = scipy.optimize.minimize(fun, 0.5 * rng.standard_normal(net.n_params), jac=True, method="BFGS",
                                  options={"gtol": 1e-12, "maxiter": 5000})
    theta = sol.x
    for _ in range(3):  # a few Newton steps on a finite-difference Hessian polish the last digits
        h = 1e-5
        H = np.array([(fun(theta + h * e)[1] - fun(theta - h * e)[1]) / (2 * h) for e in np.eye(theta.size)])
        theta = theta - np.linalg.solve(0.5 * (H + H.T), fun(theta)[1])
    grad = fun(theta)[1]
    assert np.max(np.abs(grad)) <= 1e-11
    # the backprop above flattens parameters the same way as the network (bias last, row-major)
    hidden = np.tanh(np.column_stack([X, np.ones(30)]) @ theta[:6].reshape(2, 3).T)
    np.testing.assert_allclose(forward(net, theta, X)[:, 0], hidden @ theta[6:8] + theta[8], rtol=1e-13)
    new_net, new_theta = split_neuron(net, theta, 1, 0, gamma, 2)
    new_grad = tanh_loss_and_gradient(new_theta, X, Y, 3)[1]
    assert np.max(np.abs(new_grad)) <= 1e-10
    assert np.max(np.abs(new_grad)) <= max(1.0, abs(gamma), abs(1 - gamma)) * np.max(np.abs(grad)) + 1e-14
