"""relu-exp-c's last plateau: coupled vector-output groups whose features span V get the exact least-squares
value on V, an exact point and an exact classification.

The point: on relu-exp-c's data the last plateau has groups active on {x_0, x_1} (one of them on the kink
of x_3) and one group active on x_2 (also on the kink of x_3); nothing is active on x_3.  The groups fit
x_0, x_1, x_2 exactly, so L = ||y_3||^2 / (n d_out) = (0.64 + 0.04) / 8 = 17/200 -- by hand.  It is a local
minimum exactly when every neuron on x_3's kink has h . y_3 < 0: then turning any of them onto x_3 adds
(x_3 . w)_+ h to f(x_3) and raises ||f(x_3) - y_3||^2, and no other move changes the pattern locally.
"""

import numpy as np
import pytest
import sympy as sp

from gradflow.numerics.saddle import exact_plateau_loss, idealise, network_loss
from gradflow.numerics.saddle import exact_plateau as exact_plateau_module
from gradflow.theory.activations import RELU
from gradflow.theory.landscape import exact_point, landscape_report

X_C = np.array([(-0.3, 0.5), (1.0, 1.0), (-0.6, -1.0), (0.4, -0.4)])
Y_C = np.array([(0.6, -0.5), (0.5, -1.0), (-0.4, 0.6), (0.8, 0.2)])
BY_HAND = sp.Rational(64 + 4, 100) / 8  # ||y_3||^2 / (n d_out)


def plateau_point(free_angle_degrees):
    """Three neurons: w_1 on x_3's kink (active on x_0, x_1), w_2 free in the same cone, w_3 on x_3's kink
    (active on x_2); output weights solving the fit of x_0, x_1, x_2 exactly (plain NumPy)."""
    w1, w3 = np.array([1.0, 1.0]) / np.sqrt(2), -np.array([1.0, 1.0]) / np.sqrt(2)
    a = np.radians(free_angle_degrees)
    w2 = np.array([np.cos(a), np.sin(a)])
    assert np.all(X_C[:2] @ w2 > 0) and np.all(X_C[2:] @ w2 < 0)
    H12 = np.linalg.solve(np.c_[w1, w2], np.linalg.solve(X_C[:2], Y_C[:2]))
    return np.array([w1, w2, w3]), np.vstack([H12, Y_C[2] / (X_C[2] @ w3)])


def exact_report(W, H):
    exact = exact_plateau_loss(idealise(W, H, X_C, Y_C, RELU), X_C, Y_C, RELU, pin_to_kink=True)
    return exact, landscape_report(exact_point(exact.W_exact, exact.H_exact, X_C, Y_C, RELU))


def test_the_last_plateau_is_17_over_200_and_a_local_minimum():
    W, H = plateau_point(105.0)
    assert network_loss(W, H, X_C, Y_C, RELU) == pytest.approx(float(BY_HAND), rel=1e-12)
    assert (H[0] @ Y_C[3] < 0) and (H[2] @ Y_C[3] < 0)  # both kink neurons point away from y_3
    exact, report = exact_report(W, H)
    assert exact.loss == BY_HAND == sp.Rational(17, 200) and exact.keeps_pattern and "span V" in exact.reason
    assert report.exact and report.classification == "local minimum"
    # independent: no small random move of the network lowers the loss
    rng = np.random.default_rng(0)
    moves = rng.standard_normal((2000, 3, 4)) * 1e-3
    losses = [network_loss(exact.W + d[:, :2], exact.H + d[:, 2:], X_C, Y_C, RELU) for d in moves]
    assert min(losses) >= float(BY_HAND) - 1e-15


def test_with_a_kink_neuron_towards_y_3_the_same_value_is_no_minimum():
    """The same partition and value, but w_1's output weight has h . y_3 > 0: turning w_1 onto x_3 lowers
    the loss at first order, and the classification says so (it is not read off the value)."""
    W, H = plateau_point(128.0)
    assert H[0] @ Y_C[3] > 0
    exact, report = exact_report(W, H)
    assert exact.loss == sp.Rational(17, 200)
    assert report.classification != "local minimum"
    turn = np.array([1.0, -1.0]) * 1e-3  # x_3 . turn > 0: x_3 joins w_1's active side
    W_turned = exact.W.copy()
    W_turned[0] += turn
    assert network_loss(W_turned, exact.H, X_C, Y_C, RELU) < float(BY_HAND)


def test_without_the_spanning_least_squares_the_plateau_has_no_exact_value(monkeypatch):
    """The named content removed: the coupled groups fall back to the float refinement, no exact value."""
    monkeypatch.setattr(exact_plateau_module, "spanning_plateau", lambda *args: (None, "removed"))
    W, H = plateau_point(105.0)
    exact = exact_plateau_loss(idealise(W, H, X_C, Y_C, RELU), X_C, Y_C, RELU, pin_to_kink=True)
    assert exact.loss is None and exact.W_exact is None
