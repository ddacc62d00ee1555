"""Experiments ``am-underparam`` and ``am-large-memory``.

* ``am-underparam``: d < N. The worked instance (three inputs in d = 2) whose cross-entropy minimizer
  misclassifies more than the best linear classifier, and an SGD run (generated logit-particle SGD
  kernel) that reaches the 0-1 optimum, leaves it and ends at the CE minimizer's 0-1 error.
* ``am-large-memory``: N = M = 5 random unit embeddings, GD for d in {3, 5, 10} and eta in {3, 10, 20}:
  loss spikes and eta t L.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities
from gradflow.derivations.associative_memory.simulators import logit_particle_simulator
from gradflow.derivations.binary_memory import figures, geometry
from gradflow.derivations.binary_memory.instances import (WORKED_ANGLES, WORKED_LABELS, WORKED_WEIGHTS, BinaryInstance,
                                                          circle_instance, worked_instance)
from gradflow.derivations.binary_memory.laws import BinaryLaws
from gradflow.derivations.binary_memory.reports import large_memory_report, underparam_report
from gradflow.derivations.binary_memory.simulators import derivation
from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.report import Reproduction
from gradflow.theory.errors import require


def _at_level(curve, level, tol=1e-12):
    return np.abs(np.asarray(curve) - level) <= tol


def forgetting_times(t, l01, best, ce_level, tol=1e-12) -> dict:
    """First step at the 0-1 optimum, first step it is left afterwards, last step at it, the step from which
    L01 stays at the CE minimizer's level, and whether the run ends there (share of the last 10% of records)."""
    t, l01 = np.asarray(t), np.asarray(l01)
    at = np.flatnonzero(_at_level(l01, best, tol))
    out = {"first_at_optimum": None, "left_optimum": None, "last_at_optimum": None}
    if at.size:
        first = int(at[0])
        out["first_at_optimum"] = int(t[first])
        after = np.flatnonzero(l01[first:] > best + tol)
        out["left_optimum"] = int(t[first + after[0]]) if after.size else None
        out["last_at_optimum"] = int(t[at[-1]])
    off_level = np.flatnonzero(~_at_level(l01, ce_level, tol))
    out["settled_at_ce_level"] = (int(t[off_level[-1] + 1]) if off_level.size and off_level[-1] + 1 < len(t)
                                  else (int(t[0]) if not off_level.size else None))
    tail = l01[-max(1, len(l01) // 10):]
    out["final_l01"] = float(l01[-1])
    out["tail_fraction_at_ce_level"] = float(np.mean(_at_level(tail, ce_level, tol)))
    out["shows_forgetting"] = bool(out["first_at_optimum"] is not None and out["left_optimum"] is not None
                                   and abs(out["final_l01"] - ce_level) <= tol and ce_level > best + tol)
    return out


@dataclass(frozen=True)
class InstanceSummary:
    """Separability, the best 0-1 error and (not separable) the CE minimizer and its 0-1 error."""

    kind: str  # geometry.SEPARABLE, WEAKLY_SEPARABLE or NOT_SEPARABLE
    l01_best: float
    l01_ce: float | None = None
    excess: float | None = None  # l01_ce - l01_best
    ce: geometry.CEMinimizer | None = None


def instance_summary(inst: BinaryInstance) -> InstanceSummary:
    kind = geometry.separability(inst.E, inst.labels)
    best = geometry.best_zero_one(inst.E, inst.labels, inst.p)
    if kind != geometry.NOT_SEPARABLE:
        return InstanceSummary(kind, best.error)
    ce = geometry.ce_minimizer(inst.E, inst.labels, inst.p)
    l01_ce = geometry.zero_one_error(ce.v, inst.E, inst.labels, inst.p)
    return InstanceSummary(kind, best.error, l01_ce, l01_ce - best.error, ce)


@dataclass(frozen=True)
class WorkedInstanceRun:
    """The worked instance: its CE minimizer, best 0-1 direction, the derived stability threshold and GD."""

    instance: BinaryInstance
    ce: geometry.CEMinimizer
    best: geometry.BestZeroOne
    l01_ce: float
    sharpness: float  # kappa lambda_max(H*), the derived W-space sharpness
    threshold: float  # 2 / (kappa lambda_max(H*)), the derived GD stability threshold
    gd_steps: int
    gd_margins: np.ndarray  # after gd_steps steps of GD with eta = 1 from W_0 = 0


def worked_instance_run(steps: int = 2_000) -> WorkedInstanceRun:
    wi = worked_instance()
    ce = geometry.ce_minimizer(wi.E, wi.labels, wi.p)
    best = geometry.best_zero_one(wi.E, wi.labels, wi.p)
    laws = BinaryLaws(derivation())
    gd = logit_particle_simulator().gd(wi.initial_logits, wi.data, wi.labels, 1.0, steps, [steps])
    return WorkedInstanceRun(wi, ce, best, geometry.zero_one_error(ce.v, wi.E, wi.labels, wi.p),
                             laws.sharpness(wi.kappa, ce.top_eigenvalue),
                             laws.stability_threshold(wi.kappa, ce.top_eigenvalue), steps, gd.margins[-1])


@dataclass(frozen=True)
class AmUnderparam(Experiment):
    name = "am-underparam"
    summary = ("d < N: the CE minimizer misclassifies more than the best linear classifier (worked instance), "
               "and SGD forgets the 0-1 optimum")
    parameters = (
        Parameter("sgd_N", "int", 10, "an integer >= 2", "inputs of the SGD run (random angles on the unit circle)",
                  lambda v: v >= 2),
        Parameter("zipf", "float", 2.0, ">= 0", "exponent a of the SGD run's frequencies p(x) ~ (x + 1)^-a",
                  lambda v: v >= 0),
        Parameter("batch", "int", 10, "an integer >= 1", "inputs drawn from p per SGD step", lambda v: v >= 1),
        Parameter("eta", "float", 0.1, "> 0", "SGD step size", lambda v: v > 0),
        Parameter("seed", "int", 6, ">= 0", "seed of the SGD run's angles and batches; its instance must not be "
                  "separable (6: the smallest seed showing forgetting)", lambda v: v >= 0),
        Parameter("scan_seeds", "int", 20, "an integer >= 1",
                  "seeds 0..scan_seeds-1 scanned for the rule in the report", lambda v: v >= 1),
    )
    backends = ("cpu",)

    sgd_N: int = 10
    zipf: float = 2.0
    batch: int = 10
    eta: float = 0.1
    seed: int = 6  # chosen by the rule in the report; re-checked at every run
    scan_seeds: int = 20

    def sgd_instance(self) -> BinaryInstance:
        return circle_instance(self.sgd_N, self.seed, self.zipf)

    def _sgd(self, inst: BinaryInstance, T: int, seed: int):
        return logit_particle_simulator().gd(inst.initial_logits, inst.data, inst.labels, self.eta, T, None,
                                             self.batch, seed)

    def _scan(self, T: int, quick: bool, progress: bool) -> list[dict]:
        """One row per scanned seed: the instance's kind and 0-1 errors, and (where the CE minimizer has an
        excess 0-1 error) the forgetting times of its SGD run."""
        from tqdm import tqdm

        scan = []
        seeds = range(self.seed + 1 if quick else max(self.scan_seeds, self.seed + 1))  # quick: enough to test the rule
        for s in tqdm(seeds, desc="am-underparam seed scan", disable=not progress):
            inst = circle_instance(self.sgd_N, s, self.zipf)
            row = instance_summary(inst)
            entry = {"seed": s, "kind": row.kind, "l01_best": row.l01_best, "l01_ce": row.l01_ce,
                     "excess": row.excess, "shows_forgetting": False}
            if row.excess is not None and row.excess > 1e-12:
                run = self._sgd(inst, T, s)
                entry.update(forgetting_times(run.t, run.l01, row.l01_best, row.l01_ce))
            scan.append(entry)
        return scan

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        timings = {}
        T = 2_000 if quick else 20_000
        inst = self.sgd_instance()
        chosen = instance_summary(inst)
        require(chosen.kind == geometry.NOT_SEPARABLE, "seed", "a seed whose instance is not separable", self.seed)

        start = time.perf_counter()
        worked = worked_instance_run()
        timings["worked_instance"] = time.perf_counter() - start

        start = time.perf_counter()
        scan = self._scan(T, quick, progress)
        run = self._sgd(inst, T, self.seed)
        times = forgetting_times(run.t, run.l01, chosen.l01_best, chosen.l01_ce)
        timings["sgd"] = time.perf_counter() - start

        arrays = self._arrays(worked, inst, chosen, run)
        plots = figures.underparam(self, worked.instance, worked.ce, worked.best, arrays)
        report = underparam_report(self, worked, arrays, chosen, times, scan, T)
        params = {"worked_instance": {"angles_deg": list(WORKED_ANGLES), "labels": list(WORKED_LABELS),
                                      "p": [w / 11 for w in WORKED_WEIGHTS], "U": "I", "d": 2, "M": 2},
                  "sgd": {"N": self.sgd_N, "d": 2, "M": 2, "zipf": self.zipf, "batch": self.batch, "eta": self.eta,
                          "seed": self.seed, "labels": "x mod 2", "steps": T, "W0": "zero", "U": "I"},
                  "quick": quick, "forgetting": times,
                  "scan": [{k: v for k, v in e.items()} for e in scan]}
        return Reproduction(self.name, params, arrays, plots, report, derivation().to_latex(),
                            [logit_particle_simulator().path], timings, [self.seed])

    @staticmethod
    def _arrays(worked: WorkedInstanceRun, inst: BinaryInstance, chosen: InstanceSummary, run) -> dict:
        wi, ce, best = worked.instance, worked.ce, worked.best
        return {
            "angles_deg": np.array(WORKED_ANGLES), "labels": wi.labels, "p": wi.p,
            "ce_minimizer": ce.v, "ce_margins": ce.margins, "ce_hessian": ce.hessian,
            "l01_ce": np.float64(worked.l01_ce), "l01_best": np.float64(best.error),
            "excess": np.float64(worked.l01_ce - best.error),
            "best_direction": best.direction, "stability_threshold": np.float64(worked.threshold),
            "gd_margins_final": worked.gd_margins,
            "sgd_angles_deg": np.rad2deg(np.arctan2(inst.E[:, 1], inst.E[:, 0])), "sgd_p": inst.p,
            "sgd_labels": inst.labels, "sgd_t": run.t, "sgd_loss": run.loss, "sgd_l01": run.l01,
            "sgd_margins": run.margins, "sgd_ce_minimizer": chosen.ce.v, "sgd_l01_ce": np.float64(chosen.l01_ce),
            "sgd_l01_best": np.float64(chosen.l01_best),
            "sgd_ce_loss": np.float64(chosen.ce.loss),
        }


def _integers(values) -> bool:
    return len(values) >= 1 and all(float(v).is_integer() and v >= 1 for v in values)


@dataclass(frozen=True)
class AmLargeMemory(Experiment):
    name = "am-large-memory"
    summary = "N = M = 5 random unit embeddings, GD for d in {3, 5, 10} and eta in {3, 10, 20}: loss spikes and eta t L"
    parameters = (
        Parameter("N", "int", 5, "an integer >= 2", "number of inputs and of classes (M = N, f*(x) = x)",
                  lambda v: v >= 2),
        Parameter("zipf", "float", 1.0, ">= 0", "exponent a of the input frequencies p(x) ~ (x + 1)^-a",
                  lambda v: v >= 0),
        Parameter("dims", "floats", (3, 5, 10), "a comma list of integers >= 1", "the embedding dimensions d, one "
                  "instance each", _integers),
        Parameter("etas", "floats", (3.0, 10.0, 20.0), "a comma list of numbers > 0", "the GD step sizes, one run each",
                  lambda v: len(v) >= 1 and all(e > 0 for e in v)),
        Parameter("seed", "int", 0, ">= 0", "seed of the embeddings (drawn anew for every d)", lambda v: v >= 0),
    )
    backends = ("cpu",)

    N: int = 5
    zipf: float = 1.0
    dims: tuple = (3, 5, 10)
    etas: tuple = (3.0, 10.0, 20.0)
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "dims", tuple(int(d) for d in self.dims))  # "floats" parses 3 as 3.0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        from tqdm import tqdm

        T = 300 if quick else 3_000
        p = zipf_probabilities(self.N, self.zipf)
        sim = logit_particle_simulator()
        loss = np.empty((len(self.dims), len(self.etas), T + 1))
        l01 = np.empty_like(loss)
        margins = np.empty((len(self.dims), len(self.etas), T + 1, self.N))
        start = time.perf_counter()
        jobs = [(i, d, k, eta) for i, d in enumerate(self.dims) for k, eta in enumerate(self.etas)]
        for i, d, k, eta in tqdm(jobs, desc="am-large-memory", disable=not progress):
            inst = memory_instance(self.N, self.N, d, p, self.seed, orthogonal=False)
            run = sim.gd(inst.initial_logits, inst.data, inst.labels, eta, T)
            loss[i, k], l01[i, k], margins[i, k] = run.loss, run.l01, run.margins
        timings = {"gd_runs": time.perf_counter() - start}
        increases = np.sum(np.diff(loss, axis=2) > 1e-12 * loss[:, :, 1:], axis=2)
        etas = np.array(self.etas)
        eta_t_loss = etas[None, :] * T * loss[:, :, -1]
        arrays = {"d": np.array(self.dims), "eta": etas, "t": np.arange(T + 1), "p": p, "loss": loss, "l01": l01,
                  "margins": margins, "loss_increases": increases, "eta_t_loss": eta_t_loss}
        plots = {"loss": figures.large_memory_loss(self, arrays), "margins": figures.large_memory_margins(self, arrays)}
        params = {"N": self.N, "M": self.N, "zipf": self.zipf, "d": list(self.dims), "eta": list(self.etas), "T": T,
                  "seed": self.seed, "labels": "f*(x) = x", "E, U": "random unit rows (memory_instance)", "W0": "zero",
                  "quick": quick}
        return Reproduction(self.name, params, arrays, plots, large_memory_report(self, arrays, T),
                            derivation().to_latex(), [sim.path], timings, [self.seed])
