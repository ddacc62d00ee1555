"""The results store: an xarray Dataset in Zarr (a local folder or an fsspec URL).

Layout: dimensions = the axes, ``seed`` and each observable's own dimensions; coordinates = the
axis values; one variable per observable, chunked exactly by task blocks; ``done`` (bool) over the
task grid (dimensions ``<axis>_task``, ``seed_task``), one chunk per task.  A task writes its data
chunks first and its ``done`` flag last, so a flag that is set always covers finished data.
Attributes: gradflow version, hashes of the generated code and of the derivation, the sweep
definition (JSON), creation time, and ``failed`` (JSON: task key -> error line), written only by
the process that drives the sweep.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
from pathlib import Path

import numpy as np

from gradflow.theory.errors import ParameterError

from gradflow.numerics.sweep.definition import SweepDefinition
from gradflow.numerics.sweep.plan import Plan, Task


def is_url(store: str) -> bool:
    return "://" in str(store)


def exists(store: str) -> bool:
    if is_url(store):
        import fsspec

        fs, path = fsspec.core.url_to_fs(str(store))
        return fs.exists(f"{path.rstrip('/')}/zarr.json")
    return (Path(store) / "zarr.json").exists()


def check_writable(store: str) -> None:
    """A local store's folder (or its parent, if new) must be writable; one-line error otherwise."""
    if is_url(store):
        return
    path = Path(store)
    where = path if path.exists() else path.parent
    if path.exists() and not path.is_dir():
        raise ParameterError("--store", "a folder (a Zarr store), not a file", str(store))
    if not where.is_dir():
        raise ParameterError("--store", "a path whose parent folder exists", str(store))
    if not os.access(where, os.W_OK | os.X_OK):
        raise ParameterError("--store", "a writable location", str(store))


def _template(plan: Plan, observables):
    """The Dataset without data: lazily zero arrays (nothing is computed; only metadata is written)."""
    import dask.array as da
    import xarray as xr

    d = plan.definition
    dims = tuple(a.name for a in d.axes) + ("seed",)
    data = {}
    for obs in observables:
        shape = plan.grid_shape + tuple(n for _, n in obs.dims)
        chunks = plan.block + tuple(n for _, n in obs.dims)
        data[obs.name] = (dims + tuple(k for k, _ in obs.dims),
                          da.zeros(shape, chunks=chunks, dtype=obs.dtype), {"description": obs.help})
    task_dims = tuple(f"{name}_task" for name in dims)
    data["done"] = (task_dims, da.zeros(plan.task_shape, chunks=(1,) * len(task_dims), dtype=bool),
                    {"description": "task finished: its data chunks are written (set last)"})
    coords = {a.name: a.array for a in d.axes}
    coords["seed"] = np.arange(d.seeds)
    return xr.Dataset(data, coords=coords)


def create(store: str, plan: Plan, observables, hashes: dict, version: str) -> None:
    """Write the empty store (metadata only; every ``done`` flag false).  A failure removes what it made."""
    ds = _template(plan, observables)
    ds.attrs.update({"gradflow_version": version, "code_hash": hashes["code"], "derivation_hash": hashes["derivation"],
                     "definition": plan.definition.to_json(),
                     "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                     "failed": "{}"})
    encoding = {obs.name: {"_FillValue": obs.fill} for obs in observables}
    encoding["done"] = {"_FillValue": None}
    made = not is_url(store) and not Path(store).exists()
    try:
        ds.to_zarr(str(store), mode="w-", compute=False, consolidated=False, encoding=encoding, zarr_format=3)
    except BaseException as exc:
        if made and Path(store).exists():
            shutil.rmtree(store, ignore_errors=True)
        if isinstance(exc, OSError):  # full disk, read-only file system, no permission
            raise ParameterError("--store", f"a location the store can be written to ({exc.strerror or exc})",
                                 str(store)) from None
        raise


def _group(store: str, mode: str = "r"):
    import zarr

    return zarr.open_group(str(store), mode=mode, zarr_format=3)


def attributes(store: str) -> dict:
    try:
        return dict(_group(store).attrs)
    except Exception as exc:  # not a Zarr group, or unreadable
        raise ParameterError("--store", "an existing sweep store (a Zarr folder written by gradflow sweep)",
                             str(store)) from exc


def stored_definition(store: str) -> SweepDefinition:
    attrs = attributes(store)
    if "definition" not in attrs:
        raise ParameterError("--store", "a sweep store written by gradflow sweep (it has no sweep definition)",
                             str(store))
    return SweepDefinition.from_json(attrs["definition"])


def check_same(store: str, definition: SweepDefinition, hashes: dict) -> None:
    """Refuse to resume a store written for another definition or other code (one line: what differs)."""
    attrs = attributes(store)
    stored = stored_definition(store)
    fix = "(a new --store is the fix)"
    difference = stored.difference(definition)
    if difference:
        raise ParameterError("--store", f"a store of the same sweep {fix}; it differs in {difference}", str(store))
    for key, label in (("code", "generated code"), ("derivation", "derivation")):
        if attrs.get(f"{key}_hash") != hashes[key]:
            raise ParameterError("--store", f"a store of the same {label} {fix}; hash {attrs.get(f'{key}_hash')} "
                                 f"stored, {hashes[key]} now", str(store))


def done_flags(store: str) -> np.ndarray:
    return np.asarray(_group(store)["done"][...], dtype=bool)


def write_block(store: str, task: Task, results: dict) -> None:
    """The task's data chunks, then its done flag (last)."""
    group = _group(store, "r+")
    for name, value in results.items():
        group[name][task.slices] = value
    group["done"][task.index] = True


def failures(store: str) -> dict:
    return json.loads(attributes(store).get("failed", "{}"))


def set_failures(store: str, failed: dict) -> None:
    """Only the driving process writes this attribute (workers never touch attributes)."""
    _group(store, "r+").attrs["failed"] = json.dumps(dict(sorted(failed.items())))


def open_dataset(store: str):
    import xarray as xr

    return xr.open_zarr(str(store), consolidated=False)
