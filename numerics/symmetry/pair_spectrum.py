"""The Hessian at a permutation point of a network too large for a dense Hessian, from products H v.

- the smallest eigenvalues by Lanczos (scipy's eigsh, 'SA') on Hessian-vector products, the largest
  one likewise: negative eigenvalues count below -tol * lambda_max.  Lanczos runs on H + lambda_max I
  (same Krylov spaces, same eigenvectors): ARPACK's stopping test is relative to |eigenvalue|, which
  a zero eigenvalue of H (there is one at every permutation point) could never pass;
- the antisymmetric block A^T H A exactly, from n_{k+1} + n_{k-1} [+1] products: its zero
  eigenvalues (the plateau's flat directions among them) at two tolerances;
- the plateau matrix B and its rank (plain NumPy backprop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from gradflow.numerics.symmetry.anti_block import antisymmetric_hessian
from gradflow.numerics.symmetry.backprop import plateau_matrix

ZERO_TOLERANCES = (1e-9, 1e-6)  # |lambda| <= tol * lambda_max counts as zero


@dataclass(frozen=True)
class PairSpectrum:
    smallest: np.ndarray  # the k smallest Hessian eigenvalues (Lanczos), ascending
    largest: float  # lambda_max (Lanczos)
    lanczos_converged: bool  # False: ``smallest`` holds only the eigenvalues ARPACK converged
    negative_count: int  # among ``smallest``: below -1e-9 lambda_max (a lower bound if all k are negative)
    anti_eigenvalues: np.ndarray  # of the antisymmetric block, ascending
    anti_zero_counts: dict  # tolerance -> count of |lambda| <= tolerance * lambda_max in that block
    anti_negative_count: int
    rank_B: int
    B_singular_values: np.ndarray
    n_next: int


def inert_parameters(net, X) -> np.ndarray:
    """Positions of first-layer weights on inputs that are zero in every sample: the loss does not
    depend on them, so their rows and columns of H vanish exactly (each one an exact zero eigenvalue)."""
    X = np.asarray(X, dtype=float)
    dead = np.flatnonzero(np.all(X == 0.0, axis=0))
    _, cols = net.shapes[0]
    return np.sort((net.offsets[0] + np.arange(net.layers[0].width)[:, None] * cols + dead[None, :]).ravel())


def _operator(objective, theta, shift: float, keep: np.ndarray) -> LinearOperator:
    """H + shift I on the coordinates ``keep`` (the others held at zero)."""
    P = objective.n_params
    full = np.zeros(P)

    def matvec(v):
        full[keep] = np.ravel(v)
        return objective.hessian_vector(theta, full)[keep] + shift * np.ravel(v)

    return LinearOperator((keep.size, keep.size), matvec=matvec, dtype=float)


def smallest_eigenvalues(objective, theta, k: int = 20, *, inert=(), tol: float = 1e-12, maxiter: int = 300):
    """(the k smallest eigenvalues ascending, lambda_max, converged): Lanczos on H + lambda_max I with
    the ``inert`` coordinates (exact zero rows of H, see :func:`inert_parameters`) left out, their
    zeros put back; when ARPACK stops early, the eigenvalues it did converge (``converged`` False)."""
    theta = np.asarray(theta, dtype=float)
    inert = np.asarray(inert, dtype=int)
    keep = np.setdiff1d(np.arange(objective.n_params), inert)
    start = np.random.default_rng(0).normal(size=keep.size)  # fixed: the same answer every time
    top = float(eigsh(_operator(objective, theta, 0.0, keep), k=1, which="LA", v0=start,
                      return_eigenvectors=False)[0])
    try:
        values = eigsh(_operator(objective, theta, top, keep), k=k, which="SA", v0=start, tol=tol, maxiter=maxiter,
                       ncv=min(keep.size - 1, max(2 * k + 1, 60)), return_eigenvectors=False)
        converged = True
    except ArpackNoConvergence as partial:
        values, converged = partial.eigenvalues, False
    values = np.concatenate([np.asarray(values) - top, np.zeros(inert.size)])
    return np.sort(values)[:k], top, converged


def pair_spectrum(objective, theta_P, layer: int, i: int, j: int, k: int = 20, maxiter: int = 300) -> PairSpectrum:
    """The spectrum report of the permutation point ``theta_P`` of neurons i, j of hidden ``layer``
    (first-layer weights on inputs that are zero in every sample are left out of Lanczos: exact zeros)."""
    theta_P = np.asarray(theta_P, dtype=float)
    inert = inert_parameters(objective.network, objective.samples.X)
    low, top, converged = smallest_eigenvalues(objective, theta_P, k, inert=inert, maxiter=maxiter)
    anti = np.linalg.eigvalsh(antisymmetric_hessian(objective, theta_P, layer, i, j))
    pm = plateau_matrix(objective, theta_P, layer, i)
    return PairSpectrum(
        smallest=low, largest=top, lanczos_converged=converged,
        negative_count=int(np.sum(low < -ZERO_TOLERANCES[0] * top)), anti_eigenvalues=anti,
        anti_zero_counts={tol: int(np.sum(np.abs(anti) <= tol * top)) for tol in ZERO_TOLERANCES},
        anti_negative_count=int(np.sum(anti < -ZERO_TOLERANCES[0] * top)), rank_B=pm.rank,
        B_singular_values=pm.singular_values, n_next=objective.network.layers[layer].width)


__all__ = ["PairSpectrum", "ZERO_TOLERANCES", "inert_parameters", "pair_spectrum", "smallest_eigenvalues"]
