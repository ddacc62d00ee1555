"""Every clustering figure draws and writes a non-empty PNG."""

import numpy as np
import pytest

from gradflow.derivations.expand_cluster import figures
from gradflow.derivations.expand_cluster.figures import _node_labels
from gradflow.numerics.expand_cluster import ClusteringOptions, cluster_layer, compare_to_teacher, synthetic_students


@pytest.fixture(scope="module")
def clustered():
    S = synthetic_students(np.random.default_rng(0), d=4, r_star=3, N=6)
    layer = cluster_layer(S.incoming, S.outgoing, S.losses, "odd", ClusteringOptions())
    comparison = compare_to_teacher(S.teacher_incoming, S.teacher_outgoing, layer.incoming, layer.outgoing, "odd")
    return layer, comparison


@pytest.mark.parametrize("name", ["dendrogram", "distance_matrix", "cluster_counts", "alignment_bars"])
def test_layer_figures_write_png(clustered, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig = getattr(figures, name)(clustered[0], path)
    assert fig.axes and path.stat().st_size > 1000


@pytest.mark.parametrize("name", ["matched_weights", "match_distances"])
def test_comparison_figures_write_png(clustered, tmp_path, name):
    path = tmp_path / f"{name}.png"
    getattr(figures, name)(clustered[1], path)
    assert path.stat().st_size > 1000


def test_dendrogram_nodes_take_their_flat_cluster(clustered):
    layer = clustered[0]
    node = _node_labels(layer.linkage, layer.cut.labels)
    n = len(layer.points)
    below = layer.linkage[:, 2] <= layer.cut_height
    assert np.all(node[n:][below] >= 1) and np.all(node[n:][~below] == -1)
