"""A path from a minimum theta* to its mirror image P_ij theta* through the midpoint of the two.

m_ij = (theta* + P_ij theta*) / 2 lies in the collision subspace S_ij = Fix(P_ij) (it is its own
mirror image).  The path runs along the straight segment theta* -> m_ij, then descends inside S_ij
(BFGS on the restricted loss, a stand-in for the gradient flow there: the loss only decreases) to a
minimum of L on S_ij, which is a permutation point theta_P; mirroring the first half by P_ij leads on
to P_ij theta*.  Its highest loss is on the segment, so the barrier is max over the segment minus
L(theta*).  Only gradients and Hessian-vector products are used: it works for networks whose dense
Hessian is too large to form at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.numerics.mlp.training.dense_bfgs import bfgs
from gradflow.numerics.mlp.training.termination import Limits, Tracker
from gradflow.numerics.symmetry.collision import symmetric_basis
from gradflow.numerics.symmetry.krylov_newton import krylov_newton
from gradflow.numerics.symmetry.neurons import transposition
from gradflow.numerics.symmetry.restriction import AffineRestriction
from gradflow.theory.errors import require


@dataclass(frozen=True)
class MidpointPath:
    segment_losses: np.ndarray  # L on theta* -> m_ij (n_segment points, both ends included)
    descent_losses: np.ndarray  # lowest L so far at each BFGS evaluation inside S_ij (m_ij first), then L(theta_P)
    theta_P: np.ndarray
    loss_P: float
    grad_norm_P: float  # |grad L(theta_P)|_2, the full gradient
    descent_iterations: int

    @property
    def barrier(self) -> float:
        """Highest loss on the path above L(theta*)."""
        return float(max(self.segment_losses.max(), self.descent_losses.max()) - self.segment_losses[0])

    @property
    def profile(self) -> np.ndarray:
        """The losses along theta* -> m_ij -> theta_P, then the mirrored half back out to P_ij theta*."""
        half = np.concatenate([self.segment_losses, self.descent_losses[1:]])
        return np.concatenate([half, half[-2::-1]])


def midpoint_path(objective, theta_star, layer: int, i: int, j: int, *, n_segment: int = 21,
                  gtol: float = 1e-10, max_iterations: int = 20_000, max_seconds: float = 600.0,
                  newton_steps: int = 30) -> MidpointPath:
    """The path of neurons i, j of hidden ``layer``; ``gtol`` is the aim of the Newton polish at the
    end (at most ``newton_steps`` steps; the achieved |grad| is reported, not enforced)."""
    require(isinstance(n_segment, (int, np.integer)) and n_segment >= 2, "n_segment", "an integer >= 2", n_segment)
    net = objective.network
    theta_star = np.asarray(theta_star, dtype=float)
    mid = 0.5 * (theta_star + theta_star[transposition(net, layer, i, j)])
    t = np.linspace(0.0, 1.0, int(n_segment))[:, None]
    segment = objective.loss_ensemble((1.0 - t) * theta_star + t * mid)
    restricted = AffineRestriction(objective, symmetric_basis(net, layer, i, j), np.zeros(net.n_params))
    evaluated = []

    @dataclass(frozen=True)
    class _Recorded:  # the restricted loss, remembering every value BFGS asks for
        n_params: int = restricted.n_params

        def loss_and_gradient(self, y):
            loss, grad = restricted.loss_and_gradient(y)
            evaluated.append(loss)
            return loss, grad

    tracker = Tracker(Limits(maxtime=max_seconds, maxiterations=max_iterations, min_gnorm=0.1 * gtol))
    y = bfgs(_Recorded(), restricted.coordinates(mid), tracker)
    polished = krylov_newton(restricted, y, gtol, max_steps=newton_steps)
    theta_P = restricted.point(polished.theta)
    loss_P, grad_P = objective.loss_and_gradient(theta_P)
    # BFGS only accepts points that lower the loss: the running minimum is the loss along its iterates
    descent = np.append(np.minimum.accumulate(np.array(evaluated)), loss_P)
    return MidpointPath(np.asarray(segment), descent, theta_P, float(loss_P), float(np.linalg.norm(grad_P)),
                        tracker.iterations)


__all__ = ["MidpointPath", "midpoint_path"]
