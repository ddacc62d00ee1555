"""``gradflow check am-two-particle``: the derived objects against the kernels, W-space GD, NumPy
oracles and long runs."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.associative_memory.simulators import weight_space_simulator
from gradflow.derivations.two_particle.instances import KAPPA, Instance
from gradflow.derivations.two_particle.laws import TwoParticleLaws, laws
from gradflow.derivations.two_particle.observables import (edge_of_stability, loss_increases, sharpness_along,
                                                           sign_changes)
from gradflow.derivations.two_particle.oracles import binary_margin_map_numpy
from gradflow.derivations.two_particle.simulators import derivation, gd_run, lane_flow_simulator, lane_map_simulator
from gradflow.numerics import Verdict, compare, parameter_grid, sharpness


def two_particle_checks(quick: bool = True) -> list[Verdict]:
    th = laws()
    out = [Verdict.from_claim(name, claim) for name, claim in derivation().claims.items()]
    out += _kernel_checks()
    out += _first_step_checks(quick, th)
    out += _sharpness_checks(th)
    out += _stability_checks(th)
    out += _cooperative_checks()
    out += _spike_checks(th)
    out += _asymptotic_checks(quick, th)
    return out


def _kernel_checks() -> list[Verdict]:
    """The lane map against W-space GD (margins, loss, L01) and the NumPy loop."""
    out = []
    ws = weight_space_simulator()
    cases = [(0.75, 0.95, 10.0, "opposite"), (0.75, 0.95, 1.0, "opposite"), (0.6, -0.5, 20.0, "opposite"),
             (0.8, 0.3, 3.0, "same"), (0.55, 0.9, 7.0, "same")]
    steps = 200
    for p1, alpha, eta, labels in cases:
        inst = Instance(p1, alpha, labels)
        margins, loss, _ = gd_run(p1, alpha, eta, steps, labels)
        w = ws.gd(np.zeros((2, 2)), inst.data, inst.label_array, eta, steps)
        scale = np.maximum(1.0, np.abs(w.margins))
        out.append(Verdict(f"lane map = W-space GD margins (p1={p1}, alpha={alpha}, eta={eta}, {labels})",
                           *_rel(margins, w.margins, scale, 1e-10), f"{steps} steps", "max rel (scale max(1, |m|))"))
        # the W-space loss is logsumexp(s) - s_y: absolute rounding ~ 1e-16 |s|, so tiny losses are
        # compared relative to max(L, 1e-4)
        out.append(Verdict(f"lane loss observable = W-space loss ({labels}, eta={eta})",
                           *_rel(loss, w.loss, np.maximum(np.abs(w.loss), 1e-4), 1e-10), f"{steps} steps",
                           "max rel (scale max(L, 1e-4))"))
        out.append(compare(f"lane kernel = NumPy loop ({labels}, eta={eta})", margins,
                           binary_margin_map_numpy(inst.Kt, inst.p, KAPPA, eta, steps), 1e-9, f"{steps} steps"))
        out.append(compare(f"L01 from margins = W-space L01 ({labels}, eta={eta})", inst.zero_one(margins), w.l01, 0.0,
                           f"{steps} steps"))
    return out


def _first_step_checks(quick: bool, th: TwoParticleLaws) -> list[Verdict]:
    """The first-step formula and the dip condition, both directions, on a (p1, alpha) grid."""
    out = []
    sim = lane_map_simulator()
    p1s = np.linspace(0.5, 0.95, 10 if quick else 40)
    alphas = np.linspace(-1.0, 1.0, 21 if quick else 81)
    grid = parameter_grid(sim.system, {"p1": p1s, "alpha": alphas, "eta": 0.7})
    first = sim.iterate(np.zeros((grid.lanes.shape[0], 2)), grid.lanes, 1, [1]).states[0]
    P, A = grid.lanes[:, 0], grid.lanes[:, 1]
    predicted = np.stack(th.first_step(P, A, 0.7), axis=1)
    out.append(compare("first GD step m_1 = eta (p1 - alpha p2), m_2 = eta (p2 - alpha p1)", first, predicted, 1e-14,
                       f"{P.size} (p1, alpha) points, eta = 0.7"))
    gap = A - th.dip_threshold(P)
    clear = np.abs(gap) > 1e-9
    agree = (first[:, 1] < 0) == (gap > 0)
    out.append(Verdict("dip: rare margin first decreases iff alpha > p2/p1 (both directions)", bool(np.all(agree[clear])),
                       float(np.sum(~agree[clear])), 0.0, f"{int(clear.sum())} grid points off the boundary; "
                       f"{int((gap[clear] > 0).sum())} dip, {int((gap[clear] < 0).sum())} no dip", "disagreements"))
    flow = lane_flow_simulator().integrate(np.zeros((grid.lanes.shape[0], 2)), grid.lanes[:, :2], [0.0, 1e-4], "rk4",
                                           step=1e-5).states[1]
    agree_flow = (flow[:, 1] < 0) == (gap > 0)
    out.append(Verdict("dip under the flow (t = 1e-4)", bool(np.all(agree_flow[np.abs(gap) > 1e-3])),
                       float(np.sum(~agree_flow[np.abs(gap) > 1e-3])), 0.0, "grid points with |alpha - p2/p1| > 1e-3",
                       "disagreements"))
    return out


def _sharpness_checks(th: TwoParticleLaws) -> list[Verdict]:
    """The sharpness at 0 against the numeric Hessian; sharpness(margins) against the HVP along a run."""
    out = []
    ws = weight_space_simulator()
    pts = [(0.75, 0.95), (0.5, 0.0), (0.9, -0.7), (0.6, 1.0), (0.99, 0.3)]
    measured = [sharpness(ws, np.zeros((2, 2)), Instance(p1, a, "opposite").data, method="dense") for p1, a in pts]
    out.append(compare("sharpness at 0 = (1 + sqrt(1 - 4 p1 p2 (1 - alpha^2)))/4 (HVP Hessian)", measured,
                       [th.sharpness_at_zero(p1, a) for p1, a in pts], 1e-13, f"{len(pts)} (p1, alpha) points"))
    inst = Instance(0.75, 0.95, "opposite")
    margins, _, lane_sharp = gd_run(0.75, 0.95, 10.0, 35)
    out.append(compare("derived sharpness(m1, m2) = HVP sharpness along the eta=10 run", lane_sharp,
                       sharpness_along(inst, margins), 1e-12, "35 steps"))
    s_max = max(np.max(gd_run(p1, a, e, 100)[2] / th.sharpness_at_zero(p1, a))
                for p1, a, e in [(0.75, 0.95, 10.0), (0.6, 0.5, 3.0), (0.9, -0.5, 50.0)])
    out.append(Verdict("sharpness(W_t) <= sharpness(0) (so eta < 2/S(0) is a global descent condition)", s_max <= 1 + 1e-12,
                       s_max - 1, 1e-12, "3 runs of 100 steps", "max S_t/S_0 - 1"))
    return out


def _stability_checks(th: TwoParticleLaws) -> list[Verdict]:
    """The stability threshold 2/S(0): the linearisation at 0 and the dynamics below and above it."""
    out = []
    # the Jacobian of the GD map at m = 0 has eigenvalues 1 - eta lambda_i (nonzero Hessian eigenvalues):
    # the lowest, 1 - eta S(0), leaves (-1, 1) exactly when eta crosses 2/S(0)
    for p1, a in [(0.75, 0.95), (0.6, 0.3), (0.9, -0.5), (0.5, 1.0)]:
        s0, threshold = th.sharpness_at_zero(p1, a), th.stability_threshold(p1, a)
        lows = [_lowest_jacobian_eigenvalue(p1, a, f * threshold) for f in (0.99, 1.01)]
        err = max(abs(low - (1 - f * threshold * s0)) for low, f in zip(lows, (0.99, 1.01)))
        out.append(Verdict(f"linearised GD at W=0: lowest eigenvalue 1 - eta S0 > -1 iff eta < 2/S0 (p1={p1}, alpha={a})",
                           lows[0] > -1 > lows[1] and err < 1e-7, err, 1e-7,
                           "eta = 0.99 and 1.01 x 2/S0, finite-difference Jacobian of the generated map",
                           f"max abs(lowest - (1 - eta S0)); lowest {lows[0]:.4f}, {lows[1]:.4f}"))
    below = []
    for p1 in np.linspace(0.5, 0.95, 4):
        for a in np.linspace(-0.95, 0.99, 6):
            loss = gd_run(p1, a, 0.99 * th.stability_threshold(p1, a), 200)[1]
            below.append(loss_increases(loss).size)
    out.append(Verdict("eta = 0.99 x 2/S0: no loss increase", sum(below) == 0, sum(below), 0, "24 (p1, alpha), 200 steps",
                       "loss increases"))
    threshold = th.stability_threshold(0.75, 0.95)
    inc = {f: loss_increases(gd_run(0.75, 0.95, f * threshold, 100)[1]).size for f in (1.01, 1.5, 2.0)}
    out.append(Verdict("eta above 2/S0 (p1=0.75, alpha=0.95): loss increases at 1.5x and 2x",
                       inc[1.5] > 0 and inc[2.0] > 0, float(min(inc[1.5], inc[2.0])), 1, "100 steps",
                       f"increases at 1.01x/1.5x/2x: {inc[1.01]}/{inc[1.5]}/{inc[2.0]}"))
    return out


def _cooperative_checks() -> list[Verdict]:
    """Cooperative interference: no loss increase far above 2/S0; spiking runs stay finite up to eta = 1e3."""
    out = []
    coop = []
    for p1, a in [(0.75, -0.5), (0.6, -0.9), (0.9, -0.1)]:
        for eta in (10.0, 100.0, 1000.0):
            coop.append(loss_increases(gd_run(p1, a, eta, 300)[1]).size)
    out.append(Verdict("alpha < 0 (opposite labels): no loss increase up to eta = 1e3", sum(coop) == 0, sum(coop), 0,
                       "3 (p1, alpha) x eta in {10, 100, 1000}, 300 steps", "loss increases"))
    finite = True
    ws = weight_space_simulator()
    for eta in (10.0, 100.0, 1000.0):
        for p1, a in [(0.75, 0.95), (0.6, 0.99), (0.75, 1.0)]:
            m, loss, s = gd_run(p1, a, eta, 500)
            inst = Instance(p1, a, "opposite")
            w = ws.gd(np.zeros((2, 2)), inst.data, inst.label_array, eta, 100)
            finite &= bool(np.all(np.isfinite(m)) and np.all(np.isfinite(loss)) and np.all(np.isfinite(s))
                           and np.all(np.isfinite(w.margins)) and np.all(np.isfinite(w.loss)))
    out.append(Verdict.symbolic("spiking runs stay finite (lanes and W-space, eta up to 1e3)", finite,
                                "eta in {10, 100, 1000}, alpha in {0.95, 0.99, 1}", "boolean"))
    return out


def _spike_checks(th: TwoParticleLaws) -> list[Verdict]:
    """The spike at p1 = 0.75, alpha = 0.95: benign, at the edge of stability."""
    out = []
    m10, l10, s10 = gd_run(0.75, 0.95, 10.0, 35)
    m1, l1, _ = gd_run(0.75, 0.95, 1.0, 35)
    out.append(Verdict("benign spikes: L_35(eta=10) < L_35(eta=1) (p1=0.75, alpha=0.95)", l10[-1] < l1[-1],
                       l10[-1] / l1[-1], 1.0, "35 steps", "loss ratio"))
    out.append(Verdict("eta=10 spikes: the loss increases, margins change sign", loss_increases(l10).size > 0
                       and sign_changes(m10)[1].size > 0, float(loss_increases(l10).size), 1, "35 steps", "increases"))
    eos = edge_of_stability(s10, 10.0)
    out.append(Verdict("edge of stability: sharpness crosses 2/eta during the spikes, then stays below and decreases",
                       eos["max_ratio"] > 1 and 0 < eos["last_above"] < 20 and eos["decreasing_from"] <= 25
                       and eos["final_ratio"] < 1, eos["final_ratio"], 1.0,
                       f"35 steps; last step above 2/eta: {eos['last_above']}; non-increasing from step "
                       f"{eos['decreasing_from']}", "final S eta/2"))
    threshold = th.stability_threshold(0.75, 0.95)
    out.append(Verdict("eta=1 (below 2/S0 = %.3f): monotone" % threshold, loss_increases(l1).size == 0,
                       loss_increases(l1).size, 0, "35 steps", "loss increases"))
    return out


def _asymptotic_checks(quick: bool, th: TwoParticleLaws) -> list[Verdict]:
    """eta t L, the margin offsets and the max-margin direction against long runs."""
    out = []
    T = 200_000 if quick else 2_000_000
    for labels, p1, a, eta in [("opposite", 0.75, 0.5, 1.0), ("opposite", 0.6, -0.5, 5.0), ("same", 0.75, 0.5, 2.0),
                               ("opposite", 0.75, 0.95, 10.0)]:
        m, loss, _ = gd_run(p1, a, eta, T, labels, [T // 2, T])
        rate = eta * np.array([T // 2, T]) * loss
        target = float(th.eta_t_loss(a, labels))
        out.append(compare(f"eta t L -> {'1/(1-alpha)' if labels == 'opposite' else '1/(1+alpha)'} "
                           f"({labels}, p1={p1}, alpha={a}, eta={eta})", rate[-1], target, 2e-3,
                           f"t = {T}", relative=True))
        offsets = th.offsets(p1, a, labels)
        out.append(compare(f"m_x - log(eta t) -> log(2 (1 -+ alpha) p_x) ({labels}, p1={p1}, alpha={a})",
                           m[-1] - np.log(eta * T), offsets, 0.01, f"t = {T}"))
        # direction: v_t = log(eta t) v_hat + E^{-1}(eps o c) + o(1), so 1 - cos(v_t, v_hat) = O(1/log^2 t);
        # the measured gap is compared with the gap of that asymptotic form
        inst = Instance(p1, a, labels)
        v_hat = th.max_margin_direction(a, labels)
        gap = _cosine_gap(inst.v_from_margins(m[-1])[0], v_hat)
        predicted = _cosine_gap(inst.v_from_margins(np.log(eta * T) + offsets)[0], v_hat)
        out.append(compare(f"1 - cos(v_t, max-margin direction) ({labels}, alpha={a}) vs its asymptotic form", gap,
                           predicted, 0.05 * predicted + 1e-6, f"t = {T}; gap {gap:.2e}"))
    return out


def _rel(measured, reference, scale, tol):
    err = float(np.max(np.abs(np.asarray(measured) - np.asarray(reference)) / scale))
    return err <= tol, err, tol


def _cosine_gap(v, w) -> float:
    return float(1.0 - v @ w / (np.linalg.norm(v) * np.linalg.norm(w)))


def _lowest_jacobian_eigenvalue(p1, alpha, eta, h=1e-6) -> float:
    """Lowest eigenvalue of the Jacobian of the generated GD map at m = 0 (central differences)."""
    x0 = np.array([[h, 0.0], [-h, 0.0], [0.0, h], [0.0, -h]])
    y = lane_map_simulator().iterate(x0, {"p1": p1, "alpha": alpha, "eta": eta}, 1, [1]).states[0]
    J = np.stack([(y[0] - y[1]) / (2 * h), (y[2] - y[3]) / (2 * h)], axis=1)
    return float(np.min(np.real(np.linalg.eigvals(J))))
