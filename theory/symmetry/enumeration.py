"""Brute-force enumeration: the independent oracle of the counting formulas (small widths only).

* labellings lambda: {1..m} -> {0..r*} onto {1..r*} (zero-loss subspaces; T counts them);
* surjections {1..m} -> {1..r} (critical subspaces; G counts them);
* maps of n labelled neurons onto n - K reduced ones with exactly K fibres of size 2 (K-th order
  permutation points), and the distinct wide parameter vectors they produce from random distinct
  reduced neurons (duplicated neurons share the incoming vector and halve the outgoing one);
* the intersection criterion of two labellings' subspaces and the intersection graph.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations, product
from math import factorial

import numpy as np

from gradflow.theory.errors import require
from gradflow.theory.symmetry.counts import integer

MAX_ENUMERATED = 8  # labellings of 8 neurons: about 1.1 million over all r*


def _small(m: int, name: str = "m") -> int:
    m = integer(m, name, 1)
    require(m <= MAX_ENUMERATED, name, f"<= {MAX_ENUMERATED} for brute-force enumeration", m)
    return m


def labellings(r_star: int, m: int) -> list[tuple[int, ...]]:
    """Every lambda in {0..r*}^m whose non-zero values cover 1..r* (0 marks a zero-type neuron)."""
    m, r = _small(m), integer(r_star, "r_star", 1)
    require(r <= m, "r_star", f"<= m = {m}", r)
    return list(_covering(m, range(r + 1), frozenset(range(1, r + 1))))


def surjections(m: int, r: int) -> list[tuple[int, ...]]:
    """Every map {1..m} -> {1..r} (values 1..r) that is onto."""
    m, r = _small(m), integer(r, "r", 1)
    require(r <= m, "r", f"<= m = {m}", r)
    return list(_covering(m, range(1, r + 1), frozenset(range(1, r + 1))))


def _covering(length: int, values, required: frozenset, prefix: tuple = ()):
    """Tuples over ``values`` of the given length that contain every value in ``required``, built
    position by position and cut as soon as the remaining positions cannot cover what is missing."""
    missing = required - set(prefix)
    remaining = length - len(prefix)
    if len(missing) > remaining:
        return
    if remaining == 0:
        yield prefix
        return
    for v in values:
        yield from _covering(length, values, required, prefix + (v,))


def pair_maps(n: int, K: int) -> list[tuple[int, ...]]:
    """Maps {0..n-1} -> {0..n-K-1} with exactly K fibres of size 2 and the others of size 1."""
    n, K = _small(n, "n"), integer(K, "K", 1)
    reduced = n - K
    if reduced < K or reduced < 1:
        return []
    return [lam for lam in product(range(reduced), repeat=n)
            if sorted(Counter(lam).values()) == [1] * (reduced - K) + [2] * K]


def all_merging_maps(n: int, K: int) -> list[tuple[int, ...]]:
    """Every surjection of n neurons onto n - K reduced ones (triples and larger fibres included)."""
    n, K = _small(n, "n"), integer(K, "K", 1)
    require(K < n, "K", f"< n = {n}", K)
    return [tuple(v - 1 for v in lam) for lam in surjections(n, n - K)]


def distinct_wide_vectors(maps, incoming: np.ndarray, outgoing: np.ndarray, decimals: int = 9) -> int:
    """How many distinct wide layers the maps produce: neuron j gets incoming[lam(j)] and
    outgoing[lam(j)] / |fibre of lam(j)|; vectors compared after rounding to ``decimals``."""
    seen = set()
    for lam in maps:
        sizes = Counter(lam)
        wide = np.concatenate([np.concatenate([incoming[i], outgoing[i] / sizes[i]]) for i in lam])
        seen.add(tuple(np.round(wide, decimals)))
    return len(seen)


def brute_force_higher_order(hidden_widths, K: int, seed: int = 0, all_fibres: bool = False) -> int:
    """K-th order points counted by enumeration: for each hidden layer, random distinct reduced
    neurons (incoming dimension 3, outgoing 2), the distinct wide vectors of all pair maps (or of all
    surjections with ``all_fibres``), times the other layers' orbits prod_{l != k} n_l!."""
    widths = tuple(integer(n, "hidden_widths", 1) for n in hidden_widths)
    rng = np.random.default_rng(seed)
    total = 0
    for k, n in enumerate(widths):
        reduced = n - integer(K, "K", 1)
        if reduced < 1:
            continue
        maps = all_merging_maps(n, K) if all_fibres else pair_maps(n, K)
        incoming, outgoing = rng.normal(size=(reduced, 3)), rng.normal(size=(reduced, 2))
        others = np.prod([factorial(w) for i, w in enumerate(widths) if i != k], dtype=object)
        total += int(others) * distinct_wide_vectors(maps, incoming, outgoing)
    return total


# --- intersections of zero-loss subspaces -------------------------------------------------------------

def labellings_intersect(first, second) -> bool:
    """Gamma_lambda meets Gamma_lambda' iff the labellings agree wherever both are non-zero and every
    role i has a neuron labelled i by both (its outgoing weight carries a*_i in both sums)."""
    first, second = tuple(first), tuple(second)
    require(len(first) == len(second), "second", f"a labelling of the same {len(first)} neurons", second)
    if any(a and b and a != b for a, b in zip(first, second)):
        return False
    roles = set(first) - {0}
    return roles == set(second) - {0} and all(any(a == b == i for a, b in zip(first, second)) for i in roles)


def intersection_graph(r_star: int, m: int) -> tuple[list[tuple[int, ...]], list[tuple[int, int]]]:
    """The labellings and the pairs (indices) whose subspaces intersect."""
    nodes = labellings(r_star, m)
    edges = [(i, j) for i, j in combinations(range(len(nodes)), 2) if labellings_intersect(nodes[i], nodes[j])]
    return nodes, edges


def is_connected(count: int, edges) -> bool:
    """Is the graph on 0..count-1 with these edges connected?"""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if count <= 1:
        return True
    pairs = np.array(list(edges), dtype=int).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(count, count))
    return connected_components(graph, directed=False)[0] == 1
