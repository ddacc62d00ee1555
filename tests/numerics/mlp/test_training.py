"""Training drivers on plain NumPy objectives (known answers) and on a small network."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.training import RULES, log_times, train, train_ensemble
from gradflow.numerics.mlp.training.termination import Limits, Recorder, Tracker
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp import Layer, Network, random_params


class Quadratic:
    """L = (1/N) sum_n w_n (a_n . theta - b_n)^2 / 2 + c |theta|^4 / 4, samples as rows (a_n, b_n)."""

    def __init__(self, A, b, quartic=0.0, w=None):
        self.A, self.b, self.quartic = np.asarray(A, float), np.asarray(b, float), quartic
        self.w = np.ones(len(b)) if w is None else np.asarray(w, float)
        self.n_params, self.n_samples = self.A.shape[1], self.A.shape[0]
        self.evaluations = 0

    def loss_and_gradient(self, theta):
        self.evaluations += 1
        r = self.A @ theta - self.b
        n2 = theta @ theta
        loss = 0.5 * np.mean(self.w * r * r) + self.quartic * n2 * n2 / 4
        if not np.isfinite(loss):
            raise DivergenceError(None, "loss")
        return float(loss), self.A.T @ (self.w * r) / self.n_samples + self.quartic * n2 * theta

    def loss(self, theta):
        return self.loss_and_gradient(theta)[0]

    def hessian(self, theta):
        n2 = theta @ theta
        return (self.A.T * self.w) @ self.A / self.n_samples + self.quartic * (n2 * np.eye(self.n_params)
                                                                                 + 2 * np.outer(theta, theta))

    def loss_gradient_hessian(self, theta):
        loss, grad = self.loss_and_gradient(theta)
        return loss, grad, self.hessian(theta)

    def hessian_vector(self, theta, v):
        return self.hessian(theta) @ v

    def on_samples(self, start, stop):
        return Quadratic(self.A[start:stop], self.b[start:stop], self.quartic, self.w[start:stop])

    def shuffled(self, order):
        return Quadratic(self.A[order], self.b[order], self.quartic, self.w[order])

    @property
    def data_term(self):
        return self


class Rosenbrock(Quadratic):
    def __init__(self):
        super().__init__(np.zeros((1, 2)), np.zeros(1))

    def loss_and_gradient(self, theta):
        x, y = theta
        return float((1 - x) ** 2 + 100 * (y - x * x) ** 2), np.array([-2 * (1 - x) - 400 * x * (y - x * x),
                                                                       200 * (y - x * x)])

    def hessian(self, theta):
        x, y = theta
        return np.array([[2 - 400 * (y - 3 * x * x), -400 * x], [-400 * x, 200.0]])


def _problem(seed=0, n=40, p=5, quartic=0.05):
    rng = np.random.default_rng(seed)
    return Quadratic(rng.normal(size=(n, p)), rng.normal(size=n), quartic)


def test_the_stiff_flow_follows_scipy_radau():
    objective = _problem()
    start = np.linspace(-1, 1, 5)
    result = train(objective, start, polish="none", maxT=20.0, n_samples_trajectory=30, rtol=1e-9, atol=1e-9)
    assert result.ode_stopped_by == "maxT" and result.final_time == pytest.approx(20.0)
    reference = solve_ivp(lambda t, y: -objective.loss_and_gradient(y)[1], (0, 20.0), start, method="Radau",
                          rtol=1e-11, atol=1e-11, dense_output=True)
    for t, point in zip(result.trajectory_times, result.trajectory):
        assert np.allclose(point, reference.sol(t), rtol=1e-6, atol=1e-7), t


def test_a_solver_failing_at_a_large_clock_restarts_at_zero_and_the_flow_goes_on(monkeypatch):
    """Near a minimum the flow's time reaches 1e18, where a float's spacing (256) is larger than the step a change
    of curvature needs: the solver fails.  The flow is autonomous, so it restarts with its clock at zero; the
    times it reports stay the flow's times.  Here L = x^4 / 4, x(t) = x0 / sqrt(1 + 2 x0^2 t), and the failure
    is injected once, at the first step past t = 1e7."""
    from scipy.integrate import Radau

    from gradflow.numerics.mlp.training import flow

    starts = []

    class FailsOnce(Radau):
        def __init__(self, fun, t0, *args, **kwargs):
            starts.append(t0)
            super().__init__(fun, t0, *args, **kwargs)

        def step(self):
            if len(starts) == 1 and self.t >= 1e7:
                self.status = "failed"
                return "Required step size is less than spacing between numbers."
            return super().step()

    monkeypatch.setattr(flow, "Radau", FailsOnce)
    quartic = Quadratic(np.zeros((1, 1)), np.zeros(1), quartic=1.0)
    result = train(quartic, np.array([1.0]), polish="none", maxT=1e10, min_gnorm=0.0, minloss=0.0, rtol=1e-9,
                   atol=1e-15, spectrum=False, maxiterations_ode=100_000)
    assert starts == [0.0, 0.0]  # one restart, with Radau, its clock at zero
    assert result.ode_stopped_by == "maxT" and result.final_time == pytest.approx(1e10)
    assert result.ode_x[0] == pytest.approx(1 / np.sqrt(1 + 2e10), rel=1e-5)
    assert np.all(np.diff(result.trajectory_times) > 0)
    late = result.trajectory_times > 1e7
    assert late.any() and np.allclose(result.trajectory[late, 0], 1 / np.sqrt(1 + 2 * result.trajectory_times[late]),
                                      rtol=1e-5)


def test_scalar_tauinv_is_a_time_scale_and_per_parameter_rates_work():
    objective = _problem(1)
    start = np.ones(5)
    options = {"polish": "none", "rtol": 1e-10, "atol": 1e-10, "spectrum": False}
    slow = train(objective, start, maxT=6.0, **options)
    fast = train(objective, start, maxT=2.0, tauinv=3.0, **options)
    assert np.allclose(fast.ode_x, slow.ode_x, rtol=1e-7, atol=1e-9)
    rates = np.array([1.0, 2.0, 0.5, 1.0, 1.0])
    per = train(objective, start, maxT=1.0, tauinv=rates, **options)
    reference = solve_ivp(lambda t, y: -rates * objective.loss_and_gradient(y)[1], (0, 1.0), start, rtol=1e-11,
                          atol=1e-11)
    assert np.allclose(per.ode_x, reference.y[:, -1], rtol=1e-7, atol=1e-9)


def test_newton_converges_quadratically_and_reaches_the_gradient_floor():
    objective = _problem(2)
    result = train(objective, np.full(5, 2.0), method="gd", lr=0.05, maxiterations_ode=5, polish="newton",
                   min_gnorm=1e-13)
    assert result.optim_stopped_by == "min_gnorm" and result.gnorm <= 1e-13 and result.converged
    assert result.optim_iterations <= 12  # quadratic convergence: a handful of steps


def test_the_minimum_norm_newton_step_stays_put_along_flat_directions():
    # the loss depends on theta_0 + theta_1 only: a valley of minima; Newton should land on the one
    # closest to the start along the gradient direction, leaving the flat direction unchanged
    A = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    objective = Quadratic(A, np.array([2.0, 1.0]))
    start = np.array([3.0, -1.0, 0.0])
    result = train(objective, start, method="gd", lr=1e-3, maxiterations_ode=1, polish="newton")
    assert result.gnorm <= 1e-13
    flat = np.array([1.0, -1.0, 0.0]) / np.sqrt(2)
    assert (result.x - result.ode_x) @ flat == pytest.approx(0.0, abs=1e-12)


def _degenerate_valley():
    """1e12 theta_0^2 / 2 + |theta|^4 / 4: a minimum at 0, quartic along theta_1.  Once theta_1 < 0.38 its
    curvature 3 theta_1^2 is below the rounding of the Hessian (whose scale is 1e12), so Newton's step leaves
    that direction out and only its damping moves there."""
    return Quadratic(np.array([[1e6, 0.0]]), np.array([0.0]), quartic=1.0)


def test_newton_bfgs_hands_a_stalled_newton_over_to_bfgs_and_auto_chooses_it():
    objective, start = _degenerate_valley(), np.array([1e-3, 0.3])
    options = dict(method="gd", lr=1e-13, maxiterations_ode=1, min_gnorm=1e-12, maxiterations_optim=300)
    newton = train(objective, start, polish="newton", **options)
    assert newton.optim_stopped_by == "maxiterations" and newton.gnorm > 1e-6  # creeps along theta_1
    handed = train(objective, start, polish="newton-bfgs", **options)
    assert handed.optim_stopped_by == "min_gnorm" and handed.gnorm <= 1e-12 and handed.converged
    auto = train(objective, start, **options)
    assert auto.polish == "newton-bfgs" and np.array_equal(auto.x, handed.x)


def test_auto_polishes_a_flows_end_point_with_bfgs_hessian():
    objective = _problem(2)
    options = dict(maxiterations_ode=50, min_gnorm=1e-12, spectrum=False)
    auto = train(objective, np.full(5, 2.0), **options)
    chosen = train(objective, np.full(5, 2.0), polish="bfgs-hessian", **options)
    assert auto.polish == "bfgs-hessian" and np.array_equal(auto.x, chosen.x)
    assert auto.optim_stopped_by == "min_gnorm" and auto.converged


def test_a_non_degenerate_minimum_never_stalls_newton():
    objective = _problem(2)
    result = train(objective, np.full(5, 2.0), method="gd", lr=0.05, maxiterations_ode=5, min_gnorm=1e-13)
    assert result.polish == "newton-bfgs" and result.optim_stopped_by == "min_gnorm"
    assert result.optim_iterations <= 12  # Newton's handful, not BFGS's dozens


@pytest.mark.parametrize("polish", ["bfgs", "scipy-bfgs", "lbfgs"])
def test_quasi_newton_polish_reaches_the_rosenbrock_minimum(polish):
    result = train(Rosenbrock(), np.array([-1.2, 1.0]), method="gd", lr=1e-4, maxiterations_ode=1, polish=polish,
                   min_gnorm=1e-8)
    assert np.allclose(result.x, [1.0, 1.0], atol=1e-6) and result.gnorm <= 1e-8


def test_small_step_gd_tracks_the_flow():
    objective = _problem(3, quartic=0.0)
    start = np.zeros(5)
    gd = train(objective, start, method="gd", lr=1e-3, maxiterations_ode=2000, polish="none", spectrum=False)
    flow = train(objective, start, maxT=2.0, polish="none", rtol=1e-10, atol=1e-10, spectrum=False)
    assert np.allclose(gd.ode_x, flow.ode_x, atol=2e-3)


def test_minibatches_cycle_drop_the_partial_batch_and_shuffle_deterministically():
    objective = _problem(4, n=10)
    with pytest.warns(UserWarning, match="last 1 samples of every epoch are dropped"):
        first = train(objective, np.zeros(5), method="sgd", lr=0.05, batchsize=3, maxiterations_ode=30,
                      polish="none", spectrum=False)
    assert first.ode_iterations == 30 and first.ode_stopped_by == "maxiterations"
    runs = [train(objective, np.zeros(5), method="adam", lr=0.01, batchsize=5, shuffle=True, seed=7,
                  maxiterations_ode=20, polish="none", spectrum=False) for _ in range(2)]
    assert np.array_equal(runs[0].ode_x, runs[1].ode_x)
    other = train(objective, np.zeros(5), method="adam", lr=0.01, batchsize=5, shuffle=True, seed=8,
                  maxiterations_ode=20, polish="none", spectrum=False)
    assert not np.array_equal(other.ode_x, runs[0].ode_x)


def test_sgd_with_full_batches_is_gd():
    objective = _problem(5)
    gd = train(objective, np.ones(5), method="gd", lr=0.1, maxiterations_ode=50, polish="none", spectrum=False)
    sgd = train(objective, np.ones(5), method="sgd", lr=0.1, batchsize=objective.n_samples, maxiterations_ode=50,
                polish="none", spectrum=False)
    assert np.allclose(gd.ode_x, sgd.ode_x, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("options, rule", [
    ({"maxiterations_ode": 3, "method": "gd", "lr": 1e-3}, "maxiterations"),
    ({"minloss": 1e3}, "minloss"),
    ({"min_gnorm": 1e3}, "min_gnorm"),
    ({"patience": 1, "method": "gd", "lr": 10.0, "maxiterations_ode": 100}, "patience"),
    ({"maxT": 0.5}, "maxT"),
    ({"maxtime_ode": 1e-9}, "maxtime"),
])
def test_each_termination_rule_stops_the_phase_and_is_named(options, rule):
    assert rule in RULES
    result = train(_problem(6), np.ones(5), polish="none", spectrum=False, **options)
    assert result.ode_stopped_by == rule


def test_the_best_point_is_returned_not_the_last():
    objective = _problem(7, quartic=0.0)
    # a step size beyond 2 / lambda_max oscillates with growing loss: the start stays the best point
    values, vectors = np.linalg.eigh(objective.hessian(np.zeros(5)))
    lam = values[-1]
    start = np.linalg.lstsq(objective.A, objective.b, rcond=None)[0] + 1e-3 * vectors[:, -1]
    result = train(objective, start, method="gd", lr=2.5 / lam, maxiterations_ode=20, polish="none",
                   spectrum=False)
    assert np.array_equal(result.ode_x, start) and result.ode_loss == pytest.approx(objective.loss(start))
    assert result.loss_curve[-1] > result.ode_loss


def test_divergence_raises_with_the_step():
    objective = _problem(8, quartic=1.0)
    with pytest.raises(DivergenceError, match="step"):
        train(objective, np.full(5, 10.0), method="gd", lr=10.0, maxiterations_ode=100, polish="none")


def test_ensemble_members_equal_single_runs():
    net = Network(2, (Layer(3, "tanh"), Layer(1)))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    objective = MLPObjective.create(net, X, np.sin(X[:, :1]))
    Theta0 = np.stack([random_params(net, s) for s in range(3)])
    options = {"method": "gd", "lr": 0.2, "maxiterations_ode": 200, "maxiterations_optim": 20, "spectrum": False}
    together = train_ensemble(objective, Theta0, workers=2, **options)
    for theta0, member in zip(Theta0, together):
        alone = train(objective, theta0, **options)
        assert np.array_equal(alone.x, member.x) and alone.ode_iterations == member.ode_iterations


def test_progress_bars_count_steps_and_members_and_change_nothing(capsys):
    net = Network(2, (Layer(3, "tanh"), Layer(1)))
    X = np.random.default_rng(1).normal(size=(40, 2))
    objective = MLPObjective.create(net, X, np.sin(X[:, :1]))
    Theta0 = np.stack([random_params(net, s) for s in range(2)])
    options = {"method": "gd", "lr": 0.2, "maxiterations_ode": 150, "maxiterations_optim": 20, "spectrum": False}
    plain = train(objective, Theta0[0], **options)
    capsys.readouterr()
    shown = train(objective, Theta0[0], progress=True, **options)
    err = capsys.readouterr().err
    assert "gd:150step" in err.replace(" ", "")  # the gd phase's bar counted its 150 steps
    assert "stopped_by=maxiterations" in err and "polish" in err
    assert np.array_equal(plain.x, shown.x) and plain.loss == shown.loss
    members = train_ensemble(objective, Theta0, workers=2, progress=True, **options)
    assert "2/2" in capsys.readouterr().err and np.array_equal(members[0].x, plain.x)


def test_ctrl_c_ends_an_ensemble_at_once_not_after_every_time_limit():
    net = Network(2, (Layer(3, "tanh"), Layer(1)))
    X = np.random.default_rng(2).normal(size=(200, 2))
    objective = MLPObjective.create(net, X, np.sin(X[:, :1]))
    Theta0 = np.stack([random_params(net, s) for s in range(6)])
    options = {"method": "gd", "lr": 1e-6, "maxtime_ode": 30.0, "maxiterations_ode": 10 ** 9, "minloss": 0.0,
               "min_gnorm": 0.0, "spectrum": False}
    # Python's own Ctrl-C handler, the one `gradflow` runs under (a library earlier in the suite may replace it)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    try:
        start = time.perf_counter()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            train_ensemble(objective, Theta0, workers=2, **options)
        elapsed = time.perf_counter() - start
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert elapsed < 15.0  # leaving the pool joins its threads: waiting out the members would take 90 s


@pytest.mark.parametrize("options, name", [
    ({"method": "newton"}, "method"), ({"polish": "sgd"}, "polish"), ({"method": "gd"}, "lr"),
    ({"method": "gd", "lr": -1.0}, "lr"), ({"method": "sgd", "lr": 0.1, "batchsize": 0}, "batchsize"),
    ({"method": "sgd", "lr": 0.1, "batchsize": 41}, "batchsize"), ({"tauinv": 0.0}, "tauinv"),
    ({"tauinv": np.ones(3)}, "tauinv"),
])
def test_bad_options_name_the_key(options, name):
    with pytest.raises(ParameterError) as info:
        train(_problem(), np.zeros(5), **options)
    assert info.value.parameter == name


def test_a_non_finite_start_is_refused():
    with pytest.raises(ParameterError, match="theta0: must be finite"):
        train(_problem(), np.array([0, 0, np.nan, 0, 0.0]))


def test_log_times_and_the_recorder_keep_a_bounded_log_spaced_record():
    times = log_times(0.0, 1e6, 7)
    assert times[0] == 0.0 and times[-1] == pytest.approx(1e6) and np.allclose(np.diff(np.log10(times + 1)), 1.0)
    recorder = Recorder(10)
    for t in np.linspace(0, 1e4, 100_001):
        recorder.record(t, np.array([t]), t)
    assert len(recorder.times) <= 40
    chosen, points, losses = recorder.select()
    assert len(chosen) <= 10 and chosen[-1] == pytest.approx(1e4, rel=1e-3) and np.all(np.diff(chosen) > 0)


def test_tracker_patience_counts_evaluations_without_a_new_best():
    tracker = Tracker(Limits(patience=3))
    for loss in (5.0, 4.0, 4.5, 4.2, 4.1):
        tracker.observe(np.zeros(1), loss, 1.0)
    assert tracker.check(4.1, 1.0) == "patience" and tracker.best_loss == 4.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Tracker(Limits()).check(1.0, 1.0) is None
