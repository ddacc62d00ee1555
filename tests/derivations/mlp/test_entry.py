"""The ``mlp`` model through the command line: simulate, train, derive, check, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradflow.derivations.cli import main
from gradflow.derivations.mlp.layers import parse_layers
from gradflow.derivations.mlp.problem import network_of
from gradflow.theory.mlp import random_params

SMALL = ["--set", "layers=2,3:tanh,1", "--set", "teacher=2,2:tanh,1", "--set", "n=200"]


def _json(capsys, argv, code=0):
    assert main(argv) == code
    return json.loads(capsys.readouterr().out)


def test_simulate_records_the_dynamics_only(capsys):
    out = _json(capsys, ["simulate", "mlp", *SMALL, "--method", "gd", "--steps", "50", "--json"])
    assert out["params"]["stopped_by"] == "maxiterations" and out["t"][-1] == 50
    assert np.all(np.diff(out["loss"]) <= 1e-15)  # small-step GD on a smooth loss descends
    out = _json(capsys, ["simulate", "mlp", *SMALL, "--t-end", "5", "--json"])
    assert out["t"][-1] == pytest.approx(5.0) and out["params"]["stopped_by"] == "maxT"
    assert len(out["theta"][0]) == 13


def test_train_writes_its_result_and_converges(tmp_path, capsys):
    out = _json(capsys, ["train", "mlp", *SMALL, "--out", str(tmp_path), "--json"])
    member = out["members"][0]
    assert member["converged"] and member["gnorm"] <= 1e-13 and out["n_params"] == 13
    saved = np.load(tmp_path / "result.npz")
    assert np.allclose(saved["x"], member["x"]) and saved["trajectory"].shape[1] == 13
    assert json.loads((tmp_path / "result.json").read_text())["layerspec"] == "2,3:tanh,1"
    assert not list(tmp_path.glob(".*partial"))


def test_members_start_from_successive_seeds_and_init_files_are_used(tmp_path, capsys):
    out = _json(capsys, ["train", "mlp", *SMALL, "--members", "2", "--set", "seed=4", "--method", "gd",
                         "--set", "polish=none", "--set", "maxtime_ode=1", "--json"])
    assert len(out["members"]) == 2
    theta = random_params(network_of(parse_layers("2,3:tanh,1")), 9)
    np.savez(tmp_path / "init.npz", theta=theta)
    out = _json(capsys, ["train", "mlp", *SMALL, "--init", str(tmp_path / "init.npz"), "--method", "gd",
                         "--set", "polish=none", "--set", "maxtime_ode=0.5", "--out", str(tmp_path), "--json"])
    assert np.array_equal(np.load(tmp_path / "result.npz")["init"], theta)


def test_data_files_replace_the_teacher(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    np.savez(tmp_path / "data.npz", X=X, y=(X[:, 0] > 0).astype(int))
    out = _json(capsys, ["train", "mlp", "--set", "layers=2,3:tanh,2:softmax", "--data", str(tmp_path / "data.npz"),
                         "--set", "maxtime_ode=2", "--set", "maxtime_optim=2", "--json"])
    assert out["data"].endswith("data.npz") and out["n_samples"] == 30 and np.isfinite(out["members"][0]["loss"])


def test_hermite_data(capsys):
    out = _json(capsys, ["train", "mlp", "--set", "layers=1,2:tanh,1", "--set", "teacher=1,1:tanh,1",
                         "--set", "data=hermite", "--set", "nodes=40", "--json"])
    assert out["data"] == "hermite" and out["n_samples"] <= 40


@pytest.mark.long  # about 10-20 s from an empty cache: not in the quick subset
def test_derive_prints_the_layer_recursions(capsys):
    assert main(["derive", "mlp", "--latex"]) == 0
    text = capsys.readouterr().out
    assert r"\delta_{l}" in text and "simplifies to 0" in text


@pytest.mark.parametrize("argv, words", [
    (["--set", "layers=2,4:tanhh,1"], "layers: must be D0,WIDTH[:ACT][:nobias],... (unknown activation"),
    (["--set", "layers=2,4:relu*3+tanh*2,1"], "the counts sum to 5, not to the width 4: 'relu*3+tanh*2' at position 5"),
    (["--set", "layers=2,4:softmax,1"], "softmax is for the last layer only"),
    (["--set", "layers=2,0:tanh,1"], "width must be >= 1"),
    (["--set", "teacher=3,2:tanh,1"], "teacher: must be a network with the student's input dimension 2"),
    (["--set", "lr=0"], "lr: must be a number > 0"),
    (["--set", "batch=0"], "batch: must be an integer >= 1"),
    (["--set", "batch=500", "--set", "n=100"], "batch: must be an integer in [1, 100]"),
    (["--set", "layers=3,2:tanh,1", "--set", "teacher=3,2:tanh,1", "--set", "data=hermite"],
     "data: must be teacher for D0 = 3 > 2"),
])
def test_bad_settings_are_one_line_naming_the_key(capsys, argv, words):
    assert main(["train", "mlp", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err


def test_bad_data_files_are_one_line(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", X=np.ones((5, 3)), Y=np.ones((5, 1)))
    assert main(["train", "mlp", *SMALL, "--data", str(tmp_path / "bad.npz")]) == 2
    assert "--data: must be X of shape (N, 2)" in capsys.readouterr().err


def test_only_models_that_train_are_accepted(capsys):
    assert main(["train", "am-orthogonal"]) == 2
    assert "MODEL: must be a model that trains: one of mlp" in capsys.readouterr().err


POPULATION = ["--set", "data=population", "--set", "layers=2,3:erf2:nobias,1", "--set", "teacher=2,2:erf2:nobias,1"]


def test_population_data_trains_on_the_exact_expected_loss(capsys):
    out = _json(capsys, ["train", "mlp", *POPULATION, "--set", "maxtime_ode=20", "--json"])
    member = out["members"][0]
    assert out["data"] == "population" and out["n_samples"] == 0
    assert member["converged"] and abs(member["loss"]) <= 1e-12  # a realisable teacher: zero up to rounding
    out = _json(capsys, ["simulate", "mlp", *POPULATION, "--method", "gd", "--steps", "10", "--json"])
    assert out["t"][-1] == 10 and out["loss"][-1] < out["loss"][0]


def test_population_relu_with_biases_descends(capsys):
    argv = ["--set", "data=population", "--set", "layers=2,3:relu,1", "--set", "teacher=2,2:relu,1"]
    out = _json(capsys, ["simulate", "mlp", *argv, "--method", "gd", "--steps", "10", "--json"])
    assert out["t"][-1] == 10 and out["loss"][-1] < out["loss"][0]


@pytest.mark.parametrize("argv, words", [
    (["--set", "layers=2,3:tanh:nobias,1", "--set", "teacher=2,2:tanh:nobias,1"],
     "layers: must be a hidden activation among erf2, erf, normal_cdf, relu"),
    (["--set", "layers=2,3:erf,1", "--set", "teacher=2,2:erf,1"], "layers: must be hidden neurons without biases"),
    (["--set", "layers=2,3:erf2:nobias,2:tanh,1", "--set", "teacher=2,2:erf2:nobias,1"],
     "layers: must be one hidden layer with one activation and a scalar identity output"),
    (["--set", "layers=2,3:erf2:nobias,1", "--set", "teacher=2,2:erf:nobias,1"],
     "teacher: must be the student's hidden activation erf2"),
    ([*POPULATION[2:], "--set", "batch=10"], "batch: must be left out with data=population"),
])
def test_population_settings_that_have_no_kernel_are_refused(capsys, argv, words):
    assert main(["train", "mlp", "--set", "data=population", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err


def test_the_polish_choices_are_the_trainers():
    from gradflow.derivations.mlp.parameters import POLISHES as offered
    from gradflow.numerics.mlp.training import POLISHES as trained

    assert offered == trained  # the command line lists its own copy (it loads no training code)
