"""The shallow_relu family's declarations: the entry's parameters, methods and backends, the
experiments' parameters as dataclass fields, the cached typed derivation and the data sets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gradflow.derivations import registry
from gradflow.derivations.cli import main
from gradflow.derivations.shallow_relu import FAMILY, ReluEntry, ReluExpA, ReluExpB, ReluExpC, ReluSigmaSweep
from gradflow.derivations.shallow_relu.checks import euler_check
from gradflow.derivations.shallow_relu.datasets import DATASETS, SEED, SWEEP_MUS, WIDTH
from gradflow.derivations.shallow_relu.simulators import derivation, relu_like_simulator
from gradflow.theory.activations import RELU
from gradflow.theory.errors import ParameterError
from gradflow.theory.models import shallow_network as sn
from gradflow.theory.models.shallow_network import ShallowNetwork, ShallowNetworkDerivation

EXPERIMENTS = {ReluExpA: "relu-exp-a", ReluExpB: "relu-exp-b", ReluExpC: "relu-exp-c"}


def test_family_is_registered_in_its_place():
    assert registry.families()[5] is FAMILY and FAMILY.name == "shallow_relu"
    assert [e.name for e in FAMILY.experiments] == ["relu-exp-a", "relu-exp-b", "relu-exp-c", "relu-sigma-sweep"]
    assert registry.get_experiment("relu-sigma-sweep") is FAMILY.experiments[-1]


def test_entry_declarations():
    entry = ReluEntry()
    assert entry.methods == ("gd",) and entry.backends == ("cpu",)
    assert [p.name for p in entry.parameters] == ["data", "width", "mu", "lr", "seed", "a_minus", "dtype"]
    assert all(p.help for p in entry.parameters)
    assert entry.settings() == {"data": "a", "width": WIDTH, "mu": -3.0, "lr": 1e-3, "seed": SEED, "a_minus": 0.0,
                                "dtype": "float64"}


@pytest.mark.parametrize("backend", ["numpy", "cuda"])
def test_entry_refuses_undeclared_backends(backend, capsys):
    assert main(["simulate", "relu", "--backend", backend]) == 2
    assert "--backend: must be one of auto, cpu for relu" in capsys.readouterr().err


def test_entry_runs_a_leaky_network():
    out = ReluEntry().simulate({"data": "c", "width": 3, "a_minus": 0.1, "dtype": "float32"}, steps=20)
    assert out["params"]["a_minus"] == 0.1 and out["params"]["steps"] == 20 and out["t"][-1] == 20
    assert np.array(out["h"]).shape == (1, 3) and np.array(out["w_norm"]).shape == (1, 3)
    assert relu_like_simulator(0.1) is relu_like_simulator(0.1)


@pytest.mark.parametrize("cls, name", EXPERIMENTS.items())
def test_experiment_fields_default_to_the_data_set(cls, name):
    experiment = cls()
    dataset = DATASETS[name]
    assert experiment.name == name
    assert (experiment.mu, experiment.lr, experiment.iterations, experiment.seed) == (
        dataset.mu, dataset.lr, dataset.iterations, SEED)
    assert experiment.dataset == dataset
    assert {p.name for p in experiment.parameters} == {f.name for f in dataclasses.fields(experiment)}
    assert f"sigma = {WIDTH}^{dataset.mu:g}" in experiment.summary


def test_configured_experiment_trains_with_its_settings():
    configured = ReluExpA().configured({"mu": -2.0, "lr": 2e-3, "iterations": 1000, "seed": 3})
    dataset = configured.dataset
    assert (dataset.mu, dataset.lr, dataset.iterations, configured.seed) == (-2.0, 2e-3, 1000, 3)
    assert dataset.inputs == DATASETS["relu-exp-a"].inputs and dataset.sigma == WIDTH ** -2.0
    with pytest.raises(ParameterError, match=r"mu: must be a number in \[-20, 0\)"):
        ReluExpA().configured({"mu": 0.5})
    with pytest.raises(ParameterError, match="iterations"):
        ReluExpB().configured({"iterations": 0})


def test_sigma_sweep_declarations():
    sweep = ReluSigmaSweep()
    assert (sweep.mus, sweep.seeds, sweep.iterations, sweep.seed) == (SWEEP_MUS, 5, 150_000, SEED)
    assert sweep.configured({"mus": (-2.0, -3.0)}).mus == (-2.0, -3.0)
    with pytest.raises(ParameterError, match="mus"):
        sweep.configured({"mus": (-2.0, -2.0)})  # one sigma: no slope to fit
    with pytest.raises(ParameterError, match="mus"):
        sweep.configured({"mus": (-2.0, 1.0)})


def test_reproduce_refuses_bad_settings(capsys, tmp_path):
    assert main(["reproduce", "relu-exp-c", "--set", "lr=0", "--out", str(tmp_path)]) == 2
    assert "lr: must be a number > 0" in capsys.readouterr().err


def test_cached_derivation_is_typed_and_unchanged():
    doc = derivation()
    fresh = ShallowNetwork(RELU).derivation()
    assert isinstance(doc, ShallowNetworkDerivation)
    assert doc.steps == fresh.steps and doc.to_latex() == fresh.to_latex()
    for name in ("gradient_W", "gradient_H", "loss_gradient"):  # Lambdas carry fresh dummies: compare the text
        assert sn.latex(getattr(doc, name)) == sn.latex(getattr(fresh, name)), name
    assert doc.network.activation == RELU and doc.conserves_balance
    assert sn.W in doc.gradient_H.free_symbols and sn.X in doc.gradient_W.free_symbols


def test_euler_check_reads_the_derived_claim():
    verdict = euler_check()
    claim = derivation().euler_identity
    assert verdict.passed and verdict.error == claim.max_abs_at_random_points
    assert verdict.tolerance == 1e-9 and verdict.measure == "max abs"


def test_with_training_keeps_the_data():
    dataset = DATASETS["relu-exp-b"]
    other = dataset.with_training(-1.0, 0.5, 10)
    assert (other.mu, other.lr, other.iterations) == (-1.0, 0.5, 10)
    assert np.array_equal(other.X, dataset.X) and np.array_equal(other.Y_exact, dataset.Y_exact)
    assert dataset.with_mu(-2.0).mu == -2.0 and dataset.with_mu(-2.0).lr == dataset.lr
