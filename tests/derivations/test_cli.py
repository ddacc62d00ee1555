"""The gradflow CLI: JSON outputs, the issue's acceptance numbers, bad input, reproduce."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gradflow.derivations.cli import main
from gradflow.numerics.closed_form import numeric_function
from gradflow.derivations.associative_memory.oracles import margin_map_numpy
from gradflow.theory.models import associative_memory as am
from tests.latex_checker import problems

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_list(capsys):
    table = run_json(capsys, "list")
    assert {"am-orthogonal", "am-random", "deep-linear"} <= set(table["models"])
    assert "am-margins" in table["experiments"]


def test_derive_latex_has_the_derived_results(capsys):
    assert main(["derive", "am-orthogonal", "--latex"]) == 0
    tex = capsys.readouterr().out
    assert r"\frac{d m}{d t} &= \frac{M p}{M + e^{m} - 1}" in tex  # margin ODE
    assert r"M m - m + e^{m} = M p t + 1" in tex  # implicit solution
    assert r"W\left(" in tex  # Lambert form
    assert r"\log{\left(M \eta p t \right)}" in tex and r"\log{\left(M p t \right)}" in tex  # log laws


def test_simulate_orthogonal_gd_acceptance(capsys):
    out = run_json(capsys, "simulate", "am-orthogonal", "--set", "N=6", "--set", "M=4", "--set", "zipf=1", "--set",
                   "eta=0.5", "--steps", "20000")
    assert set(out) >= {"params", "t", "loss", "l01", "margins"}
    t, loss, margins = np.array(out["t"]), np.array(out["loss"]), np.array(out["margins"])
    assert margins.shape == (20001, 6)
    p = np.array(out["params"]["p"])
    np.testing.assert_allclose(margins, margin_map_numpy(p, 4, 0.5, 20000, t.astype(int)), atol=1e-9)
    assert 0.5 * t[-1] * loss[-1] == pytest.approx(4.5, rel=0.02)
    assert out["l01"][0] > 0 and out["l01"][-1] == 0


def test_simulate_orthogonal_flow_matches_lambert(capsys):
    out = run_json(capsys, "simulate", "am-orthogonal", "--set", "N=6", "--set", "M=4", "--set", "zipf=1",
                   "--method", "flow", "--t-end", "1e8")
    t, margins = np.array(out["t"]), np.array(out["margins"])
    assert t[-1] == 1e8
    closed = numeric_function(am.derive().solution.explicit, (am.t, am.p, am.M))
    exact = closed(t[:, None], np.array(out["params"]["p"])[None, :], 4.0)
    np.testing.assert_allclose(margins, exact, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("method", ["gd", "sgd", "flow"])
def test_simulate_random_backends_agree(capsys, method):
    args = ["simulate", "am-random", "--set", "N=5", "--set", "M=4", "--set", "d=3", "--set", "W0=random",
            "--method", method]
    args += ["--t-end", "2"] if method == "flow" else ["--steps", "50"]
    cpu = run_json(capsys, *args)
    assert np.all(np.isfinite(cpu["loss"])) and np.array(cpu["margins"]).shape[1] == 5
    if method == "gd":
        ref = run_json(capsys, *args, "--backend", "numpy")
        np.testing.assert_allclose(cpu["loss"], ref["loss"], rtol=1e-10)
        np.testing.assert_allclose(cpu["margins"], ref["margins"], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("argv, needle", [
    (["simulate", "am-orthogonal", "--set", "N=0"], "N: must be an integer >= 1"),
    (["simulate", "am-orthogonal", "--set", "M=1"], "M: must be an integer >= 2"),
    (["simulate", "am-orthogonal", "--set", "eta=-1"], "eta: must be > 0"),
    (["simulate", "am-orthogonal", "--set", "eta=nan"], "eta: must be a finite number"),
    (["simulate", "am-orthogonal", "--set", "eta=1e3*2"], "eta: must be a finite number"),
    (["simulate", "am-orthogonal", "--set", "N=2", "--set", "p=0.5,0.6"], "p: must be a probability vector summing to 1"),
    (["simulate", "am-orthogonal", "--set", "N=2", "--set", "p=1.5,-0.5"], "p: must be positive"),
    (["simulate", "am-orthogonal", "--set", "N=3", "--set", "p=0.5,0.5"], "p: must be a list of N = 3"),
    (["simulate", "am-random", "--set", "W0=ones"], "W0: must be one of zero, random"),
    (["simulate", "am-nothing"], "MODEL: must be one of"),
    (["simulate", "am-orthogonal", "--set", "colour=1"], "colour: must be a known key"),
    (["simulate", "am-orthogonal", "--set", "eta"], "--set: must be of the form KEY=VALUE"),
    (["simulate", "am-orthogonal", "--method", "newton"], "--method: must be one of"),
    (["simulate", "am-orthogonal", "--method", "flow", "--t-end", "-3"], "--t-end: must be a number > 0"),
    (["reproduce", "no-such-experiment"], "EXPERIMENT: must be one of"),
    (["check", "nothing"], "MODEL: must be one of"),
])
def test_bad_input_one_line_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_input_from_the_console_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "gradflow.derivations.cli", "simulate", "am-orthogonal", "--set",
                           "p=__import__('os').system('echo hacked')"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "hacked" not in proc.stdout
    assert proc.stderr.startswith("gradflow: error: p:")


def test_check_all_quick_passes(capsys):
    code = main(["check", "all", "--quick", "--json"])
    report = json.loads(capsys.readouterr().out)
    failed = [v for v in report["verdicts"] if not v["passed"]]
    assert code == 0 and report["passed"], failed
    assert {v["model"] for v in report["verdicts"]} >= {"am-orthogonal", "am-random", "deep-linear"}


def test_reproduce_quick_writes_the_folder(capsys, tmp_path):
    out = run_json(capsys, "reproduce", "am-margins", "--quick", "--out", str(tmp_path))
    folder = tmp_path / "am-margins"
    for name in ("report.md", "derivation.tex", "data.npz", "metadata.json", "figures/margins_eta0.5.png",
                 "figures/margins_eta5.png", "figures/margins_eta50.png", "figures/margins_flow.png",
                 "figures/eta_t_loss.png", "figures/margins_eta0.5.pdf"):
        assert (folder / name).is_file(), name
    index = json.loads((folder / "code" / "index.json").read_text())
    assert {"associative_memory_logit_particles", "margin_map", "margin_flow"} <= set(index["modules"])
    assert all((folder / "code" / f"{name}.py").is_file() for name in index["modules"])
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["seeds"] == [0] and "numba" in meta["versions"] and meta["parameters"]["quick"] is True
    data = np.load(folder / "data.npz")
    np.testing.assert_allclose(data["margins_eta0.5"], data["margin_map_eta0.5"], atol=1e-9)
    assert out["folder"] == str(folder)
    # paper-ready: a checked LaTeX document, a report that says it is quick, verdicts beside the limits
    assert problems((folder / "derivation.tex").read_text()) == []
    report = (folder / "report.md").read_text()
    assert report.startswith("**Quick run")
    rows = [line for line in report.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert rows and all(("agrees" in r) or ("outside the law's regime" in r) for r in rows), rows
    assert {"gradflow", "git_commit", "command", "platform"} <= set(meta) and "reproduce am-margins" in meta["command"]


def test_derive_latex_prints_a_checked_document(capsys):
    assert main(["derive", "am-orthogonal", "--latex"]) in (0, None)
    source = capsys.readouterr().out
    assert problems(source) == []
    assert r"j \ne y" in source and "DiagMatrix" not in source  # both cases of the logit gradient; no SymPy names
