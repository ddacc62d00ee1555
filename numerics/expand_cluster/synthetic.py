"""Synthetic zero-loss student sets: each student holds every teacher neuron as split duplicates, plus
zero-output neurons, shuffled; the clustering's ground truth without training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.numerics.expand_cluster.classes import activation_class as _checked_class
from gradflow.numerics.expand_cluster.features import sign_corrects_output
from gradflow.theory.errors import require


@dataclass(frozen=True)
class SyntheticStudents:
    """A teacher (``teacher_incoming`` (r*, d+1) rows [w; b], ``teacher_outgoing`` (r*, 1)) and N students
    (``incoming`` (N, k, d+1), ``outgoing`` (N, k, 1), ``losses`` (N,)); ``owner`` (N, k): the teacher
    neuron a student neuron duplicates, -1 for a zero-output neuron; ``signs`` (N, k) its flip."""

    teacher_incoming: np.ndarray
    teacher_outgoing: np.ndarray
    incoming: np.ndarray
    outgoing: np.ndarray
    losses: np.ndarray
    owner: np.ndarray
    signs: np.ndarray


def _student(rng, V, a, copies, n_zero, noise, zero_scale, flip):
    rows, outs, owner = [], [], []
    for j, c in enumerate(copies):
        mu = rng.dirichlet(np.ones(c)) if c > 1 else np.ones(1)  # split shares summing to one
        for share in mu:
            rows.append(V[j] + noise * rng.standard_normal(V.shape[1]))
            outs.append(share * a[j] + noise * rng.standard_normal())
            owner.append(j)
    for _ in range(n_zero):
        rows.append(zero_scale * rng.standard_normal(V.shape[1]))
        outs.append(0.0)
        owner.append(-1)
    rows, outs, owner = np.array(rows), np.array(outs), np.array(owner)
    signs = np.where(rng.random(len(rows)) < 0.5, -1.0, 1.0) if flip else np.ones(len(rows))
    perm = rng.permutation(len(rows))
    return rows[perm] * signs[perm, None], (outs * signs)[perm], owner[perm], signs[perm]


def synthetic_students(rng, d: int = 10, r_star: int = 5, N: int = 10, copies=(1, 2), zeros=(3, 7),
                       noise: float = 1e-7, zero_scale: float = 0.3, activation_class: str = "odd",
                       loss_scale: float = 1e-12) -> SyntheticStudents:
    """Teacher v* ~ N(0, I_{d+1}), a* = +-U(0.5, 1.5); each student holds each teacher neuron a number of
    times drawn from ``copies`` (inclusive range) with outgoing shares summing to a*, a number of
    zero-output neurons v ~ ``zero_scale`` N(0, I) drawn from ``zeros``, and enough further zero-output
    neurons to reach the common width; Gaussian ``noise`` on every weight; each neuron flipped
    (v, a) -> (-v, -a) with probability 1/2 for the odd classes (odd_constant's bias change is not
    represented: there are no biases here). Losses ~ U(0, ``loss_scale``)."""
    cls = _checked_class(activation_class)
    for name, value, low in (("d", d, 1), ("r_star", r_star, 1), ("N", N, 2)):
        require(isinstance(value, (int, np.integer)) and value >= low, name, f"an integer >= {low}", value)
    for name, pair in (("copies", copies), ("zeros", zeros)):
        require(len(pair) == 2 and 0 <= pair[0] <= pair[1], name, "a range (low, high) with 0 <= low <= high", pair)
    require(copies[0] >= 1, "copies", "at least one copy of each teacher neuron", copies)
    V = rng.standard_normal((r_star, d + 1))
    a = rng.choice([-1.0, 1.0], r_star) * rng.uniform(0.5, 1.5, r_star)
    plans = [(rng.integers(copies[0], copies[1] + 1, r_star), int(rng.integers(zeros[0], zeros[1] + 1)))
             for _ in range(N)]
    width = max(int(c.sum()) + z for c, z in plans)
    students = [_student(rng, V, a, c, width - int(c.sum()), noise, zero_scale, sign_corrects_output(cls))
                for c, _ in plans]
    incoming = np.stack([s[0] for s in students])
    outgoing = np.stack([s[1] for s in students])[:, :, None]
    return SyntheticStudents(V, a[:, None], incoming, outgoing, rng.uniform(0.0, loss_scale, N),
                             np.stack([s[2] for s in students]), np.stack([s[3] for s in students]))
