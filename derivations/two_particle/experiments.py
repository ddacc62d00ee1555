"""Experiments of the two-particle model.

* ``am-landscape`` -- the loss landscape over v = W^T (u_0 - u_1): L/N contours and L01 shading;
* ``am-spike``     -- loss spikes: GD with a step above and one below the stability threshold;
* ``am-phase``     -- the first step with L01 = 0 over a (p1, alpha, eta) grid, one ensemble kernel launch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.associative_memory.simulators import weight_space_simulator
from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.report import Reproduction
from gradflow.derivations.two_particle import figures, parameters
from gradflow.derivations.two_particle.instances import Instance
from gradflow.derivations.two_particle.laws import laws
from gradflow.derivations.two_particle.observables import landscape, loss_increases, sharpness_along, sign_changes
from gradflow.derivations.two_particle.phase import PHASE_STEPS, first_hits, phase_axes, phase_findings
from gradflow.derivations.two_particle.simulators import (derivation, gd_run, lane_map_cuda_simulator,
                                                          lane_map_simulator)


def _alphas_in_range(values) -> bool:
    return len(values) >= 1 and all(-1 <= a <= 1 for a in values)


@dataclass(frozen=True)
class AmLandscape(Experiment):
    name = "am-landscape"
    summary = "two-particle loss landscape: contours of L/N and L01 shading, p1 = 0.75, alpha in {-0.5, 0.5, 0.95}"
    parameters = (
        parameters.p1(),
        Parameter("alphas", "floats", (-0.5, 0.5, 0.95), "a comma list of numbers in [-1, 1]",
                  "the embedding overlaps, one column of panels each", _alphas_in_range),
        Parameter("lims", "floats", (1.0, 10.0), "a comma list of numbers > 0",
                  "half-widths of the theta grid, one row of panels each", lambda v: len(v) >= 1 and min(v) > 0),
    )

    p1: float = 0.75
    alphas: tuple = (-0.5, 0.5, 0.95)
    lims: tuple = (1.0, 10.0)

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        from tqdm import tqdm

        start = time.perf_counter()
        n = 41 if quick else 151
        arrays = {"alpha": np.array(self.alphas), "lim": np.array(self.lims)}
        for lim in tqdm(self.lims, desc=self.name, disable=not progress):
            theta = np.linspace(-lim, lim, n)
            maps = [landscape(self.p1, a, theta) for a in self.alphas]
            arrays[f"theta_lim{lim:g}"] = theta
            arrays[f"loss_over_N_lim{lim:g}"] = np.stack([m[0] for m in maps])
            arrays[f"l01_lim{lim:g}"] = np.stack([m[1] for m in maps])
        timings = {"grids": time.perf_counter() - start}
        fig = figures.landscape_panels(self, arrays)
        return Reproduction(self.name, {"p1": self.p1, "alphas": list(self.alphas), "lims": list(self.lims), "grid": n,
                                        "labels": "opposite", "quick": quick, "theta": "v = W^T (u_0 - u_1)"},
                            arrays, {"landscape": fig}, self._report(arrays, n), derivation().to_latex(),
                            [lane_map_simulator().path], timings, [])

    def _report(self, a, n):
        lines = [f"# {self.name}", "", self.summary, "",
                 f"v = W^T(u_0 - u_1) on a {n} x {n} grid, m(x) = eps_x <v, e_x>, L = sum_x p(x) log(1 + e^(-m(x))), "
                 "shown as L/N (N = 2). L01 shading counts a tie (m = 0) as class 0.", "",
                 "| alpha | lim | min L/N on grid | fraction of grid with L01 = 0 | max-margin direction |", "|---|---|---|---|---|"]
        for lim in self.lims:
            for j, alpha in enumerate(self.alphas):
                inst = Instance(self.p1, alpha, "opposite")
                d = inst.eps @ inst.E
                lines.append(f"| {alpha:g} | {lim:g} | {a[f'loss_over_N_lim{lim:g}'][j].min():.4g} | "
                             f"{np.mean(a[f'l01_lim{lim:g}'][j] == 0):.3f} | ({d[0]:.3f}, {d[1]:.3f}) |")
        lines += ["", "With alpha close to 1 the zero-error cone between the two decision lines is narrow: the valley "
                  "along e_1 - e_2 is steep across and flat along it, which is where GD with large steps bounces "
                  "(see am-spike). With alpha < 0 (cooperative interference) the cone is wide.", ""]
        return "\n".join(lines)


def _spike_etas(values) -> bool:
    return 2 <= len(values) <= len(figures.SPIKE_COLORS) and len(set(values)) == len(values) and min(values) > 0


@dataclass(frozen=True)
class AmSpike(Experiment):
    name = "am-spike"
    summary = "loss spikes: p1 = 0.75, alpha = 0.95, GD eta in {10, 1}, 35 steps; loss, L01, margins, sharpness"
    parameters = (
        parameters.p1(),
        parameters.alpha(),
        Parameter("etas", "floats", (10.0, 1.0), "2 or 3 distinct numbers > 0",
                  "the GD step sizes, one run each (the report compares the first two)", _spike_etas),
        Parameter("steps", "int", 35, "an integer >= 1", "GD steps of each run", lambda v: v >= 1),
    )

    p1: float = 0.75
    alpha: float = 0.95
    etas: tuple = (10.0, 1.0)
    steps: int = 35

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        inst = Instance(self.p1, self.alpha, "opposite")
        start = time.perf_counter()
        rows = {"loss": [], "l01": [], "margins": [], "sharpness": []}
        extra = {}
        for eta in self.etas:
            margins, loss, lane_sharp = gd_run(self.p1, self.alpha, eta, self.steps)
            sharp = sharpness_along(inst, margins)
            w = weight_space_simulator().gd(np.zeros((2, 2)), inst.data, inst.label_array, eta, self.steps)
            extra[eta] = {"ws_margin_error": float(np.max(np.abs(w.margins - margins))),
                          "lane_sharpness_error": float(np.max(np.abs(lane_sharp - sharp)))}
            for key, value in (("loss", loss), ("l01", inst.zero_one(margins)), ("margins", margins), ("sharpness", sharp)):
                rows[key].append(value)
        arrays = {"eta": np.array(self.etas), **{k: np.array(v) for k, v in rows.items()}}
        timings = {"runs": time.perf_counter() - start}
        plots = {"spike": figures.spike(self, arrays, laws()), "trajectory": figures.spike_trajectories(self, arrays, inst)}
        return Reproduction(self.name, {"p1": self.p1, "alpha": self.alpha, "etas": list(self.etas), "steps": self.steps,
                                        "labels": "opposite", "W0": "zero", "quick": quick},
                            arrays, plots, self._report(arrays, extra), derivation().to_latex(),
                            [lane_map_simulator().path, weight_space_simulator().path], timings, [])

    def _report(self, a, extra):
        th = laws()
        s0 = float(th.sharpness_at_zero(self.p1, self.alpha))
        threshold = float(th.stability_threshold(self.p1, self.alpha))
        dip = float(th.dip_threshold(self.p1))
        m1, m2 = th.first_step(self.p1, self.alpha, 1.0)
        dips = (f"< alpha = {self.alpha} (the rare margin first goes negative)" if self.alpha > dip
                else f">= alpha = {self.alpha} (no dip: the rare margin first grows)")
        lines = [f"# {self.name}", "", self.summary, "",
                 f"Theory: sharpness at W = 0: S(0) = {s0:.6f}; stability threshold 2/S(0) = {threshold:.4f}; "
                 f"dip threshold p2/p1 = {dip:.4f} {dips}.", "",
                 "| eta | first step (m1, m2) | predicted eta (p1 - alpha p2, p2 - alpha p1) | loss increases at steps | "
                 "sign changes of m2 | max S eta/2 | final L | final L01 | eta T L | max abs(margins - W-space GD) |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        T = self.steps
        for i, eta in enumerate(self.etas):
            m = a["margins"][i]
            lines.append(f"| {eta:g} | ({m[1, 0]:.4f}, {m[1, 1]:.4f}) | ({eta * m1:.4f}, {eta * m2:.4f}) | "
                         f"{loss_increases(a['loss'][i]).tolist()} | {sign_changes(m)[1].tolist()} | "
                         f"{np.max(a['sharpness'][i]) * eta / 2:.3f} | {a['loss'][i][-1]:.5f} | {a['l01'][i][-1]:g} | "
                         f"{eta * T * a['loss'][i][-1]:.3f} | {extra[eta]['ws_margin_error']:.1e} |")
        big, small = a["loss"][0][-1], a["loss"][1][-1]
        lines += ["", f"Benign spikes: after {T} steps the eta = {self.etas[0]:g} run has loss {big:.5f} "
                      f"{'<' if big < small else '>='} {small:.5f} of the eta = {self.etas[1]:g} run.",
                  f"eta t L tends to 1/(1 - alpha) = {float(th.eta_t_loss(self.alpha)):.1f} (derived) as t -> infinity; "
                  + _limit_verdict(a["loss"], self.etas, T, float(th.eta_t_loss(self.alpha))),
                  "Sharpness: numerics.sharpness (dense Hessian from the generated HVP) at W(margins); it agrees with the "
                  "derived sharpness(m1, m2) to "
                  f"{max(e['lane_sharpness_error'] for e in extra.values()):.1e}.",
                  "Figures: `figures/spike.png` (loss, L01, margins, sharpness with 2/eta), "
                  "`figures/trajectory.png` (both runs over the landscape).", ""]
        return "\n".join(lines)


def _device(backend: str) -> str:
    if backend == "cpu":
        return "cpu"
    from gradflow.numerics.drivers.cuda import device_name

    return device_name()


@dataclass(frozen=True)
class AmPhase(Experiment):
    name = "am-phase"
    summary = ("first step with L01 = 0 over p1 (10), alpha in [0.5, 1] (10), eta in [0.1, 10] (10), "
               "1000 GD steps, one ensemble kernel launch")
    backends = ("cpu", "cuda")

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        p1s, alphas, etas = phase_axes()
        start = time.perf_counter()
        sim = lane_map_simulator() if backend == "cpu" else lane_map_cuda_simulator()
        sim.iterate(np.zeros((1, 2)), {"p1": 0.7, "alpha": 0.5, "eta": 1.0}, 1)  # compile or load, outside the timing
        timings = {"compile_or_load": time.perf_counter() - start}
        first, seconds = first_hits(p1s, alphas, etas, PHASE_STEPS, progress, backend)
        timings["ensemble_kernel"] = seconds
        arrays = {"p1": p1s, "alpha": alphas, "eta": etas, "first_hit": first.astype(np.int64)}
        plots = {"phase": figures.phase(arrays, PHASE_STEPS, laws())}
        return Reproduction(self.name, {"grid": "[p1][alpha][eta]", "steps": PHASE_STEPS, "labels": "opposite",
                                        "never": PHASE_STEPS - 1, "quick": quick,
                                        "p1": "1/(1+exp(-l)), l in logspace(-0.5, 0.5, 10)",
                                        "alpha": "linspace(0.5, 1, 10)", "eta": "logspace(-1, 1, 10)",
                                        "lanes": int(first.size), "backend": backend, "device": _device(backend)},
                            arrays, plots, self._report(arrays, timings), derivation().to_latex(),
                            [sim.path], timings, [])

    def _report(self, a, timings):
        first = a["first_hit"]
        lines = [f"# {self.name}", "", self.summary, "",
                 f"Ensemble: {first.size} lanes, one kernel launch of {PHASE_STEPS - 1} GD steps recording every iterate; "
                 f"kernel time {timings['ensemble_kernel']:.3f} s (after compilation). first_hit[p1][alpha][eta] is the "
                 f"first t in 0..{PHASE_STEPS - 1} with L01(W_t) = 0, {PHASE_STEPS - 1} if never.", "",
                 *phase_findings(first, a["p1"], a["alpha"]), "",
                 "| eta | median first_hit (alpha < 1) | max first_hit (alpha < 1) |", "|---|---|---|"]
        for k, eta in enumerate(a["eta"]):
            sub = first[:, :-1, k]
            lines.append(f"| {eta:.3g} | {np.median(sub):g} | {sub.max()} |")
        lines += ["", "Figure: `figures/phase.png`, one heat map per eta over (alpha, p1) with the dip boundary "
                  "alpha = p2/p1.", ""]
        return "\n".join(lines)


def _limit_verdict(losses, etas, T: int, limit: float, last: int = 5) -> str:
    """eta T L of each run against its t -> infinity limit: the gap, and whether the last ``last`` steps
    still close it (then a gap at a finite T is what the limit law allows, not a disagreement)."""
    parts, closing = [], True
    for eta, loss in zip(etas, losses):
        t = np.arange(len(loss))[-last:]
        gaps = np.abs(eta * t * np.asarray(loss)[-last:] - limit)
        closing &= bool(np.all(np.diff(gaps) < 0))
        parts.append(f"eta = {eta:g}: {eta * T * loss[-1]:.4g} (gap {abs(eta * T * loss[-1] / limit - 1):.1%})")
    verdict = ("consistent: every run is still closing the gap over its last steps (the law is a limit, "
               "with O(log t / t) corrections)" if closing else
               "not settled: some run is not closing the gap over its last steps (a spike, or T too small)")
    return f"at T = {T}: {'; '.join(parts)}; verdict: {verdict}."
