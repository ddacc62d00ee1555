"""How a lane kernel call runs: on one thread or on Numba's thread pool, chosen from the work size.

A parallel region costs a wake-up of the pool and, on a busy machine, a wait for every thread to be
scheduled (milliseconds when the cores are shared), while the serial variant pays neither.  Measured
on a shared 2-core machine (load about 7), the margin map over 512 lanes x 1000 steps took 1.0 ms on
one thread and 28 ms on two; 32768 lanes x 1000 steps 121 ms against 140 ms.  So a call runs on one
thread unless its work is large (``PARALLEL_WORK`` lane-step-states) and the machine has cores to
spare: the threads are then the cores left over by the other running processes (the 1-minute load
average minus this process), at most Numba's thread count.

The choice changes no number: lanes are independent and each lane runs the same operations whatever
the thread or block that carries it.  It is reported (``Strategy.to_dict``) with every trajectory.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from dataclasses import dataclass

import numba

PARALLEL_WORK = 2e6  # lane-step-states per call below which one thread is faster (a few ms of work)
FLOW_STEPS_GUESS = 100  # steps per lane assumed for an adaptive integration (the margin flow to 1e8: 86)


@dataclass(frozen=True)
class Strategy:
    """``threads`` for one kernel call of ``work`` lane-step-states, and why."""

    threads: int
    work: float
    reason: str

    @property
    def serial(self) -> bool:
        return self.threads == 1

    def to_dict(self) -> dict:
        return {"threads": self.threads, "work": self.work, "reason": self.reason}


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows): assume the machine is free
        return 0.0


def choose_strategy(work: float, threads: int | None = None, cores: int | None = None,
                    load: float | None = None) -> Strategy:
    """The strategy for a call of ``work`` lane-step-states.

    ``threads``: Numba's thread count (default ``numba.get_num_threads()``); ``cores``: the machine's
    (default ``os.cpu_count()``); ``load``: the 1-minute load average (default ``os.getloadavg()``),
    which counts this process too."""
    threads = numba.get_num_threads() if threads is None else int(threads)
    if threads <= 1:
        return Strategy(1, work, "serial: one thread available")
    if work < PARALLEL_WORK:
        return Strategy(1, work, f"serial: work {work:.3g} < {PARALLEL_WORK:.3g} lane-step-states")
    cores = (os.cpu_count() or 1) if cores is None else int(cores)
    load = _load() if load is None else float(load)
    spare = cores - max(0.0, load - 1.0)  # the cores the other running processes leave (this one counts one)
    chosen = max(1, min(threads, math.floor(spare + 0.5)))
    if chosen == 1:
        return Strategy(1, work, f"serial: work {work:.3g} but no spare core (load {load:.2f} on {cores} cores)")
    return Strategy(chosen, work, f"parallel: work {work:.3g} >= {PARALLEL_WORK:.3g}, {chosen} threads "
                                  f"(load {load:.2f} on {cores} cores)")


@contextmanager
def threads_of(strategy: Strategy):
    """Numba's thread count set to the strategy's for the block (the count of this thread, restored after)."""
    before = numba.get_num_threads()
    numba.set_num_threads(min(strategy.threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)
