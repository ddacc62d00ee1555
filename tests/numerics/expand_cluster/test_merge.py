"""Variant g: a teacher neuron split radially in some students ((1 + e) v and (1 - e) v, half the weight each)
forms two tight clusters; the merge makes them one with the whole outgoing weight; distinct neurons stay apart."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gradflow.numerics.expand_cluster import ClusteringOptions, cluster_layer
from gradflow.numerics.expand_cluster.merge import split_groups
from gradflow.theory.errors import ParameterError

SPLIT = 2e-4  # the radial half-split zero-loss tanh students were seen to keep


def _split_students(rng, n_students=10, split_in=5):
    """Teacher of 3 tanh neurons in 3 inputs; every student holds neurons 1 and 2 once; neuron 0 is held once
    at (1 + e) v by the last students and as the pair (1 + e) v, (1 - e) v with a / 2 each by the first."""
    V = rng.standard_normal((3, 4))
    V[:, 0] = np.abs(V[:, 0]) + 0.5  # canonical signs (first coordinate positive)
    a = rng.choice([-1.0, 1.0], 3) * rng.uniform(0.5, 1.5, 3)
    incoming, outgoing = [], []
    for n in range(n_students):
        rows, weights = [V[1], V[2], (1 + SPLIT) * V[0]], [a[1], a[2], a[0]]
        if n < split_in:
            rows.append((1 - SPLIT) * V[0])
            weights = [a[1], a[2], a[0] / 2, a[0] / 2]
        else:
            rows.append(rng.standard_normal(4))  # a zero-type neuron: no outgoing weight
            weights.append(0.0)
        order = rng.permutation(4)
        incoming.append(np.array(rows)[order])  # exact copies: noise could split a 10-member cluster in halves
        outgoing.append(np.array(weights)[order, None])
    return V, a, np.array(incoming), np.array(outgoing)


@pytest.mark.parametrize("seed", range(5))
def test_a_radially_split_neuron_is_one_cluster_after_the_merge(seed):
    V, a, incoming, outgoing = _split_students(np.random.default_rng(seed))
    losses = np.arange(10.0)
    robust = cluster_layer(incoming, outgoing, losses, "odd", ClusteringOptions(variant="robust"))
    merged = cluster_layer(incoming, outgoing, losses, "odd", ClusteringOptions(variant="abcg"))
    assert robust.K == 4 and merged.K == 3
    assert [c.reason for c in merged.clusters].count("merged") == 1
    row = int(np.argmin(np.linalg.norm(merged.incoming - V[0], axis=1)))
    assert np.linalg.norm(merged.incoming[row] - V[0]) <= 2 * SPLIT * np.linalg.norm(V[0])
    assert merged.outgoing[row, 0] == pytest.approx(a[0], abs=1e-9)  # both halves' weights summed


vectors = st.lists(st.floats(-3, 3, allow_nan=False), min_size=4, max_size=4).map(np.array).filter(
    lambda v: np.linalg.norm(v) > 0.5)


@settings(max_examples=50)
@given(centres=st.lists(vectors, min_size=2, max_size=6), shrink=st.floats(0.0, 0.4))
def test_copies_within_the_fraction_merge_and_distinct_centres_do_not(centres, shrink):
    centres = np.array(centres)
    fraction = 1e-2
    norms = np.linalg.norm(centres, axis=1)
    relative = np.linalg.norm(centres[:, None] - centres[None], axis=2) / np.maximum(norms[:, None], norms[None])
    far = relative[np.triu_indices(len(centres), 1)].min() > 3 * fraction  # distinct well beyond the threshold
    copies = centres * (1 + shrink * fraction)  # each at relative distance shrink * fraction / (1 + ...) < fraction
    labels = split_groups(np.r_[centres, copies], fraction)
    n = len(centres)
    assert np.all(labels[:n] == labels[n:])
    if far:
        assert len(np.unique(labels)) == n


def test_merge_fraction_range():
    with pytest.raises(ParameterError, match="merge_fraction"):
        ClusteringOptions(merge_fraction=-0.1)
