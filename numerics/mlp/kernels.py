"""Loss, gradient, Hessian and Hessian-vector products of a multilayer perceptron on data.

``MLPKernels(network)`` lays the network out for the generated kernels (widths, biases, offsets,
one activation code per neuron) and runs them over chunks of samples, so that temporaries stay
within ``CHUNK_BYTES`` whatever N is.  ``loss_ensemble`` and ``gradient_ensemble`` take E stacked
parameter vectors on shared data and run the members in parallel.

Data: X (N, D0); targets T (N, k_L) for mse, or for nll integer labels (N,) in 0..k_L-1 or
probability rows (N, k_L); weights w (N,) >= 0 (default 1), not renormalised: the loss is the mean
(1/N) sum_n w_n loss_n.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gradflow.numerics.codegen.mlp_module import mlp_module
from gradflow.theory.errors import require
from gradflow.theory.mlp.activations import ACTIVATION_NAMES
from gradflow.theory.mlp.network import Network

CHUNK_BYTES = 32 * 2 ** 20  # temporaries of one chunk (the Hessian's Jacobians dominate)
# The Hessian's per-sample Jacobians: kept cache-sized.  Tens of MB per call were fetched from the
# operating system afresh (page faults, serialised between threads): slower alone, worse in ensembles.
HESSIAN_CHUNK_BYTES = 2 ** 20
MIN_HESSIAN_CHUNK = 64  # samples: below this the per-chunk call overhead shows


@dataclass(frozen=True)
class Samples:
    """Validated data in the kernels' form: X, T as float64 (N, k_L), w already divided by N."""

    X: np.ndarray
    T: np.ndarray
    w: np.ndarray

    @property
    def n(self) -> int:
        return self.X.shape[0]


