"""Equivariance of the gradient under hidden-neuron permutations: SymPy proof and numbers."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp import Layer, Network
from gradflow.theory.symmetry.equivariance import (ExplicitNetwork, entrywise_claims, explicit_network_claims,
                                                   matrix_form_claims)


def test_entrywise_and_matrix_form():
    claims = {**entrywise_claims(), **matrix_form_claims()}
    assert len(claims) == 4
    assert all(c.holds for c in claims.values()), [str(c) for c in claims.values()]


def test_small_networks_quick():
    claims = explicit_network_claims(((1, 2, 1),))
    assert {name.split()[0] for name in claims} == {"loss", "gradient", "hessian"}
    assert all(c.holds for c in claims.values())
    cycles = explicit_network_claims(((1, 3, 1),), hessian=False)  # 3-cycles, not only transpositions
    assert len(cycles) == 2 * 5 and all(c.holds for c in cycles.values())


def test_two_hidden_layers_full():
    claims = explicit_network_claims(((2, 2, 2, 1),))
    assert len(claims) == 2 * 3
    assert all(c.holds for c in claims.values())


def test_a_wrong_permutation_is_caught():
    """Moving the incoming weights but not the outgoing ones is no symmetry: the loss changes."""
    net = ExplicitNetwork((1, 2, 1))
    sigma, ell = sp.Function("sigma"), sp.Function("ell")
    L = net.loss(sigma, ell)
    move = net.permutation(1, (1, 0))
    broken = {k: v for k, v in move.items() if not str(k).startswith("W2")}
    assert sp.simplify(L.xreplace(move) - L) == 0
    assert sp.simplify(L.xreplace(broken) - L) != 0


def test_bad_permutation():
    net = ExplicitNetwork((1, 2, 1))
    with pytest.raises(ParameterError, match="order"):
        net.permutation(1, (0, 0))
    with pytest.raises(ParameterError, match="layer"):
        net.permutation(2, (1, 0))
    with pytest.raises(ParameterError, match="widths"):
        ExplicitNetwork((2, 0, 1))


# --- numbers: random MLPs, the numeric oracle is central finite differences of a NumPy loss -------------

def _permute(net: Network, theta, layer: int, order):
    """theta with the neurons of hidden ``layer`` (1-based) permuted: rows of W_layer (bias column
    included) and columns of W_{layer+1}."""
    weights = [W.copy() for W in net.unflatten(np.array(theta, dtype=float))]
    order = list(order)
    weights[layer - 1] = weights[layer - 1][order, :]
    nxt = weights[layer]
    cols = list(range(nxt.shape[1]))
    cols[:len(order)] = order  # the bias column (last, if any) stays
    weights[layer] = nxt[:, cols]
    return net.flatten(weights)


def _loss(net, theta, X, Y):
    return float(np.mean(np.sum((net.forward(theta, X) - Y) ** 2, axis=1)))


def _fd_gradient(net, theta, X, Y, step=1e-6):
    grad = np.empty_like(theta)
    for a in range(theta.size):
        e = np.zeros_like(theta)
        e[a] = step
        grad[a] = (_loss(net, theta + e, X, Y) - _loss(net, theta - e, X, Y)) / (2 * step)
    return grad


@settings(max_examples=25, deadline=None)
@given(hidden=st.lists(st.integers(1, 4), min_size=1, max_size=2), inputs=st.integers(1, 3),
       outputs=st.integers(1, 2), activation=st.sampled_from(["tanh", "softplus", "sigmoid"]),
       seed=st.integers(0, 2 ** 31 - 1), data=st.data())
def test_permuting_neurons_permutes_the_gradient(hidden, inputs, outputs, activation, seed, data):
    net = Network(inputs, tuple(Layer(w, activation) for w in hidden) + (Layer(outputs),))
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=net.n_params)
    X, Y = rng.normal(size=(7, inputs)), rng.normal(size=(7, outputs))
    layer = data.draw(st.integers(1, len(hidden)))
    order = data.draw(st.permutations(range(hidden[layer - 1])))
    moved = _permute(net, theta, layer, order)
    assert abs(_loss(net, moved, X, Y) - _loss(net, theta, X, Y)) <= 1e-12 * (1 + _loss(net, theta, X, Y))
    # the gradient transforms like the parameters: grad(P theta) = P grad(theta)
    lhs = _fd_gradient(net, moved, X, Y)
    rhs = _permute(net, _fd_gradient(net, theta, X, Y), layer, order)
    assert np.max(np.abs(lhs - rhs)) <= 1e-8 * (1 + np.max(np.abs(rhs)))


def test_the_numeric_oracle_sees_a_non_symmetry():
    """Swapping incoming weights only changes loss and gradient: the oracle can fail."""
    net = Network(2, (Layer(3, "tanh"), Layer(1)))
    rng = np.random.default_rng(1)
    theta = rng.normal(size=net.n_params)
    X, Y = rng.normal(size=(7, 2)), rng.normal(size=(7, 1))
    weights = [W.copy() for W in net.unflatten(theta)]
    weights[0] = weights[0][[1, 0, 2], :]
    wrong = net.flatten(weights)
    assert abs(_loss(net, wrong, X, Y) - _loss(net, theta, X, Y)) > 1e-6


def test_collision_subspace_is_invariant():
    from gradflow.theory.symmetry.equivariance import collision_claims

    claims = collision_claims(((1, 2, 1), (1, 3, 1)))
    assert len(claims) == 2 and all(c.holds for c in claims.values())
    # off the collision subspace the two neurons' gradients differ
    net = ExplicitNetwork((1, 2, 1))
    L = net.loss(sp.Function("sigma"), sp.Function("ell"))
    W1 = net.weights[0]
    assert sp.simplify(sp.diff(L, W1[0, 0]) - sp.diff(L, W1[1, 0])) != 0
