"""The confusion-synthetic sweep target: a grid of shift strengths x B through the runner writes every
observable, and a member is analyse_seed of seed_data at its point with the seed its SeedSequence gives."""

from __future__ import annotations

import numpy as np
import pytest

from gradflow.derivations.confusion import FAMILY
from gradflow.derivations.confusion.analysis import analyse_seed
from gradflow.derivations.confusion.synthetic import SHIFTS, SyntheticSettings, seed_data
from gradflow.derivations.registry import get_sweep_target
from gradflow.numerics.sweep import member_seed, sweep, sweep_status

SMALL = {"members": 3, "steps": 30, "n_train": 200, "n_test": 300}


def test_registered():
    target = get_sweep_target("confusion-synthetic")
    assert target in FAMILY.sweep_targets
    assert set(target.parameters) == {"noise", "shift_fraction", "keep_floor", "B"}


def test_a_small_grid_writes_every_observable(tmp_path):
    target = get_sweep_target("confusion-synthetic")
    ds = sweep(target, {"noise": "0.4,1.2", "B": "1,5"}, seeds=2, store=str(tmp_path / "c.zarr"),
               scheduler="serial", settings=SMALL, members_per_task=4, progress=False)
    assert ds.attrs["tasks_computed"] == 2 and ds.attrs["tasks_failed"] == 0 and bool(ds.done.values.all())
    names = {o.name for o in target.observables(SMALL)}
    assert names == {"true_acc", "estimate", "naive", "gap_closed"} and names <= set(ds.data_vars)
    for name in ("true_acc", "estimate", "naive"):
        values = ds[name].values
        assert ds[name].dims == ("noise", "shift_fraction", "keep_floor", "B", "seed", "shift")
        assert values.shape == (2, 1, 1, 2, 2, len(SHIFTS)) and np.all((values >= 0) & (values <= 1))
    # one bin: the estimate is the ID accuracy, nothing of the gap is closed
    one_bin = ds.sel(B=1.0)
    assert np.allclose(one_bin.estimate.values, one_bin.naive.values)
    assert np.allclose(one_bin.gap_closed.values, 0.0)
    # member (noise 1.2, B 5, seed 1): point index 3 of the (2 x 1 x 1 x 2) grid
    seed = int(member_seed(0, 3, 1).generate_state(1, dtype=np.uint64)[0])
    world = SyntheticSettings(noise=1.2, **SMALL)
    record, _ = analyse_seed(seed_data(seed, world), 5, (5,), "cs_entropy", "quantile")
    for k, shift in enumerate(SHIFTS):
        for name in names:
            assert ds[name].values[1, 0, 0, 1, 1, k] == record["shifts"][shift][name]


@pytest.mark.parametrize("axis, value", [("B", "2.5"), ("keep_floor", "0"), ("noise", "-1")])
def test_bad_points_fail_their_task_with_the_parameter_named(tmp_path, axis, value):
    store = str(tmp_path / "bad.zarr")
    ds = sweep(get_sweep_target("confusion-synthetic"), {axis: value}, store=store, scheduler="serial",
               settings=SMALL, progress=False)
    assert ds.attrs["tasks_failed"] == 1
    (error,) = sweep_status(store)["failed"].values()
    assert error.startswith(f"ParameterError: {axis}")
