"""The declared parameters of ``deep-linear``, and the one constraint between them."""

from __future__ import annotations

from gradflow.derivations.contract import Parameter
from gradflow.theory.errors import require


def _size(name: str, default: int, what: str) -> Parameter:
    return Parameter(name, "int", default, "an integer >= 1", what, lambda v: v >= 1)


PARAMETERS = (
    _size("n_in", 5, "input dimension"),
    _size("hidden", 4, "hidden width"),
    _size("n_out", 3, "output dimension"),
    Parameter("sigma", "floats", (3.0, 2.0, 1.0),
              "a comma list of positive numbers, at most min(n_in, hidden, n_out) long",
              "singular values of C = E[y x^T], one per mode", lambda v: len(v) >= 1 and all(x > 0 for x in v)),
    Parameter("s0", "float", 1e-3, "a number in (0, min sigma)", "initial strength a b of every mode (balanced start)",
              lambda v: v > 0),
    Parameter("eta", "float", 0.01, "a number > 0", "GD step size", lambda v: v > 0),
    Parameter("seed", "int", 0, "an integer >= 0", "seed of the orthonormal frames U, V, R", lambda v: v >= 0),
)


def require_consistent(settings: dict) -> None:
    """What no single declaration can check: the modes fit the sizes and start below their targets."""
    sigma, sizes = settings["sigma"], min(settings["n_in"], settings["hidden"], settings["n_out"])
    require(len(sigma) <= sizes, "sigma", f"at most min(n_in, hidden, n_out) = {sizes} values", sigma)
    require(settings["s0"] < min(sigma), "s0", f"in (0, min sigma) = (0, {min(sigma)})", settings["s0"])
