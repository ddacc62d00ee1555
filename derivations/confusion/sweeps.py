"""Sweep target ``confusion-synthetic``: the synthetic setting of confusion-synthetic over any grid of its
shift strengths and the number of bins B, x seeds.

Axes: ``noise`` (sd of the noise shift), ``shift_fraction`` (how far the class-shift moves class 0 towards
mu_1), ``keep_floor`` (the hard-resample keep probability's floor; smaller = harder), and ``B`` (confusion-score
bins, ID-quantile edges).  One member is one seed of the experiment (``synthetic.seed_data``: the data, the
bootstrap ensemble and the evaluated models, drawn in the documented order from one integer seed, here taken
from the member's SeedSequence) analysed by ``analysis.analyse_seed`` with the entropy score; recorded per
shift, in the order hard-resample, noise, class-shift (the ``shift`` dimension), for the reference model
(softmax regression on the full training set): the true OOD accuracy, the estimate, the naive estimate (the
ID accuracy) and the gap closed.  Every grid point draws its own seeds, so points that differ only in B
analyse different worlds (compare B within one seed with confusion-synthetic's B sweep).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradflow.derivations.confusion.analysis import analyse_seed
from gradflow.derivations.confusion.synthetic import SHIFTS, SyntheticSettings, seed_data
from gradflow.numerics.sweep import Observable, SweepTarget
from gradflow.theory.errors import require

DEFAULTS = SyntheticSettings()
SCORE, BINNING = "cs_entropy", "quantile"  # confusion-synthetic's defaults
RECORDED = {"true_acc": "true OOD accuracy of the reference model",
            "estimate": "the estimate: sum over bins of pi_OOD x ID accuracy",
            "naive": "the naive estimate: the reference model's ID accuracy",
            "gap_closed": "(naive - estimate) / (naive - true): the part of the accuracy drop predicted (NaN without a drop)"}


class ConfusionSyntheticTarget(SweepTarget):
    name = "confusion-synthetic"
    summary = ("confusion-synthetic's Gaussian mixtures over shift strengths (noise, shift_fraction, keep_floor) and "
               "bins B: true OOD accuracy, estimate, naive estimate, gap closed per shift")
    parameters = {"noise": DEFAULTS.noise, "shift_fraction": DEFAULTS.shift_fraction,
                  "keep_floor": DEFAULTS.keep_floor, "B": 10.0}
    settings = {"members": DEFAULTS.members, "steps": DEFAULTS.steps, "n_train": DEFAULTS.n_train,
                "n_test": DEFAULTS.n_test}
    members_per_task = 8  # about 0.5 s a member at the defaults

    def observables(self, settings):
        return tuple(Observable(name, "float64", (("shift", len(SHIFTS)),), f"{text}; per shift: {', '.join(SHIFTS)}")
                     for name, text in RECORDED.items())

    def code_source(self, settings):
        from gradflow.numerics.codegen.mlp_module import mlp_module

        return Path(mlp_module()[1]).read_text()

    def derivation_text(self):
        from gradflow.theory.confusion import derive

        return derive().to_latex()

    def run_block(self, values, seeds, settings):
        members, steps = int(settings["members"]), int(settings["steps"])
        n_train, n_test = int(settings["n_train"]), int(settings["n_test"])
        require(2 <= members <= 100, "members", "an integer in [2, 100]", members)
        require(steps >= 1, "steps", "an integer >= 1", steps)
        require(n_train >= 2 and n_test >= 100, "n_train, n_test", "n_train >= 2 and n_test >= 100", (n_train, n_test))
        noise, fraction, floor = (np.asarray(values[k], dtype=float) for k in ("noise", "shift_fraction", "keep_floor"))
        B = np.asarray(values["B"], dtype=float)
        require(bool(np.all(noise >= 0)), "noise", "a number >= 0", tuple(noise.tolist()))
        require(bool(np.all(fraction >= 0)), "shift_fraction", "a number >= 0", tuple(fraction.tolist()))
        require(bool(np.all((floor > 0) & (floor <= 1))), "keep_floor", "a number in (0, 1]", tuple(floor.tolist()))
        require(bool(np.all((B == np.round(B)) & (B >= 1) & (B <= 1000))), "B", "an integer in [1, 1000]",
                tuple(B.tolist()))
        P, S = seeds.shape
        out = {name: np.full((P, S, len(SHIFTS)), np.nan) for name in RECORDED}
        for p in range(P):
            world = SyntheticSettings(members=members, steps=steps, n_train=n_train, n_test=n_test,
                                      noise=float(noise[p]), shift_fraction=float(fraction[p]),
                                      keep_floor=float(floor[p]))
            for s in range(S):
                seed = int(seeds.sequence(p, s).generate_state(1, dtype=np.uint64)[0])
                record, _ = analyse_seed(seed_data(seed, world), int(B[p]), (int(B[p]),), SCORE, BINNING)
                for k, shift in enumerate(SHIFTS):
                    for name in RECORDED:
                        value = record["shifts"][shift][name]
                        out[name][p, s, k] = np.nan if value is None else value
        return out


TARGETS = (ConfusionSyntheticTarget(),)
