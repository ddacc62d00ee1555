"""Assembly's correction: sigmoid flips need a bias shift, even+linear flips an affine skip."""

import numpy as np
import pytest

from gradflow.numerics.expand_cluster import ClusteringOptions, assemble_affine, cluster_layer
from gradflow.theory.errors import ParameterError

from tests.numerics.expand_cluster.cases import CLASS, shallow


def _teacher(rng, d=2, r=3):
    return rng.standard_normal((r, d + 1)), rng.uniform(0.5, 1.5, (r, 1)) * rng.choice([-1, 1], (r, 1))


def test_sigmoid_flip_keeps_the_function_and_the_bias_shift_closes_the_gap():
    rng = np.random.default_rng(0)
    V, A = _teacher(rng)
    c, X = 0.3, rng.standard_normal((200, 2))
    y = shallow("sigmoid", V, A, X, c)
    students_v, students_a = [], []
    for _ in range(6):
        flip = rng.random(3) < 0.5
        s = np.where(flip, -1.0, 1.0)[:, None]
        shift = float(A[flip].sum())  # (v, a, c) -> (-v, -a, c + a)
        np.testing.assert_allclose(shallow("sigmoid", V * s, A * s, X, c + shift), y, atol=1e-12, rtol=0)
        share = rng.uniform(0.2, 0.8, (3, 1))
        students_v.append(np.concatenate([V * s, V * s]))
        students_a.append(np.concatenate([A * s * share, A * s * (1 - share)]))
    result = cluster_layer(np.array(students_v), np.array(students_a), rng.random(6), "odd_constant")
    assert result.K == 3
    f_rec = shallow("sigmoid", result.incoming, result.outgoing, X)
    correction = assemble_affine(X, y, f_rec, "odd_constant")
    assert correction.kind == "bias" and correction.theta is None
    residual = y - correction.apply(X, f_rec)
    assert abs(residual.mean()) <= 1e-12 and np.abs(residual).max() <= 1e-12


@pytest.mark.parametrize("sigma", ["relu", "softplus"])
def test_flipped_even_linear_neuron_is_absorbed_by_the_affine_skip(sigma):
    rng = np.random.default_rng(1)
    V, A = _teacher(rng, d=3, r=4)
    X = rng.standard_normal((300, 3))
    y = shallow(sigma, V, A, X)
    flipped = V.copy()
    flipped[1] *= -1.0  # a kept: the function changes by a linear term
    f_flipped = shallow(sigma, flipped, A, X)
    assert np.var(y - f_flipped) > 1e-3
    direct = assemble_affine(X, y, f_flipped, CLASS[sigma])
    assert direct.kind == "affine" and direct.residual <= 1e-20 * np.var(y)
    result = cluster_layer(np.stack([flipped] * 4), np.stack([A] * 4), np.arange(4.0), CLASS[sigma],
                           ClusteringOptions(gamma=1.0))
    assert result.K == 4
    f_rec = shallow(sigma, result.incoming, result.outgoing, X)
    clustered = assemble_affine(X, y, f_rec, CLASS[sigma])
    assert clustered.residual <= 1e-20 * np.var(y)
    np.testing.assert_allclose(clustered.apply(X, f_rec), y, atol=1e-9, rtol=0)


def test_affine_on_a_bias_class_would_leave_a_residual():
    rng = np.random.default_rng(2)
    V, A = _teacher(rng, d=2, r=2)
    X = rng.standard_normal((100, 2))
    y = shallow("relu", V, A, X)
    flipped = V * np.array([[-1.0], [1.0]])
    assert assemble_affine(X, y, shallow("relu", flipped, A, X), "odd").residual > 1e-4


def test_bad_shapes():
    X = np.zeros((5, 2))
    with pytest.raises(ParameterError, match="^y:"):
        assemble_affine(X, np.zeros(4), np.zeros(5), "odd")
    with pytest.raises(ParameterError, match="^f_rec:"):
        assemble_affine(X, np.zeros((5, 2)), np.zeros(5), "odd")
    with pytest.raises(ParameterError, match="^activation_class:"):
        assemble_affine(X, np.zeros(5), np.zeros(5), "sigmoid")
