"""Shallow ReLU networks: the saddle-to-saddle reproductions (spec shallow_relu.md, section 6).

Each experiment trains a width-50 ReLU network by full-batch GD from a vanishing initialisation
with the generated kernel (float64 and float32), detects the plateaus of the loss curve, idealises
the point on each plateau into an embedded stationary point of a narrower network, computes its
exact loss (a rational for scalar outputs) and classifies it with the landscape tools, then
compares the first escape time with ln(1/sigma)/(2 lambda*).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from gradflow.numerics.saddle.escape_time import (first_escape_rate, fit_escape_times, measured_escape_time,
                                  predicted_escape_time)
from gradflow.numerics.saddle.exact_plateau import exact_plateau_loss
from gradflow.numerics.saddle.idealise import idealise
from gradflow.numerics.saddle.neuron_observables import max_conservation_drift, neuron_observables
from gradflow.numerics.saddle.perturbation import perturbation_certificate
from gradflow.numerics.saddle.plateaus import detect_plateaus
from gradflow.numerics.drivers.shallow_network import ShallowNetworkSimulator, initial_parameters
from gradflow.theory.activations import RELU
from gradflow.theory.landscape import NetworkPoint, exact_point, kink_sensitivity, landscape_report
from gradflow.theory.models.shallow_network import ShallowNetwork

from gradflow.derivations.report import Reproduction, pyplot

WIDTH = 50
STOP_LOSS = 1e-5
SEED = 12
KINK_TOL = 1e-4  # relative |w.x| / (|w| |x|) below which a float point's input is on a kink
ZERO_TOLS = (1e-2, 1e-3)  # candidate sizes (relative to the data scale) below which a neuron is a zero neuron


def _rows(text: tuple) -> tuple:
    return tuple(tuple(str(v) for v in row) for row in text)


@dataclass(frozen=True)
class ReluDataset:
    """Data as decimal strings (exact values) plus the training set-up of spec section 6."""

    name: str
    inputs: tuple  # rows of decimal strings
    targets: tuple  # rows of decimal strings
    mu: float  # sigma = WIDTH ** mu
    lr: float
    iterations: int

    @property
    def sigma(self) -> float:
        return float(WIDTH ** self.mu)

    @property
    def X(self) -> np.ndarray:
        return np.array([[float(v) for v in row] for row in self.inputs])

    @property
    def Y(self) -> np.ndarray:
        return np.array([[float(v) for v in row] for row in self.targets])

    @property
    def X_exact(self) -> np.ndarray:
        return np.array([[sp.Rational(v) for v in row] for row in self.inputs], dtype=object)

    @property
    def Y_exact(self) -> np.ndarray:
        return np.array([[sp.Rational(v) for v in row] for row in self.targets], dtype=object)

    def with_mu(self, mu: float) -> "ReluDataset":
        return ReluDataset(self.name, self.inputs, self.targets, mu, self.lr, self.iterations)


_EXP_A_X = ("-1", "-0.6", "-0.1", "0.3", "0.7")
DATASETS = {
    "relu-exp-a": ReluDataset(
        "relu-exp-a", tuple((x, "1") for x in _EXP_A_X), _rows(((y,) for y in ("0.28", "-0.1", "0.03", "0.23", "-0.22"))),
        -3.0, 1e-3, 600_000),
    "relu-exp-b": ReluDataset(
        "relu-exp-b",
        _rows((("-0.3", "-0.75", "-0.5"), ("-0.2", "-0.2", "0.4"), ("-0.6", "1", "-1"), ("-0.4", "0.4", "0.3"),
               ("0.6", "-0.1", "-0.7"), ("0.4", "-0.9", "0.3"), ("0.2", "0.2", "-0.5"))),
        _rows(((y,) for y in ("-0.5", "0.1", "-0.6", "0.3", "0.8", "-0.3", "-0.1"))),
        -6.5, 1e-3, 800_000),
    "relu-exp-c": ReluDataset(
        "relu-exp-c", _rows((("-0.3", "0.5"), ("1", "1"), ("-0.6", "-1"), ("0.4", "-0.4"))),
        _rows((("0.6", "-0.5"), ("0.5", "-1"), ("-0.4", "0.6"), ("0.8", "0.2"))),
        -6.5, 2e-3, 300_000),
}
SWEEP_MUS = (-1.8, -2.5, -3.0)


@lru_cache(maxsize=None)
def simulator() -> ShallowNetworkSimulator:
    return ShallowNetworkSimulator(ShallowNetwork(RELU))


def train(dataset: ReluDataset, dtype=np.float64, seed: int = SEED, iterations: int | None = None, snapshots=2000):
    W0, H0 = initial_parameters(WIDTH, dataset.X.shape[1], dataset.Y.shape[1], dataset.sigma, seed=seed)
    return simulator().gd(dataset.X, dataset.Y, W0, H0, dataset.lr, iterations or dataset.iterations,
                          snapshots=snapshots, stop_loss=STOP_LOSS, dtype=dtype)


# --- plateaus -----------------------------------------------------------------------------------

def _small_dead(W, ideal, dataset: ReluDataset) -> tuple:
    """Small neurons that GD has frozen: every input strictly on the negative side (beyond the kink
    tolerance).  They are dead, not zero: rho'(0) = a_minus = 0 keeps them still, and a dead neuron
    preserves a local minimum where a zero neuron would make it a saddle (spec section 4)."""
    # Strictly negative, without tolerance: that is exactly when GD (with rho'(0) = 0) leaves it still.
    return tuple(i for i in ideal.zero_neurons if np.linalg.norm(W[i]) > 0 and np.all(dataset.X @ W[i] < 0))


@lru_cache(maxsize=None)
def _deepest_dead_direction(name: str) -> np.ndarray:
    """A rational direction as deep inside the dead cone {w : w . x_k < 0 for all k} as a box allows
    (an LP: max s with x_k . w + s <= 0, |w_j| <= 1).  Where a dead neuron sits in that cone does
    not change the point, and a deep direction keeps kink tolerances from reading it as on a kink."""
    from scipy.optimize import linprog

    X = DATASETS[name].X
    d = X.shape[1]
    result = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[X, np.ones(len(X))], b_ub=np.zeros(len(X)),
                     bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
    if not result.success or -result.fun <= 0:
        return None
    return np.array([sp.nsimplify(float(v), rational=True, tolerance=1e-6) for v in result.x[:d]], dtype=object)


def _kept(ideal, small_dead) -> tuple:
    """One neuron per group, one zero neuron if any small neuron is alive (all zero neurons are the
    same point, so one decides their status), and the dead neurons, small or not."""
    live = [i for i in ideal.zero_neurons if i not in small_dead]
    return [g.representative for g in ideal.groups] + live[:1], list(ideal.dead_neurons) + list(small_dead)


def _report_point(ideal, exact, dataset: ReluDataset, W_float, small_dead):
    """The narrower network the plateau embeds; exact for scalar outputs, float (tolerance
    KINK_TOL) otherwise."""
    active, dead = _kept(ideal, small_dead)
    keep = active + dead
    if exact.W_exact is not None:
        W = exact.W_exact[keep]
        H = exact.H_exact[keep]
        for row, neuron in enumerate(keep):
            if neuron in ideal.zero_neurons and neuron not in small_dead:
                W[row] = [sp.Integer(0)] * W.shape[1]
                H[row] = [sp.Integer(0)] * H.shape[1]
            elif neuron in dead:  # it never contributes: any direction inside the dead cone will do
                W[row] = _deepest_dead_direction(dataset.name)
                H[row] = [sp.Integer(0)] * H.shape[1]
        return exact_point(W, H, dataset.X_exact, dataset.Y_exact, RELU), keep
    return _float_with_dead(exact.W, exact.H, keep, dead, dataset), keep


def _float_with_dead(W, H, keep, dead, dataset):
    W, H = W[keep].copy(), H[keep].copy()
    for row, neuron in enumerate(keep):
        if neuron in dead:
            W[row], H[row] = _deepest_dead_direction(dataset.name).astype(float), 0.0
    return NetworkPoint(W, H, dataset.X, dataset.Y, RELU, tol=KINK_TOL)


def _float_point(ideal, dataset: ReluDataset, W_float, small_dead):
    active, dead = _kept(ideal, small_dead)
    keep = active + dead
    return _float_with_dead(ideal.W, ideal.H, keep, dead, dataset), keep


def _idealised(W, H, dataset: ReluDataset, plateau_loss: float, growing: np.ndarray):
    """Idealise the point.  Small neurons are zero neurons (coarse tolerance) unless a finer
    tolerance accounts for them as members of the groups while the exact stationary point keeps
    its activation patterns and reproduces the plateau loss (to 1e-3), and none of them is still
    growing across the plateau (a growing small neuron is a zero neuron escaping)."""
    coarse = idealise(W, H, dataset.X, dataset.Y, RELU, kink_tol=KINK_TOL, zero_tol=ZERO_TOLS[0])
    chosen = (coarse, exact_plateau_loss(coarse, dataset.X_exact, dataset.Y_exact, RELU, pin_to_kink=True),
              ZERO_TOLS[0])
    for zero_tol in ZERO_TOLS[1:]:
        fine = idealise(W, H, dataset.X, dataset.Y, RELU, kink_tol=KINK_TOL, zero_tol=zero_tol)
        promoted = sorted(set(coarse.zero_neurons) - set(fine.zero_neurons))
        if not promoted or np.any(growing[promoted]):
            break
        exact = exact_plateau_loss(fine, dataset.X_exact, dataset.Y_exact, RELU, pin_to_kink=True)
        if not (exact.keeps_pattern and abs(exact.loss_float - plateau_loss) <= 1e-3 * plateau_loss):
            break
        chosen = (fine, exact, zero_tol)
    return chosen


def analyse_plateau(plateau, run, dataset: ReluDataset) -> dict:
    """Idealise the point in the middle of a plateau, solve its exact loss, classify it."""
    middle = (plateau.start + plateau.end) // 2
    snap = int(np.argmin(np.abs(run.snapshot_iterations - middle)))
    W, H = run.W_snapshots[snap].astype(float), run.H_snapshots[snap].astype(float)
    last = int(np.argmin(np.abs(run.snapshot_iterations - plateau.end)))
    norms = np.linalg.norm(run.W_snapshots[[snap, last]], axis=2)  # from the analysed point on
    growing = norms[1] > 1.5 * norms[0]
    ideal, exact, zero_tol = _idealised(W, H, dataset, plateau.loss, growing)
    small_dead = _small_dead(W, ideal, dataset)
    if exact.keeps_pattern:
        point, kept = _report_point(ideal, exact, dataset, W, small_dead)
    else:
        # The narrower network has no stationary point with the plateau's activation patterns: the
        # loss is still drifting (GD zig-zags across kinks).  Classify the idealised float point.
        point, kept = _float_point(ideal, dataset, W, small_dead)
    report = landscape_report(point)
    groups = [{"neurons": list(map(int, g.members)), "direction": g.direction.tolist(),
               "output": g.output.tolist(), "active_inputs": list(g.positive), "kink_inputs": list(g.kink)}
              for g in exact.groups]
    return {
        "start": int(plateau.start), "end": int(plateau.end), "loss": float(plateau.loss),
        "loss_exact": exact.loss_string if exact.keeps_pattern else None,
        "loss_exact_float": float(exact.loss_float) if exact.keeps_pattern else None,
        "exact_reason": exact.reason, "keeps_pattern": bool(exact.keeps_pattern),
        "pinned_to_kink": [list(map(int, p)) for p in exact.pinned],
        "snapshot_iteration": int(run.snapshot_iterations[snap]),
        "groups": groups, "zero_neurons": len(ideal.zero_neurons) - len(small_dead),
        "dead_neurons": len(ideal.dead_neurons) + len(small_dead),
        "stationary": bool(report.d_stationary), "clarke_stationary": bool(report.clarke_stationary),
        "escape_neurons": [int(kept[i]) for i in report.escape_neurons],
        "classification": report.classification, "reason": report.reason,
        "report_mode": ("exact" if report.exact else f"float, kink tolerance {report.tol:g}") + f", zero tolerance {zero_tol:g}",
        # a float classification must not hinge on the tolerance: report it at several
        "kink_sensitivity": None if report.exact else {f"{tol:g}": c for tol, c in kink_sensitivity(point).items()},
    }


def _plateaus(run) -> list:
    return detect_plateaus(run.loss_iterations, np.maximum(run.loss, np.finfo(float).tiny))


# --- one experiment -----------------------------------------------------------------------------

def _downsample(run, points: int = 3000):
    idx = np.unique(np.concatenate([np.geomspace(1, len(run.loss), points).astype(int) - 1,
                                    np.linspace(0, len(run.loss) - 1, points).astype(int)]))
    return run.loss_iterations[idx], run.loss[idx]


@dataclass(frozen=True)
class ReluExperiment:
    name: str

    @property
    def summary(self) -> str:
        d = DATASETS[self.name]
        return (f"width-{WIDTH} ReLU network, GD lr = {d.lr:g}, sigma = {WIDTH}^{d.mu:g}, {d.iterations:.0e} iterations "
                f"(stop at loss <= {STOP_LOSS:g}): plateaus, their exact losses and classification, first escape time")

    def run(self, quick: bool = False, progress: bool = False) -> Reproduction:
        plt = pyplot()
        dataset = DATASETS[self.name]
        timings = {}
        start = time.perf_counter()
        simulator()
        timings["codegen_or_load"] = time.perf_counter() - start
        start = time.perf_counter()
        run = train(dataset)
        timings["gd_float64"] = time.perf_counter() - start
        plateaus = _plateaus(run)
        start = time.perf_counter()
        analysed = [analyse_plateau(p, run, dataset) for p in plateaus]
        timings["plateau_analysis"] = time.perf_counter() - start
        rate = first_escape_rate(dataset.X, dataset.Y, RELU)
        measured = measured_escape_time(run.loss_iterations, run.loss, dataset.lr)
        predicted = predicted_escape_time(dataset.sigma, rate.lambda_star)
        certificate = perturbation_certificate(run.W, run.H, dataset.X, dataset.Y, RELU, samples=500 if quick else 5000,
                                               seed=SEED)
        drift = max_conservation_drift(run.W_snapshots, run.H_snapshots)
        float32 = None
        if not quick:
            start = time.perf_counter()
            run32 = train(dataset, dtype=np.float32)
            timings["gd_float32"] = time.perf_counter() - start
            float32 = {"final_loss": run32.final_loss, "plateaus": [float(p.loss) for p in _plateaus(run32)],
                       "last_iteration": int(run32.last_iteration)}
        iterations, loss = _downsample(run)
        results = {
            "iterations": iterations.tolist(), "loss": loss.tolist(),
            "plateaus": analysed, "final_loss": run.final_loss, "last_iteration": int(run.last_iteration),
            "status": run.status,
            "escape_time_measured": measured, "escape_time_predicted": predicted,
            "lambda_star": float(rate.lambda_star), "u_star": np.asarray(rate.u_star).tolist(),
            "perturbation_min_delta": float(certificate.min_delta),
            "perturbation_amplitude": float(certificate.amplitude),
            "perturbation_decreases": int(certificate.decreasing),
            "conservation_drift_max": float(drift),
            "float32": float32,
        }
        observables = neuron_observables(run.W_snapshots, run.H_snapshots)
        figures = {"training": _figure(plt, self.name, run, analysed, observables, dataset)}
        arrays = {"loss_iterations": run.loss_iterations, "loss": run.loss, "snapshot_iterations": run.snapshot_iterations,
                  "W": run.W_snapshots, "H": run.H_snapshots}
        parameters = {"width": WIDTH, "lr": dataset.lr, "sigma": dataset.sigma, "mu": dataset.mu,
                      "iterations": dataset.iterations, "stop_loss": STOP_LOSS, "seed": SEED, "init": "numpy default_rng",
                      "quick": quick, "kink_tol": KINK_TOL, "X": [list(r) for r in dataset.inputs],
                      "Y": [list(r) for r in dataset.targets]}
        return Reproduction(self.name, parameters, arrays, figures, _report(self.name, results, timings),
                            ShallowNetwork(RELU).derivation().to_latex(), [simulator().path], timings, [SEED],
                            results=results)


def _figure(plt, name, run, analysed, observables, dataset):
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.2))
    ax = axes[0]
    ax.semilogy(run.loss_iterations, run.loss, lw=1)
    for p in analysed:
        ax.axvspan(p["start"], p["end"], color="tab:orange", alpha=0.15)
        if p["loss_exact_float"] is not None:
            ax.axhline(p["loss_exact_float"], color="k", ls=":", lw=0.8)
        ax.annotate(f"{p['loss_exact'] or round(p['loss'], 6)}\n{p['classification']}", (p["start"], p["loss"]),
                    fontsize=7, va="bottom")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(f"{name}: loss and plateaus")
    it = run.snapshot_iterations
    axes[1].plot(it, observables.angle_deg, lw=0.6)
    axes[1].set_title("neuron angles (deg)" if dataset.X.shape[1] == 2 else "neuron azimuth (deg)")
    axes[2].semilogy(it, np.maximum(observables.w_norm, 1e-300), lw=0.6)
    axes[2].set_title(r"$\|w_i\|$")
    axes[3].plot(it, observables.h[..., 0], lw=0.6)
    axes[3].set_title(r"$h_i$" if dataset.Y.shape[1] == 1 else r"$h_{i,1}$")
    for a in axes[1:]:
        a.set_xlabel("iteration")
    fig.tight_layout()
    return fig


def _report(name, r, timings) -> str:
    lines = [f"# {name}", "", f"GD stopped at iteration {r['last_iteration']} ({r['status']}), final loss "
             f"{r['final_loss']:.6g}; float64 kernel {timings['gd_float64']:.2f} s.", "",
             "| plateau | iterations | loss (measured) | exact loss | stationary | escape neurons | classification |",
             "|---|---|---|---|---|---|---|"]
    for k, p in enumerate(r["plateaus"]):
        lines.append(f"| {k + 1} | {p['start']}-{p['end']} | {p['loss']:.6g} | {p['loss_exact']} | {p['stationary']} | "
                     f"{p['escape_neurons']} | {p['classification']} |")
    lines += ["", *[f"- plateau {k + 1}: {p['reason']} ({p['report_mode']}; {len(p['groups'])} group(s), "
                    f"{p['zero_neurons']} zero and {p['dead_neurons']} dead neurons"
                    + (f"; classification by kink tolerance {p['kink_sensitivity']}" if p["kink_sensitivity"] else "")
                    + (f"; exact: {p['exact_reason']}" if p["exact_reason"] else "") + ")"
                    for k, p in enumerate(r["plateaus"])],
              "", f"First escape: measured {r['escape_time_measured']:.4g}, predicted ln(1/sigma)/(2 lambda*) = "
              f"{r['escape_time_predicted']:.4g} (lambda* = {r['lambda_star']:.6g}), time = lr x iterations.",
              f"Perturbation certificate at the final point: min Delta loss = {r['perturbation_min_delta']:.3g} over "
              f"samples of amplitude {r['perturbation_amplitude']:.2g} ({r['perturbation_decreases']} decreased).",
              f"Conservation drift max |(||w_i||^2 - ||h_i||^2)(t) - (0)| = {r['conservation_drift_max']:.3g}."]
    if r["float32"]:
        lines.append(f"float32: final loss {r['float32']['final_loss']:.6g}, plateaus "
                     f"{[round(v, 6) for v in r['float32']['plateaus']]}.")
    lines += ["", "Figure `figures/training.png`: loss with plateaus (shaded; dotted: exact plateau values), neuron "
              "angles, ||w_i|| and h_i over iterations.", ""]
    return "\n".join(lines)


# --- sigma sweep --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReluSigmaSweep:
    name: str = "relu-sigma-sweep"
    summary: str = ("relu-exp-a at sigma = 50^mu, mu in {-1.8, -2.5, -3}, several seeds in one ensemble launch: "
                    "first escape time against ln(1/sigma)/(2 lambda*)")

    def run(self, quick: bool = False, progress: bool = False) -> Reproduction:
        plt = pyplot()
        base = DATASETS["relu-exp-a"]
        seeds = range(2 if quick else 5)
        iterations = 150_000
        members = [(mu, seed) for mu in SWEEP_MUS for seed in seeds]
        inits = [initial_parameters(WIDTH, 2, 1, WIDTH ** mu, seed=SEED + seed) for mu, seed in members]
        start = time.perf_counter()
        runs = simulator().gd_ensemble(base.X, base.Y, np.stack([w for w, _ in inits]), np.stack([h for _, h in inits]),
                                       [base.lr] * len(members), iterations, snapshots=10, stop_loss=STOP_LOSS)
        timings = {"ensemble": time.perf_counter() - start}
        rate = first_escape_rate(base.X, base.Y, RELU)
        sigmas = np.array([WIDTH ** mu for mu, _ in members])
        measured = np.array([measured_escape_time(r.loss_iterations, r.loss, base.lr) for r in runs])
        predicted = np.array([predicted_escape_time(s, rate.lambda_star) for s in sigmas])
        fit = fit_escape_times(sigmas, measured, rate.lambda_star)
        results = {"mu": [mu for mu, _ in members], "seed": [SEED + s for _, s in members], "sigma": sigmas.tolist(),
                   "escape_time_measured": measured.tolist(), "escape_time_predicted": predicted.tolist(),
                   "lambda_star": float(rate.lambda_star), "fit": {k: float(v) for k, v in vars(fit).items()}}
        fig, ax = plt.subplots(figsize=(5, 4))
        logs = np.log(1 / sigmas)
        ax.plot(logs, measured, "o", label="measured")
        grid = np.linspace(0, logs.max() * 1.05, 50)
        ax.plot(grid, grid / (2 * rate.lambda_star), "k--", label=r"$\ln(1/\sigma)/(2\lambda^*)$")
        ax.set_xlabel(r"$\ln(1/\sigma)$")
        ax.set_ylabel("first escape time (lr x iterations)")
        ax.legend()
        lines = [f"# {self.name}", "", self.summary, "", "| mu | sigma | seed | measured T1 | predicted T1 | ratio |",
                 "|---|---|---|---|---|---|"]
        for (mu, seed), s, tm, tp in zip(members, sigmas, measured, predicted):
            lines.append(f"| {mu} | {s:.3g} | {SEED + seed} | {tm:.4g} | {tp:.4g} | {tm / tp:.3f} |")
        lines += ["", f"Fit of measured T1 against ln(1/sigma): {results['fit']}; theory slope 1/(2 lambda*) = "
                  f"{1 / (2 * rate.lambda_star):.6g}.", ""]
        return Reproduction(self.name, {"mus": list(SWEEP_MUS), "seeds": len(seeds), "iterations": iterations,
                                        "lr": base.lr, "width": WIDTH, "quick": quick},
                            {"sigma": sigmas, "measured": measured, "predicted": predicted}, {"escape_times": fig},
                            "\n".join(lines), ShallowNetwork(RELU).derivation().to_latex(), [simulator().path], timings,
                            [SEED + s for s in seeds], results=results)


EXPERIMENTS = (*(ReluExperiment(name) for name in DATASETS), ReluSigmaSweep())


# --- the `relu` model entry: simulate and check ---------------------------------------------------

def _relu_keys():
    from gradflow.derivations.base import Key

    return (
        Key("data", "choice", "a", "one of a, b, c (the data sets of relu-exp-a/b/c)", choices=("a", "b", "c")),
        Key("width", "int", WIDTH, "an integer >= 1", lambda v: v >= 1),
        Key("mu", "float", -3.0, "a finite number (sigma = 50^mu)"),
        Key("lr", "float", 1e-3, "a number > 0", lambda v: v > 0),
        Key("seed", "int", SEED, "an integer >= 0", lambda v: v >= 0),
        Key("a_minus", "float", 0.0, "a slope different from a_plus = 1 (0: ReLU)", lambda v: v != 1.0),
        Key("dtype", "choice", "float64", "float32 or float64", choices=("float32", "float64")),
    )


def _check_gradient_symbolic() -> list:
    from gradflow.numerics.compare import Verdict
    from gradflow.theory.activations import ABSOLUTE
    from gradflow.theory.models import shallow_network as sn

    verdicts = []
    sizes = {sn.n: 3, sn.m: 2, sn.d: 2, sn.d_out: 2}
    rng = np.random.default_rng(0)
    for act in (RELU, ABSOLUTE):
        net = ShallowNetwork(act)
        loss, reps = sn.explicit(net.model.loss(), sizes, net)
        worst = 0.0
        for parameter in (sn.W, sn.H):
            grad, _ = sn.explicit(net.gradients(placeholder=False)[parameter], sizes, net)
            point = {s: float(rng.normal()) for M in reps.values() for s in M}
            for i, j in np.ndindex(grad.shape):
                scalar = float(sp.diff(loss, reps[parameter][i, j]).subs(point))
                worst = max(worst, abs(float(grad[i, j].subs(point)) - scalar))
        verdicts.append(Verdict(f"matrix-chain-rule gradient = scalar calculus ({act.name})", worst <= 1e-10, worst,
                                1e-10, "n=3, m=2, d=2, d_out=2, random points", "max abs"))
    return verdicts


def _check_euler():
    from gradflow.numerics.compare import Verdict
    from gradflow.theory.verify import vanishes

    claim = vanishes(ShallowNetwork(RELU).euler_identity(), "z rho'(z) = rho(z)")
    return Verdict("Euler identity z rho'(z) = rho(z) (conservation of ||w||^2 - ||h||^2)", claim.holds,
                   claim.max_abs_at_random_points, 1e-9, "simplification and random points", "max abs")


def _check_kernel_oracles() -> list:
    from gradflow.numerics.compare import Verdict
    from gradflow.numerics.reference import shallow_gd_numpy, shallow_loss_and_gradients_numpy

    rng = np.random.default_rng(1)
    worst = 0.0
    for layout in ("loops", "blas"):
        for _ in range(5):
            n, m, d, o = rng.integers(1, 6, size=4)
            X, Y, W, H = rng.normal(size=(n, d)), rng.normal(size=(n, o)), rng.normal(size=(m, d)), rng.normal(size=(m, o))
            W[0] = 0.0
            got = simulator().loss_and_gradients(X, Y, W, H, layout=layout)
            ref = shallow_loss_and_gradients_numpy(W, H, X, Y, 1.0, 0.0)
            worst = max(worst, *(float(np.max(np.abs(np.asarray(a) - b) / (1 + np.abs(b)))) for a, b in zip(got, ref)))
    dataset = DATASETS["relu-exp-a"]
    W0, H0 = initial_parameters(8, 2, 1, 0.3, seed=2)
    run = simulator().gd(dataset.X, dataset.Y, W0, H0, 0.05, 300)
    _, _, losses = shallow_gd_numpy(W0, H0, dataset.X, dataset.Y, 1.0, 0.0, 0.05, 300)
    gd_error = float(np.max(np.abs(run.loss - losses) / losses))
    # central differences of the loss, away from kinks (all |w.x| > 1e-3)
    X, Y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    W, H = rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    _, gW, _ = simulator().loss_and_gradients(X, Y, W, H)
    fd = np.zeros_like(gW)
    for idx in np.ndindex(W.shape):
        up, down = W.copy(), W.copy()
        up[idx] += 1e-6
        down[idx] -= 1e-6
        fd[idx] = (simulator().loss_and_gradients(X, Y, up, H)[0] - simulator().loss_and_gradients(X, Y, down, H)[0]) / 2e-6
    fd_error = float(np.max(np.abs(fd - gW)))
    return [Verdict("generated loss and gradients = NumPy oracle (loops and BLAS layouts, a zero neuron)",
                    worst <= 1e-11, worst, 1e-11, "10 random networks", "max rel"),
            Verdict("generated GD = NumPy GD loop (relu-exp-a data)", gd_error <= 1e-11, gd_error, 1e-11,
                    "300 steps, width 8, lr 0.05", "max rel"),
            Verdict("generated dL/dW = central differences", fd_error <= 1e-7, fd_error, 1e-7, "random point, h = 1e-6",
                    "max abs")]


def _check_hand_examples() -> list:
    from gradflow.numerics.compare import Verdict
    from gradflow.theory.landscape import add_zero_neuron, clarke_stationarity, split_neuron

    R = sp.Rational
    X2, Y2 = [[1, 0], [0, 1]], [[1], [-1]]
    a = R(2)
    h2 = exact_point([[a, 0]], [[1 / a]], X2, Y2, RELU)
    expectations = [
        ("H2 width 1: local minimum, L = 1/2", landscape_report(h2), "local minimum", R(1, 2)),
        ("H2 + zero neuron: saddle (escape neuron)", landscape_report(add_zero_neuron(h2)), "saddle", R(1, 2)),
        ("H2 replicated, lambda = 1/3: local minimum", landscape_report(split_neuron(h2, 0, [R(1, 3), R(2, 3)])),
         "local minimum", R(1, 2)),
        ("H2 replicated, lambda = 0: saddle", landscape_report(split_neuron(h2, 0, [0, 1])), "saddle", R(1, 2)),
        ("H2 replicated, lambda = 2: not stationary", landscape_report(split_neuron(h2, 0, [2, -1])), "not stationary",
         R(1, 2)),
    ]
    X3, Y3 = [[1, 0], [0, 1]], [[1, 0], [0, 1]]
    h3 = exact_point([[a, 0]], [[1 / a, 0]], X3, Y3, RELU)
    c = R(1)
    q = 1 / (4 * c)
    h4 = exact_point([[c, c], [c, c]], [[q, q], [q, q]], X3, Y3, RELU)
    expectations += [("H3: escape neuron with h != 0, no verdict from the theorems, L = 1/4", landscape_report(h3),
                      "undetermined", R(1, 4)),
                     ("H4: vector-output saddle with all h != 0, L = 1/4", landscape_report(h4), "saddle", R(1, 4))]
    verdicts = []
    for name, report, classification, loss in expectations:
        ok = report.classification == classification and sp.nsimplify(report.loss) == loss
        verdicts.append(Verdict(name, ok, 0.0 if ok else 1.0, 0.0, f"exact; got {report.classification}, L = {report.loss}",
                                "mismatch"))
    clarke = exact_point([[0]], [[1]], [[1]], [[1]], RELU)
    report = landscape_report(clarke)
    ok = clarke_stationarity(clarke).holds and not report.d_stationary
    verdicts.append(Verdict("Clarke example: Clarke-stationary, not d-stationary", ok, 0.0 if ok else 1.0, 0.0, "exact",
                            "mismatch"))
    return verdicts


def _check_plateaus_and_escape(quick: bool) -> list:
    from gradflow.numerics.compare import Verdict

    dataset = DATASETS["relu-exp-a"]
    run = train(dataset, iterations=200_000 if quick else dataset.iterations)
    plateaus = _plateaus(run)
    analysed = [analyse_plateau(p, run, dataset) for p in plateaus[:2]]
    errors = [abs(p["loss"] - p["loss_exact_float"]) / p["loss_exact_float"] if p["loss_exact_float"] else np.inf
              for p in analysed]
    verdicts = [Verdict("relu-exp-a plateau losses = exact stationary values", len(analysed) == 2 and max(errors) <= 1e-3,
                        max(errors, default=np.inf), 1e-3,
                        f"first two plateaus: {[p['loss_exact'] for p in analysed]}", "max rel"),
                Verdict("relu-exp-a plateaus are saddles with an escape neuron (exact)",
                        all(p["classification"] == "saddle" and p["escape_neurons"] for p in analysed),
                        0.0 if all(p["classification"] == "saddle" for p in analysed) else 1.0, 0.0,
                        "first two plateaus", "mismatch")]
    drift = max_conservation_drift(run.W_snapshots, run.H_snapshots)
    # Per step the first-order change cancels (Euler) and lr^2 (||g_w||^2 - ||h_w||^2) is left; summed,
    # lr^2 sum ||grad||^2 ~ lr (L_0 - L_T): the drift is O(lr) times the loss decrease.
    bound = 1.5 * dataset.lr * float(run.loss[0] - run.loss[-1])
    verdicts.append(Verdict("conservation of ||w_i||^2 - ||h_i||^2 under GD: drift <= 1.5 lr (L_0 - L_T)", drift <= bound,
                            drift, bound, f"{run.last_iteration} steps, lr = {dataset.lr}", "max abs"))
    run32 = train(dataset, dtype=np.float32, iterations=200_000 if quick else dataset.iterations)
    p32 = _plateaus(run32)
    diff = max((abs(a.loss - b.loss) / b.loss for a, b in zip(p32, plateaus)), default=np.inf)
    verdicts.append(Verdict("float32 and float64 give the same plateau values", len(p32) == len(plateaus) and diff <= 1e-4,
                            diff, 1e-4, f"{len(plateaus)} plateaus", "max rel"))
    # first-escape law: T_1 = ln(1/sigma)/(2 lambda*) + O(1): the slope over sigma
    rate = first_escape_rate(dataset.X, dataset.Y, RELU)
    sigmas = [WIDTH ** mu for mu in SWEEP_MUS]
    inits = [initial_parameters(WIDTH, 2, 1, s, seed=SEED) for s in sigmas]
    runs = simulator().gd_ensemble(dataset.X, dataset.Y, np.stack([w for w, _ in inits]), np.stack([h for _, h in inits]),
                                   [dataset.lr] * 3, 100_000, snapshots=2)
    times = [measured_escape_time(r.loss_iterations, r.loss, dataset.lr) for r in runs]
    fit = fit_escape_times(sigmas, times, rate.lambda_star)
    verdicts.append(Verdict("first escape time slope d T_1 / d ln(1/sigma) = 1/(2 lambda*)", fit.relative_error <= 0.05,
                            fit.relative_error, 0.05, f"sigma = 50^mu, mu in {SWEEP_MUS}", "rel"))
    return verdicts


def _relu_entry():
    from gradflow.derivations.base import ModelEntry

    class ReluEntry(ModelEntry):
        def derivation(self):
            return ShallowNetwork(RELU).derivation()

        def simulate(self, settings, method, steps=None, t_end=None, backend="cpu", progress=False) -> dict:
            from gradflow.theory.activations import ReluLike
            from gradflow.theory.errors import require

            settings = {**{k.name: k.default for k in self.keys}, **settings}
            require(method == "gd", "method", "gd (full-batch gradient descent)", method)
            require(backend == "cpu", "backend", "cpu for the relu model", backend)
            require(t_end is None, "--t-end", "not used with gd (give --steps)")
            dataset = DATASETS[f"relu-exp-{settings['data']}"]
            steps = dataset.iterations if steps is None else int(steps)
            sim = ShallowNetworkSimulator(ShallowNetwork(ReluLike(1, settings["a_minus"])))
            dtype = np.float32 if settings["dtype"] == "float32" else np.float64
            W0, H0 = initial_parameters(settings["width"], dataset.X.shape[1], dataset.Y.shape[1],
                                        WIDTH ** settings["mu"], seed=settings["seed"])
            run = sim.gd(dataset.X, dataset.Y, W0, H0, settings["lr"], steps, stop_loss=STOP_LOSS, dtype=dtype,
                         snapshots=200)
            iterations, loss = _downsample(run, 500)
            return {"params": {**settings, "steps": steps, "status": run.status},
                    "t": iterations.tolist(), "loss": loss.tolist(),
                    "w_norm": np.linalg.norm(run.W_snapshots, axis=2).tolist()[-1:],
                    "h": run.H_snapshots[-1:, :, 0].tolist()}

        def checks(self, quick: bool = True) -> list:
            return [*_check_gradient_symbolic(), _check_euler(), *_check_kernel_oracles(), *_check_hand_examples(),
                    *_check_plateaus_and_escape(quick)]

    return ReluEntry("relu", "one-hidden-layer ReLU-like network, mean squared loss: generated GD kernel, landscape "
                     "tools, saddle-to-saddle dynamics", _relu_keys(), ("gd",))


ENTRIES = (_relu_entry(),)
