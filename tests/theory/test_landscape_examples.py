"""The hand examples H2, H3, H4 of the shallow-ReLU landscape, exactly (and the Clarke example)."""

import json
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from gradflow.theory.exact_numbers import show_exact
from gradflow.theory.landscape import (add_zero_neuron, clarke_stationarity, d_map, directional_derivative, escape_path,
                              exact_point, landscape_report, local_minimum_certificate, loss_along_ray,
                              neuron_escape, second_order_probe, split_neuron)

R = sp.Rational
BASIS = [[1, 0], [0, 1]]
SLOPES = [R(1), R(2), R(1, 3)]  # the free parameter a (or c) of the examples


def h2(a):
    """Width 1, w = (a, 0), h = 1/a; data (1, 0) -> 1, (0, 1) -> -1."""
    return exact_point([[a, 0]], [1 / a], BASIS, [1, -1])


def h3(a):
    return exact_point([[a, 0]], [[1 / a, 0]], BASIS, BASIS)


def h4(c):
    q = 1 / (4 * c)  # 2 q c = 1/2
    return exact_point([[c, c], [c, c]], [[q, q], [q, q]], BASIS, BASIS)


def perturbations(point, count, size, seed):
    """Random exact perturbations with entries in [-size, size] (denominator 1000)."""
    rng = np.random.default_rng(seed)

    def draw(shape):
        return np.array([size * R(int(v), 1000) for v in rng.integers(-1000, 1001, size=shape).ravel()],
                        dtype=object).reshape(shape)

    for _ in range(count):
        yield draw(point.W.shape), draw(point.H.shape)


# ---- H2 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("a", SLOPES)
def test_h2_width_one_is_a_local_minimum_with_loss_one_half(a):
    report = landscape_report(h2(a))
    assert report.loss == R(1, 2)
    assert report.d_stationary and report.escape_neurons == ()
    assert report.classification == "local minimum"
    # r = |w . x_1| / ||x_1|| = a (x_2 is on the kink), kappa = |h| = 1/a (scalar output)
    neuron = report.certificate.neurons[0]
    assert (neuron.kink_margin, neuron.kappa) == (a, 1 / a)
    assert report.certificate.radius == min(a, 1 / a)
    assert report.reason == f"no escape neuron: local minimum (certificate radius {show_exact(min(a, 1 / a))})"
    assert str(min(a, 1 / a)) in report.reason  # a short exact value is printed as it is


@pytest.mark.parametrize("a", SLOPES)
def test_h2_with_a_zero_neuron_is_a_saddle_and_the_escape_path_is_exact(a):
    point = add_zero_neuron(h2(a))
    report = landscape_report(point)
    assert report.d_stationary
    assert report.escape_neurons == (1,)
    assert report.neurons[1].status == "zero"
    assert report.classification == "saddle"
    assert report.escape_path.actual_change < 0
    for eps, c in [(R(1, 2), R(1)), (R(1, 3), R(2, 5)), (R(1), R(1, 7))]:
        path = escape_path(point, 1, u=[0, 1], eps=eps, c=c)
        assert path.point.loss() == R(1, 2) * (1 - c * eps**2) ** 2
        assert path.predicted_change == path.actual_change


@pytest.mark.parametrize("a", SLOPES)
@pytest.mark.parametrize("lam, expected", [(R(1, 2), "local minimum"), (R(1, 5), "local minimum"),
                                           (R(0), "saddle"), (R(2), "not stationary")])
def test_h2_replication(a, lam, expected):
    point = split_neuron(h2(a), 0, [lam, 1 - lam])
    assert list(point.H[:, 0]) == [lam / a, (1 - lam) / a]
    assert point.loss() == R(1, 2)
    assert landscape_report(point).classification == expected


@pytest.mark.parametrize("a", SLOPES)
def test_h2_replication_with_lambda_two_has_directional_derivative_minus_one_over_a(a):
    point = split_neuron(h2(a), 0, [2, -1])
    moving_w2 = [[0, 0], [0, 1]]
    assert directional_derivative(point, moving_w2, [0, 0]) == -1 / a
    assert loss_along_ray(point, moving_w2, [0, 0]).slope == -1 / a
    report = landscape_report(point)
    assert report.neurons[1].s1 and not report.neurons[1].s2
    assert report.neurons[1].descent.derivative == -1 / a


# ---- H3 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("a", SLOPES)
def test_h3_has_an_escape_neuron_with_nonzero_h_and_no_verdict(a):
    point = h3(a)
    report = landscape_report(point)
    assert report.loss == R(1, 4)
    assert report.d_stationary
    assert report.escape_neurons == (0,)
    neuron = report.neurons[0]
    assert any(v != 0 for v in point.H[0])
    assert sum(h * v for h, v in zip(point.H[0], neuron.escape_value)) == 0
    assert any(v != 0 for v in neuron.escape_value)
    assert report.classification == "undetermined"
    assert "no second-order descent" in report.reason


