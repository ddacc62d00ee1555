"""The am-phase ensemble: one kernel launch over a (p1, alpha, eta) grid, the first step with L01 = 0."""

from __future__ import annotations

import time

import numpy as np

from gradflow.derivations.two_particle.laws import laws
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


def phase_findings(first, p1s, alphas, members: str = "lanes") -> list[str]:
    """The report's bullets on first_hit[p1][alpha][eta]: no dip -> 1 at every eta, a dip -> later,
    alpha = 1 (e_2 = e_1, contradictory labels) -> never."""
    P, A = np.meshgrid(p1s, alphas, indexing="ij")
    no_dip = A < laws().dip_threshold(P)
    never = first == PHASE_STEPS - 1
    early = first[no_dip]
    return [f"- Without a dip (alpha < p2/p1, {int(no_dip.sum())} of {no_dip.size} (p1, alpha) points) the first step "
            "already separates: predicted first_hit = 1 for every eta; measured: "
            f"{'all 1' if np.all(early == 1) else np.unique(early).tolist()[:10]}.",
            f"- With a dip (alpha > p2/p1) first_hit > 1: {'holds' if np.all(first[~no_dip] > 1) else 'violated'}.",
            f"- alpha = 1 (e_2 = e_1, contradictory labels, not separable): never "
            f"({'all' if np.all(never[:, -1, :]) else 'not all'} {PHASE_STEPS - 1}); no NaN.",
            f"- Never within {PHASE_STEPS} steps: {int(never.sum())} of {first.size} {members}."]
