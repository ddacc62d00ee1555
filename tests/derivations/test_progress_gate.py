"""Progress bars are for a person at a terminal: never under CI, with --json, or into a file or pipe."""

import io
import os
import subprocess
import sys

import pytest

from gradflow.derivations.output import shows_progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("ci, as_json, tty, expected", [
    ("", False, True, True),
    ("false", False, True, True),
    ("true", False, True, False),
    ("1", False, True, False),
    ("", True, True, False),
    ("", False, False, False),
])
def test_progress_only_at_a_terminal_outside_ci(monkeypatch, ci, as_json, tty, expected):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(sys, "stderr", _Terminal() if tty else io.StringIO())
    assert shows_progress(as_json) is expected


@pytest.mark.long  # a reproduction in a subprocess
def test_a_piped_reproduction_draws_no_bar(tmp_path):
    # am-margins draws a tqdm bar over its runs at a terminal; into a pipe its stderr holds none
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    done = subprocess.run([sys.executable, "-m", "gradflow", "reproduce", "am-margins", "--quick", "--out",
                           str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "%|" not in done.stderr  # no tqdm bar of any kind
