"""Drivers for lane systems: many independent copies of a small Flow or Map, one kernel call.

The kernel (what one step does) is generated from the symbolic system; this module is the
driver (how many steps, which lanes, where to record, what to do on divergence, and on how many
threads: ``strategy.choose_strategy`` from the work of the call, reported on the trajectory).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numba
import numpy as np

from gradflow.theory.errors import require

from gradflow.numerics.codegen.layout import BLOCK
from gradflow.numerics.errors import DivergenceError, IntegrationError
from gradflow.numerics.integrators import FLOW_METHODS
from gradflow.numerics.integrators.dopri5 import BLOCK as FLOW_BLOCK
from gradflow.numerics.integrators.dopri5 import BLOCK_STATES
from gradflow.numerics.drivers.progress import chunked
from gradflow.numerics.drivers.strategy import FLOW_STEPS_GUESS, Strategy, choose_strategy, threads_of


MIN_BLOCK = 8  # one AVX-512 vector of float64
FLOW_GROUP = 4096  # lanes per call of the adaptive integrators (each call well under a second)


@dataclass(frozen=True)
class LaneSignature:
    """What the driver needs of a lane system to call its generated module: names, in the module's order.

    Built from the symbolic system (``of``) or read back from the warm index, so that a warm start
    runs without the symbolic system (and without SymPy)."""

    name: str
    kind: str  # "flow" or "map"
    states: tuple
    params: tuple
    observables: tuple = ()
    conditions: tuple = ()
    defines: tuple = ()

    @property
    def dimension(self) -> int:
        return len(self.states)

    @classmethod
    def of(cls, system, observables=(), conditions=()) -> "LaneSignature":
        from gradflow.numerics.codegen.lane_module import defines
        from gradflow.theory.flow import Flow

        return cls(system.name, "flow" if isinstance(system, Flow) else "map", tuple(map(str, system.states)),
                   tuple(map(str, system.params)), tuple(observables), tuple(conditions),
                   defines(system, dict.fromkeys(observables)))

    def to_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: dict) -> "LaneSignature":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def lane_parameters(system, values: Mapping, lanes: int) -> np.ndarray:
    """The (lanes, P) parameter array of ``system`` (a Flow, Map or LaneSignature) from ``{name: value}``:
    each value a number (the same in every lane) or one number per lane, the columns in the system's own
    parameter order (the order its generated module's docstring lists)."""
    names = [str(s) for s in system.params]
    for name in values:
        require(name in names, str(name), f"a parameter of {system.name}: one of {', '.join(names)}")
    columns = []
    for name in names:
        require(name in values, name, f"given (every parameter of {system.name} needs a value: {', '.join(names)})")
        column = np.asarray(values[name], dtype=float)
        require(column.ndim == 0 or column.shape == (lanes,), name, f"a number or one value per lane ({lanes})",
                column.shape)
        columns.append(np.broadcast_to(column, (lanes,)))
    return np.stack(columns, axis=1) if columns else np.zeros((lanes, 0))


@dataclass
class LaneTrajectory:
    """states[r, lane, i] at times[r]; observables[name][r, lane]; first_hits[name][lane] (Map
    iteration with conditions): the first step in 0..n_steps at which the condition held, -1 if never."""

    times: np.ndarray
    states: np.ndarray
    observables: dict = field(default_factory=dict)
    method: str = ""
    work: np.ndarray | None = None  # steps taken per lane (adaptive methods)
    first_hits: dict = field(default_factory=dict)
    strategy: Strategy | None = None  # threads the kernel ran on, chosen from the work size


def lanes_per_block(lanes: int, most: int = BLOCK, threads: int | None = None) -> int:
    """Lanes per block of iterate_map (most = BLOCK, 256: a block's states stay in L1 while it steps) or of
    integrate_dopri5 (most from LaneSimulator._flow_block), or fewer, a multiple of MIN_BLOCK, so that every
    thread gets a block when the lanes are few."""
    threads = max(1, numba.get_num_threads() if threads is None else threads)
    per_thread = -(-lanes // threads)
    return int(min(most, max(MIN_BLOCK, -(-per_thread // MIN_BLOCK) * MIN_BLOCK)))


class LaneSimulator:
    """Compiled simulator for a lane Flow or Map with optional per-lane observables.

    ``conditions`` (Map systems): name -> SymPy relation(s) of states and params, e.g.
    ``And(m1 >= 0, m2 > 0)``; ``iterate`` then also returns, per lane, the first step in 0..n_steps at
    which it holds (``first_hits[name]``, -1 if never), checked inside the kernel at every step (step 0
    included), so an ensemble needs to record nothing but, say, the final state.  The same convention
    as :class:`numerics.drivers.cuda.CudaLaneSimulator`.
    """

    def __init__(self, system, observables: dict | None = None, conditions: dict | None = None):
        from gradflow.numerics.codegen.lane_module import lane_module

        self._system = system
        self.observable_exprs = dict(observables or {})
        self.condition_exprs = dict(conditions or {})
        self.signature = LaneSignature.of(system, self.observable_exprs, self.condition_exprs)
        self.module, self.path, self.cache_hit = lane_module(system, self.observable_exprs, self.condition_exprs)
        self._build = None

    @classmethod
    def from_module(cls, signature: LaneSignature, module, path, build) -> "LaneSimulator":
        """A simulator over an already generated ``module`` (a warm start: no symbolic system needed);
        ``build()`` gives (system, observables, conditions) when the symbolic system is asked for."""
        sim = cls.__new__(cls)
        sim._system, sim._build, sim.signature = None, build, signature
        sim.module, sim.path, sim.cache_hit = module, path, True
        sim.observable_exprs = dict.fromkeys(signature.observables)
        sim.condition_exprs = dict.fromkeys(signature.conditions)
        return sim

    @property
    def system(self):
        """The symbolic Flow or Map (derived on first use after a warm start)."""
        if self._system is None:
            self._system, observables, conditions = self._build()
            self.observable_exprs, self.condition_exprs = dict(observables or {}), dict(conditions or {})
        return self._system

    @property
    def source(self) -> str:
        return self.path.read_text()

    def _lanes(self, initial, params):
        k, P = self.signature.dimension, len(self.signature.params)
        x0 = np.ascontiguousarray(np.atleast_2d(np.asarray(initial, dtype=float)))
        if x0.shape[1] != k and x0.shape[0] == k and k == 1:
            x0 = x0.T.copy()
        if isinstance(params, Mapping):
            params = lane_parameters(self.signature, params, x0.shape[0])
        q = np.ascontiguousarray(np.atleast_2d(np.asarray(params, dtype=float)))
        require(x0.ndim == 2 and x0.shape[1] == k, "initial", f"an array of shape (lanes, {k})", x0.shape)
        require(q.ndim == 2 and q.shape[1] == P, "params",
                f"an array of shape (lanes, {P}) in the order {list(self.signature.params)}", q.shape)
        require(q.shape[0] == x0.shape[0], "params", "one row per lane (same count as initial)", q.shape)
        require(bool(np.all(np.isfinite(q))) and bool(np.all(np.isfinite(x0))), "params", "finite numbers")
        return x0, q

    def _flow_block(self, lanes: int, threads: int | None = None) -> int:
        """Lanes per block of integrate_dopri5: at most BLOCK_STATES / (states per lane), so that a block's
        stages stay in cache (measured on the margin flow, 1e5 lanes: 256 lanes 11% faster than 64)."""
        most = max(MIN_BLOCK, min(FLOW_BLOCK, BLOCK_STATES // self.signature.dimension // MIN_BLOCK * MIN_BLOCK))
        return lanes_per_block(lanes, most, threads)

    def _observe(self, states, q):
        return {name: getattr(self.module, f"observable_{name}")(states, q) for name in self.signature.observables}

    def iterate(self, initial, params, n_steps: int, record=None, progress: bool = False) -> LaneTrajectory:
        """Exact map iteration (GD steps); record: step indices (default every step).

        ``params`` is ``{name: number or one value per lane}`` or, the fast path, a (lanes, P) array in
        the order of ``system.params``.

        With conditions, ``first_hits[name][lane]`` is the first step in 0..n_steps at which the
        condition held (-1 if never), whatever is recorded.  With ``progress`` a long run is cut into
        chunks under a progress bar; the states and first hits are the same as in one call.  A lane
        whose state turns non-finite raises DivergenceError (step and component; the lowest such lane,
        of those diverged by the end of the call or chunk)."""
        require(self.signature.kind == "map", "method", "'map' only for a Map system")
        require(not isinstance(n_steps, bool) and int(n_steps) == n_steps and n_steps >= 0, "n_steps",
                "a non-negative integer", n_steps)
        x0, q = self._lanes(initial, params)
        steps = np.arange(n_steps + 1) if record is None else np.unique(np.asarray(record, dtype=np.int64))
        require(steps.size > 0 and steps[0] >= 0 and steps[-1] <= n_steps, "record", f"steps within [0, {n_steps}]")
        steps = np.ascontiguousarray(steps, dtype=np.int64)
        L = x0.shape[0]
        out = np.empty((steps.size, L, x0.shape[1]))  # every row is written (or DivergenceError is raised)
        state = x0.copy()
        status = -np.ones((L, 2), dtype=np.int64)
        hits = -np.ones((max(len(self.signature.conditions), 1), L), dtype=np.int64)
        strategy = choose_strategy(float(L) * max(n_steps, 1) * self.signature.dimension)
        block = lanes_per_block(L, threads=strategy.threads)
        with threads_of(strategy), chunked(int(n_steps), steps, L, progress, self.signature.name) as chunks:
            for first, last, _ in (chunks if n_steps else [(0, 0, None)]):
                self.module.iterate_map(state, q, int(first), int(last - first), steps, out, status, hits, block)
                failed = np.flatnonzero(status[:, 0] >= 0)
                if failed.size:
                    lane = failed[0]
                    parameters = dict(zip(self.signature.params, q[lane].tolist()))
                    raise DivergenceError(int(status[lane, 0]), self.signature.states[status[lane, 1]],
                                          f"lane {lane}, parameters {parameters}")
        with threads_of(strategy):
            observed = self._observe(out, q)
        return LaneTrajectory(steps.astype(float), out, observed, "map", None,
                              {name: hits[c] for c, name in enumerate(self.signature.conditions)}, strategy)

    def integrate(self, initial, params, times, method: str = "dopri5", step: float = 1e-2, rtol: float = 1e-10,
                  atol: float = 1e-12, t_switch: float = 1.0, max_steps: int = 10_000_000) -> LaneTrajectory:
        """Integrate a Flow to each of ``times`` with rk4 (fixed ``step``), dopri5 or logtime.

        dopri5 and logtime control every lane's step size, error and step count (``work``, ``max_steps``)
        separately, as if it were integrated alone; the kernel advances the lanes in blocks (vectorised)."""
        require(self.signature.kind == "flow", "method", "an integrator only for a Flow system")
        require(method in FLOW_METHODS, "method", f"one of {FLOW_METHODS}", method)
        x0, q = self._lanes(initial, params)
        times = np.asarray(times, dtype=float)
        require(times.ndim == 1 and times.size > 0 and bool(np.all(np.isfinite(times))), "times",
                "a non-empty 1-D array of finite times", times)
        require(bool(np.all(np.diff(times) >= 0)) and times[0] >= 0, "times", "sorted and non-negative")
        require(np.isfinite(t_switch) and t_switch > 0, "t_switch", "a finite number > 0", t_switch)
        require(int(max_steps) == max_steps and max_steps >= 1, "max_steps", "an integer >= 1", max_steps)
        require(step > 0, "step", "> 0", step)
        require(rtol > 0 and atol > 0, "rtol/atol", "> 0")
        out = np.full((times.size, x0.shape[0], x0.shape[1]), np.nan)
        steps_per_lane = times[-1] / step if method == "rk4" else FLOW_STEPS_GUESS
        strategy = choose_strategy(float(x0.shape[0]) * max(steps_per_lane, 1.0) * self.signature.dimension)
        with threads_of(strategy):
            work = self._integrate(x0, q, times, method, step, rtol, atol, t_switch, max_steps, out, strategy)
            observed = self._observe(out, q)
        return LaneTrajectory(times, out, observed, method, work, strategy=strategy)

    def _integrate(self, x0, q, times, method, step, rtol, atol, t_switch, max_steps, out, strategy):
        """Fill ``out``; the steps taken per lane (adaptive methods) or None.  Raises on divergence."""
        work = None
        if method == "rk4":
            status = -np.ones((x0.shape[0], 2), dtype=np.int64)
            self.module.integrate_rk4(x0, q, times, float(step), out, status)
            failed = np.flatnonzero(status[:, 0] >= 0)
            if failed.size:
                lane = failed[0]
                raise DivergenceError(int(status[lane, 0]), self.signature.states[status[lane, 1]], f"lane {lane}")
        else:
            status = np.zeros((x0.shape[0], 2), dtype=np.int64)
            # lanes in groups, one kernel call each, so that Ctrl-C is answered between them; every lane
            # is integrated on its own (its own steps and error control), so the groups change no number
            for first in range(0, x0.shape[0], FLOW_GROUP):
                lanes = slice(first, first + FLOW_GROUP)
                part, part_status = np.empty((times.size, *x0[lanes].shape)), np.zeros((x0[lanes].shape[0], 2),
                                                                                       dtype=np.int64)
                self.module.integrate_dopri5(np.ascontiguousarray(x0[lanes]), np.ascontiguousarray(q[lanes]), times,
                                             method == "logtime", float(t_switch), float(rtol), float(atol),
                                             int(max_steps), part, part_status,
                                             self._flow_block(x0.shape[0], strategy.threads))
                out[:, lanes], status[lanes] = part, part_status
            work = status[:, 0].copy()
            codes = status[:, 1]
            if np.any(codes >= 0):
                lane = int(np.flatnonzero(codes >= 0)[0])
                raise DivergenceError(int(status[lane, 0]), self.signature.states[codes[lane]], f"lane {lane}")
            if np.any(codes < -1):
                lane = int(np.flatnonzero(codes < -1)[0])
                reason = "too many steps" if codes[lane] == -2 else "step size underflow"
                raise IntegrationError(f"{method} stopped in lane {lane} after {status[lane, 0]} steps: {reason}")
        return work
