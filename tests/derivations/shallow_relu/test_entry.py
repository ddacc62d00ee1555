"""The relu model entry and the saddle-to-saddle reproductions, through the CLI."""

import json
import re

import numpy as np
import pytest

from gradflow.derivations import registry
from gradflow.derivations.cli import main
from gradflow.derivations.shallow_relu import FAMILY
from gradflow.derivations.shallow_relu.analysis import analyse_plateau, plateaus
from gradflow.derivations.shallow_relu.datasets import DATASETS
from gradflow.derivations.shallow_relu.training import train
from tests.latex_checker import problems

PLATEAU_KEYS = {"start", "end", "loss", "loss_exact", "stationary", "escape_neurons", "classification"}


def test_exp_a_plateaus_exact_and_classified():
    dataset = DATASETS["relu-exp-a"]
    run = train(dataset, iterations=200_000)
    found = plateaus(run)
    assert len(found) >= 2
    first, second = (analyse_plateau(p, run, dataset) for p in found[:2])
    # theta = 0: L = mean(y^2) exactly
    assert first["loss_exact"] == "953/25000" and not first["groups"]
    assert first["zero_neurons"] + first["dead_neurons"] == 50 and first["zero_neurons"] > 0
    assert second["loss_exact"] == "50749/1681250" and len(second["groups"]) == 1
    for p in (first, second):
        assert abs(p["loss"] - p["loss_exact_float"]) < 1e-4 * p["loss"]
        assert p["stationary"] and p["classification"] == "saddle" and p["escape_neurons"]


def test_exp_a_selection_ignores_the_plateau_loss_and_the_verdict_can_fail():
    """The idealisation is chosen without looking at the plateau's loss (structure, patterns, closeness to
    the snapshot), so the check that compares the two can fail: a plateau 1% off its exact value gets the
    same idealisation and a failing verdict.  (Choosing by that loss within the verdict's own tolerance made
    the check pass by construction whenever a finer idealisation was picked.)"""
    import dataclasses

    from gradflow.derivations.shallow_relu.checks import _plateau_checks

    dataset = DATASETS["relu-exp-a"]
    run = train(dataset, iterations=200_000)
    found = plateaus(run)[:3]
    honest = [analyse_plateau(p, run, dataset) for p in found]
    shifted = [analyse_plateau(dataclasses.replace(p, loss=1.01 * p.loss), run, dataset) for p in found]
    for a, b in zip(honest, shifted):
        assert (a["loss_exact"], a["report_mode"], a["classification"]) == \
            (b["loss_exact"], b["report_mode"], b["classification"])
    # the third plateau is still sinking at 200000 steps (median 0.6% above its exact value): the finer
    # idealisation is chosen all the same, as in the full run
    assert honest[2]["report_mode"].endswith("zero tolerance 0.001")
    assert _plateau_checks(honest[:2])[0].passed
    assert not _plateau_checks(shifted[:2])[0].passed


def test_reproduce_relu_exp_a_quick_writes_folder_and_json(tmp_path, capsys):
    code = main(["reproduce", "relu-exp-a", "--quick", "--out", str(tmp_path), "--json"])
    assert code in (0, None)
    result = json.loads(capsys.readouterr().out)
    for key in ("loss", "iterations", "plateaus", "final_loss", "escape_time_measured", "escape_time_predicted",
                "perturbation_min_delta"):
        assert key in result
    assert len(result["loss"]) == len(result["iterations"])
    assert all(PLATEAU_KEYS <= set(p) for p in result["plateaus"])
    assert [p["loss_exact"] for p in result["plateaus"][:3]] == ["953/25000", "50749/1681250", "16139/578750"]
    # two saddles, then a certified local minimum: the small neurons left are dead, none is a zero neuron
    assert [p["classification"] for p in result["plateaus"][:3]] == ["saddle", "saddle", "local minimum"]
    assert result["plateaus"][2]["zero_neurons"] == 0 and result["plateaus"][2]["dead_neurons"] > 0
    # the first escape: T_1 = ln(1/sigma)/(2 lambda*) up to an O(1) shift
    assert 0.5 < result["escape_time_measured"] / result["escape_time_predicted"] < 1.2
    folder = tmp_path / "relu-exp-a"
    for name in ("report.md", "derivation.tex", "figures/training.png", "data.npz", "metadata.json", "results.json"):
        assert (folder / name).exists()
    assert "| plateau |" in (folder / "report.md").read_text()
    _check_paper_ready(folder, result)


