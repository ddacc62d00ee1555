"""The CLI under hostile input, interrupts, huge sizes and half-written results.

In-process (``main``) where only the command's answer matters; in a fresh process (tests/faults.py)
where the process itself is the subject: Ctrl-C, a closed pipe, warnings printed by the interpreter.
"""

from __future__ import annotations

import json
import re
import stat
import sys
import warnings

import numpy as np
import pytest

from gradflow.derivations import cost as cost_module
from gradflow.derivations.cli import main
from gradflow.derivations.output import dumps, finite_json
from gradflow.derivations.registry import get_experiment, get_model
from gradflow.derivations.report import Reproduction, prepare_output
from gradflow.numerics.errors import DivergenceError
from gradflow.theory.errors import ParameterError

from ..faults import assert_one_line_error, cli_env, closed_early, interrupt_cli, run_cli

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset


def error_of(capsys, *argv, code=2) -> str:
    """The one line a bad command prints (exit ``code``, nothing else on stderr or stdout)."""
    assert main(list(argv)) == code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert captured.out == ""
    return lines[0]


# --- parsing holes and the parameter an error names ---------------------------------------------------

@pytest.mark.parametrize("argv, needle", [
    (["simulate", "am-orthogonal", "--set", "N=3", "--set", "N=4"], "N: must be given once (it is set twice)"),
    (["simulate", "am-orthogonal", "--set", "N=\uff15"], "N: must be an integer (got '\uff15')"),  # full-width 5
    (["simulate", "am-orthogonal", "--set", "eta=1_0"], "eta: must be a finite number (got '1_0')"),
    (["simulate", "am-orthogonal", "--set", "N=1_0"], "N: must be an integer (got '1_0')"),
    (["simulate", "am-orthogonal", "--set", "eta=0x10"], "eta: must be a finite number"),
    (["simulate", "am-orthogonal", "--set", "eta=1e999"], "eta: must be a finite number"),
    (["simulate", "am-orthogonal", "--set", "N=2", "--set", "p=0.5,0.5", "--set", "zipf=2"],
     "zipf: must be left out when p is given"),
    (["simulate", "am-orthogonal", "--set", "zipf=1000"], "zipf: must be small enough that every frequency"),
    (["simulate", "relu", "--set", "mu=300"], "mu: must be a number in [-20, 20]"),
    (["simulate", "relu", "--set", "mu=-1000"], "mu: must be a number in [-20, 20]"),
    (["simulate", "am-orthogonal", "--set", "M=1000000000000000000", "--steps", "2"],
     "M: must be small enough for the memory"),
    (["simulate", "am-orthogonal", "--steps", "100000000000000000000"], "--steps: must be an integer in [0, 1e+15]"),
])
def test_bad_settings_get_one_line_naming_the_parameter(capsys, argv, needle):
    assert needle in error_of(capsys, *argv)


def test_keys_are_shown_escaped_never_raw(capsys):
    line = error_of(capsys, "simulate", "am-orthogonal", "--set", "\x1b[31mred\nline=1")
    assert "\x1b" not in line and "\n" not in line and line.startswith("gradflow: error: \\x1b[31mred\\nline:")


def test_errors_show_plain_numbers(capsys):
    line = error_of(capsys, "simulate", "am-orthogonal", "--set", "N=2", "--set", "p=1.5,-0.5")
    assert "np.float64" not in line and "(got (1.5, -0.5))" in line


def test_p_given_means_zipf_is_not_reported(capsys):
    assert main(["simulate", "am-orthogonal", "--set", "N=2", "--set", "p=0.25,0.75", "--steps", "3", "--json"]) == 0
    params = json.loads(capsys.readouterr().out)["params"]
    assert params["p"] == [0.25, 0.75] and params["zipf"] is None


# --- huge sizes and absurd work: refused before anything is allocated or run -------------------------

@pytest.mark.parametrize("argv, parameter", [
    (["simulate", "am-orthogonal", "--set", "N=1000000000"], "N"),
    (["simulate", "am-random", "--set", "N=100000", "--set", "M=100000", "--set", "d=100000"], "N"),
    (["simulate", "am-random", "--set", "d=1000000000"], "d"),
    (["simulate", "deep-linear", "--set", "n_in=1000000000"], "n_in"),
    (["simulate", "relu", "--set", "width=1000000000"], "width"),
])
def test_huge_sizes_are_refused_with_the_estimate(capsys, argv, parameter):
    line = error_of(capsys, *argv)
    assert re.match(rf"gradflow: error: {parameter}: must be small enough for the memory: the run needs about "
                    r"[0-9.e+]+ [KMGT]iB, [0-9.e+]+ [KMGT]iB are available", line), line


