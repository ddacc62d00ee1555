"""Pairwise cosine distances against a plain NumPy 1 - cos, zero vectors, the median."""

import numpy as np
import pytest

from gradflow.numerics.expand_cluster import cosine_distances, median_cosine_distance


def test_against_one_minus_cos():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 4))
    cos = X @ X.T / np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(X, axis=1))
    i, j = np.triu_indices(7, 1)
    np.testing.assert_allclose(cosine_distances(X), 1 - cos[i, j], atol=1e-14, rtol=0)


def test_zero_vectors_and_small_sets():
    d = cosine_distances([[1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(d, [1.0, 2.0, 1.0])
    assert median_cosine_distance([[1.0, 2.0]]) == 0.0
    assert median_cosine_distance([[1, 0, 0], [1, 0.1, 0], [1, 0, 0.1]]) == pytest.approx(1 - 1 / np.sqrt(1.01))


def test_nearly_parallel_vectors_keep_their_tiny_distance():
    eps = 1e-9
    d = cosine_distances([[1.0, 0.0], [1.0, eps]])[0]
    assert d == pytest.approx(eps ** 2 / 2, rel=1e-6)  # 1 - cos would round to 0
