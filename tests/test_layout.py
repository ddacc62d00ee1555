"""The house rules of the repository, checked on its sources.

- one import namespace: code imports ``gradflow.*`` (or relative names), never a top-level
  ``theory``/``numerics``/``derivations``/``benchmarks``; every package folder is listed in
  pyproject.toml, so a non-editable install ships it;
- arrows point down only: derivations (CLI and registry on top) -> bench -> families ->
  numerics -> theory, no import cycles (lazy imports inside functions included), and theory never
  imports numba.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"theory": "theory", "numerics": "numerics", "derivations": "derivations", "bench": "benchmarks"}
RANK = {"theory": 0, "numerics": 1, "derivations": 2, "bench": 3}  # the CLI and the registry sit above all
TOP = {"cli", "registry", "__main__"}  # modules of derivations allowed above the bench harness


def _modules() -> dict[str, Path]:
    """'gradflow.numerics.drivers.lanes' -> path, for every module of the four layers and the root package."""
    out = {}
    for layer, folder in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[0] == "_gradflow":  # the root package gradflow itself
                name = ".".join(["gradflow", *parts[1:]])
            else:
                name = ".".join(["gradflow", layer, *parts])
            out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module name imported anywhere in the file (lazy imports in functions included)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _resolve(imported: str) -> str | None:
    """The gradflow module an imported name refers to (a module or the package holding a name)."""
    parts = imported.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        targets = {_resolve(i) for i in _imports(name, path)}
        graph[name] = {t for t in targets if t and t != name and not name.startswith(t + ".") and t != "gradflow"}
    return graph


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def test_no_top_level_generic_imports():
    offenders = []
    for name, path in MODULES.items():
        for imported in _imports(name, path):
            if imported.split(".")[0] in ("theory", "numerics", "derivations", "benchmarks", "bench"):
                offenders.append(f"{path.relative_to(ROOT)} imports {imported}")
    for path in (ROOT / "tests").rglob("*.py"):
        for imported in _imports("tests.x", path):
            if imported.split(".")[0] in ("theory", "numerics", "derivations", "benchmarks"):
                offenders.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not offenders, "\n".join(offenders)


def test_arrows_point_down():
    upward = []
    for module, targets in _graph().items():
        source = _layer(module)
        if source is None or (source == "derivations" and module.rsplit(".", 1)[-1] in TOP):
            continue
        for target in targets:
            layer = _layer(target)
            if layer is not None and RANK[layer] > RANK[source]:
                upward.append(f"{module} -> {target}")
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    graph = _graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(" <-> ".join(sorted(component)))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_theory_never_imports_numba():
    offenders = [f"{name} imports {i}" for name, path in MODULES.items() if _layer(name) == "theory"
                 for i in _imports(name, path) if i.split(".")[0] in ("numba", "numerics")]
    assert not offenders, "\n".join(offenders)


def test_the_graph_sees_upward_arrows_and_cycles(tmp_path):
    # the checks above must be able to fail: a theory module importing numerics is upward,
    # and two modules importing each other are a cycle
    global MODULES
    saved = MODULES
    low, high = tmp_path / "low.py", tmp_path / "high.py"
    low.write_text("from gradflow.numerics.high import x\n")
    high.write_text("from gradflow.theory.low import y\n")
    try:
        MODULES = {**saved, "gradflow.theory.low": low, "gradflow.numerics.high": high}
        with pytest.raises(AssertionError, match="upward"):
            test_arrows_point_down()
        with pytest.raises(AssertionError, match="cycles"):
            test_no_import_cycles()
    finally:
        MODULES = saved


def _pyproject_packages() -> set[str]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return set(config["packages"]), config["package-dir"]


def test_every_package_is_listed_in_pyproject():
    packages, package_dir = _pyproject_packages()
    on_disk = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert on_disk == packages, f"missing in pyproject: {sorted(on_disk - packages)}; stale: {sorted(packages - on_disk)}"
    assert package_dir == {"gradflow": "derivations/_gradflow", **{f"gradflow.{k}": v for k, v in FOLDERS.items()}}


def test_import_gradflow_outside_the_repository(tmp_path):
    # run where the repository is not on sys.path: only the installed namespace exists
    code = ("import importlib.util, gradflow, gradflow.derivations.cli\n"
            "print(gradflow.__version__)\n"
            "print(*[n for n in ('theory', 'numerics', 'derivations', 'benchmarks') if importlib.util.find_spec(n)])\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    version, generic = proc.stdout.splitlines()
    from gradflow import __version__

    assert version == __version__
    assert generic == "", f"generic top-level modules importable: {generic}"
