"""``sym-digits``: permutation points of a multilayer tanh network trained on real data (the 8x8 digits
shipped with scikit-learn, the optional extra ``sklearn``).

A minimum theta* of the squared loss (one-hot targets) is found by BFGS and polished by Newton steps
whose linear solves use Hessian-vector products only.  For random pairs (i, j) of each hidden layer the
path theta* -> midpoint (theta* + P_ij theta*)/2 -> descent inside Fix(P_ij) ends at a permutation point
theta_P; there the Hessian is read without forming it: the smallest eigenvalues by Lanczos, the
antisymmetric block exactly, the plateau matrix B.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from tqdm import tqdm

from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.report import Reproduction
from gradflow.derivations.symmetry import figures
from gradflow.derivations.symmetry.experiments import symmetry_derivation
from gradflow.numerics.codegen.mlp_module import mlp_module

QUICK_WIDTHS = (64, 3, 3, 10)
QUICK_SAMPLES = 120  # training samples in the quick variant (of the stratified 60% split)
QUICK_ITERATIONS = 300  # BFGS iterations per minimisation in the quick variant
QUICK_NEWTON, QUICK_LANCZOS = 3, 100  # Newton-MINRES steps and Lanczos restarts in the quick variant


def digits_data(train_fraction: float = 0.6, seed: int = 0):
    """(X, Y): the training part of a stratified split of scikit-learn's digits, x / 16 in [0, 1],
    one-hot targets (N, 10)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X, _, labels, _ = train_test_split(digits.data / 16.0, digits.target, train_size=train_fraction,
                                       stratify=digits.target, random_state=seed)
    return np.ascontiguousarray(X), np.eye(10)[labels]


def _widths_ok(value) -> bool:
    return len(value) >= 3 and value[0] == 64 and value[-1] == 10 and all(v >= 2 for v in value[1:-1])


def _minimum(objective, seed: int, iterations: int, seconds: float, newton_steps: int):
    """theta*: BFGS from N(0, 1/fan_in) weights, then Newton-MINRES polish (|grad| as achieved)."""
    from gradflow.numerics.mlp.training import Limits, bfgs
    from gradflow.numerics.mlp.training.termination import Tracker
    from gradflow.numerics.symmetry import krylov_newton

    net = objective.network
    rng = np.random.default_rng(seed)
    theta0 = np.concatenate([rng.normal(0.0, 1.0 / np.sqrt(cols), rows * cols) for rows, cols in net.shapes])
    tracker = Tracker(Limits(maxtime=seconds, maxiterations=iterations, min_gnorm=1e-11))
    return krylov_newton(objective, bfgs(objective, theta0, tracker), 1e-10, max_steps=newton_steps), tracker


def _pairs(net, per_layer: int, seed: int) -> list:
    rng = np.random.default_rng(seed + 1)
    chosen = []
    for layer in range(1, len(net.layers)):
        candidates = list(combinations(range(net.layers[layer - 1].width), 2))
        picks = rng.choice(len(candidates), size=min(per_layer, len(candidates)), replace=False)
        chosen += [(layer, *candidates[p]) for p in sorted(picks)]
    return chosen


