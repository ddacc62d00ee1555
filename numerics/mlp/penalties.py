"""Terms added to the mean loss of a network: a norm barrier, a merge penalty, an L2 term.

Each is a small frozen dataclass with its value, gradient and Hessian on the flat parameter
vector (they are cheap: O(P) or one P x P diagonal or rank-one update), so the kernels never see
them and the training drivers see one regularised loss.

  barrier  R = (nu - c)^3 / 3 when nu = |theta|^2 / (2P) > c, else 0     (keeps |theta| bounded)
  merge    (lambda/2) sum_k (W_l[i, k] - W_l[j, k])^2 for one neuron pair (i, j) of layer l
  l2       (lambda/2) |theta|^2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import require
from gradflow.theory.mlp.network import Network


@dataclass(frozen=True)
class Barrier:
    maxnorm: float

    def __post_init__(self):
        require(np.isfinite(self.maxnorm) and self.maxnorm > 0, "maxnorm", "a number > 0", self.maxnorm)

    def value(self, theta):
        nu = theta @ theta / (2 * theta.size)
        return (nu - self.maxnorm) ** 3 / 3 if nu > self.maxnorm else 0.0

    def gradient(self, theta):
        P = theta.size
        excess = theta @ theta / (2 * P) - self.maxnorm
        return (excess ** 2 / P) * theta if excess > 0 else np.zeros(P)

    def add_hessian(self, theta, H):
        P = theta.size
        excess = theta @ theta / (2 * P) - self.maxnorm
        if excess > 0:
            H[np.diag_indices(P)] += excess ** 2 / P
            H += (2 * excess / P ** 2) * np.outer(theta, theta)

    def hessian_vector(self, theta, v):
        P = theta.size
        excess = theta @ theta / (2 * P) - self.maxnorm
        if excess <= 0:
            return np.zeros(P)
        return (excess ** 2 / P) * v + (2 * excess / P ** 2) * (theta @ v) * theta


@dataclass(frozen=True)
class L2:
    strength: float

    def __post_init__(self):
        require(np.isfinite(self.strength) and self.strength >= 0, "l2", "a number >= 0", self.strength)

    def value(self, theta):
        return 0.5 * self.strength * (theta @ theta)

    def gradient(self, theta):
        return self.strength * theta

    def add_hessian(self, theta, H):
        H[np.diag_indices(theta.size)] += self.strength

    def hessian_vector(self, theta, v):
        return self.strength * v


@dataclass(frozen=True)
class Merge:
    """(strength/2) sum_k (W_layer[i, k] - W_layer[j, k])^2, layers counted from 1, bias column included."""

    network: Network
    layer: int
    i: int
    j: int
    strength: float

    def __post_init__(self):
        require(1 <= self.layer <= self.network.depth, "layer", f"in 1..{self.network.depth}", self.layer)
        width = self.network.layers[self.layer - 1].width
        for name, value in (("i", self.i), ("j", self.j)):
            require(0 <= value < width, name, f"a neuron of layer {self.layer} (0..{width - 1})", value)
        require(self.i != self.j, "j", "a neuron other than i", self.j)
        require(np.isfinite(self.strength) and self.strength >= 0, "merge strength", "a number >= 0",
                self.strength)

    def _rows(self):
        start = self.network.offsets[self.layer - 1]
        cols = self.network.shapes[self.layer - 1][1]
        return (np.arange(cols) + start + self.i * cols, np.arange(cols) + start + self.j * cols)

    def value(self, theta):
        a, b = self._rows()
        d = theta[a] - theta[b]
        return 0.5 * self.strength * (d @ d)

    def gradient(self, theta):
        a, b = self._rows()
        g = np.zeros_like(theta)
        d = self.strength * (theta[a] - theta[b])
        g[a] += d
        g[b] -= d
        return g

    def add_hessian(self, theta, H):
        a, b = self._rows()
        H[a, a] += self.strength
        H[b, b] += self.strength
        H[a, b] -= self.strength
        H[b, a] -= self.strength

    def hessian_vector(self, theta, v):
        a, b = self._rows()
        out = np.zeros_like(v)
        d = self.strength * (v[a] - v[b])
        out[a] += d
        out[b] -= d
        return out
