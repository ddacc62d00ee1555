"""The binary memory's checks, contributed to ``gradflow check am-random`` (its M = 2 case).

The binary margin map kernel (generated from the derived lane Map) against logit-particle GD with
M = 2 and the NumPy oracle; the separable laws against long GD runs; the finite CE minimizer
(Newton) and GD's convergence to it below 2 / (kappa lambda_max(H*)) and its persistent cycle above.
Every verdict names its regime and tolerance.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from gradflow.derivations.associative_memory.instances import unit_rows
from gradflow.derivations.associative_memory.oracles import binary_margin_loss_numpy, binary_margin_map_numpy
from gradflow.derivations.associative_memory.simulators import logit_particle_simulator, weight_space_simulator
from gradflow.derivations.binary_memory import geometry
from gradflow.derivations.binary_memory.instances import BinaryInstance, separable_instance, worked_instance
from gradflow.derivations.binary_memory.laws import BinaryLaws
from gradflow.derivations.binary_memory.simulators import binary_map_run, derivation
from gradflow.numerics import Verdict, compare, sharpness


def checks(quick: bool = True) -> list[Verdict]:
    """The derivation's claims, then the margin map, the separable case and the non-separable case."""
    doc = derivation()
    laws = BinaryLaws(doc)
    return [*_symbolic(doc), *_margin_map(), *_separable(laws, quick), *_not_separable(laws, quick)]


def _symbolic(doc) -> list[Verdict]:
    out = [Verdict.symbolic("binary margin map: closure and formula for all label patterns (N = 2, 3)",
                            all(doc.reductions.values()), "SymPy reduction of logit-particle GD, M = 2")]
    return out + [Verdict.from_claim(name, claim) for name, claim in doc.claims.items()]


def _margin_map() -> list[Verdict]:
    """The binary map kernel equals logit-particle GD with M = 2 (non-orthogonal E and U, W_0 random)."""
    rng = np.random.default_rng(11)
    N, d, steps = 4, 3, 200
    p = rng.random(N) + 0.1
    inst = BinaryInstance(unit_rows(N, d, rng), unit_rows(2, d, rng), p / p.sum(), rng.integers(0, 2, N),
                          rng.standard_normal((d, d)) / np.sqrt(d))
    etas = (0.5, 5.0, 50.0)
    lanes = binary_map_run(inst, etas, steps)
    out = []
    for k, eta in enumerate(etas):
        run = logit_particle_simulator().gd(inst.initial_logits, inst.data, inst.labels, eta, steps)
        out.append(compare(f"binary map kernel = logit-particle GD, M = 2 (eta={eta:g}, kappa={inst.kappa:.3f})",
                           lanes[:, k, :], run.margins, 1e-10, f"{steps} steps, N = {N}, d = {d}", relative=True))
    oracle = binary_margin_map_numpy(inst.signed_gram, inst.p, inst.kappa, 5.0, steps, inst.initial_margins)
    out.append(compare("binary map kernel vs NumPy oracle (eta=5)", lanes[:, 1, :], oracle, 1e-12, f"{steps} steps",
                       relative=True))
    return out


