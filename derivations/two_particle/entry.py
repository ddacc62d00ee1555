"""The CLI model ``am-two-particle``: the two margins under GD (the lane map) or the flow, with the
loss, 0-1 error, sharpness and the spike observables."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.contract import ModelEntry
from gradflow.derivations.cost import BYTES_PER_NUMBER, JSON_BYTES_PER_NUMBER, Cost
from gradflow.derivations.output import jsonable, simulation_result
from gradflow.derivations.two_particle import checks, parameters
from gradflow.derivations.two_particle.parameters import DEFAULT_STEPS, DEFAULT_T_END
from gradflow.derivations.two_particle.instances import KAPPA, Instance
from gradflow.derivations.two_particle.laws import laws
from gradflow.derivations.two_particle.observables import (edge_of_stability, loss_increases, sharpness_along,
                                                           sign_changes)
from gradflow.derivations.two_particle.oracles import (binary_margin_flow_numpy, binary_margin_loss_numpy,
                                                       binary_margin_map_numpy)
from gradflow.derivations.two_particle.simulators import (derivation, kernel_alpha, lane_flow_simulator,
                                                          lane_map_cuda_simulator, lane_map_simulator)
from gradflow.numerics import record_steps

DENSE_SHARPNESS_RECORDS = 5000  # above this many records the derived sharpness(margins) observable is used


class TwoParticle(ModelEntry):
    name = "am-two-particle"
    summary = "two interacting particles (N = M = d = 2, e_2 = (alpha, sqrt(1 - alpha^2))): loss spikes, dip, sharpness"
    parameters = parameters.ENTRY
    methods = ("gd", "flow")
    default_length = {"gd": DEFAULT_STEPS, "flow": DEFAULT_T_END}
    backends = ("cpu", "numpy", "cuda")
    compare_methods = ("gd", "flow")
    compare_help = ("the first GD step and the dip condition (gd), the sharpness at W = 0 and the derived "
                    "sharpness(m_1, m_2) against the HVP Hessian along the run; exact formulas, rounding tolerances")

    def derivation(self):
        return derivation()

    def run(self, settings, method, steps, t_end, backend, progress):
        inst = Instance(settings["p1"], settings["alpha"], settings["labels"])
        eta = settings["eta"]
        params = dict(settings, method=method, backend=backend, p=inst.p.tolist())
        if method == "flow":
            t = np.linspace(0.0, parameters.DEFAULT_T_END if t_end is None else t_end, 201)
            margins = _flow_margins(inst, t, backend)
        else:
            steps = parameters.DEFAULT_STEPS if steps is None else steps
            t = record_steps(steps)
            margins = _gd_margins(inst, eta, steps, t, backend, progress)
            params["record"] = "every step" if len(t) == steps + 1 else "log-spaced steps (200 per decade)"
        loss = binary_margin_loss_numpy(margins, inst.p)
        sharp, params["sharpness_method"] = _sharpness(inst, margins)
        result = simulation_result(params, t=np.asarray(t, dtype=float), loss=loss, l01=inst.zero_one(margins),
                                   margins=margins, sharpness=sharp)
        result["observables"] = jsonable(_observables(inst, method, eta, margins, loss, sharp))
        return result

    def cost(self, settings, method, steps, t_end):
        if method == "flow":
            return Cost(work=1e7, length=parameters.DEFAULT_T_END if t_end is None else t_end)
        steps = parameters.DEFAULT_STEPS if steps is None else steps
        records = len(record_steps(steps))
        dense = 1e4 * records if records <= DENSE_SHARPNESS_RECORDS else 0.0  # one 4 x 4 Hessian per record
        return Cost(work=50.0 * steps + dense, memory=records * 6 * (BYTES_PER_NUMBER + JSON_BYTES_PER_NUMBER),
                    memory_parameter="--steps", length=steps)

    def checks(self, quick=True):
        return checks.two_particle_checks(quick)

    def compare(self, settings, method, result):
        self.require_compare(method)
        from gradflow.derivations.two_particle.run_comparison import two_particle_comparison

        return two_particle_comparison(self.derivation(), method, result)


def _lanes(inst: Instance) -> dict:
    return {"p1": inst.p1, "alpha": float(kernel_alpha(inst.alpha, inst.labels))}


def _flow_margins(inst: Instance, times, backend: str) -> np.ndarray:
    if backend == "cpu":
        traj = lane_flow_simulator().integrate(np.zeros((1, 2)), _lanes(inst), times, "dopri5", rtol=1e-11, atol=1e-13)
        return traj.states[:, 0, :]
    return binary_margin_flow_numpy(inst.Kt, inst.p, KAPPA, times)


def _gd_margins(inst: Instance, eta: float, steps: int, record, backend: str, progress: bool) -> np.ndarray:
    if backend in ("cpu", "cuda"):
        sim = lane_map_simulator() if backend == "cpu" else lane_map_cuda_simulator()
        traj = sim.iterate(np.zeros((1, 2)), dict(_lanes(inst), eta=eta), steps, record, progress)
        return traj.states[:, 0, :]
    return binary_margin_map_numpy(inst.Kt, inst.p, KAPPA, eta, steps, record=record)


def _sharpness(inst: Instance, margins) -> tuple[np.ndarray, str]:
    """The sharpness at each record and how it was computed."""
    if len(margins) <= DENSE_SHARPNESS_RECORDS:
        return (sharpness_along(inst, margins),
                "numerics.sharpness (dense Hessian from the generated HVP) at W(margins)")
    return (laws().sharpness(margins[:, 0], margins[:, 1], inst.p1, inst.alpha),
            "derived sharpness(m1, m2) (checked against the HVP Hessian)")


def _observables(inst: Instance, method: str, eta: float, margins, loss, sharp) -> dict:
    s0 = float(laws().sharpness_at_zero(inst.p1, inst.alpha))
    observables = {
        "loss_increases": loss_increases(loss).tolist() if method == "gd" else [],
        "sign_changes": [c.tolist() for c in sign_changes(margins)],
        "sharpness_at_zero": s0,
        "stability_threshold_eta": 2.0 / s0,
        "unstable_at_start": bool(method == "gd" and eta > 2.0 / s0),
        "dips": bool(margins.shape[0] > 1 and margins[1, 1] < 0),
        "dip_condition": bool(inst.alpha > laws().dip_threshold(inst.p1)) if inst.labels == "opposite" else False,
    }
    if method == "gd":
        observables["edge_of_stability"] = edge_of_stability(sharp, eta)
    return observables
