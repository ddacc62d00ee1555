"""Which pieces Gamma_lambda of the expansion manifold meet, and the graph they form.

Gamma_lambda meets Gamma_lambda' iff the labellings agree wherever both are non-zero (a neuron cannot
copy two distinct teacher neurons) and every role i has a neuron labelled i by both (otherwise the
sums of a_j for role i cannot both be a*_i: one of them would contain only zero-type neurons).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from gradflow.theory.symmetry.enumeration import labellings_intersect  # the criterion, pair by pair


def intersection_graph(labels) -> np.ndarray:
    """Boolean adjacency (T, T) of the labellings (rows of ``labels``), no self-loops: the criterion of
    :func:`labellings_intersect` for all pairs at once (rows labelling onto the same roles 1..r*)."""
    L = np.asarray(labels)
    r = int(L.max())
    a, b = L[:, None, :], L[None, :, :]
    compatible = np.all((a == 0) | (b == 0) | (a == b), axis=2)
    for role in range(1, r + 1):
        compatible &= np.any((a == role) & (b == role), axis=2)
    np.fill_diagonal(compatible, False)
    return compatible


def graph_components(adjacency) -> int:
    count, _ = connected_components(csr_matrix(np.asarray(adjacency, dtype=np.int8)), directed=False)
    return int(count)


__all__ = ["graph_components", "intersection_graph", "labellings_intersect"]
