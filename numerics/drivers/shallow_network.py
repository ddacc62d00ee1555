"""Simulate shallow networks by full-batch GD with the generated kernel.

``ShallowNetworkSimulator(network).gd(X, Y, W0, H0, lr, n_steps)`` runs GD in float32 or
float64, records the loss every ``loss_every`` steps and (W, H) snapshots on a regular grid,
stops once the loss reaches ``stop_loss`` and raises ``DivergenceError`` on a non-finite loss.
``gd_ensemble`` runs many initialisations (seeds, sigmas, learning rates) in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import ParameterError, require
from gradflow.theory.models.shallow_network import ShallowNetwork

from gradflow.numerics.codegen.network_module import network_module, slopes
from gradflow.numerics.drivers.progress import chunked
from gradflow.numerics.errors import DivergenceError

# Below this many multiply-adds per product the explicit loops beat BLAS calls.
BLAS_THRESHOLD = 20_000
# Runs at least this long get a kernel generated for their exact sizes (a few seconds of
# compilation once per shape; 3x faster steps for small networks, where loops over d = 2 or
# d_out = 1 are otherwise not unrolled).
SPECIALISE_STEPS = 50_000
STATUS = {0: "finished", 1: "reached stop_loss", 2: "diverged"}


@dataclass(frozen=True)
class ShallowRun:
    """A GD run: loss at ``loss_iterations``, (W, H) at ``snapshot_iterations``."""

    loss_iterations: np.ndarray
    loss: np.ndarray
    snapshot_iterations: np.ndarray
    W_snapshots: np.ndarray
    H_snapshots: np.ndarray
    W: np.ndarray
    H: np.ndarray
    lr: float
    last_iteration: int
    status: str

    @property
    def times(self) -> np.ndarray:
        """Gradient-flow time t = lr x iterations of the loss records."""
        return self.lr * self.loss_iterations

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])


def check_data(X, Y):
    """X (n x d), Y (n x d_out) or (n,), finite; returns float64 2-D copies."""
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    require(X.ndim == 2, "X", "a 2-D array (n examples x d inputs)", X.shape)
    if Y.ndim == 1:
        Y = Y[:, None]
    require(Y.ndim == 2, "Y", "a 1-D or 2-D array (n examples x d_out)", Y.shape)
    require(Y.shape[0] == X.shape[0], "Y", f"{X.shape[0]} rows, one per row of X", Y.shape)
    require(bool(np.all(np.isfinite(X))), "X", "finite")
    require(bool(np.all(np.isfinite(Y))), "Y", "finite")
    return X, Y


def initial_parameters(width: int, d: int, d_out: int, sigma: float, seed: int = 0, dtype=np.float64):
    """W, H with i.i.d. N(0, sigma^2) entries, W drawn before H (NumPy's generator)."""
    require(int(width) >= 1, "width", "at least 1", width)
    require(np.isfinite(sigma) and sigma > 0, "sigma", "positive and finite", sigma)
    rng = np.random.default_rng(seed)
    W = sigma * rng.standard_normal((int(width), d))
    H = sigma * rng.standard_normal((int(width), d_out))
    return W.astype(dtype), H.astype(dtype)


class ShallowNetworkSimulator:
    def __init__(self, network: ShallowNetwork | None = None):
        self.network = network or ShallowNetwork()
        require(self.network.loss == "squared", "loss", "squared for the generated GD kernel", self.network.loss)
        self.module, self.path, self.cache_hit = network_module(self.network)

    @property
    def source(self) -> str:
        return self.path.read_text()

    def _prepare(self, X, Y, W0, H0, dtype):
        X, Y = check_data(X, Y)
        require(np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.float64)), "dtype", "float32 or float64", dtype)
        W0 = np.array(W0, dtype=dtype, order="C")
        H0 = np.array(H0, dtype=dtype, order="C")
        if H0.ndim == W0.ndim - 1:
            H0 = H0[..., None]
        require(W0.shape[-2] >= 1, "width", "at least 1", W0.shape[-2])
        require(W0.shape[-1] == X.shape[1], "W0", f"{X.shape[1]} columns (the input dimension of X)", W0.shape)
        require(H0.shape[-2:] == (W0.shape[-2], Y.shape[1]), "H0", f"shape ({W0.shape[-2]}, {Y.shape[1]})", H0.shape)
        require(bool(np.all(np.isfinite(W0))) and bool(np.all(np.isfinite(H0))), "W0", "finite (and H0)")
        n, d = X.shape
        consts = np.array(self.module.constants(n, W0.shape[-2], d, Y.shape[1], *slopes(self.network)), dtype=dtype)
        return X.astype(dtype), Y.astype(dtype), W0, H0, consts

    def _layout(self, X, Y, width, layout):
        require(layout in ("auto", "loops", "blas"), "layout", "auto, loops or blas", layout)
        if layout == "auto":
            layout = "blas" if X.shape[0] * width * max(X.shape[1], Y.shape[1]) > BLAS_THRESHOLD else "loops"
        return layout

    def loss_and_gradients(self, X, Y, W, H, dtype=np.float64, layout="auto"):
        X, Y, W, H, consts = self._prepare(X, Y, W, H, dtype)
        grad_W, grad_H = np.empty_like(W), np.empty_like(H)
        kernel = getattr(self.module, f"loss_and_gradients_{self._layout(X, Y, W.shape[0], layout)}")
        loss = kernel(W, H, X, Y, consts, grad_W, grad_H)
        return float(loss), grad_W, grad_H

    def gd(self, X, Y, W0, H0, lr: float, n_steps: int, loss_every: int = 1, snapshots: int = 1000,
           stop_loss: float = 0.0, dtype=np.float64, layout: str = "auto", progress: bool = False) -> ShallowRun:
        runs = self.gd_ensemble(X, Y, np.asarray(W0)[None], np.asarray(H0)[None], [lr], n_steps, loss_every, snapshots,
                                stop_loss, dtype, layout, progress)
        return runs[0]

    def gd_ensemble(self, X, Y, W0s, H0s, lrs, n_steps: int, loss_every: int = 1, snapshots: int = 1000,
                    stop_loss: float = 0.0, dtype=np.float64, layout: str = "auto", progress: bool = False) -> list:
        """GD from each (W0s[e], H0s[e]) with learning rate lrs[e] (in parallel over e); with ``progress`` a
        long run shows a bar over its steps."""
        X, Y, W0s, H0s, consts = self._prepare(X, Y, W0s, H0s, dtype)
        require(W0s.ndim == 3, "W0s", "a stack of initial W (members x width x d)", W0s.shape)
        members = W0s.shape[0]
        lrs = np.broadcast_to(np.asarray(lrs, dtype=float), (members,))
        require(bool(np.all(np.isfinite(lrs) & (lrs > 0))), "lr", "positive and finite", lrs.tolist()[:4])
        require(int(n_steps) >= 0, "n_steps", "non-negative", n_steps)
        require(int(loss_every) >= 1, "loss_every", "at least 1", loss_every)
        require(int(snapshots) >= 1, "snapshots", "at least 1", snapshots)
        require(np.isfinite(stop_loss) and stop_loss >= 0, "stop_loss", "non-negative and finite", stop_loss)
        n_steps, loss_every = int(n_steps), int(loss_every)
        suffix = self._layout(X, Y, W0s.shape[1], layout)
        module = self.module
        if suffix == "loops" and n_steps >= SPECIALISE_STEPS:
            sizes = (("n", X.shape[0]), ("d", X.shape[1]), ("m", W0s.shape[1]), ("d_out", Y.shape[1]))
            module = network_module(self.network, sizes)[0]
            # the constants in this module's own order: modules generated by different processes (a shared
            # cache) need not list them alike
            consts = np.array(module.constants(X.shape[0], W0s.shape[1], X.shape[1], Y.shape[1],
                                               *slopes(self.network)), dtype=dtype)
        snap_every = max(1, -(-n_steps // int(snapshots)))
        n_loss, n_snap = n_steps // loss_every + 2, n_steps // snap_every + 1
        width = W0s.shape[1]
        loss_out = np.full((members, n_loss), np.nan, dtype=dtype)
        snap_W = np.full((members, n_snap, *W0s.shape[1:]), np.nan, dtype=dtype)
        snap_H = np.full((members, n_snap, *H0s.shape[1:]), np.nan, dtype=dtype)
        status = np.zeros((members, 2), dtype=np.int64)
        status[:, 0] = 3  # running
        W, H = W0s.copy(), H0s.copy()
        lrs_d = lrs.astype(dtype)
        work = X.shape[0] * width * (X.shape[1] + Y.shape[1]) * members
        with chunked(n_steps, np.zeros(0), work, progress, "GD") as chunks:
            for start, stop, _ in chunks:
                end = stop if stop < n_steps else n_steps + 1  # the last chunk also evaluates the final loss
                if members == 1:
                    getattr(module, f"run_gd_{suffix}")(W[0], H[0], X, Y, consts, lrs_d[0], start, end, n_steps,
                                                        loss_every, snap_every, dtype(stop_loss), loss_out[0],
                                                        snap_W[0], snap_H[0], status[0])
                else:
                    getattr(module, f"run_gd_ensemble_{suffix}")(W, H, X, Y, consts, lrs_d, start, end, n_steps,
                                                                 loss_every, snap_every, dtype(stop_loss), loss_out,
                                                                 snap_W, snap_H, status)
                if not np.any(status[:, 0] == 3):
                    break
        if n_steps == 0:  # no chunk: evaluate the loss at the start
            getattr(module, f"run_gd_ensemble_{suffix}")(W, H, X, Y, consts, lrs_d, 0, 1, 0, loss_every, snap_every,
                                                         dtype(stop_loss), loss_out, snap_W, snap_H, status)
        return [self._run(e, loss_out, snap_W, snap_H, status, W, H, lrs[e], loss_every, snap_every) for e in range(members)]

    @staticmethod
    def _run(e, loss_out, snap_W, snap_H, status, W, H, lr, loss_every, snap_every) -> ShallowRun:
        code, last = (int(v) for v in status[e])
        if code == 2:
            member = f"member {e}: " if loss_out.shape[0] > 1 else ""
            raise DivergenceError(last, "loss", f"{member}lower the learning rate (lr = {lr:g})")
        n_loss = last // loss_every + 1
        iterations = np.arange(n_loss) * loss_every
        if last % loss_every:
            iterations = np.append(iterations, last)
            n_loss += 1
        n_snap = last // snap_every + 1
        return ShallowRun(iterations, loss_out[e, :n_loss].astype(float), np.arange(n_snap) * snap_every,
                          snap_W[e, :n_snap], snap_H[e, :n_snap], W[e], H[e], float(lr), last, STATUS[code])
