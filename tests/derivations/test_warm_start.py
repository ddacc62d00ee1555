"""A warm ``gradflow simulate`` imports no SymPy and gives the cold run's result."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gradflow.derivations import warm_entries

# runs the CLI for each argument list in one process; prints the results and whether SymPy was imported
_RUN = """
import contextlib, io, json, sys
from gradflow.derivations.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    result = json.loads(out.getvalue())
    result.pop("wall_time_s", None)
    results.append([code, result])
print(json.dumps({"results": results, "sympy": "sympy" in sys.modules, "numba": "numba" in sys.modules}))
"""

# the compiled kernels (--backend auto would run these small runs in NumPy)
RUNS = [["simulate", "am-orthogonal", "--steps", "10", "--json", "--backend", "cpu"],
        ["simulate", "am-orthogonal", "--method", "flow", "--t-end", "100", "--json", "--backend", "cpu"],
        ["simulate", "am-random", "--steps", "10", "--json", "--backend", "cpu"],
        ["simulate", "am-random", "--method", "sgd", "--steps", "10", "--json", "--backend", "cpu"]]


def _run(runs):
    out = subprocess.run([sys.executable, "-c", _RUN, json.dumps(runs)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _forget_warm_records():
    """Make the next run cold for these models: the warm index and the entry record forget them."""
    from gradflow.derivations.associative_memory import simulators as am
    from gradflow.numerics.codegen import warm_index

    for kind, names in am.WARM_NAMES.items():
        for name in names:
            warm_index._record_path(warm_index.warm_key(f"{kind}:{name}", (), am.HERE)).unlink(missing_ok=True)


def test_a_warm_simulate_imports_no_sympy_and_matches_the_cold_run():
    _forget_warm_records()
    cold = _run(RUNS)
    assert cold["sympy"]  # the cold run derived
    warm = _run(RUNS)
    assert not warm["sympy"]
    assert warm["results"] == cold["results"]
    assert all(code == 0 for code, _ in warm["results"])


def test_a_small_run_on_the_default_backend_imports_no_numba_and_agrees_with_the_kernels():
    small = [run[:-2] for run in RUNS if "flow" not in run and "sgd" not in run]  # the default backend: auto
    ran = _run(small)
    assert not ran["numba"] and not ran["sympy"]
    compiled = _run(RUNS)["results"]
    for (code, result), (_, kernel) in zip(ran["results"], [r for run, r in zip(RUNS, compiled) if run[:-2] in small]):
        params = result["params"]
        assert code == 0 and params.pop("backend") == "numpy" and kernel["params"].pop("backend") == "cpu"
        assert params.pop("backend_choice").startswith("auto: numpy") and params == kernel["params"]
        for name in ("t", "loss", "l01", "margins"):
            assert np.allclose(result[name], kernel[name], rtol=1e-12, atol=1e-14), name


def test_the_warm_entries_are_the_registrys_warm_startable_entries():
    from gradflow.derivations.registry import models

    warm = {name: entry for name, entry in models().items() if getattr(type(entry), "warm_start", False)}
    assert set(warm_entries.WARM_ENTRIES) == set(warm)
    for name, entry in warm.items():
        assert type(warm_entries.find_entry(name)) is type(entry)
    assert warm_entries.find_entry("relu") is None  # not warm-startable: the registry finds it


def test_a_wrong_warm_entry_is_an_error_not_another_model(monkeypatch):
    for where in ("gradflow.derivations.associative_memory.entry:RandomMemory",  # another entry's class
                  "gradflow.derivations.shallow_relu.entry:ReluEntry"):  # not warm-startable
        monkeypatch.setitem(warm_entries.WARM_ENTRIES, "am-orthogonal", where)
        with pytest.raises(RuntimeError, match="not that model's warm-startable entry"):
            warm_entries.find_entry("am-orthogonal")
