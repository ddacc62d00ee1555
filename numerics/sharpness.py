"""Sharpness (top Hessian eigenvalue) from the generated Hessian-vector product.

Small problems form the dense d^2 x d^2 Hessian column by column; large ones never form it and
use Lanczos (scipy's eigsh) on a LinearOperator.  Both only call the generated HVP kernel.
"""

from __future__ import annotations

import numpy as np

from gradflow.theory.errors import require

from gradflow.numerics.drivers.particles import ParticleSimulator

DENSE_LIMIT = 400  # parameters; above this the Hessian is never formed


def dense_hessian(sim: ParticleSimulator, state, data: dict) -> np.ndarray:
    """The full Hessian in the flattened (row-major) parameter, symmetrised."""
    state = np.asarray(state, dtype=float)
    n = state.size
    H = np.empty((n, n))
    basis = np.zeros(n)
    for k in range(n):
        basis[k] = 1.0
        H[:, k] = sim.hessian_vector_product(state, basis.reshape(state.shape), data).ravel()
        basis[k] = 0.0
    return 0.5 * (H + H.T)


def sharpness(sim: ParticleSimulator, state, data: dict, method: str = "auto", tol: float = 1e-10,
              seed: int = 0) -> float:
    """Largest Hessian eigenvalue at ``state``: 'dense', 'lanczos' or 'auto' (by size)."""
    require(method in ("auto", "dense", "lanczos"), "method", "one of auto, dense, lanczos", method)
    state = np.asarray(state, dtype=float)
    n = state.size
    if method == "dense" or (method == "auto" and n <= DENSE_LIMIT):
        return float(np.linalg.eigvalsh(dense_hessian(sim, state, data))[-1])
    require(n >= 3, "state", "at least 3 parameters for Lanczos (use method='dense')", n)

    def matvec(v):
        return sim.hessian_vector_product(state, np.ascontiguousarray(v.reshape(state.shape)), data).ravel()

    from scipy.sparse.linalg import LinearOperator, eigsh  # imported when needed: 0.25 s at start

    operator = LinearOperator((n, n), matvec=matvec, dtype=float)
    start = np.random.default_rng(seed).standard_normal(n)
    value = eigsh(operator, k=1, which="LA", tol=tol, v0=start, return_eigenvectors=False)
    return float(value[0])
