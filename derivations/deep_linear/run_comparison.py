"""``gradflow simulate deep-linear --compare``: one run's recorded mode strengths against the derived
logistic solution and the time-to-learn law, one verdict each.

The predictions are read from the derivation (``doc.logistic``, ``doc.time_to_learn`` and its
derived correction) through :class:`ModeLaws`, never retyped.  Tolerances:

* the flow's modes equal the logistic to the integrator's accuracy (dopri5 / DOP853 at rtol 1e-11);
* GD's modes follow the logistic in the time eta t up to O(eta): a small s grows by (1 + eta sigma)^2
  a step, a rate 2 sigma - eta sigma^2 instead of 2 sigma, so GD arrives late by about
  t_half eta sigma / 2 = eta log(rho) / 4 (rho = sigma / s0); times the logistic's largest slope
  sigma^2 / 2 that is eta sigma^2 log(rho) / 8, and the error may reach twice that (as in `check`);
* the measured half time t_half (s = sigma / 2, read off the records where log(s / (sigma - s)),
  linear in t for the logistic, crosses 0) is within twice the law's derived error term
  |correction(rho, sigma)| of log(rho) / (2 sigma), plus, for GD, twice its O(eta) delay
  eta log(rho) / 4.  A mode that has not reached sigma / 2 by the end of the run fails: the run is
  too short for the law.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.deep_linear.laws import ModeLaws
from gradflow.numerics import Verdict, compare_each

SOLUTION_TOLERANCE = 1e-8  # the lane flow (rtol 1e-11) against the closed form, as `check` holds it
ERROR_TERMS = 2.0  # a law's error may reach this many times its derived error term


def gd_logistic_tolerance(sigma, s0: float, eta: float) -> float:
    """2 x eta sigma^2 log(sigma/s0) / 8 over the modes: GD's O(eta) distance from the logistic."""
    sigma = np.asarray(sigma, float)
    return ERROR_TERMS * float(np.max(eta * sigma ** 2 * np.log(sigma / s0) / 8.0))


def deep_linear_comparison(doc, method: str, result: dict) -> list[Verdict]:
    """The verdicts of a ``gd`` or ``flow`` run of deep-linear (``result`` as ``simulate`` returns it)."""
    laws = ModeLaws(doc)
    params = result["params"]
    sigma, s0 = np.asarray(params["sigma"], float), float(params["s0"])
    modes = np.asarray(result["modes"], float)
    if method == "flow":
        time = np.asarray(result["t"], float)
        logistic = laws.logistic(time, sigma, s0)
        solution = compare_each("modes s(t) = logistic solution", modes, logistic, SOLUTION_TOLERANCE,
                                f"t in [0, {time[-1]:.4g}], {sigma.size} modes (lane flow, rtol 1e-11)")
        delay = np.zeros_like(sigma)
    else:
        eta = float(params["eta"])
        time = np.asarray(result["t"], float) * eta
        logistic = laws.logistic(time, sigma, s0)
        solution = compare_each("GD modes s_k = logistic s(eta k) + O(eta)", modes, logistic,
                                gd_logistic_tolerance(sigma, s0, eta),
                                f"eta k in [0, {time[-1]:.4g}], {sigma.size} modes: 2 x eta sigma^2 log(sigma/s0)/8, "
                                f"GD's O(eta) lag behind the flow", "max abs")
        delay = eta * np.log(sigma / s0) / 4.0
    return [solution, time_to_learn_verdict(laws, time, modes, sigma, s0, delay, method)]


def half_times(time, modes, sigma) -> np.ndarray:
    """The first time each mode reaches sigma / 2 (NaN if it does not), interpolating log(s / (sigma - s))
    linearly between the records around the crossing (exact for a logistic)."""
    out = np.full(sigma.size, np.nan)
    for lane in range(sigma.size):
        s = modes[:, lane]
        above = np.flatnonzero(s >= sigma[lane] / 2)
        if above.size == 0:
            continue
        i = int(above[0])
        if i == 0:
            out[lane] = time[0]
            continue
        lo, hi = (np.log(x / (sigma[lane] - x)) for x in (s[i - 1], min(s[i], np.nextafter(sigma[lane], 0))))
        out[lane] = time[i - 1] + (0.0 - lo) / (hi - lo) * (time[i] - time[i - 1])
    return out


def time_to_learn_verdict(laws: ModeLaws, time, modes, sigma, s0: float, delay, method: str) -> Verdict:
    """Each mode's measured half time against t_half = log(rho) / (2 sigma) + O(1/rho)."""
    rho = sigma / s0
    name = "time to learn t_half = log(sigma/s0)/(2 sigma) + O(s0/sigma)"
    tolerance = ERROR_TERMS * (np.abs(laws.correction(rho, sigma)) + delay)
    measured = half_times(time, modes, sigma)
    predicted = laws.time_to_learn(rho, sigma) * np.ones_like(sigma)
    unit = "eta k" if method == "gd" else "t"
    if np.any(np.isnan(measured)):
        lane = int(np.argmax(np.isnan(measured)))
        option = "--steps" if method == "gd" else "--t-end"
        return Verdict(name, False, float("inf"), float(tolerance[lane]),
                       f"run too short for the law: the sigma = {sigma[lane]:g} mode has not reached sigma/2 by "
                       f"{unit} = {time[-1]:.4g} (the law puts it at {predicted[lane]:.4g}; lengthen {option})",
                       "|t_half - law|", predicted=float(predicted[lane]))
    why = "2 x the derived error term |correction(rho, sigma)|" + (" + 2 x GD's delay eta log(rho)/4"
                                                                   if method == "gd" else "")
    return compare_each(name, measured, predicted, tolerance,
                        f"{sigma.size} modes, rho = sigma/s0 >= {np.min(rho):.4g}, {unit} read where "
                        f"log(s/(sigma - s)) crosses 0: {why}", "|t_half - law|")
