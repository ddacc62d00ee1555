"""The ``mlp-train`` cell: a student of 8 softplus neurons (P = 33) trained on the outputs of a teacher of
4 softplus neurons (both layers with biases, identity output), N Gaussian inputs in D0 = 2, from
E seeds, down to |grad L|_inf <= 1e-12.

Implementations (each member stops at |grad|_inf <= 1e-12 or after ``cap`` seconds per phase):

  gradflow-ensemble  ``train_ensemble`` (stiff flow, then the automatic polish: bfgs-hessian), members in threads
  gradflow-ensemble-newton-bfgs  the same with polish ``newton-bfgs`` (Newton; BFGS once Newton stalls)
  gradflow           gradflow's BFGS alone, one seed after the other
  gradflow-bfgs-hessian  the same, H restarted from the exact Hessian every 20 iterations (polish bfgs-hessian)
  scipy-bfgs         ``scipy.optimize.minimize(method="BFGS", jac=True)`` on gradflow's loss and gradient
  scipy-bfgs-pool    the same, seeds spread over a process pool (workers warmed before timing)
  gradflow-gd        GD with lr = 1 / lambda_max(H(theta0)) for as long as gradflow's BFGS ran on that seed

Per seed: the time to the first evaluation with |grad|_inf <= 1e-8 and <= 1e-12 (a wrapper around the
objective timestamps every evaluation), the final loss, and which minimum (final losses of all runs
sorted and cut where neighbours differ by more than 1e-10).  Agreement: every reported loss equals
plain NumPy's loss at the returned point, and the serial and pooled SciPy runs pass through the same
point when they first reach |grad|_inf <= 1e-8 (the same arithmetic in another process).

Ensemble throughput is measured on fixed work: E copies of one start, each a fixed number of flow
and polish iterations, against one copy alone (members per second, in the same run).
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import multiprocessing
import numpy as np

from gradflow.bench.mlp_peers import numpy_loss

TOLERANCES = (1e-8, 1e-12)
MINIMUM_GAP = 1e-10  # final losses closer than this are the same minimum


@dataclass
class Problem:
    network: object
    X: np.ndarray
    Y: np.ndarray
    starts: np.ndarray  # (E, P)

    def objective(self):
        from gradflow.numerics.mlp import MLPObjective

        return MLPObjective.create(self.network, self.X, self.Y)


def problem(n: int, seeds: int) -> Problem:
    from gradflow.numerics.mlp.teacher import TeacherNet, teacher_data
    from gradflow.theory.mlp import Layer, Network, random_params

    teacher = TeacherNet(Network(2, (Layer(4, "softplus"), Layer(1))), seed=0)
    data = teacher_data(teacher, n, seed=1)
    student = Network(2, (Layer(8, "softplus"), Layer(1)))
    return Problem(student, data.X, data.Y, np.array([random_params(student, s) for s in range(seeds)]))


class Stopwatch:
    """An objective that remembers when (seconds since its first evaluation after ``start``: a member
    queued behind others in a pool is not charged for the wait) and where |grad|_inf first fell to
    each tolerance, and how many evaluations it made."""

    def __init__(self, objective):
        self.inner = objective
        self.n_params, self.n_samples = objective.n_params, objective.n_samples
        self.start()

    def start(self):
        self.started = None
        self.hits: dict = {}
        self.points: dict = {}
        self.hit_evaluations: dict = {}
        self.evaluations = 0

    def _seen(self, theta, grad):
        self.evaluations += 1
        gnorm = float(np.max(np.abs(grad)))
        for tol in TOLERANCES:
            if gnorm <= tol and tol not in self.hits:
                self.hits[tol] = time.perf_counter() - self.started
                self.points[tol] = np.array(theta, dtype=float)
                self.hit_evaluations[tol] = self.evaluations

    def _begin(self):
        if self.started is None:
            self.started = time.perf_counter()

    def loss_and_gradient(self, theta):
        self._begin()
        loss, grad = self.inner.loss_and_gradient(theta)
        self._seen(theta, grad)
        return loss, grad

    def loss_gradient_hessian(self, theta):
        self._begin()
        loss, grad, H = self.inner.loss_gradient_hessian(theta)
        self._seen(theta, grad)
        return loss, grad, H

    def hessian(self, theta):
        self._begin()
        return self.inner.hessian(theta)

    @property
    def data_term(self):
        return self


@dataclass
class Run:
    """One member's outcome."""

    hits: dict  # tolerance -> seconds to the first |grad|_inf <= tolerance (absent: never)
    points: dict  # tolerance -> that point
    x: np.ndarray
    loss: float
    gnorm: float
    seconds: float
    evaluations: int
    hit_evaluations: dict  # tolerance -> gradient evaluations until then (a count the machine's load leaves alone)

    @classmethod
    def of(cls, watch: Stopwatch, x, loss, gnorm, seconds):
        return cls(dict(watch.hits), dict(watch.points), np.array(x, dtype=float), float(loss), float(gnorm),
                   float(seconds), watch.evaluations, dict(watch.hit_evaluations))