def prepare_samples(network: Network, X, Y, weights=None) -> Samples:
    """Check shapes, finiteness, labels and weights against ``network``; errors name X, Y or weights."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1 and network.input_dim == 1:
        X = X[:, None]
    require(X.ndim == 2 and X.shape[1] == network.input_dim and X.shape[0] >= 1, "X",
            f"of shape (N, {network.input_dim}) with N >= 1", X.shape)
    require(bool(np.isfinite(X).all()), "X", "finite")
    n, k = X.shape[0], network.output_dim
    Y = np.asarray(Y)
    if network.loss == "nll" and Y.ndim == 1:
        require(Y.shape == (n,) and (Y.dtype.kind in "iu" or bool(np.all(Y == np.round(Y)))), "Y",
                f"{n} integer labels", Y.shape)
        labels = Y.astype(np.int64)
        bad = (labels < 0) | (labels >= k)
        require(not bad.any(), "Y", f"labels in 0..{k - 1}",
                int(labels[np.argmax(bad)]) if bad.any() else None)
        T = np.zeros((n, k))
        T[np.arange(n), labels] = 1.0
    else:
        T = np.asarray(Y, dtype=float)
        if T.ndim == 1 and k == 1:
            T = T[:, None]
        require(T.shape == (n, k), "Y", f"of shape ({n}, {k})", T.shape)
        require(bool(np.isfinite(T).all()), "Y", "finite")
        if network.loss == "nll":
            require(bool((T >= 0).all()), "Y", "probability rows (entries >= 0)")
    if weights is None:
        w = np.full(n, 1.0 / n)
    else:
        w = np.asarray(weights, dtype=float)
        require(w.shape == (n,), "weights", f"of shape ({n},)", w.shape)
        require(bool(np.isfinite(w).all()) and bool((w >= 0).all()), "weights", "finite and >= 0")
        w = w / n
    return Samples(np.ascontiguousarray(X), np.ascontiguousarray(T), np.ascontiguousarray(w))


class MLPKernels:
    """The generated kernels bound to one network's layout."""

    def __init__(self, network: Network, chunk: int | None = None):
        require(chunk is None or (isinstance(chunk, (int, np.integer)) and chunk >= 1), "chunk",
                "an integer >= 1", chunk)
        self.network = network
        self.widths = np.array(network.widths, dtype=np.int64)
        self.biases = np.array([layer.bias for layer in network.layers], dtype=np.int64)
        self.offsets = np.array(network.offsets, dtype=np.int64)
        neurons = [a for layer in network.layers for a in layer.activation]
        self.codes = np.array([ACTIVATION_NAMES.index(a.name) for a in neurons], dtype=np.int64)
        width = max([1, *(len(a.params) for a in neurons)])
        self.prms = np.zeros((len(neurons), width))
        for i, a in enumerate(neurons):
            self.prms[i, :len(a.params)] = a.params
        self.loss_kind = 1 if network.loss == "nll" else 0
        self.out_scale = 1.0 / network.output_dim if network.output_mean else 1.0
        self._chunk = chunk

    @cached_property
    def module(self):
        return mlp_module()[0]

    @property
    def n_params(self) -> int:
        return self.network.n_params

    def chunk_size(self, hessian: bool = False) -> int:
        """Samples per chunk: the Hessian's Jacobians take sum_l k_l P numbers per sample."""
        if self._chunk is not None:
            return int(self._chunk)
        per_sample = (int(self.widths[1:].sum()) * (self.n_params if hessian else 1) + 4 * int(self.widths.sum())) * 8
        if hessian:
            return max(1, min(CHUNK_BYTES // per_sample, max(MIN_HESSIAN_CHUNK, HESSIAN_CHUNK_BYTES // per_sample)))
        return max(1, min(8192, CHUNK_BYTES // max(per_sample, 1)))

    def _layout(self):
        return self.widths, self.biases, self.offsets, self.codes, self.prms, self.loss_kind, self.out_scale

    def _theta(self, theta) -> np.ndarray:
        theta = np.ascontiguousarray(theta, dtype=float)
        require(theta.shape == (self.n_params,), "theta", f"a vector of {self.n_params} parameters", theta.shape)
        return theta

    def _chunks(self, n: int, hessian: bool = False):
        size = self.chunk_size(hessian)
        for start in range(0, n, size):
            yield start, min(start + size, n)

    def loss(self, theta, data: Samples) -> float:
        theta = self._theta(theta)
        return float(sum(self.module.loss_chunk(theta, data.X, data.T, data.w, a, b, *self._layout())
                         for a, b in self._chunks(data.n)))

    def loss_and_gradient(self, theta, data: Samples) -> tuple[float, np.ndarray]:
        theta = self._theta(theta)
        grad = np.zeros(self.n_params)
        loss = sum(self.module.gradient_chunk(theta, data.X, data.T, data.w, a, b, *self._layout(), grad)
                   for a, b in self._chunks(data.n))
        return float(loss), grad

    def hessian(self, theta, data: Samples) -> tuple[float, np.ndarray, np.ndarray]:
        """(loss, gradient, Hessian)."""
        theta = self._theta(theta)
        grad = np.zeros(self.n_params)
        H = np.zeros((self.n_params, self.n_params))
        loss = sum(self.module.hessian_chunk(theta, data.X, data.T, data.w, a, b, *self._layout(), grad, H)
                   for a, b in self._chunks(data.n, hessian=True))
        H = 0.5 * (H + H.T)  # exact up to rounding already; symmetric to the last bit
        return float(loss), grad, H

    def hessian_vector(self, theta, v, data: Samples) -> np.ndarray:
        theta = self._theta(theta)
        v = np.ascontiguousarray(v, dtype=float)
        require(v.shape == (self.n_params,), "v", f"a vector of {self.n_params} numbers", v.shape)
        out = np.zeros(self.n_params)
        for a, b in self._chunks(data.n):
            self.module.hvp_chunk(theta, v, data.X, data.T, data.w, a, b, *self._layout(), out)
        return out

    def _thetas(self, Theta) -> np.ndarray:
        Theta = np.ascontiguousarray(Theta, dtype=float)
        require(Theta.ndim == 2 and Theta.shape[1] == self.n_params, "Theta",
                f"of shape (E, {self.n_params})", Theta.shape)
        return Theta

    def loss_ensemble(self, Theta, data: Samples) -> np.ndarray:
        Theta = self._thetas(Theta)
        out = np.zeros(Theta.shape[0])
        self.module.loss_ensemble(Theta, data.X, data.T, data.w, self.chunk_size(), *self._layout(), out)
        return out

    def gradient_ensemble(self, Theta, data: Samples) -> tuple[np.ndarray, np.ndarray]:
        Theta = self._thetas(Theta)
        out = np.zeros(Theta.shape[0])
        grads = np.zeros_like(Theta)
        self.module.gradient_ensemble(Theta, data.X, data.T, data.w, self.chunk_size(), *self._layout(), out,
                                      grads)
        return out, grads

    def hessian_ensemble(self, Theta, data: Samples) -> np.ndarray:
        """(E, P, P): one member after the other (each Hessian already runs BLAS on all cores)."""
        Theta = self._thetas(Theta)
        return np.stack([self.hessian(theta, data)[2] for theta in Theta])


