"""The declared parameters of ``am-two-particle`` and of the experiments that share them."""

from __future__ import annotations

from gradflow.derivations.contract import Parameter
from gradflow.theory.models import two_particle as tp

LABELS = tuple(tp.LABELS)
DEFAULT_STEPS = 35  # GD steps when --steps is not given
DEFAULT_T_END = 35.0  # flow time when --t-end is not given


def p1(default: float = 0.75) -> Parameter:
    return Parameter("p1", "float", default, "in the open interval (0, 1)",
                     "frequency p(x_1) of the frequent input (the rare one has p2 = 1 - p1)", lambda v: 0 < v < 1)


def alpha(default: float = 0.95) -> Parameter:
    return Parameter("alpha", "float", default, "in [-1, 1]",
                     "overlap <e_1, e_2> of the two input embeddings, e_2 = (alpha, sqrt(1 - alpha^2))",
                     lambda v: -1 <= v <= 1)


ENTRY = (
    p1(),
    alpha(),
    Parameter("labels", "choice", "opposite", "opposite or same",
              "f*(x) = x (opposite: destructive interference for alpha > 0) or f*(x) = 0 (same)", choices=LABELS),
    Parameter("eta", "float", 10.0, "a number > 0", "step size of GD (unused by the flow)", lambda v: v > 0),
)
