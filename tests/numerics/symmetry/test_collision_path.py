from functools import lru_cache

import numpy as np
import pytest

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.symmetry import (AffineRestriction, CriticalPointError, collision_path, mlp, swap_neurons,
                                        symmetric_basis, teacher_data, transposition)


@lru_cache(maxsize=None)
def teacher_problem(seed=0):
    net = mlp([1, 4, 1])
    X, Y, theta_star = teacher_data(net, seed, 400)
    return net, MLPObjective.create(net, X, Y), theta_star


def test_restriction_gradient_and_hessian_by_finite_differences():
    net, objective, theta = teacher_problem()
    S = symmetric_basis(net, 1, 0, 3)
    restricted = AffineRestriction(objective, S, 0.1 * np.ones(net.n_params))
    y = S.T @ theta
    loss, grad = restricted.loss_and_gradient(y)
    h = 1e-6
    fd = np.array([(restricted.loss(y + h * e) - restricted.loss(y - h * e)) / (2 * h) for e in np.eye(y.size)])
    assert np.max(np.abs(fd - grad)) <= 1e-6 * max(1.0, np.max(np.abs(grad)))
    H = restricted.hessian(y)
    fd_H = np.column_stack([(restricted.loss_and_gradient(y + h * e)[1] - restricted.loss_and_gradient(y - h * e)[1])
                            / (2 * h) for e in np.eye(y.size)])
    assert np.max(np.abs(fd_H - H)) <= 1e-5 * max(1.0, np.max(np.abs(H)))
    v = np.random.default_rng(0).normal(size=y.size)
    assert np.allclose(restricted.hessian_vector(y, v), H @ v, rtol=1e-12, atol=1e-12 * np.max(np.abs(H)))
    assert np.allclose(restricted.coordinates(restricted.point(y)), y, rtol=0, atol=1e-13)


def test_path_from_a_minimum_to_its_mirror_through_a_permutation_point():
    net, objective, theta_star = teacher_problem()
    path = collision_path(objective, theta_star, 1, 0, 3, n_steps=21)
    perm = transposition(net, 1, 0, 3)
    assert np.array_equal(path.points[0], theta_star)
    assert np.array_equal(path.points[-1], swap_neurons(net, theta_star, 1, 0, 3))
    assert np.array_equal(path.points[::-1][:, perm], path.points)  # mirror symmetric
    middle = path.points[20]
    assert np.array_equal(middle, path.theta_P) and np.allclose(middle[perm], middle, rtol=0, atol=1e-15)
    assert path.grad_norm_P <= 1e-12 and np.linalg.norm(objective.loss_and_gradient(middle)[1]) <= 1e-12
    assert path.losses[20] == pytest.approx(path.loss_P, rel=1e-14) and path.loss_P > path.losses[0]
    assert path.barrier >= path.loss_P - path.losses[0]
    assert path.max_constrained_grad <= 1e-8  # every point minimises the loss at its s


def test_degenerate_pairs_are_refused_not_reported():
    """Neurons 0 and 1 of this teacher merge into a net whose best fit runs off to huge outgoing
    weights: no permutation point to 1e-12, and the path says so instead of returning one."""
    _, objective, theta_star = teacher_problem()
    with pytest.raises(CriticalPointError, match="no critical point"):
        collision_path(objective, theta_star, 1, 0, 1, n_steps=5)
