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

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from gradflow.numerics.codegen.mlp_module import mlp_module
from gradflow.numerics.blas import one_blas_thread
from gradflow.numerics.memory import keep_freed_memory
from gradflow.theory.errors import require
from gradflow.theory.mlp.activations import ACTIVATION_NAMES
from gradflow.theory.mlp.network import Network

CHUNK_BYTES = 32 * 2 ** 20  # temporaries of one chunk (the Hessian's Jacobians dominate)
GRADIENT_CHUNK_BYTES = 2 * 2 ** 20  # temporaries of one loss or gradient chunk: about a core's L2 cache
SMALL_WORK = 1e5  # multiply-adds below which a call is one chunk on the calling thread, as it is
PARALLEL_WORK = 5e5  # multiply-adds (about N P for a gradient, N P^2 for a Hessian) above which chunks run in threads


@lru_cache(maxsize=None)
def _cores() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


@lru_cache(maxsize=None)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_cores(), thread_name_prefix="gradflow-chunks")


_SERIAL = threading.local()


@contextmanager
def serial_kernels():
    """Within it, this thread's kernel calls run on this thread alone: for callers that are already
    parallel (ensemble members in threads), where splitting each call's samples over the cores as
    well would put two threads on every core and hand work between them on every call."""
    before = getattr(_SERIAL, "on", False)
    _SERIAL.on = True
    try:
        yield
    finally:
        _SERIAL.on = before

# The Hessian's per-sample Jacobians: kept cache-sized.  Tens of MB per call were fetched from the
# operating system afresh (page faults, serialised between threads): slower alone, worse in ensembles.
HESSIAN_CHUNK_BYTES = 2 ** 20
MIN_HESSIAN_CHUNK = 64  # samples: below this the per-chunk call overhead shows


