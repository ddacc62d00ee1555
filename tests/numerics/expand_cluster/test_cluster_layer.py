"""Clustering students: split teachers collapse back, symmetries and permutations change nothing, the
alignment threshold, the best-k collapse, synthetic student sets recover the teacher."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from gradflow.numerics.expand_cluster import (ClusteringOptions, cluster_layer, compare_to_teacher, student_layer,
                                              synthetic_students)
from gradflow.numerics.mlp.embeddings import split_neuron
from gradflow.theory.mlp.activations import activation
from gradflow.theory.mlp.network import Layer, Network

from tests.numerics.expand_cluster.cases import CLASS, shallow, sort_rows


def _teacher_net(rng, d=2, r=3, sigma="tanh"):
    net = Network(d, (Layer(r, tuple(activation(sigma) for _ in range(r)), True),
                      Layer(1, (activation("identity"),), True)))
    return net, rng.standard_normal(net.n_params)


def _forward(net, theta, X):
    V, A = student_layer(net, theta)
    c = net.unflatten(theta)[1][0, -1]
    return shallow("tanh", V[0], A[0], X, c)


def test_split_teacher_collapses_back_to_one_neuron_per_teacher_neuron():
    rng = np.random.default_rng(3)
    net, theta = _teacher_net(rng)
    X = rng.standard_normal((50, 2))
    thetas = []
    for _ in range(6):
        student, t = net, theta
        for i in range(3):  # every neuron split once, with its own share
            student, t = split_neuron(student, t, 1, i, float(rng.uniform(0.1, 0.9)))
        np.testing.assert_allclose(_forward(student, t, X), _forward(net, theta, X), atol=1e-12, rtol=0)
        thetas.append(t)
    V, A = student_layer(student, np.array(thetas))
    assert V.shape == (6, 6, 3) and A.shape == (6, 6, 1)
    result = cluster_layer(V, A, rng.random(6), "odd")
    assert result.K == 3
    Vt, At = student_layer(net, theta)
    signs = np.where(Vt[0, :, 0] < 0, -1.0, 1.0)  # the canonical sign: first coordinate positive
    expected = sort_rows(Vt[0] * signs[:, None], At[0] * signs[:, None])
    got = sort_rows(result.incoming, result.outgoing)
    np.testing.assert_allclose(got[0], expected[0], atol=1e-12, rtol=0)
    np.testing.assert_allclose(got[1], expected[1], atol=1e-9, rtol=0)


def test_single_neuron_teacher_split_many_times():
    rng = np.random.default_rng(4)
    net, theta = _teacher_net(rng, r=1)
    thetas = []
    for _ in range(4):
        student, t = split_neuron(net, theta, 1, 0, float(rng.uniform(0.1, 0.9)))
        student, t = split_neuron(student, t, 1, 1, float(rng.uniform(0.1, 0.9)))
        thetas.append(t)
    V, A = student_layer(student, np.array(thetas))
    result = cluster_layer(V, A, rng.random(4), "odd")
    a_star = student_layer(net, theta)[1][0, 0, 0] * np.sign(theta[0])
    assert result.K == 1 and result.clusters[0].size == 12
    assert abs(result.outgoing[0, 0] - a_star) <= 1e-9


def _base(cls, seed):
    rng = np.random.default_rng(seed)
    S = synthetic_students(rng, d=3, r_star=3, N=6, zeros=(1, 3), activation_class="odd")
    return rng, S


def _transformed(cls, rng, V, A):
    """Allowed per-neuron transformations of each class, then a permutation of each student's neurons."""
    V, A = V.copy(), A.copy()
    flip = rng.random(V.shape[:2]) < 0.5
    if cls in ("odd", "odd_constant"):
        V[flip], A[flip] = -V[flip], -A[flip]
    elif cls.startswith("even_linear"):
        V[flip] = -V[flip]
    if cls == "even_linear_positive_scaling":
        k = rng.uniform(0.2, 5.0, V.shape[:2])
        V, A = V * k[..., None], A / k[..., None]
    for n in range(len(V)):
        order = rng.permutation(V.shape[1])
        V[n], A[n] = V[n, order], A[n, order]
    return V, A


