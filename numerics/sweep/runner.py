"""The sweep runner: tasks on Dask (a LocalCluster by default, any scheduler by address, or
in-process with ``scheduler="serial"``), results into the Zarr store, resumable.

Each task runs its block as one vectorised call of the target, writes its chunks and then its
``done`` flag from the worker itself, so whatever finished survives the driver being killed.  A
task whose target raises is recorded (task key -> error line) and the rest goes on; a worker
process that dies is Dask's business (it reruns the task elsewhere).  Re-running on an existing
store computes only the tasks whose ``done`` flag is unset.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager, nullcontext

import numpy as np

from gradflow.theory.errors import ParameterError, printable, require

from gradflow.numerics.sweep import store as zstore
from gradflow.numerics.sweep.definition import SweepDefinition, define
from gradflow.numerics.sweep.lock import StoreLock
from gradflow.numerics.sweep.plan import Plan, Task
from gradflow.numerics.sweep.seeds import BlockSeeds
from gradflow.numerics.sweep.target import SweepTarget, text_hash

CONNECT_TIMEOUT_S = 10
SINGLE_THREAD_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1"}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return printable(f"{type(exc).__name__}: {text}")[:500]


def _shaped(target: SweepTarget, plan: Plan, task: Task, out: dict, points: int, seeds: int) -> dict:
    """The target's (P, S, *dims) arrays in block shape, checked against its observables."""
    block = tuple(s.stop - s.start for s in task.slices)
    results = {}
    for obs in target.observables(plan.definition.settings_dict()):
        require(obs.name in out, "target", f"a run_block that returns observable {obs.name}")
        value = np.asarray(out[obs.name])
        dims = tuple(n for _, n in obs.dims)
        require(value.shape == (points, seeds, *dims), f"observable {obs.name}",
                f"shape {(points, seeds, *dims)} from run_block", value.shape)
        results[obs.name] = value.astype(obs.dtype, copy=False).reshape(block + dims)
    return results


_CODE_HASHES: dict = {}  # per worker process: (target, settings) -> hash of the generated code it runs


def _local_code_hash(target: SweepTarget, settings: dict) -> str:
    key = (target.name, repr(sorted(settings.items())))
    if key not in _CODE_HASHES:
        _CODE_HASHES[key] = text_hash(target.code_source(settings))
    return _CODE_HASHES[key]


def run_task(target: SweepTarget, store: str, plan: Plan, task: Task, kernel_threads: int | None = None,
             code_hash: str | None = None) -> dict:
    """Compute one block and write it (data, then the done flag).  Errors of the target are returned
    as {"key", "error"}: recorded, not retried; a dead process is retried by Dask.  With ``code_hash``
    (the store's), a worker whose generated code differs (another gradflow) refuses the task."""
    if code_hash is not None:
        mine = _local_code_hash(target, plan.definition.settings_dict())
        if mine != code_hash:
            return {"key": task.key, "error": f"generated code on this worker differs from the store's "
                                              f"(hash {mine}, store {code_hash}): install the same gradflow"}
    if kernel_threads:
        import numba

        numba.set_num_threads(min(kernel_threads, numba.config.NUMBA_NUM_THREADS))
    start = time.perf_counter()
    values, points, seeds = plan.block_inputs(task)
    try:
        out = target.run_block(values, BlockSeeds(plan.definition.base_seed, points, seeds),
                               plan.definition.settings_dict())
        results = _shaped(target, plan, task, out, len(points), len(seeds))
    except Exception as exc:  # divergence, a bad parameter point: this task only
        return {"key": task.key, "error": _one_line(exc)}
    zstore.write_block(store, task, results)
    return {"key": task.key, "seconds": time.perf_counter() - start, "members": len(points) * len(seeds)}


def hashes(target: SweepTarget, definition: SweepDefinition) -> dict:
    return {"code": text_hash(target.code_source(definition.settings_dict())),
            "derivation": text_hash(target.derivation_text())}