def _writable(a) -> np.ndarray:
    """``a`` as a contiguous, writable float64 array, copied only where it is not one: the kernels are compiled
    for those (and call each other at fixed signatures).  np.require does the same in 660 ns, this in 110."""
    a = np.asarray(a, dtype=float)
    return a if a.flags.c_contiguous and a.flags.writeable else np.array(a, order="C")


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
    return Samples(_writable(X), _writable(T), _writable(w))


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
        keep_freed_memory()  # temporaries reuse pages instead of faulting fresh ones on every call

    @cached_property
    def module(self):
        return mlp_module()[0]

    @property
    def n_params(self) -> int:
        return self.network.n_params

    def chunk_size(self, hessian: bool = False) -> int:
        """Samples per chunk: the Hessian's Jacobians take 2 sum_l k_l P_<l numbers per sample; the loss and
        gradient keep their few arrays per layer within a core's cache (GRADIENT_CHUNK_BYTES), where the
        passes over them run at cache speed instead of memory speed."""
        if self._chunk is not None:
            return int(self._chunk)
        if not hessian:
            per_sample = 4 * int(self.widths.sum()) * 8
            return max(64, min(8192, GRADIENT_CHUNK_BYTES // per_sample))
        return self._hessian_chunk

    @cached_property
    def _hessian_chunk(self) -> int:
        per_sample = self._hessian_bytes_per_sample()
        return max(1, min(CHUNK_BYTES // per_sample, max(MIN_HESSIAN_CHUNK, HESSIAN_CHUNK_BYTES // per_sample)))

    def _hessian_bytes_per_sample(self) -> int:
        """The Hessian kernel's temporaries per sample: every layer's Jacobian over the parameters before
        it (none for the first layer) twice, as computed and as scaled by sigma', and four numbers per unit."""
        widths, offsets = self.network.widths, self.network.offsets
        jacobians = sum(widths[layer + 1] * offsets[layer] for layer in range(len(widths) - 1))
        return (2 * jacobians + 4 * sum(widths)) * 8

    @cached_property
    def _layout(self) -> tuple:  # built once: a small call's Python overhead is a tenth of its time
        return (self.widths, self.biases, self.offsets, self.codes, self.prms, self.module.part_addresses(),
                self.loss_kind, self.out_scale)

    @cached_property
    def _chunks(self) -> np.ndarray:  # the parallel kernels call the chunk kernels at these addresses
        return self.module.chunk_addresses()

    def _theta(self, theta) -> np.ndarray:
        theta = _writable(theta)
        if theta.shape != (self.n_params,):
            require(False, "theta", f"a vector of {self.n_params} parameters", theta.shape)
        return theta

    def _plan(self, n: int, hessian: bool) -> tuple[int, list] | None:
        """(workers, chunks as (start, stop)) of a call over n samples, or None: one chunk on this thread."""
        work = n * self.n_params * (self.n_params if hessian else 6)
        if work < SMALL_WORK and self._chunk is None:  # OpenBLAS does not thread products this small either
            return None
        serial = getattr(_SERIAL, "on", False)
        workers = min(_cores(), -(-n // 64)) if work >= PARALLEL_WORK and not serial else 1
        size = min(self.chunk_size(hessian), -(-n // workers))
        return workers, [(a, min(a + size, n)) for a in range(0, n, size)]

    def _run(self, kernel, n: int, hessian: bool, shapes: tuple, *args) -> tuple:
        """Sum of ``kernel(..., a, b, layout, *accumulators)`` over the chunks: (loss, *accumulators).

        One BLAS thread per call; above PARALLEL_WORK multiply-adds the samples are split evenly over
        the cores, each thread with accumulators of its own (the kernels release the GIL)."""
        return self._execute(kernel, n, self._plan(n, hessian), shapes, *args)

    def _execute(self, kernel, n: int, plan, shapes: tuple, *args) -> tuple:
        """``_run`` with its plan (``_plan``) already made."""
        layout = self._layout
        if plan is None:
            accumulators = [np.zeros(shape) for shape in shapes]
            return (kernel(*args, 0, n, *layout, *accumulators), *accumulators)
        workers, spans = plan
        serial = getattr(_SERIAL, "on", False)

        def part(index: int):
            accumulators = tuple(np.zeros(shape) for shape in shapes)
            loss = 0.0
            for a, b in spans[index::workers]:
                loss += kernel(*args, a, b, *layout, *accumulators)
            return (loss, *accumulators)

        # one BLAS thread beside our threads or the caller's (serial_kernels: ensemble members in threads);
        # a small call alone has nothing to oversubscribe and saves the setting's 2 us
        with one_blas_thread() if serial or workers > 1 else nullcontext():
            # the calling thread takes the first share itself: one hand-over fewer per call
            others = [_pool().submit(part, index) for index in range(1, workers)]
            loss, *accumulators = part(0)
            for future in others:  # summed into the first share's arrays: no new P x P array per call
                other_loss, *other_accumulators = future.result()
                loss += other_loss
                for mine, theirs in zip(accumulators, other_accumulators):
                    mine += theirs
        return (loss, *accumulators)

    def _shares(self, theta, data: Samples, workers: int, spans: list) -> tuple[float, np.ndarray]:
        """(loss, gradient) with the chunks split over Numba's threads in one call: handing shares to Python's
        pool and back costs about 80 us a call, a parallel loop of Numba's far less.  Summed in the order
        of the pool's shares: the same numbers."""
        losses, grads = np.zeros(workers), np.zeros((workers, self.n_params))
        with one_blas_thread():
            self.module.gradient_shares(theta, data.X, data.T, data.w, np.array(spans, dtype=np.int64),
                                        *self._layout, losses, grads, self._chunks)
        loss, grad = losses[0], grads[0]
        for other_loss, other_grad in zip(losses[1:], grads[1:]):
            loss += other_loss
            grad += other_grad
        return float(loss), grad

    def loss(self, theta, data: Samples) -> float:
        theta = self._theta(theta)
        return float(self._run(self.module.loss_chunk, data.n, False, (), theta, data.X, data.T, data.w)[0])

    def loss_and_gradient(self, theta, data: Samples) -> tuple[float, np.ndarray]:
        theta = self._theta(theta)
        plan = self._plan(data.n, False)
        if plan is not None and plan[0] > 1:
            return self._shares(theta, data, *plan)
        loss, grad = self._execute(self.module.gradient_chunk, data.n, plan, ((self.n_params,),), theta, data.X,
                                   data.T, data.w)
        return float(loss), grad

    def hessian(self, theta, data: Samples) -> tuple[float, np.ndarray, np.ndarray, bool]:
        """(loss, gradient, Hessian, whether every entry of the gradient and the Hessian is finite)."""
        theta = self._theta(theta)
        P = self.n_params
        loss, grad, H = self._run(self.module.hessian_chunk, data.n, True, ((P,), (P, P)), theta, data.X, data.T,
                                  data.w)
        # the kernel adds each cross block twice below the diagonal: the mean of the triangles is the Hessian
        finite = self.module.symmetrize(H, grad)
        return float(loss), grad, H, bool(finite)

    def hessian_vector(self, theta, v, data: Samples) -> np.ndarray:
        theta = self._theta(theta)
        v = np.ascontiguousarray(v, dtype=float)
        require(v.shape == (self.n_params,), "v", f"a vector of {self.n_params} numbers", v.shape)
        # hvp_chunk returns its loss too; the sum of products is H v
        return self._run(self.module.hvp_chunk, data.n, False, ((self.n_params,),), theta, v, data.X, data.T,
                         data.w)[1]

    def _thetas(self, Theta) -> np.ndarray:
        Theta = _writable(Theta)
        require(Theta.ndim == 2 and Theta.shape[1] == self.n_params, "Theta",
                f"of shape (E, {self.n_params})", Theta.shape)
        return Theta

    def loss_ensemble(self, Theta, data: Samples) -> np.ndarray:
        Theta = self._thetas(Theta)
        out = np.zeros(Theta.shape[0])
        with one_blas_thread():  # the members run in Numba's threads
            self.module.loss_ensemble(Theta, data.X, data.T, data.w, self.chunk_size(), *self._layout, out,
                                      self._chunks)
        return out

    def gradient_ensemble(self, Theta, data: Samples) -> tuple[np.ndarray, np.ndarray]:
        Theta = self._thetas(Theta)
        out = np.zeros(Theta.shape[0])
        grads = np.zeros_like(Theta)
        with one_blas_thread():  # the members run in Numba's threads
            self.module.gradient_ensemble(Theta, data.X, data.T, data.w, self.chunk_size(), *self._layout, out,
                                          grads, self._chunks)
        return out, grads

    def hessian_ensemble(self, Theta, data: Samples) -> np.ndarray:
        """(E, P, P): one member after the other (each Hessian splits its samples over the cores)."""
        Theta = self._thetas(Theta)
        return np.stack([self.hessian(theta, data)[2] for theta in Theta])


