"""Disk cache of derivations: SymPy work done once per version of the theory code.

A derivation is a pure function of the ``theory`` sources and the SymPy version, so its result is
stored next to the generated modules under a key that hashes both.  This is what makes a warm start
cheap: no SymPy simplification at all.

Format: a pickle signed with HMAC-SHA256, verified before it is unpickled.  Unpickling runs code, so
an unsigned pickle in the cache folder could run anything; an entry here is unpickled only when its
signature verifies under this installation's key: 32 random bytes (``secrets``) written once, with
mode 0600, to ``derivation-cache.key`` in the user config folder (``$XDG_CONFIG_HOME/gradflow`` on
Linux), outside the cache folder.  The signature covers the entry's name, the theory fingerprint,
the expected derivation class and the pickle, so an entry signed for another name is refused too.

Why signing and not a format that cannot execute code (a JSON tree rebuilt from an allow-list of
SymPy classes): the typed derivations hold Lambdas with Dummy variables, undefined functions,
custom MatrixExpr subclasses, Indexed objects, dataclasses of every family; pickle restores all of
them exactly, where an allow-list must grow with every new family and rebuilding SymPy objects
evaluates them again (a crafted tree could still make SymPy spin, e.g. on 10**(10**9)).  With the
signature, a foreign entry is never parsed at all.  The cost is the key file: whoever can write it
can forge entries (whoever can write the cache folder can run code anyway, through the generated
modules: see README), and entries are not shared between installations (the key's id is part of
the file name, so two installations sharing a cache folder keep one entry each).

An entry that is missing, truncated, unsigned, signed with another key, signed for another name,
unreadable, or not an instance of the expected derivation class is derived again and rewritten.
Writes go to a temporary file moved into place with ``os.replace``: a concurrent reader never sees
a partial entry.  Without a usable key (the config folder cannot be written, or the key file is
not private to this user) derivations are not cached on disk, and one warning says why.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
import sys
import tempfile
import typing
import warnings
from functools import lru_cache
from pathlib import Path

import sympy

import gradflow.theory as theory
from gradflow.numerics.codegen.cache import cache_dir
from gradflow.theory.derivation import Derivation

MAGIC = b"gradflow-derivation hmac-sha256 pickle\n"
KEY_FILE = "derivation-cache.key"
_keys: dict = {}  # key file path -> key (read or created once per process)
_warned = False


@lru_cache(maxsize=None)
def _theory_fingerprint() -> str:
    digest = hashlib.sha256(sympy.__version__.encode())
    for path in sorted(Path(theory.__file__).parent.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# ------------------------------------------------------------------------------------- the key


def config_dir() -> Path:
    """The user config folder + /gradflow (XDG_CONFIG_HOME on Linux), where the signing key lives."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "gradflow"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "gradflow"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "gradflow"


def _warn_once(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(f"gradflow: {message}; derivations are not cached on disk in this process", RuntimeWarning,
                      stacklevel=3)


def _read_key(path: Path) -> bytes:
    """The key in ``path``; ValueError when the file is not a private regular file holding one."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        text = fh.read(200)
    if os.name == "posix":
        if (info.st_mode & 0o170000) != 0o100000 or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise ValueError("it must be a regular file of this user with mode 0600")
    key = bytes.fromhex(text.decode("ascii").strip())  # ValueError when malformed
    if len(key) != 32:
        raise ValueError("it must hold 64 hexadecimal digits")
    return key


def _create_key(path: Path) -> None:
    """Write a new random key to ``path`` unless a file is already there (mode 0600, never partial)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process just made
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def signing_key() -> bytes | None:
    """This installation's key (made on first use), or None (after one warning) when it cannot be used."""
    path = config_dir() / KEY_FILE
    if path not in _keys:
        try:
            if not os.path.lexists(path):
                _create_key(path)
            _keys[path] = _read_key(path)
        except OSError as error:
            _keys[path] = None
            _warn_once(f"cannot use the derivation cache key {path} ({error})")
        except ValueError as error:  # UnicodeDecodeError included
            _keys[path] = None
            _warn_once(f"cannot use the derivation cache key {path} ({error}; delete it to make a new one)")
    return _keys[path]


# ----------------------------------------------------------------------------------- entries


def _expected_kind(derive) -> type:
    """The class ``derive`` is annotated to return (a Derivation subclass), else Derivation."""
    try:
        kind = typing.get_type_hints(derive).get("return")
    except Exception:  # unresolvable annotations
        kind = None
    return kind if isinstance(kind, type) and issubclass(kind, Derivation) else Derivation


def _signature(key: bytes, name: str, kind: type, payload: bytes) -> bytes:
    label = "\0".join((name, _theory_fingerprint(), f"{kind.__module__}.{kind.__qualname__}", ""))
    return hmac.new(key, label.encode() + payload, hashlib.sha256).hexdigest().encode()


def _entry_path(name: str, key: bytes) -> Path:
    key_id = hmac.new(key, b"gradflow key id", hashlib.sha256).hexdigest()[:8]  # reveals nothing of the key
    return cache_dir() / f"derivation_{name}_{_theory_fingerprint()[:24]}_{key_id}.pickle"


def _load(path: Path, key: bytes, name: str, kind: type):
    """The verified entry, or None when it is missing, foreign or broken."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(MAGIC):
        return None
    signature, newline, payload = data[len(MAGIC):].partition(b"\n")
    if not newline or not hmac.compare_digest(signature, _signature(key, name, kind, payload)):
        return None
    try:  # signed by this installation: only a change of environment (a class moved ...) can fail here
        result = pickle.loads(payload)
    except Exception:
        return None
    return result if isinstance(result, kind) else None


def _store(path: Path, key: bytes, name: str, kind: type, result) -> None:
    payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + _signature(key, name, kind, payload) + b"\n" + payload)
        os.replace(tmp, path)
    except OSError:  # a cache that cannot be written is only slower
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached(name: str, derive, kind: type | None = None):
    """derive() through the disk cache, under ``name`` and the theory fingerprint.

    ``kind``: the class of the result (default: ``derive``'s return annotation, else Derivation); a
    stored object of another class is derived again."""
    kind = kind or _expected_kind(derive)
    cache_dir()  # first: ParameterError naming GRADFLOW_CACHE_DIR when it is not a writable folder
    key = signing_key()
    if key is None:
        return derive()
    path = _entry_path(name, key)
    result = _load(path, key, name, kind)
    if result is None:
        result = derive()
        if not isinstance(result, kind):
            raise TypeError(f"{name}: derive() returned {type(result).__name__}, not {kind.__name__}")
        _store(path, key, name, kind, result)
    return result
