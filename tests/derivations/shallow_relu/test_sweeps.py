"""The relu-sigma-sweep target: one ensemble launch per block equals single GD runs member by member."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.registry import get_sweep_target
from gradflow.derivations.shallow_relu.datasets import DATASETS, STOP_LOSS, WIDTH
from gradflow.derivations.shallow_relu.simulators import simulator
from gradflow.numerics.drivers.shallow_network import initial_parameters
from gradflow.numerics.saddle.escape_time import measured_escape_time
from gradflow.numerics.sweep import member_seed, sweep


def test_block_equals_single_runs(tmp_path):
    base = DATASETS["relu-exp-a"]
    ds = sweep(get_sweep_target("relu-sigma-sweep"), {"mu": "-1,-0.5", "lr": "0.05"}, seeds=2,
               store=str(tmp_path / "s.zarr"), scheduler="serial", settings={"iterations": 400}, progress=False)
    assert ds.escape_time.dims == ("mu", "lr", "seed") and ds.attrs["tasks_computed"] == 1
    for i, mu in enumerate(ds.mu.values):
        for s in range(2):
            W0, H0 = initial_parameters(WIDTH, base.X.shape[1], base.Y.shape[1], WIDTH ** mu, seed=member_seed(0, i, s))
            run = simulator().gd(base.X, base.Y, W0, H0, 0.05, 400, snapshots=1, stop_loss=STOP_LOSS)
            assert ds.final_loss.values[i, 0, s] == run.final_loss
            assert ds.iterations_run.values[i, 0, s] == run.last_iteration
            assert ds.escape_time.values[i, 0, s] == measured_escape_time(run.loss_iterations, run.loss, 0.05)
    assert np.isfinite(ds.final_loss.values).all()