@settings(max_examples=25, deadline=None)
@given(cls=st.sampled_from(list(CLASS.values())), seed=st.integers(0, 10 ** 6),
       variant=st.sampled_from(["code", "robust", "e"]))
def test_symmetries_and_permutations_leave_the_reconstruction_unchanged(cls, seed, variant):
    rng, S = _base(cls, seed)
    options = ClusteringOptions(variant=variant)
    first = cluster_layer(S.incoming, S.outgoing, S.losses, cls, options)
    V, A = _transformed(cls, rng, S.incoming, S.outgoing)
    second = cluster_layer(V, A, S.losses, cls, options)
    assert first.K == second.K
    a, b = sort_rows(first.incoming, first.outgoing, first.winners), sort_rows(second.incoming, second.outgoing,
                                                                              second.winners)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-12, rtol=0)


def test_relu_normalisation_keeps_the_function_and_gives_unit_vectors():
    rng = np.random.default_rng(5)
    V, A = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 1))
    result = cluster_layer(V, A, np.zeros(2), "even_linear_positive_scaling", ClusteringOptions(gamma=1.0))
    F = result.features
    np.testing.assert_allclose(np.linalg.norm(F.vectors, axis=1), 1.0, atol=1e-15)
    X = rng.standard_normal((30, 2))
    for n in range(2):
        rows = F.students == n
        np.testing.assert_allclose(shallow("relu", F.vectors[rows] * F.signs[rows, None], F.outgoing[rows], X),
                                   shallow("relu", V[n], A[n], X), atol=1e-12, rtol=0)


def test_sign_of_zero_is_plus_one_and_mask_chooses_the_sign_coordinate():
    V = np.array([[[0.0, -1.0, 2.0]], [[0.0, -1.0, 2.0]]])
    A = np.ones((2, 1, 1))
    plain = cluster_layer(V, A, [0, 1], "odd", ClusteringOptions(gamma=1.0))
    np.testing.assert_array_equal(plain.incoming[0], [0.0, -1.0, 2.0])
    masked = cluster_layer(V, A, [0, 1], "odd", ClusteringOptions(gamma=1.0, mask=(0, 1, 1)))
    np.testing.assert_array_equal(masked.incoming[0], [0.0, 1.0, -2.0])
    assert masked.outgoing[0, 0] == -1.0


def test_small_angles_are_kept_and_large_ones_dropped():
    close = np.array([[1, 0, 0], [1, 0.1, 0], [1, 0, 0.1]], dtype=float)[:, None, :]
    kept = cluster_layer(close, np.ones((3, 1, 1)), np.arange(3.0), "odd", ClusteringOptions(gamma=1.0))
    assert kept.K == 1 and kept.clusters[0].median_cosine_distance == pytest.approx(4.96281e-3, rel=1e-5)
    spread = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1]], dtype=float)[:, None, :]
    dropped = cluster_layer(spread, np.ones((3, 1, 1)), np.arange(3.0), "odd", ClusteringOptions(gamma=1.0))
    assert dropped.K == 0 and dropped.clusters[0].reason == "unaligned"
    assert dropped.a_sum.shape == (3, 0, 1) and dropped.outgoing.shape == (0, 1)


