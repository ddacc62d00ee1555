"""The ec-toy sweep target: a (task, rho) grid through the runner writes every observable, and a member is
the ec-toy run of its task with students drawn from its seed."""

from __future__ import annotations

import numpy as np
import pytest

from gradflow.derivations.expand_cluster import FAMILY
from gradflow.derivations.expand_cluster.toy_experiment import run_toy
from gradflow.derivations.registry import get_sweep_target
from gradflow.numerics.expand_cluster.toy_tasks import toy_tasks
from gradflow.numerics.sweep import member_seed, sweep

QUICK = {"n_students": 4, "maxtime": 5.0, "iterations": 200}  # the fewest students the clustering accepts


def test_registered():
    target = get_sweep_target("ec-toy")
    assert target in FAMILY.sweep_targets and set(target.parameters) == {"task", "rho"}


def test_a_small_grid_writes_every_observable(tmp_path):
    target = get_sweep_target("ec-toy")
    ds = sweep(target, {"task": "0", "rho": "1,2"}, seeds=1, store=str(tmp_path / "ec.zarr"), scheduler="serial",
               settings=QUICK, progress=False)
    assert ds.attrs["tasks_computed"] == 2 and ds.attrs["tasks_failed"] == 0 and bool(ds.done.values.all())
    names = {o.name for o in target.observables(QUICK)}
    assert names == {"success_code", "success_robust", "success_robust_fg", "width_code", "width_robust",
                     "width_robust_fg", "zero_loss_fraction"}
    assert names <= set(ds.data_vars)
    for name in names:
        assert ds[name].dims == ("task", "rho", "seed") and ds[name].shape == (1, 2, 1)
    fraction = ds.zero_loss_fraction.values
    assert np.all((fraction >= 0) & (fraction <= 1))
    assert np.all((ds.width_robust.values >= 0) & (ds.width_code.values >= 0))
    # member (rho = 2) is run_toy on task 0 with the students its seed names
    task = toy_tasks()[0]
    ids = member_seed(0, 1, 0).generate_state(4, dtype=np.uint32)
    record = run_toy(task, 2, 4, 5.0, iterations=200, student_ids=ids)
    assert ds.zero_loss_fraction.values[0, 1, 0] == record["converged_fraction"]
    for variant, key in (("code", "code"), ("robust", "robust"), ("robust+fg", "robust_fg")):
        assert bool(ds[f"success_{key}"].values[0, 1, 0]) == record["variants"][variant]["success"]
        assert int(ds[f"width_{key}"].values[0, 1, 0]) == record["variants"][variant]["K"]


@pytest.mark.parametrize("axis, value", [("task", "150"), ("task", "0.5"), ("rho", "0")])
def test_bad_points_fail_their_task_with_the_parameter_named(tmp_path, axis, value):
    ds = sweep(get_sweep_target("ec-toy"), {axis: value}, store=str(tmp_path / "bad.zarr"), scheduler="serial",
               settings=QUICK, progress=False)
    assert ds.attrs["tasks_failed"] == 1
    from gradflow.numerics.sweep import sweep_status

    (error,) = sweep_status(str(tmp_path / "bad.zarr"))["failed"].values()
    assert error.startswith(f"ParameterError: {axis}")
