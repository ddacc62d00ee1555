"""Warm starts without SymPy: a generated module found by names and source hashes, not by its expressions.

The content-addressed cache (``cache``) keys a module by the canonical text of its symbolic input,
so finding it needs the derivation, hence SymPy (about half a second to import).  This index adds a
second key that needs neither: the simulator's name, its parameters (those that change the
generated code, e.g. a size unrolled into it) and a fingerprint of every gradflow source file that
determines the derivation and the generated code (``theory/``, ``numerics/codegen/``,
``numerics/integrators/``, ``numerics/drivers/`` and the caller's own folders), with the SymPy,
Numba and Python versions.  Any edit to those sources, or another version, is a miss: the caller
derives as before and records the module under the new key.

Each record is a small JSON file beside the modules: the module's file name, the SHA-256 of its
bytes (a truncated or edited module is a miss, never run) and what the driver needs to call it
without the symbolic system (names of states, parameters, observables, the names it must define).
Writes are atomic (a temporary file moved into place).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import numba

from gradflow.numerics.codegen.cache import cache_dir, load_module

INDEX_VERSION = "1"
_NUMERICS = Path(__file__).resolve().parent.parent


def _theory_folder() -> Path:
    import gradflow.theory  # the package itself is cheap: its names are imported on first use

    return Path(gradflow.theory.__file__).resolve().parent


@lru_cache(maxsize=None)
def _folder_digest(folder: str) -> str:
    digest = hashlib.sha256()
    root = Path(folder)
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def base_folders() -> tuple[Path, ...]:
    """The sources that determine every derivation and generated module."""
    return (_theory_folder(), _NUMERICS / "codegen", _NUMERICS / "integrators", _NUMERICS / "drivers")


@lru_cache(maxsize=None)
def _versions() -> str:
    try:
        sympy = importlib.metadata.version("sympy")  # read from its metadata: SymPy itself is not imported
    except importlib.metadata.PackageNotFoundError:
        sympy = "unknown"
    return f"sympy {sympy}; numba {numba.__version__}; python {sys.version.split()[0]}"


def source_fingerprint(folders=()) -> str:
    """Hash of the .py files under the base folders and ``folders`` (paths), and the versions."""
    parts = [_versions()] + [_folder_digest(str(Path(f).resolve())) for f in (*base_folders(), *folders)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def warm_key(name: str, parameters=(), folders=()) -> str:
    """The index key of simulator ``name`` with ``parameters`` (JSON-able), under the sources' fingerprint."""
    text = json.dumps([INDEX_VERSION, name, list(parameters), source_fingerprint(folders)])
    return hashlib.sha256(text.encode()).hexdigest()


def _record_path(key: str) -> Path:
    return cache_dir() / f"warm_{key[:24]}.json"


def find(key: str):
    """(module, path, details) recorded under ``key``, or None when missing, stale or broken."""
    try:
        record = json.loads(_record_path(key).read_text())
        if record.get("key") != key:
            return None
        path = cache_dir() / record["module"]
        data = path.read_bytes()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        return None
    try:
        module = load_module(path, data)
    except Exception:  # a module that no longer imports: derive again
        return None
    details = record.get("details", {})
    if any(not hasattr(module, name) for name in details.get("defines", ())):
        return None
    return module, path, details


def remember(key: str, path: Path, details: dict) -> None:
    """Record the module at ``path`` under ``key`` (a cache that cannot be written is only slower)."""
    record = {"key": key, "module": Path(path).name, "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
              "details": details}
    target = _record_path(key)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.stem + ".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh, indent=1)
        os.replace(tmp, target)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)
