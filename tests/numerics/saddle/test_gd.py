"""The saddle tools on real gradient descent (a plain NumPy loop written here from the model's formulas)."""

import numpy as np
import pytest
import sympy as sp

from gradflow.numerics.saddle import (detect_plateaus, exact_plateau_loss, first_escape_rate, fit_escape_times, idealise,
                             measured_escape_time, neuron_observables, perturbation_certificate)
from gradflow.theory.activations import RELU

X_A = np.c_[[-1.0, -0.6, -0.1, 0.3, 0.7], np.ones(5)]  # relu-exp-a: inputs (x, 1)
Y_A = np.array([[0.28, -0.1, 0.03, 0.23, -0.22]]).T


def gradient_descent(W, H, X, Y, lr, steps, snapshot_every=None):
    """Full-batch GD on (1/(n d_out)) ||relu(X W^T) H - Y||^2 with relu'(0) = 0.
    Returns the loss before each step and (iterations, W, H) snapshots."""
    W, H = W.copy(), H.copy()
    losses, iterations, W_snapshots, H_snapshots = [], [], [], []
    for step in range(steps + 1):
        Z = X @ W.T
        A = np.maximum(Z, 0.0)
        E = A @ H - Y
        losses.append(np.mean(E ** 2))
        if snapshot_every and step % snapshot_every == 0:
            iterations.append(step)
            W_snapshots.append(W.copy())
            H_snapshots.append(H.copy())
        scale = 2.0 / E.size
        grad_W = scale * ((Z > 0) * (E @ H.T)).T @ X
        grad_H = scale * A.T @ E
        W -= lr * grad_W
        H -= lr * grad_H
    return np.array(losses), np.array(iterations), np.array(W_snapshots), np.array(H_snapshots)


def initial(width, sigma, seed):
    rng = np.random.default_rng(seed)
    return sigma * rng.standard_normal((width, 2)), sigma * rng.standard_normal((width, 1))


def test_first_escape_time_grows_like_log_one_over_sigma_over_two_lambda():
    lam = first_escape_rate(X_A, Y_A, RELU).lambda_star
    sigmas = np.array([1e-2, 1e-4, 1e-6, 1e-8])
    lr = 0.05
    times = []
    for sigma in sigmas:
        W0, H0 = initial(10, sigma, seed=3)
        steps = int(1.2 * np.log(1 / sigma) / (2 * lam) / lr)
        loss, *_ = gradient_descent(W0, H0, X_A, Y_A, lr, steps)
        times.append(measured_escape_time(np.arange(loss.size), loss, lr))
    fit = fit_escape_times(sigmas, times, lam)
    assert np.all(np.isfinite(times))
    assert fit.relative_error < 0.03


