"""The two-layer linear network (Saxe et al. 2014) as a CLI model: derive, simulate, check.

Three numeric paths meet the theory here:
- W-space GD on (W1, W2) through the generated squared-loss kernel (backend "cpu") or the
  hand-written NumPy loop (backend "numpy", also the kernel's oracle);
- the per-mode (a, b) lanes through the generated lane kernels (GD map and dopri5 flow);
- the logistic closed form and the time-to-learn law from theory.models.deep_linear.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from gradflow.numerics.closed_form import numeric_function
from gradflow.numerics.compare import Verdict, compare
from gradflow.numerics.deep_linear import SquaredLossSimulator, mode_problem, numpy_gd, validate_deep_linear
from gradflow.numerics.drivers.lanes import LaneSimulator
from gradflow.theory.errors import require
from gradflow.theory.models import deep_linear

from gradflow.derivations.base import Key, ModelEntry
from gradflow.derivations.derivation_cache import cached

KEYS = (
    Key("n_in", "int", 5, "an integer >= 1", lambda v: v >= 1),
    Key("hidden", "int", 4, "an integer >= 1", lambda v: v >= 1),
    Key("n_out", "int", 3, "an integer >= 1", lambda v: v >= 1),
    Key("sigma", "floats", (3.0, 2.0, 1.0), "a comma list of positive numbers, at most min(n_in, hidden, n_out) long",
        lambda v: len(v) >= 1 and all(x > 0 for x in v)),
    Key("s0", "float", 1e-3, "a number in (0, min sigma)", lambda v: v > 0),
    Key("eta", "float", 0.01, "a number > 0", lambda v: v > 0),
    Key("seed", "int", 0, "an integer >= 0", lambda v: v >= 0),
)
BACKENDS = ("cpu", "numpy")
DEFAULT_GD_STEPS = 2000
RECORDS = 500  # at most this many records per run (plus the first)


# --- theory as NumPy functions (built once per process) ----------------------------------------

@lru_cache(maxsize=None)
def derivation():
    """deep_linear.derive() through the disk cache."""
    return cached("deep_linear", deep_linear.derive)


@lru_cache(maxsize=None)
def _theory():
    results = derivation().results
    t = results["strength_flow"].time
    return {
        "logistic": numeric_function(results["logistic"], (t, deep_linear.sigma, deep_linear.s0)),
        "half_time": numeric_function(results["half_time"], (deep_linear.sigma, deep_linear.s0)),
        "law": results["time_to_learn"].leading_function((deep_linear.sigma,)),
        "law_correction": numeric_function(results["time_to_learn"].constants["correction"],
                                           (deep_linear.rho, deep_linear.sigma)),
        "lane_loss": numeric_function(results["lane_loss"], (deep_linear.a, deep_linear.b, deep_linear.sigma)),
        "lane_rhs": numeric_function(results["lane_flow"].rhs, (deep_linear.a, deep_linear.b, deep_linear.sigma)),
    }


@lru_cache(maxsize=None)
def _lane_flow_simulator() -> LaneSimulator:
    a, b = deep_linear.a, deep_linear.b
    return LaneSimulator(derivation().results["lane_flow"], {"s": a * b, "imbalance": a ** 2 - b ** 2})


@lru_cache(maxsize=None)
def _lane_map_simulator() -> LaneSimulator:
    return LaneSimulator(derivation().results["lane_map"], {"s": deep_linear.a * deep_linear.b})


@lru_cache(maxsize=None)
def _weight_space_simulator() -> SquaredLossSimulator:
    return SquaredLossSimulator()


def _logistic(times, sigma, s0) -> np.ndarray:
    """records x modes."""
    return _theory()["logistic"](np.asarray(times, float)[:, None], np.asarray(sigma, float)[None, :], s0)


def _fmt(values) -> str:
    return "(" + ", ".join(f"{float(v):g}" for v in np.atleast_1d(values)) + ")"


def _record_steps(n_steps: int) -> np.ndarray:
    return np.unique(np.linspace(0, n_steps, min(n_steps, RECORDS) + 1).round().astype(np.int64))


# --- runs -------------------------------------------------------------------------------------

def weight_space_gd(settings: dict, n_steps: int, backend: str = "cpu", progress: bool = False, record=None,
                    imbalance: float = 1.0):
    """(problem, trajectory) of W-space GD from the balanced (or unbalanced) initialisation."""
    problem = mode_problem(settings["n_in"], settings["hidden"], settings["n_out"], settings["sigma"],
                           settings["s0"], settings["seed"], imbalance)
    record = _record_steps(n_steps) if record is None else record
    if backend == "cpu":
        run = _weight_space_simulator().gd(problem.initial, problem.data, settings["eta"], n_steps, record, progress)
    else:
        run = numpy_gd(problem.initial, problem.data, settings["eta"], n_steps, record)
    return problem, run


def lane_flow(sigma, a0, b0, times, backend: str = "cpu", rtol: float = 1e-11, atol: float = 1e-13):
    """states[r, lane, (a, b)] of the per-mode lane flow, one lane per sigma."""
    sigma = np.asarray(sigma, float)
    initial = np.column_stack([np.broadcast_to(a0, sigma.shape), np.broadcast_to(b0, sigma.shape)])
    if backend == "cpu":
        return _lane_flow_simulator().integrate(initial, sigma[:, None], times, "dopri5", rtol=rtol, atol=atol).states
    from scipy.integrate import solve_ivp

    rhs = _theory()["lane_rhs"]
    states = np.empty((len(times), sigma.size, 2))
    for lane, (x0, q) in enumerate(zip(initial, sigma)):
        solved = solve_ivp(lambda _, x: np.asarray(rhs(x[0], x[1], q), float), (0.0, float(times[-1])), x0,
                           method="DOP853", t_eval=times, rtol=rtol, atol=atol)
        states[:, lane, :] = solved.y.T
    return states


@dataclass
class DeepLinearEntry(ModelEntry):
    name: str = "deep-linear"
    summary: str = ("two-layer linear network y = W2 W1 x: per-mode logistic learning, "
                    "time to learn ~ log(sigma/s0)/(2 sigma)")
    keys: tuple = KEYS
    methods: tuple = ("gd", "flow")

    def derivation(self):
        return derivation()

    def simulate(self, settings: dict, method: str, steps: int | None = None, t_end: float | None = None,
                 backend: str = "cpu", progress: bool = False) -> dict:
        settings = {**{k.name: k.default for k in self.keys}, **settings}
        validate_deep_linear(settings["n_in"], settings["hidden"], settings["n_out"], settings["sigma"],
                             settings["s0"], settings["eta"])
        require(method in self.methods, "method", f"one of {', '.join(self.methods)}", method)
        require(backend in BACKENDS, "backend", f"one of {', '.join(BACKENDS)}", backend)
        sigma, s0 = np.asarray(settings["sigma"], float), settings["s0"]
        params = {**{k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
                  "method": method, "backend": backend}
        if method == "gd":
            if steps is None:
                steps = DEFAULT_GD_STEPS if t_end is None else int(np.ceil(t_end / settings["eta"]))
            require(int(steps) == steps and steps >= 0, "steps", "a non-negative integer", steps)
            _, run = weight_space_gd(settings, int(steps), backend, progress)
            # as for the other models, t counts GD steps; "time" is eta t, where the logistic is evaluated
            t, times, loss, modes = run.t, run.t * settings["eta"], run.loss, run.observable
            params["steps"] = int(steps)
            extra = {"time": times.tolist()}
        else:
            if t_end is None:  # twice the slowest mode's time to learn
                t_end = 2.0 * float(np.max(_theory()["half_time"](sigma, s0)))
            require(np.isfinite(t_end) and t_end > 0, "t_end", "a finite number > 0", t_end)
            times = np.linspace(0.0, t_end, RECORDS + 1)
            states = lane_flow(sigma, np.sqrt(s0), np.sqrt(s0), times, backend)
            a, b = states[..., 0], states[..., 1]
            modes = a * b
            loss = _theory()["lane_loss"](a, b, sigma[None, :]).sum(axis=1)
            params["t_end"] = float(t_end)
            t, extra = times, {}
        return {"params": params, "t": np.asarray(t, float).tolist(), "loss": np.asarray(loss).tolist(),
                "modes": np.asarray(modes).tolist(), "logistic": _logistic(times, sigma, s0).tolist(), **extra}

    def checks(self, quick: bool = True) -> list:
        settings = {k.name: k.default for k in self.keys}
        return [
            check_gd_matches_lane_map(settings, steps=300 if quick else 3000),
            check_lane_flow_matches_logistic(quick),
            check_small_eta_tracks_logistic(settings, quick),
            *check_time_to_learn(quick),
            check_lane_flow_conservation(quick),
            check_kernel_matches_numpy(settings, steps=500 if quick else 5000),
        ]


# --- checks -------------------------------------------------------------------------------------

def check_gd_matches_lane_map(settings: dict, steps: int) -> Verdict:
    """(a) diag(U^T W2 W1 V) under W-space GD equals a b of the (a, b) lane GD map, mode by mode."""
    settings = {**settings, "eta": 0.05}  # a large step, where GD and the flow differ visibly
    problem, run = weight_space_gd(settings, steps, record=np.arange(steps + 1))
    a0 = np.sqrt(settings["s0"])
    params = np.column_stack([problem.sigma, np.full(problem.sigma.size, settings["eta"])])  # (sigma, eta)
    lanes = _lane_map_simulator().iterate(np.full((problem.sigma.size, 2), a0), params, steps)
    return compare("W-space GD modes = lane GD map", run.observable, lanes.observables["s"], 1e-10,
                   f"{steps} steps, eta = {settings['eta']}, sigma = {_fmt(problem.sigma)}")


def check_lane_flow_matches_logistic(quick: bool) -> Verdict:
    """(b) generated dopri5 on the (a, b) lanes against the logistic closed form."""
    sigma, s0 = np.array([3.0, 2.0, 1.0, 0.5]), 1e-3
    t_end = 2.0 * float(np.max(_theory()["half_time"](sigma, s0)))
    times = np.linspace(0.0, t_end, 101 if quick else 1001)
    states = lane_flow(sigma, np.sqrt(s0), np.sqrt(s0), times)
    return compare("lane flow (dopri5) = logistic", states[..., 0] * states[..., 1], _logistic(times, sigma, s0), 1e-8,
                   f"t in [0, {t_end:.3g}], sigma = {_fmt(sigma)}, s0 = {s0}")


def gd_logistic_error(settings: dict, eta: float) -> float:
    """Largest |mode strength - logistic(eta k)| of W-space GD with step eta, to twice the slowest t_half."""
    sigma, s0 = np.asarray(settings["sigma"], float), settings["s0"]
    t_end = 2.0 * float(np.max(_theory()["half_time"](sigma, s0)))
    steps = int(np.ceil(t_end / eta))
    _, run = weight_space_gd({**settings, "eta": eta}, steps, record=np.arange(steps + 1))
    return float(np.max(np.abs(run.observable - _logistic(run.t * eta, sigma, s0))))


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
    t_end = 1.5 * float(np.max(_theory()["half_time"](sigma, s0_values)))
    times = np.linspace(0.0, t_end, points)
    states = lane_flow(np.full(s0_values.size, sigma), np.sqrt(s0_values), np.sqrt(s0_values), times)
    strength = states[..., 0] * states[..., 1]
    crossings = []
    for lane in range(s0_values.size):
        i = int(np.argmax(strength[:, lane] >= sigma / 2))
        lo, hi = strength[i - 1, lane], strength[i, lane]
        crossings.append(times[i - 1] + (sigma / 2 - lo) / (hi - lo) * (times[i] - times[i - 1]))
    return np.array(crossings)


def check_time_to_learn(quick: bool) -> list:
    """(d) measured t_half against the exact half time and against the law log(sigma/s0)/(2 sigma).

    The law's relative error must shrink as s0 -> 0 and stay within twice the derived first
    correction -1/(2 sigma rho) (relative to the leading term) at every s0.
    """
    sigma = 1.0
    s0_values = np.array([1e-2, 1e-3, 1e-4] if quick else [1e-2, 1e-3, 1e-4, 1e-6, 1e-8])
    measured = measured_half_times(sigma, s0_values)
    exact = _theory()["half_time"](sigma, s0_values)
    law = _theory()["law"](sigma / s0_values, sigma)
    regime = f"sigma = {sigma}, s0 in {_fmt(s0_values)}"
    exact_verdict = compare("measured t_half = exact half time", measured, exact, 1e-7, regime, relative=True)
    relative = np.abs(measured - law) / law
    allowed = 2.0 * np.abs(_theory()["law_correction"](sigma / s0_values, sigma)) / law
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
        runs = [weight_space_gd(settings, steps, backend, imbalance=imbalance, record=np.arange(steps + 1))[1]
                for backend in BACKENDS]
        errors.append(max(np.max(np.abs(runs[0].loss - runs[1].loss)),
                          np.max(np.abs(runs[0].observable - runs[1].observable)),
                          *(np.max(np.abs(x - y)) for x, y in zip(runs[0].final, runs[1].final))))
    return compare("generated kernel = NumPy oracle", max(errors), 0.0, 1e-12,
                   f"{steps} GD steps, eta = {settings['eta']}, balanced and unbalanced (x3) starts; loss, modes, W")


ENTRIES = (DeepLinearEntry(),)
