"""Driver for one large matrix-valued system (W-space GD, logit particles): GD, SGD, RK4 flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gradflow.theory.errors import require

from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.memory import keep_freed_memory
from gradflow.numerics.drivers.progress import CHUNK_WORK, chunked
from gradflow.numerics.drivers.strategy import Strategy, blas_threads_of, choose_blas_strategy, split_rows

if TYPE_CHECKING:  # SymPy: imported where a system is built, not on a warm start
    from gradflow.numerics.codegen.matrix_module import MatrixSystem
    from gradflow.theory.model import MatrixFlow, Model


@dataclass
class ParticleTrajectory:
    t: np.ndarray
    loss: np.ndarray
    l01: np.ndarray
    margins: np.ndarray  # (records, N)
    norm: np.ndarray  # Frobenius norm of the state
    final_state: np.ndarray
    method: str
    strategy: Strategy | None = None  # BLAS threads of the step's products, chosen from their size


def weight_space_system(model: Model) -> MatrixSystem:
    """GD on the model's single matrix parameter, gradient from the matrix chain rule."""
    require(len(model.parameters) == 1, "model", "a model with one matrix parameter for weight-space kernels")
    import sympy as sp

    from gradflow.numerics.codegen.matrix_module import MatrixSystem

    (param,) = model.parameters
    direction = sp.MatrixSymbol("V", *param.shape)
    hvp = model.hessian_vector_product(param, direction).xreplace({model.prediction: model.prediction_symbol})
    return MatrixSystem(
        f"{model.name}: weight space", param, tuple(model.data), model.prediction,
        -model.gradient(param, placeholder=True), model.loss_gradient_symbol,
        model.head.gradient(model.prediction_symbol), model.prediction_symbol, model.head, hvp, direction,
    )


def reduced_system(model: Model, flow: MatrixFlow, data: tuple) -> MatrixSystem:
    """A reduced MatrixFlow (e.g. logit particles) whose state is the prediction itself."""
    from gradflow.numerics.codegen.matrix_module import MatrixSystem

    (state,) = flow.states
    (placeholder, (meaning, argument)), = flow.knowns.items()
    require(argument == state, "flow", "a reduction whose state is the prediction")
    return MatrixSystem(f"{model.name}: {flow.name}", state, tuple(data), state, flow.rhs[0], placeholder,
                        meaning.xreplace({model.prediction_symbol: state}), model.prediction_symbol, model.head)


