"""When a training phase stops: the first rule that holds, by name, and the best point seen.

Rules, checked after every iteration (an accepted integrator step, a GD/SGD/Adam step, a polish
step), in this order:

  maxtime        the phase ran for ``maxtime`` seconds of wall time
  maxiterations  the phase took ``maxiterations`` iterations
  minloss        loss <= ``minloss``
  min_gnorm      |grad L|_inf <= ``min_gnorm``
  patience       no new best loss in the last ``patience`` loss evaluations
  maxT           the flow reached time ``maxT`` (flows only)
  stationary     without a maxT, the integrator's steps grew without bound: the flow is at rest
  no_progress    (polish) no step lowers the loss any more: rounding level
  stalled        (Newton in newton-bfgs) |grad|_inf has not fallen tenfold in 10 iterations: BFGS goes on
  interrupted    another thread asked the run to end (``train_ensemble`` on Ctrl-C), checked first

Losses and gradient norms are those of the regularised mean loss.  The phase's result is the
best-loss point seen, not the last one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import require

RULES = ("maxtime", "maxiterations", "minloss", "min_gnorm", "patience", "maxT")


@dataclass(frozen=True)
class Limits:
    maxtime: float = math.inf
    maxiterations: int = 10 ** 6
    minloss: float = 1e-30
    min_gnorm: float = 1e-13
    patience: int = 10 ** 6
    maxT: float = math.inf

    def __post_init__(self):
        require(self.maxtime > 0, "maxtime", "a number > 0", self.maxtime)
        require(self.maxiterations >= 0, "maxiterations", "an integer >= 0", self.maxiterations)
        require(self.minloss >= 0, "minloss", "a number >= 0", self.minloss)
        require(self.min_gnorm >= 0, "min_gnorm", "a number >= 0", self.min_gnorm)
        require(self.patience >= 1, "patience", "an integer >= 1", self.patience)
        require(self.maxT > 0, "maxT", "a number > 0", self.maxT)


class Tracker:
    """Watches one phase: counts iterations and loss evaluations, keeps the best point, names the stop."""

    def __init__(self, limits: Limits, bar=None, stop=None):
        self.limits = limits
        self.stop = stop  # a threading.Event: once set, the next check ends the phase ("interrupted")
        self.bar = bar  # a tqdm bar over the iterations (None: no progress shown)
        self.started = time.perf_counter()
        self.iterations = 0
        self.evaluations = 0
        self.best_loss = math.inf
        self.best_x: np.ndarray | None = None
        self.best_gnorm = math.inf
        self.best_evaluation = 0
        self.stopped_by: str | None = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def observe(self, x, loss: float, gnorm: float) -> None:
        """A loss (and its gradient norm) evaluated at x."""
        self.evaluations += 1
        if loss < self.best_loss or (loss == self.best_loss and gnorm < self.best_gnorm):
            self.best_loss, self.best_x, self.best_gnorm = loss, np.array(x, dtype=float), gnorm
            self.best_evaluation = self.evaluations

    def step(self) -> None:
        self.iterations += 1
        if self.bar is not None:
            self.bar.update()
            if self.iterations % 100 == 1:
                self.bar.set_postfix(loss=f"{self.best_loss:.3e}", refresh=False)

    def close(self) -> None:
        """End the progress bar (if any) with the stop reason."""
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{self.best_loss:.3e}", stopped_by=self.stopped_by or "-", refresh=False)
            self.bar.close()

    def check(self, loss: float, gnorm: float, t: float | None = None) -> str | None:
        """The first rule that holds now (also remembered as ``stopped_by``), or None."""
        limits = self.limits
        reason = None
        if self.stop is not None and self.stop.is_set():
            reason = "interrupted"
        elif self.elapsed >= limits.maxtime:
            reason = "maxtime"
        elif self.iterations >= limits.maxiterations:
            reason = "maxiterations"
        elif loss <= limits.minloss:
            reason = "minloss"
        elif gnorm <= limits.min_gnorm:
            reason = "min_gnorm"
        elif self.evaluations - self.best_evaluation >= limits.patience:
            reason = "patience"
        elif t is not None and t >= limits.maxT:
            reason = "maxT"
        if reason is not None:
            self.stopped_by = reason
        return reason


def log_times(t0: float, t_end: float, n: int) -> np.ndarray:
    """t_i = 10^linspace(log10(t0 + 1), log10(t_end + 1), n) - 1: dense early, sparse late."""
    return np.power(10.0, np.linspace(np.log10(t0 + 1.0), np.log10(t_end + 1.0), n)) - 1.0


class Recorder:
    """Points of a run, kept at most ``4 n`` at a time (when full, every other one is dropped and the
    spacing doubles), then ``select``-ed at n target times: log-spaced for flows, even for discrete
    methods (whose time is the iteration)."""

    def __init__(self, n: int, spacing: str = "log"):
        self.n = n
        self.spacing = spacing
        self.times: list[float] = []
        self.points: list[np.ndarray] = []
        self.losses: list[float] = []
        self._stride = 1.0 / (4.0 * max(n, 1)) if spacing == "log" else 1.0
        self._last = -math.inf
        self._latest = None

    def _position(self, t: float) -> float:
        return math.log10(1.0 + max(t, 0.0)) if self.spacing == "log" else float(t)

    def record(self, t: float, x, loss: float, force: bool = False) -> None:
        self._latest = (float(t), x, float(loss))  # the run's last point is always kept (see select)
        position = self._position(t)
        if not (force or position - self._last >= self._stride * (1 - 1e-12)):
            return
        if self.times and t == self.times[-1]:
            return
        self.times.append(float(t))
        self.points.append(np.array(x, dtype=float))
        self.losses.append(float(loss))
        self._last = position
        if len(self.times) > 4 * max(self.n, 1):
            keep = list(range(0, len(self.times) - 1, 2)) + [len(self.times) - 1]
            self.times = [self.times[i] for i in keep]
            self.points = [self.points[i] for i in keep]
            self.losses = [self.losses[i] for i in keep]
            self._stride *= 2.0

    def select(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, points, losses) at the recorded points nearest to n target times, the last one included."""
        latest = self._latest
        if latest is not None and (not self.times or latest[0] != self.times[-1]):
            self.times.append(latest[0])
            self.points.append(np.array(latest[1], dtype=float))
            self.losses.append(latest[2])
        times = np.asarray(self.times)
        if len(times) <= self.n:
            chosen = np.arange(len(times))
        else:
            if self.spacing == "log":
                targets, axis = np.log10(1.0 + log_times(times[0], times[-1], self.n)), np.log10(1.0 + times)
            else:
                targets, axis = np.linspace(times[0], times[-1], self.n), times
            chosen = np.unique(np.clip(np.searchsorted(axis, targets), 0, len(times) - 1))
        return times[chosen], np.array([self.points[i] for i in chosen]), np.asarray(self.losses)[chosen]
