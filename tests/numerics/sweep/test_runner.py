"""The runner in-process (scheduler 'serial') on a plain-NumPy target: layout of the store, results
against a member-by-member oracle, resume, failures, refusals, the lock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from gradflow.numerics.sweep import StoreLock, sweep, sweep_status
from gradflow.theory.errors import ParameterError
from tests.numerics.sweep.toy import Toy, expected

AXES = {"a": "0:2:3", "b": "0.5,1.5"}


def _run(store, target=None, **kw):
    kw = {"axes": AXES, "seeds": 3, "scheduler": "serial", "progress": False, **kw}
    return sweep(target or Toy(), store=str(store), **kw)


def test_store_layout_and_values(tmp_path):
    ds = _run(tmp_path / "s.zarr")
    assert ds.y.dims == ("a", "b", "seed", "step") and ds.sign.dims == ("a", "b", "seed")
    assert ds.a.values.tolist() == [0.0, 1.0, 2.0] and ds.seed.values.tolist() == [0, 1, 2]
    assert np.array_equal(ds.y.values, expected([0, 1, 2], [0.5, 1.5], 3))
    noise = ds.y.values[..., 0] - ds.b.values[None, :, None]  # y at step 0 = b + noise
    assert np.array_equal(ds.sign.values, np.sign(noise).astype(np.int8))
    # chunks are the task blocks (6 members: b x seeds), one done flag per task
    assert ds.y.encoding["chunks"] == (1, 2, 3, 3) and ds.done.shape == (3, 1, 1) and bool(ds.done.all())
    opened = xr.open_zarr(tmp_path / "s.zarr", consolidated=False)  # a plain xarray reader
    assert json.loads(opened.attrs["definition"])["axes"] == [["a", [0.0, 1.0, 2.0]], ["b", [0.5, 1.5]]]
    for key in ("gradflow_version", "code_hash", "derivation_hash", "created"):
        assert opened.attrs[key]
    assert ds.attrs["tasks_computed"] == 3 and ds.attrs["tasks_already_done"] == 0


def test_results_do_not_depend_on_task_cutting(tmp_path):
    one = _run(tmp_path / "one.zarr", members_per_task=1)
    many = _run(tmp_path / "many.zarr", members_per_task=100)
    assert one.attrs["tasks_computed"] == 18 and many.attrs["tasks_computed"] == 1
    assert np.array_equal(one.y.values, many.y.values)


def test_resume_computes_only_unfinished_tasks(tmp_path):
    store = tmp_path / "s.zarr"
    first = _run(store)
    again = _run(store)
    assert again.attrs["tasks_computed"] == 0 and again.attrs["tasks_already_done"] == 3
    import zarr

    zarr.open_group(str(store), mode="r+")["done"][1, 0, 0] = False  # as if killed before task 1 finished
    third = _run(store)
    assert third.attrs["tasks_computed"] == 1 and np.array_equal(third.y.values, first.y.values)


def test_a_failing_task_is_recorded_and_the_rest_goes_on(tmp_path):
    store = tmp_path / "s.zarr"
    ds = _run(store, axes={"a": "-1,1,2", "b": "0.5,1.5"})
    assert ds.attrs["tasks_failed"] == 1 and ds.attrs["tasks_computed"] == 2
    status = sweep_status(str(store))
    assert not status["complete"] and status["done"] == 2
    assert list(status["failed"]) == ["task-0-0-0"] and "ParameterError: a: must be >= 0" in status["failed"]["task-0-0-0"]
    assert np.isnan(ds.y.values[0]).all() and not np.isnan(ds.y.values[1:]).any()


def test_resume_with_another_definition_or_code_is_refused(tmp_path):
    store = tmp_path / "s.zarr"
    _run(store)
    with pytest.raises(ParameterError, match=r"differs in seeds \(3 stored, 4 given\)"):
        _run(store, seeds=4)
    with pytest.raises(ParameterError, match=r"differs in axis a \(3 values stored, 2 given\)"):
        _run(store, axes={"a": "0,1", "b": "0.5,1.5"})
    with pytest.raises(ParameterError, match=r"differs in settings"):
        _run(store, settings={"noise": 2.0})
    changed = Toy()
    changed.code = "toy v2"
    with pytest.raises(ParameterError, match=r"same generated code .* hash \w+ stored, \w+ now"):
        _run(store, target=changed)
    assert sweep_status(str(store))["complete"]


def test_bad_input_writes_nothing(tmp_path):
    for kw, says in (({"axes": {"c": "1,2"}}, "axis: must be a parameter of toy"),
                     ({"axes": {"a": ""}}, "axis a: must be at least one value"),
                     ({"seeds": 0}, "seeds: must be an integer >= 1"),
                     ({"settings": {"noise": "x"}}, "setting noise")):
        with pytest.raises(ParameterError, match=says):
            _run(tmp_path / "s.zarr", **kw)
    assert not any(tmp_path.iterdir())
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ParameterError, match="--store: must be a path whose parent folder exists"):
        _run(blocker / "s.zarr")
    with pytest.raises(ParameterError, match="--store: must be a folder"):
        _run(blocker)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_refuses_a_live_owner_and_takes_over_a_dead_one(tmp_path):
    store = tmp_path / "s.zarr"
    lock = tmp_path / "s.zarr.lock"
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as live:
        try:
            lock.write_text(json.dumps({"host": socket.gethostname(), "pid": live.pid}))
            with pytest.raises(ParameterError, match=f"locked by pid {live.pid} on {socket.gethostname()}"):
                _run(store)
            assert not store.exists()
        finally:
            live.kill()
    dead = _dead_pid()
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": dead}))
    seen = []
    ds = _run(store, on_start=seen.append)
    assert seen[0]["took_over_lock_of"]["pid"] == dead and ds.attrs["tasks_computed"] == 3
    assert not lock.exists()  # released at the end


def test_lock_is_exclusive_within_a_process(tmp_path):
    with StoreLock(str(tmp_path / "s.zarr")):
        with pytest.raises(ParameterError, match=f"locked by pid {os.getpid()}"):
            StoreLock(str(tmp_path / "s.zarr")).acquire()


def test_a_store_at_an_fsspec_url(tmp_path):
    from gradflow.numerics.sweep.store import exists

    url = f"memory://{tmp_path.name}/s.zarr"  # fsspec's in-memory file system: the URL code path, in process
    ds = _run(url)
    assert exists(url) and ds.attrs["tasks_computed"] == 3
    assert np.array_equal(ds.y.values, expected([0, 1, 2], [0.5, 1.5], 3))
    assert _run(url).attrs["tasks_computed"] == 0 and sweep_status(url)["complete"]


def test_a_worker_with_other_generated_code_refuses_its_task(tmp_path):
    from gradflow.numerics.sweep import Plan, define, run_task
    from gradflow.numerics.sweep import runner
    from gradflow.numerics.sweep.runner import hashes

    store = tmp_path / "s.zarr"
    _run(store)
    plan = Plan(define(Toy(), AXES, 3))
    stored = hashes(Toy(), plan.definition)["code"]
    other = Toy()
    other.code = "toy v2"
    outcome = run_task(other, str(store), plan, plan.all_tasks()[0], code_hash=stored)
    assert "generated code on this worker differs from the store's" in outcome["error"]
    runner._CODE_HASHES.clear()  # a worker process runs one gradflow: its hashes are cached per target name
    assert "seconds" in run_task(Toy(), str(store), plan, plan.all_tasks()[0], code_hash=stored)
