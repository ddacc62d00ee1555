"""numerics/codegen/cuda_simulator_shared.py: the simulator's shared arrays, one per line for every thread.

Two Python threads are made to miss the lookup at the same time (the dictionary's lookup sleeps after
looking the first two times, so the other thread looks meanwhile): the simulator's own method then hands them two
different arrays (the race), the locked one the same array.  No simulator run is needed: the class is
plain Python.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from gradflow.numerics.codegen import cuda_simulator_shared

kernelapi = pytest.importorskip("numba.cuda.simulator.kernelapi")


class _SlowMisses(dict):
    """A dict whose first two lookups sleep once they have looked: both callers look before either stores."""

    def __init__(self):
        super().__init__()
        self.slow = 2
        self.lock = threading.Lock()

    def get(self, key, default=None):
        found = super().get(key, default)
        with self.lock:
            slow, self.slow = self.slow > 0, self.slow - 1
        if slow:  # after the lookup: the other thread looks meanwhile
            time.sleep(0.2)
        return found


def _arrays_of_two_threads(method) -> list:
    shared = kernelapi.FakeCUDAShared(0)
    shared._allocations = _SlowMisses()
    arrays = [None, None]

    def thread(i):
        arrays[i] = method(shared, (4,), np.float64)  # one line: the same key for both threads

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert all(a is not None for a in arrays)
    return arrays


def test_simulator_method_races():
    """The premise: numba's own method gives two threads that miss together two arrays (if a numba
    release locks it, this test fails and the fix can go)."""
    original = cuda_simulator_shared._original or kernelapi.FakeCUDAShared.array
    first, second = _arrays_of_two_threads(original)
    assert first is not second


def test_locked_method_gives_one_array():
    first, second = _arrays_of_two_threads(cuda_simulator_shared._locked_shared_array)
    assert first is second
    assert first.shape == (4,) and first.dtype == np.float64


def test_locked_method_keys_by_line():
    """Two allocations on different lines stay two arrays (a matmul's two tiles), one line one array."""
    shared = kernelapi.FakeCUDAShared(0)
    a = cuda_simulator_shared._locked_shared_array(shared, (2, 2), np.float64)
    b = cuda_simulator_shared._locked_shared_array(shared, (2, 2), np.float64)
    assert a is not b
    again = [cuda_simulator_shared._locked_shared_array(shared, (3,), np.float64) for _ in range(2)]
    assert again[0] is again[1]
