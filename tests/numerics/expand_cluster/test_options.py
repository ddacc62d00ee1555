"""Bad options and bad student arrays raise a ParameterError naming the parameter."""

import math

import numpy as np
import pytest

from gradflow.numerics.expand_cluster import ClusteringOptions, activation_class, cluster_layer, variant_letters
from gradflow.theory.errors import ParameterError


@pytest.mark.parametrize("kwargs, name", [
    ({"gamma": 0.0}, "gamma"), ({"gamma": 1.5}, "gamma"), ({"beta": 0.0}, "beta"), ({"beta": 2.0}, "beta"),
    ({"linkage": "single"}, "linkage"), ({"metric": "cityblock"}, "metric"), ({"variant": "abz"}, "variant"),
    ({"variant": "d", "gamma": 0.5}, "gamma"), ({"best_k": 0}, "best_k"), ({"mask": (0, 0)}, "mask"),
    ({"mask": (0.5, 1)}, "mask"), ({"prune_fraction": 1.0}, "prune_fraction"), ({"medoid_factor": 0}, "medoid_factor")])
def test_bad_options(kwargs, name):
    with pytest.raises(ParameterError, match=f"^{name}:"):
        ClusteringOptions(**kwargs)


def test_variants_and_defaults():
    assert variant_letters("code") == frozenset() and variant_letters("robust") == frozenset("abc")
    assert variant_letters("robust+fg") == frozenset("abcfg")
    assert variant_letters({"a", "e"}) == frozenset("ae") and variant_letters("de") == frozenset("de")
    options = ClusteringOptions()
    assert options.gamma == 0.5 and options.best_k == 5 and options.linkage == "average"
    assert options.max_cosine_distance == pytest.approx(1 - math.cos(math.pi / 6))
    assert options.min_size(10) == 5 and ClusteringOptions(gamma=0.55, variant="b").min_size(10) == 6
    assert ClusteringOptions(mask=np.array([1, 0, 1])).mask == (1.0, 0.0, 1.0)


def test_unknown_class():
    with pytest.raises(ParameterError, match="^activation_class:"):
        activation_class("relu")
    assert activation_class("odd_constant") == "odd_constant"


def _arrays(N=4, k=3, D=2, m=1):
    rng = np.random.default_rng(0)
    return rng.standard_normal((N, k, D)), rng.standard_normal((N, k, m)), rng.random(N)


@pytest.mark.parametrize("change, name", [
    (lambda V, A, L, o: (V[:1], A[:1], L[:1], o), "incoming"),
    (lambda V, A, L, o: (V[:3], A[:3], L[:3], ClusteringOptions(gamma=0.5)), "gamma"),
    (lambda V, A, L, o: (V, A[:, :2], L, o), "outgoing"),
    (lambda V, A, L, o: (V, A, L[:3], o), "losses"),
    (lambda V, A, L, o: (V[0], A, L, o), "incoming"),
    (lambda V, A, L, o: (V, A, L, ClusteringOptions(mask=(1, 0, 1))), "mask"),
    (lambda V, A, L, o: (V * np.nan, A, L, o), "incoming"),
    (lambda V, A, L, o: (V, A, L, {"gamma": 0.5}), "options")])
def test_bad_students(change, name):
    V, A, L, options = change(*_arrays(), ClusteringOptions())
    with pytest.raises(ParameterError, match=f"^{name}:"):
        cluster_layer(V, A, L, "odd", options)
    with pytest.raises(ParameterError, match="^activation_class:"):
        cluster_layer(*_arrays(), "tanh")
