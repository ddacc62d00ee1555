"""The CLI model ``mlp``: deep networks trained to convergence on teacher or Gauss-Hermite data.

``gradflow simulate mlp`` runs the dynamics only (phase 1) and records the trajectory;
``gradflow train mlp`` runs dynamics and polish and writes result.npz and result.json.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradflow.derivations.contract import ModelEntry
from gradflow.derivations.cost import BYTES_PER_NUMBER, Cost
from gradflow.derivations.derivation_cache import cached
from gradflow.derivations.mlp import checks
from gradflow.derivations.mlp.layers import parse_layers
from gradflow.derivations.mlp.parameters import PARAMETERS
from gradflow.derivations.mlp.problem import Problem, build_problem, initial_point, network_of
from gradflow.derivations.output import dumps, jsonable, simulation_result
from gradflow.numerics.mlp.training import TrainingResult, train, train_ensemble
from gradflow.theory.errors import require
from gradflow.theory.mlp.recursions import layer_recursions

DEFAULT_STEPS = 1000
DISCRETE = ("gd", "sgd", "adam")


def training_options(settings: dict, method: str) -> dict:
    """The keyword arguments of ``train`` that the declared settings set."""
    return {"method": method, "polish": settings["polish"], "tauinv": settings["tauinv"], "lr": settings["lr"],
            "batchsize": settings["batch"] if method in ("sgd", "adam") else None,
            "shuffle": bool(settings["shuffle"]), "seed": settings["seed"], "maxtime_ode": settings["maxtime_ode"],
            "maxtime_optim": settings["maxtime_optim"], "minloss": settings["minloss"],
            "min_gnorm": settings["min_gnorm"], "patience": settings["patience"],
            "n_samples_trajectory": settings["points"]}


@dataclass(frozen=True)
class TrainingReport:
    """``gradflow train mlp``'s result: the settings, where the data came from, each member's result."""

    settings: dict
    problem: Problem
    results: tuple[TrainingResult, ...]

    def member_summary(self, result: TrainingResult) -> dict:
        return {"loss": result.loss, "gnorm": result.gnorm, "gnorm_regularized": result.gnorm_regularized,
                "converged": result.converged, "ode_stopped_by": result.ode_stopped_by,
                "optim_stopped_by": result.optim_stopped_by, "ode_iterations": result.ode_iterations,
                "optim_iterations": result.optim_iterations, "ode_loss": result.ode_loss,
                "ode_time_run": result.ode_time_run, "optim_time_run": result.optim_time_run,
                "total_time": result.total_time, "seed": result.seed, "method": result.method,
                "polish": result.polish, "final_time": result.final_time,
                "spectrum_extremes": None if result.spectrum is None else
                [float(result.spectrum[0]), float(result.spectrum[-1])]}

    def to_json(self) -> dict:
        student = self.problem.student
        return {"model": "mlp", "parameters": jsonable(self.settings), "layerspec": student.describe(),
                "n_params": student.n_params, "data": self.problem.data_source,
                "n_samples": self.problem.data.n_samples,
                "members": [dict(self.member_summary(r), x=r.x.tolist()) for r in self.results]}

    def arrays(self) -> dict:
        out = {}
        for e, r in enumerate(self.results):
            prefix = f"member{e}_" if len(self.results) > 1 else ""
            out.update({f"{prefix}x": r.x, f"{prefix}init": r.init, f"{prefix}ode_x": r.ode_x,
                        f"{prefix}trajectory_times": r.trajectory_times, f"{prefix}trajectory": r.trajectory,
                        f"{prefix}loss_curve": r.loss_curve})
            if r.spectrum is not None:
                out[f"{prefix}spectrum"] = r.spectrum
        if self.problem.teacher_theta is not None:
            out["teacher_theta"] = self.problem.teacher_theta
        return out

    def write(self, out_dir: Path) -> Path:
        """result.npz and result.json in ``out_dir``, each written whole (temporary file, then rename)."""
        out_dir = Path(out_dir)
        for name, writer in (("result.npz", lambda f: np.savez(f, **self.arrays())),
                             ("result.json", lambda f: f.write(dumps(self.to_json(), indent=1).encode()))):
            handle, temporary = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".partial")
            try:
                with os.fdopen(handle, "wb") as f:
                    writer(f)
                os.replace(temporary, out_dir / name)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return out_dir

    def summary(self) -> str:
        where = ("the Gaussian population (exact expected loss)" if self.problem.data_source == "population"
                 else f"{self.problem.data.n_samples} samples ({self.problem.data_source})")
        lines = [f"mlp {self.problem.student.describe()} (P = {self.problem.student.n_params}) on {where}"]
        for e, r in enumerate(self.results):
            lines.append(f"  member {e}: loss {r.loss:.6g}, |grad|_inf {r.gnorm:.3g}, converged {r.converged}; "
                         f"{r.method} stopped by {r.ode_stopped_by} after {r.ode_iterations} iterations "
                         f"({r.ode_time_run:.2f} s), {r.polish} by {r.optim_stopped_by} after "
                         f"{r.optim_iterations} ({r.optim_time_run:.2f} s)")
        return "\n".join(lines)


class MLPEntry(ModelEntry):
    name = "mlp"
    summary = ("multilayer perceptron of any depth trained to convergence: teacher-student, Gauss-Hermite "
               "data, exact gradients and Hessians")
    parameters = PARAMETERS
    methods = ("flow", "gd", "sgd", "adam", "dopri5", "rk4")
    default_length = {"flow": "until a stopping rule holds (minloss, min_gnorm, patience, maxtime_ode)",
                      **{m: f"at most --steps {DEFAULT_STEPS}, fewer if a stopping rule holds first"
                         for m in ("gd", "sgd", "adam", "dopri5", "rk4")}}
    backends = ("cpu",)
    cuda_methods = ()

    def derivation(self):
        return cached("mlp_layer_recursions", layer_recursions)

    def cost(self, settings, method, steps, t_end):
        student = network_of(parse_layers(settings["layers"]))
        n = {"teacher": settings["n"], "hermite": settings["nodes"] ** student.input_dim}.get(settings["data"], 1)
        P = student.n_params
        width = sum(student.widths)
        memory = BYTES_PER_NUMBER * (n * (student.input_dim + 2 * student.output_dim + 4 * width) + 8 * P * P)
        name = "n" if settings["data"] == "teacher" else "nodes"
        if n * student.input_dim * BYTES_PER_NUMBER < 8 * P * P * BYTES_PER_NUMBER:
            name = "layers"
        per_step = 6.0 * n * P
        if method != "flow":
            length = DEFAULT_STEPS if steps is None else steps
            return Cost(per_step * length * (1 if method in DISCRETE else 6), memory, name, length=length)
        return Cost(per_step * 1e4, memory, name, length=t_end)

    def run(self, settings, method, steps, t_end, backend, progress):
        problem = build_problem(settings)
        options = training_options(settings, method)
        options.update(polish="none", spectrum=False)
        if method != "flow":  # discrete methods, rk4 and dopri5 count their steps
            options["maxiterations_ode"] = DEFAULT_STEPS if steps is None else steps
        if t_end is not None:
            options["maxT"] = t_end
        result = train(problem.objective, initial_point(problem, settings, None), progress=progress, **options)
        params = dict(settings, method=method, backend=backend, steps=steps, t_end=t_end,
                      stopped_by=result.ode_stopped_by, n_params=problem.student.n_params)
        gnorms = [float(np.max(np.abs(problem.objective.loss_and_gradient(x)[1]))) for x in result.trajectory]
        return simulation_result(params, t=result.trajectory_times, loss=result.loss_curve, gnorm=gnorms,
                                 theta=result.trajectory)

    def train(self, settings, data=None, init=None, members: int = 1, progress: bool = False,
              method: str = "flow") -> TrainingReport:
        require(isinstance(members, int) and 1 <= members <= 10_000, "--members", "an integer in [1, 10000]",
                members)
        require(method in self.methods, "--method", f"one of {', '.join(self.methods)}", method)
        settings = self.settings(settings)
        problem = build_problem(settings, data)
        start = initial_point(problem, settings, init, members)
        options = training_options(settings, method)
        if members == 1:
            results = (train(problem.objective, start, progress=progress, **options),)
        else:
            results = tuple(train_ensemble(problem.objective, start, progress=progress, **options))
        return TrainingReport(settings, problem, results)

    def checks(self, quick=True):
        return checks.mlp_checks(quick)
