"""Gauss-Hermite data: weighted means are Gaussian expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradflow.numerics.mlp.population import gauss_hermite_data
from gradflow.theory.errors import ParameterError


@pytest.mark.parametrize("d", [1, 2])
def test_weighted_means_are_gaussian_moments(d):
    X, w = gauss_hermite_data(d, 60)
    assert X.shape == (len(w), d) and np.all(w > 0)
    assert np.mean(w) == pytest.approx(1.0, abs=1e-12)
    for k in range(d):
        assert np.mean(w * X[:, k] ** 2) == pytest.approx(1.0, abs=1e-12)
        assert np.mean(w * X[:, k] ** 4) == pytest.approx(3.0, abs=1e-11)
        assert abs(np.mean(w * X[:, k] ** 3)) <= 1e-12
    # E cos(x1) = exp(-1/2) per dimension, a smooth non-polynomial integrand
    assert np.mean(w * np.prod(np.cos(X), axis=1)) == pytest.approx(math.exp(-d / 2), rel=1e-12)


def test_two_dimensions_are_pruned_and_three_warn():
    X, w = gauss_hermite_data(2, 100)
    assert len(w) < 100 ** 2
    with pytest.warns(UserWarning, match=r"5\^3 tensor-product nodes"):
        X3, _ = gauss_hermite_data(3, 5)
    assert X3.shape[1] == 3


@pytest.mark.parametrize("args, name", [((0, 5), "d"), ((1, 0), "nodes")])
def test_bad_sizes(args, name):
    with pytest.raises(ParameterError) as info:
        gauss_hermite_data(*args)
    assert info.value.parameter == name
