"""A low path from a minimum theta* to its mirror image P_ij theta* through a permutation point.

The antisymmetric coordinates of theta* (its components along {P v = -v}: the differences
w_i - w_j and u_i - u_j) are shrunk to (1 - s) times their value, s = 0 .. 1, and the loss is
minimised over the rest at each s (continuation: each minimisation starts from the previous one).
At s = 1 the point lies in the collision subspace Fix(P_ij); polished there it is a permutation
point theta_P.  Mirroring the first half by P_ij gives the second: the path is symmetric, and its
highest loss is a barrier between theta* and P_ij theta* (not necessarily the lowest one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from gradflow.numerics.symmetry.collision import antisymmetric_basis, symmetric_basis
from gradflow.numerics.symmetry.critical import critical_point
from gradflow.numerics.symmetry.neurons import transposition
from gradflow.numerics.symmetry.restriction import AffineRestriction
from gradflow.theory.errors import require


@dataclass(frozen=True)
class CollisionPath:
    s: np.ndarray  # (n_steps,) shrink factors of the first half
    points: np.ndarray  # (2 n_steps - 1, P): theta* ... theta_P ... P_ij theta*
    losses: np.ndarray  # (2 n_steps - 1,)
    theta_P: np.ndarray
    loss_P: float
    grad_norm_P: float  # |grad L(theta_P)|_2 (full gradient)
    max_constrained_grad: float  # largest |restricted gradient| along the first half

    @property
    def barrier(self) -> float:
        """Highest loss along the path above the start."""
        return float(np.max(self.losses) - self.losses[0])


def collision_path(objective, theta_star, layer: int, i: int, j: int, n_steps: int = 41,
                   gtol: float = 1e-12, inner_gtol: float = 1e-10) -> CollisionPath:
    net = objective.network
    require(isinstance(n_steps, (int, np.integer)) and n_steps >= 2, "n_steps", "an integer >= 2", n_steps)
    theta_star = np.asarray(theta_star, dtype=float)
    A, S = antisymmetric_basis(net, layer, i, j), symmetric_basis(net, layer, i, j)
    c0, y = A.T @ theta_star, S.T @ theta_star
    s_values = np.linspace(0.0, 1.0, int(n_steps))
    points, worst = [], 0.0
    for s in s_values:
        restricted = AffineRestriction(objective, S, A @ ((1.0 - s) * c0))
        if s > 0:
            y = minimize(restricted.loss_and_gradient, y, jac=True, method="BFGS",
                         options={"gtol": inner_gtol, "maxiter": 10_000}).x
        if s == 1.0:
            y = critical_point(restricted, y, gtol, descend=False).theta
        else:
            worst = max(worst, float(np.linalg.norm(restricted.loss_and_gradient(y)[1])) if s > 0 else 0.0)
        points.append(restricted.point(y))
    points[0] = theta_star
    perm = transposition(net, layer, i, j)
    half = np.array(points)
    full = np.vstack([half, half[-2::-1][:, perm]])
    loss_P, grad_P = objective.loss_and_gradient(half[-1])
    return CollisionPath(s_values, full, np.asarray(objective.loss_ensemble(full)), half[-1], float(loss_P),
                         float(np.linalg.norm(grad_P)), worst)


__all__ = ["CollisionPath", "collision_path"]
