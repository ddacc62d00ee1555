"""idealise: zero / dead / grouped neurons, kink snapping, and the idealised network's output."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.saddle import idealise, network_loss, network_output
from gradflow.theory.activations import ABSOLUTE, RELU, Smooth, leaky_relu
from gradflow.theory.errors import ParameterError

X_A = np.c_[[-1.0, -0.6, -0.1, 0.3, 0.7], np.ones(5)]  # relu-exp-a inputs (x, 1)
Y_A = np.array([0.28, -0.1, 0.03, 0.23, -0.22])


def unit(angle_deg):
    return np.array([np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))])


def test_zero_dead_and_grouped_neurons():
    W = np.array([
        0.9 * unit(80.0), 0.5 * unit(80.0 + 1e-3), 0.3 * unit(80.0 - 1e-3),  # one group, h > 0
        0.4 * unit(150.0), 0.2 * unit(150.0),  # another direction, h < 0
        0.6 * unit(80.0),  # aligned with the first group but h < 0: its own group
        1e-4 * unit(10.0), 2e-4 * unit(200.0),  # zero neurons
        0.5 * unit(-100.0),  # dead: w . x_k = 0.5 (-0.17 x_k - 0.98) < 0 for all inputs
    ])
    H = np.array([0.9, 0.5, 0.3, -0.4, -0.2, -0.6, 1e-4, -1e-4, 0.3])[:, None]
    point = idealise(W, H, X_A, Y_A, RELU)
    assert point.zero_neurons == (6, 7)
    assert point.dead_neurons == (8,)
    assert [g.members for g in point.groups] == [(0, 1, 2), (3, 4), (5,)]
    first, second, third = point.groups
    assert first.output[0] == pytest.approx(0.81 + 0.25 + 0.09)
    assert second.output[0] == pytest.approx(-0.16 - 0.04)
    assert third.output[0] == pytest.approx(-0.36)
    assert np.allclose(first.direction, unit(80.0), atol=1e-6)
    assert first.sign == 1 and second.sign == -1
    # activation pattern of the unit direction at 80 degrees: x cos 80 + sin 80 > 0 for all inputs
    assert first.positive == (0, 1, 2, 3, 4) and first.negative == () and first.kink == ()
    # idealised network: balanced neuron on the first member, zeros elsewhere, dead kept with h = 0
    assert np.allclose(point.W[0], np.sqrt(1.15) * first.direction)
    assert np.allclose(point.H[0], np.sqrt(1.15))
    assert not point.W[[1, 2, 4, 6, 7]].any() and not point.H[[1, 2, 4, 6, 7, 8]].any()
    assert np.array_equal(point.W[8], W[8])
    # the idealised network computes (almost) the same function; the loss is its float loss
    assert np.allclose(network_output(point.W, point.H, X_A, RELU), network_output(W, H, X_A, RELU), atol=1e-6)
    assert point.loss == pytest.approx(network_loss(point.W, point.H, X_A, Y_A, RELU))


def test_near_kink_inputs_are_snapped_onto_the_kink():
    # x_4 = (0.7, 1) at cosine 5e-5 from the neuron's kink
    normal = np.array([-1.0, 0.7]) / np.hypot(1.0, 0.7)  # w . x = 0.7 - x
    x4 = X_A[4] / np.linalg.norm(X_A[4])
    w = normal + 5e-5 * x4
    point = idealise(w[None, :], np.array([[1.0]]), X_A, Y_A, RELU)
    group, = point.groups
    assert group.kink == (4,)
    assert abs(group.direction @ X_A[4]) < 1e-15
    assert np.linalg.norm(group.direction) == pytest.approx(1.0)
    assert group.positive == (0, 1, 2, 3) and group.negative == ()
    # with a tighter tolerance x_4 stays on the positive side
    strict = idealise(w[None, :], np.array([[1.0]]), X_A, Y_A, RELU, kink_tol=1e-5)
    assert strict.groups[0].kink == () and 4 in strict.groups[0].positive


def test_first_plateau_every_neuron_is_zero():
    rng = np.random.default_rng(0)
    W, H = 1e-4 * rng.standard_normal((20, 2)), 1e-4 * rng.standard_normal((20, 1))
    point = idealise(W, H, X_A, Y_A, RELU)
    assert point.groups == () and point.zero_neurons == tuple(range(20)) and point.dead_neurons == ()
    assert point.loss == pytest.approx(np.mean(Y_A ** 2))


def test_dead_only_for_relu():
    W, H = np.array([[0.0, -1.0], [0.0, 1.0]]), np.array([[1.0], [1.0]])  # neuron 0: w . x_k = -1 for all k
    assert idealise(W, H, X_A, Y_A, RELU).dead_neurons == (0,)
    for activation in (ABSOLUTE, leaky_relu(0.1)):
        point = idealise(W, H, X_A, Y_A, activation)
        assert point.dead_neurons == () and len(point.groups) == 2


def test_vector_output_groups_by_output_direction():
    W = np.array([[1.0, 0.5], [2.0, 1.0], [1.0, 0.5]])
    H = np.array([[1.0, 1.0], [0.5, 0.6], [-1.0, 0.2]])  # h_2 . h_0 < 0: not the same group
    Y = np.c_[Y_A, -Y_A]
    point = idealise(W, H, X_A, Y, RELU)
    assert [g.members for g in point.groups] == [(0, 1), (2,)]
    norm = np.linalg.norm(W[0])
    assert np.allclose(point.groups[0].output, H[0] * norm + H[1] * 2 * norm)
    with pytest.raises(ParameterError, match="scalar-output"):
        _ = point.groups[0].sign


def _apart(angles, gap: float = 0.01) -> bool:
    ordered = sorted(angles)
    return all(b - a >= gap for a, b in zip(ordered, ordered[1:] + [ordered[0] + 360.0])) or len(angles) == 1


clusters = st.integers(1, 4).flatmap(lambda k: st.tuples(
    # cluster directions (degrees), kept 0.01 degrees apart around the circle: idealise groups neurons whose
    # cosine exceeds 1 - angle_tol (1e-9 below, about 0.0026 degrees), so closer clusters are one cluster
    st.lists(st.floats(0.0, 360.0), min_size=k, max_size=k).filter(_apart),
    st.lists(st.lists(st.floats(0.1, 2.0), min_size=1, max_size=3), min_size=k, max_size=k),  # member norms
    st.lists(st.sampled_from([-1.0, 1.0]), min_size=k, max_size=k),  # cluster output sign
    st.sampled_from([RELU, ABSOLUTE, leaky_relu(0.2)])))


@settings(max_examples=40, deadline=None)
@given(clusters)
def test_idealised_network_computes_the_same_function(case):
    angles, norms, signs, activation = case
    # replicas along exact directions (w_i = r_i v, h_i = s r_i): collapsing them must not change f
    W = np.array([r * unit(a) for a, rs in zip(angles, norms) for r in rs])
    H = np.array([[s * r] for s, rs in zip(signs, norms) for r in rs])
    point = idealise(W, H, X_A, Y_A, activation, kink_tol=1e-12, angle_tol=1e-9)
    assert point.zero_neurons == ()
    assert sum(len(g.members) for g in point.groups) + len(point.dead_neurons) == len(W)
    assert np.allclose(network_output(point.W, point.H, X_A, activation), network_output(W, H, X_A, activation),
                       atol=1e-12)


def test_bad_input_is_refused():
    W, H = np.array([[1.0, 0.0]]), np.array([[1.0]])
    with pytest.raises(ParameterError, match="activation"):
        idealise(W, H, X_A, Y_A, Smooth("tanh"))
    with pytest.raises(ParameterError, match="zero_tol"):
        idealise(W, H, X_A, Y_A, RELU, zero_tol=0.0)
    with pytest.raises(ParameterError, match="kink_tol"):
        idealise(W, H, X_A, Y_A, RELU, kink_tol=2.0)
    with pytest.raises(ParameterError, match="W"):
        idealise(np.ones((1, 3)), H, X_A, Y_A, RELU)
    with pytest.raises(ParameterError, match="H"):
        idealise(W, np.ones((2, 1)), X_A, Y_A, RELU)
    with pytest.raises(ParameterError, match="Y"):
        idealise(W, H, X_A, Y_A[:3], RELU)
    with pytest.raises(ParameterError, match="W"):
        idealise(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[1.0], [1.0]]), X_A, Y_A, RELU)
