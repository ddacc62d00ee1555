"""The bigram-with-triggers task (NumPy only): statistics from a seed, batches, copy positions.

Vocabulary of N tokens, Dirichlet(alpha) transition rows, k trigger tokens (the most frequent ones)
whose next token is fixed within a sequence and drawn per sequence from the marginal.  Everything
is generated from the seed, never downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import ParameterError


@dataclass(frozen=True)
class BigramTask:
    """Bigram statistics with k trigger tokens; everything derived from ``seed``."""

    marginal: np.ndarray  # (N,) distribution of the first token and of the trigger outputs
    transition: np.ndarray  # (N, N) rows: next-token distribution
    triggers: np.ndarray  # (k,) trigger token ids

    @property
    def N(self) -> int:
        return self.marginal.shape[0]


def make_task(N: int = 65, k: int = 5, seed: int = 0, alpha: float = 0.5) -> BigramTask:
    """Dirichlet(alpha) transition rows; marginal = stationary distribution; triggers = k most frequent."""
    if N < 2 or not 1 <= k < N:
        raise ParameterError("k", f"an integer in [1, {N - 1}]", k)
    rng = np.random.default_rng(seed)
    transition = rng.dirichlet(np.full(N, alpha), size=N)
    # stationary distribution by power iteration (rows are dense, so the chain mixes fast)
    pi = np.full(N, 1.0 / N)
    for _ in range(1000):
        nxt = pi @ transition
        if np.max(np.abs(nxt - pi)) < 1e-15:
            break
        pi = nxt
    pi = pi / pi.sum()
    triggers = np.sort(np.argsort(-pi, kind="stable")[:k])
    return BigramTask(pi, transition, triggers)


def _categorical(rng, probs_rows: np.ndarray) -> np.ndarray:
    """One sample per row of ``probs_rows`` by the inverse CDF."""
    cdf = np.cumsum(probs_rows, axis=1)
    u = rng.random((probs_rows.shape[0], 1)) * cdf[:, -1:]
    return np.minimum((u > cdf).sum(axis=1), probs_rows.shape[1] - 1)


def sample_batch(task: BigramTask, batch: int, T: int, rng: np.random.Generator):
    """Sequences (batch, T): bigram chain except that a trigger q_j is always followed by o_j,
    the outputs o_j drawn per sequence from the marginal.  Returns (tokens, outputs)."""
    k = task.triggers.shape[0]
    outputs = _categorical(rng, np.broadcast_to(task.marginal, (batch * k, task.N))).reshape(batch, k)
    trigger_slot = np.full(task.N, -1)
    trigger_slot[task.triggers] = np.arange(k)
    z = np.empty((batch, T), dtype=np.int64)
    z[:, 0] = _categorical(rng, np.broadcast_to(task.marginal, (batch, task.N)))
    rows = np.arange(batch)
    for t in range(1, T):
        prev = z[:, t - 1]
        nxt = _categorical(rng, task.transition[prev])
        slot = trigger_slot[prev]
        is_trig = slot >= 0
        nxt[is_trig] = outputs[rows[is_trig], slot[is_trig]]
        z[:, t] = nxt
    return z, outputs


def copy_mask(task: BigramTask, z: np.ndarray) -> np.ndarray:
    """(batch, T-1) boolean: position t predicts z[t+1], z[t] is a trigger that occurred before t
    (so its output is in the context and an induction head can copy it)."""
    is_trig = np.isin(z, task.triggers)
    B, T = z.shape
    seen_before = np.zeros_like(is_trig)
    for q in task.triggers:
        occ = z == q
        earlier = np.cumsum(occ, axis=1) - occ  # occurrences strictly before t
        seen_before |= occ & (earlier > 0)
    return (is_trig & seen_before)[:, : T - 1]
