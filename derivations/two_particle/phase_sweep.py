"""Experiment ``am-phase-large``: the am-phase measurement on a fine grid, run through the sweep runner
(Dask workers, results in a Zarr store, resumable) and reported from the store.

The store is the data: re-running with the same store resumes it (finished tasks are kept), and the
report, figure and data.npz are built from what the store holds.  ``--quick`` runs a 12^3 grid in
process (into am-phase-large-quick.zarr unless a store is given); otherwise a LocalCluster of one process per core, or the scheduler named by
``DASK_SCHEDULER_ADDRESS``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.report import Reproduction
from gradflow.derivations.two_particle import figures
from gradflow.derivations.two_particle.laws import laws
from gradflow.derivations.two_particle.phase import PHASE_STEPS, phase_findings
from gradflow.derivations.two_particle.simulators import derivation, lane_map_simulator
from gradflow.derivations.two_particle.sweeps import FirstHitTarget
from gradflow.theory.errors import ParameterError, printable

FIGURE_ETAS = 10  # heat maps drawn: evenly chosen eta slices
DEFAULT_STORE = "am-phase-large.zarr"
QUICK_STORE = "am-phase-large-quick.zarr"  # --quick with the default store: its own store (another grid)


def _path(text: str) -> str:
    text = text.strip()
    if not text or not text.isprintable():
        raise ParameterError("store", "a folder path or fsspec URL for the Zarr store", printable(text))
    return text


def phase_grid(n_p1: int, n_alpha: int, n_eta: int) -> dict:
    """The am-phase ranges at any resolution: p1 = expit(logspace(-0.5, 0.5)), alpha in [0.5, 1], eta in [0.1, 10]."""
    return {"p1": 1.0 / (1.0 + np.exp(-np.logspace(-0.5, 0.5, n_p1))), "alpha": np.linspace(0.5, 1.0, n_alpha),
            "eta": np.logspace(-1, 1, n_eta)}


def _load(store: str) -> dict:
    import dask

    from gradflow.numerics.sweep import open_dataset

    with dask.config.set(scheduler="synchronous"):  # read here, not as a graph on a cluster
        ds = open_dataset(store)
        first = ds.first_hit.isel(init=0, seed=0).values
        return {"p1": ds.p1.values, "alpha": ds.alpha.values, "eta": ds.eta.values,
                "first_hit": np.where(first < 0, PHASE_STEPS - 1, first).astype(np.int64),
                "complete": bool(ds.done.values.all())}


@dataclass(frozen=True)
class AmPhaseLarge(Experiment):
    name = "am-phase-large"
    summary = ("am-phase on a fine (p1, alpha, eta) grid (default 100^3 = 10^6 members, 1000 GD steps) through the "
               "sweep runner; report built from the Zarr store")
    parameters = (
        Parameter("n_p1", "int", 100, "an integer >= 2", "grid points in p1", lambda v: v >= 2),
        Parameter("n_alpha", "int", 100, "an integer >= 2", "grid points in alpha (the last one is alpha = 1)",
                  lambda v: v >= 2),
        Parameter("n_eta", "int", 100, f"an integer >= {FIGURE_ETAS}", "grid points in eta",
                  lambda v: v >= FIGURE_ETAS),
        Parameter("store", "grammar", DEFAULT_STORE, "a folder path or fsspec URL",
                  "the Zarr store of the sweep (an existing one is resumed)", grammar=_path),
        Parameter("workers", "int", 0, "an integer >= 0", "processes of the local cluster (0: one per core)",
                  lambda v: v >= 0),
    )

    n_p1: int = 100
    n_alpha: int = 100
    n_eta: int = 100
    store: str = DEFAULT_STORE
    workers: int = 0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        from gradflow.numerics.sweep import sweep

        sizes = (12, 12, 12) if quick else (self.n_p1, self.n_alpha, self.n_eta)
        store = QUICK_STORE if quick and self.store == DEFAULT_STORE else self.store
        start = time.perf_counter()
        ds = sweep(FirstHitTarget(), phase_grid(*sizes), store=store, scheduler="serial" if quick else None,
                   workers=self.workers or None, settings={"iterates": PHASE_STEPS}, progress=progress)
        timings = {"sweep": time.perf_counter() - start}
        a = _load(store)
        if not a.pop("complete"):
            raise ParameterError("store", f"a complete sweep ({ds.attrs['tasks_failed']} tasks failed: gradflow sweep "
                                 f"status {store} lists them)", store)
        picks = np.unique(np.linspace(0, a["eta"].size - 1, FIGURE_ETAS).round().astype(int))
        shown = dict(a, eta=a["eta"][picks], first_hit=a["first_hit"][:, :, picks])
        counts = {"computed_now": int(ds.attrs["tasks_computed"]), "already_done": int(ds.attrs["tasks_already_done"])}
        return Reproduction(self.name, {"grid": "[p1][alpha][eta]", "sizes": list(sizes), "steps": PHASE_STEPS,
                                        "never": PHASE_STEPS - 1, "store": store, "quick": quick,
                                        "lanes": int(a["first_hit"].size), "tasks": counts,
                                        "code_hash": ds.attrs["code_hash"]},
                            a, {"phase": figures.phase(shown, PHASE_STEPS, laws())}, self._report(a, timings, counts, store),
                            derivation().to_latex(), [lane_map_simulator().path], timings, [])

    def _report(self, a, timings, counts, store):
        first = a["first_hit"]
        lines = [f"# {self.name}", "", self.summary, "",
                 f"Sweep: {first.size} members, store `{store}` ({counts['computed_now']} tasks computed in this "
                 f"run, {counts['already_done']} found done), {timings['sweep']:.1f} s. first_hit[p1][alpha][eta] is "
                 f"the first t in 0..{PHASE_STEPS - 1} with L01(W_t) = 0, {PHASE_STEPS - 1} if never.", "",
                 *phase_findings(first, a["p1"], a["alpha"], "members"), "",
                 "Figure: `figures/phase.png`, heat maps at ten eta values spread over the grid.", ""]
        return "\n".join(lines)
