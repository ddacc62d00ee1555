"""A loss with some parameters held fixed: the ``freeze=True`` retraining of the deep layer loop.

``FrozenObjective(objective, theta, free)`` is the Objective of the free entries alone (the others stay at
``theta``): its gradient and Hessian are the sub-vector and sub-block of the full ones, so every training
driver runs on it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gradflow.theory.errors import require


@dataclass(frozen=True)
class FrozenObjective:
    base: object
    fixed: np.ndarray  # the full parameter vector whose non-free entries are used
    free: np.ndarray  # indices of the free entries

    def __post_init__(self):
        free = np.asarray(self.free, dtype=int)
        require(free.ndim == 1 and free.size >= 1 and np.all((free >= 0) & (free < self.base.n_params)), "free",
                f"indices in 0..{self.base.n_params - 1} (at least one)", free.shape)
        object.__setattr__(self, "free", free)
        object.__setattr__(self, "fixed", np.array(self.fixed, dtype=float))

    @property
    def n_params(self) -> int:
        return int(self.free.size)

    @property
    def n_samples(self) -> int:
        return self.base.n_samples

    def full(self, x) -> np.ndarray:
        theta = self.fixed.copy()
        theta[self.free] = x
        return theta

    def reduce(self, theta) -> np.ndarray:
        return np.asarray(theta, dtype=float)[self.free].copy()

    def loss(self, x) -> float:
        return self.base.loss(self.full(x))

    def loss_and_gradient(self, x):
        loss, grad = self.base.loss_and_gradient(self.full(x))
        return loss, grad[self.free].copy()

    def hessian(self, x):
        return self.base.hessian(self.full(x))[np.ix_(self.free, self.free)]

    def hessian_vector(self, x, v):
        full_v = np.zeros_like(self.fixed)
        full_v[self.free] = v
        return self.base.hessian_vector(self.full(x), full_v)[self.free]

    def on_samples(self, start: int, stop: int) -> "FrozenObjective":
        return replace(self, base=self.base.on_samples(start, stop))

    def shuffled(self, order) -> "FrozenObjective":
        return replace(self, base=self.base.shuffled(order))

    @property
    def data_term(self) -> "FrozenObjective":
        plain = self.base.data_term
        return self if plain is self.base else replace(self, base=plain)
