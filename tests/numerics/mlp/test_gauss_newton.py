"""The Levenberg-Marquardt polish: its residual Jacobian against central differences of the plain NumPy
forward pass, L = r . r and grad = 2 J^T r against the generated kernels, zero loss on an overparameterised
teacher-student fit, and the objectives it refuses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.penalties import L2
from gradflow.numerics.mlp.training import train
from gradflow.numerics.mlp.training.gauss_newton import residuals_and_jacobian
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp import Layer, Network, random_params


def _network(output_mean: bool) -> Network:
    # two hidden layers, mixed activations in one layer, a layer without biases, a nonlinear output
    return Network(3, (Layer(4, ("tanh", "tanh", "sigmoid", "softplus")), Layer(3, "tanh", bias=False),
                       Layer(2, ("identity", "tanh"))), output_mean=output_mean)


@pytest.mark.long  # kernels for new networks, compiled cold: not in the quick subset
@settings(max_examples=15)
@given(seed=st.integers(0, 10_000), output_mean=st.booleans(), weighted=st.booleans())
def test_the_jacobian_matches_central_differences_and_the_kernels(seed, output_mean, weighted):
    rng = np.random.default_rng(seed)
    net = _network(output_mean)
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    w = rng.uniform(0.5, 2.0, size=30) if weighted else None
    objective = MLPObjective.create(net, X, Y, weights=w)
    theta = random_params(net, seed)
    r, J = residuals_and_jacobian(objective, theta)
    scale = np.sqrt((np.ones(30) if w is None else w) / 30 / (2 if output_mean else 1))

    def residuals(t):  # the plain NumPy forward pass: an oracle independent of the backpropagation
        return (scale[:, None] * (net.forward(t, X) - Y)).ravel()

    assert np.allclose(r, residuals(theta), rtol=1e-13, atol=1e-15)
    h = 1e-6
    numeric = np.column_stack([(residuals(theta + h * e) - residuals(theta - h * e)) / (2 * h)
                               for e in np.eye(net.n_params)])
    assert np.allclose(J, numeric, rtol=1e-6, atol=1e-8)
    loss, grad = objective.loss_and_gradient(theta)
    assert r @ r == pytest.approx(loss, rel=1e-12)
    assert np.allclose(2 * J.T @ r, grad, rtol=1e-10, atol=1e-14)


@pytest.mark.long
def test_levenberg_marquardt_reaches_zero_loss_on_an_overparameterised_student():
    rng = np.random.default_rng(0)
    teacher = Network(4, (Layer(3, "tanh"), Layer(2, "identity")), output_mean=True)
    X = rng.normal(size=(200, 4))
    Y = teacher.forward(random_params(teacher, 0) * 2.0, X)
    student = Network(4, (Layer(6, "tanh"), Layer(2, "identity")), output_mean=True)
    objective = MLPObjective.create(student, X, Y)
    start = random_params(student, 1)
    options = dict(method="adam", lr=1e-2, maxiterations_ode=2000, maxiterations_optim=100, spectrum=False,
                   minloss=1e-28, min_gnorm=0.0)
    fit = train(objective, start, polish="gauss-newton", **options)
    assert fit.polish == "gauss-newton" and fit.loss <= 1e-28 * np.var(Y, axis=0).mean(), fit.loss
    assert fit.optim_stopped_by == "minloss" and fit.optim_iterations < 100
    bfgs = train(objective, start, polish="bfgs", **options)  # the same budget of iterations
    assert fit.loss < 1e-6 * bfgs.loss


def test_objectives_without_a_sum_of_squares_are_refused():
    net = Network(2, (Layer(3, "tanh"), Layer(2, "softmax")), loss="nll")
    X, labels = np.random.default_rng(0).normal(size=(10, 2)), np.arange(10) % 2
    with pytest.raises(ParameterError, match="polish.*mse"):
        train(MLPObjective.create(net, X, labels), random_params(net, 0), polish="gauss-newton")
    mse = Network(2, (Layer(3, "tanh"), Layer(1, "identity")))
    penalised = MLPObjective.create(mse, X, X[:, 0], penalties=(L2(1e-3),))
    with pytest.raises(ParameterError, match="polish.*penalties"):
        train(penalised, random_params(mse, 0), polish="gauss-newton")
    with pytest.raises(ParameterError, match="objective"):
        residuals_and_jacobian(penalised, random_params(mse, 0))
