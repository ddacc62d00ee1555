"""How a lane kernel call runs: on one thread or on Numba's thread pool, chosen from the work size.

A parallel region costs a wake-up of the pool and, on a busy machine, a wait for every thread to be
scheduled (milliseconds when the cores are shared), while the serial variant pays neither.  Measured
on a shared 2-core machine (load about 7), the margin map over 512 lanes x 1000 steps took 1.0 ms on
one thread and 28 ms on two; 32768 lanes x 1000 steps 121 ms against 140 ms.  So a call runs on one
thread unless its work is large (``PARALLEL_WORK`` lane-step-states) and the machine has cores to
spare: the threads are then the cores left over by the other running threads (the runnable threads
now, minus this one), at most Numba's thread count.

The choice changes no number: lanes are independent and each lane runs the same operations whatever
the thread or block that carries it.  It is reported (``Strategy.to_dict``) with every trajectory.

Kernels whose step is dense products (the particle systems) get the same kind of choice for their BLAS
(``choose_blas_strategy``): OpenBLAS splits every product over its threads, which pays from products of
about 100^3 multiply-adds; below, one BLAS thread is as fast and leaves the other core alone.  Measured
on a quiet 2-core machine, logit particles N = M, time on one BLAS thread over two: 1.00 at N = 64, 0.99
to 1.49 at 96 (AVX-512 and AVX2 kernels), 1.47 at 128, 1.55 to 1.62 at 192 and 256.  Products use the
same BLAS call whatever its thread count, so the choice changes no number either.

A kernel whose step is a product chain starting with a data matrix splits the step's rows between
Numba's threads instead (``split_rows``), from products of ROW_SPLIT_WORK multiply-adds: each thread
fills its rows of the softmax gradient and multiplies its rows on one BLAS thread, so no product is handed
between threads.  Logit particles, N = M, on a quiet 2-core virtual machine, time on one thread over
the row split: 0.4 at N = 16 (a step of 1.2 us: two waits for the other thread cost more), 0.8 at 32,
1.0 to 1.1 at 40, 1.1 to 1.2 at 48, 1.4 at 64, 1.6 at 96, 1.7 at 128 and 1.9 at 256; the BLAS's own
threads over the row split: 1.2 at 128 and 1.15 at 256 (and 28 against 17 ms for 200 steps at N = 128 in
stretches where the two OpenBLAS threads synchronised slowly, a state of the host that came and went
every few seconds).  Each block's rows are the same BLAS products, so the numbers agree to rounding
(measured: equal).
"""

from __future__ import annotations

import math
import os
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numba

from gradflow.numerics.blas import blas_threads, one_blas_thread

PARALLEL_WORK = 2e6  # lane-step-states per call below which one thread is faster (a few ms of work)
SERIAL_BLAS_WORK = 5e5  # multiply-adds of a step's largest product below which one BLAS thread is as fast
ROW_SPLIT_WORK = 1e5  # the same, below which a split of the step's rows between threads does not pay
FLOW_STEPS_GUESS = 100  # steps per lane assumed for an adaptive integration (the margin flow to 1e8: 86)


@dataclass(frozen=True)
class Strategy:
    """``threads`` for one kernel call of ``work`` lane-step-states, and why."""

    threads: int
    work: float
    reason: str
    row_blocks: bool = False  # a step's rows split between Numba's threads, each on one BLAS thread

    @property
    def serial(self) -> bool:
        return self.threads == 1

    def to_dict(self) -> dict:
        return {"threads": self.threads, "work": self.work, "reason": self.reason, "row_blocks": self.row_blocks}


PROC = "/proc"


def _own_pool_threads_running() -> int:
    """Runnable threads of this process that are no Python thread: the worker pools of Numba (OpenMP) and
    OpenBLAS, which spin for a while after a parallel region and so read as runnable while they wait for
    this process's next call (measured: back-to-back calls of 2e7 lane-step-states then read load 2 on 2
    cores and ran serially, 32 ms instead of 17).  This process's Python threads (ensemble members, a
    sweep's workers) count as load like any other program's."""
    try:
        tasks = os.listdir(f"{PROC}/self/task")
    except OSError:
        return 0
    python = {thread.native_id for thread in threading.enumerate()}
    running = 0
    for task in tasks:
        if not task.isdigit() or int(task) in python:
            continue
        try:
            with open(f"{PROC}/self/task/{task}/stat") as stat:
                running += stat.read().rsplit(")", 1)[1].split()[0] == "R"  # the state follows "(name)"
        except (OSError, IndexError):
            continue
    return running


def _load() -> float:
    """Threads that want a core now, this one included: the kernel's count of runnable threads
    (/proc/loadavg) less this process's own waiting worker pools, else the 1-minute load average.  The
    average lags by a minute: a benchmark's previous peer, or this process's own earlier threads, read as
    a busy machine long after they stopped."""
    try:
        with open(f"{PROC}/loadavg") as average:
            runnable = float(average.read().split()[3].split("/")[0])
        return max(1.0, runnable - _own_pool_threads_running())
    except (OSError, IndexError, ValueError):
        pass
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows): assume the machine is free
        return 0.0


