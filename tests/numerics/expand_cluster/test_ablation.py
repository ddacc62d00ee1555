"""Mean ablation (variant f): the effect against a plain NumPy formula in the last hidden layer, zero for
neurons that carry nothing to the output however large their weights, and the filter it drives."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gradflow.numerics.expand_cluster import ClusteringOptions, MeanAblation, cluster_layer, student_layer
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp.network import Layer, Network

from tests.numerics.expand_cluster.cases import shallow


def _rms(values):
    return float(np.sqrt(np.mean(np.sum(np.asarray(values) ** 2, axis=1))))


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), subset=st.lists(st.integers(0, 4), min_size=1, max_size=5, unique=True))
def test_last_hidden_layer_effect_is_the_centred_weighted_sum(seed, subset):
    rng = np.random.default_rng(seed)
    net = Network(3, (Layer(5, "tanh"), Layer(2, "identity")))
    theta = rng.standard_normal(net.n_params)
    X = rng.standard_normal((200, 3))
    V, A = student_layer(net, theta)
    c = net.unflatten(theta)[1][:, -1]
    f = shallow("tanh", V[0], A[0], X, c)
    H = np.tanh(np.column_stack([X, np.ones(len(X))]) @ V[0].T)
    centred = H[:, subset] - H[:, subset].mean(axis=0)
    expected = _rms(centred @ A[0][subset]) / _rms(f - f.mean(axis=0))
    assert MeanAblation(net, theta[None], X, 1).effect(0, subset) == pytest.approx(expected, rel=1e-12)


def test_zero_outgoing_weights_and_cancelling_duplicates_have_no_effect():
    rng = np.random.default_rng(0)
    net = Network(2, (Layer(4, "tanh"), Layer(1, "identity")))
    W1, W2 = (rng.standard_normal(shape) for shape in net.shapes)
    W1[1] = W1[0]  # neurons 0 and 1 duplicates with outgoing weights a and -a
    W2[0, 1] = -W2[0, 0]
    W2[0, 3] = 0.0
    ablation = MeanAblation(net, net.flatten([W1, W2])[None], rng.standard_normal((100, 2)), 1)
    assert ablation.effect(0, [0, 1]) < 1e-15 and ablation.effect(0, [3]) == 0.0
    assert ablation.effect(0, [0]) > 1e-2 and ablation.effect(0, [2]) > 1e-2


def _deep_students(rng, n_students=6):
    """A 2-3-2-1 tanh teacher as students: neurons permuted, plus a layer-1 neuron with w = 0 (a constant
    output) and large weights into layer 2, whose constant the layer-2 biases cancel (same function)."""
    net = Network(2, (Layer(3, "tanh"), Layer(2, "tanh"), Layer(1, "identity")))
    W1, W2, W3 = (rng.standard_normal(shape) for shape in net.shapes)
    wide = Network(2, (Layer(4, "tanh"), Layer(2, "tanh"), Layer(1, "identity")))
    thetas = []
    for _ in range(n_students):
        order = rng.permutation(4)
        V = np.r_[W1, [[0.0, 0.0, 0.5]]]
        out = 3.0 * rng.standard_normal(2)
        U = np.c_[W2[:, :3], out, W2[:, 3] - out * np.tanh(0.5)]
        thetas.append(wide.flatten([V[order], np.c_[U[:, order], U[:, 4]], W3]))
    X = rng.standard_normal((300, 2))
    np.testing.assert_allclose(wide.forward(thetas[0], X), net.forward(net.flatten([W1, W2, W3]), X), atol=1e-12)
    return wide, np.array(thetas), X


def test_a_constant_neuron_with_large_weights_has_no_effect_two_layers_down():
    wide, thetas, X = _deep_students(np.random.default_rng(1))
    incoming, outgoing = student_layer(wide, thetas)
    constant = int(np.flatnonzero(np.all(incoming[0, :, :2] == 0, axis=1))[0])
    assert np.linalg.norm(outgoing[0, constant]) > 0.1
    ablation = MeanAblation(wide, thetas, X, 1)
    assert ablation.effect(0, [constant]) < 1e-14
    assert min(ablation.effect(0, [j]) for j in range(4) if j != constant) > 1e-2


def test_variant_f_drops_the_cluster_that_the_weight_tests_keep():
    wide, thetas, X = _deep_students(np.random.default_rng(2))
    incoming, outgoing = student_layer(wide, thetas)
    losses = np.arange(len(thetas), dtype=float)
    robust = cluster_layer(incoming, outgoing, losses, "odd", ClusteringOptions(variant="robust"), last_layer=False)
    filtered = cluster_layer(incoming, outgoing, losses, "odd", ClusteringOptions(variant="abcf"),
                             last_layer=False, ablation=MeanAblation(wide, thetas, X, 1))
    assert robust.K == 4 and filtered.K == 3
    dropped = [c for c in filtered.clusters if c.reason == "negligible"]
    assert len(dropped) == 1 and dropped[0].distinct_students == len(thetas)
    assert np.all(np.abs(incoming.reshape(-1, 3)[list(dropped[0].members), :2]) == 0)


def test_variant_f_needs_the_students_and_its_fraction_a_range():
    wide, thetas, X = _deep_students(np.random.default_rng(3), n_students=4)
    incoming, outgoing = student_layer(wide, thetas)
    with pytest.raises(ParameterError, match="variant"):
        cluster_layer(incoming, outgoing, np.arange(4.0), "odd", ClusteringOptions(variant="f"), last_layer=False)
    with pytest.raises(ParameterError, match="ablation_fraction"):
        ClusteringOptions(ablation_fraction=1.5)
    with pytest.raises(ParameterError, match="layer"):
        MeanAblation(wide, thetas, X, 3)
