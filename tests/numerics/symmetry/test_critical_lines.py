from functools import lru_cache

import numpy as np
import pytest

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.symmetry import (critical_point, fukumizu_amari_matrix, pack, random_teacher, shallow,
                                        split_directions, split_point)

D, N = 2, 300
BETAS = [-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5]


@lru_cache(maxsize=None)
def narrow_point(r, teacher_width, d_out=1, seed=0):
    """(net_r, theta_r, loss, X, Y): a critical point of width r < teacher width (tanh, no biases)."""
    teacher = random_teacher(teacher_width, D, d_out, seed=seed)
    X = np.random.default_rng(seed + 10).normal(size=(N, D))
    Y = shallow(D, teacher_width, d_out, "tanh").forward(pack(teacher.W, teacher.A), X)
    net = shallow(D, r, d_out, "tanh")
    objective = MLPObjective.create(net, X, Y)
    point = critical_point(objective, np.random.default_rng(seed).normal(size=net.n_params))
    assert point.loss > 1e-6  # non-zero residual: the splits are saddles or plateaus, not minima of zero loss
    return net, point.theta, point.loss, X, Y


@pytest.mark.parametrize("beta", BETAS)
def test_beta_splits_are_critical_at_the_narrow_loss(beta):
    net, theta, loss_r, X, Y = narrow_point(1, 2)
    wide, theta_m = split_point(net, theta, np.array([0, 0]), np.array([beta, 1 - beta]))
    loss, grad = MLPObjective.create(wide, X, Y).loss_and_gradient(theta_m)
    assert np.linalg.norm(grad) <= 1e-12 * max(1.0, abs(beta))
    assert abs(loss - loss_r) <= 1e-14 * loss_r


def test_splits_of_a_width_two_point_along_any_surjection():
    net, theta, loss_r, X, Y = narrow_point(2, 3)
    rng = np.random.default_rng(5)
    for labelling in ([0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 0]):
        labelling = np.array(labelling)
        betas = rng.normal(size=labelling.size)
        for role in range(2):  # normalise each fibre to sum 1
            members = labelling == role
            betas[members] += (1 - betas[members].sum()) / members.sum()
        wide, theta_m = split_point(net, theta, labelling, betas)
        loss, grad = MLPObjective.create(wide, X, Y).loss_and_gradient(theta_m)
        assert np.linalg.norm(grad) <= 1e-11 and abs(loss - loss_r) <= 1e-13 * loss_r


def test_non_parallel_splits_keep_the_loss_but_not_criticality():
    net, theta, loss_r, X, Y = narrow_point(1, 2, d_out=2)
    a_bar = net.unflatten(theta)[1][:, 0]
    e = np.array([-a_bar[1], a_bar[0]])  # orthogonal to a-bar
    wide, theta_m = split_point(net, theta, np.array([0, 0]), np.array([0.5, 0.5]), directions=np.array([e, -e]))
    loss, grad = MLPObjective.create(wide, X, Y).loss_and_gradient(theta_m)
    assert abs(loss - loss_r) <= 1e-13 * loss_r
    assert np.linalg.norm(grad) > 1e-3


@pytest.mark.parametrize("beta", [b for b in BETAS if b not in (0.0, 1.0)])
def test_quadratic_form_along_the_split_is_beta_times_one_minus_beta_times_M(beta):
    net, theta, _, X, Y = narrow_point(1, 2)
    M = fukumizu_amari_matrix(net, theta, X, Y)
    wide, theta_m = split_point(net, theta, np.array([0, 0]), np.array([beta, 1 - beta]))
    H = MLPObjective.create(wide, X, Y).hessian(theta_m)
    V = split_directions(wide, beta)
    Q = V.T @ H @ V / (beta * (1 - beta))
    assert np.max(np.abs(Q - M)) <= 1e-8 * max(1.0, np.max(np.abs(M)))
    assert np.allclose(np.linalg.eigvalsh(Q), np.linalg.eigvalsh(M), rtol=0, atol=1e-8)


def test_M_by_finite_differences_of_the_gradient():
    """Independent of the Hessian kernel: central differences of the generated gradient along v."""
    net, theta, _, X, Y = narrow_point(1, 2)
    M = fukumizu_amari_matrix(net, theta, X, Y)
    beta = 0.3
    wide, theta_m = split_point(net, theta, np.array([0, 0]), np.array([beta, 1 - beta]))
    objective = MLPObjective.create(wide, X, Y)
    V = split_directions(wide, beta)
    h = 1e-5
    HV = np.column_stack([(objective.loss_and_gradient(theta_m + h * v)[1]
                           - objective.loss_and_gradient(theta_m - h * v)[1]) / (2 * h) for v in V.T])
    assert np.max(np.abs(V.T @ HV / (beta * (1 - beta)) - M)) <= 1e-6 * max(1.0, np.max(np.abs(M)))


def test_extra_zero_eigenvalues_at_the_ends_of_the_line():
    net, theta, _, X, Y = narrow_point(1, 2)

    def zeros(beta):
        wide, theta_m = split_point(net, theta, np.array([0, 0]), np.array([beta, 1 - beta]))
        values = np.abs(np.linalg.eigvalsh(MLPObjective.create(wide, X, Y).hessian(theta_m)))
        return int(np.sum(values <= 1e-9 * values.max()))

    inner = zeros(0.25)
    assert zeros(0.0) == zeros(1.0) == inner + D
    assert zeros(0.5) == zeros(1.5) == inner


def test_split_point_validates():
    net, theta, _, _, _ = narrow_point(1, 2)
    with pytest.raises(ValueError, match="betas"):
        split_point(net, theta, np.array([0, 0]), np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="labelling"):
        split_point(net, theta, np.array([0, 1]))
