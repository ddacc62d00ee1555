"""A permutation point from scratch: teacher data, the narrower student's clean critical point, and
its duplication.  A teacher seed whose student has no clean point (for instance a loss below the
cleanliness floor) is skipped for the next one, and the seed used is reported."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.numerics.mlp.mlp_objective import MLPObjective
from gradflow.numerics.symmetry.collision import permutation_point
from gradflow.numerics.symmetry.critical import CriticalPointError
from gradflow.numerics.symmetry.problems import mlp, narrowed, teacher_data
from gradflow.numerics.symmetry.reduced import ReducedPoint, clean_reduced_point
from gradflow.theory.errors import require


@dataclass(frozen=True)
class PermutationSetup:
    objective_red: MLPObjective  # the network with one neuron fewer in ``layer``
    objective: MLPObjective  # the wide network, same data
    reduced: ReducedPoint
    theta_P: np.ndarray
    layer: int
    i: int
    j: int
    teacher_seed: int


def build_permutation_point(sizes, seed: int = 0, *, layer: int = 1, i: int = 0, n_samples: int = 400,
                            restarts: int = 10, activation: str = "tanh", bias: bool = True,
                            teacher_std: float = 2.0, seed_tries: int = 10) -> PermutationSetup:
    """Teacher of ``sizes`` on x ~ N(0, I); student with one neuron fewer in ``layer`` at its lowest clean
    critical point (``restarts`` N(0, 1) starts); neuron ``i`` duplicated, the copy appended as j."""
    require(isinstance(seed_tries, (int, np.integer)) and seed_tries >= 1, "seed_tries", "an integer >= 1",
            seed_tries)
    wide = mlp(sizes, activation, bias)
    reduced = narrowed(wide, layer)
    for teacher_seed in range(seed, seed + seed_tries):
        X, Y, _ = teacher_data(wide, teacher_seed, n_samples, teacher_std)
        objective_red = MLPObjective.create(reduced, X, Y)
        try:
            point = clean_reduced_point(objective_red, restarts=restarts, seed=teacher_seed)
        except CriticalPointError:
            continue
        wide_net, theta_P, j = permutation_point(reduced, point.theta, layer, i)
        return PermutationSetup(objective_red, MLPObjective.create(wide_net, X, Y), point, theta_P, layer, i, j,
                                teacher_seed)
    raise CriticalPointError(f"no teacher seed in {seed}..{seed + seed_tries - 1} gives a clean reduced point")


__all__ = ["PermutationSetup", "build_permutation_point"]
