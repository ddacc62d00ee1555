import numpy as np
import pytest

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.symmetry import analytic_gradient, complex_step_hessian
from gradflow.theory.mlp import Layer, Network

from .cases import case


@pytest.mark.parametrize("sizes, layer", [((3, 3, 2), 1), ((2, 3, 3, 1), 2)])
def test_generated_hessian_at_permutation_points_equals_the_complex_step_hessian(sizes, layer):
    c = case(sizes, layer=layer)
    H = c.objective.hessian(c.theta_P)
    oracle = complex_step_hessian(c.objective, c.theta_P)
    assert np.max(np.abs(H - oracle)) <= 1e-12 * np.max(np.abs(H))


@pytest.mark.parametrize("act", ["tanh", "softplus", "sigmoid", "erf"])
def test_analytic_gradient_is_the_generated_gradient(act):
    net = Network(2, (Layer(3, act), Layer(3, act, bias=False), Layer(2)))
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    objective = MLPObjective.create(net, X, Y, weights=rng.uniform(0.5, 2.0, 30))
    theta = rng.normal(size=net.n_params)
    grad = objective.loss_and_gradient(theta)[1]
    assert np.max(np.abs(analytic_gradient(objective, theta) - grad)) <= 1e-12 * max(1.0, np.max(np.abs(grad)))
    H = objective.hessian(theta)
    assert np.max(np.abs(complex_step_hessian(objective, theta) - H)) <= 1e-12 * max(1.0, np.max(np.abs(H)))


def test_kinked_activations_are_refused():
    net = Network(2, (Layer(3, "relu"), Layer(1)))
    objective = MLPObjective.create(net, np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match="activation"):
        analytic_gradient(objective, np.zeros(net.n_params))
