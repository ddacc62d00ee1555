"""Numerics of squared-error models with several matrix parameters (the deep linear network).

- ``SquaredLossSimulator``: driver for the generated module (numerics.codegen.squared_module):
  GD in chunks (with optional progress) and RK4 flow, records of the loss and of the mode
  strengths, divergence reported with the step and the quantity.
- ``mode_problem``: a numeric instance C = U diag(sigma) V^T with the balanced small
  initialisation W1 = R diag(sqrt s0) V^T, W2 = U diag(sqrt s0) R^T.
- ``numpy_gd``: the same GD written by hand in NumPy, the oracle for the generated kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradflow.theory.errors import ParameterError, require
from gradflow.theory.model import Model
from gradflow.theory.models import deep_linear

from gradflow.numerics.codegen.squared_module import SquaredSystem, squared_module
from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.drivers.progress import step_chunks


# --- the numeric instance ------------------------------------------------------------------

def validate_deep_linear(n_in, hidden, n_out, sigma, s0, eta=None) -> None:
    """ParameterError naming the first setting that breaks its constraint."""
    for name, value in (("n_in", n_in), ("hidden", hidden), ("n_out", n_out)):
        require(isinstance(value, (int, np.integer)) and value >= 1, name, "an integer >= 1", value)
    sigma = tuple(sigma)
    require(len(sigma) >= 1, "sigma", "a non-empty list of mode strengths", sigma)
    require(all(np.isfinite(v) and v > 0 for v in sigma), "sigma", "positive finite numbers", sigma)
    require(len(sigma) <= min(n_in, hidden, n_out), "sigma",
            f"at most min(n_in, hidden, n_out) = {min(n_in, hidden, n_out)} values", sigma)
    require(np.isfinite(s0) and 0 < s0 < min(sigma), "s0", f"in (0, min sigma) = (0, {min(sigma)})", s0)
    if eta is not None:
        require(np.isfinite(eta) and eta > 0, "eta", "a finite number > 0", eta)


@dataclass(frozen=True)
class ModeProblem:
    """C = U diag(sigma) V^T and the balanced initialisation (W1, W2) built on frame R."""

    sigma: np.ndarray
    s0: float
    C: np.ndarray
    U: np.ndarray
    V: np.ndarray
    R: np.ndarray
    W1: np.ndarray
    W2: np.ndarray

    @property
    def data(self) -> dict:
        return {"C": self.C, "U": self.U, "V": self.V}

    @property
    def initial(self) -> tuple:
        return (self.W1, self.W2)


def orthonormal_columns(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    """First ``columns`` columns of a Haar-random orthogonal rows x rows matrix."""
    q, r = np.linalg.qr(rng.standard_normal((rows, rows)))
    q = q * np.sign(np.diag(r))  # sign fix makes Q Haar-distributed
    return np.ascontiguousarray(q[:, :columns])


def mode_problem(n_in: int, hidden: int, n_out: int, sigma, s0: float, seed: int,
                 imbalance: float = 1.0) -> ModeProblem:
    """Balanced (imbalance = 1) or unbalanced start a = imbalance sqrt(s0), b = sqrt(s0)/imbalance."""
    validate_deep_linear(n_in, hidden, n_out, sigma, s0)
    require(np.isfinite(imbalance) and imbalance > 0, "imbalance", "a finite number > 0", imbalance)
    sigma = np.asarray(sigma, dtype=float)
    k = sigma.size
    rng = np.random.default_rng(seed)
    U, V, R = orthonormal_columns(rng, n_out, k), orthonormal_columns(rng, n_in, k), orthonormal_columns(rng, hidden, k)
    a0 = np.full(k, np.sqrt(s0) * imbalance)
    b0 = np.full(k, np.sqrt(s0) / imbalance)
    W1 = np.ascontiguousarray(R @ np.diag(a0) @ V.T)
    W2 = np.ascontiguousarray(U @ np.diag(b0) @ R.T)
    return ModeProblem(sigma, float(s0), np.ascontiguousarray(U @ np.diag(sigma) @ V.T), U, V, R, W1, W2)


# --- generated kernel and its driver ----------------------------------------------------------

def weight_space_system(model: Model, observable: sp.MatrixExpr, observable_data: tuple) -> SquaredSystem:
    """GD/flow on all of the model's matrix parameters; G = dL/dS shared by every layer."""
    return SquaredSystem(
        f"{model.name}: weight space", tuple(model.parameters), (*model.data, *observable_data), model.prediction,
        tuple(-model.gradient(w, placeholder=True) for w in model.parameters), model.loss_gradient_symbol,
        model.head.gradient(model.prediction_symbol), model.prediction_symbol, model.head.loss(model.prediction_symbol),
        observable,
    )


