"""Faults: the whole sweep killed with SIGKILL mid-run and resumed; a worker process killed mid-sweep.

Both end in a store whose data is bitwise identical to an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gradflow.derivations.registry import get_sweep_target
from gradflow.numerics.sweep import sweep, sweep_status
from gradflow.numerics.sweep.store import done_flags

pytestmark = pytest.mark.long  # whole reproductions or subprocesses: not in the quick subset

# 12 tasks of 1500 members x 5000 GD steps (about 0.1 s each on one core)
AXES = {"p1": "0.55:0.9:12", "alpha": "0.5:0.95:5", "eta": "0.1:10:log300"}
SETTINGS = {"iterates": 5000}
TASK = 1500


def _files(store: Path) -> dict:
    """Every file of the store but the root metadata (its attributes hold the creation time)."""
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*"))
            if p.is_file() and p.relative_to(store) != Path("zarr.json")}


def _reference(tmp_path) -> Path:
    store = tmp_path / "reference.zarr"
    sweep(get_sweep_target("am-phase"), AXES, store=str(store), scheduler="serial", settings=SETTINGS,
          members_per_task=TASK, progress=False)
    return store


def _wait_for_done(store: Path, at_least: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done = int(done_flags(str(store)).sum())
        except Exception:  # not created yet
            done = 0
        if done >= at_least:
            return done
        time.sleep(0.01)
    raise AssertionError(f"fewer than {at_least} tasks done in {timeout} s")


def test_sigkill_mid_run_then_resume_is_bitwise_identical(tmp_path):
    store = tmp_path / "s.zarr"
    command = [sys.executable, "-m", "gradflow", "sweep", "run", "am-phase", "--scheduler", "serial", "--json",
               "--store", str(store), "--task-size", str(TASK), "--set", f"iterates={SETTINGS['iterates']}"]
    command += [f"--axis={k}={v}" for k, v in AXES.items()]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_done(store, 1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done_at_kill = int(done_flags(str(store)).sum())
    assert 1 <= done_at_kill < 12, "the kill came too late to interrupt the sweep"
    assert (tmp_path / "s.zarr.lock").exists()  # left behind by the killed run: stale
    assert not sweep_status(str(store))["complete"]

    seen = []
    resumed = sweep(get_sweep_target("am-phase"), AXES, store=str(store), scheduler="serial", settings=SETTINGS,
                    members_per_task=TASK, progress=False, on_start=seen.append)
    assert seen[0]["took_over_lock_of"]["pid"] == proc.pid
    assert resumed.attrs["tasks_already_done"] == done_at_kill
    assert resumed.attrs["tasks_computed"] == 12 - done_at_kill  # the finished tasks were not recomputed
    reference = _reference(tmp_path)
    assert _files(store) == _files(reference)
    assert sweep_status(str(store))["complete"]


@pytest.mark.slow
def test_a_killed_worker_process_changes_nothing(tmp_path):
    from distributed import Client, LocalCluster

    from gradflow.numerics.sweep.runner import SINGLE_THREAD_ENV

    store = tmp_path / "s.zarr"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      env=SINGLE_THREAD_ENV) as cluster, Client(cluster) as client:
        target = get_sweep_target("am-phase")
        client.run(target.prepare, SETTINGS)  # compile or load in both workers before the clock starts
        before = client.run(os.getpid)
        killed = []

        def kill_one():
            _wait_for_done(store, 1)
            pid = sorted(before.values())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append((pid, int(done_flags(str(store)).sum())))

        killer = threading.Thread(target=kill_one)
        killer.start()
        ds = sweep(target, AXES, store=str(store), client=client, settings=SETTINGS, members_per_task=TASK,
                   progress=False)
        killer.join()
        after = client.run(os.getpid)
    assert killed and killed[0][1] < 12, "the worker was killed after the sweep had finished"
    assert killed[0][0] not in after.values()  # that process is gone; the nanny started another
    assert ds.attrs["tasks_computed"] == 12 and ds.attrs["tasks_failed"] == 0
    assert _files(store) == _files(_reference(tmp_path))
    assert np.all(done_flags(str(store)))
