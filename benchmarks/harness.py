"""Side-by-side benchmark harness.

A cell runs the same mathematical work in every implementation, checks that they agree,
times compilation apart (the first call), takes the median of repeats, and reports each
peer's time over gradflow's.  The machine ceilings are measured in the same run.

Scaled implementations: a slow peer may declare ``scale`` = (the cell's work) / (the work its ``run``
does), e.g. a NumPy loop timed on 2e4 of 6e5 GD steps has scale 30.  Its median is multiplied by
``scale`` before the ratio is taken (the cost per step is assumed constant: only for work that is
linear in the step count), the raw median is reported under ``scaled_implementations``, and its
result is compared with ``agree_with``: a gradflow variant doing the same reduced work.  A gradflow
variant timed on the reduced work with the same scale shows whether the linear extrapolation holds
(its ratio should be about 1).

Machine load: the 1-minute load average is read before and after each implementation's timings
(``notes["load"]``: name -> [before, after]); when the readings of one cell spread over more than
``LOAD_SPREAD`` (one core's worth of other work), ``notes["load_differs"]`` flags that the peers were
timed under different load and their ratios are not to be trusted.

Skipped cells (e.g. gpu-ensemble without a GPU): ``skipped_cell`` reports ``skipped: true``, no times,
no ratios, and the reason under ``skipped_implementations["cell"]`` and ``notes["skipped_reason"]``;
nothing ran, so ``agree`` is vacuously true and ``max_rel_diff`` is 0.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


LOAD_SPREAD = 1.0  # load-average spread within a cell above which its timings are flagged


def machine_load() -> float:
    """The 1-minute load average (NaN where the system has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


def load_notes(loads: dict) -> dict:
    """``loads``: name -> [before, after] readings; the notes that flag a cell timed under changing load."""
    values = [v for pair in loads.values() for v in pair if v == v]  # NaN: no reading
    spread = max(values) - min(values) if values else 0.0
    return {"load": loads, "load_spread": spread, "load_differs": spread > LOAD_SPREAD}


@dataclass
class Implementation:
    name: str
    run: Callable[[], np.ndarray]  # returns the compared result
    peer: bool = True  # False for gradflow's own variants
    skipped: str = ""  # why it could not run (missing package), empty if it ran
    scale: float = 1.0  # (cell's work) / (work of run); the reported time is median * scale
    agree_with: str | None = "gradflow"  # whose result this one must match; None: not compared


@dataclass
class CellResult:
    name: str
    skipped: bool
    agree: bool
    max_rel_diff: float
    times: dict
    compile_s: dict
    ratios: dict
    fraction_of_ceiling: float | None
    notes: dict = field(default_factory=dict)
    skipped_impls: dict = field(default_factory=dict)
    scaled: dict = field(default_factory=dict)  # name -> {"scale", "measured_median_s"}
    ceiling: str | None = None  # which machine ceiling fraction_of_ceiling refers to: "blas" or "exp"

    def to_dict(self) -> dict:
        return {"name": self.name, "skipped": self.skipped, "agree": self.agree, "max_rel_diff": self.max_rel_diff,
                "times": self.times, "compile_s": self.compile_s, "ratios": self.ratios,
                "fraction_of_ceiling": self.fraction_of_ceiling, "notes": self.notes,
                "skipped_implementations": self.skipped_impls, "scaled_implementations": self.scaled,
                "ceiling": self.ceiling}


def _timings(fn: Callable[[], object], repeats: int) -> list:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def median_time(fn: Callable[[], object], repeats: int) -> float:
    return statistics.median(_timings(fn, repeats))


def relative_difference(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(float(np.max(np.abs(b))), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)


def run_cell(name: str, implementations: list, repeats: int, tolerance: float, flops: float | None = None,
             ceiling_flops: float | None = None, notes: dict | None = None,
             compare: Callable[[object, object], float] = relative_difference, ceiling: str | None = None) -> CellResult:
    """Time every implementation (first call = compile/warm-up, reported apart).

    ``compare(result, reference)`` measures disagreement (default: max relative difference); the
    cell agrees when the worst value is <= ``tolerance``.  ``flops`` is the cell's work in the unit of
    ``ceiling_flops`` (per second), and ``ceiling`` names that ceiling ("blas" or "exp")."""
    results, times, compile_s, skipped, scaled, loads = {}, {}, {}, {}, {}, {}
    for impl in implementations:
        if impl.skipped:
            skipped[impl.name] = impl.skipped
            continue
        before = machine_load()
        start = time.perf_counter()
        results[impl.name] = impl.run()
        compile_s[impl.name] = time.perf_counter() - start
        measured = median_time(impl.run, repeats)
        times[impl.name] = measured * impl.scale
        if impl.scale != 1.0:
            scaled[impl.name] = {"scale": impl.scale, "measured_median_s": measured}
        loads[impl.name] = [before, machine_load()]
    by_name = {impl.name: impl for impl in implementations}
    diffs = {k: compare(v, results[by_name[k].agree_with]) for k, v in results.items()
             if k != "gradflow" and by_name[k].agree_with is not None}
    worst = max(diffs.values(), default=0.0)
    ratios = {k: times[k] / times["gradflow"] for k in times if k != "gradflow"}
    fraction = None
    if flops is not None and ceiling_flops:
        fraction = (flops / times["gradflow"]) / ceiling_flops
    return CellResult(name, False, worst <= tolerance, worst, times, compile_s, ratios, fraction,
                      dict(notes or {}, max_rel_diff_by_impl=diffs, **load_notes(loads)), skipped, scaled,
                      ceiling if fraction is not None else None)


def skipped_cell(name: str, reason: str, notes: dict | None = None) -> CellResult:
    """A cell that could not run at all (no GPU, ...): nothing timed, nothing compared."""
    return CellResult(name, True, True, 0.0, {}, {}, {}, None, dict(notes or {}, skipped_reason=reason),
                      {"cell": reason})


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` calls: what the machine can do when nothing else gets in the way."""
    return min(_timings(fn, repeats))


def machine_ceilings(quick: bool) -> dict:
    """float64 GFLOP/s of a large matrix product (BLAS) and NumPy exp throughput.

    The product is timed through NumPy's BLAS and through the one gradflow's kernels call (Numba's
    ``@``: SciPy's OpenBLAS); the ceiling is the faster, and both are reported with the kernels each
    OpenBLAS chose (``OPENBLAS_CORETYPE`` forces them).  Best of 5 (not the median): a ceiling taken
    while the machine was briefly busy would let an implementation exceed it (a median of 3 once read
    46 GFLOP/s where NumPy itself reached 68 in a cell)."""
    import os

    import numba

    from gradflow.numerics.blas import kernel_core

    @numba.njit
    def kernel_product(a, b):
        return a @ b

    n = 1024 if quick else 2048
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    a @ b
    kernel_product(a, b)
    rates = {"numpy": 2 * n**3 / best_time(lambda: a @ b, 5) / 1e9,
             "kernels": 2 * n**3 / best_time(lambda: kernel_product(a, b), 5) / 1e9}
    x = rng.standard_normal(2_000_000 if quick else 10_000_000)
    np.exp(x)
    exp_seconds = best_time(lambda: np.exp(x), 5)
    return {"blas_gflops": max(rates.values()), "blas_size": n, "blas_gflops_by_library": rates,
            "blas_cores": {"numpy": kernel_core("numpy"), "kernels": kernel_core("scipy")},
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
            "exp_gelems_per_s": x.size / exp_seconds / 1e9}
