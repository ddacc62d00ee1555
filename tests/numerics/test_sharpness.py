"""Sharpness from the generated HVP: dense and Lanczos agree with the Kronecker formula."""

import numpy as np
import pytest
from scipy.special import softmax

from gradflow.derivations.associative_memory.instances import memory_instance
from gradflow.derivations.associative_memory.simulators import weight_space_simulator
from gradflow.numerics.sharpness import dense_hessian, sharpness


def kronecker_hessian(W, E, U, p):
    """sum_x p(x) (e_x e_x^T) kron (U^T (diag(pi_x) - pi_x pi_x^T) U), on vec(W) row-major."""
    S = E @ W.T @ U.T
    pi = softmax(S, axis=1)
    d = W.shape[0]
    H = np.zeros((d * d, d * d))
    for x in range(E.shape[0]):
        inner = U.T @ (np.diag(pi[x]) - np.outer(pi[x], pi[x])) @ U
        H += p[x] * np.kron(inner, np.outer(E[x], E[x]))
    return H


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_hessian_equals_kronecker_formula(seed):
    rng = np.random.default_rng(seed)
    p = rng.random(5) + 0.1
    p /= p.sum()
    inst = memory_instance(5, 4, 3, p, seed, orthogonal=False, W0="random")
    H = dense_hessian(weight_space_simulator(), inst.W0, inst.data)
    np.testing.assert_allclose(H, kronecker_hessian(inst.W0, inst.E, inst.U, p), atol=1e-13)
    assert np.linalg.eigvalsh(H)[0] > -1e-12  # PSD


def test_lanczos_matches_dense_and_orthogonal_value_at_zero():
    rng = np.random.default_rng(3)
    p = rng.random(12) + 0.1
    p /= p.sum()
    inst = memory_instance(12, 6, 9, p, 3, orthogonal=False, W0="random")
    sim = weight_space_simulator()
    assert sharpness(sim, inst.W0, inst.data, "lanczos") == pytest.approx(sharpness(sim, inst.W0, inst.data, "dense"),
                                                                           rel=1e-8)
    # orthonormal embeddings, W = 0: sharpness = max_x p(x) / M
    ortho = memory_instance(4, 5, 6, np.array([0.4, 0.3, 0.2, 0.1]), 0, orthogonal=True)
    assert sharpness(sim, ortho.W0, ortho.data) == pytest.approx(0.4 / 5, rel=1e-12)
