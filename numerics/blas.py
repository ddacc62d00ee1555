"""BLAS threads for gradflow's kernels: one per kernel call, the cores go to gradflow's own threads.

The generated kernels' products (``np.dot`` in Numba) call SciPy's OpenBLAS, which splits every
product over all cores and spins its threads between calls.  gradflow's products are many and
mid-sized (one per layer and chunk), and its kernels run in threads of their own (ensemble members,
chunks of samples): nested, the spinning pools took the cores from each other (measured: a Hessian
at N = 1000, width 10, 13x slower on a busy 2-core machine).  ``one_blas_thread()`` sets OpenBLAS to
one thread for the duration of a kernel call and restores it after.

Restoring has a price once OpenBLAS has started its threads (after any product large enough to be
split): every return to two threads wakes them, and they spin on the core that gradflow's next call
needs (measured: a gradient at N = 10^4, width 8, 236 -> 350 us when each call sets and restores the
count).  NumPy's own OpenBLAS (a second library, with its own threads) does the same after NumPy's
products in a training loop: its thread spun through a whole run of ``train`` (2.2 s of CPU in 2.2 s)
and left gradflow's second thread half a core.  Runs of many kernel calls with small linear algebra of
their own (training, BFGS) therefore hold both libraries at one thread for their whole duration:
``one_blas_thread_for(n_params)``, or ``one_blas_thread_during`` as a decorator (20 short trainings, P = 33,
N = 10^4: 2.2 s -> 1.7 s).

Only the wheels' bundled OpenBLAS (``scipy_openblas``: SciPy's, and NumPy's 64-bit build) is
recognised; with another BLAS the contexts do nothing.

``kernel_core()`` says which of OpenBLAS's kernels that library chose when it loaded (from the CPU's
model, or ``OPENBLAS_CORETYPE``): benchmarks report it beside their times.
"""

from __future__ import annotations

import ctypes
import glob
import importlib.util
import os
import threading
from contextlib import contextmanager, nullcontext
from functools import lru_cache, wraps

from gradflow.theory.errors import require

_lock = threading.Lock()


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


def _thread_functions(package: str, pattern: str, suffix: str):
    """(get, set) thread-count functions of ``package``'s bundled OpenBLAS, or None."""
    for path in _libraries(package, pattern):
        try:
            lib = ctypes.CDLL(path)
            get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}")
            set_ = getattr(lib, f"scipy_openblas_set_num_threads{suffix}")
        except (OSError, AttributeError):
            continue
        get.restype, set_.argtypes = ctypes.c_int, (ctypes.c_int,)
        return get, set_
    return None


@lru_cache(maxsize=None)
def _openblas():
    """(get, set) thread-count functions of SciPy's OpenBLAS (the one Numba's products call), or None."""
    return _thread_functions("scipy", "libscipy_openblas*", "")


@lru_cache(maxsize=None)
def _numpy_openblas():
    """(get, set) of NumPy's OpenBLAS (64-bit integers, its own threads), or None."""
    return _thread_functions("numpy", "libscipy_openblas*", "64_")


def blas_threads(package: str = "scipy") -> int | None:
    """The current thread count of ``package``'s ("scipy" or "numpy") bundled OpenBLAS (None: not one)."""
    require(package in ("scipy", "numpy"), "package", "'scipy' or 'numpy'", package)
    functions = _openblas() if package == "scipy" else _numpy_openblas()
    return None if functions is None else int(functions[0]())


class _OneThread:
    """One library's thread count held at one while any user is inside (nested or from several threads);
    the count found by the first user is restored when the last leaves."""

    def __init__(self, functions):
        self.functions = functions  # () -> (get, set) or None
        self.depth = 0
        self.saved = 0

    @contextmanager
    def held(self):
        functions = self.functions()
        if functions is None:
            yield
            return
        get, set_ = functions
        with _lock:
            if self.depth == 0:
                self.saved = get()
                set_(1)
            self.depth += 1
        try:
            yield
        finally:
            with _lock:
                self.depth -= 1
                if self.depth == 0:
                    set_(self.saved)


_SCIPY = _OneThread(_openblas)
_NUMPY = _OneThread(_numpy_openblas)


def one_blas_thread():
    """SciPy's OpenBLAS (the one Numba's products call) on one thread inside; the previous count restored
    when the last user leaves."""
    return _SCIPY.held()


HOLD_LIMIT = 1024  # parameters: the P x P linear algebra of a run this small gains little from BLAS threads


@contextmanager
def _held():
    with _SCIPY.held(), _NUMPY.held():
        yield


def one_blas_thread_for(n_params: int):
    """SciPy's and NumPy's OpenBLAS on one thread for a whole run of kernel calls whose own linear algebra
    is on n_params x n_params matrices, when that is at most HOLD_LIMIT (else nothing: larger
    factorisations want the threads); the kernel calls inside find the count set and change nothing."""
    return _held() if n_params <= HOLD_LIMIT else nullcontext()


def one_blas_thread_during(n_params_of):
    """Decorator: each call runs inside ``one_blas_thread_for(n_params_of(*args, **kwargs))``."""
    def decorate(function):
        @wraps(function)
        def held(*args, **kwargs):
            with one_blas_thread_for(n_params_of(*args, **kwargs)):
                return function(*args, **kwargs)
        return held
    return decorate
