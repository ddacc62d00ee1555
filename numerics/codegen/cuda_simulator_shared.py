"""Shared arrays under numba's CUDA simulator, allocated once per block and line for every thread.

The simulator runs each CUDA thread as a Python thread and gives ``cuda.shared.array`` the array that
the first caller from the same source line stored, but it looks the line up and stores the new array
without a lock: two threads that both miss keep different arrays, and the writes of one never reach
the other (a tree reduction then silently drops partial sums: a Frobenius norm of 1.7436 instead of
1.8055 was seen once in about 30 runs of the CUDA parity tests).  ``serialise_shared_arrays`` replaces
that method by one that does the lookup and the store under a lock; the kernels module applies it when
the simulator is on.  A GPU is untouched.
"""

from __future__ import annotations

import sys
import threading
import traceback

import numpy as np

_LOCK = threading.Lock()
_original = None  # the simulator's own method, once replaced


def _locked_shared_array(self, shape, dtype):
    """FakeCUDAShared.array with its check-then-store step under a lock (same keys, same arrays)."""
    from numba.cuda.simulator import kernelapi

    if shape == 0:  # dynamic shared memory: one preallocated buffer, nothing to store
        return _original(self, shape, dtype)
    if isinstance(dtype, kernelapi.types.Type):
        dtype = kernelapi.numpy_support.as_dtype(dtype)
    # the key the simulator uses: the calling kernel's file and line
    caller = traceback.extract_stack(sys._getframe())[-2][0:2]
    with _LOCK:
        array = self._allocations.get(caller)
        if array is None:
            array = self._allocations[caller] = np.empty(shape, dtype)
    return array


def serialise_shared_arrays() -> bool:
    """Install the locked allocation in the simulator (idempotent); False when the simulator's class
    is not there (a numba whose simulator differs), in which case nothing changes."""
    global _original
    try:
        from numba.cuda.simulator.kernelapi import FakeCUDAShared
    except ImportError:
        return False
    if not hasattr(FakeCUDAShared, "array"):
        return False
    if FakeCUDAShared.array is not _locked_shared_array:
        _original = FakeCUDAShared.array
        FakeCUDAShared.array = _locked_shared_array
    return True


__all__ = ["serialise_shared_arrays"]
