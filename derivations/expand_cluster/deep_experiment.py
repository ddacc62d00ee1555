"""``ec-deep``: Expand-and-Cluster on a two-hidden-layer tanh teacher (D0 = 4, widths 4 and 3, one output).

Teacher (``default_rng(seed)``): each layer's rows standard normal, normalised, times U(1.5, 2.5), biases
U(-1, 1) times the row norm; output weights +-U(0.5, 1.5), output bias 0; n = 2000 Gaussian inputs.  N = 10
students of widths rho (4, 3) (Glorot starts) trained by the engine; layer 1 clustered, the students rebuilt
in the reconstructed basis and retrained, layer 2 clustered; assembly, fine-tuning; layer-2 vectors are
compared after mapping the teacher's layer-1 basis through the layer-1 matches.  Success (robust variant;
the code-faithful one is reported too): K = r* per layer and every d <= 1e-3.  The robust variant's weight
tests cannot see that a layer-1 neuron with large weights into layer 2 carries almost nothing to the output
(zero-loss deep students keep such nearly constant neurons in some of them, tight enough to pass the
cluster tests); "robust+fg" adds the mean-ablation test that drops them (and the merge of split neurons),
and is reported as well.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.expand_cluster.theory_doc import expand_cluster_derivation
from gradflow.derivations.expand_cluster.toy_experiment import (ITERATIONS, QUICK_ITERATIONS, capped_trainer,
                                                                 clustering_figures)
from gradflow.derivations.report import Reproduction
from gradflow.numerics.expand_cluster.expansion import train_at_width
from gradflow.numerics.expand_cluster.options import ClusteringOptions
from gradflow.numerics.expand_cluster.pipeline import PipelineOptions, expand_and_cluster
from gradflow.theory.mlp import Layer, Network

TEACHER_WIDTHS = (4, 3)
INPUT_DIM = 4
VARIANTS = ("robust", "code", "robust+fg")


def deep_teacher(seed: int, n: int):
    """(weights W_1, W_2, W_3 in the network layout, X, y)."""
    rng = np.random.default_rng(seed)
    weights, fan_in = [], INPUT_DIM
    for width in TEACHER_WIDTHS:
        W = rng.normal(size=(width, fan_in))
        W = W / np.linalg.norm(W, axis=1, keepdims=True) * rng.uniform(1.5, 2.5, size=(width, 1))
        b = rng.uniform(-1, 1, size=width) * np.linalg.norm(W, axis=1)
        weights.append(np.c_[W, b])
        fan_in = width
    a = rng.choice([-1.0, 1.0], size=fan_in) * rng.uniform(0.5, 1.5, size=fan_in)
    weights.append(np.r_[a, 0.0][None, :])
    X = rng.normal(size=(n, INPUT_DIM))
    net = deep_network(TEACHER_WIDTHS)
    return weights, X, net.forward(net.flatten(weights), X)


def deep_network(widths) -> Network:
    return Network(INPUT_DIM, tuple(Layer(w, "tanh") for w in widths) + (Layer(1, "identity"),), output_mean=True)


@dataclass(frozen=True)
class ECDeep(Experiment):
    name = "ec-deep"
    summary = "Expand-and-Cluster on a deep tanh teacher 4-4-3-1: K per layer and layer-2 vectors in the matched basis"
    parameters = (
        Parameter("rho", "int", 4, "an integer in [1, 8]", "student widths / teacher widths", lambda v: 1 <= v <= 8),
        Parameter("n", "int", 2000, "an integer in [50, 100000]", "Gaussian inputs (--quick: at most 500)",
                  lambda v: 50 <= v <= 100_000),
        Parameter("seed", "int", 0, "an integer >= 0", "teacher and student seed", lambda v: v >= 0),
        Parameter("n_students", "int", 10, "an integer in [4, 100]", "students", lambda v: 4 <= v <= 100),
        Parameter("maxtime", "float", 600.0, "a number > 0", "wall-time safety cap per training phase and student (s; "
                  "at most 60 with --quick)", lambda v: v > 0),
    )

    rho: int = 4
    n: int = 2000
    seed: int = 0
    n_students: int = 10
    maxtime: float = 600.0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        started = time.perf_counter()
        n = min(self.n, 500) if quick else self.n
        cap = min(self.maxtime, 60.0) if quick else self.maxtime
        teacher, X, y = deep_teacher(self.seed, n)
        settings = capped_trainer(cap, QUICK_ITERATIONS if quick else ITERATIONS)
        students = train_at_width(lambda m: deep_network(tuple(m * w for w in TEACHER_WIDTHS)), X, y, self.rho,
                                  self.n_students, settings, seed=self.seed, progress=progress)
        runs, kept = {}, {}
        for variant in VARIANTS:
            options = PipelineOptions(clustering=ClusteringOptions(variant=variant), retrain=settings,
                                      finetune_maxtime_ode=cap, finetune_maxtime_optim=cap)
            result = expand_and_cluster(students, X, y, "tanh", options, teacher=teacher)
            kept[variant] = result
            runs[variant] = result.to_json(rho=self.rho, seeds=[self.seed])
            runs[variant]["K"] = list(result.widths)
        results = {"teacher_widths": list(TEACHER_WIDTHS), "rho": self.rho, "n": n, "seeds": [self.seed],
                   "K": {v: r["K"] for v, r in runs.items()}, "success": runs["robust"]["success"],
                   "success_code": runs["code"]["success"], "success_robust_fg": runs["robust+fg"]["success"],
                   "runs": runs}
        arrays = {"losses": students.losses, "teacher_W1": teacher[0], "teacher_W2": teacher[1]}
        return Reproduction(name=self.name, parameters={"quick": quick, "rho": self.rho, "n": n, "seed": self.seed,
                                                        "n_students": self.n_students, "maxtime": cap},
                            arrays=arrays, figures=clustering_figures(kept, layers=(1, 2)), report_markdown=_report(results, runs),
                            derivation_latex=expand_cluster_derivation().to_latex(), generated_code=[],
                            timings={"total": time.perf_counter() - started}, seeds=[self.seed], results=results)


def _report(results: dict, runs: dict) -> str:
    lines = ["# ec-deep", "", f"Teacher 4-{TEACHER_WIDTHS[0]}-{TEACHER_WIDTHS[1]}-1 (tanh), students rho = "
             f"{results['rho']}, n = {results['n']}.", "", "| variant | K | max d_w per layer | success |", "|---|---|---|---|"]
    for variant, run in runs.items():
        dws = [f"{max(c['d_w']):.2e}" for c in run["comparison"]]
        lines.append(f"| {variant} | {run['K']} | {', '.join(dws) or '-'} | {run['success']} |")
    return "\n".join(lines) + "\n"
