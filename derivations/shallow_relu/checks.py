"""``gradflow check relu``: the derived gradients and conservation, the generated kernel against its
NumPy oracle, the landscape tools on hand examples, and the saddle-to-saddle dynamics of relu-exp-a."""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradflow.derivations.shallow_relu.analysis import analyse_plateau, plateaus
from gradflow.derivations.shallow_relu.datasets import DATASETS, SEED, SWEEP_MUS, WIDTH
from gradflow.derivations.shallow_relu.oracles import shallow_gd_numpy, shallow_loss_and_gradients_numpy
from gradflow.derivations.shallow_relu.simulators import derivation, simulator
from gradflow.derivations.shallow_relu.training import train
from gradflow.numerics.compare import Verdict
from gradflow.numerics.drivers.shallow_network import initial_parameters
from gradflow.numerics.saddle.escape_time import first_escape_rate, fit_escape_times, measured_escape_time
from gradflow.numerics.saddle.neuron_observables import max_conservation_drift
from gradflow.theory.activations import ABSOLUTE, RELU
from gradflow.theory.landscape import (add_zero_neuron, clarke_stationarity, exact_point, landscape_report,
                                       split_neuron)
from gradflow.theory.models import shallow_network as sn


def relu_checks(quick: bool = True) -> list[Verdict]:
    return [*gradient_checks(), euler_check(), *kernel_oracle_checks(), *hand_example_checks(),
            *plateau_and_escape_checks(quick)]


def gradient_checks() -> list[Verdict]:
    """The matrix-chain-rule gradients against scalar calculus on explicit small matrices."""
    verdicts = []
    sizes = {sn.n: 3, sn.m: 2, sn.d: 2, sn.d_out: 2}
    rng = np.random.default_rng(0)
    for act in (RELU, ABSOLUTE):
        net = sn.ShallowNetwork(act)
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


def euler_check() -> Verdict:
    """The derivation's Euler identity, the reason ||w_i||^2 - ||h_i||^2 is conserved."""
    return Verdict.from_claim("Euler identity z rho'(z) = rho(z) (conservation of ||w||^2 - ||h||^2)",
                              derivation().euler_identity, 1e-9, "simplification and random points", "max abs")


def kernel_oracle_checks() -> list[Verdict]:
    """The generated loss, gradients and GD against the NumPy oracles and central differences."""
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
    fd_error = _central_difference_error(rng)
    return [Verdict("generated loss and gradients = NumPy oracle (loops and BLAS layouts, a zero neuron)",
                    worst <= 1e-11, worst, 1e-11, "10 random networks", "max rel"),
            Verdict("generated GD = NumPy GD loop (relu-exp-a data)", gd_error <= 1e-11, gd_error, 1e-11,
                    "300 steps, width 8, lr 0.05", "max rel"),
            Verdict("generated dL/dW = central differences", fd_error <= 1e-7, fd_error, 1e-7, "random point, h = 1e-6",
                    "max abs")]


def _central_difference_error(rng) -> float:
    """max |dL/dW - central differences of L| at a random point, away from kinks (all |w.x| > 1e-3)."""
    X, Y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    W, H = rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    _, gW, _ = simulator().loss_and_gradients(X, Y, W, H)
    fd = np.zeros_like(gW)
    for idx in np.ndindex(W.shape):
        up, down = W.copy(), W.copy()
        up[idx] += 1e-6
        down[idx] -= 1e-6
        fd[idx] = (simulator().loss_and_gradients(X, Y, up, H)[0] - simulator().loss_and_gradients(X, Y, down, H)[0]) / 2e-6
    return float(np.max(np.abs(fd - gW)))


