"""First-escape law: lambda* by cones against hand values and dense sphere search; escape times."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from gradflow.numerics.saddle import (escape_function, first_escape_rate, fit_escape_times, measured_escape_time,
                             predicted_escape_time, sampled_escape_rate)
from gradflow.theory.activations import ABSOLUTE, RELU, Smooth, leaky_relu
from gradflow.theory.errors import ParameterError

H2_X = np.array([[1.0, 0.0], [0.0, 1.0]])


def test_hand_values_in_two_dimensions():
    # y = (1, 1): G(u) = ([u_1]_+ + [u_2]_+) / 2, largest inside the positive quadrant at u = (1, 1)/sqrt 2
    rate = first_escape_rate(H2_X, [1.0, 1.0], RELU)
    assert rate.lambda_star == pytest.approx(math.sqrt(2) / 2, rel=1e-14)
    assert np.allclose(rate.u_star, [math.sqrt(0.5), math.sqrt(0.5)])
    # y = (1, -1): |G| = 1/2 at u = e_1 or e_2, on the boundary of the cones (a kink)
    rate = first_escape_rate(H2_X, [1.0, -1.0], RELU)
    assert rate.lambda_star == pytest.approx(0.5, rel=1e-14)
    assert np.linalg.norm(rate.u_star) == pytest.approx(1.0)
    assert abs(escape_function(H2_X, [1.0, -1.0], RELU, rate.u_star)[0, 0]) == pytest.approx(0.5)


@pytest.mark.parametrize("activation", [RELU, ABSOLUTE, leaky_relu(0.3)])
def test_one_dimensional_problem_embedded_in_the_plane(activation):
    # inputs (t_k, 0): G depends on u_1 only and peaks at u = (+-1, 0): lambda* = max |sum y rho(+-t)| / n
    t = np.array([1.0, -2.0, 3.0, 0.5])
    y = np.array([1.0, 1.0, -1.0, 0.4])
    X = np.c_[t, np.zeros(4)]
    by_hand = max(abs(np.sum(y * activation(t))), abs(np.sum(y * activation(-t)))) / 4
    assert first_escape_rate(X, y, activation).lambda_star == pytest.approx(by_hand, rel=1e-13)
    # relu: G(+1) = (1 - 3 + 0.2) / 4 = -0.45, G(-1) = 2 / 4 = 0.5
    if activation is RELU:
        assert by_hand == pytest.approx(0.5)


def test_vector_output_norm():
    # d_out = 2: G(u) = (1 / 4) (rho(u_1) (1, 0) + rho(u_2) (0, 1)), ||G|| = ||([u]_+)|| / 4 <= 1/4
    rate = first_escape_rate(H2_X, np.eye(2), RELU)
    assert rate.lambda_star == pytest.approx(0.25, rel=1e-14)


def dense_maximum(X, Y, activation):
    """Brute force independent of the cone enumeration: a 2^16-point angle grid (d = 2) refined by
    bounded Brent search, or a random sphere sample refined by Nelder-Mead (d = 3)."""
    d = X.shape[1]
    if d == 1:
        return max(np.linalg.norm(escape_function(X, Y, activation, [[s]])) for s in (-1.0, 1.0))
    if d == 2:
        angles = np.linspace(0.0, 2 * np.pi, 2 ** 16, endpoint=False)
        values = np.linalg.norm(escape_function(X, Y, activation, np.c_[np.cos(angles), np.sin(angles)]), axis=1)
        step = angles[1]
        best = values.max()
        for a in angles[np.argsort(-values)[:4]]:
            result = minimize_scalar(
                lambda s: -np.linalg.norm(escape_function(X, Y, activation, [[np.cos(s), np.sin(s)]])),
                bounds=(a - step, a + step), method="bounded", options={"xatol": 1e-13})
            best = max(best, -result.fun)
        return best
    return sampled_escape_rate(X, Y, activation, samples=200_000, refine=12).lambda_star


data = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 2)).flatmap(lambda s: st.tuples(
    st.lists(st.lists(st.floats(-1.0, 1.0), min_size=s[1], max_size=s[1]), min_size=s[0], max_size=s[0]),
    st.lists(st.lists(st.floats(-1.0, 1.0), min_size=s[2], max_size=s[2]), min_size=s[0], max_size=s[0]),
    st.sampled_from([RELU, ABSOLUTE, leaky_relu(0.3)])))


@settings(max_examples=30, deadline=None)
@given(data)
def test_cone_maximiser_equals_dense_sphere_maximum(case):
    X, Y, activation = case
    X, Y = np.array(X), np.array(Y)
    assume(np.all(np.linalg.norm(X, axis=1) > 1e-3))
    rate = first_escape_rate(X, Y, activation)
    brute = dense_maximum(X, Y, activation)
    assert brute <= rate.lambda_star + 1e-12  # the cone maximum is a maximum
    assert rate.lambda_star <= brute + 1e-6  # and the brute force reaches it
    assert np.linalg.norm(rate.u_star) == pytest.approx(1.0)
    assert np.linalg.norm(escape_function(X, Y, activation, rate.u_star)) == pytest.approx(rate.lambda_star, rel=1e-12)


def test_paper_data_sets_agree_with_the_sampled_search():
    X_b = np.array([(-0.3, -0.75, -0.5), (-0.2, -0.2, 0.4), (-0.6, 1, -1), (-0.4, 0.4, 0.3), (0.6, -0.1, -0.7),
                    (0.4, -0.9, 0.3), (0.2, 0.2, -0.5)])
    y_b = np.array([-0.5, 0.1, -0.6, 0.3, 0.8, -0.3, -0.1])
    cones = first_escape_rate(X_b, y_b, RELU).lambda_star
    assert cones == pytest.approx(sampled_escape_rate(X_b, y_b, RELU).lambda_star, rel=1e-9)


def test_predicted_escape_time():
    assert predicted_escape_time(math.exp(-10.0), 0.25) == pytest.approx(20.0)
    with pytest.raises(ParameterError, match="sigma"):
        predicted_escape_time(1.5, 0.25)
    with pytest.raises(ParameterError, match="lambda_star"):
        predicted_escape_time(0.1, 0.0)


def test_measured_escape_time_interpolates_the_crossing():
    iterations = np.arange(0, 1000, 10)
    loss = np.where(iterations < 400, 1.0, 1.0 - 0.001 * (iterations - 400))  # crosses 0.95 at iteration 450
    assert measured_escape_time(iterations, loss, lr=0.01) == pytest.approx(4.5)
    assert measured_escape_time(iterations, loss, lr=0.01, drop=0.2) == pytest.approx(6.0)
    assert measured_escape_time(iterations, np.ones(iterations.size), lr=0.01) == math.inf
    with pytest.raises(ParameterError, match="drop"):
        measured_escape_time(iterations, loss, lr=0.01, drop=1.0)
    with pytest.raises(ParameterError, match="lr"):
        measured_escape_time(iterations, loss, lr=-1.0)
    with pytest.raises(ParameterError, match="iterations"):
        measured_escape_time(iterations[::-1], loss, lr=0.01)


def test_fit_recovers_a_linear_law():
    sigmas = np.array([1e-2, 1e-4, 1e-6])
    fit = fit_escape_times(sigmas, 3.0 * np.log(1 / sigmas) + 7.0, lambda_star=1 / 6)
    assert fit.slope == pytest.approx(3.0) and fit.intercept == pytest.approx(7.0)
    assert fit.predicted_slope == pytest.approx(3.0) and fit.relative_error < 1e-12
    with pytest.raises(ParameterError, match="sigmas"):
        fit_escape_times([0.1, 0.1], [1.0, 2.0], 0.5)
    with pytest.raises(ParameterError, match="times"):
        fit_escape_times(sigmas, [1.0, math.inf, 2.0], 0.5)


def test_bad_input_is_refused():
    with pytest.raises(ParameterError, match="activation"):
        first_escape_rate(H2_X, [1.0, 1.0], Smooth("tanh"))
    with pytest.raises(ParameterError, match="Y"):
        first_escape_rate(H2_X, [1.0, 1.0, 1.0], RELU)
    with pytest.raises(ParameterError, match="U"):
        escape_function(H2_X, [1.0, 1.0], RELU, [[1.0, 0.0, 0.0]])
