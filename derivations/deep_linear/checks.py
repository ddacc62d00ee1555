"""``gradflow check deep-linear``: the derived objects against simulation and the NumPy oracle.

Three numeric paths meet the theory here: W-space GD on (W1, W2) (the generated kernel and the
hand-written NumPy loop), the per-mode (a, b) lanes (the generated GD map and dopri5 flow), and
the logistic closed form with the time-to-learn law.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.deep_linear.simulators import lane_flow, lane_map_simulator, laws, weight_space_gd
from gradflow.numerics import Verdict, compare


def deep_linear_checks(settings: dict, quick: bool = True) -> list[Verdict]:
    """Every verdict, at the entry's default ``settings``."""
    return [
        check_gd_matches_lane_map(settings, steps=300 if quick else 3000),
        check_lane_flow_matches_logistic(quick),
        check_small_eta_tracks_logistic(settings, quick),
        *check_time_to_learn(quick),
        check_lane_flow_conservation(quick),
        check_kernel_matches_numpy(settings, steps=500 if quick else 5000),
    ]


def _fmt(values) -> str:
    return "(" + ", ".join(f"{float(v):g}" for v in np.atleast_1d(values)) + ")"


def check_gd_matches_lane_map(settings: dict, steps: int) -> Verdict:
    """(a) diag(U^T W2 W1 V) under W-space GD equals a b of the (a, b) lane GD map, mode by mode."""
    settings = {**settings, "eta": 0.05}  # a large step, where GD and the flow differ visibly
    problem, run = weight_space_gd(settings, steps, record=np.arange(steps + 1))
    a0 = np.sqrt(settings["s0"])
    lanes = lane_map_simulator().iterate(np.full((problem.sigma.size, 2), a0),
                                         {"sigma": problem.sigma, "eta": settings["eta"]}, steps)
    return compare("W-space GD modes = lane GD map", run.observable, lanes.observables["s"], 1e-10,
                   f"{steps} steps, eta = {settings['eta']}, sigma = {_fmt(problem.sigma)}")


def check_lane_flow_matches_logistic(quick: bool) -> Verdict:
    """(b) generated dopri5 on the (a, b) lanes against the logistic closed form."""
    sigma, s0 = np.array([3.0, 2.0, 1.0, 0.5]), 1e-3
    t_end = 2.0 * laws().slowest_half_time(sigma, s0)
    times = np.linspace(0.0, t_end, 101 if quick else 1001)
    states = lane_flow(sigma, np.sqrt(s0), np.sqrt(s0), times)
    return compare("lane flow (dopri5) = logistic", states[..., 0] * states[..., 1], laws().logistic(times, sigma, s0),
                   1e-8, f"t in [0, {t_end:.3g}], sigma = {_fmt(sigma)}, s0 = {s0}")


def gd_logistic_error(settings: dict, eta: float) -> float:
    """Largest |mode strength - logistic(eta k)| of W-space GD with step eta, to twice the slowest t_half."""
    sigma, s0 = np.asarray(settings["sigma"], float), settings["s0"]
    steps = int(np.ceil(2.0 * laws().slowest_half_time(sigma, s0) / eta))
    _, run = weight_space_gd({**settings, "eta": eta}, steps, record=np.arange(steps + 1))
    return float(np.max(np.abs(run.observable - laws().logistic(run.t * eta, sigma, s0))))


def check_small_eta_tracks_logistic(settings: dict, quick: bool) -> Verdict:
    """(c) W-space GD follows the logistic law up to O(eta).

    Tolerance: one GD step multiplies a small s by (1 + eta sigma)^2 = e^{2 sigma eta - sigma^2 eta^2 + ...},
    a rate 2 sigma - eta sigma^2 instead of 2 sigma, so the learning curve arrives late by
    about t_half * eta sigma / 2 = eta log(sigma/s0) / 4; times the largest slope sigma^2/2 of
    the logistic this is eta sigma^2 log(sigma/s0) / 8.  We allow twice that, and report the
    halving ratio err(eta)/err(eta/2) (about 2 for an O(eta) error) in the regime.
    """
    sigma, s0 = np.asarray(settings["sigma"], float), settings["s0"]
    eta = 2e-3 if quick else 5e-4
    errors = [gd_logistic_error(settings, eta), gd_logistic_error(settings, eta / 2)]
    tolerance = 2.0 * float(np.max(eta * sigma ** 2 * np.log(sigma / s0) / 8.0))
    ratio = errors[0] / errors[1]
    verdict = compare("W-space GD tracks the logistic law, O(eta)", errors[0], 0.0, tolerance,
                      f"eta = {eta}, sigma = {_fmt(sigma)}, s0 = {s0}; err(eta)/err(eta/2) = {ratio:.3f}")
    linear = bool(1.6 < ratio < 2.4)  # an O(eta) error halves with eta
    return Verdict(verdict.name, verdict.passed and linear, verdict.error, verdict.tolerance, verdict.regime,
                   verdict.measure)


