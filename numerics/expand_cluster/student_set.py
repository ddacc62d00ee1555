"""A ranked set of trained students and how the clustering reads their layers.

``StudentSet`` holds N trained parameter vectors of one network, sorted by final loss (best first),
with what each run reported; ``layer_vectors(l)`` gives every neuron of hidden layer l as the
clustering wants it: incoming [w; b] (bias last) and outgoing weights (the column of W_{l+1}).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.numerics.expand_cluster.students import student_layer
from gradflow.theory.mlp import Network


def target_variance(Y) -> float:
    """Var(y): the per-output variance, averaged over outputs (the scale of 'zero loss')."""
    Y = np.asarray(Y, dtype=float)
    return float(np.mean(np.var(Y.reshape(len(Y), -1), axis=0)))


@dataclass(frozen=True)
class StudentSet:
    """N students of ``network``, best loss first; ``members`` are their indices before ranking."""

    network: Network
    thetas: np.ndarray  # (N, P)
    losses: np.ndarray  # (N,)
    gnorms: np.ndarray  # (N,)
    converged: np.ndarray  # (N,) bool: the trainer's own convergence flag
    members: np.ndarray  # (N,) int
    variance: float  # Var(y) of the targets they were trained on

    @classmethod
    def ranked(cls, network: Network, thetas, losses, gnorms, converged, members, variance: float) -> "StudentSet":
        losses = np.asarray(losses, dtype=float)
        order = np.argsort(losses, kind="stable")
        return cls(network, np.asarray(thetas, dtype=float)[order], losses[order],
                   np.asarray(gnorms, dtype=float)[order], np.asarray(converged, dtype=bool)[order],
                   np.asarray(members, dtype=int)[order], float(variance))

    @property
    def size(self) -> int:
        return len(self.losses)

    def zero_loss(self, epsilon: float = 1e-10) -> np.ndarray:
        """Which students reached L <= epsilon Var(y)."""
        return self.losses <= epsilon * self.variance

    def layer_vectors(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """Hidden layer ``layer`` (1-based): incoming (N, k, D + 1) [w; b] and outgoing (N, k, m)."""
        return student_layer(self.network, self.thetas, layer)

    def to_json(self, epsilon: float = 1e-10) -> list[dict]:
        zero = self.zero_loss(epsilon)
        return [{"member": int(m), "loss": float(l), "relative_loss": float(l / self.variance) if self.variance else None,
                 "gnorm": float(g), "converged": bool(c), "zero_loss": bool(z)}
                for m, l, g, c, z in zip(self.members, self.losses, self.gnorms, self.converged, zero)]
