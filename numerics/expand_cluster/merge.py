"""Variant g: kept clusters that are one neuron split along a flat direction of the loss become one.

A zero-loss student may hold a teacher neuron as two neurons at (1 + e) v and (1 - e) v with equal outgoing
weights: their sum differs from 2 a sigma(v . x~) only at second order in e, so the loss is flat along the
split and finite training leaves e of about 1e-4.  Tight across the students that hold it, each half can pass
the size and angle tests on its own, and the width comes out one too large per split neuron.  Distinct
neurons of an irreducible teacher are far apart on this scale, so kept clusters whose mean canonical vectors
lie within ``merge_fraction`` of each other, relative to the longer one, are merged: one cluster with all
their members (the summed outgoing weights then add both halves), its winner chosen again.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from gradflow.numerics.expand_cluster.alignment import median_cosine_distance
from gradflow.numerics.expand_cluster.collapse import winner
from gradflow.numerics.expand_cluster.features import Features
from gradflow.numerics.expand_cluster.report import ClusterReport


def _relative_distance(u: np.ndarray, v: np.ndarray) -> float:
    scale = max(float(np.linalg.norm(u)), float(np.linalg.norm(v)))
    return float(np.linalg.norm(u - v)) / scale if scale > 0 else 0.0


def split_groups(centres: np.ndarray, fraction: float) -> np.ndarray:
    """Group labels of ``centres`` (rows): single linkage at relative distance ``fraction``."""
    if len(centres) < 2:
        return np.ones(len(centres), dtype=int)
    distances = pdist(np.asarray(centres, dtype=float), _relative_distance)
    return hierarchy.fcluster(hierarchy.single(distances), t=fraction, criterion="distance")


def merged_splits(clusters: tuple, features: Features, best: np.ndarray, fraction: float) -> tuple:
    """``clusters`` with every group of kept clusters closer than ``fraction`` merged into its first one (all
    members, winner and spread recomputed); the others of the group are marked ``merged``, not kept."""
    kept = [i for i, c in enumerate(clusters) if c.kept]
    centres = np.array([features.masked[list(clusters[i].members)].mean(axis=0) for i in kept])
    labels = split_groups(centres, fraction)
    out = list(clusters)
    for label in np.unique(labels):
        group = [kept[i] for i in np.flatnonzero(labels == label)]
        if len(group) < 2:
            continue
        members = np.concatenate([np.asarray(clusters[i].members, dtype=int) for i in group])
        won = winner(members, features, best)
        out[group[0]] = ClusterReport(tuple(int(i) for i in members), int(members.size),
                                      int(np.unique(features.students[members]).size),
                                      median_cosine_distance(features.masked[members]), won is not None,
                                      None if won is not None else "no_best5", won)
        for i in group[1:]:
            out[i] = replace(clusters[i], kept=False, reason="merged", winner=None)
    return tuple(out)
