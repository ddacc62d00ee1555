"""``--data`` and ``--init`` files: what is accepted, and one clear error for each bad file."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from gradflow.derivations.mlp.files import load_data, load_init
from gradflow.derivations.mlp.layers import parse_layers
from gradflow.theory.errors import ParameterError

REGRESSION = parse_layers("2,3:tanh,2")
CLASSIFIER = parse_layers("2,3:tanh,3:softmax")


def _save(tmp_path, **arrays):
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return path


def test_regression_and_classification_data_are_read(tmp_path):
    X, Y = np.arange(10.0).reshape(5, 2), np.ones((5, 2))
    data = load_data(_save(tmp_path, X=X, Y=Y, w=np.full(5, 0.5)), REGRESSION)
    assert data.n_samples == 5 and np.array_equal(data.X, X) and np.array_equal(data.Y, Y)
    assert np.array_equal(data.weights, np.full(5, 0.5))
    data = load_data(_save(tmp_path, X=X, y=np.array([0, 2, 1, 1, 0])), CLASSIFIER)
    assert data.Y.dtype == np.int64 and data.weights is None


@pytest.mark.parametrize("arrays, words", [
    ({"Y": np.ones((5, 2))}, "with X"),
    ({"X": np.ones((5, 3)), "Y": np.ones((5, 2))}, "X of shape (N, 2)"),
    ({"X": np.ones((5, 2))}, "Y (N x k_L targets) or y"),
    ({"X": np.ones((5, 2)), "Y": np.ones((5, 1))}, "Y of shape (5, 2)"),
    ({"X": np.ones((5, 2)), "Y": np.ones((4, 2))}, "Y of shape (5, 2)"),
    ({"X": np.array([[1.0, np.nan]] * 5), "Y": np.ones((5, 2))}, "X finite (it is nan at index (0, 1))"),
    ({"X": np.ones((5, 2)), "Y": np.full((5, 2), np.inf)}, "Y finite"),
    ({"X": np.ones((5, 2)), "Y": np.ones((5, 2)), "w": -np.ones(5)}, "sample weights w >= 0 (w[0] = -1.0)"),
    ({"X": np.ones((5, 2)), "Y": np.ones((5, 2)), "w": np.ones(4)}, "w of shape (5,)"),
    ({"X": np.ones((5, 2)), "y": np.zeros(5, int)}, "without a softmax output"),
    ({"X": np.array([["a", "b"]] * 5), "Y": np.ones((5, 2))}, "X holding numbers"),
])
def test_bad_regression_data(tmp_path, arrays, words):
    with pytest.raises(ParameterError) as info:
        load_data(_save(tmp_path, **arrays), REGRESSION)
    assert info.value.parameter == "--data" and words in str(info.value), str(info.value)


@pytest.mark.parametrize("arrays, words", [
    ({"X": np.ones((3, 2)), "y": np.array([0, 3, 1])}, "labels in 0..2 for 3 classes (y[1] = 3)"),
    ({"X": np.ones((3, 2)), "y": np.array([0, -1, 1])}, "(y[1] = -1)"),
    ({"X": np.ones((3, 2)), "y": np.array([0.0, 1.0, 1.0])}, "integer labels"),
    ({"X": np.ones((3, 2)), "Y": np.full((3, 3), 0.5)}, "probabilities"),
    ({"X": np.ones((3, 2)), "Y": np.ones((3, 3)), "y": np.zeros(3, int)}, "not both"),
])
def test_bad_classification_data(tmp_path, arrays, words):
    with pytest.raises(ParameterError) as info:
        load_data(_save(tmp_path, **arrays), CLASSIFIER)
    assert info.value.parameter == "--data" and words in str(info.value), str(info.value)


def test_files_that_are_not_npz_archives(tmp_path):
    with pytest.raises(ParameterError, match="--data: must be an existing .npz file"):
        load_data(tmp_path / "missing.npz", REGRESSION)
    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    with pytest.raises(ParameterError, match="not a single array"):
        load_data(single, REGRESSION)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ParameterError, match="--data: must be a readable .npz file"):
        load_data(garbage, REGRESSION)


def test_pickled_objects_are_never_loaded(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, X=np.array([object()] * 2, dtype=object), Y=np.ones((2, 2)))
    with pytest.raises(ParameterError, match="--data: must be a readable .npz file"):
        load_data(path, REGRESSION)
    assert pickle  # the archive holds a pickle: allow_pickle=False refuses it


def test_init_for_one_network_and_for_an_ensemble(tmp_path):
    path = tmp_path / "init.npz"
    np.savez(path, theta=np.arange(5.0))
    assert np.array_equal(load_init(path, 5, 1), np.arange(5.0))
    assert load_init(path, 5, 3).shape == (3, 5)
    np.savez(path, theta=np.ones((3, 5)))
    assert load_init(path, 5, 3).shape == (3, 5)
    with pytest.raises(ParameterError, match=r"--init: must be theta of shape \(5,\) for this network \(it has shape \(3, 5\)\)"):
        load_init(path, 5, 1)
    np.savez(path, theta=np.array([1.0, np.inf, 0, 0, 0]))
    with pytest.raises(ParameterError, match="--init: must be theta finite"):
        load_init(path, 5, 1)
    np.savez(path, weights=np.ones(5))
    with pytest.raises(ParameterError, match="--init: must be an .npz with theta"):
        load_init(path, 5, 1)