@contextmanager
def local_cluster_client(workers: int):
    """A Client of a LocalCluster of ``workers`` single-threaded worker processes (closed on exit): each
    task's kernel runs on one core, so the workers together do not oversubscribe the cores."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      env=SINGLE_THREAD_ENV) as cluster, Client(cluster) as client:
        yield client


@contextmanager
def _dask_client(client, scheduler: str | None, workers: int | None):
    """(client, kernel threads per task): the given client, a scheduler by address, or a LocalCluster
    of single-threaded worker processes (one per core, so kernels do not oversubscribe the cores)."""
    if client is not None:
        yield client, None
        return
    from distributed import Client

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        try:
            remote = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ParameterError("--scheduler", "a reachable Dask scheduler address (tcp://host:port)",
                                 address) from exc
        try:
            yield remote, None
        finally:
            remote.close()
        return
    n = workers or os.cpu_count() or 1
    require(isinstance(n, int) and n >= 1, "--workers", "an integer >= 1", n)
    with local_cluster_client(n) as local:
        yield local, 1


def _pending(store: str, plan: Plan) -> list:
    flags = zstore.done_flags(store)
    return [task for task in plan.all_tasks() if not flags[task.index]]


def _outcomes_serial(target, store, plan, tasks):
    for task in tasks:
        yield run_task(target, store, plan, task)


def _outcomes_dask(client, kernel_threads, target, store, plan, tasks, code_hash):
    from distributed import as_completed

    futures = {client.submit(run_task, target, store, plan, task, kernel_threads, code_hash, pure=False,
                             key=f"gradflow-sweep-{task.key}-{time.time_ns()}"): task for task in tasks}
    for future in as_completed(futures):
        try:
            yield future.result()
        except Exception as exc:  # the task's process died too often (KilledWorker), or it could not run
            yield {"key": futures[future].key, "error": _one_line(exc)}


def sweep(target: SweepTarget, axes, seeds: int = 1, store: str = "sweep.zarr", client=None, *,
          scheduler: str | None = None, workers: int | None = None, base_seed: int = 0, settings: dict | None = None,
          members_per_task: int | None = None, progress: bool = True, on_start=None):
    """Run (or resume) a sweep of ``target`` over ``axes`` ({name: values or 'a:b:n' text}) x ``seeds``
    into the Zarr ``store``; returns the store as an xarray.Dataset whose attrs also carry this run's
    ``tasks_computed``, ``tasks_already_done`` and ``tasks_failed``.

    ``scheduler``: "serial" (in-process), a Dask address, or None (``DASK_SCHEDULER_ADDRESS`` if set, else a
    LocalCluster with ``workers`` single-threaded processes, default one per core).  ``on_start(info)``
    is called once the work starts (dashboard link, task counts)."""
    from gradflow import __version__

    definition = define(target, axes, seeds, base_seed, settings, members_per_task)
    store = str(store)
    zstore.check_writable(store)
    plan = Plan(definition)
    codes = hashes(target, definition)
    with StoreLock(store) as lock:
        serial = nullcontext((None, None))
        with (serial if scheduler == "serial" else _dask_client(client, scheduler, workers)) as (dask, threads):
            if zstore.exists(store):
                zstore.check_same(store, definition, codes)
            else:
                zstore.create(store, plan, target.observables(definition.settings_dict()), codes, __version__)
            tasks = _pending(store, plan)
            if on_start is not None:
                on_start({"dashboard": getattr(dask, "dashboard_link", None) if dask else None, "tasks": plan.tasks,
                          "pending": len(tasks), "took_over_lock_of": lock.took_over})
            outcomes = (_outcomes_serial(target, store, plan, tasks) if dask is None
                        else _outcomes_dask(dask, threads, target, store, plan, tasks, codes["code"]))
            failed = _drive(outcomes, store, plan, len(tasks), progress)
    ds = zstore.open_dataset(store)
    ds.attrs.update(tasks_computed=len(tasks) - len(failed), tasks_already_done=plan.tasks - len(tasks),
                    tasks_failed=len(failed))
    return ds


def _drive(outcomes, store: str, plan: Plan, pending: int, progress: bool) -> dict:
    """Consume task outcomes under a progress bar; record the failures (previous ones of tasks now done
    are dropped).  The store's failure list is written as failures arrive and at the end."""
    from tqdm import tqdm

    old = zstore.failures(store)
    failed = {}
    with tqdm(total=plan.tasks, initial=plan.tasks - pending, desc="sweep", unit="task", disable=not progress) as bar:
        for outcome in outcomes:
            if "error" in outcome:
                failed[outcome["key"]] = outcome["error"]
                zstore.set_failures(store, {**old, **failed})
            else:
                old.pop(outcome["key"], None)
            bar.update(1)
    flags = zstore.done_flags(store)
    done_keys = {task.key for task in plan.all_tasks() if flags[task.index]}
    zstore.set_failures(store, {k: v for k, v in {**old, **failed}.items() if k not in done_keys})
    return failed
