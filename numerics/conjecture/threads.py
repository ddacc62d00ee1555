"""Small launches on one thread: a Hypothesis search runs many launches of a few lanes each, where
waking a pool of threads costs more than the work (ten times more on a busy machine)."""

from __future__ import annotations

from contextlib import contextmanager

import numba

SMALL_LAUNCH = 4096  # lane-steps below which one thread is faster than the pool


@contextmanager
def threads_for(lane_steps: int):
    """One Numba thread inside the block when ``lane_steps`` is small, the usual count otherwise."""
    before = numba.get_num_threads()
    if lane_steps < SMALL_LAUNCH * before:
        numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


__all__ = ["SMALL_LAUNCH", "threads_for"]
