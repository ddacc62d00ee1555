"""Conjectures about multilayer perceptrons and their function-preserving embeddings (the MLP engine).

An instance is a small network (n0 inputs, ``depth`` hidden layers of ``width`` neurons, n_out
outputs, one activation), a teacher seed, the hidden layer and neuron to duplicate (taken modulo the
depth and width) and the share gamma of its outgoing weights kept by the original.  The student is
trained to a critical point (BFGS, then Newton) on data labelled by a teacher one neuron wider in every
hidden layer; networks that do not reach one are not tested.  Each instance trains its own network.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.claim import Claim
from gradflow.derivations.contract import Parameter
from gradflow.numerics.conjecture import Outcome, Range, Trace
from gradflow.numerics.mlp.embeddings import split_neuron
from gradflow.numerics.mlp.mlp_objective import MLPObjective
from gradflow.numerics.symmetry import CriticalPointError, critical_point
from gradflow.numerics.symmetry.problems import mlp, teacher_data
from gradflow.theory.mlp import random_params

ROUNDING = 1e-10  # |grad L|_2 that rounding alone can give at these sizes
PARAMETERS = (Range("n0", "int", 1, 4), Range("depth", "int", 1, 3), Range("width", "int", 1, 5),
              Range("n_out", "int", 1, 3), Range("activation", "choice", choices=("tanh", "softplus", "sigmoid", "gelu")),
              Range("layer", "int", 1, 3), Range("neuron", "int", 0, 4), Range("gamma", "float", -2.0, 3.0),
              Range("seed", "int", 0, 10**6))
RUN = (Parameter("n_samples", "int", 60, "an integer in [5, 10^4]", "teacher-labelled Gaussian inputs",
                 lambda v: 5 <= v <= 10**4),
       Parameter("gtol", "float", 1e-6, "a number in (0, 1e-3]", "|grad L|_2 below which a point is critical",
                 lambda v: 0 < v <= 1e-3))


def _duplicated(inst, run):
    """(|grad|_2 at the critical point, grad at its duplication, both networks' loss) or None if not critical."""
    sizes = (inst["n0"],) + (inst["width"],) * inst["depth"] + (inst["n_out"],)
    net = mlp(sizes, inst["activation"])
    teacher = mlp((inst["n0"],) + (inst["width"] + 1,) * inst["depth"] + (inst["n_out"],), inst["activation"])
    X, Y, _ = teacher_data(teacher, int(inst["seed"]), run["n_samples"])
    try:
        point = critical_point(MLPObjective.create(net, X, Y), random_params(net, seed=int(inst["seed"])),
                               run["gtol"])
    except CriticalPointError:
        return None
    layer = 1 + (inst["layer"] - 1) % inst["depth"]
    wide, theta = split_neuron(net, point.theta, layer, inst["neuron"] % inst["width"], inst["gamma"])
    loss, grad = MLPObjective.create(wide, X, Y).loss_and_gradient(theta)
    return point.grad_norm, grad, point.loss, loss


def _duplication_is_critical(run, tolerance):
    def one(inst) -> Outcome:
        got = _duplicated(inst, run)
        if got is None:
            return Outcome.untested(f"no critical point with |grad L| < {run['gtol']:g}")
        narrow_norm, wide, loss, wide_loss = got
        # the split point's gradient repeats and rescales the narrow one's entries: |g_wide| <= 2 |g| (any gamma)
        bound = 2.0 * max(1.0, abs(inst["gamma"]), abs(1 - inst["gamma"])) * narrow_norm + ROUNDING
        return Outcome(np.linalg.norm(wide), 0.0, bound + tolerance, "<=", "|grad L|_2 at the duplicated point",
                       detail={"narrow_grad_norm": narrow_norm, "loss": loss, "loss_change": wide_loss - loss})

    def trace(inst):
        narrow, wide, _, _ = _duplicated(inst, run)
        return Trace(np.arange(wide.size, dtype=float), {"|grad| at the duplication": np.abs(wide) + 1e-300},
                     "parameter index", "|dL/dtheta|", {}, logy=True)

    return (lambda instances: [one(i) for i in instances]), trace, \
        f"2 max(1, |gamma|, |1 - gamma|) |grad at the critical point| + {ROUNDING:g} + {tolerance:g}"


CLAIMS = (
    Claim("mlp", "duplication_is_critical", "every duplication of a critical point is critical", PARAMETERS, RUN,
          _duplication_is_critical),
)

__all__ = ["CLAIMS"]
