"""Small permutation points shared by the tests (built once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.symmetry import build_permutation_point


@dataclass(frozen=True)
class Case:
    reduced: object
    wide: object
    X: np.ndarray
    Y: np.ndarray
    objective_red: MLPObjective
    objective: MLPObjective
    theta_red: np.ndarray
    loss_red: float
    theta_P: np.ndarray
    layer: int
    i: int
    j: int


@lru_cache(maxsize=None)
def case(sizes: tuple, seed: int = 0, n_samples: int = 120, layer: int = 1, i: int = 0) -> Case:
    s = build_permutation_point(sizes, seed, layer=layer, i=i, n_samples=n_samples, restarts=6)
    return Case(s.objective_red.network, s.objective.network, s.objective.samples.X, s.objective.samples.T,
                s.objective_red, s.objective, s.reduced.theta, s.reduced.loss, s.theta_P, layer, i, s.j)
