"""Experiment ``mlp-teacher-student``: recovering a teacher, and how far discrete training strays
from the gradient flow.

1. Recovery: D0 = 2, Gaussian inputs, a teacher of 5 neurons with g(z) = sigmoid(4z) + softplus(z)
   and no biases; a student of the same shape trained by the stiff flow and Newton should reach the
   teacher up to a permutation of its hidden neurons (g has no sign symmetry).
2. Methods: a softplus teacher of 5 neurons, a student of 4 (not realisable: the end is a local
   minimum); from one start, the flow is the reference and full-batch GD, SGD (batch 100) and Adam
   (full batch) with lr = 0.1 are measured by ``trajectory_distance``, time = lr x steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.derivation_cache import cached
from gradflow.derivations.mlp import figures
from gradflow.derivations.mlp.gaussian_experiment import GaussianInputs
from gradflow.derivations.report import Reproduction
from gradflow.numerics.codegen.mlp_module import mlp_module
from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.teacher import aligned_distance
from gradflow.numerics.mlp.training import train
from gradflow.numerics.mlp.trajectories import trajectory_distance
from gradflow.theory.mlp import Layer, Network, random_params
from gradflow.theory.mlp.recursions import layer_recursions

RECOVERY_NET = Network(2, (Layer(5, "g", bias=False), Layer(1, bias=False)))
METHODS_TEACHER = Network(2, (Layer(5, "softplus"), Layer(1)))
METHODS_STUDENT = Network(2, (Layer(4, "softplus"), Layer(1)))


def _data(teacher: Network, theta, n: int, seed: int):
    X = np.random.default_rng(seed).normal(size=(n, teacher.input_dim))
    return X, teacher.forward(theta, X)


def _positive(value) -> bool:
    return value > 0


@dataclass(frozen=True)
class TeacherStudent(Experiment):
    name = "mlp-teacher-student"
    summary = ("teacher-student MLPs: a g-network recovered up to permutation; GD, SGD and Adam measured "
               "against the gradient flow by trajectory distance")
    parameters = (
        Parameter("n", "int", 10_000, "an integer in [10, 1e6]", "Gaussian input samples",
                  lambda v: 10 <= v <= 10 ** 6),
        Parameter("seed", "int", 1, "an integer >= 0", "seed of the students' initial weights", lambda v: v >= 0),
        Parameter("teacher_seed", "int", 0, "an integer >= 0", "seed of the teachers and the inputs",
                  lambda v: v >= 0),
        Parameter("lr", "float", 0.1, "a number > 0", "step size of GD, SGD and Adam", _positive),
        Parameter("batch", "int", 100, "an integer >= 1", "SGD minibatch", lambda v: v >= 1),
        Parameter("t_end", "float", 1000.0, "a number > 0", "flow time compared (GD: t_end / lr steps)", _positive),
        Parameter("maxtime", "float", 60.0, "a number > 0", "wall-time limit of each training phase (s; "
                  "at most 10 with --quick)", _positive),
    )

    n: int = 10_000
    seed: int = 1
    teacher_seed: int = 0
    lr: float = 0.1
    batch: int = 100
    t_end: float = 1000.0
    maxtime: float = 60.0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        n, t_end = (min(self.n, 2000), min(self.t_end, 100.0)) if quick else (self.n, self.t_end)
        maxtime = min(self.maxtime, 10.0) if quick else self.maxtime
        timings: dict = {}
        start = time.perf_counter()
        recovery = self._recovery(n, 2 if quick else 5, maxtime, progress)
        timings["recovery"] = time.perf_counter() - start
        start = time.perf_counter()
        runs, distances = self._methods(n, t_end, maxtime, progress)
        timings["methods"] = time.perf_counter() - start
        arrays = {"recovery_teacher": recovery["teacher"], "recovery_students": recovery["students"]}
        for name, run in runs.items():
            arrays[f"{name}_time"] = run["time"]
            arrays[f"{name}_loss"] = run["loss"]
            arrays[f"{name}_final"] = run["final"]
        for name, d in distances.items():
            arrays[f"{name}_distance"] = d.distances
            arrays[f"{name}_reference_time"] = d.reference_times
        results = {
            "recovery": {"recovered": recovery["recovered"],
                         "tries": [{k: v for k, v in t.items() if k != "student"} for t in recovery["tries"]]},
            "methods": {name: {"final_loss": float(run["loss"][-1]), "steps": run["steps"],
                               "largest_distance": distances[name].largest if name in distances else 0.0}
                        for name, run in runs.items()},
            "n": n, "t_end": t_end}
        return Reproduction(
            name=self.name, parameters={**{p.name: getattr(self, p.name) for p in self.parameters}, "quick": quick},
            arrays=arrays, figures={"loss_curves": figures.loss_curves(runs),
                                    "trajectory_distances": figures.trajectory_distances(distances)},
            report_markdown=_report(results), derivation_latex=cached("mlp_layer_recursions", layer_recursions).to_latex(),
            generated_code=[mlp_module()[1]], timings=timings, seeds=[self.seed, self.teacher_seed], results=results)

    def _recovery(self, n: int, seeds: int, maxtime: float, progress: bool = False) -> dict:
        """Students from ``seeds`` initialisations; recovered when one reaches the teacher."""
        teacher = 1.5 * random_params(RECOVERY_NET, self.teacher_seed)
        X, Y = _data(RECOVERY_NET, teacher, n, self.teacher_seed)
        objective = MLPObjective.create(RECOVERY_NET, X, Y)
        tries = []
        for seed in range(self.seed, self.seed + seeds):
            result = train(objective, random_params(RECOVERY_NET, seed), maxtime_ode=maxtime,
                           maxtime_optim=maxtime, minloss=1e-25, min_gnorm=0.0, spectrum=False, progress=progress)
            distance = aligned_distance(result.x, teacher, RECOVERY_NET)
            tries.append({"seed": seed, "student": result.x, "loss": result.loss, "gnorm": result.gnorm,
                          "distance": distance, "recovered": bool(result.loss <= 1e-25 and distance <= 1e-6),
                          "stopped_by": f"{result.ode_stopped_by} / {result.optim_stopped_by}"})
        best = min(tries, key=lambda t: t["loss"])
        return {"teacher": teacher, "students": np.stack([t["student"] for t in tries]), "tries": tries,
                "recovered": any(t["recovered"] for t in tries), "best": best}

    def _methods(self, n: int, t_end: float, maxtime: float, progress: bool = False):
        teacher = random_params(METHODS_TEACHER, self.teacher_seed)
        X, Y = _data(METHODS_TEACHER, teacher, n, self.teacher_seed + 1)
        objective = MLPObjective.create(METHODS_STUDENT, X, Y)
        theta0 = random_params(METHODS_STUDENT, self.seed)
        common = {"polish": "none", "spectrum": False, "maxtime_ode": maxtime, "n_samples_trajectory": 200,
                  "seed": self.seed, "progress": progress}
        steps = max(1, int(round(t_end / self.lr)))
        results = {
            "flow": train(objective, theta0, maxT=t_end, **common),
            "gd": train(objective, theta0, method="gd", lr=self.lr, maxiterations_ode=steps, **common),
            "sgd": train(objective, theta0, method="sgd", lr=self.lr, batchsize=min(self.batch, n),
                         maxiterations_ode=steps, **common),
            "adam": train(objective, theta0, method="adam", lr=self.lr, maxiterations_ode=steps, **common),
        }
        runs, distances = {}, {}
        flow = results["flow"]
        for name, result in results.items():
            scale = 1.0 if name == "flow" else self.lr
            runs[name] = {"time": result.trajectory_times * scale, "loss": result.loss_curve,
                          "final": result.trajectory[-1], "steps": result.ode_iterations}
            if name != "flow":
                distances[name] = trajectory_distance(result.trajectory, flow.trajectory, flow.trajectory_times)
        return runs, distances


def _report(results: dict) -> str:
    r = results["recovery"]
    lines = ["# mlp-teacher-student", "",
             f"N = {results['n']} Gaussian inputs in D0 = 2.", "",
             "## Recovery of a teacher of 5 g-neurons (no biases)", "",
             "Students of the same shape from several initialisations, flow then Newton; recovered when the "
             "loss is <= 1e-25 and, after matching neurons, every parameter is within 1e-6 of the teacher's.",
             "", "| seed | loss | abs(grad) max | largest difference to the teacher | stopped by | recovered |",
             "|---|---|---|---|---|---|"]
    for t in r["tries"]:
        lines.append(f"| {t['seed']} | {t['loss']:.3e} | {t['gnorm']:.1e} | {t['distance']:.2e} | {t['stopped_by']} "
                     f"| {'yes' if t['recovered'] else 'no'} |")
    lines += ["", f"Teacher recovered: {'yes' if r['recovered'] else 'no'}.", "",
             "## GD, SGD and Adam against the flow (softplus teacher of 5, student of 4)", "",
             f"Flow to t = {results['t_end']:g}; discrete methods with time = lr x steps.", "",
             "| method | steps | final loss | largest trajectory distance |", "|---|---|---|---|"]
    for name, m in results["methods"].items():
        lines.append(f"| {name} | {m['steps']} | {m['final_loss']:.4e} | {m['largest_distance']:.3e} |")
    lines += ["", "Trajectory distance: |theta - theta_flow|^2 / (2P) at the matching point of the flow, "
              "scanned forward along the flow."]
    return "\n".join(lines) + "\n"


EXPERIMENTS = (TeacherStudent(), GaussianInputs())