@dataclass(frozen=True)
class ParticleSignature:
    """What the driver needs of a MatrixSystem to call its generated module (names only): built from the
    system (``of``) or read back from the warm index, so that a warm start needs no SymPy."""

    name: str
    state: str
    data: tuple  # names of the data arrays, in the module's argument order
    has_hvp: bool
    defines: tuple = ()

    @classmethod
    def of(cls, system: MatrixSystem) -> "ParticleSignature":
        return cls(system.name, str(system.state), tuple(s.name for s in system.data), system.hvp is not None,
                   system.defines())

    def to_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: dict) -> "ParticleSignature":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class ParticleSimulator:
    def __init__(self, system: MatrixSystem):
        from gradflow.numerics.codegen.matrix_module import matrix_module

        self._system, self._build = system, None
        self.signature = ParticleSignature.of(system)
        self.module, self.path, self.cache_hit = matrix_module(system)

    @classmethod
    def from_module(cls, signature: ParticleSignature, module, path, build) -> "ParticleSimulator":
        """A simulator over an already generated ``module`` (a warm start); ``build()`` gives the MatrixSystem
        when it is asked for."""
        sim = cls.__new__(cls)
        sim._system, sim._build, sim.signature = None, build, signature
        sim.module, sim.path, sim.cache_hit = module, path, True
        return sim

    @property
    def system(self) -> MatrixSystem:
        """The symbolic MatrixSystem (built on first use after a warm start)."""
        if self._system is None:
            self._system = self._build()
        return self._system

    @property
    def source(self) -> str:
        return self.path.read_text()

    def _arrays(self, state, data, labels):
        X = np.ascontiguousarray(state, dtype=float)
        require(X.ndim == 2, "initial state", "a matrix")
        arrays = []
        for name in self.signature.data:
            if name not in data:
                raise KeyError(f"data is missing {name!r}")
            a = np.ascontiguousarray(data[name], dtype=float)
            require(a.ndim == 2, name, "a 2-D array", a.shape)
            require(bool(np.all(np.isfinite(a))), name, "finite numbers")
            arrays.append(a)
        labels = np.ascontiguousarray(labels, dtype=np.int64)
        return X, arrays, labels

    def _gd_request(self, state, data, labels, eta, n_steps, record, batch, seed):
        """Validated GD inputs: (X, data arrays, labels, the sorted recorded steps)."""
        require(eta > 0 and np.isfinite(eta), "eta", "a finite number > 0", eta)
        require(int(n_steps) == n_steps and n_steps >= 0, "n_steps", "a non-negative integer", n_steps)
        require(int(batch) == batch and batch >= 0, "batch", "a non-negative integer", batch)
        require(int(seed) == seed and seed >= 0, "seed", "an integer >= 0", seed)
        X, arrays, labels = self._arrays(state, data, labels)
        steps = np.arange(n_steps + 1) if record is None else np.unique(np.asarray(record, dtype=np.int64))
        require(steps.size > 0 and steps[0] >= 0 and steps[-1] <= n_steps, "record", f"steps within [0, {n_steps}]")
        return X, arrays, labels, steps

    def hessian_vector_product(self, state, direction, data: dict):
        require(self.signature.has_hvp, "system", "a weight-space system (it has no Hessian kernel)")
        X, arrays, _ = self._arrays(state, data, np.zeros(0))
        return self.module.hessian_vector_product(X, np.ascontiguousarray(direction, dtype=float), *arrays)

    def loss(self, state, data: dict) -> float:
        X, arrays, _ = self._arrays(state, data, np.zeros(0))
        return float(self.module.loss_of_prediction(self.module.prediction(X, *arrays), *arrays))

    def _allocate(self, R, N):
        return (np.full(R, np.nan), np.full(R, np.nan), np.full((R, N), np.nan), np.full(R, np.nan),
                -np.ones(1, dtype=np.int64))

    def _check(self, status, what, offset=0):
        if status[0] >= 0:
            raise DivergenceError(offset + int(status[0]), self.signature.state, what)

    def gd(self, state, data: dict, labels, eta: float, n_steps: int, record=None, batch: int = 0,
           seed: int = 0, progress: bool = False) -> ParticleTrajectory:
        """Full-batch GD (batch=0) or SGD with ``batch`` i.i.d. inputs per step.

        With ``progress`` a long run is cut into chunks under a progress bar; SGD seeds its
        generator once, so the trajectory is the same as in one call."""
        X, arrays, labels, steps = self._gd_request(state, data, labels, eta, n_steps, record, batch, seed)
        loss, l01, margins, norm, _ = self._allocate(steps.size, labels.size)
        work = X.size * max(1, labels.size)
        strategy = self._prepare_run(X)
        if hasattr(self.module, "run_gd_rows"):
            strategy = split_rows(strategy, X.shape[0])
        run_gd = (self.module.run_gd if not strategy.row_blocks
                  else lambda *args: self.module.run_gd_rows(*args, strategy.threads))
        with blas_threads_of(strategy), chunked(int(n_steps), steps, work, progress, self.signature.name) as chunks:
            if steps[0] == 0:
                zero = self._allocate(1, labels.size)
                self.module.run_gd(X, *arrays, labels, float(eta), 0, np.zeros(1, dtype=np.int64), 0, 0, *zero)
                loss[0], l01[0], margins[0], norm[0] = zero[0][0], zero[1][0], zero[2][0], zero[3][0]
            for first, last, rows in chunks:
                local = (steps[rows] - first).astype(np.int64)
                chunk_seed = int(seed) if first == 0 else -1  # -1: keep the generator's state
                out = self._allocate(local.size, labels.size)
                X = run_gd(X, *arrays, labels, float(eta), last - first, local, int(batch), chunk_seed, *out)
                self._check(out[4], f"{'SGD' if batch else 'GD'} with eta = {eta}", first)
                loss[rows], l01[rows], margins[rows], norm[rows] = out[0], out[1], out[2], out[3]
        return ParticleTrajectory(steps.astype(float), loss, l01, margins, norm, X, "sgd" if batch else "gd", strategy)

    def flow(self, state, data: dict, labels, times, step: float = 1e-2) -> ParticleTrajectory:
        """Gradient flow by fixed-step RK4, observables at ``times``."""
        require(step > 0, "step", "> 0", step)
        X, arrays, labels = self._arrays(state, data, labels)
        times = np.asarray(times, dtype=float)
        require(times.ndim == 1 and bool(np.all(np.diff(times) >= 0)) and times[0] >= 0, "times",
                "a sorted array of non-negative times")
        loss, l01, margins, norm, status = self._allocate(times.size, labels.size)
        clock = np.zeros(2)  # [next record, time]: the kernel goes on from there
        budget = max(1, CHUNK_WORK // (4 * X.size * max(1, labels.size)))  # RK4 steps per call
        taken = 0
        strategy = self._prepare_run(X)
        with blas_threads_of(strategy):
            while clock[0] < times.size:
                X = self.module.run_rk4(X, *arrays, labels, float(step), times, clock, budget, loss, l01, margins,
                                        norm, status)
                self._check(status, f"RK4 with step {step}", taken)
                taken += budget
        return ParticleTrajectory(times, loss, l01, margins, norm, X, "flow", strategy)

    @staticmethod
    def _prepare_run(X) -> Strategy:
        """Freed memory kept, and the BLAS strategy for the products of a step from state ``X``."""
        # every step allocates its products afresh (8 MiB each at N = M = 1024): keeping the freed pages
        # took a step there from 35 to 25.5 ms, NumPy's time
        keep_freed_memory()
        # the step's products are about (rows x cols) x the larger side multiply-adds each
        return choose_blas_strategy(float(X.size) * max(X.shape))

