"""Eigenvalues of a loss Hessian: dense ``eigh``, or the extreme ones by Lanczos on H v products."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import require

DENSE_LIMIT = 2000  # above this many parameters the dense Hessian is not formed by default


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues in ascending order and, for each, a unit eigenvector (columns)."""

    values: np.ndarray
    vectors: np.ndarray
    method: str  # "dense" or "lanczos"

    @property
    def smallest(self) -> float:
        return float(self.values[0])

    @property
    def largest(self) -> float:
        return float(self.values[-1])


def hessian_operator(objective, theta):
    """H(theta) as a SciPy LinearOperator: one Hessian-vector product per application, no dense H."""
    from scipy.sparse.linalg import LinearOperator

    theta = np.asarray(theta, dtype=float)
    P = objective.n_params
    return LinearOperator((P, P), matvec=lambda v: objective.hessian_vector(theta, np.ravel(v)), dtype=float)


def hessian_spectrum(objective, theta, k: int | None = None, which: str = "both") -> Spectrum:
    """The Hessian's spectrum at ``theta``: all of it (dense, when ``k`` is None and P <= DENSE_LIMIT),
    or ``k`` extreme eigenpairs by Lanczos (scipy's eigsh) on Hessian-vector products:
    ``which`` = "both" (k/2 smallest algebraic and k - k/2 largest), "smallest" or "largest"."""
    P = objective.n_params
    require(k is None or (isinstance(k, (int, np.integer)) and 1 <= k < P), "k", f"an integer in [1, {P - 1}]", k)
    require(which in ("both", "smallest", "largest"), "which", "one of both, smallest, largest", which)
    theta = np.asarray(theta, dtype=float)
    if k is None:
        require(P <= DENSE_LIMIT, "k", f"given when P = {P} > {DENSE_LIMIT} (no dense Hessian that large)")
        values, vectors = np.linalg.eigh(objective.hessian(theta))
        return Spectrum(values, vectors, "dense")
    from scipy.sparse.linalg import eigsh

    operator = hessian_operator(objective, theta)
    rng = np.random.default_rng(0)  # a fixed start vector: the same answer every time
    start = rng.normal(size=P)
    parts = []
    if which in ("both", "smallest"):
        count = k if which == "smallest" else k // 2
        if count:
            parts.append(eigsh(operator, k=count, which="SA", v0=start))
    if which in ("both", "largest"):
        count = k if which == "largest" else k - k // 2
        parts.append(eigsh(operator, k=count, which="LA", v0=start))
    values = np.concatenate([p[0] for p in parts])
    vectors = np.concatenate([p[1] for p in parts], axis=1)
    order = np.argsort(values)
    return Spectrum(values[order], vectors[:, order], "lanczos")
