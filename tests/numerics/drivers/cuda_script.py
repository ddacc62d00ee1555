"""Run a test script under numba's CUDA simulator (or on a GPU with GRADFLOW_CUDA_TESTS=gpu).

NUMBA_ENABLE_CUDASIM must be set before numba is imported, hence a subprocess; the script writes its
arrays to the .npz path it gets as argv[1] and prints a JSON line of metadata last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]


def run_cuda_script(script: str, target: Path) -> tuple[dict, dict]:
    """(arrays, metadata) from one run of ``script``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    if os.environ.get("GRADFLOW_CUDA_TESTS") != "gpu":
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    proc = subprocess.run([sys.executable, "-c", script, str(target)], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    meta = json.loads(proc.stdout.strip().splitlines()[-1])
    with np.load(target) as data:
        return dict(data), meta
