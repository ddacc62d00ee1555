"""Sweep target ``ec-toy``: Expand-and-Cluster on EC-Toy-150 over any grid of (task, rho) x seeds.

``task`` indexes ``toy_tasks()`` (activation, then level, then seed: 0-49 tanh, 50-99 sigmoid, 100-149 g;
within each, 10 per level), ``rho`` is the student width / r*.  One member is one ec-toy run
(``toy_experiment.run_toy``: the students trained by the MLP engine, then the code-faithful, the robust and
the robust+fg clustering, assembly and fine-tuning, success as the task defines it); its students are
``task.student_init(rho, id)`` for ids drawn from the member's SeedSequence, so seed s of a point is another
set of N students than seed s' (ec-toy itself uses ids 0..N-1).  A member takes seconds to minutes: one or
two per task.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradflow.derivations.expand_cluster.theory_doc import expand_cluster_derivation
from gradflow.derivations.expand_cluster.toy_experiment import ITERATIONS, VARIANTS, run_toy, variant_key
from gradflow.numerics.expand_cluster.toy_tasks import toy_tasks
from gradflow.numerics.sweep import Observable, SweepTarget
from gradflow.theory.errors import require

MAX_RHO = 16  # as the expand-cluster model declares


def _integers(values, name: str, low: int, high: int, constraint: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    require(bool(np.all((values == np.round(values)) & (values >= low) & (values <= high))), name, constraint,
            tuple(values.tolist()))
    return values.astype(int)


class ExpandClusterTarget(SweepTarget):
    name = "ec-toy"
    summary = ("Expand-and-Cluster on EC-Toy-150 task (index 0-149) at width ratio rho, students from the seed: "
               "success and recovered width of both clusterings, students at zero loss")
    parameters = {"task": 0.0, "rho": 2.0}
    settings = {"n_students": 10, "maxtime": 300.0, "iterations": ITERATIONS}
    members_per_task = 1

    def observables(self, settings):
        return tuple(Observable(f"success_{variant_key(v)}", "bool", (), f"{v} clustering: K = r* and every teacher "
                                "neuron matched (dissimilarity <= 1e-3, output weight within 1 %)")
                     for v in VARIANTS) + tuple(
            Observable(f"width_{variant_key(v)}", "int32", (), f"{v} clustering: recovered width K (0: no "
                       "reconstruction)") for v in VARIANTS) + (
            Observable("zero_loss_fraction", "float64", (), "fraction of the students at L <= 1e-10 Var(y)"),)

    def code_source(self, settings):
        from gradflow.numerics.codegen.mlp_module import mlp_module

        return Path(mlp_module()[1]).read_text()

    def derivation_text(self):
        return expand_cluster_derivation().to_latex()

    def run_block(self, values, seeds, settings):
        n = int(settings["n_students"])
        require(4 <= n <= 100, "n_students", "an integer in [4, 100] (the clustering needs int(N / 2) >= 2)", n)
        require(float(settings["maxtime"]) > 0, "maxtime", "a number > 0", settings["maxtime"])
        require(int(settings["iterations"]) >= 1, "iterations", "an integer >= 1", settings["iterations"])
        tasks = toy_tasks()
        indices = _integers(values["task"], "task", 0, len(tasks) - 1, f"an integer in 0..{len(tasks) - 1}")
        rhos = _integers(values["rho"], "rho", 1, MAX_RHO, f"an integer in 1..{MAX_RHO}")
        P, S = seeds.shape
        out = {f"success_{variant_key(v)}": np.zeros((P, S), dtype=bool) for v in VARIANTS}
        out.update({f"width_{variant_key(v)}": np.zeros((P, S), dtype=np.int32) for v in VARIANTS})
        out["zero_loss_fraction"] = np.zeros((P, S))
        for p in range(P):
            for s in range(S):
                ids = seeds.sequence(p, s).generate_state(n, dtype=np.uint32)
                record = run_toy(tasks[indices[p]], int(rhos[p]), n, float(settings["maxtime"]),
                                 iterations=int(settings["iterations"]), student_ids=ids)
                out["zero_loss_fraction"][p, s] = record["converged_fraction"]
                for variant, verdict in record["variants"].items():
                    out[f"success_{variant_key(variant)}"][p, s] = verdict["success"]
                    out[f"width_{variant_key(variant)}"][p, s] = verdict["K"]
        return out


TARGETS = (ExpandClusterTarget(),)
