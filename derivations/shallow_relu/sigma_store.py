"""relu-sigma-sweep with a store: the escape times come from the sweep runner (target relu-sigma-sweep,
EscapeTimeTarget) and are read back from its Zarr store, so the report is built from the store's data.

The grid is the experiment's mus (distinct values, in order) x one lr (relu-exp-a's) x seeds; member
(mu, s) draws its initialisation from ``SeedSequence(seed, spawn_key=(point, s))`` (the experiment's
``seed`` is the sweep's base seed), so its values differ from the in-process run's integer seeds while
the fit and its verdict do not.  An existing store with the same definition is resumed: only tasks
without a ``done`` flag are computed (none when it is complete).
"""

from __future__ import annotations

import os

import numpy as np

from gradflow.derivations.shallow_relu.datasets import DATASETS
from gradflow.derivations.shallow_relu.sweeps import EscapeTimeTarget
from gradflow.theory.errors import ParameterError, printable


def store_text(text: str) -> str:
    """The grammar of the ``store`` parameter: a folder path or fsspec URL, taken as text (never evaluated)."""
    text = text.strip()
    if not text or not text.isprintable():
        raise ParameterError("store", "a folder path or fsspec URL for the Zarr store", printable(text))
    return text


def escape_times_from_store(store: str, mus, seeds: int, iterations: int, base_seed: int, quick: bool,
                            progress: bool) -> tuple[np.ndarray, dict]:
    """(measured, info): the first escape time of member (mu, s) as read from ``store`` after running (or
    resuming) the sweep, one row per mu of ``mus`` (repeated mus share their store row), one column per
    seed; ``info``: the run's task counts and the store's code hash.  In process with ``quick`` or
    without ``DASK_SCHEDULER_ADDRESS``; that scheduler otherwise (the default grid is a single task)."""
    import dask

    from gradflow.numerics.sweep import open_dataset, sweep

    distinct = list(dict.fromkeys(float(mu) for mu in mus))
    scheduler = None if os.environ.get("DASK_SCHEDULER_ADDRESS") and not quick else "serial"
    ds = sweep(EscapeTimeTarget(), {"mu": distinct, "lr": [DATASETS["relu-exp-a"].lr]}, seeds=seeds, store=store,
               scheduler=scheduler, base_seed=base_seed, settings={"iterations": int(iterations)}, progress=progress)
    info = {"computed_now": int(ds.attrs["tasks_computed"]), "already_done": int(ds.attrs["tasks_already_done"]),
            "failed": int(ds.attrs["tasks_failed"]), "code_hash": ds.attrs["code_hash"]}
    with dask.config.set(scheduler="synchronous"):  # read here, not as a graph on a cluster
        stored = open_dataset(store)
        if not bool(stored.done.values.all()):
            raise ParameterError("store", f"a complete sweep ({info['failed']} tasks failed: gradflow sweep status "
                                 f"{store} lists them)", store)
        times = stored.escape_time.isel(lr=0).values  # (distinct mu, seed)
    rows = [distinct.index(float(mu)) for mu in mus]
    return times[rows], info


def store_sentence(store: str, info: dict, members: int) -> str:
    """Where the report's escape times came from."""
    return (f"Escape times read from the sweep store `{store}` (target relu-sigma-sweep; {members} runs; "
            f"{info['computed_now']} tasks computed in this run, {info['already_done']} found done; code "
            f"{info['code_hash']}).  Seed s is member s of SeedSequence(seed, spawn_key=(mu index, s)), not the "
            f"integer seed of the in-process run.")
