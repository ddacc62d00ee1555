"""The declared parameters of the ``relu`` entry."""

from __future__ import annotations

from gradflow.derivations.contract import Parameter
from gradflow.derivations.shallow_relu.datasets import SEED, WIDTH

RELU = (
    Parameter("data", "choice", "a", "one of a, b, c (the data sets of relu-exp-a/b/c)",
              "the inputs and targets of relu-exp-a, -b or -c (and its GD length unless --steps is given)",
              choices=("a", "b", "c")),
    Parameter("width", "int", WIDTH, "an integer >= 1", "number of hidden neurons", lambda v: v >= 1),
    Parameter("mu", "float", -3.0, "a number in [-20, 20] (sigma = 50^mu between 1e-34 and 1e34)",
              "initial scale: W, H entries i.i.d. N(0, sigma^2), sigma = 50^mu", lambda v: -20 <= v <= 20),
    Parameter("lr", "float", 1e-3, "a number > 0", "GD learning rate", lambda v: v > 0),
    Parameter("seed", "int", SEED, "an integer >= 0", "seed of the initialisation", lambda v: v >= 0),
    Parameter("a_minus", "float", 0.0, "a slope different from a_plus = 1 (0: ReLU)",
              "slope of rho for z < 0, and rho'(0): 0 is ReLU, 0 < a_minus < 1 leaky, -1 the absolute value",
              lambda v: v != 1.0),
    Parameter("dtype", "choice", "float64", "float32 or float64", "floating-point type of the GD kernel",
              choices=("float32", "float64")),
)