def _gnorm(objective, x) -> float:
    return float(np.max(np.abs(objective.loss_and_gradient(x)[1])))


def gradflow_ensemble(prob: Problem, cap: float, starts=None, workers=None, **limits) -> tuple[list, float]:
    from gradflow.numerics.mlp.training import train_ensemble

    starts = prob.starts if starts is None else starts
    base = prob.objective()
    watches = [Stopwatch(base) for _ in starts]
    options = dict(min_gnorm=TOLERANCES[-1], minloss=0.0, maxtime_ode=cap, maxtime_optim=cap, spectrum=False)
    options.update(limits)
    started = time.perf_counter()
    results = train_ensemble(watches, starts, workers=workers, **options)
    wall = time.perf_counter() - started
    return [Run.of(w, r.x, r.loss, r.gnorm_regularized, r.total_time) for w, r in zip(watches, results)], wall


def gradflow_bfgs(prob: Problem, cap: float, hessian_every: int = 0) -> list:
    from gradflow.numerics.mlp.training import bfgs
    from gradflow.numerics.mlp.training.termination import Limits, Tracker

    base = prob.objective()
    runs = []
    for theta0 in prob.starts:
        watch = Stopwatch(base)
        tracker = Tracker(Limits(maxtime=cap, minloss=0.0, min_gnorm=TOLERANCES[-1]))
        x = bfgs(watch, theta0, tracker, hessian_every=hessian_every)
        runs.append(Run.of(watch, x, tracker.best_loss, tracker.best_gnorm, tracker.elapsed))
    return runs


def gradflow_gd(prob: Problem, seconds: list) -> list:
    from gradflow.numerics.mlp.training import train

    base = prob.objective()
    runs = []
    for theta0, budget in zip(prob.starts, seconds):
        lr = 1.0 / float(np.linalg.eigvalsh(base.hessian(theta0))[-1])
        watch = Stopwatch(base)
        r = train(watch, theta0, method="gd", lr=lr, polish="none", maxtime_ode=max(budget, 1e-3),
                  maxiterations_ode=10 ** 9, minloss=0.0, min_gnorm=TOLERANCES[-1], spectrum=False)
        runs.append(Run.of(watch, r.x, r.loss, r.gnorm_regularized, r.total_time))
    return runs


class _Stop(Exception):
    pass


def scipy_member(network, X, Y, theta0, cap: float) -> Run:
    """SciPy's BFGS from theta0 until |grad|_inf <= 1e-12, its own stop, or ``cap`` seconds.
    Module-level: it also runs in pool workers."""
    from scipy.optimize import minimize

    from gradflow.numerics.mlp import MLPObjective

    watch = Stopwatch(MLPObjective.create(network, X, Y))
    best = {"loss": math.inf, "x": np.array(theta0, dtype=float), "gnorm": math.inf}

    def fun(theta):
        loss, grad = watch.loss_and_gradient(theta)
        gnorm = float(np.max(np.abs(grad)))
        if loss < best["loss"]:
            best.update(loss=loss, x=np.array(theta), gnorm=gnorm)
        if gnorm <= TOLERANCES[-1] or time.perf_counter() - watch.started >= cap:
            raise _Stop
        return loss, grad

    try:
        minimize(fun, np.array(theta0, dtype=float), jac=True, method="BFGS",
                 options={"gtol": 1e-300, "maxiter": 10 ** 9})
    except _Stop:
        pass
    return Run.of(watch, best["x"], best["loss"], best["gnorm"], time.perf_counter() - watch.started)


def scipy_serial(prob: Problem, cap: float) -> list:
    return [scipy_member(prob.network, prob.X, prob.Y, theta0, cap) for theta0 in prob.starts]


def _warm(network, X, Y, theta0) -> int:
    from gradflow.numerics.mlp import MLPObjective

    MLPObjective.create(network, X, Y).loss_and_gradient(theta0)  # imports and loads the compiled kernels
    return os.getpid()


def scipy_pool(prob: Problem, cap: float, workers: int) -> tuple[list, float]:
    context = multiprocessing.get_context("spawn")  # no fork of a process that has run threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        list(pool.map(_warm, *zip(*[(prob.network, prob.X, prob.Y, prob.starts[0])] * (2 * workers))))
        started = time.perf_counter()
        futures = [pool.submit(scipy_member, prob.network, prob.X, prob.Y, theta0, cap) for theta0 in prob.starts]
        runs = [f.result() for f in futures]
        return runs, time.perf_counter() - started


