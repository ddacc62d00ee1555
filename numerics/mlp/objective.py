"""What training needs from a loss: the contract between the MLP kernels and the training drivers.

An ``Objective`` is a loss on a flat parameter vector of length ``n_params``, the *mean* over
``n_samples`` weighted samples plus any penalty terms (barrier, merge, L2).  Training drivers
(``gradflow.numerics.mlp.training``) accept anything with these methods, so they are tested on
plain NumPy objectives as well as on generated MLP kernels.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Objective(Protocol):
    n_params: int
    n_samples: int

    def loss(self, theta: np.ndarray) -> float:
        """The regularised mean loss at ``theta``."""

    def loss_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The regularised mean loss and its gradient (a new array of length ``n_params``)."""

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """The regularised Hessian, dense ``(n_params, n_params)``, symmetric."""

    def hessian_vector(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        """H(theta) @ v without forming H."""

    def on_samples(self, start: int, stop: int) -> "Objective":
        """The same loss (penalties included) as the mean over samples ``start .. stop-1`` only:
        the minibatch of SGD and Adam."""

    def shuffled(self, order: np.ndarray) -> "Objective":
        """The same loss with its samples reordered by ``order`` (a permutation of n_samples)."""

    @property
    def data_term(self) -> "Objective":
        """The loss without its penalty terms (itself when there are none): the unregularised
        gradient norm of a training result is measured on it."""
