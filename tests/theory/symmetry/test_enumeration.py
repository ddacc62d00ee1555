"""Brute force: K-th order points, intersections of zero-loss subspaces, the intersection graph."""

from itertools import product

import numpy as np
import pytest

from gradflow.theory.errors import ParameterError
from gradflow.theory.symmetry import (all_merging_maps, brute_force_higher_order, critical_count,
                                      distinct_wide_vectors, higher_order_bound, intersection_graph, is_connected,
                                      labellings, labellings_intersect, pair_embeddings, pair_maps)


@pytest.mark.parametrize("widths", [(2, 3), (3, 4), (4, 4), (5,), (6,), (7,), (2, 7)])
@pytest.mark.parametrize("K", [1, 2, 3])
def test_higher_order_formula_equals_brute_force(widths, K):
    assert brute_force_higher_order(widths, K, seed=K) == higher_order_bound(widths, K)


def test_all_fibres_count_at_least_the_pairs():
    for widths, K in [((4, 4), 2), ((6,), 3), ((3, 4), 2)]:
        everything = brute_force_higher_order(widths, K, all_fibres=True)
        assert everything > higher_order_bound(widths, K)
    assert len(all_merging_maps(5, 2)) == critical_count(3, 5)


def test_pair_maps_count_and_shape():
    for n in range(1, 8):
        for K in range(1, 4):
            maps = pair_maps(n, K)
            assert len(maps) == pair_embeddings(n, K)
            assert all(len(set(lam)) == n - K for lam in maps)


def test_distinct_wide_vectors_merges_equal_neurons():
    incoming, outgoing = np.array([[1.0, 2.0], [1.0, 2.0]]), np.array([[1.0], [1.0]])
    # two equal reduced neurons: maps that differ only by swapping them give the same wide vector
    assert distinct_wide_vectors([(0, 1), (1, 0)], incoming, outgoing) == 1
    incoming[1, 0] = 3.0
    assert distinct_wide_vectors([(0, 1), (1, 0)], incoming, outgoing) == 2


def _feasible(first, second, rng):
    """An independent oracle: does a point satisfy both labellings' linear constraints?  Teacher
    w*_i, a*_i random (distinct, non-zero); the unknowns are every w_j (dim 2) and a_j (scalar);
    solve the stacked constraints by least squares and look at the residual."""
    m, r = len(first), max(first)
    w_star, a_star = rng.normal(size=(r + 1, 2)), rng.normal(size=r + 1) + 3.0
    rows, rhs = [], []
    size = 3 * m  # (w_j0, w_j1, a_j) per neuron

    def add(coeffs, value):
        row = np.zeros(size)
        for index, c in coeffs:
            row[index] = c
        rows.append(row)
        rhs.append(value)

    for lam in (first, second):
        for j, i in enumerate(lam):
            if i == 0:
                add([(3 * j + 2, 1.0)], 0.0)
            else:
                add([(3 * j, 1.0)], w_star[i, 0])
                add([(3 * j + 1, 1.0)], w_star[i, 1])
        for i in range(1, r + 1):
            add([(3 * j + 2, 1.0) for j in range(m) if lam[j] == i], a_star[i])
    A, b = np.array(rows), np.array(rhs)
    x, *_ = np.linalg.lstsq(A, b, rcond=None)
    return np.linalg.norm(A @ x - b) < 1e-9


@pytest.mark.parametrize("r, m", [(1, 2), (1, 3), (2, 3), (2, 4), (3, 4), (1, 4)])
def test_intersection_criterion_equals_feasibility(r, m):
    rng = np.random.default_rng(0)
    nodes = labellings(r, m)
    for first, second in product(nodes, repeat=2):
        assert labellings_intersect(first, second) == _feasible(first, second, rng), (first, second)


def test_graph_disconnected_without_extra_neurons():
    for r in (2, 3, 4):
        nodes, edges = intersection_graph(r, r)
        assert edges == [] and not is_connected(len(nodes), edges)


@pytest.mark.parametrize("r, m", [(1, 2), (2, 3), (2, 4), (3, 4), (2, 5), (3, 5), (3, 6)])
def test_graph_connected_with_an_extra_neuron(r, m):
    nodes, edges = intersection_graph(r, m)
    assert is_connected(len(nodes), edges)


def test_figure_anchor():
    nodes, edges = intersection_graph(1, 2)
    assert sorted(nodes) == [(0, 1), (1, 0), (1, 1)]
    assert len(edges) == 2  # both zero-type lines meet the replica line, not each other


def test_bad_input():
    with pytest.raises(ParameterError, match="second"):
        labellings_intersect((1, 0), (1, 0, 1))
    with pytest.raises(ParameterError, match="K"):
        all_merging_maps(3, 3)
    with pytest.raises(ParameterError, match="n"):
        pair_maps(9, 1)
