"""exact_plateau_loss against hand values, float least squares and exact evaluation."""

from dataclasses import replace

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space

from gradflow.numerics.saddle import exact_network_loss, exact_plateau_loss, idealise, network_loss, rational_array
from gradflow.theory.activations import ABSOLUTE, RELU, leaky_relu
from gradflow.theory.errors import ParameterError

X_A = np.c_[[-1.0, -0.6, -0.1, 0.3, 0.7], np.ones(5)]  # relu-exp-a
Y_A = np.array([0.28, -0.1, 0.03, 0.23, -0.22])
X_C = np.array([(-0.3, 0.5), (1.0, 1.0), (-0.6, -1.0), (0.4, -0.4)])  # relu-exp-c
Y_C = np.array([(0.6, -0.5), (0.5, -1.0), (-0.4, 0.6), (0.8, 0.2)])
H2_X = np.array([[1.0, 0.0], [0.0, 1.0]])


def float_plateau_loss(point, X, Y, activation):
    """Oracle: the same least-squares problem in floats (scipy null spaces, numpy lstsq)."""
    a_plus, a_minus = float(activation.a_plus), float(activation.a_minus)
    blocks = []
    for g in point.groups:
        gains = np.array([a_plus if k in g.positive else a_minus if k in g.negative else 0.0 for k in range(len(X))])
        basis = null_space(X[list(g.kink)]) if g.kink else np.eye(X.shape[1])
        blocks.append(gains[:, None] * X @ basis)
    if not blocks:
        return float(np.mean(Y ** 2))
    A = np.hstack(blocks)
    z = np.linalg.lstsq(A, Y, rcond=None)[0]
    return float(np.mean((A @ z - Y) ** 2))


def test_rational_array_reads_decimals():
    assert list(rational_array([-0.3, 0.1, 2, sp.Rational(1, 3)])) == [sp.Rational(-3, 10), sp.Rational(1, 10), 2,
                                                                        sp.Rational(1, 3)]
    with pytest.raises(ParameterError, match="finite"):
        rational_array([np.nan])
    with pytest.raises(ParameterError, match="data"):
        rational_array(["0.3"])


def test_h2_width_one_local_minimum():
    # hand example H2: w = (a, 0), h = 1/a, L = 1/2; plus a zero neuron (the saddle of the same loss)
    W, H = np.array([[2.0, 0.0], [1e-7, 0.0]]), np.array([[0.5], [2e-7]])
    point = idealise(W, H, H2_X, [1.0, -1.0], RELU)
    assert point.zero_neurons == (1,) and point.groups[0].kink == (1,)
    exact = exact_plateau_loss(point, H2_X, [1.0, -1.0], RELU)
    assert exact.loss == sp.Rational(1, 2) and exact.loss_string == "1/2" and exact.keeps_pattern
    assert exact.reason is None and exact.violations == () and exact.pinned == ()
    assert list(exact.W_exact[0]) == [1, 0] and exact.H_exact[0, 0] == 1
    assert list(exact.W_exact[1]) == [0, 0] and exact.H_exact[1, 0] == 0
    assert exact_network_loss(exact.W_exact, exact.H_exact, H2_X, [1, -1], RELU) == sp.Rational(1, 2)
    assert np.array_equal(exact.W, [[1.0, 0.0], [0.0, 0.0]])


def test_first_plateau_is_the_mean_square_of_the_targets():
    point = idealise(1e-6 * np.ones((3, 2)), 1e-6 * np.ones((3, 1)), X_A, Y_A, RELU)
    exact = exact_plateau_loss(point, X_A, Y_A, RELU)
    assert exact.loss == sp.Rational(953, 25000) == sum(sp.Rational(str(y)) ** 2 for y in Y_A) / 5


def test_linear_plateau_with_redundant_groups():
    # two groups active on every input: f is linear in (x, 1), the columns [X X] have rank 2 of 4
    W = np.array([0.5 * np.array([np.cos(1.4), np.sin(1.4)]), 0.3 * np.array([np.cos(1.7), np.sin(1.7)])])
    H = np.array([[0.5], [-0.3]])
    point = idealise(W, H, X_A, Y_A, RELU)
    exact = exact_plateau_loss(point, X_A, Y_A, RELU)
    assert exact.loss == sp.Rational(16139, 578750)  # the linear regression of y on (x, 1)
    assert float(exact.loss) == pytest.approx(float_plateau_loss(point, X_A, Y_A, RELU), rel=1e-12)
    assert exact.keeps_pattern
    # the least-squares solution nearest the float point moves both groups by the same amount
    u = [g.sign * sp.Matrix(exact.W_exact[g.representative]) for g in point.groups]
    starts = [g.output[0] * g.direction for g in point.groups]
    assert np.allclose(np.array(u[0] - u[1], dtype=float).ravel(), starts[0] - starts[1], atol=1e-8)