def _separable(laws: BinaryLaws, quick: bool) -> list[Verdict]:
    """Separable, all points support vectors: the SVM and long GD runs against the derived constants."""
    sep = separable_instance()
    svm = geometry.hard_margin_svm(sep.E, sep.labels)
    const = laws.separable_constants(sep.signed_gram, sep.p, sep.kappa)
    out = [compare("SVM duals (SLSQP) = Kt^{-1} 1", svm.dual, const.lam, 1e-8, "all points support vectors",
                   relative=True),
           compare("gamma* (SVM) = 1/sqrt(1^T Kt^{-1} 1)", svm.gamma, const.gamma_star, 1e-8,
                   "separable instance, N = d = 3", relative=True)]
    T = 20_000 if quick else 100_000
    margin_tol, loss_tol = (0.03, 0.03) if quick else (0.01, 0.01)
    etas = (0.5, 5.0, 50.0)
    margins = binary_map_run(sep, etas, T, np.array([0, T // 2, T]))
    predicted = laws.loss_rate(sep.kappa, svm.gamma)
    rates = []
    for k, eta in enumerate(etas):
        m_T = margins[-1, k]
        out.append(compare(f"m_x(T) - log(eta T) -> log(kappa p / lambda) (eta={eta:g})", m_T - np.log(eta * T),
                           const.c, margin_tol, f"T = {T}, kappa = {sep.kappa:.3f}"))
        rate = eta * T * float(binary_margin_loss_numpy(m_T, sep.p))
        rates.append(rate)
        out.append(compare(f"eta T L -> 1/(kappa gamma*^2) (eta={eta:g})", rate, predicted, loss_tol, f"T = {T}",
                           relative=True))
    spread = (max(rates) - min(rates)) / predicted
    out.append(Verdict("eta T L at T does not depend on eta (0.5, 5, 50)", spread <= loss_tol, spread, loss_tol,
                       f"T = {T}", "relative spread"))
    out.append(_approach(laws))
    # the same limit from the full logit-particle GD (W-space equivalent), one step size
    full = logit_particle_simulator().gd(sep.initial_logits, sep.data, sep.labels, 5.0, T, [T])
    out.append(compare("logit-particle GD: eta T L -> 1/(kappa gamma*^2) (eta=5)", 5.0 * T * full.loss[-1], predicted,
                       loss_tol, f"T = {T}", relative=True))
    return out


def _approach(laws: BinaryLaws) -> Verdict:
    """The derived approach exponent: two particles with cooperative interference (alpha = -0.5) approach the
    limit like t^{-mu}, mu = smallest eigenvalue of Kt diag(lambda) = 1/3."""
    coop = BinaryInstance(np.array([[1.0, 0.0], [-0.5, np.sqrt(0.75)]]), np.eye(2), np.array([0.7, 0.3]),
                          np.array([0, 1]), np.zeros((2, 2)))
    const = laws.separable_constants(coop.signed_gram, coop.p, coop.kappa)
    times = np.array([10_000, 100_000])
    m = binary_map_run(coop, [1.0], int(times[-1]), times)[:, 0]
    gaps = [np.abs(m[k] - np.log(times[k]) - const.c).max() for k in range(2)]
    return compare("approach m - log(eta t) - c = O(t^{-mu}), mu = min eig Kt diag(lambda) (alpha = -0.5)",
                   np.log(gaps[0] / gaps[1]) / np.log(10), const.approach_exponent, 0.02,
                   "fitted between t = 1e4 and 1e5, eta = 1")


def _not_separable(laws: BinaryLaws, quick: bool) -> list[Verdict]:
    """Not separable (the worked instance): Newton minimizer, sharpness, GD below / above 2 / lambda_max(H*)."""
    wi = worked_instance()
    ce = geometry.ce_minimizer(wi.E, wi.labels, wi.p)
    out = [Verdict("Newton CE minimizer: |grad L(v*)| = 0", np.linalg.norm(ce.gradient) <= 1e-12,
                   np.linalg.norm(ce.gradient), 1e-12, "worked instance", "norm")]
    W_star = wi.weights_for(ce.v)
    ws = weight_space_simulator()
    velocity = ws.module.velocity(W_star, *[wi.data[s.name] for s in ws.system.data])
    out.append(compare("generated W-space gradient vanishes at W* = a v*^T / kappa", velocity, 0.0, 1e-12,
                       "worked instance"))
    bfgs = minimize(lambda v: geometry.ce_loss(v, wi.E, wi.labels, wi.p), np.zeros(2),
                    jac=lambda v: geometry.ce_gradient(v, wi.E, wi.labels, wi.p), method="BFGS",
                    options={"gtol": 1e-12})
    out.append(compare("Newton minimizer = scipy BFGS minimizer", ce.v, bfgs.x, 1e-6, "worked instance"))
    h_max = ce.top_eigenvalue
    out.append(compare("W-space sharpness (generated HVP) = kappa lambda_max(H*)",
                       sharpness(ws, W_star, wi.data, method="dense"), laws.sharpness(wi.kappa, h_max), 1e-9,
                       "worked instance, W*", relative=True))
    out += _gd_at_the_threshold(wi, ce, laws.stability_threshold(wi.kappa, h_max), quick)
    return out + _zero_one(wi, ce, quick)


def _gd_at_the_threshold(wi: BinaryInstance, ce: geometry.CEMinimizer, threshold: float, quick: bool) -> list[Verdict]:
    """GD converges to the CE minimizer at 0.9 times the stability threshold and cycles at 1.1 times it."""
    steps = 2_000 if quick else 10_000
    below = logit_particle_simulator().gd(wi.initial_logits, wi.data, wi.labels, 0.9 * threshold, steps, [steps])
    out = [compare("GD converges to the CE minimizer at eta = 0.9 * 2/lambda_max(H*)", below.margins[-1],
                   ce.margins, 1e-8, f"{steps} steps from W_0 = 0")]
    tail = np.arange(steps - 200, steps + 1)
    above = logit_particle_simulator().gd(wi.initial_logits, wi.data, wi.labels, 1.1 * threshold, steps, tail)
    distance = np.max(np.abs(above.margins - ce.margins), axis=1)
    out.append(Verdict("GD does not converge at eta = 1.1 * 2/lambda_max(H*): min distance to v* over the last "
                       "200 steps",
                       distance.min() > 0.1, distance.min(), 0.1, f"steps {steps - 200}..{steps}",
                       "min distance (must exceed the tolerance)"))
    period2 = float(np.max(np.abs(above.margins[2:] - above.margins[:-2])))
    out.append(Verdict("... and settles into a persistent period-2 cycle", period2 <= 1e-8, period2, 1e-8,
                       f"steps {steps - 200}..{steps}", "max |m_t - m_{t-2}|"))
    return out


def _zero_one(wi: BinaryInstance, ce: geometry.CEMinimizer, quick: bool) -> list[Verdict]:
    """The best 0-1 error: exact enumeration vs a fine grid of directions, and the CE minimizer's excess."""
    best = geometry.best_zero_one(wi.E, wi.labels, wi.p)
    grid = np.linspace(0, 2 * np.pi, 100_001)
    grid_best = min(geometry.zero_one_error(np.array([np.cos(a), np.sin(a)]), wi.E, wi.labels, wi.p)
                    for a in grid[:: (10 if quick else 1)])
    excess = geometry.zero_one_error(ce.v, wi.E, wi.labels, wi.p) - best.error
    return [compare("best 0-1 error (critical directions) = fine grid minimum", best.error, grid_best, 1e-12,
                    "worked instance"),
            Verdict("CE minimizer has excess 0-1 error over the best linear classifier", excess > 0, excess, 0.0,
                    "worked instance", "excess > 0")]
