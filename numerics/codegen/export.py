"""Export generated modules for a paper's supplement: readable names, an index, no gradflow import.

A cached module is named by its key (``gf_<hash>.py``) and imports hand-written helpers from gradflow
(``gradflow.numerics.codegen.support`` and a few others).  ``export_modules`` writes each one under
a name saying what it computes (``margin_map.py``, from the name its generator was given), copies the
gradflow helper modules it imports beside it as ``gradflow_<name>.py`` (helpers of helpers too) and
rewrites the imports to them, drops imports the file does not use, adds a small example call to the
module docstring where the module's kind is known, and writes ``index.json`` mapping each exported
name to its cache key.  The folder then runs with only NumPy and Numba installed.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from gradflow.numerics.codegen.cache import HEADER
from gradflow.numerics.codegen.export_examples import example_for

_SOURCE_NAME = re.compile(r"""^\"\"\"[^\n]*?from '([^'\n]+)'""")


@dataclass(frozen=True)
class ExportedModule:
    """One exported file: its name in the folder, the cache entry it came from and what it computes."""

    name: str  # module name in the folder (file stem)
    cache_key: str  # stem of the cache file, gf_<hash>
    sha256: str  # the hash on the cache file's first line
    source: str  # the name its generator gave the system ('margin map')
    example: bool  # whether its docstring carries a runnable example


def slug(text: str) -> str:
    """A Python module name for ``text``: 'two-particle margin map, N = 2' -> 'two_particle_margin_map_n_2'."""
    name = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "module"
    return f"m_{name}" if name[0].isdigit() else name


def _source_name(text: str) -> str:
    """The name the generator gave the system, else what the module's first function computes."""
    match = _SOURCE_NAME.search(text)
    if match:
        return match.group(1)
    if text.startswith('"""Multilayer-perceptron kernels'):
        return "mlp kernels"
    first = re.search(r"^def ([A-Za-z]\w*)\(", text, re.M)
    return first.group(1) if first else "generated module"


def _split_header(text: str) -> tuple:
    """(sha256, body) of a cache file; sha256 is '' for a file without the cache's header line."""
    first, _, body = text.partition("\n")
    return (first[len(HEADER):].strip(), body) if first.startswith(HEADER) else ("", text)


# ------------------------------------------------------------------------------- import rewriting


def _helper_name(module: str) -> str:
    return "gradflow_" + module.rsplit(".", 1)[-1]


def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError):
        return False


def _rewritten(node, needed: set):
    """``node`` pointed at copied helpers (``from gradflow.x.y import a`` -> ``from gradflow_y import a``);
    adds the gradflow modules it needs to ``needed``."""
    if isinstance(node, ast.Import):
        if any(a.name.split(".")[0] == "gradflow" for a in node.names):
            raise ValueError(f"cannot export 'import {node.names[0].name}': generated code uses 'from ... import'")
        return node
    if not (node.module and node.module.split(".")[0] == "gradflow"):
        return node
    submodules = [_is_module(f"{node.module}.{a.name}") for a in node.names]
    if any(submodules):  # from gradflow.pkg import support -> import gradflow_support as support
        if not all(submodules):
            raise ValueError(f"cannot export an import of modules and names at once from {node.module}")
        needed.update(f"{node.module}.{a.name}" for a in node.names)
        return ast.Import(names=[ast.alias(_helper_name(a.name), a.asname or a.name) for a in node.names])
    needed.add(node.module)
    return ast.ImportFrom(module=_helper_name(node.module), names=node.names, level=0)


def _used_names(tree: ast.Module) -> set:
    """Every name and dotted attribute chain the module reads ('np', 'numba', 'numba.extending')."""
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts = []
            while isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name):
                chain = [node.id] + parts[::-1]
                used.update(".".join(chain[:k]) for k in range(1, len(chain) + 1))
        elif isinstance(node, ast.Name):
            used.add(node.id)
    return used


def _pruned(node, used: set):
    """``node`` without the names nothing reads; None when none is left."""
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return node
    names = [a for a in node.names if (a.asname or a.name) in used]
    if not names:
        return None
    if isinstance(node, ast.Import):
        return ast.Import(names=names)
    return ast.ImportFrom(module=node.module, names=names, level=node.level)