def test_a_neuron_pushed_against_a_kink_is_pinned_to_it():
    # relu-exp-a's second plateau: one neuron active on x_0..x_3, just past the kink of x_4 = (0.7, 1)
    normal = np.array([-1.0, 0.7]) / np.hypot(1.0, 0.7)  # w . x = 0.7 - x
    w = normal - 1e-3 * X_A[4] / np.linalg.norm(X_A[4])
    point = idealise(0.3 * w[None, :], np.array([[0.3]]), X_A, Y_A, RELU)
    assert point.groups[0].negative == (4,)
    plain = exact_plateau_loss(point, X_A, Y_A, RELU)
    assert not plain.keeps_pattern and "input 4" in plain.violations[0] and "not this stationary point" in plain.reason
    pinned = exact_plateau_loss(point, X_A, Y_A, RELU, pin_to_kink=True)
    assert pinned.keeps_pattern and pinned.pinned == ((0, 4),) and pinned.groups[0].kink == (4,)
    assert pinned.loss == sp.Rational(50749, 1681250)
    assert float(pinned.loss) == pytest.approx(float_plateau_loss(replace(point, groups=pinned.groups), X_A, Y_A, RELU),
                                               rel=1e-12)
    assert exact_network_loss(pinned.W_exact, pinned.H_exact, X_A, Y_A, RELU) == pinned.loss
    assert sum(pinned.W_exact[0] * rational_array(X_A[4])) == 0


def test_unpinnable_violation_is_reported():
    # d = 1: f = u x on both inputs, y = (1, -1) gives u = -1/5 < 0 but the float neuron points along +x
    X, y = np.array([[1.0], [2.0]]), np.array([1.0, -1.0])
    point = idealise(np.array([[0.3]]), np.array([[0.5]]), X, y, RELU)
    exact = exact_plateau_loss(point, X, y, RELU, pin_to_kink=True)
    assert exact.loss == sp.Rational(9, 10)  # residuals (-6/5, 3/5) of the unconstrained fit
    assert not exact.keeps_pattern and exact.pinned == () and len(exact.violations) == 2


def decimals(min_value, max_value):
    return st.integers(min_value, max_value).map(lambda v: v / 10)


problems = st.tuples(st.integers(2, 5), st.integers(2, 3)).flatmap(lambda nd: st.tuples(
    st.lists(st.lists(decimals(-9, 9), min_size=nd[1], max_size=nd[1]), min_size=nd[0], max_size=nd[0]),
    st.lists(decimals(-9, 9), min_size=nd[0], max_size=nd[0]),
    st.integers(1, 3), st.integers(0, 2 ** 32 - 1),
    st.sampled_from([RELU, ABSOLUTE, leaky_relu(0.2)])))


@settings(max_examples=30, deadline=None)
@given(problems)
def test_exact_loss_matches_float_least_squares_and_exact_evaluation(problem):
    X, y, width, seed, activation = problem
    X, y = np.array(X), np.array(y)
    rng = np.random.default_rng(seed)
    W, H = rng.standard_normal((width, X.shape[1])), rng.standard_normal((width, 1))
    point = idealise(W, H, X, y, activation)
    exact = exact_plateau_loss(point, X, y, activation)
    assert isinstance(exact.loss, sp.Rational)
    assert float(exact.loss) == pytest.approx(float_plateau_loss(point, X, y[:, None], activation), rel=1e-9, abs=1e-12)
    if exact.keeps_pattern:
        # the exact point realises the least-squares fit: its loss, evaluated exactly, is the plateau loss
        assert exact_network_loss(exact.W_exact, exact.H_exact, X, y, activation) == exact.loss
        assert network_loss(exact.W, exact.H, X, y, activation) == pytest.approx(float(exact.loss), rel=1e-9, abs=1e-15)
    else:
        assert exact.violations and exact.reason


# --- vector output --------------------------------------------------------------------------------------------


def test_h3_vector_output_local_minimum():
    point = idealise(np.array([[2.0, 0.0]]), np.array([[0.5, 0.0]]), H2_X, np.eye(2), RELU)
    exact = exact_plateau_loss(point, H2_X, np.eye(2), RELU)
    assert exact.loss == sp.Rational(1, 4) and exact.keeps_pattern and exact.W_exact is None
    assert network_loss(exact.W, exact.H, H2_X, np.eye(2), RELU) == pytest.approx(0.25)