def test_cluster_owned_only_by_the_worst_students_is_dropped():
    rng = np.random.default_rng(6)
    S = synthetic_students(rng, d=3, r_star=2, N=10, zeros=(0, 0), copies=(1, 1))
    ranked = np.argsort(S.losses)
    extra = 0.3 * rng.standard_normal((10, 1, 4))  # scattered zero-output neurons in the best students
    extra[ranked[5:], 0] = 3.0 * rng.standard_normal(4) + 1e-9 * rng.standard_normal((5, 4))  # tight in the rest
    V = np.concatenate([S.incoming, extra], axis=1)
    A = np.concatenate([S.outgoing, np.zeros((10, 1, 1))], axis=1)
    A[ranked[5:], -1] = 1.0
    result = cluster_layer(V, A, S.losses, "odd")
    assert result.K == 2
    dropped = [c for c in result.clusters if c.reason == "no_best5"]
    assert len(dropped) == 1 and set(dropped[0].members) == \
        {int(n) * 3 + 2 for n in ranked[5:]}
    assert all(w in ranked[:5] for w in result.winners)


def test_each_student_keeps_its_summed_outgoing_weights():
    rng = np.random.default_rng(7)
    S = synthetic_students(rng, d=3, r_star=3, N=6, zeros=(1, 2))
    result = cluster_layer(S.incoming, S.outgoing, S.losses, "odd", last_layer=False)
    assert result.outgoing is None and result.a_sum.shape == (6, 3, 1)
    for c, kept in enumerate(result.kept):
        sums = result.a_sum[:, c, 0]
        owner = S.owner.ravel()[list(kept.members)][0]
        np.testing.assert_allclose(sums * np.sign(S.teacher_incoming[owner, 0]), S.teacher_outgoing[owner, 0],
                                   atol=1e-6)


def test_synthetic_tanh_students_recover_the_teacher():
    successes = 0
    for seed in range(25):
        S = synthetic_students(np.random.default_rng(seed))
        result = cluster_layer(S.incoming, S.outgoing, S.losses, "odd")
        comparison = compare_to_teacher(S.teacher_incoming, S.teacher_outgoing, result.incoming, result.outgoing,
                                        "odd")
        successes += result.K == 5 and comparison.max_d_w <= 1e-6
    assert successes >= 23  # at least 90 % of the draws


@pytest.mark.parametrize("options", [ClusteringOptions(linkage="complete"), ClusteringOptions(metric="cosine")])
def test_linkage_options_recover_the_teacher(options):
    for seed in range(3):
        S = synthetic_students(np.random.default_rng(seed))
        result = cluster_layer(S.incoming, S.outgoing, S.losses, "odd", options)
        comparison = compare_to_teacher(S.teacher_incoming, S.teacher_outgoing, result.incoming, result.outgoing,
                                        "odd")
        assert result.K == 5 and comparison.max_d_w <= 1e-6 and comparison.a_error.max() <= 1e-5
    assert result.cut.forced == (options.metric == "cosine")


@pytest.mark.parametrize("variant", ["robust", "abcde"])
def test_robust_variants_recover_a_low_dimensional_teacher(variant):
    # in four dimensions the zero-output neurons crowd the teacher's; every student holds each neuron once
    for seed in range(3):
        S = synthetic_students(np.random.default_rng(seed), d=4, r_star=3, copies=(1, 1))
        result = cluster_layer(S.incoming, S.outgoing, S.losses, "odd", ClusteringOptions(variant=variant, gamma=0.6))
        comparison = compare_to_teacher(S.teacher_incoming, S.teacher_outgoing, result.incoming, result.outgoing,
                                        "odd")
        assert result.K == 3 and comparison.max_d_w <= 1e-6 and comparison.a_error.max() <= 1e-5


def test_variant_a_prunes_zero_output_neurons():
    S = synthetic_students(np.random.default_rng(2), d=3, r_star=2, N=6, zeros=(2, 4))
    result = cluster_layer(S.incoming, S.outgoing, S.losses, "odd", ClusteringOptions(variant="a"))
    np.testing.assert_array_equal(result.points, np.flatnonzero(S.owner.ravel() >= 0))
    assert result.linkage.shape == (result.points.size - 1, 4)


