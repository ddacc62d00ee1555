"""Recording grids: the steps or times at which observables are stored."""

from __future__ import annotations

import numpy as np

from gradflow.theory.errors import require


def log_steps(n_steps: int, per_decade: int = 50) -> np.ndarray:
    """0, 1, and about ``per_decade`` log-spaced integer steps per decade up to n_steps."""
    require(n_steps >= 0, "n_steps", ">= 0", n_steps)
    if n_steps == 0:
        return np.zeros(1, dtype=np.int64)
    decades = max(np.log10(n_steps), 1e-9)
    grid = np.unique(np.round(np.logspace(0, np.log10(n_steps), int(per_decade * decades) + 2)).astype(np.int64))
    return np.unique(np.concatenate(([0], grid, [n_steps])))


def log_times(t_end: float, t_start: float = 1e-3, per_decade: int = 20) -> np.ndarray:
    """0 followed by log-spaced times from t_start to t_end."""
    require(t_end > 0 and np.isfinite(t_end), "t_end", "a finite number > 0", t_end)
    t_start = min(t_start, t_end)
    count = max(2, int(per_decade * np.log10(t_end / t_start)) + 1)
    return np.concatenate(([0.0], np.logspace(np.log10(t_start), np.log10(t_end), count)))


def record_steps(n_steps: int, every_step_up_to: int = 100_000, per_decade: int = 200) -> np.ndarray:
    """The steps a simulation records: every step while there are at most ``every_step_up_to``
    of them (small enough to print), log-spaced beyond (``per_decade`` a decade)."""
    require(n_steps >= 0, "n_steps", ">= 0", n_steps)
    return np.arange(n_steps + 1) if n_steps <= every_step_up_to else log_steps(n_steps, per_decade)
