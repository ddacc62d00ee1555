"""W-space GD and flow on (W1, W2): the generated squared-loss kernel and its driver.

The code generator itself (gradflow.numerics.codegen.squared_module) is generic; here it is given
the two-layer network's system, with the mode strengths diag(U^T W2 W1 V) as the recorded observable.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradflow.numerics.codegen.squared_module import SquaredSystem, squared_module
from gradflow.numerics.drivers.progress import chunked
from gradflow.numerics.errors import DivergenceError
from gradflow.theory.errors import ParameterError, require
from gradflow.theory.model import Model
from gradflow.theory.models import deep_linear


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
        row = 0
        with chunked(int(n_steps), steps, work, progress, self.system.name) as chunks:
            for first, last, _ in itertools.chain([(0, 0, None)], chunks):  # (0, 0): the record of step 0
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
