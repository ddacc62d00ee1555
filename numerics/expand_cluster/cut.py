"""Where to cut the hierarchy: the highest cut in the lowest plateau of the most big clusters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.cluster.hierarchy import fcluster

from gradflow.theory.errors import require


@dataclass(frozen=True)
class CutResult:
    """The cut search over merge heights: ``counts[t]`` big clusters when cutting at ``heights[t]``;
    ``cut_index`` t* and ``cut_height`` h* (``cut_index`` is -1 when a forced cut lies below every merge);
    ``labels``: flat cluster of each point at h* (1-based, as ``fcluster``)."""

    heights: np.ndarray
    counts: np.ndarray
    cut_index: int
    cut_height: float
    labels: np.ndarray
    min_size: int
    forced: bool = False


def flat_clusters(labels: np.ndarray) -> list[np.ndarray]:
    """Point indices of each flat cluster, in label order (ascending indices within one)."""
    order = np.argsort(labels, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)


def cluster_sizes(labels: np.ndarray, owners=None) -> np.ndarray:
    """Members per label (index = label), or distinct owners per label given ``owners``."""
    if owners is None:
        return np.bincount(labels)
    pairs = np.unique(np.stack([labels, np.asarray(owners)]), axis=1)
    return np.bincount(pairs[0], minlength=labels.max() + 1)


def _count(labels: np.ndarray, min_size: int, owners, accept: Callable | None) -> int:
    big = cluster_sizes(labels, owners) >= min_size
    if accept is None:
        return int(big.sum())
    return sum(1 for label, members in zip(np.unique(labels), flat_clusters(labels)) if big[label] and accept(members))


def plateau_index(counts: np.ndarray) -> int:
    """t*: among the indices reaching the maximum count, the last of their first consecutive run."""
    top = np.flatnonzero(counts == counts.max())
    breaks = np.flatnonzero(np.diff(top) != 1)
    return int(top[breaks[0]] if breaks.size else top[-1])


def cut_rule(linkage, min_size: int, owners=None, accept: Callable | None = None,
             forced_height: float | None = None) -> CutResult:
    """Cut the linkage ``Z`` where the number of big clusters is largest, at the highest height of the
    first run of merges that reach that number.

    A flat cluster is big with at least ``min_size`` members, or, given ``owners`` (one label per point),
    at least ``min_size`` distinct owners; ``accept(members)`` may veto a cluster (counted only when true).
    Cutting at ``Z[t, 2]`` means ``fcluster(Z, Z[t, 2], 'distance')``. ``forced_height`` replaces h*
    (the counts are still reported).
    """
    Z = np.asarray(linkage, dtype=float)
    require(Z.ndim == 2 and Z.shape[1] == 4 and Z.shape[0] >= 1, "linkage", "a SciPy linkage matrix (n-1, 4), n >= 2",
            Z.shape)
    require(isinstance(min_size, (int, np.integer)) and min_size >= 1, "min_size", "an integer >= 1", min_size)
    owners = None if owners is None else np.asarray(owners)
    heights = Z[:, 2].copy()
    counts = np.array([_count(fcluster(Z, h, criterion="distance"), min_size, owners, accept) for h in heights],
                      dtype=int)
    if forced_height is None:
        t = plateau_index(counts)
        h = float(heights[t])
    else:
        below = np.flatnonzero(heights <= forced_height)
        t, h = (int(below[-1]) if below.size else -1), float(forced_height)
    labels = fcluster(Z, h, criterion="distance")
    return CutResult(heights, counts, t, h, labels, int(min_size), forced_height is not None)