def deep_linear_system() -> SquaredSystem:
    mdl = deep_linear.model()
    return weight_space_system(mdl, deep_linear.mode_matrix(mdl.prediction_symbol), (deep_linear.U, deep_linear.V))


@dataclass
class SquaredTrajectory:
    """loss[r] and observable[r, :] (mode strengths) after steps[r] GD steps or at time t[r]."""

    t: np.ndarray
    loss: np.ndarray
    observable: np.ndarray
    final: tuple
    method: str


class SquaredLossSimulator:
    """Compiled GD / RK4 for a SquaredSystem; arrays are passed in the system's order."""

    def __init__(self, system: SquaredSystem | None = None):
        self.system = system if system is not None else deep_linear_system()
        self.module, self.path, self.cache_hit = squared_module(self.system)

    @property
    def source(self) -> str:
        return self.path.read_text()

    def _arrays(self, initial, data: dict):
        """States and data as contiguous float arrays with shapes consistent with the symbols."""
        require(len(initial) == len(self.system.states), "initial",
                f"{len(self.system.states)} arrays in the order {[str(x) for x in self.system.states]}", len(initial))
        sizes = {}
        named = [(str(x), x, a) for x, a in zip(self.system.states, initial)]
        for symbol in self.system.data:
            if symbol.name not in data:
                raise ParameterError(symbol.name, "given in the data", sorted(data))
            named.append((symbol.name, symbol, data[symbol.name]))
        arrays = []
        for name, symbol, value in named:
            array = np.ascontiguousarray(value, dtype=float)
            require(array.ndim == 2, name, "a 2-D array", array.shape)
            require(bool(np.all(np.isfinite(array))), name, "finite numbers")
            for size, actual in zip(symbol.shape, array.shape):
                expected = sizes.setdefault(size, actual) if isinstance(size, sp.Symbol) else int(size)
                require(expected == actual, name, f"of shape {symbol.shape} with {size} = {expected}", array.shape)
            arrays.append(array)
        n = len(self.system.states)
        return arrays[:n], arrays[n:], sizes

    def _observable_size(self, sizes: dict) -> int:
        """Rows of the recorded diagonal (k for U^T S V), from the sizes the arrays bound."""
        rows = self.system.observable.shape[0]
        return int(sizes[rows]) if isinstance(rows, sp.Symbol) else int(rows)

    def _quantity(self, index: int) -> str:
        return "loss" if index == len(self.system.states) else str(self.system.states[index])

    def gd(self, initial, data: dict, eta: float, n_steps: int, record=None,
           progress: bool = False) -> SquaredTrajectory:
        """``n_steps`` GD steps; records after the steps in ``record`` (default: every step).

        With ``progress`` a long run is cut into chunks under a progress bar; the kernel takes
        global step numbers and a row pointer, so the records equal those of one call."""
        require(np.isfinite(eta) and eta > 0, "eta", "a finite number > 0", eta)
        require(int(n_steps) == n_steps and n_steps >= 0, "n_steps", "a non-negative integer", n_steps)
        states, data_arrays, sizes = self._arrays(initial, data)
        steps = np.arange(n_steps + 1) if record is None else np.unique(np.asarray(record, dtype=np.int64))
        require(steps.size > 0 and steps[0] >= 0 and steps[-1] <= n_steps, "record", f"steps within [0, {n_steps}]")
        loss = np.full(steps.size, np.nan)
        observable = np.full((steps.size, self._observable_size(sizes)), np.nan)
        status = -np.ones(2, dtype=np.int64)
        steps = steps.astype(np.int64)
        work = sum(x.size for x in states) * max(a.shape[0] for a in data_arrays)
        pieces = [(0, 0, None), *step_chunks(int(n_steps), steps, work, progress, self.system.name)]  # (0, 0): step 0
        row = 0
        for first, last, _ in pieces:
            *states, row = self.module.run_gd(*states, *data_arrays, float(eta), first, last, steps, row, loss,
                                              observable, status)
            if status[0] >= 0:
                raise DivergenceError(int(status[0]), self._quantity(int(status[1])), f"GD with eta = {eta}")
        return SquaredTrajectory(steps.astype(float), loss, observable, tuple(states), "gd")

    def flow(self, initial, data: dict, times, step: float = 1e-2) -> SquaredTrajectory:
        """Gradient flow by fixed-step RK4, records at ``times``."""
        require(np.isfinite(step) and step > 0, "step", "a finite number > 0", step)
        states, data_arrays, sizes = self._arrays(initial, data)
        times = np.asarray(times, dtype=float)
        require(times.ndim == 1 and times.size > 0 and bool(np.all(np.diff(times) >= 0)) and times[0] >= 0,
                "times", "a non-empty, sorted array of non-negative times")
        loss = np.full(times.size, np.nan)
        observable = np.full((times.size, self._observable_size(sizes)), np.nan)
        status = -np.ones(2, dtype=np.int64)
        final = self.module.run_rk4(*states, *data_arrays, float(step), times, loss, observable, status)
        if status[0] >= 0:
            raise DivergenceError(int(status[0]), self._quantity(int(status[1])), f"RK4 with step {step}")
        return SquaredTrajectory(times, loss, observable, tuple(final), "flow")