@pytest.mark.parametrize("argv, option", [
    (["simulate", "am-random", "--method", "flow", "--t-end", "1e12"], "--t-end"),
    (["simulate", "am-orthogonal", "--steps", "10000000000000"], "--steps"),
    (["simulate", "am-two-particle", "--steps", "1000000000000000"], "--steps"),
])
def test_absurd_work_is_refused_unless_forced(capsys, argv, option):
    line = error_of(capsys, *argv)
    assert line.startswith(f"gradflow: error: {option}: must be at most about ") and "--force runs it anyway" in line
    if option == "--t-end":
        assert "log-time" in line  # the flow that needs huge fixed-step counts names the cheaper method


def test_the_memory_estimate_uses_what_is_available(monkeypatch):
    entry = get_model("am-orthogonal")
    monkeypatch.setattr(cost_module, "available_memory", lambda: 1e6)  # 1 MB left: the default run needs more
    with pytest.raises(ParameterError, match="N: must be small enough for the memory"):
        entry.simulate({"N": 2000}, steps=10)
    monkeypatch.setattr(cost_module, "available_memory", lambda: None)  # unknown: nothing is refused
    assert entry.simulate({"N": 3}, steps=2)["params"]["N"] == 3


# --- divergence: one policy for every backend; JSON always valid ------------------------------------

@pytest.mark.parametrize("argv", [
    ["simulate", "am-orthogonal", "--backend", "numpy", "--set", "eta=1.7e308", "--steps", "3"],
    ["simulate", "am-orthogonal", "--backend", "cpu", "--set", "eta=1.7e308", "--steps", "3"],
    ["simulate", "am-random", "--set", "eta=1e300", "--steps", "3"],  # S stays finite, its norm overflows
    ["simulate", "am-random", "--backend", "numpy", "--set", "eta=1e300", "--steps", "3"],
])
def test_divergence_is_an_error_on_every_backend(capsys, argv):
    line = error_of(capsys, *argv, code=1)
    assert re.match(r"gradflow: run diverged at step \d+: \w+ became non-finite", line), line


def test_json_never_holds_nan_or_infinity():
    text = dumps({"a": [1.0, float("nan"), float("inf")], "b": np.float32(-np.inf), "c": (np.nan,)})
    assert json.loads(text) == {"a": [1.0, None, None], "b": None, "c": [None]}
    assert finite_json({"x": np.array([1.0, np.inf])}) == {"x": [1.0, None]}