def ensemble_throughput(prob: Problem, members: int, workers: int, flow_steps: int, polish_steps: int) -> dict:
    """members / second of E copies of one start (fixed work each) against one copy alone, and the ceiling
    of that ratio: a member alone already splits its samples over the cores, so E members gain over it at
    most cores x (its time alone) / (its time on one core), every core running members of its own at one
    core's speed."""
    from gradflow.numerics.mlp.kernels import serial_kernels

    limits = dict(maxiterations_ode=flow_steps, maxiterations_optim=polish_steps, min_gnorm=0.0)
    one = prob.starts[:1]
    gradflow_ensemble(prob, math.inf, starts=one, workers=1, **limits)  # warm-up
    _, alone = gradflow_ensemble(prob, math.inf, starts=one, workers=1, **limits)
    with serial_kernels():
        _, one_core = gradflow_ensemble(prob, math.inf, starts=one, workers=1, **limits)
    _, together = gradflow_ensemble(prob, math.inf, starts=np.repeat(one, members, axis=0), workers=workers,
                                    **limits)
    speedup = members * alone / together
    ceiling = workers * alone / one_core
    return {"members": members, "workers": workers, "one_member_s": alone, "one_member_one_core_s": one_core,
            "ensemble_s": together, "throughput_ratio": speedup, "ceiling_ratio": ceiling,
            "fraction_of_ceiling": speedup / ceiling, "target_throughput_ratio": 0.8 * workers,
            "target_throughput_met": bool(speedup >= 0.8 * workers), "fixed_work": limits}


def label_minima(losses: list) -> list:
    """Labels 0, 1, ... by increasing final loss; neighbours within MINIMUM_GAP share a label."""
    order = np.argsort(losses)
    labels = [0] * len(losses)
    label = 0
    for previous, current in zip(order, order[1:]):
        if losses[current] - losses[previous] > MINIMUM_GAP:
            label += 1
        labels[current] = label
    return labels


# --- the cell ---------------------------------------------------------------------------------

CAP_FULL, CAP_QUICK = 12.0, 2.0  # seconds per member and phase: what keeps the cell's wall time bounded


def _time_to(runs: list, tol: float) -> list:
    return [r.hits.get(tol) for r in runs]


def _speed_ratio(ours: list, theirs: list) -> dict:
    """Summed and median time to 1e-8 of the seeds both reached, theirs / ours."""
    pairs = [(a, b) for a, b in zip(_time_to(ours, 1e-8), _time_to(theirs, 1e-8)) if a is not None and b is not None]
    if not pairs:
        return {"seeds_both_reached": 0, "summed": None, "median": None}
    a, b = np.array(pairs).T
    counts = [(x.hit_evaluations[1e-8], y.hit_evaluations[1e-8]) for x, y in zip(ours, theirs)
              if 1e-8 in x.hit_evaluations and 1e-8 in y.hit_evaluations]
    ca, cb = np.array(counts).T
    return {"seeds_both_reached": len(pairs), "summed": float(b.sum() / a.sum()),
            "median": float(np.median(b) / np.median(a)), "evaluations_summed": float(cb.sum() / ca.sum())}


def _three_times(ratio: dict, seeds: int) -> bool:
    """The BFGS target: every seed reached 1e-8 on both sides, in at most a third of SciPy's summed time."""
    return bool(ratio["summed"] is not None and ratio["summed"] >= 3 and ratio["seeds_both_reached"] == seeds)


def _agreement(prob: Problem, runs: dict) -> dict:
    """Worst relative difference per implementation: its loss against NumPy's at its point; for the pool,
    also its point at the first |grad|_inf <= 1e-8 against the serial run's."""
    diffs = {}
    for name, member_runs in runs.items():
        worst = 0.0
        for r in member_runs:
            reference = numpy_loss(r.x, prob.X, prob.Y)
            worst = max(worst, abs(r.loss - reference) / max(abs(reference), 1e-300) if reference > 1e-20
                        else abs(r.loss - reference))
        diffs[name] = worst
    for serial, pooled in zip(runs["scipy-bfgs"], runs["scipy-bfgs-pool"]):
        if 1e-8 in serial.points and 1e-8 in pooled.points:
            gap = np.max(np.abs(serial.points[1e-8] - pooled.points[1e-8])) / np.max(np.abs(serial.points[1e-8]))
            diffs["scipy-bfgs-pool"] = max(diffs["scipy-bfgs-pool"], float(gap))
    return diffs


