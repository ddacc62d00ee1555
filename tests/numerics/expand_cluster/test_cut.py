"""The cut rule: the worked 1-D example, the plateau choice, distinct owners, a forced cut."""

import numpy as np
import pytest
from scipy.cluster.hierarchy import average
from scipy.spatial.distance import pdist

from gradflow.numerics.expand_cluster import cut_rule
from gradflow.numerics.expand_cluster.cut import flat_clusters, plateau_index
from gradflow.theory.errors import ParameterError

POINTS = np.array([0, .01, .03, .06, 1, 1.02, 5, 5.05, 5.12, 10, 20.0])


def test_worked_example_heights_counts_and_cut():
    cut = cut_rule(average(pdist(POINTS[:, None])), 2)
    np.testing.assert_allclose(cut.heights, [.01, .02, .025, .14 / 3, .05, .095, .985, 4.70333, 8.07889, 17.2709],
                               atol=1e-4)
    assert cut.counts.tolist() == [1, 2, 2, 2, 3, 3, 2, 1, 1, 1]
    assert cut.cut_index == 5 and cut.cut_height == pytest.approx(0.095)
    clusters = [set(POINTS[m]) for m in flat_clusters(cut.labels) if m.size >= 2]
    assert sorted(clusters, key=min) == [{0, .01, .03, .06}, {1, 1.02}, {5, 5.05, 5.12}]
    singles = [POINTS[m][0] for m in flat_clusters(cut.labels) if m.size == 1]
    assert sorted(singles) == [10, 20]


@pytest.mark.parametrize("counts, expected", [([1, 2, 2, 2, 3, 3, 2, 1], 5), ([3, 3, 1, 3], 1), ([1, 2, 1, 2, 2], 1),
                                              ([4], 0), ([2, 2, 2], 2)])
def test_plateau_is_the_end_of_the_first_run_of_the_maximum(counts, expected):
    assert plateau_index(np.array(counts)) == expected


def test_distinct_owners_replace_member_counts():
    # the lowest cluster {0, .01, .03, .06} belongs to one owner: it no longer counts
    owners = np.array([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
    cut = cut_rule(average(pdist(POINTS[:, None])), 2, owners=owners)
    assert cut.counts[:6].tolist() == [0, 1, 1, 1, 2, 2]


def test_accept_vetoes_clusters_and_forced_cut_overrides_height():
    Z = average(pdist(POINTS[:, None]))
    vetoed = cut_rule(Z, 2, accept=lambda members: 0 not in members)
    assert vetoed.counts[:6].tolist() == [0, 1, 1, 1, 2, 2]
    forced = cut_rule(Z, 2, forced_height=0.5)
    assert forced.forced and forced.cut_height == 0.5 and forced.cut_index == 5
    assert len(flat_clusters(forced.labels)) == 5


@pytest.mark.parametrize("Z, size, name", [(np.zeros((0, 4)), 2, "linkage"), (np.zeros((3, 3)), 2, "linkage"),
                                           (np.zeros((2, 4)), 0, "min_size")])
def test_bad_input_names_the_parameter(Z, size, name):
    with pytest.raises(ParameterError, match=name):
        cut_rule(Z, size)
