"""Long runs in chunks: Ctrl-C is answered between two kernel calls (a running Numba kernel cannot be
interrupted) and a progress bar can move.  The results equal one uninterrupted run."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

CHUNK_WORK = 1 << 24  # work (steps x lanes, or the driver's own unit) per kernel call: well under a second
GPU_CHUNK_WORK = 1 << 32  # the same on a GPU, which does about 100 times as much a second
CHUNK_THRESHOLD = 200_000  # work below which no progress bar is shown (and, with progress, one call is made)
BAR_PIECES = 50  # at least this many chunks when a progress bar is shown


def chunk_count(n_steps: int, work_per_step: float, progress: bool, chunk_work: int = CHUNK_WORK) -> int:
    """How many kernel calls a run of ``n_steps`` steps is cut into."""
    if n_steps <= 0:
        return 1
    total = n_steps * max(1.0, float(work_per_step))
    pieces = -(-int(total) // chunk_work)
    if progress and total >= CHUNK_THRESHOLD:
        pieces = max(pieces, BAR_PIECES)
    return int(max(1, min(n_steps, pieces)))


def step_chunks(n_steps: int, record: np.ndarray, work_per_step: float, progress: bool, desc: str,
                chunk_work: int = CHUNK_WORK):
    """Yield (first_step, last_step, rows) covering 1..n_steps; rows index the (sorted) ``record`` entries
    in (first_step, last_step].  Chunks hold at most about CHUNK_WORK work; with ``progress`` a long run
    shows a bar over at least BAR_PIECES chunks."""
    from tqdm import tqdm

    record = np.asarray(record)
    pieces = chunk_count(n_steps, work_per_step, progress, chunk_work)
    show = progress and n_steps * max(1.0, float(work_per_step)) >= CHUNK_THRESHOLD and pieces > 1
    bar = tqdm(total=n_steps, desc=desc, disable=not show, unit="step")
    try:
        start = 0
        for piece in range(1, pieces + 1):
            stop = n_steps * piece // pieces
            if stop == start:
                continue
            rows = np.arange(np.searchsorted(record, start, "right"), np.searchsorted(record, stop, "right"))
            try:
                yield int(start), int(stop), rows
            finally:  # also when the caller stops early (every member done): the bar ends where the run did
                bar.update(int(stop - start))
            start = stop
    finally:
        bar.close()


@contextmanager
def chunked(n_steps: int, record: np.ndarray, work_per_step: float, progress: bool, desc: str,
            chunk_work: int = CHUNK_WORK):
    """``step_chunks`` as a context: its progress bar is closed when the run ends, however it ends (an
    interrupted run's bar is finished before the error is reported, not after)."""
    chunks = step_chunks(n_steps, record, work_per_step, progress, desc, chunk_work)
    try:
        yield chunks
    finally:
        chunks.close()
