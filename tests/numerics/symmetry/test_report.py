import numpy as np
import pytest

from gradflow.numerics.symmetry import (PermutationPointReport, analyse_permutation_point, antisymmetric_basis,
                                        antisymmetric_hessian,
                                        permutation_point_report, plateau_matrix, symmetric_basis)

from .cases import case

CASES = [((2, 3, 1), s) for s in range(3)] + [((3, 3, 2), s) for s in range(3)]


@pytest.mark.parametrize("sizes, seed", CASES)
def test_zero_count_is_n_next_minus_rank_B(sizes, seed):
    c = case(sizes, seed)
    report = analyse_permutation_point(c.objective, c.theta_P, 1, c.i, c.j, c.loss_red)
    n_next = sizes[2]
    assert report.grad_norm <= 1e-12
    assert report.zero_count == report.predicted_zero_count == n_next - report.rank_B >= 1
    assert report.paper_claim_holds == (report.rank_B == 0)
    assert report.paper_bound == n_next and report.P == c.wide.n_params
    assert report.plateau_max_dev <= 1e-12 and report.plateau_grad_error <= 1e-10
    # the kernel spans the plateau directions e with B^T e = 0: independent of the eigenvalue count
    H = c.objective.hessian(c.theta_P)
    A = antisymmetric_basis(c.wide, 1, c.i, c.j)
    B = plateau_matrix(c.objective, c.theta_P, 1, c.i).B
    U, singular, _ = np.linalg.svd(B)
    small = np.concatenate([singular, np.zeros(n_next - singular.size)]) <= 1e-8 * np.max(np.abs(H))
    kernel = A[:, :n_next] @ U[:, small]
    assert kernel.shape[1] == report.zero_count
    assert np.max(np.abs(H @ kernel)) <= 1e-10 * np.max(np.abs(H))


@pytest.mark.parametrize("sizes, seed", CASES)
def test_negative_directions_are_antisymmetric(sizes, seed):
    c = case(sizes, seed)
    report = analyse_permutation_point(c.objective, c.theta_P, 1, c.i, c.j, c.loss_red)
    assert report.max_antisym_residual <= 1e-8
    assert report.negative_count >= report.rank_B
    # independently: the symmetric block is positive definite, so all negatives sit in the anti block
    H = c.objective.hessian(c.theta_P)
    S = symmetric_basis(c.wide, 1, c.i, c.j)
    A = antisymmetric_basis(c.wide, 1, c.i, c.j)
    sym, anti = np.linalg.eigvalsh(S.T @ H @ S), np.linalg.eigvalsh(A.T @ H @ A)
    scale = np.max(np.abs(np.linalg.eigvalsh(H)))
    assert sym[0] > 1e-9 * scale
    assert int(np.sum(anti < -1e-9 * scale)) == report.negative_count


def test_three_by_three_by_two_breaks_the_claimed_bound():
    """A two-output net at non-zero residual: rank B = 1, one zero eigenvalue, not two."""
    report = permutation_point_report([3, 3, 2], 0, n_samples=120, restarts=6)
    assert isinstance(report, PermutationPointReport)
    assert report.L_red > 1e-4
    assert (report.rank_B, report.zero_count, report.paper_claim_holds) == (1, 1, False)
    assert report.spectral_gap > 6 and report.hessian_check <= 1e-12
    d = report.to_dict()
    for key in ("sizes", "P", "n_next", "L_red", "grad_norm", "zero_count", "negative_count", "rank_B",
                "B_singular_values", "predicted_zero_count", "paper_bound", "paper_claim_holds", "spectral_gap",
                "max_antisym_residual", "plateau_max_dev", "plateau_grad_error"):
        assert key in d
    assert d["sizes"] == [3, 3, 2] and len(d["B_singular_values"]) == 2


@pytest.mark.parametrize("sizes, layer", [((2, 3, 3, 1), 1), ((2, 3, 3, 1), 2), ((2, 3, 4, 2), 2)])
def test_deep_nets_follow_the_same_count(sizes, layer):
    """Two hidden layers: the error delta is back-propagated through the layer after the pair."""
    c = case(sizes, layer=layer)
    report = analyse_permutation_point(c.objective, c.theta_P, layer, c.i, c.j, c.loss_red)
    n_next = sizes[layer + 1]
    assert report.n_next == n_next and report.grad_norm <= 1e-12
    assert report.zero_count == n_next - report.rank_B >= 1
    assert report.paper_claim_holds == (report.rank_B == 0)
    assert report.max_antisym_residual <= 1e-8 and report.negative_count >= report.rank_B
    assert report.plateau_max_dev <= 1e-12 and report.plateau_grad_error <= 1e-10


@pytest.mark.parametrize("sizes", [(3, 3, 2), (2, 3, 4)])
def test_antisymmetric_block_from_products_is_the_dense_block(sizes):
    c = case(sizes)
    H = c.objective.hessian(c.theta_P)
    A = antisymmetric_basis(c.wide, 1, c.i, c.j)
    block = antisymmetric_hessian(c.objective, c.theta_P, 1, c.i, c.j)
    assert np.max(np.abs(block - A.T @ H @ A)) <= 1e-12 * np.max(np.abs(H))
    # its e-q corner is B (c = 1 in this orthonormal basis) and its e-e corner vanishes
    n_next = sizes[2]
    B = plateau_matrix(c.objective, c.theta_P, 1, c.i).B
    assert np.max(np.abs(block[:n_next, n_next:] - B)) <= 1e-10 * max(1.0, np.max(np.abs(B)))
    assert np.max(np.abs(block[:n_next, :n_next])) <= 1e-12 * np.max(np.abs(H))


def test_plateau_profile_is_flat_in_loss_and_linear_in_the_gradient():
    from gradflow.numerics.symmetry import permutation_point_report

    r = permutation_point_report((3, 3, 2), seed=0, n_samples=120, restarts=6)
    s, dev, grad = (np.asarray(part) for part in r.plateau_profile)
    assert s.size == 21 and np.max(np.abs(dev)) <= 1e-12
    # along the top left singular vector d of B the gradient is (B^T e, -B^T e): |grad| = sqrt(2) sigma_1 |s|
    expected = np.sqrt(2.0) * r.B_singular_values[0] * np.abs(s)
    assert np.max(np.abs(grad - expected)) <= 1e-10 * max(1.0, expected.max()) and expected.max() > 1e-3
    assert r.hessian_check is not None and r.hessian_check <= 1e-10
