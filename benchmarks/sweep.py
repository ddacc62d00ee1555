"""Bench cell ``sweep``: what the sweep runner costs, and a two-particle sweep at scale.

* ``sweep[overhead]``: the am-phase first hits over a (p1, alpha, eta) grid, (a) the raw vectorised
  lane kernel in this process on every core (Numba threads), (b) the same grid through the sweep
  runner on a LocalCluster of single-threaded worker processes, one per core (cluster started and
  workers' kernels loaded outside the timing; store creation, task scheduling, Zarr writes and done
  flags inside).  ``notes.throughput_fraction`` = raw time / runner time (target >= 0.9).
* ``sweep[scale]``: a two-particle first-hit sweep of ``members`` members through the runner into a
  fresh store: wall time (cluster start included and reported apart), store size on disk, and the
  peak resident memory of each worker process (bounded by the task size, not the grid).
"""

from __future__ import annotations

import math
import os
import resource
import shutil
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from gradflow.bench.harness import CellResult, Implementation, run_cell
from gradflow.derivations.two_particle.phase_sweep import phase_grid


def stored_first_hits(store) -> np.ndarray:
    """The store's first hits, read in this process (not as a task graph on the cluster), flattened."""
    import dask

    from gradflow.numerics.sweep import open_dataset

    with dask.config.set(scheduler="synchronous"):
        return open_dataset(str(store)).first_hit.values.reshape(-1)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def local_client(workers: int, client=None):
    """``client`` if given, else a LocalCluster of ``workers`` single-threaded processes (closed on exit)."""
    from gradflow.numerics.sweep.runner import local_cluster_client

    return nullcontext(client) if client is not None else local_cluster_client(workers)


def overhead(quick: bool, client) -> CellResult:
    from gradflow.derivations.registry import get_sweep_target
    from gradflow.derivations.two_particle.simulators import lane_map_simulator
    from gradflow.numerics.sweep import sweep

    grid = phase_grid(25, 20, 40) if quick else phase_grid(100, 100, 100)
    iterates, task, repeats = (200, 1 << 12, 2) if quick else (1000, 1 << 16, 3)
    members = int(np.prod([v.size for v in grid.values()]))
    workers = os.cpu_count() or 1
    target, sim = get_sweep_target("am-phase"), lane_map_simulator()
    lanes = np.stack(np.meshgrid(*grid.values(), indexing="ij"), -1).reshape(-1, 3)
    scratch = Path(tempfile.mkdtemp(prefix="gradflow-sweep-bench-"))
    start = time.perf_counter()
    client.run(target.prepare, {"iterates": iterates})
    load_s = time.perf_counter() - start
    runs = []

    def raw():
        return sim.iterate(np.zeros((members, 2)), lanes, iterates - 1, [iterates - 1]).first_hits["l01_zero"]

    def through_runner():
        store = scratch / f"run{len(runs)}.zarr"
        runs.append(store)
        sweep(target, grid, store=str(store), client=client, settings={"iterates": iterates},
              members_per_task=task, progress=False)
        return stored_first_hits(store)

    try:
        impls = [Implementation("gradflow", raw, False),
                 Implementation("sweep-local-cluster", through_runner, False)]
        notes = {"members": members, "iterates": iterates, "workers": workers, "members_per_task": task,
                 "tasks": -(-members // task), "workers_load_kernel_s": load_s,
                 "gradflow": f"raw lane kernel, one launch, {workers} Numba threads in this process",
                 "sweep-local-cluster": f"sweep runner, LocalCluster of {workers} single-threaded processes, "
                                        "results and done flags into a fresh Zarr store per run"}
        cell = run_cell("sweep[overhead]", impls, repeats, 0.0, notes=notes)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = cell.ratios.get("sweep-local-cluster")
    cell.notes["throughput_fraction"] = 1.0 / ratio if ratio else None
    cell.notes["target_ge_0_9"] = bool(ratio and 1.0 / ratio >= 0.9)
    return cell


def scale(members: int, iterates: int = 1000, workers: int | None = None, store: str | None = None,
          client=None) -> dict:
    """A two-particle first-hit sweep of at least ``members`` members (a p1 x alpha x eta cube) through the
    runner on a fresh LocalCluster (or ``client``'s, whose workers' peak memory then includes earlier
    work): wall time, store size, peak memory per worker."""
    from gradflow.derivations.registry import get_sweep_target
    from gradflow.numerics.sweep import sweep

    side = max(2, math.ceil(members ** (1 / 3) - 1e-9))
    grid = phase_grid(side, side, max(2, math.ceil(members / side**2)))
    members = int(np.prod([v.size for v in grid.values()]))
    workers = workers or os.cpu_count() or 1
    scratch = None if store else Path(tempfile.mkdtemp(prefix="gradflow-sweep-scale-"))
    path = Path(store) if store else scratch / "scale.zarr"
    target = get_sweep_target("am-phase")
    start = time.perf_counter()
    try:
        with local_client(workers, client) as active:
            active.run(target.prepare, {"iterates": iterates})
            started = time.perf_counter()
            ds = sweep(target, grid, store=str(path), client=active, settings={"iterates": iterates},
                       progress=False)
            end = time.perf_counter()
            peaks = active.run(_peak_rss_mb)
        hits = stored_first_hits(path)
        return {"members": members, "iterates": iterates, "grid": [int(v.size) for v in grid.values()],
                "workers": workers, "tasks": int(ds.done.size), "members_per_task": target.members_per_task,
                "wall_s": end - start, "sweep_s": end - started, "cluster_start_and_load_s": started - start,
                "member_steps_per_s": members * (iterates - 1) / (end - started), "store_mb": _size_mb(path),
                "peak_worker_rss_mb": sorted(peaks.values()), "fresh_cluster": client is None,
                "driver_peak_rss_mb": _peak_rss_mb(), "complete": bool(ds.attrs["tasks_computed"] == ds.done.size),
                "never_hit": int((hits < 0).sum()), "hit_at_step_1": int((hits == 1).sum())}
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def sweep_cells(quick: bool, ceilings: dict) -> list:
    """Quick: both cells on one small cluster.  Full: the scale run on a fresh cluster of its own, so that
    the workers' peak memory is that of the scale run alone."""
    workers = os.cpu_count() or 1
    with local_client(workers) as client:
        cells = [overhead(quick, client)]
        if quick:
            result = scale(50_000, 200, client=client)
    if not quick:
        result = scale(10_000_000, 1000)
    cells.append(CellResult("sweep[scale]", False, result["complete"], 0.0, {"gradflow": result["sweep_s"]}, {}, {},
                            None, result))
    return cells


if __name__ == "__main__":  # python -m gradflow.bench.sweep MEMBERS [ITERATES]: the scale run alone, as JSON
    import json
    import sys

    print(json.dumps(scale(int(float(sys.argv[1])), int(sys.argv[2]) if len(sys.argv) > 2 else 1000), indent=1))
