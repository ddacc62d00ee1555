"""mlp-gaussian: the folder, the kernel error table and the agreement of the three data kinds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradflow.derivations.mlp.gaussian_experiment import network, objectives
from gradflow.derivations.registry import get_experiment
from gradflow.theory.mlp import random_params
from tests.latex_checker import problems

pytestmark = pytest.mark.long  # whole reproductions or subprocesses: not in the quick subset


def _check_results(results: dict, monte_carlo_limit: float = 5.0):
    for row in results["kernel_errors"]:
        assert row["monte_carlo_standard_errors"] < monte_carlo_limit, row
        assert row["quadrature_relative_error"] < 1e-10, row
    assert {(r["kernel"], r["biased"]) for r in results["kernel_errors"]} >= {("relu", True), ("erf2", True)}
    erf2 = results["teachers"]["erf2"]
    # erf2 is smooth: 200 Gauss-Hermite nodes per axis compute the expected loss to rounding
    for when in ("initial", "final"):
        assert erf2["relative_loss_differences"][when]["hermite"] < 1e-10
    assert erf2["largest_distance"]["hermite"] < 1e-15
    relu = results["teachers"]["relu"]
    assert relu["relative_loss_differences"]["initial"]["hermite"] < 5e-2  # the kink converges slowly
    for teacher in (erf2, relu):
        assert teacher["final_loss"]["population"] < teacher["population_loss"]["initial"]


def test_tiny_gaussian_reproduction_writes_its_folder(tmp_path):
    experiment = get_experiment("mlp-gaussian")
    result = experiment.reproduce({"n": 500, "nodes": 60, "width": 2, "t_end": 2.0, "mc_samples": 20_000,
                                   "maxtime": 2.0}, quick=True)
    folder = result.write(tmp_path)
    assert (folder / "figures" / "loss_curves.png").exists() and (folder / "figures" / "trajectory_distances.pdf").exists()
    results = json.loads((folder / "results.json").read_text())
    assert set(results["teachers"]) == {"erf2", "relu"}
    for row in results["kernel_errors"]:
        assert row["monte_carlo_standard_errors"] < 5.0 and row["quadrature_relative_error"] < 1e-10, row
    erf2 = results["teachers"]["erf2"]
    assert erf2["relative_loss_differences"]["initial"]["hermite"] < 1e-8  # 60 nodes: still tight for erf2
    data = np.load(folder / "data.npz")
    assert data["relu_hermite_distance"].shape == data["relu_hermite_time"].shape
    assert "| relu | yes |" in (folder / "report.md").read_text()
    assert problems((folder / "derivation.tex").read_text()) == []  # a complete, checked document


@pytest.mark.slow
def test_quick_gaussian_reproduction_numbers():
    result = get_experiment("mlp-gaussian").reproduce({}, quick=True)
    _check_results(result.results)


def test_three_objectives_agree_at_one_point():
    """The population loss, its gradient, and the Gauss-Hermite loss (smooth erf2) at the same theta."""
    net = network("erf2", 2)
    teacher = random_params(net, 0) + 0.3
    objs = objectives(net, teacher, 2000, 120, seed=3)
    theta = random_params(net, 5) + 0.1
    population = objs["population"].loss_and_gradient(theta)
    hermite = objs["hermite"].loss_and_gradient(theta)
    assert population[0] == pytest.approx(hermite[0], rel=1e-11)
    np.testing.assert_allclose(population[1], hermite[1], rtol=1e-9, atol=1e-12)
    assert abs(objs["samples"].loss(theta) - population[0]) < 0.2 * population[0]
