"""A network's regularised mean loss on a data set, as the ``Objective`` that training consumes.

    objective = MLPObjective(network, X, Y, weights=None, penalties=(Barrier(10.0),))
    loss, grad = objective.loss_and_gradient(theta)
    H = objective.hessian(theta)

Every value is checked: a non-finite loss, gradient or Hessian raises DivergenceError naming the
quantity (the caller adds the step or time it was at).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.mlp.kernels import MLPKernels, Samples, prepare_samples
from gradflow.theory.errors import require
from gradflow.theory.mlp.network import Network


class NonFiniteValue(DivergenceError):
    """The loss, gradient or Hessian is not finite at the parameters asked for (training drivers turn
    it into a DivergenceError naming the step or time)."""

    def __init__(self, quantity: str):
        FloatingPointError.__init__(self, f"the {quantity} is non-finite at these parameters")
        self.step, self.quantity, self.time = None, quantity, None


def _finite(value, quantity: str):
    if not (math.isfinite(value) if isinstance(value, float) else np.all(np.isfinite(value))):
        raise NonFiniteValue(quantity)
    return value


@dataclass(frozen=True)
class MLPObjective:
    """The mean loss of ``network`` on ``samples`` plus ``penalties``; build it with :meth:`create`."""

    kernels: MLPKernels
    samples: Samples
    penalties: tuple = ()
    _full_n: int = field(default=0, repr=False)

    @classmethod
    def create(cls, network: Network, X, Y, weights=None, penalties=(), chunk: int | None = None) -> "MLPObjective":
        samples = prepare_samples(network, X, Y, weights)
        return cls(MLPKernels(network, chunk), samples, tuple(penalties), samples.n)

    @property
    def network(self) -> Network:
        return self.kernels.network

    @property
    def n_params(self) -> int:
        return self.kernels.n_params

    @property
    def n_samples(self) -> int:
        return self.samples.n

    def loss(self, theta) -> float:
        theta = np.asarray(theta, dtype=float)
        value = self.kernels.loss(theta, self.samples) + sum(p.value(theta) for p in self.penalties)
        return float(_finite(value, "loss"))

    def loss_and_gradient(self, theta):
        theta = np.asarray(theta, dtype=float)
        loss, grad = self.kernels.loss_and_gradient(theta, self.samples)
        for p in self.penalties:
            loss += p.value(theta)
            grad += p.gradient(theta)
        _finite(loss, "loss")
        return float(loss), _finite(grad, "gradient")

    def loss_gradient_hessian(self, theta):
        theta = np.asarray(theta, dtype=float)
        loss, grad, H, finite = self.kernels.hessian(theta, self.samples)
        for p in self.penalties:
            loss += p.value(theta)
            grad += p.gradient(theta)
            p.add_hessian(theta, H)
        _finite(loss, "loss")
        if self.penalties:
            _finite(grad, "gradient")
            _finite(H, "Hessian")
        elif not finite:  # the kernels checked both while symmetrising: name the one that is not
            _finite(grad, "gradient")
            raise NonFiniteValue("Hessian")
        return float(loss), grad, H

    def hessian(self, theta):
        return self.loss_gradient_hessian(theta)[2]

    def hessian_vector(self, theta, v):
        theta = np.asarray(theta, dtype=float)
        out = self.kernels.hessian_vector(theta, v, self.samples)
        for p in self.penalties:
            out += p.hessian_vector(theta, np.asarray(v, dtype=float))
        return _finite(out, "Hessian-vector product")

    def on_samples(self, start: int, stop: int) -> "MLPObjective":
        """The mean over samples start..stop-1 (a minibatch), penalties included."""
        require(0 <= start < stop <= self.n_samples, "batch", f"a range inside 0..{self.n_samples}", (start, stop))
        n = stop - start
        # the kernels' weights hold w_n / N: rescale to w_n / n for the batch mean
        w = self.samples.w[start:stop] * (self.n_samples / n)
        batch = Samples(self.samples.X[start:stop], self.samples.T[start:stop], np.ascontiguousarray(w))
        return replace(self, samples=batch)

    def shuffled(self, order) -> "MLPObjective":
        order = np.asarray(order)
        require(order.shape == (self.n_samples,) and np.array_equal(np.sort(order), np.arange(self.n_samples)),
                "order", f"a permutation of 0..{self.n_samples - 1}")
        s = self.samples
        return replace(self, samples=Samples(np.ascontiguousarray(s.X[order]), np.ascontiguousarray(s.T[order]),
                                             np.ascontiguousarray(s.w[order])))

    @property
    def data_term(self) -> "MLPObjective":
        return replace(self, penalties=()) if self.penalties else self

    # --- ensembles: E parameter vectors on the same data ----------------------------------------

    def loss_ensemble(self, Theta) -> np.ndarray:
        Theta = np.asarray(Theta, dtype=float)
        out = self.kernels.loss_ensemble(Theta, self.samples)
        for p in self.penalties:
            out += np.array([p.value(t) for t in Theta])
        return out

    def gradient_ensemble(self, Theta):
        Theta = np.asarray(Theta, dtype=float)
        out, grads = self.kernels.gradient_ensemble(Theta, self.samples)
        for p in self.penalties:
            out += np.array([p.value(t) for t in Theta])
            grads += np.array([p.gradient(t) for t in Theta])
        return out, grads

    def hessian_ensemble(self, Theta) -> np.ndarray:
        return np.stack([self.hessian(t) for t in np.asarray(Theta, dtype=float)])
