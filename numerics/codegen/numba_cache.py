"""Numba's on-disk cache of the generated modules, checked: a broken entry is recompiled, never fatal.

The generated kernels are ``@numba.njit(cache=True)`` (``cuda.jit(cache=True)``): Numba keeps their
machine code in ``__pycache__/<module>.<function>-<line>.py311.nbi`` (an index) and ``.<n>.nbc`` (the
data), next to the generated file.  Numba unpickles both without any check, so one truncated or
bit-flipped file made every later run fail (EOFError, UnpicklingError, UnicodeDecodeError, ...), and a
flipped byte inside the machine code itself would not even fail to unpickle.

``protect(module)`` gives the dispatchers of a generated module a cache that

- records the SHA-256 of each data file in the index when it writes one, and checks it before
  unpickling (a data file without a recorded digest, e.g. one Numba wrote itself, is a miss);
- treats any failure to read, verify or rebuild an entry as a miss: the function's index and data
  files are deleted, the function is compiled again (and saved again), and one ``RuntimeWarning``
  per process says so.

It changes no Numba state outside those dispatchers (no global patching).  The file format stays
Numba's: the digests are extra items of the pickled index dictionary.
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
import warnings
from pathlib import Path

from numba.core.caching import Cache, IndexDataCacheFile

_DIGEST = "gradflow-sha256"  # index items (_DIGEST, data file name) -> hex digest of that file
_warned = False


class CorruptCacheEntry(Exception):
    """A data file whose bytes differ from the digest recorded when it was written."""


def _warn_once(what: str, error: BaseException) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(f"gradflow: Numba's cache entry for {what} was unreadable ({type(error).__name__}: "
                      f"{error}); deleted it and compiled again (this warning is shown once per process)",
                      RuntimeWarning, stacklevel=2)


class CheckedIndexDataCacheFile(IndexDataCacheFile):
    """Numba's index + data files, with the data files' SHA-256 in the index."""

    def _overloads_or_empty(self) -> dict:
        try:
            return self._load_index()
        except Exception:  # a broken index is rewritten below
            return {}

    def save(self, key, data):
        payload = self._dump(data)
        overloads = self._overloads_or_empty()
        data_name = overloads.get(key)
        if data_name is None:
            used = {v for k, v in overloads.items() if not (isinstance(k, tuple) and k[:1] == (_DIGEST,))}
            data_name = next(n for n in map(self._data_name, itertools.count(1)) if n not in used)
        # the data first, then the index that vouches for it: a reader never sees a digest for a
        # file that is not there yet (a missing or different file is a miss, not an error)
        with self._open_for_write(self._data_path(data_name)) as fh:
            fh.write(payload)
        overloads[key] = data_name
        overloads[(_DIGEST, data_name)] = hashlib.sha256(payload).hexdigest()
        self._save_index(overloads)

    def load(self, key):
        overloads = self._load_index()
        data_name = overloads.get(key)
        if data_name is None:
            return None
        expected = overloads.get((_DIGEST, data_name))
        if expected is None:
            return None  # written without a digest: compile and save again, with one
        try:
            payload = Path(self._data_path(data_name)).read_bytes()
        except OSError:
            return None  # removed since the index was written
        if hashlib.sha256(payload).hexdigest() != expected:
            raise CorruptCacheEntry(f"{self._data_path(data_name)} does not match its recorded SHA-256")
        return pickle.loads(payload)

    def discard(self) -> None:
        """Delete this function's index and every data file of it."""
        base = self._index_name[: -len(".nbi")]
        folder = Path(self._cache_path)
        for path in [folder / self._index_name, *folder.glob(f"{base}.*.nbc")]:
            try:
                path.unlink()
            except FileNotFoundError:
                pass


class _CheckedCache:
    """Mixed into the class of a dispatcher's cache: a failed load is a miss (files deleted, warned once)."""

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as error:  # EOFError, UnpicklingError, CorruptCacheEntry, errors rebuilding ...
            try:
                self._cache_file.discard()
            except OSError:
                pass
            function = self._py_func
            _warn_once(f"{function.__qualname__} in {function.__code__.co_filename}", error)
            return None


_checked_classes: dict = {}


def _checked_class(kind: type) -> type:
    if kind not in _checked_classes:
        _checked_classes[kind] = type(f"Checked{kind.__name__}", (_CheckedCache, kind), {})
    return _checked_classes[kind]


def protect(module) -> int:
    """Check the Numba cache of every jitted function defined in ``module``; returns how many."""
    count = 0
    for value in list(vars(module).values()):
        cache = getattr(value, "_cache", None)
        py_func = getattr(value, "py_func", None)
        if (not isinstance(cache, Cache) or isinstance(cache, _CheckedCache)
                or getattr(py_func, "__module__", None) != module.__name__
                or type(cache._cache_file) is not IndexDataCacheFile):
            continue  # not cached, already checked, imported from elsewhere, or a cache file we do not know
        cache._cache_file.__class__ = CheckedIndexDataCacheFile
        cache.__class__ = _checked_class(type(cache))
        count += 1
    return count


__all__ = ["CheckedIndexDataCacheFile", "CorruptCacheEntry", "protect"]