def _spare_threads(threads: int, cores: int | None, load: float | None) -> tuple:
    """(cores, load, threads to use): at most ``threads``, the cores the other runnable threads leave."""
    cores = (os.cpu_count() or 1) if cores is None else int(cores)
    load = _load() if load is None else float(load)
    spare = cores - max(0.0, load - 1.0)  # the cores the other runnable threads leave (this one counts one)
    return cores, load, max(1, min(threads, math.floor(spare + 0.5)))


def choose_strategy(work: float, threads: int | None = None, cores: int | None = None,
                    load: float | None = None) -> Strategy:
    """The strategy for a call of ``work`` lane-step-states.

    ``threads``: Numba's thread count (default ``numba.get_num_threads()``); ``cores``: the machine's
    (default ``os.cpu_count()``); ``load``: the threads that want a core now, this one included
    (default ``_load()``)."""
    threads = numba.get_num_threads() if threads is None else int(threads)
    if threads <= 1:
        return Strategy(1, work, "serial: one thread available")
    if work < PARALLEL_WORK:
        return Strategy(1, work, f"serial: work {work:.3g} < {PARALLEL_WORK:.3g} lane-step-states")
    cores, load, chosen = _spare_threads(threads, cores, load)
    if chosen == 1:
        return Strategy(1, work, f"serial: work {work:.3g} but no spare core (load {load:.2f} on {cores} cores)")
    return Strategy(chosen, work, f"parallel: work {work:.3g} >= {PARALLEL_WORK:.3g}, {chosen} threads "
                                  f"(load {load:.2f} on {cores} cores)")


def choose_blas_strategy(product_work: float, threads: int | None = None) -> Strategy:
    """BLAS threads for a kernel whose largest product is ``product_work`` multiply-adds: one, or the
    BLAS's own count.

    ``threads``: the BLAS's thread count (default: SciPy's OpenBLAS, the one Numba's products call; with
    another BLAS its threads are left alone, reported as 0).  The load average is not consulted: a
    process running two BLAS threads loads two cores by itself, so it would always read as busy."""
    threads = blas_threads() if threads is None else int(threads)
    if threads is None:
        return Strategy(0, product_work, "the BLAS's own threads: not SciPy's OpenBLAS")
    if threads <= 1:
        return Strategy(1, product_work, "serial: the BLAS has one thread")
    if product_work < SERIAL_BLAS_WORK:
        return Strategy(1, product_work, f"serial: products of {product_work:.3g} < {SERIAL_BLAS_WORK:.3g} "
                                         "multiply-adds")
    return Strategy(threads, product_work, f"parallel: products of {product_work:.3g} >= {SERIAL_BLAS_WORK:.3g} "
                                           f"multiply-adds, the BLAS's {threads} threads")


def split_rows(strategy: Strategy, rows: int, threads: int | None = None, cores: int | None = None,
               load: float | None = None) -> Strategy:
    """The strategy of a kernel that can split its step's ``rows`` between Numba's threads, given the BLAS
    strategy of its products: products of at least ROW_SPLIT_WORK multiply-adds are split by rows, one
    block per thread, each on one BLAS thread (no product is handed between threads: see
    ``matrix_module``), on as many threads as Numba has (``threads``, default ``numba.get_num_threads()``),
    the machine has spare (``cores``, ``load``: as for ``choose_strategy``) and there are rows.  Not with a
    BLAS other than SciPy's OpenBLAS (strategy.threads 0), whose threads could not be held at one."""
    if strategy.threads == 0 or strategy.work < ROW_SPLIT_WORK:
        return strategy
    threads = min(int(rows), numba.get_num_threads() if threads is None else int(threads))
    if threads <= 1:
        return strategy
    cores, load, chosen = _spare_threads(threads, cores, load)
    if chosen <= 1:
        return strategy
    return Strategy(chosen, strategy.work, f"row blocks: products of {strategy.work:.3g} >= {ROW_SPLIT_WORK:.3g} "
                                           f"multiply-adds, the step's rows split over {chosen} threads, one BLAS "
                                           f"thread each (load {load:.2f} on {cores} cores)", True)


def blas_threads_of(strategy: Strategy):
    """The BLAS on one thread for the block when the strategy is serial or splits rows itself (else left as it
    is), and Numba on the strategy's threads when it splits rows."""
    if strategy.row_blocks:
        return _one_blas_thread_and_threads(strategy)
    return one_blas_thread() if strategy.threads == 1 else nullcontext()


@contextmanager
def _one_blas_thread_and_threads(strategy: Strategy):
    with one_blas_thread(), threads_of(strategy):
        yield


@contextmanager
def threads_of(strategy: Strategy):
    """Numba's thread count set to the strategy's for the block (the count of this thread, restored after)."""
    before = numba.get_num_threads()
    numba.set_num_threads(min(strategy.threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)
