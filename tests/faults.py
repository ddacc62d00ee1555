"""Fault injection for the reliability tests: run the CLI as a user would (a fresh process), interrupt
it, close its output early; and the assertions every such scenario shares (file damage: corrupt.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """stderr without progress bars (tqdm draws with carriage returns)."""
        return [line for line in self.stderr.replace("\r", "\n").splitlines() if line.startswith("gradflow:")]


def cli_env(cache_dir: Path | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if cache_dir is not None:
        env["GRADFLOW_CACHE_DIR"] = str(cache_dir)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 600,
            stdin: str | None = None) -> Outcome:
    """``gradflow ARGS`` in a fresh process (``python -m gradflow``), outside the repository by default."""
    proc = subprocess.run([sys.executable, "-m", "gradflow", *args], capture_output=True, text=True,
                          env=env or cli_env(), cwd=cwd, timeout=timeout, input=stdin)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def interrupt_cli(*args: str, env: dict | None = None, cwd: Path | None = None, after: float = 3.0,
                  started: str = "", timeout: float = 120) -> tuple[Outcome, float]:
    """Send SIGINT (Ctrl-C) to ``gradflow ARGS`` ``after`` seconds (counted from the moment ``started``
    appears on stderr, when given); returns the outcome and the seconds it took to exit after the signal."""
    proc = subprocess.Popen([sys.executable, "-m", "gradflow", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or cli_env(), cwd=cwd)
    if started:
        deadline = time.monotonic() + timeout
        seen = ""
        os.set_blocking(proc.stderr.fileno(), False)
        while started not in seen and time.monotonic() < deadline and proc.poll() is None:
            chunk = proc.stderr.read()
            seen += chunk or ""
            time.sleep(0.05)
        os.set_blocking(proc.stderr.fileno(), True)
    else:
        seen = ""
    time.sleep(after)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    return Outcome(proc.returncode, out, seen + err), time.monotonic() - sent


def closed_early(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 600) -> Outcome:
    """``gradflow ARGS | head -c 1``: the reader goes away after the first byte."""
    proc = subprocess.Popen([sys.executable, "-m", "gradflow", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env or cli_env(), cwd=cwd)
    first = proc.stdout.read(1)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=timeout)
    return Outcome(proc.returncode, first.decode(errors="replace"), err)


def assert_one_line_error(outcome: Outcome, parameter: str, code: int = 2) -> str:
    """Exit ``code``, exactly one line on stderr naming ``parameter``, no traceback, nothing on stdout."""
    assert outcome.returncode == code, (outcome.returncode, outcome.stderr[-2000:])
    assert "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    prefix = "gradflow: error: " if code == 2 else "gradflow: "
    assert lines[0].startswith(f"{prefix}{parameter}"), lines[0]
    assert outcome.stdout == ""
    return lines[0]
