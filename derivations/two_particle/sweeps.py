"""Sweep target ``am-phase``: the first step with L01 = 0 of two-particle GD, over any grid of
(p1, alpha, eta, init) x seeds.

A block runs as one launch of the generated lane kernel (the condition L01 = 0 is checked inside the
kernel at every step; only the final state is kept), so a member costs a few bytes of store: this is
the target of sweeps of 10^7 members.  ``init`` = 0 starts every member at W_0 = 0 (the am-phase
experiment; the seeds are then copies); ``init`` > 0 starts the margins at N(0, init^2) drawn from the
member's seed.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.two_particle.phase import PHASE_STEPS
from gradflow.derivations.two_particle.simulators import derivation, lane_map_simulator
from gradflow.numerics.sweep import Observable, SweepTarget
from gradflow.theory.errors import require
from gradflow.theory.models import two_particle as tp


def initial_margins(init: np.ndarray, seeds) -> np.ndarray:
    """(P * S, 2) starting margins: zero where init = 0, else init x N(0, 1) from each member's own seed."""
    P, S = seeds.shape
    x0 = np.zeros((P, S, 2))
    for p in np.flatnonzero(init > 0):  # only random members pay for their generators
        for s in range(S):
            x0[p, s] = init[p] * seeds.generator(p, s).standard_normal(2)
    return x0.reshape(P * S, 2)


class FirstHitTarget(SweepTarget):
    name = "am-phase"
    summary = "two-particle GD (opposite labels): first step with L01 = 0 per (p1, alpha, eta, init) and seed"
    parameters = {"p1": 0.75, "alpha": 0.5, "eta": 1.0, "init": 0.0}
    settings = {"iterates": PHASE_STEPS}
    members_per_task = 1 << 18  # about 3 s of one core at 1000 iterates (0.7 s per 2^16 members measured)

    def observables(self, settings):
        return (Observable("first_hit", "int32", (), "first t in 0..iterates-1 with L01(W_t) = 0; -1 if never"),)

    def code_source(self, settings):
        return lane_map_simulator().source

    def derivation_text(self):
        return derivation().to_latex()

    def prepare(self, settings):
        lane_map_simulator().iterate(np.zeros((1, 2)), {"p1": 0.7, "alpha": 0.5, "eta": 1.0}, 1)

    def run_block(self, values, seeds, settings):
        iterates = int(settings["iterates"])
        require(iterates >= 1, "iterates", "an integer >= 1", iterates)
        P, S = seeds.shape
        tp.validate(values["p1"], values["alpha"], values["eta"])
        init = np.asarray(values["init"], dtype=float)
        require(bool(np.all(init >= 0)), "init", "a number >= 0 (the spread of the initial margins)", init.min())
        sim = lane_map_simulator()
        lanes = np.repeat(np.stack([values[str(s)] for s in sim.system.params], axis=1), S, axis=0)
        x0 = initial_margins(init, seeds)
        hits = sim.iterate(x0, np.ascontiguousarray(lanes), iterates - 1, [iterates - 1]).first_hits["l01_zero"]
        return {"first_hit": hits.reshape(P, S).astype(np.int32)}


TARGETS = (FirstHitTarget(),)
