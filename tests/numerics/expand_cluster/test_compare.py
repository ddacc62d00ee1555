"""Teacher comparison: dissimilarities of orthogonal and zero vectors, matching, signs, excess neurons."""

import numpy as np
import pytest

from gradflow.numerics.expand_cluster import compare_to_teacher, dissimilarity
from gradflow.numerics.expand_cluster.compare import FLOOR
from gradflow.theory.errors import ParameterError


def test_orthogonal_and_zero_vectors_are_at_distance_one():
    assert dissimilarity([[1.0, 0.0]], [[0.0, 2.0]], True)[0, 0] == 1.0
    assert dissimilarity([[1.0, 0.0]], [[0.0, 0.0]], True)[0, 0] == 1.0
    assert dissimilarity([[0.0, 0.0]], [[0.0, 0.0]], False)[0, 0] == 1.0
    assert FLOOR <= dissimilarity([[1.0, 1.0]], [[-2.0, -2.0]], True)[0, 0] <= 1e-15
    assert dissimilarity([[1.0, 1.0]], [[-2.0, -2.0]], False)[0, 0] == pytest.approx(2.0, abs=1e-15)


def test_comparison_orders_matches_and_flags():
    teacher_v = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, -1.0]])
    teacher_a = np.array([[0.5], [-2.0]])  # the second teacher neuron has the larger outgoing norm
    rec_v = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 1.0], [-1.0, 0.0, -0.5]])
    rec_a = np.array([[0.3], [2.0], [-0.5]])
    c = compare_to_teacher(teacher_v, teacher_a, rec_v, rec_a, "odd")
    assert c.order.tolist() == [1, 0] and c.matches.tolist() == [1, 2]
    assert np.all(c.d_w <= 1e-15) and np.all(c.d_w >= FLOOR)
    assert c.signs.tolist() == [-1.0, -1.0] and c.a_error.max() <= 1e-15
    np.testing.assert_allclose(c.matched_vectors, teacher_v[[1, 0]], atol=1e-15)
    assert c.excess.tolist() == [0] and c.excess_flagged.tolist() == [0]
    none = compare_to_teacher(teacher_v, teacher_a, rec_v, rec_a, "none")
    assert none.d_w.max() > 0.1  # no sign symmetry: the flipped copies do not match
    assert c.to_json()["matches"] == [1, 2]


def test_mask_hides_coordinates_and_relu_compares_directions():
    teacher_v, teacher_a = np.array([[1.0, 2.0, 7.0]]), np.array([[1.0]])
    rec_v, rec_a = np.array([[2.0, 4.0, -3.0]]), np.array([[0.5]])
    masked = compare_to_teacher(teacher_v, teacher_a, rec_v, rec_a, "odd", mask=[1, 1, 0])
    assert masked.d_w[0] <= 1e-15
    relu = compare_to_teacher(teacher_v[:, :2], teacher_a, rec_v[:, :2], rec_a, "even_linear_positive_scaling")
    assert relu.d_w[0] <= 1e-15 and relu.a_error[0] <= 1e-15  # (2v, a/2) is the same ReLU neuron


def test_nothing_reconstructed_and_bad_shapes():
    c = compare_to_teacher(np.eye(2), np.ones((2, 1)), np.zeros((0, 2)), np.zeros((0, 1)), "odd")
    assert c.matches.tolist() == [-1, -1] and c.d_w.tolist() == [1.0, 1.0] and c.excess.size == 0
    with pytest.raises(ParameterError, match="^rec_incoming:"):
        compare_to_teacher(np.eye(2), np.ones((2, 1)), np.eye(3), np.ones((3, 1)), "odd")
    with pytest.raises(ParameterError, match="^rec_outgoing:"):
        compare_to_teacher(np.eye(2), np.ones((2, 1)), np.eye(2), np.ones((2, 2)), "odd")
    with pytest.raises(ParameterError, match="^mask:"):
        compare_to_teacher(np.eye(2), np.ones((2, 1)), np.eye(2), np.ones((2, 1)), "odd", mask=[1, 1, 1])


def test_json_of_options_and_comparison_is_plain():
    import json
    from gradflow.numerics.expand_cluster import ClusteringOptions
    c = compare_to_teacher(np.eye(2), np.ones((2, 1)), np.eye(3)[:, :2], np.array([[1.0], [0.5], [0.05]]), "odd")
    data = json.loads(json.dumps(c.to_json()))
    assert data["matches"] == [0, 1] and data["excess"] == [2] and data["excess_flagged"] == []
    assert json.loads(json.dumps(ClusteringOptions(variant={"e", "a"}).to_json()))["variant"] == "ae"
