"""Binary memory instances: embeddings, labels in {0, 1}, frequencies and W_0, checked once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.derivations.associative_memory.instances import checked_probabilities, unit_rows, zipf_probabilities
from gradflow.derivations.binary_memory import geometry
from gradflow.theory.errors import require

WORKED_ANGLES = (-36.59, 0.716, 46.00)  # degrees: the worked instance's inputs on the unit circle
WORKED_LABELS = (0, 1, 0)
WORKED_WEIGHTS = (6.0, 3.0, 2.0)  # p = WORKED_WEIGHTS / 11


@dataclass(frozen=True)
class BinaryInstance:
    """E (N x d), U (2 x d), p, labels in {0, 1}, W_0 (d x d)."""

    E: np.ndarray
    U: np.ndarray
    p: np.ndarray
    labels: np.ndarray
    W0: np.ndarray

    def __post_init__(self):
        E = geometry.checked_embeddings(self.E)
        N, d = E.shape
        U = np.asarray(self.U, dtype=float)
        require(U.shape == (2, d), "U", f"a 2 x d array (d = {d})", U.shape)
        require(bool(np.all(np.isfinite(U))), "U", "finite numbers")
        require(float(np.sum((U[0] - U[1]) ** 2)) > 0, "U", "two distinct output embeddings (kappa > 0)")
        W0 = np.asarray(self.W0, dtype=float)
        require(W0.shape == (d, d), "W0", f"a d x d array (d = {d})", W0.shape)
        object.__setattr__(self, "E", E)
        object.__setattr__(self, "U", U)
        object.__setattr__(self, "p", checked_probabilities(self.p, N))
        object.__setattr__(self, "labels", geometry.checked_labels(self.labels, N))
        object.__setattr__(self, "W0", W0)

    @property
    def kappa(self) -> float:
        """||u_0 - u_1||^2."""
        return float(np.sum((self.U[0] - self.U[1]) ** 2))

    @property
    def signed_gram(self) -> np.ndarray:
        """Kt(x, x') = eps_x eps_x' <e_x, e_x'>."""
        return geometry.signed_gram(self.E, self.labels)

    @property
    def data(self) -> dict:
        """Arrays by the names the generated logit-particle kernels use."""
        return {"K": self.E @ self.E.T, "Gamma": self.U @ self.U.T, "p": self.p[:, None],
                "Y": np.eye(2)[self.labels], "E": self.E, "U": self.U}

    @property
    def initial_logits(self) -> np.ndarray:
        return self.E @ self.W0.T @ self.U.T

    @property
    def initial_margins(self) -> np.ndarray:
        S = self.initial_logits
        return geometry.signs(self.labels) * (S[:, 0] - S[:, 1])

    def weights_for(self, v) -> np.ndarray:
        """A W with W^T (u_0 - u_1) = v (the component that matters): W = a v^T / kappa."""
        a = self.U[0] - self.U[1]
        return np.outer(a, np.asarray(v, dtype=float)) / self.kappa


def worked_instance() -> BinaryInstance:
    """Three inputs in d = 2 whose CE minimizer misclassifies more than the best linear classifier: angles
    -36.59, 0.716, 46.00 degrees, labels (0, 1, 0), p = (6, 3, 2)/11, U = I."""
    return BinaryInstance(geometry.unit_circle(WORKED_ANGLES), np.eye(2), np.array(WORKED_WEIGHTS) / 11,
                          np.array(WORKED_LABELS), np.zeros((2, 2)))


def circle_instance(N: int, seed: int, zipf: float = 2.0) -> BinaryInstance:
    """N inputs at uniform random angles on the unit circle (from ``seed``), labels x mod 2, Zipf p, U = I."""
    require(N >= 2, "N", "an integer >= 2", N)
    require(seed >= 0, "seed", "an integer >= 0", seed)
    angles = np.random.default_rng(seed).uniform(0.0, 360.0, N)
    return BinaryInstance(geometry.unit_circle(angles), np.eye(2), zipf_probabilities(N, zipf), np.arange(N) % 2,
                          np.zeros((2, 2)))


def separable_instance(seed: int = 0) -> BinaryInstance:
    """N = d = 3, random unit E and U, labels (0, 1, 1), p = (0.5, 0.3, 0.2): the first seed >= ``seed``
    whose signed Gram matrix has lambda = Kt^{-1} 1 > 0 (every point a support vector)."""
    for s in range(seed, seed + 1000):
        rng = np.random.default_rng(s)
        E, U = unit_rows(3, 3, rng), unit_rows(2, 3, rng)
        inst = BinaryInstance(E, U, np.array([0.5, 0.3, 0.2]), np.array([0, 1, 1]), np.zeros((3, 3)))
        lam = np.linalg.solve(inst.signed_gram, np.ones(3))
        if np.all(lam > 0.05):
            return inst
    raise RuntimeError("no separable instance with all points support vectors found")  # pragma: no cover

