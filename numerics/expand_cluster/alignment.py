"""How well a cluster's vectors point the same way: the median pairwise cosine distance."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import pdist


def cosine_distances(vectors) -> np.ndarray:
    """Condensed pairwise 1 - cos; a pair with a zero vector is at distance 1 (no direction)."""
    vectors = np.asarray(vectors, dtype=float)
    norms = np.linalg.norm(vectors, axis=1)
    unit = vectors / np.where(norms > 0, norms, 1.0)[:, None]
    d = 0.5 * pdist(unit, "sqeuclidean")  # = 1 - cos for unit vectors, without cancellation near 0
    zero = norms == 0
    if zero.any():
        n = len(vectors)
        i, j = np.triu_indices(n, 1)
        d[zero[i] | zero[j]] = 1.0
    return np.clip(d, 0.0, 2.0)


def median_cosine_distance(vectors) -> float:
    """Median of 1 - cos over the pairs of ``vectors`` (0 for fewer than two)."""
    vectors = np.asarray(vectors, dtype=float)
    if len(vectors) < 2:
        return 0.0
    return float(np.median(cosine_distances(vectors)))
