"""A loss restricted to an affine subspace theta = offset + basis y (orthonormal basis): itself an
objective in y, so BFGS and Newton (``critical_point``) work inside collision subspaces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AffineRestriction:
    objective: object
    basis: np.ndarray  # (P, q), orthonormal columns
    offset: np.ndarray  # (P,)

    @property
    def n_params(self) -> int:
        return self.basis.shape[1]

    @property
    def n_samples(self) -> int:
        return self.objective.n_samples

    def point(self, y) -> np.ndarray:
        return self.offset + self.basis @ np.asarray(y, dtype=float)

    def coordinates(self, theta) -> np.ndarray:
        return self.basis.T @ (np.asarray(theta, dtype=float) - self.offset)

    def loss(self, y) -> float:
        return self.objective.loss(self.point(y))

    def loss_and_gradient(self, y):
        loss, grad = self.objective.loss_and_gradient(self.point(y))
        return loss, self.basis.T @ grad

    def hessian(self, y) -> np.ndarray:
        return self.basis.T @ self.objective.hessian(self.point(y)) @ self.basis

    def hessian_vector(self, y, v) -> np.ndarray:
        return self.basis.T @ self.objective.hessian_vector(self.point(y), self.basis @ np.asarray(v, dtype=float))


__all__ = ["AffineRestriction"]
