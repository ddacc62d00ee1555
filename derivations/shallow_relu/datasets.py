"""The data sets of the saddle-to-saddle reproductions and their training set-up.

Inputs and targets are kept as decimal strings, so that the exact (rational) plateau losses see the
values themselves; the float arrays are read from the same strings.  A bias is a constant-1 input.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import sympy as sp

WIDTH = 50  # hidden neurons of every reproduction
STOP_LOSS = 1e-5  # GD stops once the loss is this small
SEED = 12  # seed of the initialisation (and of the perturbation certificate)
SWEEP_MUS = (-1.8, -2.5, -3.0)  # sigma = WIDTH ** mu of the sigma sweep (and of the escape-slope check)


def _rows(text) -> tuple:
    return tuple(tuple(str(v) for v in row) for row in text)


@dataclass(frozen=True)
class ReluDataset:
    """Data as decimal strings (exact values) plus its training set-up: initial scale, learning rate
    and number of GD iterations."""

    name: str
    inputs: tuple  # rows of decimal strings
    targets: tuple  # rows of decimal strings
    mu: float  # sigma = WIDTH ** mu
    lr: float
    iterations: int

    @property
    def sigma(self) -> float:
        return float(WIDTH ** self.mu)

    @property
    def X(self) -> np.ndarray:
        return np.array([[float(v) for v in row] for row in self.inputs])

    @property
    def Y(self) -> np.ndarray:
        return np.array([[float(v) for v in row] for row in self.targets])

    @property
    def X_exact(self) -> np.ndarray:
        return np.array([[sp.Rational(v) for v in row] for row in self.inputs], dtype=object)

    @property
    def Y_exact(self) -> np.ndarray:
        return np.array([[sp.Rational(v) for v in row] for row in self.targets], dtype=object)

    def with_mu(self, mu: float) -> ReluDataset:
        return dataclasses.replace(self, mu=mu)

    def with_training(self, mu: float, lr: float, iterations: int) -> ReluDataset:
        """The same data with another initial scale, learning rate and length."""
        return dataclasses.replace(self, mu=mu, lr=lr, iterations=iterations)


_EXP_A_X = ("-1", "-0.6", "-0.1", "0.3", "0.7")
DATASETS = {
    "relu-exp-a": ReluDataset(
        "relu-exp-a", tuple((x, "1") for x in _EXP_A_X), _rows(((y,) for y in ("0.28", "-0.1", "0.03", "0.23", "-0.22"))),
        -3.0, 1e-3, 600_000),
    "relu-exp-b": ReluDataset(
        "relu-exp-b",
        _rows((("-0.3", "-0.75", "-0.5"), ("-0.2", "-0.2", "0.4"), ("-0.6", "1", "-1"), ("-0.4", "0.4", "0.3"),
               ("0.6", "-0.1", "-0.7"), ("0.4", "-0.9", "0.3"), ("0.2", "0.2", "-0.5"))),
        _rows(((y,) for y in ("-0.5", "0.1", "-0.6", "0.3", "0.8", "-0.3", "-0.1"))),
        -6.5, 1e-3, 800_000),
    "relu-exp-c": ReluDataset(
        "relu-exp-c", _rows((("-0.3", "0.5"), ("1", "1"), ("-0.6", "-1"), ("0.4", "-0.4"))),
        _rows((("0.6", "-0.5"), ("0.5", "-1"), ("-0.4", "0.6"), ("0.8", "0.2"))),
        -6.5, 2e-3, 300_000),
}