def test_h4_two_aligned_neurons_are_one_group():
    c = 0.5
    q = 0.5 / (2 * c)
    W, H = np.full((2, 2), c), np.full((2, 2), q)
    point = idealise(W, H, H2_X, np.eye(2), RELU)
    assert [g.members for g in point.groups] == [(0, 1)]
    assert exact_plateau_loss(point, H2_X, np.eye(2), RELU).loss == sp.Rational(1, 4)


def test_separable_vector_plateau_is_algebraic():
    # one neuron active on x_1, x_3 of relu-exp-c: the loss removes the top eigenvalue of Y^T P Y
    point = idealise(np.array([[1.0, 0.2]]), np.array([[0.5, -0.3]]), X_C, Y_C, RELU)
    exact = exact_plateau_loss(point, X_C, Y_C, RELU)
    assert exact.loss == sp.Rational(419, 1600) - sp.sqrt(4849) / 1600
    assert "sqrt" in exact.loss_string and exact.keeps_pattern
    g = point.groups[0]
    C = X_C[list(g.positive)]
    P_Y = C @ np.linalg.solve(C.T @ C, C.T @ Y_C[list(g.positive)])
    top = np.linalg.eigvalsh(P_Y.T @ P_Y)[-1]
    assert float(exact.loss) == pytest.approx((np.sum(Y_C ** 2) - top) / 8, rel=1e-12)
    assert network_loss(exact.W, exact.H, X_C, Y_C, RELU) == pytest.approx(float(exact.loss), rel=1e-10)


def network_gradient(W, H, X, Y):
    Z = X @ W.T
    # an input the refinement put on a kink lands there only up to rounding (|z| ~ 1e-19):
    # it takes the kink's convention rho'(0) = a_minus = 0, as in the exact problem
    on_kink = np.abs(Z) <= 1e-12 * np.abs(X).max() * np.abs(W).max()
    A = np.where(on_kink, 0.0, np.maximum(Z, 0.0))
    E = A @ H - Y
    scale = 2.0 / E.size
    return scale * (((Z > 0) & ~on_kink) * (E @ H.T)).T @ X, scale * A.T @ E


def test_coupled_vector_groups_that_span_their_features_are_exact():
    # two groups active on x_0, x_1 only: not orthogonal, but together they span R^{x_0, x_1} and fit those
    # rows exactly: the partition's least squares, ||y_2||^2 + ||y_3||^2 over n d_out = 8, exactly
    angles = np.radians([45.0, 60.0])
    W = np.c_[np.cos(angles), np.sin(angles)]
    H = np.array([[0.3, -0.3], [0.3, 0.3]])
    point = idealise(W, H, X_C, Y_C, RELU)
    assert [g.positive for g in point.groups] == [(0, 1), (0, 1)]
    exact = exact_plateau_loss(point, X_C, Y_C, RELU)
    assert "not orthogonal" in exact.reason and "span V" in exact.reason
    assert exact.loss == sp.Rational(3, 20) == sum(sp.Rational(str(v)) ** 2 for v in Y_C[2:].ravel()) / 8
    assert exact.keeps_pattern and exact.converged and exact.W_exact is not None
    # the exact point has that loss exactly and is a stationary point (float gradient of the hand-written loss)
    assert exact_network_loss(exact.W_exact, exact.H_exact, X_C, Y_C, RELU) == exact.loss
    grad_W, grad_H = network_gradient(exact.W, exact.H, X_C, Y_C)
    assert max(np.abs(grad_W).max(), np.abs(grad_H).max()) < 1e-12


def test_a_refinement_that_runs_off_is_reported():
    # active sets {0, 1} and {0, 2}: the refinement lowers the loss while the weights grow; two directions
    # cannot span the three dimensions of the groups' features, so no exact point either
    angles = np.radians([60.0, 165.0])
    W = np.c_[np.cos(angles), np.sin(angles)]
    H = np.array([[0.3, -0.3], [0.3, 0.3]])
    exact = exact_plateau_loss(idealise(W, H, X_C, Y_C, RELU), X_C, Y_C, RELU)
    assert exact.loss is None and not exact.converged and "did not reach a stationary point" in exact.reason
    assert np.abs(exact.W).max() > 10.0


def test_bad_input_is_refused():
    point = idealise(np.array([[2.0, 0.0]]), np.array([[0.5]]), H2_X, [1.0, -1.0], RELU)
    with pytest.raises(ParameterError, match="idealised"):
        exact_plateau_loss("not a point", H2_X, [1.0, -1.0], RELU)
    with pytest.raises(ParameterError, match="X_rational"):
        exact_plateau_loss(point, np.ones((2, 3)), [1.0, -1.0], RELU)
    with pytest.raises(ParameterError, match="Y_rational"):
        exact_plateau_loss(point, H2_X, np.ones((2, 2)), RELU)