def _per_seed(runs: dict) -> dict:
    names = list(runs)
    flat = [r.loss for name in names for r in runs[name]]
    labels = iter(label_minima(flat))
    table = {}
    for name in names:
        table[name] = [{"seed": s, "t_1e-8": r.hits.get(1e-8), "t_1e-12": r.hits.get(1e-12), "loss": r.loss,
                        "gnorm": r.gnorm, "minimum": next(labels), "seconds": r.seconds, "evaluations": r.evaluations,
                        "evaluations_to_1e-8": r.hit_evaluations.get(1e-8)}
                       for s, r in enumerate(runs[name])]
    return table


def mlp_train(quick: bool, ceilings: dict) -> list:
    from gradflow.bench.harness import CellResult
    from gradflow.numerics.mlp.training.dense_bfgs import HESSIAN_EVERY

    n, seeds, cap = (2000, 4, CAP_QUICK) if quick else (10_000, 16, CAP_FULL)
    workers = os.cpu_count() or 1
    prob = problem(n, seeds)
    warm = Problem(prob.network, prob.X, prob.Y, prob.starts[:1])  # loads every kernel once, untimed
    started = time.perf_counter()
    gradflow_ensemble(warm, 0.2)  # its automatic polish computes Hessians: every row's kernels
    gradflow_bfgs(warm, 0.2, hessian_every=HESSIAN_EVERY)
    compile_s = time.perf_counter() - started

    runs, times = {}, {}
    runs["gradflow-ensemble"], times["gradflow-ensemble"] = gradflow_ensemble(prob, cap, workers=workers)
    runs["gradflow-ensemble-newton-bfgs"], times["gradflow-ensemble-newton-bfgs"] = gradflow_ensemble(
        prob, cap, workers=workers, polish="newton-bfgs")
    started = time.perf_counter()
    runs["gradflow"] = gradflow_bfgs(prob, cap)
    times["gradflow"] = time.perf_counter() - started
    started = time.perf_counter()
    runs["gradflow-bfgs-hessian"] = gradflow_bfgs(prob, cap, hessian_every=HESSIAN_EVERY)
    times["gradflow-bfgs-hessian"] = time.perf_counter() - started
    started = time.perf_counter()
    runs["scipy-bfgs"] = scipy_serial(prob, cap)
    times["scipy-bfgs"] = time.perf_counter() - started
    runs["scipy-bfgs-pool"], times["scipy-bfgs-pool"] = scipy_pool(prob, cap, workers)
    started = time.perf_counter()
    runs["gradflow-gd"] = gradflow_gd(prob, [r.seconds for r in runs["gradflow"]])
    times["gradflow-gd"] = time.perf_counter() - started
    throughput = ensemble_throughput(prob, seeds, workers, flow_steps=10 if quick else 30, polish_steps=3)

    diffs = _agreement(prob, runs)
    worst = max(diffs.values())
    versus_scipy = _speed_ratio(runs["gradflow"], runs["scipy-bfgs"])
    hessian_versus_scipy = _speed_ratio(runs["gradflow-bfgs-hessian"], runs["scipy-bfgs"])
    reached = {name: sum(r.hits.get(1e-12) is not None for r in member_runs) for name, member_runs in runs.items()}
    notes = {
        "n_samples": n, "seeds": seeds, "n_params": prob.network.n_params, "cap_s_per_member_phase": cap,
        "cores": workers, "per_seed": _per_seed(runs), "seeds_reaching_1e-12": reached,
        "gradflow_bfgs_vs_scipy_to_1e-8": versus_scipy,
        "gradflow_bfgs_vs_scipy_pool_to_1e-8": _speed_ratio(runs["gradflow"], runs["scipy-bfgs-pool"]),
        "gradflow_bfgs_hessian_vs_scipy_to_1e-8": hessian_versus_scipy,
        "ensemble_throughput": throughput,
        "target_every_seed_reaches_1e-12": {name: count == seeds for name, count in reached.items()},
        "target_bfgs_3x_scipy_to_1e-8": _three_times(versus_scipy, seeds),
        "target_bfgs_hessian_3x_scipy_to_1e-8": _three_times(hessian_versus_scipy, seeds),
        "target_ensemble_throughput": throughput["target_throughput_met"],
        "max_rel_diff_by_impl": diffs, "load_average": os.getloadavg(),
    }
    ratios = {k: times[k] / times["gradflow"] for k in times if k != "gradflow"}
    return [CellResult("mlp-train", False, worst <= 1e-9, worst, times, {"warm-up": compile_s}, ratios, None, notes)]
