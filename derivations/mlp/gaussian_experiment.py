"""Experiment ``mlp-gaussian``: the exact expected loss over Gaussian inputs (the population network)
against Gauss-Hermite quadrature data and 10^4 Gaussian samples.

D0 = 2; teachers of ``width`` erf2 or ReLU neurons with hidden and output biases; a student of the
same shape trained by the gradient flow (for ReLU by the explicit Dormand-Prince integrator) from one start on (a) the population network, (b)
``gauss_hermite_data(2, nodes)`` labelled by the teacher, (c) ``n`` Gaussian samples.

Result JSON (``results.json``):

- ``kernel_errors``: one row per population kernel (erf2, erf, normal_cdf, relu; biased where
  derived): ``monte_carlo_standard_errors`` (largest |kernel - Monte Carlo mean| / standard error
  over the points), ``quadrature_relative_error`` (largest relative error against 2-D Gauss-Hermite,
  or nested quad for relu), ``points``, ``samples``, ``quadrature``.
- ``teachers[<erf2|relu>]``:
  ``loss_differences``: {``initial``, ``final``} x {``hermite``, ``samples``}: |L_kind - L_population|
  at the common start and at the population run's end, and ``relative`` versions (divided by
  L_population); ``final_loss``: each run's loss on its own data at its end; ``largest_distance``:
  {``hermite``, ``samples``}: the largest ``trajectory_distance`` to the population run;
  ``stopped_by``: each run's flow stop rule; ``method``: the flow's integrator (Radau ``flow`` for erf2,
  ``dopri5`` for relu, whose kernel has no Hessian where a student neuron lines up with a teacher's).
- ``n``, ``nodes``, ``t_end``, ``width``.

Arrays (``data.npz``): ``<teacher>_<kind>_time`` / ``_loss`` / ``_final``, ``<teacher>_<kind>_distance``
and ``_reference_time`` for kind in hermite, samples, and ``<teacher>_teacher`` (the teacher's theta).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.mlp import gaussian_figures as figures
from gradflow.derivations.mlp.kernel_errors import kernel_errors
from gradflow.derivations.report import Reproduction
from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.population import PopulationNetwork, gauss_hermite_data
from gradflow.numerics.mlp.population.kernel_module import kernel_module
from gradflow.numerics.mlp.training import train
from gradflow.numerics.mlp.trajectories import trajectory_distance
from gradflow.theory.gaussian.kernels import kernel
from gradflow.theory.latex import document
from gradflow.theory.mlp import Layer, Network, random_params

TEACHERS = ("erf2", "relu")
# ReLU's kappa is not C^2 where a student neuron lines up with a teacher neuron, which the flow
# approaches: the explicit Dormand-Prince pair needs no Hessian (the stiff Radau flow would ask for one)
FLOW_METHODS = {"erf2": "flow", "relu": "dopri5"}
KINDS = ("population", "hermite", "samples")


def _positive(value) -> bool:
    return value > 0


def network(activation: str, width: int) -> Network:
    return Network(2, (Layer(width, activation), Layer(1)))


def objectives(net: Network, teacher_theta: np.ndarray, n: int, nodes: int, seed: int) -> dict:
    """The three objectives of one teacher: population, Gauss-Hermite quadrature, samples."""
    W1, W2 = net.unflatten(teacher_theta)
    width = net.layers[0].width
    population = PopulationNetwork(net.layers[0].activation[0].name, 2, width, W1[:, :2], W2[0, :width],
                                   hidden_bias=True, output_bias=True, teacher_biases=W1[:, 2],
                                   teacher_output_bias=float(W2[0, -1]))
    X, w = gauss_hermite_data(2, nodes)
    Xs = np.random.default_rng(seed).normal(size=(n, 2))
    return {"population": population,
            "hermite": MLPObjective.create(net, X, net.forward(teacher_theta, X), w),
            "samples": MLPObjective.create(net, Xs, net.forward(teacher_theta, Xs))}


@dataclass(frozen=True)
class GaussianInputs(Experiment):
    name = "mlp-gaussian"
    summary = ("Gaussian inputs: the population network (exact expected loss) against Gauss-Hermite data and "
               "10^4 samples for erf2 and ReLU teachers with biases; kernel errors, loss differences, trajectories")
    parameters = (
        Parameter("n", "int", 10_000, "an integer in [10, 1e6]", "Gaussian input samples", lambda v: 10 <= v <= 10 ** 6),
        Parameter("nodes", "int", 200, "an integer in [10, 2000]", "Gauss-Hermite nodes per input dimension",
                  lambda v: 10 <= v <= 2000),
        Parameter("width", "int", 3, "an integer in [1, 20]", "hidden neurons of teacher and student",
                  lambda v: 1 <= v <= 20),
        Parameter("seed", "int", 1, "an integer >= 0", "seed of the student's initial weights", lambda v: v >= 0),
        Parameter("teacher_seed", "int", 0, "an integer >= 0", "seed of the teachers and the samples",
                  lambda v: v >= 0),
        Parameter("t_end", "float", 1000.0, "a number > 0", "flow time of every run (at most 30 with --quick)",
                  _positive),
        Parameter("mc_samples", "int", 1_000_000, "an integer in [1000, 1e7]", "Monte Carlo samples per kernel "
                  "point (at most 1e5 with --quick)", lambda v: 1000 <= v <= 10 ** 7),
        Parameter("maxtime", "float", 60.0, "a number > 0", "wall-time limit of each flow (s; at most 5 with --quick)",
                  _positive),
    )

    n: int = 10_000
    nodes: int = 200
    width: int = 3
    seed: int = 1
    teacher_seed: int = 0
    t_end: float = 1000.0
    mc_samples: int = 1_000_000
    maxtime: float = 60.0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        t_end = min(self.t_end, 30.0) if quick else self.t_end
        maxtime = min(self.maxtime, 5.0) if quick else self.maxtime
        mc = min(self.mc_samples, 100_000) if quick else self.mc_samples
        timings: dict = {}
        start = time.perf_counter()
        table = kernel_errors(samples=mc, n_points=2 if quick else 4, seed=self.teacher_seed, nodes=200)
        timings["kernel_errors"] = time.perf_counter() - start
        arrays, teachers, runs, distances = {}, {}, {}, {}
        for name in TEACHERS:
            start = time.perf_counter()
            teachers[name], runs[name], distances[name] = self._teacher(name, t_end, maxtime, arrays, progress)
            timings[name] = time.perf_counter() - start
        results = {"kernel_errors": table, "teachers": teachers, "n": self.n, "nodes": self.nodes, "t_end": t_end,
                   "width": self.width}
        # named for code/ (these generated modules carry no docstring naming what they compute)
        modules = [(f"{name} population kernel", kernel_module(kernel(name, biased=True)).__file__) for name in TEACHERS]
        return Reproduction(
            name=self.name, parameters={**{p.name: getattr(self, p.name) for p in self.parameters}, "quick": quick},
            arrays=arrays, figures={"loss_curves": figures.loss_curves(runs),
                                    "trajectory_distances": figures.trajectory_distances(distances)},
            report_markdown=_report(results),
            derivation_latex=gaussian_derivation_latex(),
            generated_code=modules, timings=timings, seeds=[self.seed, self.teacher_seed], results=results)

    def _teacher(self, name: str, t_end: float, maxtime: float, arrays: dict, progress: bool = False):
        net = network(name, self.width)
        rng = np.random.default_rng(self.teacher_seed)
        teacher = 1.5 * random_params(net, self.teacher_seed) + _biases(net, rng, 0.5)
        theta0 = random_params(net, self.seed) + _biases(net, np.random.default_rng(self.seed), 0.1)
        objs = objectives(net, teacher, self.n, self.nodes, self.teacher_seed + 1)
        common = {"method": FLOW_METHODS[name], "polish": "none", "spectrum": False, "maxT": t_end,
                  "maxtime_ode": maxtime, "n_samples_trajectory": 100, "progress": progress}
        results = {kind: train(obj, theta0, **common) for kind, obj in objs.items()}
        reference = results["population"]
        final = reference.trajectory[-1]
        at = {"initial": theta0, "final": final}
        population_loss = {when: objs["population"].loss(x) for when, x in at.items()}
        differences = {when: {kind: abs(objs[kind].loss(x) - population_loss[when]) for kind in KINDS[1:]}
                       for when, x in at.items()}
        relative = {when: {kind: d / population_loss[when] for kind, d in row.items()} for when, row in differences.items()}
        runs, dists = {}, {}
        arrays[f"{name}_teacher"] = teacher
        for kind, result in results.items():
            runs[kind] = {"time": result.trajectory_times, "loss": result.loss_curve}
            arrays[f"{name}_{kind}_time"] = result.trajectory_times
            arrays[f"{name}_{kind}_loss"] = result.loss_curve
            arrays[f"{name}_{kind}_final"] = result.trajectory[-1]
            if kind != "population":
                dists[kind] = trajectory_distance(result.trajectory, reference.trajectory, reference.trajectory_times)
                arrays[f"{name}_{kind}_distance"] = dists[kind].distances
                arrays[f"{name}_{kind}_reference_time"] = dists[kind].reference_times
        summary = {"loss_differences": differences, "relative_loss_differences": relative,
                   "population_loss": population_loss,
                   "final_loss": {kind: float(r.loss_curve[-1]) for kind, r in results.items()},
                   "largest_distance": {kind: d.largest for kind, d in dists.items()},
                   "stopped_by": {kind: r.ode_stopped_by for kind, r in results.items()},
                   "method": FLOW_METHODS[name]}
        return summary, runs, dists


def _biases(net: Network, rng, scale: float) -> np.ndarray:
    """Random hidden and output biases (random_params leaves them 0), in theta's layout."""
    W1, W2 = net.unflatten(np.zeros(net.n_params))
    W1[:, -1] = scale * rng.normal(size=W1.shape[0])
    W2[:, -1] = scale * rng.normal(size=W2.shape[0])
    return net.flatten([W1, W2])


