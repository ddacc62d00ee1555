"""The am-phase ensemble: one kernel launch over a (p1, alpha, eta) grid, the first step with L01 = 0."""

from __future__ import annotations

import time

import numpy as np

from gradflow.derivations.two_particle.simulators import lane_map_cuda_simulator, lane_map_simulator
from gradflow.numerics import parameter_grid
from gradflow.theory.errors import require
from gradflow.theory.models import two_particle as tp

PHASE_STEPS = 1000  # iterates W_0 .. W_999 (a loop of 1000 GD steps logging L01 before each update)


def phase_axes():
    """p1 = expit(logspace(-0.5, 0.5, 10)), alpha = linspace(0.5, 1, 10), eta = logspace(-1, 1, 10)."""
    p1 = 1.0 / (1.0 + np.exp(-np.logspace(-0.5, 0.5, 10)))
    return p1, np.linspace(0.5, 1.0, 10), np.logspace(-1, 1, 10)


def first_hits(p1s, alphas, etas, n_iterates: int = PHASE_STEPS, progress: bool = False, backend: str = "cpu"):
    """One ensemble launch over the (p1, alpha, eta) grid; first t < n_iterates with L01 = 0, else n_iterates - 1.

    L01 = 0 is checked inside the kernel at every step (either backend); only the final state is recorded.
    Returns (first_hit[p1][alpha][eta], kernel seconds)."""
    require(backend in ("cpu", "cuda"), "backend", "cpu or cuda", backend)
    sim = lane_map_simulator() if backend == "cpu" else lane_map_cuda_simulator()
    grid = parameter_grid(sim.system, {"p1": np.asarray(p1s, float), "alpha": np.asarray(alphas, float),
                                       "eta": np.asarray(etas, float)})
    tp.validate(grid.lanes[:, 0], grid.lanes[:, 1], grid.lanes[:, 2])
    x0 = np.zeros((grid.lanes.shape[0], 2))
    start = time.perf_counter()
    first = sim.iterate(x0, grid.lanes, n_iterates - 1, [n_iterates - 1], progress).first_hits["l01_zero"]
    first = np.where(first < 0, n_iterates - 1, first)
    seconds = time.perf_counter() - start
    return grid.reshape(first)[..., 0], seconds
