"""Exported generated modules (a reproduction's code/): named, indexed, free of gradflow, with runnable examples."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from gradflow.derivations.associative_memory.simulators import (logit_particle_simulator, margin_flow_simulator,
                                                                weight_space_simulator)
from gradflow.derivations.deep_linear.weight_space import SquaredLossSimulator
from gradflow.numerics.codegen.export import export_modules, slug, standalone_source
from gradflow.numerics.codegen.lane_module import lane_module
from gradflow.numerics.codegen.mlp_module import mlp_module
from gradflow.numerics.drivers.shallow_network import ShallowNetworkSimulator
from gradflow.numerics.mlp.population.kernel_module import kernel_module
from gradflow.theory.activations import Smooth
from gradflow.theory.flow import Map
from gradflow.theory.gaussian.kernels import kernel
from gradflow.theory.models.shallow_network import ShallowNetwork

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset

# Runs in a fresh interpreter without site (so no editable gradflow) and with numpy's site-packages
# appended by hand: only numpy, numba and the exported folder (the working directory) are importable.
_RUNNER = """
import doctest, importlib, json, sys
sys.path.append(sys.argv[1])
try:
    import gradflow
    found = True
except ImportError:
    found = False
results = {}
for name in json.load(open("index.json"))["modules"]:
    module = importlib.import_module(name)
    results[name] = list(doctest.testmod(module, optionflags=doctest.ELLIPSIS))
print(json.dumps({"gradflow_importable": found, "doctests": results}))
"""


def _systems():
    """Every CPU kind with an example: lane maps and flows, matrix systems (reduced, weight space), squared-loss
    systems, shallow networks (the MLP kernels: a slow test below)."""
    x, y, a = sp.symbols("x y a", real=True)
    toy_map = Map((x, y), (x + a * sp.log(1 + sp.exp(-y)), y - a * x), (a,), name="toy map")
    other_map = Map((x,), (x - a * sp.tanh(x),), (a,), name="toy map")  # same name: a unique file name
    return [lane_module(toy_map)[1], lane_module(other_map)[1], margin_flow_simulator().path,
            logit_particle_simulator().path, weight_space_simulator().path,
            SquaredLossSimulator().path, ShallowNetworkSimulator(ShallowNetwork(Smooth("tanh"))).path]


def _imported_names(tree):
    for node in tree.body:
        if isinstance(node, ast.Import):
            yield from ((a.asname or a.name, node) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            yield from ((a.asname or a.name, node) for a in node.names)


def _unused_imports(text: str) -> list:
    """Imported names that no line outside the import statements mentions (a plain word search)."""
    tree = ast.parse(text)
    lines = text.splitlines()
    spans = {i for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
             for i in range(n.lineno - 1, n.end_lineno)}
    rest = "\n".join(line for i, line in enumerate(lines) if i not in spans)
    return [name for name, _ in _imported_names(tree)
            if not re.search(rf"(?<![\w.]){re.escape(name)}\b", rest)]


def _run_examples_without_gradflow(folder: Path) -> dict:
    """{module: [failed, attempted]} of each module's doctests, run where gradflow cannot be imported."""
    site = str(Path(np.__file__).parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run([sys.executable, "-E", "-S", "-c", _RUNNER, site], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["gradflow_importable"] is False
    return report["doctests"]


def test_exported_folder_runs_without_gradflow(tmp_path):
    paths = _systems()
    folder = tmp_path / "code"
    exported = export_modules(paths, folder)
    names = [m.name for m in exported]
    assert names == ["toy_map", "toy_map_2", "margin_flow", "associative_memory_logit_particles",
                     "associative_memory_weight_space", "two_layer_linear_network_weight_space",
                     "shallow_network_tanh_squared_loss"]
    index = json.loads((folder / "index.json").read_text())
    assert [index["modules"][n]["cache_key"] for n in names] == [Path(p).stem for p in paths]
    assert all(m.example for m in exported) and index["helpers"] == ["gradflow_support.py"]
    for file in folder.glob("*.py"):
        text = file.read_text()
        assert not re.search(r"^\s*(from|import)\s+gradflow\b", text, re.M), file.name
        assert _unused_imports(text) == [], file.name
    report = _run_examples_without_gradflow(folder)
    for name in names:
        failed, attempted = report[name]
        assert attempted >= 5 and failed == 0, (name, report[name])


@pytest.mark.slow
def test_exported_mlp_kernels_run_without_gradflow(tmp_path):
    """The MLP engine's kernels and the Gaussian population kernels (slow: large modules to compile)."""
    kernels = [("relu population kernel", kernel_module(kernel("relu", biased=True)).__file__),
               ("erf2 population kernel", kernel_module(kernel("erf2", biased=True)).__file__)]
    exported = export_modules([mlp_module()[1], *kernels], tmp_path / "code")
    names = ["mlp_kernels", "relu_population_kernel", "erf2_population_kernel"]
    assert [m.name for m in exported] == names and all(m.example for m in exported)
    helpers = json.loads((tmp_path / "code" / "index.json").read_text())["helpers"]
    assert helpers == ["gradflow_owen.py", "gradflow_support.py"]
    for file in (tmp_path / "code").glob("*.py"):
        assert _unused_imports(file.read_text()) == [], file.name
    report = _run_examples_without_gradflow(tmp_path / "code")
    for name in names:
        failed, attempted = report[name]
        assert attempted >= 7 and failed == 0, (name, report[name])


def test_imports_are_pointed_at_copied_helpers_and_pruned():
    text = ('"""doc"""\nimport os\nimport numba\nimport numba.extending\n\n'
            "from gradflow.numerics.codegen.support import _exp, _row_sums\n"
            "from gradflow.numerics.codegen import support\n\n"
            "@numba.njit\ndef f(t):\n    return _exp(t) + support._log1p(t)\n")
    needed = set()
    out = standalone_source(text, needed)
    assert needed == {"gradflow.numerics.codegen.support"}
    assert "from gradflow_support import _exp\n" in out and "import gradflow_support as support\n" in out
    assert "import os" not in out and "numba.extending" not in out and "import numba\n" in out
    assert out.endswith("return _exp(t) + support._log1p(t)\n")


def test_slug_names_a_module():
    assert slug("two-particle margin map, N = 2") == "two_particle_margin_map_n_2"
    assert slug("associative memory: logit particles") == "associative_memory_logit_particles"
    assert slug("2 layers").isidentifier() and slug("!!").isidentifier()


def test_modules_without_a_docstring_are_named_by_the_caller_or_their_first_function(tmp_path):
    body = "import math\nimport numba\n\n\n@numba.njit\ndef pair_derivatives(a, out):\n    out[0] = math.exp(a)\n"
    first, second = tmp_path / "gf_0001.py", tmp_path / "gf_0002.py"
    first.write_text(body)
    second.write_text(body.replace("exp", "log"))
    exported = export_modules([("relu population kernel", first), second, first], tmp_path / "code")
    assert [(m.name, m.cache_key, m.example) for m in exported] == [
        ("relu_population_kernel", "gf_0001", False), ("pair_derivatives", "gf_0002", False)]
    text = (tmp_path / "code" / "pair_derivatives.py").read_text()
    assert "import math\nimport numba\n" in text and _unused_imports(text) == []
    assert json.loads((tmp_path / "code" / "index.json").read_text())["helpers"] == []
