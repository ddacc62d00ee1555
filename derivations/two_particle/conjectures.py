"""Conjectures about GD on the two-particle model (N = M = d = 2, e_2 = (alpha, sqrt(1 - alpha^2))).

An instance is (p1, alpha, eta, labels); a batch of instances is one launch of the generated lane map
(one lane per instance, its own p1, alpha, eta), whose observables give the loss and the sharpness at
every step.  Same labels run on the opposite-label kernel with alpha -> -alpha, as the family's
simulators do.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.claim import Claim
from gradflow.derivations.contract import Parameter
from gradflow.derivations.two_particle.laws import laws
from gradflow.derivations.two_particle.observables import INCREASE_RTOL
from gradflow.derivations.two_particle.simulators import kernel_alpha, lane_map_simulator
from gradflow.numerics import DivergenceError
from gradflow.numerics.conjecture import Outcome, Range, Trace
from gradflow.numerics.conjecture.threads import threads_for

PARAMETERS = (Range("p1", "float", 1e-3, 1 - 1e-3), Range("alpha", "float", -1.0, 1.0),
              Range("eta", "float", 1e-3, 1000.0), Range("labels", "choice", choices=("opposite", "same")))
RUN = (Parameter("steps", "int", 50, "an integer in [1, 10^6]", "GD steps from W_0 = 0", lambda v: 1 <= v <= 10**6),)


OBSERVED = ("loss", "sharpness")


def _runs(instances, steps: int) -> dict:
    """{"loss": ..., "sharpness": ...}, each (steps + 1, lanes): one launch for the batch; should it diverge,
    lane by lane (a diverged lane gets +inf from its divergence on)."""
    p1 = np.array([i["p1"] for i in instances], float)
    alpha = np.array([float(kernel_alpha(i["alpha"], i["labels"])) for i in instances])
    eta = np.array([i["eta"] for i in instances], float)
    try:
        with threads_for(len(instances) * steps):
            traj = lane_map_simulator().iterate(np.zeros((len(instances), 2)), {"p1": p1, "alpha": alpha, "eta": eta},
                                                steps)
        return {name: traj.observables[name] for name in OBSERVED}
    except DivergenceError:
        if len(instances) == 1:
            return {name: np.full((steps + 1, 1), np.inf) for name in OBSERVED}
        parts = [_runs([i], steps) for i in instances]
        return {name: np.hstack([part[name] for part in parts]) for name in OBSERVED}


def _lanewise(steps: int, observable: str, outcome):
    """evaluate(instances): the batch in one launch, then ``outcome(curve, instance)`` on each lane's
    ``observable`` along GD."""
    def evaluate(instances):
        curves = _runs(instances, steps)[observable]
        return [outcome(curves[:, k], inst) for k, inst in enumerate(instances)]

    return evaluate


def _stability(inst) -> dict:
    s0 = float(laws().sharpness_at_zero(inst["p1"], inst["alpha"]))
    return {"sharpness_at_zero": s0, "eta_over_stability_threshold": inst["eta"] * s0 / 2}


def _trace(steps: int, with_threshold: bool):
    def trace(inst):
        runs = _runs([inst], steps)
        t = np.arange(steps + 1, dtype=float)
        if with_threshold:
            return Trace(t, {"sharpness": runs["sharpness"][:, 0]}, "GD step t", "top Hessian eigenvalue",
                         {"claimed bound 2 / eta": np.full(t.size, 2.0 / inst["eta"])})
        return Trace(t, {"loss": runs["loss"][:, 0]}, "GD step t", "loss", logy=True)

    return trace


def _loss_never_increases(run, tolerance):
    steps = run["steps"]

    def outcome(L, inst) -> Outcome:
        with np.errstate(invalid="ignore", divide="ignore"):
            rise = np.where(np.isfinite(L[:-1]), (L[1:] - L[:-1]) / np.maximum(L[:-1], 1e-300), np.inf)
        worst = int(np.argmax(rise))
        return Outcome(rise[worst], 0.0, tolerance, "<=", "largest relative loss increase (L_t+1 - L_t) / L_t",
                       detail={"step": worst, "increases": int(np.sum(rise > tolerance)), **_stability(inst)})

    return (_lanewise(steps, "loss", outcome), _trace(steps, False),
            f"{tolerance:g} (relative: rounding) over {steps} steps")


def _sharpness_below(run, tolerance):
    steps = run["steps"]

    def outcome(s, inst) -> Outcome:
        worst = int(np.argmax(s))
        return Outcome(s[worst], 2.0 / inst["eta"], tolerance, "<=", "largest sharpness along GD",
                       detail={"step": worst, "steps_above": int(np.sum(s > 2.0 / inst["eta"] + tolerance)),
                               **_stability(inst)})

    return _lanewise(steps, "sharpness", outcome), _trace(steps, True), f"{tolerance:g} (absolute) over {steps} steps"


CLAIMS = (
    Claim("two_particle", "loss_never_increases", "the loss of GD on the two-particle model never increases",
          PARAMETERS, RUN, _loss_never_increases, INCREASE_RTOL, batch=8),
    Claim("two_particle", "sharpness_below_2_over_eta", "the sharpness stays below 2/eta along GD",
          PARAMETERS, RUN, _sharpness_below, 0.0, batch=8),
)

__all__ = ["CLAIMS"]
