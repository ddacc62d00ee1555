"""Bad input gets a ParameterError naming the parameter and the constraint."""

import numpy as np
import pytest
import sympy as sp

from gradflow.theory.activations import RELU, ReluLike, Smooth
from gradflow.theory.errors import ParameterError
from gradflow.theory.landscape import (MAX_KINK_INPUTS, NetworkPoint, add_dead_neuron, directional_derivative, escape_path,
                              exact_point, kink_sensitivity, landscape_report, local_minimum_certificate,
                              neuron_partition, replicate_neuron, second_order_probe, split_neuron,
                              zero_neuron_map_vanishes)

R = sp.Rational
BASIS = [[1, 0], [0, 1]]


def float_point(W=((1.0, 0.0),), H=(1.0,), X=BASIS, Y=(1.0, -1.0), activation=RELU, tol=None):
    return NetworkPoint(np.array(W, dtype=float), np.array(H, dtype=float), np.array(X, dtype=float),
                        np.array(Y, dtype=float), activation, tol)


def h2():
    return exact_point([[1, 0]], [1], BASIS, [1, -1])


def raises(parameter, constraint):
    return pytest.raises(ParameterError, match=rf"^{parameter}: must be .*{constraint}")


@pytest.mark.parametrize("kwargs, parameter, constraint", [
    ({"X": [[1.0, 0.0, 0.0]]}, "X", "2 columns"),
    ({"H": (1.0, 2.0)}, "H", "1 rows"),
    ({"Y": (1.0, -1.0, 0.0)}, "Y", "2 rows"),
    ({"Y": [[1.0, 0.0], [0.0, 1.0]]}, "Y", "1 columns"),
    ({"W": np.zeros((0, 2))}, "W", "width m >= 1"),
    ({"W": (1.0, 0.0)}, "W", "2-d"),
    ({"X": [[np.nan, 0.0], [0.0, 1.0]]}, "X", "finite"),
    ({"Y": (np.inf, -1.0)}, "Y", "finite"),
    ({"H": (np.nan,)}, "H", "finite"),
    ({"tol": 0.0}, "tol", r"in \(0, 1\)"),
    ({"tol": 2.0}, "tol", r"in \(0, 1\)"),
    ({"activation": "relu"}, "activation", "an Activation"),
])
def test_bad_points_name_the_parameter(kwargs, parameter, constraint):
    with raises(parameter, constraint):
        float_point(**kwargs)


def test_width_zero_exact_point():
    with raises("W", "width m >= 1"):
        exact_point(np.zeros((0, 2), dtype=int), np.zeros((0, 1), dtype=int), BASIS, [1, -1])


def test_equal_slopes_are_refused_by_the_activation():
    with raises("a_minus", "different from a_plus"):
        ReluLike(1, 1)


def test_exact_and_float_arrays_do_not_mix():
    with raises("W, H, X, Y", "all exact"):
        NetworkPoint(np.array([[R(1), R(0)]], dtype=object), np.array([1.0]), np.eye(2), np.ones(2), RELU)


def test_exact_arrays_refuse_floats_and_a_tolerance():
    with raises("W", "exact entries"):
        NetworkPoint(np.array([[0.5, R(0)]], dtype=object), *(np.array(v, dtype=object) for v in ([R(1)], BASIS, [1, 1])),
                     RELU)
    with raises("tol", "None for an exact point"):
        NetworkPoint(h2().W, h2().H, h2().X, h2().Y, h2().activation, 1e-4)
    with raises(r"activation\.a_minus", "an int or SymPy Rational"):
        NetworkPoint(h2().W, h2().H, h2().X, h2().Y, ReluLike(1, 0.25))


def test_exact_point_refuses_unparseable_and_nonfinite_numbers():
    with raises("Y", "a rational number"):
        exact_point([[1, 0]], [1], BASIS, ["one", 2])
    with raises("X", "finite"):
        exact_point([[1, 0]], [1], [[float("nan"), 0], [0, 1]], [1, 2])


def test_kink_tools_need_a_relu_like_activation():
    point = float_point(activation=Smooth("tanh"))
    assert np.isfinite(point.loss())  # the point itself is fine
    with raises("activation", "ReLU-like"):
        landscape_report(point)


def test_directions_and_neurons_are_checked():
    point = h2()
    with raises("dW", "shape"):
        directional_derivative(point, [[1, 0, 0]], [0])
    with raises("dH", "shape"):
        directional_derivative(point, [[1, 0]], [[0, 0]])
    with raises("neuron", "an index"):
        neuron_partition(point, 1)


def test_escape_tools_check_their_hypotheses():
    point = h2()
    with raises("neuron", "h_i = 0"):
        escape_path(point, 0)
    saddle = exact_point([[1, 0], [1, 0]], [1, 0], BASIS, [1, -1])  # H2 plus the inactive neuron ((1, 0), 0)
    escape_path(saddle, 1, u=[-2, 1], eps=R(1, 2))
    with raises("eps", "no sign change"):
        escape_path(saddle, 1, u=[-2, 1], eps=1)  # (w_2 + eps u) . x_1 = 1 - 2 eps crosses 0 at eps = 1/2
    with raises("u", "h_i . D_i"):
        second_order_probe(exact_point([[1, 0]], [[1, 0]], BASIS, [[1, 0], [1, 1]]), 0, [0, 1])  # h . D = -1
    not_stationary = exact_point([[1, 0]], [2], BASIS, [1, -1])
    with raises("neuron", "S1"):
        second_order_probe(not_stationary, 0, [0, 1])
    with raises("point", "d-stationary"):
        local_minimum_certificate(not_stationary)


def test_embeddings_check_their_arguments():
    point = h2()
    with raises("v", "dead cone"):
        add_dead_neuron(point, [-1, 0])  # v . x_2 = 0: on the kink, not dead
    with raises("activation", "a_plus = 0 or a_minus = 0"):
        add_dead_neuron(exact_point([[1, 0]], [1], BASIS, [1, -1], ReluLike(1, -1)), [-1, -1])
    with raises("scales", "positive"):
        replicate_neuron(point, 0, [[1], [0]], scales=[0, 1])
    with raises("output_weights", "sum_l c_l h_l"):
        replicate_neuron(point, 0, [[1], [1]])
    with raises("lambdas", "sum_l c_l lambda_l = 1"):
        split_neuron(point, 0, [R(1, 2), R(1, 3)])
    with raises("v", "length 2"):
        add_dead_neuron(point, [-1, -1, -1])


def test_too_many_kink_inputs_are_refused():
    n = MAX_KINK_INPUTS + 1
    X = [[1, k] for k in range(n)]
    point = exact_point([[0, 0]], [0], X, list(range(n)))
    with raises("point", f"at most {MAX_KINK_INPUTS} inputs on one kink"):
        zero_neuron_map_vanishes(point)


def test_kink_sensitivity_needs_a_float_point():
    with raises("point", "a float point"):
        kink_sensitivity(h2())
