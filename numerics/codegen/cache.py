"""Content-addressed cache of generated modules, stored as real, readable Python files.

The key hashes the symbolic input, the generator's own sources (printer, templates,
integrators) and the Numba version.  The first line
of each file records the SHA-256 of the rest, so an entry that was truncated or edited is
detected and regenerated.  Writes go to a temporary file in the same folder and are moved
into place with ``os.replace``, so concurrent writers never expose a partial file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import numba

from gradflow.numerics.codegen.printer import PRINTER_VERSION

HEADER = "# gradflow-sha256: "


def cache_dir() -> Path:
    """GRADFLOW_CACHE_DIR, else the platform's user cache folder + /gradflow."""
    explicit = os.environ.get("GRADFLOW_CACHE_DIR")
    if explicit:
        base = Path(explicit)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "gradflow" / "Cache"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "gradflow"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gradflow"
    base.mkdir(parents=True, exist_ok=True)
    return base


@lru_cache(maxsize=None)
def generator_fingerprint() -> str:
    """Hash of the code generator's own sources: editing a template invalidates its modules."""
    digest = hashlib.sha256(PRINTER_VERSION.encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted([*root.joinpath("codegen").glob("*.py"), *root.joinpath("integrators").glob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(symbolic_input: str) -> str:
    text = "\n".join((symbolic_input, generator_fingerprint(), numba.__version__, sys.version.split()[0]))
    return hashlib.sha256(text.encode()).hexdigest()


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _valid(path: Path) -> bool:
    # bytes, not text: newline translation must not hide an edit
    try:
        first, _, body = path.read_bytes().partition(b"\n")
    except OSError:
        return False
    return first.startswith(HEADER.encode()) and first[len(HEADER):].strip() == _digest(body).encode()


def _write_atomic(path: Path, body: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
    try:
        data = body.encode()
        with os.fdopen(fd, "wb") as fh:
            fh.write(HEADER.encode() + _digest(data).encode() + b"\n" + data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def cached_module_path(symbolic_input: str, render) -> tuple[Path, bool]:
    """Path of the module for ``symbolic_input``; ``render()`` produces its source on a miss.

    Returns (path, hit): hit is False when the file was (re)generated.
    """
    key = cache_key(symbolic_input)
    path = cache_dir() / f"gf_{key[:24]}.py"
    if _valid(path):
        return path, True
    _write_atomic(path, render())
    return path, False


def load_module(path: Path):
    """Import a generated file under a name unique to its content."""
    name = f"gradflow_generated_{path.stem}"
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
