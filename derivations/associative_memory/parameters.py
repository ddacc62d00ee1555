"""The declared parameters of the associative-memory entries, and what they determine."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.associative_memory.instances import zipf_probabilities
from gradflow.derivations.contract import Parameter
from gradflow.theory.errors import ParameterError


def _sizes(name: str, default: int, low: int, what: str) -> Parameter:
    return Parameter(name, "int", default, f"an integer >= {low}", what, lambda v: v >= low)


ZIPF = Parameter("zipf", "float", 1.0, ">= 0", "exponent a of the input frequencies p(x) ~ (x + 1)^-a (unless p is set)",
                 lambda v: v >= 0)
P = Parameter("p", "floats", None, "positive probabilities summing to 1",
              "the input frequencies p(x) themselves, a comma list of N numbers (overrides zipf)", lambda v: len(v) >= 1)
ETA = Parameter("eta", "float", 0.5, "> 0", "step size of GD and SGD", lambda v: v > 0)
SEED = Parameter("seed", "int", 0, ">= 0", "seed of the embeddings (and of the SGD batches)", lambda v: v >= 0)
BATCH = Parameter("batch", "int", 10, "an integer >= 1 (SGD batch size)", "inputs drawn from p per SGD step",
                  lambda v: v >= 1)

ORTHOGONAL = (
    _sizes("N", 6, 1, "number of inputs x"),
    _sizes("M", 4, 2, "number of classes"),
    ZIPF, P, ETA, SEED, BATCH,
)
RANDOM = (
    _sizes("N", 8, 1, "number of inputs x"),
    _sizes("M", 8, 2, "number of classes"),
    _sizes("d", 8, 1, "embedding dimension"),
    ZIPF, P, ETA, SEED, BATCH,
    Parameter("W0", "choice", "zero", "zero or random", "initial weights: 0, or i.i.d. N(0, 1/d) entries",
              choices=("zero", "random")),
)


def probabilities(settings: dict) -> np.ndarray:
    """p as given, else the Zipf frequencies of N inputs (every one of them representable: > 0)."""
    if settings.get("p") is not None:
        return np.asarray(settings["p"], dtype=float)
    p = zipf_probabilities(settings["N"], settings["zipf"])
    if not np.all(p > 0):
        raise ParameterError("zipf", f"small enough that every frequency (x + 1)^-zipf / sum is a positive float for "
                                     f"N = {settings['N']} (at most about {700 / np.log(settings['N']):.3g})",
                             settings["zipf"])
    return p


def check_given(given: dict) -> None:
    """p and zipf are two ways to give the frequencies: one at a time."""
    if "p" in given and "zipf" in given:
        raise ParameterError("zipf", "left out when p is given (p sets the frequencies itself)", given["zipf"])