def _import_text(node, width: int = 110) -> str:
    """The import statement, wrapped in parentheses over lines of at most ``width`` characters."""
    text = ast.unparse(node)
    if len(text) <= width or not isinstance(node, ast.ImportFrom):
        return text
    lines, line = [], f"from {node.module} import ("
    for k, alias in enumerate(node.names):
        item = ast.unparse(alias) + (")" if k == len(node.names) - 1 else ",")
        if len(line) + 1 + len(item) > width:
            lines.append(line)
            line = "    " + item
        else:
            line += ("" if line.endswith("(") else " ") + item
    return "\n".join(lines + [line])


def standalone_source(text: str, needed: set) -> str:
    """``text`` with gradflow imports pointed at copied helpers and unused imports removed; the
    gradflow modules the result imports are added to ``needed``.  Only the top-level import
    statements are re-printed; every other line keeps its text and comments."""
    tree = ast.parse(text)
    used = _used_names(tree)
    lines = text.splitlines()
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    for node in reversed(imports):
        kept = _pruned(node, used)
        if kept is not None:
            kept = _rewritten(kept, needed)
        lines[node.lineno - 1:node.end_lineno] = [_import_text(kept)] if kept is not None else []
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).rstrip("\n") + "\n"


# ------------------------------------------------------------------------------------ the folder

_RESERVED = {"numpy", "numba", "llvmlite", "scipy", "gradflow", "index"}


def _unique(name: str, taken: set) -> str:
    """``name``, or ``name_2``, ``name_3``, ...: never a module the exported code imports, never twice."""
    if name in _RESERVED or name in sys.stdlib_module_names or name.startswith("gradflow"):
        name = f"{name}_module"
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{name}_{k}"
    taken.add(candidate)
    return candidate


def _with_example(text: str, example: str) -> str:
    """``text`` with ``example`` appended to its module docstring (before the closing quotes)."""
    doc = ast.parse(text).body[0]
    if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str)):
        return f'"""\n{example}"""\n\n' + text
    lines = text.splitlines(keepends=True)
    last = lines[doc.end_lineno - 1]
    cut = last.rindex('"""')
    head = last[:cut].rstrip()
    lines[doc.end_lineno - 1] = (head + "\n\n" if head else "\n") + example + last[cut:]
    return "".join(lines)


def _write_helpers(needed: set, folder: Path) -> list:
    """Copy each gradflow module in ``needed`` as ``gradflow_<name>.py``, made standalone the same way
    (its own gradflow imports join ``needed``); the file names written."""
    done, names = set(), {}
    while needed - done:
        module = min(needed - done)
        done.add(module)
        name = _helper_name(module)
        if names.setdefault(name, module) != module:
            raise ValueError(f"two helper modules would both be exported as {name}.py: {names[name]}, {module}")
        text = standalone_source(Path(importlib.util.find_spec(module).origin).read_text(), needed)
        (folder / f"{name}.py").write_text(f"# Copied from {module} so that the modules beside it run without "
                                           "gradflow.\n" + text)
    return sorted(f"{name}.py" for name in names)


def export_modules(paths, folder) -> list:
    """Write the generated modules at ``paths`` (cache files, or ``(name, path)`` pairs naming what a
    module without a docstring computes) into ``folder`` as standalone files named by what they
    compute, with their helpers and ``index.json``; the ExportedModule of each, in order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    needed, taken, exported = set(), set(), []
    entries = {}  # each module once, in first-use order; an entry may be (name, path)
    for item in paths:
        given, path = (item[0], Path(item[1])) if isinstance(item, tuple) else (None, Path(item))
        entries.setdefault(path, given)
    for path, given in entries.items():
        sha, body = _split_header(path.read_text())
        source = given or _source_name(body)
        cuda = "numba-cuda" in body.partition("\n")[0]  # a GPU twin of a CPU module: its own name
        name = _unique(slug(source) + ("_cuda" if cuda else ""), taken)
        text = standalone_source(body, needed)
        example = example_for(text, name)
        if example:
            text = _with_example(text, example)
        (folder / f"{name}.py").write_text(f"# Exported by gradflow from the generated module {path.name} "
                                           "(see index.json).\n" + text)
        exported.append(ExportedModule(name, path.stem, sha, source, example is not None))
    helpers = _write_helpers(needed, folder)
    index = {"modules": {m.name: {k: v for k, v in asdict(m).items() if k != "name"} for m in exported},
             "helpers": helpers,
             "requires": "numpy and numba only (no gradflow); run from this folder or put it on sys.path"}
    (folder / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return exported
