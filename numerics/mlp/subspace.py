"""The loss landscape seen through a 2D plane: minimise the loss over everything orthogonal to it.

Given a reference point and two directions, every point ``ref + a1 v1^ + a2 v2^`` of the plane is
paired with the lowest loss reachable by moving only orthogonally to the plane.  Plotted over a grid,
this "minimum-loss landscape" shows whether two minima are connected by a low path (as in
MLPGradientFlow.jl's ``subspace_minloss``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from gradflow.numerics.errors import DivergenceError
from gradflow.theory.errors import require


@dataclass(frozen=True)
class LinearSubspace:
    """The plane through ``ref`` spanned by ``v1`` and ``v2``.

    ``u1``, ``u2`` are an orthonormal basis of the plane (``u1 = v1/|v1|``; ``u2`` is ``v2``
    orthogonalised against it); ``complement`` has orthonormal columns spanning the ``P - 2``
    directions orthogonal to the plane.
    """

    ref: np.ndarray
    u1: np.ndarray
    u2: np.ndarray
    complement: np.ndarray

    def __init__(self, ref, v1, v2):
        ref, v1, v2 = (np.asarray(x, dtype=float) for x in (ref, v1, v2))
        require(ref.ndim == 1 and ref.size >= 3, "ref", "a vector of at least 3 parameters", ref.shape)
        for name, v in (("v1", v1), ("v2", v2)):
            require(v.shape == ref.shape, name, f"a vector of length {ref.size}", v.shape)
            require(bool(np.all(np.isfinite(v))), name, "finite", v)
        require(bool(np.all(np.isfinite(ref))), "ref", "finite", ref)
        u1 = v1 / np.linalg.norm(v1) if np.linalg.norm(v1) > 0 else None
        require(u1 is not None, "v1", "a non-zero vector", v1)
        w2 = v2 - (u1 @ v2) * u1
        require(np.linalg.norm(w2) > 1e-12 * max(np.linalg.norm(v2), 1e-300), "v2",
                "linearly independent of v1", v2)
        u2 = w2 / np.linalg.norm(w2)
        # A complete QR of [u1 u2 | I] starts with the plane's basis; its other columns are the complement.
        q, _ = np.linalg.qr(np.column_stack([u1, u2, np.eye(ref.size)]), mode="complete")
        complement = np.ascontiguousarray(q[:, 2:])
        for name, value in (("ref", ref), ("u1", u1), ("u2", u2), ("complement", complement)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def n_params(self) -> int:
        return self.ref.size

    def point(self, a1: float, a2: float) -> np.ndarray:
        """``ref + a1 u1 + a2 u2``."""
        return self.ref + a1 * self.u1 + a2 * self.u2

    def local_coords(self, theta) -> tuple[float, float]:
        """The plane coordinates ``(a1, a2)`` of the orthogonal projection of ``theta``."""
        d = np.asarray(theta, dtype=float) - self.ref
        return float(self.u1 @ d), float(self.u2 @ d)


@dataclass(frozen=True)
class SubspaceMinimum:
    """The lowest loss found orthogonally to the plane at ``(a1, a2)``: ``point`` attains it, and
    ``delta_loss`` = loss at the plane point itself minus ``loss`` (>= 0)."""

    a1: float
    a2: float
    loss: float
    point: np.ndarray
    delta_loss: float
    coords: np.ndarray  # coordinates of ``point - plane point`` in the complement basis


def _minimise(objective, subspace, base, x0, gtol, maxiter):
    basis = subspace.complement

    def fun(x):
        loss, grad = objective.loss_and_gradient(base + basis @ x)
        if not np.isfinite(loss):
            raise DivergenceError(0, "subspace loss", "non-finite loss during the minimisation")
        return loss, basis.T @ grad

    sol = scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                                  options={"gtol": gtol, "ftol": 0.0, "maxiter": maxiter})
    return float(sol.fun), np.asarray(sol.x)


def subspace_minloss(objective, subspace: LinearSubspace, a1: float, a2: float, *,
                     n_restarts: int | None = None, sigma: float = 1e-2, seed=None,
                     starts=(), gtol: float = 1e-8, maxiter: int = 1000,
                     fine_gtol: float = 1e-12, fine_maxiter: int = 10000) -> SubspaceMinimum:
    """Minimise ``objective`` over ``plane point + span(complement)`` at ``(a1, a2)``.

    L-BFGS runs from ``n_restarts`` starts (default ``3 (P - 2)``), alternating Gaussian perturbations
    of scale ``sigma`` around the plane point itself and around the projection of the origin onto
    the constrained set; extra ``starts`` (complement coordinates) are tried too.  The best result
    is then fine-tuned with a tight gradient tolerance.
    """
    require(np.isfinite(a1), "a1", "finite", a1)
    require(np.isfinite(a2), "a2", "finite", a2)
    require(sigma >= 0 and np.isfinite(sigma), "sigma", "finite and >= 0", sigma)
    require(objective.n_params == subspace.n_params, "objective",
            f"an objective on {subspace.n_params} parameters", objective.n_params)
    dim = subspace.n_params - 2
    n_restarts = 3 * dim if n_restarts is None else n_restarts
    require(isinstance(n_restarts, (int, np.integer)) and n_restarts >= 1, "n_restarts",
            "a positive integer", n_restarts)
    rng = np.random.default_rng(seed)
    base = subspace.point(a1, a2)
    origin = -(subspace.complement.T @ base)  # coordinates of the origin's projection
    candidates = [np.asarray(s, dtype=float) for s in starts]
    for start in candidates:
        require(start.shape == (dim,), "starts", f"complement coordinates of length {dim}", start.shape)
    for k in range(n_restarts):
        centre = np.zeros(dim) if k % 2 == 0 else origin
        candidates.append(centre + sigma * rng.standard_normal(dim))
    best_loss, best_x = np.inf, None
    for x0 in candidates:
        loss, x = _minimise(objective, subspace, base, x0, gtol, maxiter)
        if loss < best_loss:
            best_loss, best_x = loss, x
    best_loss, best_x = _minimise(objective, subspace, base, best_x, fine_gtol, fine_maxiter)
    plane_loss = float(objective.loss(base))
    point = base + subspace.complement @ best_x
    return SubspaceMinimum(a1=float(a1), a2=float(a2), loss=best_loss, point=point,
                           delta_loss=plane_loss - best_loss, coords=best_x)


@dataclass(frozen=True)
class SubspaceLandscape:
    """``loss[i, j]`` and ``delta_loss[i, j]`` at ``(grid1[i], grid2[j])``; ``points[i, j]`` attains it."""

    grid1: np.ndarray
    grid2: np.ndarray
    loss: np.ndarray
    delta_loss: np.ndarray
    points: np.ndarray


def subspace_minloss_on_grid(objective, subspace: LinearSubspace, grid1, grid2, *,
                             n_restarts: int | None = None, n_nearby: int = 3,
                             sigma: float = 1e-2, seed=None, **options) -> SubspaceLandscape:
    """:func:`subspace_minloss` at every ``(grid1[i], grid2[j])``, each also started from the
    solutions at the ``n_nearby`` nearest grid points already solved; then one pass in reverse
    order restarts every point from its nearest neighbours again and keeps any improvement."""
    grid1 = np.asarray(grid1, dtype=float)
    grid2 = np.asarray(grid2, dtype=float)
    for name, g in (("grid1", grid1), ("grid2", grid2)):
        require(g.ndim == 1 and g.size >= 1 and bool(np.all(np.isfinite(g))), name,
                "a non-empty finite 1D array", g)
    rng = np.random.default_rng(seed)
    order = [(i, j) for i in range(grid1.size) for j in range(grid2.size)]
    solved: dict[tuple[int, int], SubspaceMinimum] = {}

    def nearby(i, j):
        here = np.array([grid1[i], grid2[j]])
        keys = sorted((k for k in solved if k != (i, j)),
                      key=lambda k: np.sum((np.array([grid1[k[0]], grid2[k[1]]]) - here) ** 2))
        return [solved[k].coords for k in keys[:n_nearby]]

    for i, j in order:
        solved[i, j] = subspace_minloss(objective, subspace, grid1[i], grid2[j], n_restarts=n_restarts,
                                        sigma=sigma, seed=rng, starts=nearby(i, j), **options)
    for i, j in reversed(order):
        again = subspace_minloss(objective, subspace, grid1[i], grid2[j], n_restarts=1, sigma=0.0,
                                 seed=rng, starts=nearby(i, j), **options)
        if again.loss < solved[i, j].loss:
            solved[i, j] = again
    shape = (grid1.size, grid2.size)
    return SubspaceLandscape(
        grid1=grid1, grid2=grid2,
        loss=np.array([solved[k].loss for k in order]).reshape(shape),
        delta_loss=np.array([solved[k].delta_loss for k in order]).reshape(shape),
        points=np.array([solved[k].point for k in order]).reshape(shape + (subspace.n_params,)))


__all__ = ["LinearSubspace", "SubspaceMinimum", "SubspaceLandscape", "subspace_minloss",
           "subspace_minloss_on_grid"]