@pytest.mark.parametrize("a", SLOPES)
@pytest.mark.parametrize("u", [[0, 1], [1, 1], [-1, 1], [R(1, 2), 3]])
def test_h3_second_order_coefficient_vanishes(a, u):
    probe = second_order_probe(h3(a), 0, u)
    assert probe.coefficient == 0
    assert not probe.descends


@pytest.mark.parametrize("a", SLOPES)
def test_h3_sampled_perturbations_never_decrease_the_loss(a):
    point = h3(a)
    for dW, dH in perturbations(point, 200, R(1, 20), seed=3):
        assert point.with_parameters(point.W + dW, point.H + dH).loss() >= point.loss()


# ---- H4 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("c", SLOPES)
def test_h4_is_a_saddle_found_by_the_second_order_probe(c):
    point = h4(c)
    report = landscape_report(point)
    assert report.loss == R(1, 4)
    assert report.d_stationary
    assert report.escape_neurons == (0, 1)
    assert all(any(v != 0 for v in h) for h in point.H)
    assert report.classification == "saddle"
    probe = report.second_order
    assert probe.coefficient < 0 and probe.change < 0
    assert probe.point.loss() - point.loss() == probe.change


@pytest.mark.parametrize("c", SLOPES)
@pytest.mark.parametrize("e", [R(1, 10), R(1, 4), R(-1, 3)])
def test_h4_escape_path(c, e):
    point = h4(c)
    q = 1 / (4 * c)
    moved = point.with_parameters([[c + e, c - e], [c - e, c + e]], [[q + e, q - e], [q - e, q + e]])
    assert moved.loss() == (R(1, 2) - 2 * e**2) ** 2


# ---- Clarke example ---------------------------------------------------------------------
def clarke_point():
    return exact_point([[0]], [1], [[1]], [1])


def test_clarke_example_is_clarke_but_not_d_stationary():
    point = clarke_point()
    assert clarke_stationarity(point).holds
    report = landscape_report(point)
    assert report.clarke_stationary and not report.d_stationary
    assert report.classification == "not stationary"
    assert report.reason.startswith("Clarke-stationary but not d-stationary")


@pytest.mark.parametrize("u", [R(-3), R(-1), R(0), R(1, 2), R(2)])
def test_clarke_example_directional_derivative_is_minus_two_positive_part(u):
    assert directional_derivative(clarke_point(), [[u]], [0]) == -2 * max(u, 0)


def test_a_non_clarke_point_is_reported_as_such():
    # w = 1, h = 2 on (1, 1): e = 1, g = e rho(1) = 1 != 0, so not even Clarke-stationary
    point = exact_point([[1]], [2], [[1]], [1])
    assert not clarke_stationarity(point).holds
    report = landscape_report(point)
    assert report.classification == "not stationary" and not report.clarke_stationary
    assert report.reason.startswith("(S1) fails at neuron 0")


# ---- certificate and report plumbing ----------------------------------------------------
def test_certificate_is_refused_at_a_saddle():
    from gradflow.theory.errors import ParameterError
    with pytest.raises(ParameterError, match="escape neurons"):
        local_minimum_certificate(add_zero_neuron(h2(R(1))))


def test_escape_neuron_of_h2_plus_zero_neuron_has_the_zero_neuron_map():
    point = add_zero_neuron(h2(R(2)))
    escape = neuron_escape(point, 1)
    assert escape.output_weight_zero and escape.is_escape
    # D_0(u) = e_2 rho(u_2) = [u_2]_+ since e = (0, 1)
    assert list(d_map(point, 1)([5, 3])) == [3] and list(d_map(point, 1)([5, -3])) == [0]


def test_report_to_dict_is_json_with_exact_numbers_as_strings():
    data = landscape_report(h2(R(2))).to_dict()
    text = json.dumps(data)
    assert json.loads(text)["loss"] == "1/2"
    assert data["certificate"]["radius"] == "1/2"
    assert data["classification"] == "local minimum" and data["tol"] is None
    saddle = landscape_report(add_zero_neuron(h2(R(2)))).to_dict()
    json.dumps(saddle)
    assert saddle["escape_path"]["predicted_change"] == saddle["escape_path"]["actual_change"]


def test_exact_point_accepts_fractions_strings_and_decimal_floats():
    point = exact_point([[Fraction(1, 2), "0.25"]], [0.1], BASIS, ["-1/3", 2])
    assert point.exact
    assert list(point.W[0]) == [R(1, 2), R(1, 4)] and point.H[0, 0] == R(1, 10)
    assert point.Y[0, 0] == R(-1, 3)
