"""The CLI model ``deep-linear``: the two-layer linear network trained by GD (W-space) or flow (per mode)."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.contract import ModelEntry
from gradflow.derivations.cost import BYTES_PER_NUMBER, Cost
from gradflow.derivations.deep_linear import checks
from gradflow.derivations.deep_linear.parameters import PARAMETERS, require_consistent
from gradflow.derivations.deep_linear.simulators import derivation, lane_flow, laws, weight_space_gd
from gradflow.derivations.output import simulation_result

DEFAULT_GD_STEPS = 2000
RECORDS = 500  # at most this many records per run (plus the first)


def evenly_recorded_steps(n_steps: int) -> np.ndarray:
    """0..n_steps in at most RECORDS even strides."""
    return np.unique(np.linspace(0, n_steps, min(n_steps, RECORDS) + 1).round().astype(np.int64))


class DeepLinearEntry(ModelEntry):
    name = "deep-linear"
    summary = ("two-layer linear network y = W2 W1 x: per-mode logistic learning, "
               "time to learn ~ log(sigma/s0)/(2 sigma)")
    parameters = PARAMETERS
    methods = ("gd", "flow")
    default_length = {"gd": DEFAULT_GD_STEPS, "flow": "twice the slowest mode's half time"}
    backends = ("cpu", "numpy")
    compare_methods = ("gd", "flow")
    compare_help = ("the modes against the logistic solution (flow: exactly; gd: up to O(eta)) and each mode's "
                    "half time against t_half = log(sigma/s0)/(2 sigma) + O(s0/sigma)")

    def derivation(self):
        return derivation()

    def run(self, settings, method, steps, t_end, backend, progress):
        require_consistent(settings)
        params = dict(settings, method=method, backend=backend)
        if method == "gd":
            return _run_gd(settings, DEFAULT_GD_STEPS if steps is None else steps, backend, progress, params)
        return _run_flow(settings, t_end, backend, params)

    def cost(self, settings, method, steps, t_end):
        n_in, hidden, n_out = settings["n_in"], settings["hidden"], settings["n_out"]
        # the random frames are QR factors of square matrices; C, W1, W2 and the kernel's temporaries
        arrays = {"n_in": 2.0 * n_in * n_in + 3.0 * n_in * (hidden + n_out), "hidden": 2.0 * hidden * hidden,
                  "n_out": 2.0 * n_out * n_out}
        name = max(arrays, key=arrays.get)
        memory = BYTES_PER_NUMBER * sum(arrays.values())
        if method == "flow":
            return Cost(1e7 * len(settings["sigma"]), memory, name, length=t_end)
        steps = DEFAULT_GD_STEPS if steps is None else steps
        return Cost(6.0 * steps * n_in * hidden * n_out, memory, name, length=steps)

    def checks(self, quick=True):
        return checks.deep_linear_checks(self.settings(), quick)

    def compare(self, settings, method, result):
        self.require_compare(method)
        from gradflow.derivations.deep_linear.run_comparison import deep_linear_comparison

        return deep_linear_comparison(self.derivation(), method, result)


def _run_gd(settings: dict, steps: int, backend: str, progress: bool, params: dict) -> dict:
    """W-space GD; t counts steps (as for the other models) and "time" is eta t, where the logistic is evaluated."""
    _, run = weight_space_gd(settings, steps, evenly_recorded_steps(steps), backend, progress)
    time = run.t * settings["eta"]
    return simulation_result(dict(params, steps=steps), t=run.t, loss=run.loss, modes=run.observable,
                             logistic=laws().logistic(time, settings["sigma"], settings["s0"]), time=time)


def _run_flow(settings: dict, t_end: float | None, backend: str, params: dict) -> dict:
    """The per-mode lane flow from the balanced start a = b = sqrt(s0), by default to twice the slowest half time."""
    sigma, s0 = np.asarray(settings["sigma"], float), settings["s0"]
    if t_end is None:
        t_end = 2.0 * laws().slowest_half_time(sigma, s0)
    times = np.linspace(0.0, t_end, RECORDS + 1)
    states = lane_flow(sigma, np.sqrt(s0), np.sqrt(s0), times, backend)
    a, b = states[..., 0], states[..., 1]
    loss = laws().lane_loss(a, b, sigma[None, :]).sum(axis=1)
    return simulation_result(dict(params, t_end=float(t_end)), t=times, loss=loss, modes=a * b,
                             logistic=laws().logistic(times, sigma, s0))
