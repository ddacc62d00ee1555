"""Seeds by grid position: member (point i, seed s) gets ``SeedSequence(base).spawn(...)[i].spawn(...)[s]``,
i.e. ``SeedSequence(base, spawn_key=(i, s))``.  A member's stream depends on its place in the grid
only, never on how the grid was cut into tasks, how many workers ran it or in what order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def member_seed(base: int, point: int, seed: int) -> np.random.SeedSequence:
    """The SeedSequence of grid point ``point`` (flat C-order index over the axes) and seed ``seed``."""
    return np.random.SeedSequence(int(base), spawn_key=(int(point), int(seed)))


@dataclass(frozen=True)
class BlockSeeds:
    """The seeds of one task: ``points`` (flat grid indices, one per block point) x ``seeds`` (seed indices).

    Targets without randomness ignore it; others draw from ``generator(p, s)`` (member p of the block,
    seed s of the block), created only when asked for."""

    base: int
    points: np.ndarray
    seeds: np.ndarray

    @property
    def shape(self) -> tuple:
        return (len(self.points), len(self.seeds))

    def sequence(self, p: int, s: int) -> np.random.SeedSequence:
        return member_seed(self.base, self.points[p], self.seeds[s])

    def generator(self, p: int, s: int) -> np.random.Generator:
        return np.random.default_rng(self.sequence(p, s))
