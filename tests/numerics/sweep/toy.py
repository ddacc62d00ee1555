"""A plain-NumPy sweep target for the runner's tests: y[step] = a * step + b + noise from the member's seed.

A block is one vectorised NumPy expression over its members; a < 0 raises (a bad parameter point)."""

from __future__ import annotations

import numpy as np

from gradflow.numerics.sweep import Observable, SweepTarget
from gradflow.theory.errors import require

STEPS = 3


class Toy(SweepTarget):
    name = "toy"
    summary = "a * step + b + N(0, noise^2)"
    parameters = {"a": 1.0, "b": 0.0}
    settings = {"noise": 1.0}
    members_per_task = 6
    code = "toy v1"

    def observables(self, settings):
        return (Observable("y", "float64", (("step", STEPS),)), Observable("sign", "int8"))

    def code_source(self, settings):
        return self.code

    def derivation_text(self):
        return "y = a step + b"

    def run_block(self, values, seeds, settings):
        a, b = values["a"], values["b"]
        require(bool(np.all(a >= 0)), "a", ">= 0", a.min())
        P, S = seeds.shape
        noise = np.array([[seeds.generator(p, s).standard_normal() for s in range(S)] for p in range(P)])
        y = a[:, None, None] * np.arange(STEPS) + b[:, None, None] + settings["noise"] * noise[:, :, None]
        return {"y": y, "sign": np.sign(noise).astype(np.int8)}


def expected(a_values, b_values, seeds: int, base: int = 0, noise: float = 1.0) -> np.ndarray:
    """The oracle: y[a][b][seed][step], member by member from SeedSequence(base).spawn by grid position."""
    out = np.empty((len(a_values), len(b_values), seeds, STEPS))
    parent = np.random.SeedSequence(base)
    points = parent.spawn(len(a_values) * len(b_values))
    for i, a in enumerate(a_values):
        for j, b in enumerate(b_values):
            children = points[i * len(b_values) + j].spawn(seeds)
            for s in range(seeds):
                z = np.random.default_rng(children[s]).standard_normal()
                out[i, j, s] = a * np.arange(STEPS) + b + noise * z
    return out
