"""The shipped conjectures give their verdicts from the CLI (small budgets here; the full ones are slow)."""

import json

import numpy as np
import pytest

from gradflow.derivations.cli import main
from gradflow.derivations.conjecture_file import load
from gradflow.derivations.shipped_conjectures import example_names, example_path
from gradflow.derivations.two_particle.laws import laws

pytestmark = pytest.mark.long  # whole reproductions or subprocesses: not in the quick subset

EXPECTED = {  # example -> (exit code, budget of the quick run)
    "orthogonal-margins": (0, 32),
    "two-particle-loss-monotone": (1, 16),
    "sharpness-below-2-over-eta": (1, 16),
    "permutation-point-zeros": (1, 4),
    "duplication-is-critical": (0, 3),
}


def run(capsys, *argv):
    code = main(["conjecture", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_the_five_examples_are_shipped():
    assert sorted(EXPECTED) == example_names()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_verdict(capsys, name):
    code, verdict = run(capsys, "--example", name, "--budget", str(EXPECTED[name][1]), "--seed", "0")
    assert code == EXPECTED[name][0], verdict
    if code == 0:
        assert verdict["verdict"] == "no counterexample" and verdict["instances"] >= 1
        return
    assert verdict["verdict"] == "falsified" and verdict["outcome"]["holds"] is False
    counterexample = verdict["counterexample"]
    assert verdict["command"].startswith(f"gradflow conjecture --example {name} --at ")
    if name == "permutation-point-zeros":  # the smallest architecture where the bound fails: two outputs
        assert counterexample["n2"] >= 2 and counterexample["n1"] == 2
        detail = verdict["outcome"]["detail"]
        assert verdict["outcome"]["measured"] == detail["n_next - rank_B"] < counterexample["n2"]
    else:  # the two-particle claims fail where GD starts unstable: eta above 2 / sharpness(0)
        s0 = float(laws().sharpness_at_zero(counterexample["p1"], counterexample["alpha"]))
        assert counterexample["eta"] * s0 > 2


def test_the_reproduce_command_reproduces_the_counterexample(capsys):
    code, verdict = run(capsys, "--example", "sharpness-below-2-over-eta", "--budget", "16")
    pairs = verdict["command"].split("--at ")[1:]
    code, at = run(capsys, "--example", "sharpness-below-2-over-eta", *sum((["--at", p.strip()] for p in pairs), []))
    assert code == 1 and at["outcome"] == verdict["outcome"]
    code, at = run(capsys, "--example", "sharpness-below-2-over-eta", "--at", "p1=0.5", "--at", "alpha=0.0",
                   "--at", "eta=1.0")  # eta below 2 / sharpness(0) = 8: stable, the claim holds
    assert code == 0 and at["outcome"]["holds"] is True


def test_same_seed_same_verdict(capsys):
    first = run(capsys, "--example", "two-particle-loss-monotone", "--budget", "16", "--seed", "3")[1]
    second = run(capsys, "--example", "two-particle-loss-monotone", "--budget", "16", "--seed", "3")[1]
    keys = ("counterexample", "outcome", "instances", "examples")
    assert {k: first[k] for k in keys} == {k: second[k] for k in keys}


def test_report_folder(capsys, tmp_path):
    code, verdict = run(capsys, "--example", "two-particle-loss-monotone", "--budget", "16", "--out", str(tmp_path))
    folder = tmp_path / "two-particle-loss-monotone"
    assert code == 1 and verdict["folder"] == str(folder)
    report = (folder / "report.md").read_text()
    assert "## Verdict: falsified" in report and verdict["command"] in report
    assert (folder / "figures" / "counterexample.png").stat().st_size > 0
    data = np.load(folder / "data.npz")
    assert data["x"].size == 51 and np.all(np.isfinite(data["curve0"]))  # the loss over the 50 steps
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["seeds"] == [0] and metadata["parameters"]["domain"]["eta"]["high"] == 50.0
    assert json.loads((folder / "results.json").read_text())["counterexample"] == verdict["counterexample"]


def test_list_examples(capsys):
    assert main(["conjecture", "--list-examples"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in EXPECTED)
    assert all(load(example_path(n)).conjecture.name == n for n in EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("name, budget", [("orthogonal-margins", 2000), ("two-particle-loss-monotone", 2000),
                                          ("sharpness-below-2-over-eta", 2000), ("permutation-point-zeros", 40),
                                          ("duplication-is-critical", 40)])
def test_example_verdict_full_budget(capsys, name, budget):
    code, verdict = run(capsys, "--example", name, "--budget", str(budget), "--seed", "1")
    assert code == EXPECTED[name][0], verdict


def test_failure_database_from_the_cli(capsys, tmp_path):
    argv = ("--example", "sharpness-below-2-over-eta", "--budget", "16", "--database", str(tmp_path / "db"))
    first = run(capsys, *argv)[1]
    again = run(capsys, *argv, "--seed", "7")[1]
    assert not first["replayed"] and again["replayed"] and again["examples"] == 0
    assert again["counterexample"] == first["counterexample"]
    stored = json.loads(next((tmp_path / "db").glob("*.json")).read_text())
    assert stored["counterexamples"] == [first["counterexample"]]
