"""What a run of am-transformer is summarised by (NumPy only): memory margins and loss-curve events."""

from __future__ import annotations

import numpy as np


def memory_margins(W_U: np.ndarray, W_O2: np.ndarray, W_V2: np.ndarray, E: np.ndarray) -> np.ndarray:
    """m(y) = [W_U W_O2 W_V2 w_E(y)]_y - max_{j != y} [...]_j for every token y.

    W_U: (N, d) unembedding rows, W_O2, W_V2: (d, d), E: (N, d) embedding rows."""
    scores = E @ W_V2.T @ W_O2.T @ W_U.T  # (N_in, N_out): row y = logits of memory output for input y
    n = scores.shape[0]
    correct = scores[np.arange(n), np.arange(n)]
    others = scores.copy()
    others[np.arange(n), np.arange(n)] = -np.inf
    return correct - others.max(axis=1)


def first_below(values: np.ndarray, threshold: float) -> int:
    """First index with values <= threshold, or -1."""
    hits = np.flatnonzero(values <= threshold)
    return int(hits[0]) if hits.size else -1


def count_increases(values: np.ndarray, rel_tol: float = 1e-6) -> int:
    """Number of steps where the fixed-batch loss went up by more than a factor 1 + rel_tol."""
    v = np.asarray(values, dtype=float)
    return int(np.sum(v[1:] > v[:-1] * (1.0 + rel_tol)))


def oscillations(values: np.ndarray) -> int:
    """Number of sign changes of the increments (turning points) of a curve."""
    inc = np.sign(np.diff(np.asarray(values, dtype=float)))
    inc = inc[inc != 0]
    return int(np.sum(inc[1:] != inc[:-1]))
