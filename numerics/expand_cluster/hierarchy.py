"""The hierarchy over a layer's points: SciPy's linkage on Euclidean or cosine distances."""

from __future__ import annotations

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from gradflow.numerics.expand_cluster.alignment import cosine_distances


def condensed_distances(points, metric: str) -> np.ndarray:
    """Pairwise distances of ``points`` (rows): Euclidean, or 1 - cos (1 for a zero vector)."""
    points = np.asarray(points, dtype=float)
    return pdist(points, "euclidean") if metric == "euclidean" else cosine_distances(points)


def build_linkage(points, method: str, metric: str) -> np.ndarray:
    """The linkage matrix Z (n-1, 4) of ``method`` ("average" or "complete")."""
    linkage = hierarchy.average if method == "average" else hierarchy.complete
    return linkage(condensed_distances(points, metric))