# --- the NumPy oracle ---------------------------------------------------------------------------

def numpy_loss(W1, W2, C) -> float:
    residual = C - W2 @ W1
    return 0.5 * float(np.sum(residual * residual))


def numpy_gd(initial, data: dict, eta: float, n_steps: int, record=None) -> SquaredTrajectory:
    """GD on L = 1/2 ||C - W2 W1||^2 written by hand: W1 += eta W2^T E, W2 += eta E W1^T, E = C - W2 W1."""
    require(np.isfinite(eta) and eta > 0, "eta", "a finite number > 0", eta)
    W1, W2 = (np.array(w, dtype=float) for w in initial)
    C, U, V = (np.asarray(data[name], dtype=float) for name in ("C", "U", "V"))
    steps = np.arange(n_steps + 1) if record is None else np.unique(np.asarray(record, dtype=np.int64))
    wanted = set(int(q) for q in steps)
    loss, modes = [], []

    def observe():
        loss.append(numpy_loss(W1, W2, C))
        modes.append(np.diag(U.T @ (W2 @ W1) @ V).copy())

    if 0 in wanted:
        observe()
    for step in range(1, int(n_steps) + 1):
        residual = C - W2 @ W1
        W1, W2 = W1 + eta * W2.T @ residual, W2 + eta * residual @ W1.T
        if not (np.all(np.isfinite(W1)) and np.all(np.isfinite(W2))):
            raise DivergenceError(step, "W_1" if not np.all(np.isfinite(W1)) else "W_2", f"NumPy GD with eta = {eta}")
        if step in wanted:
            observe()
    return SquaredTrajectory(steps.astype(float), np.array(loss), np.array(modes), (W1, W2), "gd (numpy)")