@dataclass(frozen=True)
class SymDigits(Experiment):
    name = "sym-digits"
    summary = ("permutation points of a tanh network [64, 16, 16, 10] on the digits data: barriers, negative "
               "eigenvalues (Lanczos) and the antisymmetric block from Hessian-vector products")
    parameters = (
        Parameter("widths", "ints", (64, 16, 16, 10), "64, hidden widths >= 2, 10", "layer widths", _widths_ok),
        Parameter("pairs", "int", 5, "an integer in [1, 50]", "random neuron pairs per hidden layer",
                  lambda v: 1 <= v <= 50),
        Parameter("seed", "int", 0, "an integer >= 0", "seed of the start and of the pairs", lambda v: v >= 0),
        Parameter("seconds", "float", 900.0, "a number in [1, 86400]", "time limit of each BFGS run",
                  lambda v: 1 <= v <= 86400))
    widths: tuple = (64, 16, 16, 10)
    pairs: int = 5
    seed: int = 0
    seconds: float = 900.0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        from gradflow.numerics.mlp import MLPObjective
        from gradflow.numerics.symmetry import midpoint_path, mlp, pair_spectrum

        start = time.perf_counter()
        X, Y = digits_data(0.6, 0)
        widths, per_layer = (QUICK_WIDTHS, 1) if quick else (tuple(self.widths), self.pairs)
        if quick:
            X, Y = X[:QUICK_SAMPLES], Y[:QUICK_SAMPLES]
        full = (10 ** 6, 30, 300)  # BFGS iterations (time-limited instead), Newton steps, Lanczos restarts
        iterations, newton_steps, restarts = (QUICK_ITERATIONS, QUICK_NEWTON, QUICK_LANCZOS) if quick else full
        objective = MLPObjective.create(mlp(widths), X, Y)
        star, tracker = _minimum(objective, self.seed, iterations, self.seconds, newton_steps)
        timings = {"minimum": time.perf_counter() - start}
        rows, profiles, spectra = [], {}, {}
        for layer, i, j in tqdm(_pairs(objective.network, per_layer, self.seed), desc=self.name, unit="pair",
                                disable=not progress):
            path = midpoint_path(objective, star.theta, layer, i, j, max_iterations=iterations,
                                 max_seconds=self.seconds, newton_steps=newton_steps)
            s = pair_spectrum(objective, path.theta_P, layer, i, j, maxiter=restarts)
            key = f"{layer},{i},{j}"
            rows.append({"layer": layer, "i": i, "j": j, "barrier": path.barrier, "loss_P": path.loss_P,
                         "grad_norm_P": path.grad_norm_P, "negative_count": s.negative_count,
                         "anti_negative_count": s.anti_negative_count,
                         "anti_zero_count": {f"{tol:g}": count for tol, count in s.anti_zero_counts.items()},
                         "rank_B": s.rank_B, "B_singular_values": s.B_singular_values.tolist(), "n_next": s.n_next,
                         "lambda_max": s.largest, "smallest": s.smallest.tolist(),
                         "lanczos_converged": s.lanczos_converged, "descent_iterations": path.descent_iterations})
            profiles[key], spectra[key] = path.profile, s.smallest
        timings["total"] = time.perf_counter() - start
        results = {"widths": list(widths), "P": objective.n_params, "n_train": int(X.shape[0]),
                   "constant_inputs": int(np.sum(np.all(X == X[0], axis=0))),
                   "loss_star": star.loss, "grad_star": star.grad_norm, "bfgs_iterations": tracker.iterations,
                   "bfgs_stopped_by": tracker.stopped_by, "newton_steps": star.newton_steps, "pairs": rows}
        arrays = {"theta_star": star.theta} | {f"profile_{k.replace(',', '_')}": v for k, v in profiles.items()}
        return Reproduction(name=self.name, parameters={"widths": list(widths), "pairs": per_layer,
                                                        "seed": self.seed, "seconds": self.seconds, "quick": quick},
                            arrays=arrays, figures={"smallest_eigenvalues": figures.smallest_per_pair(spectra),
                                                    "loss_along_paths": figures.loss_along_paths(
                                                        {k: v.tolist() for k, v in profiles.items()})},
                            report_markdown=_report(results), derivation_latex=symmetry_derivation().to_latex(),
                            generated_code=[mlp_module()[1]], timings=timings, seeds=[self.seed], results=results)


def _report(results: dict) -> str:
    lines = ["# sym-digits", "", f"A tanh network {results['widths']} with biases (P = {results['P']}) on "
             f"{results['n_train']} digits (x / 16, one-hot targets, squared loss; {results['constant_inputs']} "
             "pixels are constant on them, so their weights are exactly flat directions). Minimum: loss "
             f"{results['loss_star']:.6e}, abs(grad) {results['grad_star']:.1e} ({results['bfgs_iterations']} BFGS "
             f"iterations, stopped by {results['bfgs_stopped_by']}; {results['newton_steps']} Newton-MINRES steps).",
             "", "For each pair: the path theta* -> midpoint -> descent inside Fix(P_ij) ends at a permutation "
             "point theta_P. Negative eigenvalues: Lanczos (20 smallest) and the exact antisymmetric block; zero "
             "eigenvalues of that block at 1e-9 and 1e-6 times lambda_max.", "",
             "| layer | i | j | barrier | loss at theta_P | abs(grad) | negative (Lanczos) | negative (anti block) | "
             "anti zeros 1e-9 | anti zeros 1e-6 | rank B | n_next |", "|" + "---|" * 12]
    for r in results["pairs"]:
        partial = "" if r["lanczos_converged"] else " (partial)"
        zeros = r["anti_zero_count"]
        lines.append(f"| {r['layer']} | {r['i']} | {r['j']} | {r['barrier']:.4e} | {r['loss_P']:.6e} | "
                     f"{r['grad_norm_P']:.1e} | {r['negative_count']}{partial} | "
                     f"{r['anti_negative_count']} | {zeros['1e-09']} | {zeros['1e-06']} | "
                     f"{r['rank_B']} | {r['n_next']} |")
    loose = [r for r in results["pairs"] if r["grad_norm_P"] > 1e-8]
    if loose or results["grad_star"] > 1e-8:
        lines += ["", f"Not critical to 1e-8: theta* (abs(grad) {results['grad_star']:.1e}) and {len(loose)} of "
                  f"{len(results['pairs'])} end points; their counts describe nearby points, not the critical "
                  "points themselves (raise `seconds`, or see the full-size run)."]
    return "\n".join(lines) + "\n"


DIGITS_EXPERIMENTS = (SymDigits(),)