def test_errors_with_json_are_json(capsys):
    assert main(["simulate", "am-orthogonal", "--set", "N=0", "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"error": {"kind": "parameter", "message": "N: must be an integer >= 1 (got 0)",
                                                  "parameter": "N"}}
    assert main(["simulate", "am-orthogonal", "--backend", "numpy", "--set", "eta=1.7e308", "--steps", "2",
                 "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["kind"] == "divergence"
    with pytest.raises(SystemExit) as done:  # argparse's own errors too
        main(["simulate", "am-orthogonal", "--steps", "many", "--json"])
    assert done.value.code == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["kind"] == "usage" and "--steps" in error["message"]


def test_a_huge_step_size_prints_no_warnings_and_valid_results(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pytest records warnings instead of printing them: make them fail
        assert main(["simulate", "am-two-particle", "--set", "eta=1e300", "--steps", "3", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["t"] == [0.0, 1.0, 2.0, 3.0]


# --- outputs: checked before the work, written whole ------------------------------------------------

def test_out_must_be_a_writable_directory(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("x")
    assert "--out: must be a directory (it exists and is not one)" in error_of(
        capsys, "reproduce", "am-margins", "--quick", "--out", str(target))
    assert "--out: must be a directory (it exists and is not one)" in error_of(
        capsys, "reproduce", "am-margins", "--quick", "--out", "/dev/null")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        if prepare_output_is_refused(locked):
            assert "--out: must be a directory gradflow can create and write" in error_of(
                capsys, "reproduce", "am-margins", "--quick", "--out", str(locked / "sub"))
    finally:
        locked.chmod(stat.S_IRWXU)


def prepare_output_is_refused(folder) -> bool:
    try:
        prepare_output(folder / "sub")
    except ParameterError:
        return True
    return False  # running as root: permissions do not stop us


def _reproduction(name, arrays, fail_on_figure=False):
    class Exploding:
        def savefig(self, *args, **kwargs):
            raise KeyboardInterrupt

    figures = {"broken": Exploding()} if fail_on_figure else {}
    return Reproduction(name, {"quick": True}, arrays, figures, "# report\n", "\\documentclass{article}", [])


def test_a_result_folder_is_replaced_whole_and_an_interrupted_write_leaves_the_old(tmp_path):
    first = _reproduction("demo", {"a": np.arange(3), "old_only": np.zeros(2)}).write(tmp_path)
    assert sorted(np.load(first / "data.npz").files) == ["a", "old_only"]
    (first / "code" / "gf_stale.py").write_text("# an old generated module")
    second = _reproduction("demo", {"a": np.arange(5)}).write(tmp_path)
    assert second == first and sorted(np.load(second / "data.npz").files) == ["a"]
    assert not (second / "code" / "gf_stale.py").exists()  # never mixed with the old folder
    with pytest.raises(KeyboardInterrupt):
        _reproduction("demo", {"a": np.arange(7)}, fail_on_figure=True).write(tmp_path)
    assert np.load(second / "data.npz")["a"].size == 5  # the old result, untouched
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # no partial folder left behind


def test_leftovers_of_a_killed_write_are_cleaned(tmp_path):
    (tmp_path / ".demo.abc.partial").mkdir()
    (tmp_path / ".demo.def.old").mkdir()
    _reproduction("demo", {"a": np.arange(2)}).write(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_experiments_validate_settings_before_running(capsys, tmp_path):
    assert "etas: must be" in error_of(capsys, "reproduce", "am-margins", "--set", "etas=-1", "--out", str(tmp_path))
    assert list(tmp_path.iterdir()) == []
    assert get_experiment("am-margins").parse_settings(["etas=1,2"])["etas"] == (1.0, 2.0)


# --- the process itself: Ctrl-C, a closed pipe, a traceback-free top level ---------------------------

@pytest.mark.parametrize("argv, warm_up", [
    (["simulate", "am-orthogonal", "--steps", "10000000000", "--force"], ["--steps", "1"]),  # a long map iteration
    (["simulate", "am-random", "--method", "flow", "--t-end", "1000000", "--force"], ["--t-end", "0.1"]),  # RK4
    (["simulate", "relu", "--steps", "200000000", "--force"], ["--steps", "1"]),  # the shallow-network GD kernel
])
def test_ctrl_c_ends_a_long_run_at_once(tmp_path, argv, warm_up):
    env = cli_env()  # the suite's cache: the warm-up compiles (or loads) the kernel, the long run then runs it
    assert run_cli(*argv[:argv.index("--force") - 2], *warm_up, env=env, cwd=tmp_path).returncode == 0
    outcome, seconds = interrupt_cli(*argv, env=env, cwd=tmp_path, after=2.0)
    assert outcome.returncode == 130, outcome.stderr[-2000:]
    assert "Traceback" not in outcome.stderr and outcome.error_lines == ["gradflow: interrupted"]
    assert seconds < 10


def test_ctrl_c_during_reproduce_leaves_no_folder(tmp_path):
    outcome, _ = interrupt_cli("reproduce", "am-margins", "--out", str(tmp_path / "results"),
                               env=cli_env(tmp_path / "cache"), cwd=tmp_path, after=2.0)
    assert outcome.returncode == 130 and "Traceback" not in outcome.stderr
    assert not (tmp_path / "results" / "am-margins").exists()
    assert not list((tmp_path / "results").glob(".am-margins*")) if (tmp_path / "results").exists() else True


def test_output_closed_early_is_quiet(tmp_path):
    outcome = closed_early("list", env=cli_env(tmp_path / "cache"), cwd=tmp_path)
    assert outcome.returncode in (0, 141) and "Traceback" not in outcome.stderr and outcome.stderr == ""


def test_a_diverging_numpy_run_prints_one_line_and_no_warning(tmp_path):
    outcome = run_cli("simulate", "am-orthogonal", "--backend", "numpy", "--set", "eta=1.7e308", "--steps", "3",
                      env=cli_env(tmp_path / "cache"), cwd=tmp_path)
    assert_one_line_error(outcome, "run diverged at step 1: margins", code=1)


def test_ctrl_c_inside_llvmlite_is_raised_once_its_code_has_returned():
    # ctypes swallows an exception raised in LLVM's callbacks into llvmlite: the interrupt must wait them out
    import os
    import signal
    import time

    from gradflow.derivations._gradflow.__main__ import _interrupt

    path = os.path.join(os.sep, "site-packages", "llvmlite", "binding", "executionengine.py")
    namespace = {"sys": sys}
    exec(compile("def callback():\n    return sys._getframe()\n", path, "exec"), namespace)
    inside = namespace["callback"]()
    saved = signal.getsignal(signal.SIGALRM)
    try:
        assert _interrupt(signal.SIGINT, inside) is None  # deferred, not raised
        with pytest.raises(KeyboardInterrupt):
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:  # the timer's signal finds this frame, outside llvmlite
                time.sleep(0.001)
        with pytest.raises(KeyboardInterrupt):
            _interrupt(signal.SIGINT, sys._getframe())  # elsewhere: at once
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, saved)
