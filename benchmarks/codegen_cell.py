"""The codegen cell: ``gradflow simulate MODEL --steps 10`` started cold and warm, in fresh processes.

Cold: ``--backend cpu`` with an empty cache folder (derive with SymPy, generate, compile).  Warm, the
generated modules found through the warm index (no SymPy): the command as a newcomer types it
(``gradflow-warm``: the default backend ``auto``, which runs work this small in NumPy, without loading
the compiled kernels) and with ``--backend cpu`` (``gradflow-warm-compiled``: the compiled kernels
loaded from their cache).  Measured in the same run, interleaved with the warm starts:
``python -c "import numpy, numba"`` (the target's yardstick) and the floor of any Numba program that
calls one cached function (``numba-floor``: Numba's first call loads its typing and target
registries, SciPy's BLAS among them, whatever the function).  Every time is the wall time of a whole
process (median of the repeats); the machine's load average is read before and after.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gradflow.bench.harness import machine_load

_FLOOR = """
import numba, numpy as np
@numba.njit(cache=True)
def f(x):
    return x + 1.0
f(np.zeros(3))
"""

# the CLI in one process, then its backend and whether SymPy and Numba were imported (a probe run, not timed)
_PROBE = """
import contextlib, io, json, sys
from gradflow.derivations.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(sys.argv[1:])
print(json.dumps({"backend": json.loads(out.getvalue())["params"]["backend"], "sympy": "sympy" in sys.modules,
                  "numba": "numba" in sys.modules}))
"""

MODELS = ("am-orthogonal", "am-random")


def _seconds(argv, env) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def start_times(model: str, repeats: int) -> dict:
    """Cold and warm starts of ``gradflow simulate model --steps 10`` beside the yardsticks (seconds)."""
    command = [sys.executable, "-m", "gradflow", "simulate", model, "--steps", "10", "--json"]
    compiled = command + ["--backend", "cpu"]
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as floor_dir:
        env = dict(os.environ, GRADFLOW_CACHE_DIR=cache)
        floor = Path(floor_dir) / "floor.py"
        floor.write_text(_FLOOR)
        load_before = machine_load()
        cold = _seconds(compiled, env)
        _seconds([sys.executable, str(floor)], env)  # compiles the floor's function into its cache
        samples = {"gradflow-warm": [], "gradflow-warm-compiled": [], "import-numpy-numba": [], "numba-floor": []}
        for _ in range(repeats):  # interleaved, so that a change of load hits all alike
            samples["gradflow-warm"].append(_seconds(command, env))
            samples["gradflow-warm-compiled"].append(_seconds(compiled, env))
            samples["import-numpy-numba"].append(_seconds([sys.executable, "-c", "import numpy, numba"], env))
            samples["numba-floor"].append(_seconds([sys.executable, str(floor)], env))
        probes = [json.loads(subprocess.run([sys.executable, "-c", _PROBE, *argv[3:]], env=env, capture_output=True,
                                            text=True, check=True).stdout.strip().splitlines()[-1])
                  for argv in (command, compiled)]
        load_after = machine_load()
    times = {"gradflow-cold": cold, **{k: statistics.median(v) for k, v in samples.items()}}
    return {"times": times, "warm_imports_sympy": any(probe["sympy"] for probe in probes),
            "warm_imports_numba": probes[0]["numba"], "warm_backend": probes[0]["backend"],
            "load_before": load_before, "load_after": load_after}


def codegen(quick: bool, ceilings: dict) -> list:
    from gradflow.bench.harness import CellResult, load_notes

    cells = []
    for model in MODELS[: 1 if quick else None]:
        measured = start_times(model, 1 if quick else 5)
        times = measured["times"]
        warm, warm_compiled = times["gradflow-warm"], times["gradflow-warm-compiled"]
        notes = {
            "command": f"gradflow simulate {model} --steps 10 (a fresh process each; the wall time of the process); "
                       "cold and warm-compiled with --backend cpu",
            "warm_backend": measured["warm_backend"], "warm_imports_numba": measured["warm_imports_numba"],
            "warm_imports_sympy": measured["warm_imports_sympy"],
            "warm_over_import_numpy_numba": warm / times["import-numpy-numba"],
            "warm_compiled_over_import_numpy_numba": warm_compiled / times["import-numpy-numba"],
            "warm_compiled_over_numba_floor": warm_compiled / times["numba-floor"],
            "numba_floor_over_import_numpy_numba": times["numba-floor"] / times["import-numpy-numba"],
            **load_notes({"all": [measured["load_before"], measured["load_after"]]}),
            "target_cold_lt_5s": times["gradflow-cold"] < 5.0,
            "target_warm_le_1.5x_import": warm <= 1.5 * times["import-numpy-numba"],
            "target_warm_no_sympy": not measured["warm_imports_sympy"],
        }
        # ratios as elsewhere: the yardstick's time over gradflow's (warm); >= 1/1.5 meets the target
        ratios = {k: v / warm for k, v in times.items() if k != "gradflow-warm"}
        cells.append(CellResult(f"codegen[{model}]", False, True, 0.0, times, {}, ratios, None,
                                notes))
    return cells
