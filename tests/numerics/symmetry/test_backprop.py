import numpy as np
import pytest

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.symmetry import forward_backward, neuron_indices, plateau_matrix, plateau_point
from gradflow.theory.mlp import Layer, Network

from .cases import case


@pytest.mark.parametrize("loss, out_act, output_mean", [("mse", "identity", False), ("mse", "tanh", True),
                                                        ("nll", "softmax", False)])
def test_backward_pass_gives_the_generated_gradient(loss, out_act, output_mean):
    net = Network(3, (Layer(4, "tanh"), Layer(3, ("softplus", "sigmoid", "tanh"), bias=False),
                      Layer(2, out_act)), loss=loss, output_mean=output_mean)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(25, 3))
    Y = rng.integers(0, 2, 25) if loss == "nll" else rng.normal(size=(25, 2))
    objective = MLPObjective.create(net, X, Y)
    theta = rng.normal(size=net.n_params)
    inputs, _, deltas = forward_backward(net, theta, objective.samples.X, objective.samples.T)
    w = objective.samples.w[:, None]
    mine = np.concatenate([(d * w).T.dot(h).ravel() for h, d in zip(inputs, deltas)])
    grad = objective.loss_and_gradient(theta)[1]
    assert np.max(np.abs(mine - grad)) <= 1e-12 * max(1.0, np.max(np.abs(grad)))


@pytest.mark.parametrize("sizes", [(2, 3, 1), (3, 3, 2), (2, 3, 4)])
def test_B_is_the_derivative_of_the_gradient_along_the_plateau(sizes):
    """Row o of B = d grad_{w_i} / d e_o by central differences of the generated gradient."""
    c = case(sizes)
    pm = plateau_matrix(c.objective, c.theta_P, 1, c.i)
    inc_i, _ = neuron_indices(c.wide, 1, c.i)
    n_next = c.wide.layers[1].width
    rng = np.random.default_rng(0)
    e0 = rng.normal(size=n_next)
    h = 1e-3  # the gradient is linear in e on the plateau: differences are exact up to rounding
    for o in range(n_next):
        step = np.zeros(n_next)
        step[o] = h
        g_plus = c.objective.loss_and_gradient(plateau_point(c.wide, c.theta_P, 1, c.i, c.j, e0 + step))[1]
        g_minus = c.objective.loss_and_gradient(plateau_point(c.wide, c.theta_P, 1, c.i, c.j, e0 - step))[1]
        row = (g_plus[inc_i] - g_minus[inc_i]) / (2 * h)
        assert np.max(np.abs(row - pm.B[o])) <= 1e-9 * max(1.0, np.max(np.abs(pm.B)))
    # B^T u-bar = 0 at the permutation point (criticality in the merged incoming vector)
    _, out_i = neuron_indices(c.wide, 1, c.i)
    assert np.max(np.abs(pm.B.T @ (2 * c.theta_P[out_i]))) <= 1e-11
    assert pm.rank <= n_next - 1


def test_rank_threshold_is_absolute_and_B_vanishes_for_one_output():
    c = case((2, 3, 1))
    pm = plateau_matrix(c.objective, c.theta_P, 1, c.i)
    assert pm.B.shape == (1, 3) and pm.rank == 0
    assert pm.threshold > 1e3 * pm.singular_values[0]


def test_plateau_matrix_refuses_penalties():
    from gradflow.numerics.mlp import L2
    c = case((2, 3, 1))
    objective = MLPObjective.create(c.wide, c.X, c.Y, penalties=(L2(0.1),))
    with pytest.raises(ValueError, match="objective"):
        plateau_matrix(objective, c.theta_P, 1, 0)