def hand_example_checks() -> list[Verdict]:
    """The landscape tools on small networks whose classification is known by hand, exactly."""
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
        verdicts.append(Verdict.symbolic(name, ok, f"exact; got {report.classification}, L = {report.loss}", "mismatch"))
    clarke = exact_point([[0]], [[1]], [[1]], [[1]], RELU)
    report = landscape_report(clarke)
    ok = clarke_stationarity(clarke).holds and not report.d_stationary
    verdicts.append(Verdict.symbolic("Clarke example: Clarke-stationary, not d-stationary", ok, "exact", "mismatch"))
    return verdicts


def plateau_and_escape_checks(quick: bool) -> list[Verdict]:
    """relu-exp-a: exact plateau values, saddles, conservation, float32 = float64, the escape slope."""
    dataset = DATASETS["relu-exp-a"]
    iterations = 200_000 if quick else dataset.iterations
    run = train(dataset, iterations=iterations)
    found = plateaus(run)
    verdicts = _plateau_checks([analyse_plateau(p, run, dataset) for p in found[:2]])
    drift = max_conservation_drift(run.W_snapshots, run.H_snapshots)
    # Per step the first-order change cancels (Euler) and lr^2 (||g_w||^2 - ||h_w||^2) is left; summed,
    # lr^2 sum ||grad||^2 ~ lr (L_0 - L_T): the drift is O(lr) times the loss decrease.
    bound = 1.5 * dataset.lr * float(run.loss[0] - run.loss[-1])
    verdicts.append(Verdict("conservation of ||w_i||^2 - ||h_i||^2 under GD: drift <= 1.5 lr (L_0 - L_T)", drift <= bound,
                            drift, bound, f"{run.last_iteration} steps, lr = {dataset.lr}", "max abs"))
    p32 = plateaus(train(dataset, dtype=np.float32, iterations=iterations))
    diff = max((abs(a.loss - b.loss) / b.loss for a, b in zip(p32, found)), default=np.inf)
    verdicts.append(Verdict("float32 and float64 give the same plateau values", len(p32) == len(found) and diff <= 1e-4,
                            diff, 1e-4, f"{len(found)} plateaus", "max rel"))
    verdicts.append(_escape_slope_check(dataset))
    return verdicts


def _plateau_checks(analysed: list) -> list[Verdict]:
    errors = [abs(p["loss"] - p["loss_exact_float"]) / p["loss_exact_float"] if p["loss_exact_float"] else np.inf
              for p in analysed]
    return [Verdict("relu-exp-a plateau losses = exact stationary values", len(analysed) == 2 and max(errors) <= 1e-3,
                    max(errors, default=np.inf), 1e-3,
                    f"first two plateaus: {[p['loss_exact'] for p in analysed]}", "max rel"),
            Verdict("relu-exp-a plateaus are saddles with an escape neuron (exact)",
                    all(p["classification"] == "saddle" and p["escape_neurons"] for p in analysed),
                    0.0 if all(p["classification"] == "saddle" for p in analysed) else 1.0, 0.0,
                    "first two plateaus", "mismatch")]


def _escape_slope_check(dataset) -> Verdict:
    """First-escape law T_1 = ln(1/sigma)/(2 lambda*) + O(1): the slope over sigma."""
    rate = first_escape_rate(dataset.X, dataset.Y, RELU)
    sigmas = [WIDTH ** mu for mu in SWEEP_MUS]
    inits = [initial_parameters(WIDTH, 2, 1, s, seed=SEED) for s in sigmas]
    runs = simulator().gd_ensemble(dataset.X, dataset.Y, np.stack([w for w, _ in inits]), np.stack([h for _, h in inits]),
                                   [dataset.lr] * 3, 100_000, snapshots=2)
    times = [measured_escape_time(r.loss_iterations, r.loss, dataset.lr) for r in runs]
    fit = fit_escape_times(sigmas, times, rate.lambda_star)
    return Verdict("first escape time slope d T_1 / d ln(1/sigma) = 1/(2 lambda*)", fit.relative_error <= 0.05,
                   fit.relative_error, 0.05, f"sigma = 50^mu, mu in {SWEEP_MUS}", "rel")