def test_conservation_drift_is_of_order_lr():
    drifts = []
    for lr in (0.02, 0.01):
        W0, H0 = initial(10, 0.3, seed=1)
        steps = int(round(40.0 / lr))
        _, _, W_snapshots, H_snapshots = gradient_descent(W0, H0, X_A, Y_A, lr, steps, snapshot_every=steps // 40)
        drifts.append(neuron_observables(W_snapshots, H_snapshots).max_conservation_drift)
    assert 0 < drifts[1] < drifts[0] < 1e-3
    assert drifts[0] / drifts[1] == pytest.approx(2.0, rel=0.1)


@pytest.fixture(scope="module")
def relu_exp_a_run():
    """relu-exp-a at lr 0.02 (the paper's 6e5 x 1e-3 time units would be 30000 steps; the first
    three plateaus are reached within 15000)."""
    W0, H0 = initial(50, 50.0 ** -3, seed=0)
    loss, iterations, W_snapshots, H_snapshots = gradient_descent(W0, H0, X_A, Y_A, 0.02, 15_000, snapshot_every=50)
    plateaus = detect_plateaus(np.arange(loss.size), loss)
    points = []
    for plateau in plateaus:
        r = int(np.argmin(np.abs(iterations - (plateau.start + plateau.end) // 2)))
        points.append(idealise(W_snapshots[r], H_snapshots[r], X_A, Y_A, RELU))
    return plateaus, points, W_snapshots, H_snapshots


def test_relu_exp_a_plateaus_are_exact_stationary_losses(relu_exp_a_run):
    plateaus, points, W_snapshots, H_snapshots = relu_exp_a_run
    assert len(plateaus) == 3
    expected = [sp.Rational(953, 25000), sp.Rational(50749, 1681250), sp.Rational(16139, 578750)]
    for plateau, point, value in zip(plateaus, points, expected):
        exact = exact_plateau_loss(point, X_A, Y_A, RELU, pin_to_kink=True)
        assert exact.loss == value and exact.keeps_pattern
        assert plateau.loss == pytest.approx(float(value), rel=1e-4)
    assert [len(point.groups) for point in points] == [0, 1, 2]
    assert points[1].groups[0].kink == (4,)  # the second plateau's neuron sits on the kink of x = 0.7
    # the neurons stay balanced: GD moves ||w||^2 - h^2 by O(lr) per unit time
    assert neuron_observables(W_snapshots, H_snapshots).max_conservation_drift < 1e-3


def test_the_protocol_can_miss_a_saddle(relu_exp_a_run):
    # The second plateau is a saddle (GD leaves it; its zero neurons see lambda = 0.034 > 0), but at the
    # protocol's amplitude the a^2 escape terms lose against the curvature of the active neuron and the
    # first-order rise across its kink: no sample goes down.  Larger perturbations find the way down.
    _, points, _, _ = relu_exp_a_run
    exact = exact_plateau_loss(points[1], X_A, Y_A, RELU, pin_to_kink=True)
    residual = np.maximum(X_A @ exact.W.T, 0.0) @ exact.H - Y_A
    assert first_escape_rate(X_A, -residual, RELU).lambda_star == pytest.approx(0.0343, abs=1e-4)
    assert perturbation_certificate(exact.W, exact.H, X_A, Y_A, RELU).decreasing == 0
    assert perturbation_certificate(exact.W, exact.H, X_A, Y_A, RELU, amplitude=1e-2).decreasing > 0


def test_second_plateau_numbers_from_an_independent_computation(relu_exp_a_run):
    """Where 50749/1681250 and lambda* = 0.0343 come from, without the saddle tools: the second plateau's
    one active neuron sits on the kink of x = 0.7 and is active on x < 0.7, so its output is c (0.7 - x)_+;
    c is the least-squares coefficient (exact fractions), the residual r = c f - y; lambda* is the largest
    |(1/n) sum_k (-r_k) relu(<(x_k, 1), u>)| over unit u, by a dense angle grid polished by Brent's method."""
    from scipy.optimize import minimize_scalar

    x = [sp.Rational(v).limit_denominator(10) for v in X_A[:, 0]]
    y = [sp.Rational(v).limit_denominator(100) for v in Y_A[:, 0]]
    f = [sp.Max(sp.Rational(7, 10) - xk, 0) for xk in x]
    c = sum(fk * yk for fk, yk in zip(f, y)) / sum(fk ** 2 for fk in f)
    r = [c * fk - yk for fk, yk in zip(f, y)]
    assert sum(rk ** 2 for rk in r) / len(r) == sp.Rational(50749, 1681250)
    _, points, _, _ = relu_exp_a_run
    exact = exact_plateau_loss(points[1], X_A, Y_A, RELU, pin_to_kink=True)
    np.testing.assert_allclose(np.maximum(X_A @ exact.W.T, 0.0) @ exact.H - Y_A, np.array(r, dtype=float)[:, None],
                               atol=1e-12)

    def G(theta):  # the escape function of a zero neuron in direction (cos, sin), by hand
        u = np.array([np.cos(theta), np.sin(theta)])
        return np.dot(-np.array(r, dtype=float), np.maximum(X_A @ u, 0.0)) / len(r)

    grid = np.linspace(0.0, 2 * np.pi, 2 ** 14, endpoint=False)
    best = grid[np.argmax([abs(G(a)) for a in grid])]
    polished = minimize_scalar(lambda a: -abs(G(a)), bounds=(best - grid[1], best + grid[1]), method="bounded",
                               options={"xatol": 1e-12})
    lam = -polished.fun
    assert lam == pytest.approx(0.0343, abs=1e-4)
    assert first_escape_rate(X_A, -np.array(r, dtype=float)[:, None], RELU).lambda_star == pytest.approx(lam, rel=1e-9)
