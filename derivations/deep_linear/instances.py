"""A numeric instance of the two-layer network: C = U diag(sigma) V^T on random orthonormal frames,
and the small start W1 = R diag(a0) V^T, W2 = U diag(b0) R^T in its mode form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import require


@dataclass(frozen=True)
class ModeProblem:
    """C = U diag(sigma) V^T and the initialisation (W1, W2) built on frame R."""

    sigma: np.ndarray
    s0: float
    C: np.ndarray
    U: np.ndarray
    V: np.ndarray
    R: np.ndarray
    W1: np.ndarray
    W2: np.ndarray

    @property
    def data(self) -> dict:
        """Arrays by the names the generated kernel uses."""
        return {"C": self.C, "U": self.U, "V": self.V}

    @property
    def initial(self) -> tuple:
        return (self.W1, self.W2)


def orthonormal_columns(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    """First ``columns`` columns of a Haar-random orthogonal rows x rows matrix."""
    q, r = np.linalg.qr(rng.standard_normal((rows, rows)))
    q = q * np.sign(np.diag(r))  # sign fix makes Q Haar-distributed
    return np.ascontiguousarray(q[:, :columns])


def mode_problem(n_in: int, hidden: int, n_out: int, sigma, s0: float, seed: int,
                 imbalance: float = 1.0) -> ModeProblem:
    """Balanced (imbalance = 1) or unbalanced start a = imbalance sqrt(s0), b = sqrt(s0)/imbalance.

    The sizes, sigma and s0 are settings the entry validated (parameters.require_consistent)."""
    require(np.isfinite(imbalance) and imbalance > 0, "imbalance", "a finite number > 0", imbalance)
    sigma = np.asarray(sigma, dtype=float)
    k = sigma.size
    rng = np.random.default_rng(seed)
    U, V, R = orthonormal_columns(rng, n_out, k), orthonormal_columns(rng, n_in, k), orthonormal_columns(rng, hidden, k)
    a0 = np.full(k, np.sqrt(s0) * imbalance)
    b0 = np.full(k, np.sqrt(s0) / imbalance)
    W1 = np.ascontiguousarray(R @ np.diag(a0) @ V.T)
    W2 = np.ascontiguousarray(U @ np.diag(b0) @ R.T)
    return ModeProblem(sigma, float(s0), np.ascontiguousarray(U @ np.diag(sigma) @ V.T), U, V, R, W1, W2)
