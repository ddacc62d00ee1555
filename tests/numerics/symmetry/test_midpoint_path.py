"""Newton-MINRES, the midpoint path through a permutation point, and the Hessian there from products only;
each checked against dense Hessians, the dense Newton polish or the plain NumPy forward pass."""

from functools import lru_cache

import numpy as np

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.symmetry import (antisymmetric_basis, critical_point, inert_parameters, krylov_newton,
                                        midpoint_path, mlp, pair_spectrum, permutation_point_report,
                                        smallest_eigenvalues, teacher_data, transposition)

from .cases import case


@lru_cache(maxsize=None)
def teacher_problem(seed=0):
    net = mlp([1, 4, 1])
    X, Y, theta_star = teacher_data(net, seed, 200)
    return net, X, Y, MLPObjective.create(net, X, Y), theta_star


def test_krylov_newton_polishes_a_minimum_and_a_saddle_like_dense_newton():
    c = case((3, 3, 2))
    rng = np.random.default_rng(0)
    start = c.theta_red + 1e-3 * rng.normal(size=c.theta_red.size)
    point = krylov_newton(c.objective_red, start, 1e-11)
    dense = critical_point(c.objective_red, start, 1e-11, descend=False)
    assert point.grad_norm < 1e-11 and np.max(np.abs(point.theta - dense.theta)) <= 1e-8
    assert abs(point.loss - c.loss_red) <= 1e-12 * c.loss_red
    # the permutation point is a saddle (or has a zero direction): moved inside Fix(P_ij), polished back
    perm = transposition(c.wide, 1, c.i, c.j)
    kick = rng.normal(size=c.theta_P.size)
    saddle = krylov_newton(c.objective, c.theta_P + 1e-4 * (kick + kick[perm]), 1e-11)
    assert saddle.grad_norm < 1e-11 and abs(saddle.loss - c.loss_red) <= 1e-10 * c.loss_red


def test_midpoint_path_ends_at_a_permutation_point_in_the_collision_subspace():
    net, X, Y, objective, theta_star = teacher_problem()
    path = midpoint_path(objective, theta_star, 1, 0, 3, n_segment=11, gtol=1e-11)
    perm = transposition(net, 1, 0, 3)
    assert np.max(np.abs(path.theta_P[perm] - path.theta_P)) <= 1e-14 * np.max(np.abs(path.theta_P))
    assert path.grad_norm_P < 1e-9
    assert abs(objective.loss(path.theta_P) - path.loss_P) == 0.0
    t = np.linspace(0.0, 1.0, 11)
    mid = 0.5 * (theta_star + theta_star[perm])
    numpy_losses = [np.mean((net.forward((1 - s) * theta_star + s * mid, X) - Y) ** 2) for s in t]
    assert np.allclose(path.segment_losses, numpy_losses, rtol=1e-12, atol=1e-15)
    assert np.all(np.diff(path.descent_losses[:-1]) <= 0)  # descent inside Fix(P_ij)
    assert path.profile[0] == path.profile[-1] and np.array_equal(path.profile, path.profile[::-1])
    assert path.barrier >= path.loss_P - path.segment_losses[0] > 0


def test_pair_spectrum_agrees_with_the_dense_hessian():
    c = case((3, 3, 2))
    H = c.objective.hessian(c.theta_P)
    dense = np.linalg.eigvalsh(H)
    s = pair_spectrum(c.objective, c.theta_P, 1, c.i, c.j, k=5)
    top = dense[-1]
    assert s.lanczos_converged and abs(s.largest - top) <= 1e-10 * top
    assert np.max(np.abs(s.smallest - dense[:5])) <= 1e-8 * top
    A = antisymmetric_basis(c.wide, 1, c.i, c.j)
    assert np.max(np.abs(s.anti_eigenvalues - np.linalg.eigvalsh(A.T @ H @ A))) <= 1e-10 * top
    assert s.negative_count == int(np.sum(dense < -1e-9 * top)) == s.anti_negative_count  # strict reduced point
    assert s.negative_count >= s.rank_B >= 1
    report = permutation_point_report((3, 3, 2), check_hessian=False, n_samples=120, restarts=6)
    assert s.rank_B == report.rank_B and s.anti_zero_counts[1e-9] == report.zero_count == 2 - s.rank_B


def test_inert_parameters_are_exact_zero_rows_and_lanczos_skips_them():
    net = mlp([3, 4, 2])
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    X[:, 1] = 0.0
    objective = MLPObjective.create(net, X, rng.normal(size=(60, 2)))
    theta = rng.normal(size=net.n_params)
    inert = inert_parameters(net, X)
    H = objective.hessian(theta)
    assert inert.size == 4 and not np.any(H[inert]) and not np.any(H[:, inert])
    assert np.any(H[np.setdiff1d(np.arange(net.n_params), inert)], axis=1).all()
    values, top, converged = smallest_eigenvalues(objective, theta, 8, inert=inert)
    dense = np.linalg.eigvalsh(H)
    assert converged and np.max(np.abs(values - dense[:8])) <= 1e-8 * dense[-1]
