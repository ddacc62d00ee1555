import numpy as np
import pytest

from gradflow.numerics.symmetry import antisymmetric_basis, permutation_point, symmetric_basis, transposition
from gradflow.numerics.mlp.embeddings import split_neuron

from .cases import case

SIZES = [(2, 3, 1), (3, 3, 2)]


@pytest.mark.parametrize("sizes", SIZES)
def test_duplicated_clean_point_is_critical_at_the_reduced_loss(sizes):
    c = case(sizes)
    loss, grad = c.objective.loss_and_gradient(c.theta_P)
    assert np.linalg.norm(grad) <= 1e-12
    assert abs(loss - c.loss_red) <= 1e-14 * c.loss_red
    assert c.j == c.wide.layers[0].width - 1
    perm = transposition(c.wide, 1, c.i, c.j)
    assert np.array_equal(c.theta_P[perm], c.theta_P)  # in the collision subspace


@pytest.mark.parametrize("sizes", SIZES)
def test_bases_split_parameter_space(sizes):
    c = case(sizes)
    A = antisymmetric_basis(c.wide, 1, c.i, c.j)
    S = symmetric_basis(c.wide, 1, c.i, c.j)
    P = np.eye(c.wide.n_params)[transposition(c.wide, 1, c.i, c.j)]
    n_next, n_in = c.wide.layers[1].width, c.wide.shapes[0][1]
    assert A.shape[1] == n_next + n_in and S.shape[1] + A.shape[1] == c.wide.n_params
    Q = np.hstack([S, A])
    assert np.allclose(Q.T @ Q, np.eye(c.wide.n_params), atol=1e-15)
    assert np.allclose(P @ A, -A) and np.allclose(P @ S, S)


@pytest.mark.parametrize("sizes", SIZES)
def test_hessian_is_block_diagonal_and_its_symmetric_block_is_the_reduced_hessian(sizes):
    c = case(sizes)
    H = c.objective.hessian(c.theta_P)
    A = antisymmetric_basis(c.wide, 1, c.i, c.j)
    S = symmetric_basis(c.wide, 1, c.i, c.j)
    scale = np.max(np.abs(H))
    assert np.max(np.abs(S.T @ H @ A)) <= 1e-12 * scale
    # duplication is linear: theta_P = D theta_red, so H_red = D^T H(theta_P) D (the congruence)
    P_red = c.reduced.n_params
    D = np.column_stack([split_neuron(c.reduced, e, 1, c.i, 0.5)[1] for e in np.eye(P_red)])
    assert np.allclose(D @ c.theta_red, c.theta_P, rtol=0, atol=1e-15)
    H_red = c.objective_red.hessian(c.theta_red)
    assert np.max(np.abs(D.T @ H @ D - H_red)) <= 1e-12 * scale
    # the plateau block of H_anti (the e-e block) vanishes
    n_next = c.wide.layers[1].width
    assert np.max(np.abs(A[:, :n_next].T @ H @ A[:, :n_next])) <= 1e-12 * scale


def test_permutation_point_validates():
    c = case((2, 3, 1))
    with pytest.raises(ValueError, match="layer"):
        permutation_point(c.reduced, c.theta_red, 2, 0)
    with pytest.raises(ValueError, match="i: must be"):
        permutation_point(c.reduced, c.theta_red, 1, 5)
