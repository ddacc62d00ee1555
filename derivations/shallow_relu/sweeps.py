"""Sweep target ``relu-sigma-sweep``: the relu-exp-a network trained by GD from sigma = 50^mu, over
any grid of (mu, lr) x seeds; the first escape time, the final loss and the iterations run.

A block is one ``gd_ensemble`` launch of the generated kernel over all its members; member
(point i, seed s) draws its initialisation from its own SeedSequence (grid position), so the values
differ from the relu-sigma-sweep experiment's integer seeds but not between task cuttings.
"""

from __future__ import annotations

import numpy as np

from gradflow.derivations.shallow_relu.datasets import DATASETS, STOP_LOSS, WIDTH
from gradflow.derivations.shallow_relu.simulators import derivation, simulator
from gradflow.numerics.drivers.shallow_network import initial_parameters
from gradflow.numerics.saddle.escape_time import measured_escape_time
from gradflow.numerics.sweep import Observable, SweepTarget

BASE = DATASETS["relu-exp-a"]


class EscapeTimeTarget(SweepTarget):
    name = "relu-sigma-sweep"
    summary = "relu-exp-a from sigma = 50^mu with GD step lr: first escape time, final loss, iterations run"
    parameters = {"mu": -2.5, "lr": BASE.lr}
    settings = {"iterations": 150_000}
    members_per_task = 16

    def observables(self, settings):
        return (Observable("escape_time", "float64", (), "lr x iteration where the loss first falls 5% below L(0) "
                                                         "(inf: never)"),
                Observable("final_loss", "float64", (), "loss at the last iteration run"),
                Observable("iterations_run", "int64", (), "GD iterations run (fewer when the loss reached 1e-5)"))

    def code_source(self, settings):
        return simulator().source

    def derivation_text(self):
        return derivation().to_latex()

    def run_block(self, values, seeds, settings):
        P, S = seeds.shape
        d, d_out = BASE.X.shape[1], BASE.Y.shape[1]
        inits = [initial_parameters(WIDTH, d, d_out, WIDTH ** float(values["mu"][p]), seed=seeds.sequence(p, s))
                 for p in range(P) for s in range(S)]  # drawing only; the training below is one launch
        lrs = np.repeat(np.asarray(values["lr"], dtype=float), S)
        runs = simulator().gd_ensemble(BASE.X, BASE.Y, np.stack([w for w, _ in inits]), np.stack([h for _, h in inits]),
                                       lrs, int(settings["iterations"]), snapshots=1, stop_loss=STOP_LOSS)
        escape = [measured_escape_time(r.loss_iterations, r.loss, r.lr) for r in runs]
        return {"escape_time": np.reshape(escape, (P, S)),
                "final_loss": np.reshape([r.final_loss for r in runs], (P, S)),
                "iterations_run": np.reshape([r.last_iteration for r in runs], (P, S))}


TARGETS = (EscapeTimeTarget(),)
