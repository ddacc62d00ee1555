"""Side-by-side benchmark harness (specs/performance.md).

A cell runs the same mathematical work in every implementation, checks that they agree,
times compilation apart (the first call), takes the median of repeats, and reports each
peer's time over gradflow's.  The machine ceilings are measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Implementation:
    name: str
    run: Callable[[], np.ndarray]  # returns the compared result
    peer: bool = True  # False for gradflow's own variants
    skipped: str = ""  # why it could not run (missing package), empty if it ran


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

    def to_dict(self) -> dict:
        return {"name": self.name, "skipped": self.skipped, "agree": self.agree, "max_rel_diff": self.max_rel_diff,
                "times": self.times, "compile_s": self.compile_s, "ratios": self.ratios,
                "fraction_of_ceiling": self.fraction_of_ceiling, "notes": self.notes,
                "skipped_implementations": self.skipped_impls}


def median_time(fn: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def relative_difference(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(float(np.max(np.abs(b))), 1e-300)
    return float(np.max(np.abs(a - b)) / scale)


def run_cell(name: str, implementations: list, repeats: int, tolerance: float, flops: float | None = None,
             ceiling_flops: float | None = None, notes: dict | None = None) -> CellResult:
    """Time every implementation (first call = compile/warm-up, reported apart)."""
    results, times, compile_s, skipped = {}, {}, {}, {}
    for impl in implementations:
        if impl.skipped:
            skipped[impl.name] = impl.skipped
            continue
        start = time.perf_counter()
        results[impl.name] = impl.run()
        compile_s[impl.name] = time.perf_counter() - start
        times[impl.name] = median_time(impl.run, repeats)
    reference = results["gradflow"]
    diffs = {k: relative_difference(v, reference) for k, v in results.items() if k != "gradflow"}
    worst = max(diffs.values(), default=0.0)
    ratios = {k: times[k] / times["gradflow"] for k in times if k != "gradflow"}
    fraction = None
    if flops is not None and ceiling_flops:
        fraction = (flops / times["gradflow"]) / ceiling_flops
    return CellResult(name, False, worst <= tolerance, worst, times, compile_s, ratios, fraction,
                      dict(notes or {}, max_rel_diff_by_impl=diffs), skipped)


def machine_ceilings(quick: bool) -> dict:
    """float64 GFLOP/s of a large NumPy matrix product (BLAS) and NumPy exp throughput."""
    n = 1024 if quick else 2048
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    a @ b
    seconds = median_time(lambda: a @ b, 3)
    x = rng.standard_normal(2_000_000 if quick else 10_000_000)
    np.exp(x)
    exp_seconds = median_time(lambda: np.exp(x), 3)
    return {"blas_gflops": 2 * n**3 / seconds / 1e9, "blas_size": n, "exp_gelems_per_s": x.size / exp_seconds / 1e9}
