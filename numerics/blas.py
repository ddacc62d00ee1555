"""BLAS threads for gradflow's kernels: one per kernel call, the cores go to gradflow's own threads.

The generated kernels' products (``np.dot`` in Numba) call SciPy's OpenBLAS, which splits every
product over all cores and spins its threads between calls.  gradflow's products are many and
mid-sized (one per layer and chunk), and its kernels run in threads of their own (ensemble members,
chunks of samples): nested, the spinning pools took the cores from each other (measured: a Hessian
at N = 1000, width 10, 13x slower on a busy 2-core machine).  ``one_blas_thread()`` sets OpenBLAS to
one thread for the duration of a kernel call and restores it after.

Only SciPy's bundled OpenBLAS (the wheels' ``scipy_openblas`` library) is recognised; with another
BLAS the context does nothing.

``kernel_core()`` says which of OpenBLAS's kernels that library chose when it loaded (from the CPU's
model, or ``OPENBLAS_CORETYPE``): benchmarks report it beside their times.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
import threading
from contextlib import contextmanager
from functools import lru_cache

_lock = threading.Lock()
_depth = 0  # nested or concurrent users of one_blas_thread; the count is restored when the last leaves
_saved = 0


def _libraries(package: str, pattern: str) -> list[str]:
    """Shared libraries bundled with an installed wheel (found without importing the package)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return []
    root = os.path.dirname(os.path.dirname(spec.origin))
    return sorted(glob.glob(os.path.join(root, f"{package}.libs", pattern)))


def _corename(path: str) -> str | None:
    """The kernel core an already loaded OpenBLAS chose (None: not loaded, or not OpenBLAS)."""
    try:
        lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD)  # a handle only if loaded: never loads, never re-exports
    except (OSError, AttributeError):
        return None
    for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
        function = getattr(lib, name, None)
        if function is not None:
            function.restype = ctypes.c_char_p
            return function().decode()
    return None


def kernel_core(package: str = "scipy") -> str | None:
    """The kernel core of ``package``'s bundled OpenBLAS (SciPy's: the one Numba's products call), or
    None (not loaded yet, or not OpenBLAS)."""
    for path in _libraries(package, "libscipy_openblas*"):
        core = _corename(path)
        if core is not None:
            return core
    return None


@lru_cache(maxsize=None)
def _openblas():
    """(get, set) thread-count functions of SciPy's OpenBLAS, or None."""
    for path in _libraries("scipy", "libscipy_openblas*"):
        try:
            lib = ctypes.CDLL(path)
            get, set_ = lib.scipy_openblas_get_num_threads, lib.scipy_openblas_set_num_threads
        except (OSError, AttributeError):
            continue
        get.restype, set_.argtypes = ctypes.c_int, (ctypes.c_int,)
        return get, set_
    return None


def blas_threads() -> int | None:
    """OpenBLAS's current thread count (None: not SciPy's OpenBLAS)."""
    functions = _openblas()
    return None if functions is None else int(functions[0]())


@contextmanager
def one_blas_thread():
    """OpenBLAS on one thread inside; the previous count restored when the last user leaves."""
    global _depth, _saved
    functions = _openblas()
    if functions is None:
        yield
        return
    get, set_ = functions
    with _lock:
        if _depth == 0:
            _saved = get()
            set_(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                set_(_saved)
