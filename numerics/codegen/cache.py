"""Content-addressed cache of generated modules, stored as real, readable Python files.

Keys.  A generator describes its symbolic input with ``canonical_srepr`` (SymPy's ``srepr`` with the
process-specific parts made canonical: each ``Dummy`` is numbered in order of first appearance
instead of by its ``dummy_index``, which differs in every process; assumptions and Python sets are
printed sorted), so one model gives one key in any process and any order of construction.  The key
hashes that text, the generator's own sources (printer, templates, integrators), the Numba version
and the Python version.

Files.  The first line of each file is ``# gradflow-sha256: `` + SHA-256 of the full key, a newline
and the body, so an entry that was truncated or edited, or a valid module copied under another
entry's name, is detected and regenerated.  ``cached_module`` also checks that the imported module
defines the names its generator promises, and regenerates it otherwise.  The module executed is
compiled from the very bytes that were verified.  Writes go to a temporary file in the same folder
and are moved into place with ``os.replace``, so concurrent writers never expose a partial file.
Numba's own cache files of the generated functions are checked too (``numba_cache``).

What this protects against: accidents (truncated, edited or stale files, a file copied to the wrong
name, a broken Numba cache file).  It is not a security boundary: whoever can write the cache
folder can make gradflow run code, as whoever can write a Python ``site-packages`` can.
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

from gradflow.numerics.codegen.numba_cache import protect
from gradflow.theory.errors import ParameterError

HEADER = "# gradflow-sha256: "
_WRITABLE = "a folder gradflow can create and write"


def cache_dir() -> Path:
    """GRADFLOW_CACHE_DIR, else the platform's user cache folder + /gradflow; created on demand.

    ParameterError("GRADFLOW_CACHE_DIR", ...) when the folder is a file or cannot be created or written."""
    explicit = os.environ.get("GRADFLOW_CACHE_DIR")
    if explicit:
        base = Path(explicit)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "gradflow" / "Cache"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "gradflow"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gradflow"
    default = "" if explicit else f" (unset: the default {base} is used)"
    if base.exists() and not base.is_dir():
        raise ParameterError("GRADFLOW_CACHE_DIR", f"{_WRITABLE}; this path is a file{default}", str(base))
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ParameterError("GRADFLOW_CACHE_DIR", f"{_WRITABLE}; cannot create it: {error.strerror or error}"
                             f"{default}", str(base)) from None
    if not os.access(base, os.W_OK | os.X_OK):
        raise ParameterError("GRADFLOW_CACHE_DIR", f"{_WRITABLE}; this folder is not writable{default}", str(base))
    return base


# ----------------------------------------------------------------------------------------- keys


@lru_cache(maxsize=None)
def _canonical_repr_class():
    """The printer class, built on first use: a warm start looks modules up without importing SymPy."""
    from sympy.printing.repr import ReprPrinter

    class CanonicalRepr(ReprPrinter):
        """srepr, independent of the process: Dummies numbered by first appearance, sorted assumptions and sets."""

        def __init__(self):
            super().__init__()
            self._dummies: dict = {}

        def _print_Symbol(self, expr):  # Symbol, Dummy (Wild has its own printer)
            given = getattr(expr, "_assumptions_orig", None)  # the assumptions as given (SymPy >= 1.12)
            if given is None:
                given = expr._assumptions.generator
            items = [f"{k}={v}" for k, v in sorted(given.items())]
            if expr.is_Dummy:
                items.insert(0, f"first_appearance={self._dummies.setdefault(expr, len(self._dummies))}")
            return f"{type(expr).__name__}({', '.join([self._print(expr.name), *items])})"

        def _print_set(self, expr):
            return "{" + ", ".join(sorted(self._print(item) for item in expr)) + "}"

        def _print_frozenset(self, expr):
            return "frozenset(" + self._print_set(expr) + ")"

    return CanonicalRepr


def canonical_srepr(obj) -> str:
    """``sympy.srepr(obj)`` made canonical (see the module docstring): the text generators hash into keys.

    Nested tuples and lists of expressions are printed in one pass, so a Dummy shared by several
    parts has one number."""
    return _canonical_repr_class()().doprint(obj)


@lru_cache(maxsize=None)
def generator_fingerprint() -> str:
    """Hash of the code generator's own sources: editing a template invalidates its modules."""
    from gradflow.numerics.codegen.printer import PRINTER_VERSION  # SymPy: only where a module is generated

    digest = hashlib.sha256(PRINTER_VERSION.encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted([*root.joinpath("codegen").glob("*.py"), *root.joinpath("integrators").glob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(symbolic_input: str) -> str:
    text = "\n".join((symbolic_input, generator_fingerprint(), numba.__version__, sys.version.split()[0]))
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------------------- files


def _digest(key: str, body: bytes) -> str:
    """SHA-256 of the key and the body: the body is bound to the entry it was generated for."""
    return hashlib.sha256(key.encode() + b"\n" + body).hexdigest()


def _path(key: str) -> Path:
    return cache_dir() / f"gf_{key[:24]}.py"


def _verified(path: Path, key: str) -> bytes | None:
    """The file's bytes when its header matches the key and its body, else None."""
    # bytes, not text: newline translation must not hide an edit
    try:
        data = path.read_bytes()
    except OSError:
        return None
    first, _, body = data.partition(b"\n")
    valid = first.startswith(HEADER.encode()) and first[len(HEADER):].strip() == _digest(key, body).encode()
    return data if valid else None


def _valid(path: Path, symbolic_input: str) -> bool:
    """Whether ``path`` holds a verified entry for ``symbolic_input``."""
    return _verified(path, cache_key(symbolic_input)) is not None


def _write_atomic(path: Path, key: str, body: str) -> bytes:
    data = body.encode()
    data = HEADER.encode() + _digest(key, data).encode() + b"\n" + data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return data


def cached_module_path(symbolic_input: str, render) -> tuple[Path, bool]:
    """Path of the module for ``symbolic_input``; ``render()`` produces its source on a miss.

    Returns (path, hit): hit is False when the file was (re)generated.
    """
    key = cache_key(symbolic_input)
    path = _path(key)
    if _verified(path, key) is not None:
        return path, True
    _write_atomic(path, key, render())
    return path, False


def _module_name(path: Path) -> str:
    return f"gradflow_generated_{path.stem}"


def load_module(path: Path, data: bytes | None = None, reload: bool = False):
    """Import a generated file under a name unique to its content (once per process unless ``reload``).

    ``data``: the file's bytes, already verified; the module is compiled from them (no bytecode file
    is written or read), so what runs is what was checked."""
    name = _module_name(path)
    loaded = sys.modules.get(name)
    if not reload and loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return loaded
    sys.modules.pop(name, None)
    if data is None:
        data = path.read_bytes()
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    code = compile(data, str(path), "exec", dont_inherit=True)  # the file name: Numba's cache locates by it
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    protect(module)
    return module


def _missing(module, defines) -> list:
    return [name for name in defines if not hasattr(module, name)]


def cached_module(symbolic_input: str, render, defines=()):
    """(module, path, hit) for ``symbolic_input``: the verified file, imported, or ``render()`` on a miss.

    ``defines``: the names the generator's module defines.  A verified file that fails to import or
    lacks one of them is regenerated; a freshly rendered one that lacks one is a generator bug
    (RuntimeError)."""
    key = cache_key(symbolic_input)
    path = _path(key)
    data = _verified(path, key)
    if data is not None:
        try:
            module = load_module(path, data)
        except Exception:
            module = None
        if module is not None and not _missing(module, defines):
            return module, path, True
    data = _write_atomic(path, key, render())
    module = load_module(path, data, reload=True)
    missing = _missing(module, defines)
    if missing:
        raise RuntimeError(f"the generated module {path} does not define {', '.join(missing)}")
    return module, path, False
