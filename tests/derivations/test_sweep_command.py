"""``gradflow sweep run`` / ``gradflow sweep status``: results, exit codes, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradflow.derivations.cli import main
from gradflow.numerics.sweep import open_dataset

SMALL = ["--axis", "p1=0.6,0.8", "--axis", "alpha=0.5:1:3", "--axis", "eta=0.1:10:log4", "--set", "iterates=50",
         "--scheduler", "serial"]


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_run_status_and_resume(tmp_path, capsys):
    store = str(tmp_path / "s.zarr")
    assert main(["sweep", "run", "am-phase", *SMALL, "--seeds", "2", "--store", store, "--task-size", "8",
                 "--json"]) == 0
    out = _json(capsys)
    assert out["complete"] and out["tasks"] == out["computed_now"] == 6 and out["members"] == 48
    assert main(["sweep", "run", "am-phase", *SMALL, "--seeds", "2", "--store", store, "--task-size", "8",
                 "--json"]) == 0
    assert _json(capsys)["already_done"] == 6
    assert main(["sweep", "status", store, "--json"]) == 0
    status = _json(capsys)
    assert status["done"] == 6 and status["definition"]["settings"] == {"iterates": 50}
    assert open_dataset(store).first_hit.shape == (2, 3, 4, 1, 2)
    assert main(["sweep", "status", store]) == 0
    assert "6 of 6 tasks done (complete)" in capsys.readouterr().out


def test_config_file(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(f'target = "am-phase"\nseeds = 1\nstore = "{tmp_path / "c.zarr"}"\n'
                      '[axes]\np1 = [0.6, 0.8]\neta = "0.1:10:log3"\n[settings]\niterates = 40\n')
    assert main(["sweep", "run", "--config", str(config), "--scheduler", "serial", "--axis", "alpha=0.5,0.7",
                 "--json"]) == 0
    out = _json(capsys)
    assert out["complete"] and out["members"] == 12
    assert open_dataset(out["store"]).alpha.values.tolist() == [0.5, 0.7]


def test_failed_tasks_make_the_exit_code_say_incomplete(tmp_path, capsys):
    store = str(tmp_path / "s.zarr")
    code = main(["sweep", "run", "am-phase", "--axis", "p1=0.6,1.5", "--set", "iterates=20", "--scheduler", "serial",
                 "--store", store, "--task-size", "1"])
    captured = capsys.readouterr()
    assert code == 1 and "sweep incomplete: 1 of 2 tasks not done" in captured.err
    assert main(["sweep", "status", store]) == 1
    out = capsys.readouterr().out
    assert "1 of 2 tasks done" in out and "failed task-1-0-0-0-0: ParameterError: p1: must be in the open interval" in out


@pytest.mark.parametrize("argv, says", [
    (["--axis", "zeta=1,2"], "axis: must be a parameter of am-phase"),
    (["--axis", "eta="], "axis eta: must be at least one value"),
    (["--axis", "eta=1,abc"], "axis eta: must be numbers"),
    (["--axis", "eta=exec('1')"], "axis eta: must be numbers"),
    (["--set", "iterates=2.5"], "iterates: must be an integer"),
    (["--set", "steps=5"], "--set: must be a setting of am-phase"),
    (["--seeds", "0"], "seeds: must be an integer >= 1"),
])
def test_bad_input_is_one_line_exit_2_and_no_store(tmp_path, capsys, argv, says):
    store = tmp_path / "s.zarr"
    assert main(["sweep", "run", "am-phase", *argv, "--scheduler", "serial", "--store", str(store)]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1
    assert not store.exists()


def test_unwritable_store_unknown_target_and_missing_store(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["sweep", "run", "am-phase", "--scheduler", "serial", "--store", str(blocker / "s.zarr")]) == 2
    assert "--store: must be a path whose parent folder exists" in capsys.readouterr().err
    assert main(["sweep", "run", "nope", "--store", str(tmp_path / "s.zarr")]) == 2
    assert "TARGET: must be one of am-phase" in capsys.readouterr().err
    assert main(["sweep", "status", str(tmp_path), "--json"]) == 2
    assert _json(capsys)["error"]["parameter"] == "STORE"


def test_unreachable_scheduler(tmp_path, capsys, monkeypatch):
    from gradflow.numerics.sweep import runner

    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 1)
    store = tmp_path / "s.zarr"
    assert main(["sweep", "run", "am-phase", "--scheduler", "tcp://127.0.0.1:9", "--store", str(store)]) == 2
    assert "--scheduler: must be a reachable Dask scheduler address" in capsys.readouterr().err
    assert not store.exists()
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")
    assert main(["sweep", "run", "am-phase", "--store", str(store)]) == 2
    assert not store.exists()


def test_list_targets(capsys):
    assert main(["sweep", "run", "--list", "--json"]) == 0
    targets = _json(capsys)["targets"]
    assert set(targets) >= {"am-phase", "relu-sigma-sweep"}
    assert targets["am-phase"]["parameters"] == {"p1": 0.75, "alpha": 0.5, "eta": 1.0, "init": 0.0}
    assert np.isclose(targets["relu-sigma-sweep"]["parameters"]["lr"], 1e-3)