def measured_half_times(sigma: float, s0_values, points: int = 20001) -> np.ndarray:
    """First time s = a b crosses sigma/2 along the lane flow, by linear interpolation on a fine grid.

    The crossing is the logistic's inflection point, where linear interpolation is third-order.
    """
    s0_values = np.asarray(s0_values, float)
    times = np.linspace(0.0, 1.5 * laws().slowest_half_time(sigma, s0_values), points)
    states = lane_flow(np.full(s0_values.size, sigma), np.sqrt(s0_values), np.sqrt(s0_values), times)
    strength = states[..., 0] * states[..., 1]
    crossings = []
    for lane in range(s0_values.size):
        i = int(np.argmax(strength[:, lane] >= sigma / 2))
        lo, hi = strength[i - 1, lane], strength[i, lane]
        crossings.append(times[i - 1] + (sigma / 2 - lo) / (hi - lo) * (times[i] - times[i - 1]))
    return np.array(crossings)


def check_time_to_learn(quick: bool) -> list[Verdict]:
    """(d) measured t_half against the exact half time and against the law log(sigma/s0)/(2 sigma).

    The law's relative error must shrink as s0 -> 0 and stay within twice the derived first
    correction -1/(2 sigma rho) (relative to the leading term) at every s0.
    """
    sigma = 1.0
    s0_values = np.array([1e-2, 1e-3, 1e-4] if quick else [1e-2, 1e-3, 1e-4, 1e-6, 1e-8])
    measured = measured_half_times(sigma, s0_values)
    exact = laws().half_time(sigma, s0_values)
    law = laws().time_to_learn(sigma / s0_values, sigma)
    regime = f"sigma = {sigma}, s0 in {_fmt(s0_values)}"
    exact_verdict = compare("measured t_half = exact half time", measured, exact, 1e-7, regime, relative=True)
    relative = np.abs(measured - law) / law
    allowed = 2.0 * np.abs(laws().correction(sigma / s0_values, sigma)) / law
    shrinking = bool(np.all(np.diff(relative) < 0))
    worst = float(np.max(relative / allowed))
    law_verdict = Verdict("time-to-learn law: relative error shrinks as s0 -> 0", bool(shrinking and worst <= 1.0),
                          worst, 1.0, regime + "; relative errors " + ", ".join(f"{r:.2e}" for r in relative),
                          "max rel / (2 x derived error term)")
    return [exact_verdict, law_verdict]


def check_lane_flow_conservation(quick: bool) -> Verdict:
    """(e) a^2 - b^2 along the dopri5 lane flow, from unbalanced starts."""
    sigma = np.array([3.0, 2.0, 1.0, 0.5])
    a0, b0 = np.array([1.5, 0.2, 0.05, 0.7]), np.array([0.1, 1.0, 0.03, -0.4])
    times = np.linspace(0.0, 10.0, 51 if quick else 501)
    states = lane_flow(sigma, a0, b0, times)
    imbalance = states[..., 0] ** 2 - states[..., 1] ** 2
    return compare("a^2 - b^2 conserved by the lane flow", imbalance, (a0 ** 2 - b0 ** 2)[None, :], 1e-10,
                   f"dopri5 rtol 1e-11, t in [0, 10], unbalanced starts, sigma = {_fmt(sigma)}")


def check_kernel_matches_numpy(settings: dict, steps: int) -> Verdict:
    """(f) the generated W-space kernel against the hand-written NumPy loop, unbalanced start included."""
    errors = []
    for imbalance in (1.0, 3.0):
        kernel, oracle = (weight_space_gd(settings, steps, np.arange(steps + 1), backend, imbalance=imbalance)[1]
                          for backend in ("cpu", "numpy"))
        errors.append(max(np.max(np.abs(kernel.loss - oracle.loss)),
                          np.max(np.abs(kernel.observable - oracle.observable)),
                          *(np.max(np.abs(x - y)) for x, y in zip(kernel.final, oracle.final))))
    return compare("generated kernel = NumPy oracle", max(errors), 0.0, 1e-12,
                   f"{steps} GD steps, eta = {settings['eta']}, balanced and unbalanced (x3) starts; loss, modes, W")