def _check_paper_ready(folder, result):
    """The written report and derivation are paper-ready: a checked document, a quick notice first, neuron
    numbers that agree between the table and the text, no long exact constants, verdicts with reasons."""
    assert problems((folder / "derivation.tex").read_text()) == []
    report = (folder / "report.md").read_text()
    assert report.splitlines()[0].startswith("**Quick run")
    for k, plateau in enumerate(result["plateaus"]):
        row = next(line for line in report.splitlines() if line.startswith(f"| {k + 1} |"))
        table = row.split("|")[6].strip()
        assert table == (", ".join(map(str, plateau["escape_neurons"])) or "none")
        line = next(line for line in report.splitlines() if line.startswith(f"- plateau {k + 1}:"))
        named = re.findall(r"escape neuron (\d+)", line)
        assert all(int(i) in plateau["escape_neurons"] for i in named), (row, line)
    assert not re.search(r"\d{17}", report)  # no 40-digit fractions (nor 16-digit floats)
    escape = next(line for line in report.splitlines() if line.startswith("First escape"))
    assert "Verdict" in escape and "O(1)" in escape
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["gradflow"] and metadata["command"] and metadata["platform"] and metadata["quick"] is True
    assert metadata["seeds"] and "git_commit" in metadata


def test_sigma_sweep_quick_slope_matches_theory(tmp_path, capsys):
    assert main(["reproduce", "relu-sigma-sweep", "--quick", "--out", str(tmp_path), "--json"]) in (0, None)
    result = json.loads(capsys.readouterr().out)
    assert result["fit"]["relative_error"] < 0.05
    measured = np.array(result["escape_time_measured"])
    assert np.all(np.isfinite(measured)) and len(measured) == 6
    report = (tmp_path / "relu-sigma-sweep" / "report.md").read_text()
    fitted = next(line for line in report.splitlines() if line.startswith("Fitted law"))
    slope = f"{result['fit']['slope']:.4g}"
    assert f"T_1 = {slope} ln(1/sigma)" in fitted and "verdict: agrees" in fitted and "{" not in fitted
    assert not re.search(r"\d{17}", report)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["relu-exp-b", "relu-exp-c"])
def test_other_reproductions_write_their_folders(tmp_path, name):
    result = registry.get_experiment(name).run(quick=True)
    assert result.results["plateaus"] and np.isfinite(result.results["final_loss"])
    result.write(tmp_path)
    assert (tmp_path / name / "results.json").exists()


def test_simulate_relu_json(capsys):
    assert main(["simulate", "relu", "--set", "data=c", "--steps", "2000", "--json"]) in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["data"] == "c" and out["t"][-1] == 2000 and len(out["loss"]) == len(out["t"])


def test_a_long_relu_run_records_a_bounded_loss_trace(capsys, monkeypatch):
    """Beyond LOSS_RECORDS steps the loss is recorded every k-th step: the trace's memory stays bounded
    (10^8 steps once filled gigabytes before the first step, and Ctrl-C waited for it), and the records it
    keeps are the every-step run's own."""
    from gradflow.derivations.shallow_relu import entry

    def simulate():
        assert main(["simulate", "relu", "--set", "data=c", "--steps", "2000", "--json"]) in (0, None)
        out = json.loads(capsys.readouterr().out)
        return dict(zip(out["t"], out["loss"]))

    every_step = simulate()
    monkeypatch.setattr(entry, "LOSS_RECORDS", 64)
    assert entry.loss_every(2000) == 32
    sparse = simulate()
    assert max(sparse) == 2000 and all(t % 32 == 0 or t == 2000 for t in sparse)
    shared = set(sparse) & set(every_step)
    assert len(shared) > 20
    assert all(sparse[t] == pytest.approx(every_step[t], rel=1e-12) for t in shared)
    monkeypatch.undo()
    cost = FAMILY.entries[0].cost({"data": "a", "width": 50}, "gd", 200_000_000, None)
    assert cost.memory < 2 * 8 * entry.LOSS_RECORDS + 8 * 50 * 3 * 205  # not 8 bytes per step


@pytest.mark.parametrize("args,parameter", [
    (["--set", "width=0"], "width"), (["--set", "lr=-1"], "lr"), (["--set", "a_minus=1"], "a_minus"),
    (["--set", "data=d"], "data"), (["--method", "flow", "--t-end", "3"], "--method")])
def test_simulate_relu_bad_input(args, parameter, capsys):
    assert main(["simulate", "relu", *args]) == 2
    assert capsys.readouterr().err.startswith(f"gradflow: error: {parameter}")


def test_relu_is_listed():
    assert FAMILY.entries[0].name == "relu"
    assert registry.get_model("relu") is FAMILY.entries[0]


@pytest.mark.slow
def test_relu_exp_c_last_plateau_is_17_over_200_and_a_local_minimum():
    """The full relu-exp-c run (300000 steps, ~20 s): its last plateau gets the partition's exact least squares
    (a quick variant with a hand-built point of the same partition is in tests/numerics/saddle)."""
    from gradflow.derivations.shallow_relu.analysis import analyse_plateau, plateaus
    from gradflow.derivations.shallow_relu.datasets import DATASETS
    from gradflow.derivations.shallow_relu.training import train

    dataset = DATASETS["relu-exp-c"]
    run = train(dataset)
    last = analyse_plateau(plateaus(run)[-1], run, dataset)
    assert last["loss_exact"] == "17/200" and last["keeps_pattern"]
    assert last["loss"] == pytest.approx(17 / 200, rel=1e-4)
    assert last["classification"] == "local minimum" and last["report_mode"].startswith("exact")
