"""Float mode: agrees with exact mode on the hand examples, reports its tolerance, and its verdicts
really depend on the kink tolerance near a kink."""

import json

import numpy as np
import pytest
import sympy as sp

from gradflow.theory.activations import RELU
from gradflow.theory.landscape import (DEFAULT_TOL, NetworkPoint, add_zero_neuron, escape_path, exact_point, kink_sensitivity,
                              landscape_report, split_neuron)

R = sp.Rational
BASIS = [[1, 0], [0, 1]]


def hand_examples(a):
    q = 1 / (4 * a)
    h2 = exact_point([[a, 0]], [1 / a], BASIS, [1, -1])
    return {
        "H2": h2,
        "H2 + zero neuron": add_zero_neuron(h2),
        "H2 lambda = 1/2": split_neuron(h2, 0, [R(1, 2), R(1, 2)]),
        "H2 lambda = 0": split_neuron(h2, 0, [0, 1]),
        "H2 lambda = 2": split_neuron(h2, 0, [2, -1]),
        "H3": exact_point([[a, 0]], [[1 / a, 0]], BASIS, BASIS),
        "H4": exact_point([[a, a], [a, a]], [[q, q], [q, q]], BASIS, BASIS),
        "Clarke": exact_point([[0]], [1], [[1]], [1]),
    }


@pytest.mark.parametrize("a", [R(1), R(1, 3), R(7, 5)])
@pytest.mark.parametrize("name", list(hand_examples(R(1))))
def test_float_mode_agrees_with_exact_mode(a, name):
    exact = hand_examples(a)[name]
    exact_report = landscape_report(exact)
    float_report = landscape_report(exact.to_float())
    assert float_report.tol == DEFAULT_TOL and exact_report.tol is None
    assert float_report.classification == exact_report.classification
    assert float_report.d_stationary == exact_report.d_stationary
    assert float_report.escape_neurons == exact_report.escape_neurons
    assert float_report.loss == pytest.approx(float(exact_report.loss), rel=1e-12)
    assert [n.status for n in float_report.neurons] == [n.status for n in exact_report.neurons]
    assert [n.kink_inputs for n in float_report.neurons] == [n.kink_inputs for n in exact_report.neurons]
    if exact_report.certificate is not None:
        assert float_report.certificate.radius == pytest.approx(float(exact_report.certificate.radius), rel=1e-9)
    data = json.loads(json.dumps(float_report.to_dict()))
    assert data["tol"] == DEFAULT_TOL and data["exact"] is False


def test_float_escape_path_predicts_the_change():
    point = add_zero_neuron(exact_point([[R(1, 3), 0]], [3], BASIS, [1, -1])).to_float()
    path = escape_path(point, 1)
    assert path.actual_change < 0
    assert path.actual_change == pytest.approx(path.predicted_change, rel=1e-12)


def test_float_certificate_holds_up_to_rounding():
    point = split_neuron(exact_point([[R(1, 3), 0]], [3], BASIS, [1, -1]), 0, [R(1, 4), R(3, 4)]).to_float()
    certificate = landscape_report(point).certificate
    rng = np.random.default_rng(5)
    for _ in range(300):
        dW, dH = rng.normal(size=point.W.shape), rng.normal(size=point.H.shape)
        scale = 0.999 * certificate.radius * rng.uniform() / np.sqrt((dW**2).sum() + (dH**2).sum())
        assert certificate.covers(scale * dW, scale * dH)
        moved = point.with_parameters(point.W + scale * dW, point.H + scale * dH)
        assert moved.loss() >= point.loss() - 1e-14


def near_kink(offset, tol):
    """H2 with w = (1, offset): x_2 = (0, 1) lies at relative distance offset from the kink."""
    return NetworkPoint(np.array([[1.0, offset]]), np.array([1.0]), np.array(BASIS, dtype=float),
                        np.array([1.0, -1.0]), RELU, tol)


def test_a_point_just_off_a_kink_depends_on_the_tolerance():
    assert landscape_report(near_kink(1e-9, 1e-4)).classification == "local minimum"
    strict = landscape_report(near_kink(1e-9, 1e-12))
    # x_2 active: g = e_2 rho(1e-9) != 0 relative to its size, the true (differentiable) verdict
    assert strict.classification == "not stationary" and strict.tol == 1e-12
    assert strict.neurons[0].kink_inputs == () and landscape_report(near_kink(1e-9, 1e-4)).neurons[0].kink_inputs == (1,)
    assert kink_sensitivity(near_kink(1e-9, 1e-4), (1e-4, 1e-6, 1e-12)) == {
        1e-4: "local minimum", 1e-6: "local minimum", 1e-12: "not stationary"}


def test_h3_just_off_its_kink_depends_on_the_tolerance():
    point = NetworkPoint(np.array([[2.0, 1e-9]]), np.array([[0.5, 0.0]]), np.array(BASIS, dtype=float),
                         np.array(BASIS, dtype=float), RELU)
    assert kink_sensitivity(point, (1e-4, 1e-12)) == {1e-4: "undetermined", 1e-12: "not stationary"}


def test_kink_sensitivity_default_tolerances():
    assert set(kink_sensitivity(near_kink(1e-9, 1e-4))) == {1e-2, 1e-3, 1e-4, 1e-5, 1e-6}
