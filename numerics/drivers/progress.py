"""Long runs in chunks, so a progress bar can move; the results equal one uninterrupted run."""

from __future__ import annotations

import numpy as np

CHUNK_THRESHOLD = 200_000  # steps (times lanes) below which one kernel call is made


def step_chunks(n_steps: int, record: np.ndarray, work_per_step: int, progress: bool, desc: str):
    """Yield (first_step, last_step, rows) covering 1..n_steps; rows index ``record`` entries in
    (first_step - 1, last_step].  One chunk unless progress is wanted and the run is long."""
    from tqdm import tqdm

    pieces = 1 if not progress or n_steps * work_per_step < CHUNK_THRESHOLD else min(50, n_steps)
    bounds = np.unique(np.linspace(0, n_steps, pieces + 1).astype(np.int64))
    bar = tqdm(total=n_steps, desc=desc, disable=pieces == 1, unit="step")
    for start, stop in zip(bounds[:-1], bounds[1:]):
        rows = np.flatnonzero((record > start) & (record <= stop))
        yield int(start), int(stop), rows
        bar.update(int(stop - start))
    bar.close()
