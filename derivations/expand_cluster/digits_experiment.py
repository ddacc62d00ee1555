"""``ec-digits``: Expand-and-Cluster on a 64-20-10 teacher trained on scikit-learn's digits.

Teacher: inputs X/16 (1797 images), NLL with a softmax output, Adam lr 1e-3, batch 64, 200 epochs,
Glorot start with seed 0.  Probes: the same 1797 inputs; targets: the teacher's 10 logits (mean squared
error).  Near-constant pixels are masked in the clustering's distances and the teacher comparison: a pixel
whose variance over the images is at most ``mask_variance`` (default 1e-2) times the largest pixel variance
(0: only the constant pixels).  A pixel lit in a handful of the 1797 images pins a neuron's weight on it only
through those images, so students that agree with the teacher to 1e-7 of Var(y) still carry their own
values there (a student at width 32: median teacher match 1e-1 with the constant pixels masked, 1e-4 with
the 9 pixels below 1e-2 of the largest variance masked as well); the authors' code masks MNIST with a
feature-selection (Boruta) mask for the same reason.

Students: the expansion phase from r0 = 8 (8, 16, 24, 32, 48, 64), then N = 10; or, with ``width`` > 0,
N = 10 at that width without the expansion.  Each student: Adam for ``iterations`` steps, then ``polish``
(BFGS, or Levenberg-Marquardt with ``polish=gauss-newton``: about 1000 times lower losses on these students,
at more cost per step) for ``polish_iterations`` (default: as many as ``iterations``).

Reported: K, overhead (K - r*)/r*, d_w and output dissimilarities, loss before and after fine-tuning;
success (tanh): r* <= K <= 1.1 r* and at least 90 % of teacher neurons at d_w <= 1e-3, for each variant.
scikit-learn is optional: without it the experiment says so and stops.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace

import numpy as np

from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.expand_cluster.theory_doc import expand_cluster_derivation
from gradflow.derivations.expand_cluster.toy_experiment import (ITERATIONS, QUICK_ITERATIONS, capped_trainer,
                                                                 clustering_figures)
from gradflow.derivations.report import Reproduction
from gradflow.numerics.expand_cluster.expansion import (ExpansionResult, TrainerSettings, expansion_phase,
                                                        train_at_width)
from gradflow.numerics.expand_cluster.options import ClusteringOptions
from gradflow.numerics.expand_cluster.pipeline import PipelineOptions, expand_and_cluster
from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.training import train
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp import Layer, Network, random_params

ACTIVATIONS = ("tanh", "relu", "sigmoid", "softplus")
HIDDEN, CLASSES, R0 = 20, 10, 8
VARIANTS = ("code", "robust", "robust+fg")


def digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ParameterError("ec-digits", "scikit-learn installed (pip install 'gradflow[sklearn]')",
                             "not installed") from None
    data = load_digits()
    return data.data / 16.0, data.target


def train_teacher(act: str, X, labels, epochs: int):
    net = Network(64, (Layer(HIDDEN, act), Layer(CLASSES, "softmax")), loss="nll")
    objective = MLPObjective.create(net, X, labels)
    steps = epochs * (len(X) // 64)
    result = train(objective, random_params(net, 0), method="adam", lr=1e-3, batchsize=64, polish="none",
                   maxiterations_ode=steps, minloss=0.0, min_gnorm=0.0, spectrum=False, maxtime_ode=3600)
    logits = net.forward(result.x, X)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == labels))
    return net, result.x, logits, accuracy



def pixel_mask(X, fraction: float) -> np.ndarray:
    """The pixels kept: variance over the images above ``fraction`` times the largest pixel variance (and > 0)."""
    variance = np.var(X, axis=0)
    return (variance > 0) & (variance > fraction * variance.max())


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

@dataclass(frozen=True)
class ECDigits(Experiment):
    name = "ec-digits"
    summary = "Expand-and-Cluster on a 64-20-10 teacher trained on scikit-learn's digits (needs the sklearn extra)"
    parameters = (
        Parameter("activation", "choice", "tanh", "one of " + ", ".join(ACTIVATIONS) + " or all",
                  "teacher activation (all: each in turn; tanh is the one with a success criterion)",
                  choices=ACTIVATIONS + ("all",)),
        Parameter("epochs", "int", 200, "an integer in [1, 10000]", "teacher training epochs (--quick: 20)",
                  lambda v: 1 <= v <= 10_000),
        Parameter("n_students", "int", 10, "an integer in [4, 100]", "students", lambda v: 4 <= v <= 100),
        Parameter("width", "int", 0, "0 or a multiple of 8 in [8, 256]",
                  "student width without the expansion phase (0: the expansion phase picks it)",
                  lambda v: v == 0 or (8 <= v <= 256 and v % R0 == 0)),
        Parameter("iterations", "int", ITERATIONS, "an integer in [100, 100000]",
                  "Adam steps per student, and the polish's cap unless polish_iterations is set (--quick: at most "
                  "1500)",
                  lambda v: 100 <= v <= 100_000),
        Parameter("polish", "choice", "bfgs", "bfgs or gauss-newton",
                  "the students' second phase after Adam: gradflow's BFGS, or Levenberg-Marquardt on the residuals "
                  "(far lower losses per iteration, P^3 per iteration)", choices=("bfgs", "gauss-newton")),
        Parameter("polish_iterations", "int", 0, "0 or an integer in [1, 100000]",
                  "the second phase's iteration cap (0: the same as iterations)", lambda v: 0 <= v <= 100_000),
        Parameter("mask_variance", "float", 1e-2, "a number in [0, 1)",
                  "pixels with variance <= this fraction of the largest pixel variance are masked (0: constant ones)",
                  lambda v: 0 <= v < 1),
        Parameter("maxtime", "float", 600.0, "a number > 0", "wall-time safety cap per training phase and student (s; "
                  "at most 60 with --quick)", lambda v: v > 0),
    )

    activation: str = "tanh"
    epochs: int = 200
    n_students: int = 10
    width: int = 0
    iterations: int = ITERATIONS
    polish: str = "bfgs"
    polish_iterations: int = 0
    mask_variance: float = 1e-2
    maxtime: float = 600.0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        started = time.perf_counter()
        X, labels = digits()
        epochs = min(self.epochs, 20) if quick else self.epochs
        cap = min(self.maxtime, 60.0) if quick else self.maxtime
        settings = self.trainer(quick, cap)
        activations = ACTIVATIONS if self.activation == "all" else (self.activation,)
        by_activation, figures, losses = {}, {}, {}
        for act in activations:
            result, kept, student_losses = self._one(act, X, labels, epochs, cap, settings, quick, progress)
            by_activation[act] = result
            figures.update({f"{act}_{k}": f for k, f in clustering_figures(kept).items()} if len(activations) > 1
                           else clustering_figures(kept))
            losses[f"losses_{act}"] = student_losses
        results = {**by_activation[activations[0]], "by_activation": by_activation}
        return Reproduction(name=self.name, parameters={"quick": quick, "activation": self.activation,
                                                        "epochs": epochs, "maxtime": cap, "width": self.width,
                                                        "iterations": settings.maxiterations_ode, "polish": self.polish,
                                                        "polish_iterations": settings.maxiterations_optim,
                                                        "mask_variance": self.mask_variance},
                            arrays=losses, figures=figures, report_markdown=_report(by_activation),
                            derivation_latex=expand_cluster_derivation().to_latex(), generated_code=[],
                            timings={"total": time.perf_counter() - started}, seeds=[0], results=results)

    def trainer(self, quick: bool, cap: float) -> TrainerSettings:
        """The students' trainer: Adam for ``iterations`` steps, then the polish to its own cap."""
        settings = capped_trainer(cap, min(self.iterations, QUICK_ITERATIONS) if quick else self.iterations)
        polish_cap = self.polish_iterations or settings.maxiterations_optim
        return replace(settings, polish=self.polish,
                       maxiterations_optim=min(polish_cap, QUICK_ITERATIONS) if quick else polish_cap)

    def _one(self, act: str, X, labels, epochs: int, cap: float, settings: TrainerSettings, quick: bool,
             progress: bool = False):
        """Teacher, students, every clustering variant for one activation: (JSON results, the results
        objects by variant, the students' losses)."""
        teacher_net, teacher_theta, logits, accuracy = train_teacher(act, X, labels, epochs)
        W1, W2 = teacher_net.unflatten(teacher_theta)
        mask = tuple(float(v) for v in np.r_[pixel_mask(X, self.mask_variance), 1.0])
        build = lambda m: Network(64, (Layer(R0 * m, act), Layer(CLASSES, "identity")),  # noqa: E731
                                  output_mean=True)
        n_students = 4 if quick else self.n_students
        if self.width:
            multiplier = self.width // R0
            students = train_at_width(build, X, logits, multiplier, n_students, settings, progress=progress)
            expansion = ExpansionResult((), multiplier, False, students)
        else:
            expansion = expansion_phase(build, X, logits, multipliers=(3, 4) if quick else (1, 2, 3, 4, 6, 8),
                                        n_probe=2 if quick else 5, n_students=n_students,
                                        settings=settings, progress=_say if progress else None)
        runs, kept = {}, {}
        for variant in VARIANTS:
            options = PipelineOptions(clustering=ClusteringOptions(variant=variant, mask=mask),
                                      finetune_maxtime_ode=cap, finetune_maxtime_optim=cap)
            result = expand_and_cluster(expansion.students, X, logits, act, options,
                                        teacher=[np.array(W1), np.array(W2)])
            kept[variant] = result
            run = result.to_json(rho=expansion.multiplier * R0 / HIDDEN, seeds=[0])
            K = result.widths[0] if result.widths else 0
            d_w = np.array(run["comparison"][0]["d_w"]) if run["comparison"] else np.ones(HIDDEN)
            run.update({"K": K, "overhead": (K - HIDDEN) / HIDDEN,
                        "success": bool(HIDDEN <= K <= 1.1 * HIDDEN and np.mean(d_w <= 1e-3) >= 0.9)})
            runs[variant] = run
        results = {"teacher": {"widths": [64, HIDDEN, CLASSES], "activation": act, "train_accuracy": accuracy,
                               "epochs": epochs},
                   "mask": list(mask), "expansion": expansion.to_json(),
                   "K": {v: r["K"] for v, r in runs.items()}, "overhead": {v: r["overhead"] for v, r in runs.items()},
                   "success": {v: r["success"] for v, r in runs.items()}, "runs": runs}
        return results, kept, expansion.students.losses


def _report(by_activation: dict) -> str:
    lines = ["# ec-digits", ""]
    for results in by_activation.values():
        t = results["teacher"]
        lines += [f"Teacher 64-{HIDDEN}-{CLASSES} ({t['activation']}), train accuracy {t['train_accuracy']:.3f} after "
                  f"{t['epochs']} epochs; students at width {results['expansion']['widths'][1]} ("
                  + (f"expansion reached: {results['expansion']['reached']}" if results['expansion']['probes']
                     else "fixed width, no expansion") + f"); {int(sum(results['mask'][:-1]))} of 64 pixels "
                  "unmasked.", "", "| variant | K | overhead | success |", "|---|---|---|---|"]
        for variant in VARIANTS:
            lines.append(f"| {variant} | {results['K'][variant]} | {results['overhead'][variant]:.2f} | "
                         f"{results['success'][variant]} |")
        lines.append("")
    return "\n".join(lines)
