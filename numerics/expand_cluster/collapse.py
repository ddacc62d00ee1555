"""Collapse: each kept cluster becomes one neuron, taken from its best-ranked student (winner-take-all)."""

from __future__ import annotations

import numpy as np

from gradflow.numerics.expand_cluster.features import Features


def best_students(losses: np.ndarray, best_k: int) -> np.ndarray:
    """The ``best_k`` lowest-loss students, best first (ties keep the student order)."""
    return np.argsort(losses, kind="stable")[:best_k]


def winner(members: np.ndarray, features: Features, best: np.ndarray) -> int | None:
    """The best-ranked student of ``best`` owning a member, or None."""
    owners = set(features.students[members].tolist())
    return next((int(n) for n in best if int(n) in owners), None)


def summed_outgoing(members: np.ndarray, features: Features) -> np.ndarray:
    """a_sum (N, m): per student, the sum of its members' outgoing weights (times s_i for odd classes)."""
    a_sum = np.zeros((features.n_students, features.outgoing.shape[1]))
    np.add.at(a_sum, features.students[members], features.signed_outgoing[members])
    return a_sum


def _near_medoid(members: np.ndarray, features: Features, factor: float) -> np.ndarray:
    """Members within ``factor`` times the median distance to the cluster's medoid (masked vectors)."""
    x = features.masked[members]
    d = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)
    to_medoid = d[np.argmin(d.sum(axis=1))]
    return members[to_medoid <= factor * np.median(to_medoid)]


def collapsed_vector(members: np.ndarray, features: Features, student: int,
                     medoid_factor: float | None = None) -> np.ndarray:
    """Mean canonical (unmasked) vector of ``student``'s members; with ``medoid_factor``, only those near
    the medoid (all of the student's members when none is)."""
    own = members[features.students[members] == student]
    if medoid_factor is not None:
        near = np.intersect1d(own, _near_medoid(members, features, medoid_factor))
        own = near if near.size else own
    return features.vectors[own].mean(axis=0)