def test_variant_b_counts_distinct_students():
    rng = np.random.default_rng(3)
    V = 0.3 * rng.standard_normal((6, 3, 3))
    V[:2] = 2.0 + 1e-8 * rng.standard_normal((2, 3, 3))  # three copies each in two students only
    A = np.ones((6, 3, 1))
    code = cluster_layer(V, A, np.arange(6.0), "odd")
    distinct = cluster_layer(V, A, np.arange(6.0), "odd", ClusteringOptions(variant="b"))
    assert [c.size for c in code.kept] == [6]
    tight = [c for c in distinct.clusters if set(c.members) == set(range(6))]
    assert len(tight) == 1 and tight[0].reason == "few_students" and distinct.K == 0


def test_variant_c_drops_cancelling_covert_pairs():
    rng = np.random.default_rng(4)
    v_star, u = rng.standard_normal(3), rng.standard_normal(3)
    u[0] = abs(u[0])
    a = rng.uniform(0.5, 1.5, (6, 1))
    V = np.stack([np.stack([v_star, u, -u]) for _ in range(6)])  # exact: noise would split the pair clusters
    A = np.stack([np.array([[1.0], a[n], a[n]]) for n in range(6)])  # (u, a) and (-u, a): even, cancels to 2 a u.x
    A[:, 2] *= -1.0  # the covert partner carries -a, canonical (u, -a)
    code = cluster_layer(V, A, np.arange(6.0), "even_linear")
    robust = cluster_layer(V, A, np.arange(6.0), "even_linear", ClusteringOptions(variant="c"))
    assert code.K == 2 and robust.K == 1
    assert [c.reason for c in robust.clusters if c.size == 12] == ["cancelled"]


def test_variant_d_counts_only_aligned_clusters():
    S = synthetic_students(np.random.default_rng(0), d=4, r_star=3)
    code = cluster_layer(S.incoming, S.outgoing, S.losses, "odd", ClusteringOptions(gamma=0.6))
    aligned = cluster_layer(S.incoming, S.outgoing, S.losses, "odd", ClusteringOptions(gamma=0.6, variant="d"))
    assert np.all(aligned.counts <= code.counts) and np.any(aligned.counts < code.counts)
    assert aligned.K == aligned.counts[aligned.cut_index]  # every counted cluster is kept (all have a best-5 member)


def test_variant_e_averages_only_members_near_the_medoid():
    rng = np.random.default_rng(5)
    v1, v2 = np.array([1.0, 0.5, -0.2]), np.array([0.3, -2.0, 1.0])
    V = np.stack([np.stack([v1, v2, v2]) for _ in range(6)]) + 1e-9 * rng.standard_normal((6, 3, 3))
    V[0, 2] = v1 + np.array([0.0, 0.02, 0.0])  # a stray vector of the best student inside v1's cluster
    A = np.zeros((6, 3, 1))
    A[:, :2] = 1.0
    losses = np.arange(6.0)
    code = cluster_layer(V, A, losses, "odd", ClusteringOptions(gamma=1.0))
    near = cluster_layer(V, A, losses, "odd", ClusteringOptions(gamma=1.0, variant="e"))
    assert code.K == near.K == 2 and code.winners.tolist() == near.winners.tolist() == [0, 0]
    first = [i for i, c in enumerate(code.kept) if 2 in c.members][0]
    assert np.abs(code.incoming[first] - v1).max() == pytest.approx(0.01, rel=1e-3)
    assert np.abs(near.incoming[first] - v1).max() <= 1e-8


def test_json_is_plain():
    import json
    S = synthetic_students(np.random.default_rng(1))
    data = json.loads(json.dumps(cluster_layer(S.incoming, S.outgoing, S.losses, "odd").to_json()))
    assert {"linkage", "cut_height", "counts", "clusters", "winner", "K"} <= set(data)
    assert data["K"] == len(data["winner"]) == 5 and sum(c["kept"] for c in data["clusters"]) == 5