def _report(results: dict) -> str:
    lines = ["# mlp-gaussian", "",
             f"D0 = 2, teachers and students of {results['width']} neurons with hidden and output biases; the flow "
             f"to t = {results['t_end']:g} from one start on the population loss, on Gauss-Hermite data "
             f"({results['nodes']} nodes per axis) and on {results['n']} Gaussian samples.", "",
             "## Kernel errors", "",
             "| kernel | biases | Monte Carlo: largest error (standard errors) | quadrature | largest relative error |",
             "|---|---|---|---|---|"]
    for row in results["kernel_errors"]:
        lines.append(f"| {row['kernel']} | {'yes' if row['biased'] else 'no'} | "
                     f"{row['monte_carlo_standard_errors']:.2f} ({row['samples']} samples, {row['points']} points) | "
                     f"{row['quadrature']} | {row['quadrature_relative_error']:.2e} |")
    lines += ["", "## Loss differences and trajectory distances", "",
              "| teacher | kind | abs(L - L_pop) initial | abs(L - L_pop) final | relative final | final loss (own data) "
              "| largest trajectory distance |", "|---|---|---|---|---|---|---|"]
    for name, t in results["teachers"].items():
        lines.append(f"| {name} | population | 0 | 0 | 0 | {t['final_loss']['population']:.4e} | 0 |")
        for kind in KINDS[1:]:
            lines.append(f"| {name} | {kind} | {t['loss_differences']['initial'][kind]:.2e} | "
                         f"{t['loss_differences']['final'][kind]:.2e} | {t['relative_loss_differences']['final'][kind]:.2e} "
                         f"| {t['final_loss'][kind]:.4e} | {t['largest_distance'][kind]:.3e} |")
    lines += ["", "Loss differences: every objective evaluated at the common start and at the population run's end. "
              "Trajectory distance: |theta - theta_pop|^2 / (2P) at the matching point of the population run."]
    return "\n".join(lines) + "\n"


EXPERIMENTS = (GaussianInputs(),)


def gaussian_derivation_latex() -> str:
    """The derived ReLU covariance kernel that makes the population loss exact, as a complete document."""
    return document("Gaussian inputs: the ReLU covariance kernel with biases", "\n".join([
        r"For jointly Gaussian pre-activations $(u, v)$ with means $(p, q)$, variances $a, b > 0$ and covariance"
        r" $c$ with $c^2 < a b$, the expected product of the two ReLU outputs is",
        r"\begin{equation*}\kappa_{\mathrm{relu}}(a, b, c, p, q) = \mathbb{E}[\max(u, 0) \max(v, 0)] = "
        + kernel("relu", biased=True).latex + r"\end{equation*}",
        r"where $\Phi_2(h, k; \rho) = P(X \le h, Y \le k)$ for standard normal $X, Y$ with correlation"
        r" $\rho$.",
    ]))
