"""The perturbation certificate at hand-made minima and saddles (hand example H2)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.saddle import network_loss, perturbation_amplitude, perturbation_certificate
from gradflow.theory.activations import ABSOLUTE, RELU, leaky_relu
from gradflow.theory.errors import ParameterError

H2_X = np.array([[1.0, 0.0], [0.0, 1.0]])
H2_Y = np.array([1.0, -1.0])


def test_h2_local_minimum_on_a_kink():
    # w = (2, 0), h = 1/2: x_2 sits on the kink; moving w_2 > 0 only raises the loss (first order)
    W, H = np.array([[2.0, 0.0]]), np.array([[0.5]])
    certificate = perturbation_certificate(W, H, H2_X, H2_Y, RELU)
    assert certificate.loss == pytest.approx(0.5)
    assert certificate.amplitude == 1e-5  # min non-zero |param| / 10 = 0.05, capped at 1e-5
    assert certificate.min_delta >= -1e-15 and certificate.decreasing == 0 and certificate.certifies_minimum
    assert certificate.samples == 5000


def test_local_minimum_with_the_other_input_strictly_inactive():
    X = np.array([[1.0, 0.0], [-1.0, 1.0]])  # w . x_2 = -2 < 0: the second point is on the inactive side
    certificate = perturbation_certificate(np.array([[2.0, 0.0]]), np.array([[0.5]]), X, H2_Y, RELU)
    assert certificate.min_delta >= -1e-15 and certificate.decreasing == 0


def test_zero_neuron_saddle_is_found():
    # H2 with an added zero neuron: a saddle.  Delta L ~ a^2 (delta_h rho(delta_w . x_2) + ...) < 0 for a
    # positive fraction of the samples (delta_w_12 < 0 and the zero neuron growing on x_2 with delta_h < 0)
    W, H = np.array([[2.0, 0.0], [0.0, 0.0]]), np.array([[0.5], [0.0]])
    certificate = perturbation_certificate(W, H, H2_X, H2_Y, RELU, seed=1)
    assert certificate.decreasing > 50 and not certificate.certifies_minimum
    assert -certificate.amplitude ** 2 < certificate.min_delta < -1e-3 * certificate.amplitude ** 2
    # the reported worst perturbation reproduces the change through the plain loss
    moved = network_loss(W + certificate.best_dW, H + certificate.best_dH, H2_X, H2_Y, RELU)
    assert moved - certificate.loss == pytest.approx(certificate.min_delta, rel=1e-4)
    assert certificate.best_dH[1, 0] < 0 < certificate.best_dW[1, 1]  # the zero neuron grows on x_2 with h < 0


def test_replicated_neuron_with_a_zero_share_is_a_saddle():
    # hand example H2: copies (w, h) = ((2, 0), 1/2) and ((2, 0), 0): lambda = 0 gives a saddle
    W, H = np.array([[2.0, 0.0], [2.0, 0.0]]), np.array([[0.5], [0.0]])
    assert perturbation_certificate(W, H, H2_X, H2_Y, RELU).decreasing > 0
    # with shares lambda = 1/2 each the point is a local minimum
    assert perturbation_certificate(W, np.array([[0.25], [0.25]]), H2_X, H2_Y, RELU).decreasing == 0


def test_a_non_stationary_point_fails_the_certificate():
    # f(x_1) = 1/2 < 1, x_2 inactive: Delta L = -(delta_h + delta_w_1 / 2) / 2 + O(a^2), down for half the samples
    X = np.array([[1.0, 0.0], [-1.0, 1.0]])
    certificate = perturbation_certificate(np.array([[1.0, 0.0]]), np.array([[0.5]]), X, H2_Y, RELU)
    assert 2300 < certificate.decreasing < 2700


def test_dead_neurons_are_left_alone_and_do_not_set_the_amplitude():
    # neuron 1 is dead (w . x_k < 0 for both inputs) and has tiny weights
    W, H = np.array([[2.0, 0.0], [-1e-9, -1e-9]]), np.array([[0.5], [1e-9]])
    certificate = perturbation_certificate(W, H, H2_X, H2_Y, RELU)
    assert certificate.dead_neurons == (1,) and certificate.amplitude == 1e-5
    assert not certificate.best_dW[1].any() and not certificate.best_dH[1].any()
    # counted as alive it would force the amplitude down to 1e-10
    assert perturbation_certificate(W, H, H2_X, H2_Y, RELU, dead=[]).amplitude == pytest.approx(1e-10)


def test_amplitude_rule():
    W, H = np.array([[3e-6, -0.5], [0.0, 2.0]]), np.array([[1.0], [0.0]])
    assert perturbation_amplitude(W, H, np.array([0, 1]), 1e-5) == pytest.approx(3e-7)
    assert perturbation_amplitude(W, H, np.array([1]), 1e-5) == pytest.approx(1e-5)


networks = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2), st.integers(2, 6),
                     st.integers(0, 2 ** 32 - 1), st.sampled_from([RELU, ABSOLUTE, leaky_relu(0.1)]),
                     st.sampled_from(["uniform", "gaussian"]))


@settings(max_examples=30, deadline=None)
@given(networks)
def test_vectorised_change_equals_the_plain_loss_difference(case):
    m, d, d_out, n, seed, activation, distribution = case
    rng = np.random.default_rng(seed)
    W, H = rng.standard_normal((m, d)), rng.standard_normal((m, d_out))
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((n, d_out))
    certificate = perturbation_certificate(W, H, X, Y, activation, samples=1, seed=seed, amplitude=1e-2,
                                           distribution=distribution)
    moved = network_loss(W + certificate.best_dW, H + certificate.best_dH, X, Y, activation)
    assert certificate.min_delta == pytest.approx(moved - network_loss(W, H, X, Y, activation), rel=1e-9, abs=1e-14)
    if distribution == "uniform":
        assert np.abs(certificate.best_dW).max() <= 1e-2 and np.abs(certificate.best_dH).max() <= 1e-2


def test_bad_input_is_refused():
    W, H = np.array([[2.0, 0.0]]), np.array([[0.5]])
    with pytest.raises(ParameterError, match="samples"):
        perturbation_certificate(W, H, H2_X, H2_Y, RELU, samples=0)
    with pytest.raises(ParameterError, match="distribution"):
        perturbation_certificate(W, H, H2_X, H2_Y, RELU, distribution="cauchy")
    with pytest.raises(ParameterError, match="amplitude"):
        perturbation_certificate(W, H, H2_X, H2_Y, RELU, amplitude=-1.0)
    with pytest.raises(ParameterError, match="dead"):
        perturbation_certificate(W, H, H2_X, H2_Y, RELU, dead=[3])
