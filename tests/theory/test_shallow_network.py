"""The shallow-network model: symbolic gradients against scalar calculus, the Hessian-vector
product for smooth activations, and the Euler identity behind conservation."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

from gradflow.theory.activations import ABSOLUTE, RELU, ReluLike, Smooth, activation, leaky_relu
from gradflow.theory.errors import ParameterError
from gradflow.theory.models import shallow_network as sn
from gradflow.theory.models.shallow_network import ShallowNetwork, ShallowNetworkDerivation, explicit

SIZES = {sn.n: 3, sn.m: 2, sn.d: 2, sn.d_out: 2}


def _random_point(replacements, rng):
    return {s: float(rng.normal()) for M in replacements.values() for s in M}


@pytest.mark.parametrize("act", [leaky_relu(sp.Rational(1, 5)), Smooth("tanh")], ids=lambda a: a.name)
def test_matrix_gradient_equals_scalar_gradient(act):
    net = ShallowNetwork(act)
    loss, reps = explicit(net.model.loss(), SIZES, net)
    rng = np.random.default_rng(0)
    for parameter in (sn.W, sn.H):
        grad, _ = explicit(net.gradients(placeholder=False)[parameter], SIZES, net)
        entries = reps[parameter]
        for _ in range(2):
            point = _random_point(reps, rng)
            for i in range(entries.rows):
                for j in range(entries.cols):
                    scalar = sp.diff(loss, entries[i, j]).subs(point)
                    assert abs(float(grad[i, j].subs(point)) - float(scalar)) < 1e-10


def test_relu_gradient_uses_a_minus_at_the_kink():
    act = ReluLike(1, sp.Rational(1, 4))
    net = ShallowNetwork(act)
    grad, reps = explicit(net.gradients(placeholder=False)[sn.W], SIZES, net)
    W, H, X, Y = (reps[s] for s in (sn.W, sn.H, sn.X, sn.Y))
    # neuron 0 exactly on the kink of input 0: w_0 . x_0 = 0
    point = {X[0, 0]: 1, X[0, 1]: 1, W[0, 0]: 1, W[0, 1]: -1, W[1, 0]: 2, W[1, 1]: 3,
             X[1, 0]: 1, X[1, 1]: 2, X[2, 0]: -1, X[2, 1]: 1}
    point.update({H[i, j]: i + j + 1 for i in range(2) for j in range(2)})
    point.update({Y[i, j]: 0 for i in range(3) for j in range(2)})
    value = grad.subs(point)
    # by hand: dL/dW_0 = (2/(n d_out)) sum_k (h_0 . e_k) rho'(z_k0) x_k with rho'(0) = 1/4
    Xv = np.array([[1, 1], [1, 2], [-1, 1]], float)
    Wv = np.array([[1, -1], [2, 3]], float)
    Hv = np.array([[1, 2], [2, 3]], float)
    Z = Xv @ Wv.T
    A = np.where(Z > 0, Z, 0.25 * Z)
    E = A @ Hv
    slope = np.where(Z > 0, 1.0, 0.25)
    expected = (2 / 6) * ((E @ Hv.T) * slope).T @ Xv
    assert np.allclose(np.array(value, dtype=float), expected, atol=1e-12)


def test_hessian_vector_product_matches_second_derivatives():
    net = ShallowNetwork(Smooth("tanh"))
    sizes = {sn.n: 2, sn.m: 2, sn.d: 2, sn.d_out: 1}
    hvp = net.hessian_vector_product()
    loss, reps = explicit(net.model.loss(), sizes, net)
    rng = np.random.default_rng(1)
    point = _random_point(reps, rng)
    V = sp.Matrix(2, 2, lambda i, j: float(rng.normal()))
    U = sp.Matrix(2, 1, lambda i, j: float(rng.normal()))
    params = [s for M in (reps[sn.W], reps[sn.H]) for s in M]
    direction = dict(zip(params, [*V, *U]))
    hess = sp.hessian(loss, params)
    expected = (hess * sp.Matrix([direction[p] for p in params])).subs(point)
    got_W, _ = explicit(hvp[sn.W], sizes, net)
    got_H, _ = explicit(hvp[sn.H], sizes, net)
    subs = dict(point)
    subs.update({sp.Symbol(f"V_{i}{j}", real=True): V[i, j] for i in range(2) for j in range(2)})
    subs.update({sp.Symbol(f"U_{i}0", real=True): U[i, 0] for i in range(2)})
    got = [float(v.subs(subs)) for v in [*got_W, *got_H]]
    assert np.allclose(got, [float(v) for v in expected], atol=1e-10)


def test_no_hessian_for_relu_like():
    with pytest.raises(ParameterError, match="activation"):
        ShallowNetwork(RELU).hessian_vector_product()


@pytest.mark.parametrize("act,holds", [(RELU, True), (ABSOLUTE, True), (leaky_relu(0.1), True),
                                       (Smooth("tanh"), False), (Smooth("softplus"), False)], ids=str)
def test_euler_identity_only_for_homogeneous_activations(act, holds):
    from gradflow.theory.verify import vanishes

    assert vanishes(ShallowNetwork(act).euler_identity()).holds is holds


def test_conservation_rate_vanishes_for_relu_and_not_for_tanh():
    for act, zero in ((RELU, True), (Smooth("tanh"), False)):
        net = ShallowNetwork(act)
        rate = net.conservation_rate().subs(net.model.loss_gradient_symbol, net.loss_gradient())
        diag, reps = explicit(rate, SIZES, net)
        point = _random_point(reps, np.random.default_rng(2))
        values = [float(diag[i, i].subs(point)) for i in range(2)]
        assert (max(map(abs, values)) < 1e-12) is zero


def test_derivation_document_mentions_conservation():
    doc = ShallowNetwork(RELU).derivation()
    assert "Conservation" in [s.title for s in doc.steps]
    assert doc.euler_identity.holds and doc.conserves_balance
    assert r"\nabla_W" in doc.to_latex()


def test_derivation_fields_are_the_derived_objects():
    net = ShallowNetwork(RELU)
    doc = net.derivation()
    assert isinstance(doc, ShallowNetworkDerivation) and not hasattr(doc, "results")
    assert doc.network == net
    gradients = net.gradients()
    assert doc.gradient_W == gradients[sn.W] and doc.gradient_H == gradients[sn.H]
    assert str(doc.loss_gradient) == str(net.loss_gradient())  # its Lambdas carry fresh dummies: compare the text
    assert doc.gradient_W.shape == sn.W.shape and doc.gradient_H.shape == sn.H.shape
    assert net.model.loss_gradient_symbol in doc.gradient_H.free_symbols
    assert doc.euler_identity.statement == "z rho'(z) = rho(z)" and doc.euler_identity.points > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.euler_identity = None


def test_no_conservation_without_homogeneity():
    doc = ShallowNetwork(Smooth("tanh")).derivation()
    assert not doc.euler_identity.holds and not doc.conserves_balance
    assert "Conservation" not in [s.title for s in doc.steps]


def test_bad_input():
    with pytest.raises(ParameterError, match="loss"):
        ShallowNetwork(RELU, loss="hinge")
    with pytest.raises(ParameterError, match="a_minus"):
        ReluLike(1, 1)
    with pytest.raises(ParameterError, match="activation"):
        activation("swish")
    with pytest.raises(ParameterError, match="a_plus"):
        ReluLike(float("nan"), 0)
