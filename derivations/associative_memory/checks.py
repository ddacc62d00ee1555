"""``gradflow check am-orthogonal | am-random``: the derived objects against simulation and oracles."""

from __future__ import annotations

import numpy as np
import sympy as sp

from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities
from gradflow.derivations.associative_memory.law_checks import (expansion_remainder_verdict, loss_rate_verdict,
                                                                uniform_verdict)
from gradflow.derivations.associative_memory.oracles import (logit_particles_numpy, margin_map_numpy,
                                                             weight_space_gd_numpy, weight_space_gradient_numpy,
                                                             weight_space_loss_numpy)
from gradflow.derivations.associative_memory.simulators import (derivation, logit_particle_simulator,
                                                                margin_flow_simulator, margin_map_simulator,
                                                                weight_space_simulator)
from gradflow.numerics import Verdict, compare, compare_bound, log_steps, numeric_function, sharpness
from gradflow.theory.models import associative_memory as am


N_CHECK, M_CHECK, T_CHECK = 6, 4, 20_000  # the orthogonal instance of the checks: Zipf(1) frequencies
ETAS = (0.5, 5.0, 50.0)


def orthogonal_checks(quick: bool = True) -> list[Verdict]:
    doc = derivation()
    p = zipf_probabilities(N_CHECK, 1.0)
    out = [
        Verdict.symbolic("stored outer products reproduce W flow", doc.stored_products_verified, "ansatz substitution"),
    ]
    out += [Verdict.from_claim(name, claim) for name, claim in doc.claims.items()]
    for eta in ETAS:
        out += _gd_checks(doc, p, eta)
    out += _weight_space_checks(p)
    out += _flow_checks(doc, p)
    out += _conservation_checks(p)
    return out


def _gd_checks(doc, p, eta: float) -> list[Verdict]:
    """The margin map kernel against its NumPy oracle and the derived bounds and laws, one step size."""
    N, M, T = N_CHECK, M_CHECK, T_CHECK
    record = log_steps(T, 40)
    traj = margin_map_simulator().iterate(np.zeros((N, 1)), {"p": p, "M": M, "eta": eta}, T, record)
    m = traj.states[:, :, 0]
    t = record[1:, None].astype(float)
    loss = traj.observables["loss"] @ p
    gd_lower, gd_loss_bound = doc.bounds[2], doc.bounds[3]
    loss_bound = sp.lambdify((am.t, am.p, am.M, am.eta), gd_loss_bound.leading.subs(sp.Symbol("sum_x"), 1), "numpy")
    out = [
        compare(f"margin map kernel vs NumPy (eta={eta})", m, margin_map_numpy(p, M, eta, T, record), 1e-12,
                f"{T} steps", relative=True),
        compare_bound(f"GD lower bound log(1 + eta p t) (eta={eta})", m[1:],
                      gd_lower.leading_function((am.p, am.eta))(t, p, eta), "lower", 1e-12, f"t in [1, {T}]"),
        compare_bound(f"GD loss bound (eta={eta})", loss[1:], loss_bound(t, p, M, eta).sum(axis=1), "upper", 1e-12,
                      f"t in [1, {T}]"),
    ]
    monotone = bool(np.all(np.diff(m, axis=0) >= 0) and np.all(np.diff(loss) <= 0))  # up to one ulp
    out.append(Verdict.symbolic(f"GD monotone: margins up, loss down (eta={eta})", monotone, f"{T} steps", "boolean"))
    out.append(uniform_verdict(doc, m[1:], t, p, M, eta))
    out.append(expansion_remainder_verdict(doc, m[1:], t, p, M, eta))
    if eta in (0.5, 5.0):
        out.append(loss_rate_verdict(doc, loss[-1], N, M, eta, T))
    return out


def _weight_space_checks(p) -> list[Verdict]:
    """Orthogonal W-space GD (NumPy) equals the scalar margin map."""
    N, M, steps = N_CHECK, M_CHECK, 200
    inst = memory_instance(N, M, 8, p, 0, orthogonal=True)
    out = []
    for eta in ETAS:
        W = weight_space_gd_numpy(inst.W0, inst.E, inst.U, p, inst.labels, eta, steps)
        S = inst.E @ W.T @ inst.U.T
        margins = S[np.arange(N), inst.labels] - np.max(np.where(np.eye(M)[inst.labels] > 0, -np.inf, S), axis=1)
        ref = margin_map_simulator().iterate(np.zeros((N, 1)), {"p": p, "M": M, "eta": eta}, steps,
                                             [steps]).states[0, :, 0]
        out.append(compare(f"W-space GD = margin map (eta={eta})", margins, ref, 1e-9, f"{steps} steps"))
    return out


def _flow_checks(doc, p) -> list[Verdict]:
    """The flow: Lambert closed form vs log-time integration, the flow bounds and the log law."""
    N, M = N_CHECK, M_CHECK
    flow_lower, flow_upper = doc.bounds[0], doc.bounds[1]
    times = np.array([0.0, 1.0, 10.0, 1e2, 1e4, 1e6, 1e8])
    flow = margin_flow_simulator().integrate(np.zeros((N, 1)), {"p": p, "M": M}, times, "logtime",
                                             rtol=1e-12, atol=1e-14)
    closed = numeric_function(doc.solution.explicit, (am.t, am.p, am.M))
    exact = closed(times[:, None], p[None, :], float(M))
    out = [compare("Lambert closed form vs log-time DOPRI5", flow.states[:, :, 0], exact, 1e-8, "t in [0, 1e8]",
                   relative=False)]
    out.append(weight_space_flow_verdict(closed, p, M))
    m = flow.states[1:, :, 0]
    tt = times[1:, None]
    out.append(compare_bound("flow lower bound log(1 + p t)", m, flow_lower.leading_function((am.p,))(tt, p), "lower",
                             1e-10, "t in [1, 1e8]"))
    out.append(compare_bound("flow upper bound log(1 + M p t)", m, flow_upper.leading_function((am.p, am.M))(tt, p, M),
                             "upper", 1e-10, "t in [1, 1e8]"))
    # the law's own next term: m - log(M p t) ~ (log_coefficient / rate) log t / t
    law = doc.flow_law
    rate = float(law.constants["rate"].subs({am.M: M, am.p: 1}))  # rate = M p
    slack = float(abs(law.constants["log_coefficient"].subs(am.M, M))) * np.log(1e8) / (rate * p.min() * 1e8)
    out.append(compare("flow law m = log(M p t) + O(log t / t)", m[-1], law.leading_function((am.p, am.M))(1e8, p, M),
                       2 * slack, "t = 1e8"))
    return out


def weight_space_flow_verdict(closed, p, M: int) -> Verdict:
    """The model's own W flow (RK4 on the generated W gradient, not on the margin reduction) has the margins
    of the closed form ``closed(t, p, M)``: fails if the reduction to the margin ODE, or its solution, is wrong."""
    inst = memory_instance(p.size, M, 8, p, 0, orthogonal=True)
    times = np.array([0.0, 0.5, 1.0, 2.0])
    w_flow = weight_space_simulator().flow(inst.W0, inst.data, inst.labels, times, step=1e-3)
    return compare("W-space flow (RK4) margins = Lambert closed form", w_flow.margins,
                   closed(times[:, None], p[None, :], float(M)), 1e-9, "t in [0, 2]")


def _conservation_checks(p) -> list[Verdict]:
    """sum_y s_y(x) is conserved along logit-particle GD with U U^T = I; the kernel's loss = NumPy's."""
    inst = memory_instance(N_CHECK, M_CHECK, 8, p, 1, orthogonal=True)
    run = logit_particle_simulator().gd(inst.initial_logits, inst.data, inst.labels, 5.0, 1000, [1000])
    S = _final_logits(inst, 5.0, 1000)
    return [
        compare("sum of logits conserved (1000 GD steps)", S.sum(axis=1), inst.initial_logits.sum(axis=1), 1e-12,
                "1000 steps"),
        compare("logit-particle kernel final loss vs NumPy", run.loss[-1],
                logit_particles_numpy(inst.initial_logits, inst.data["K"], inst.data["Gamma"], p, inst.labels, 5.0,
                                      1000, [1000])[0][-1], 1e-12, "1000 steps", relative=True),
    ]


def _final_logits(inst, eta, steps):
    return logit_particle_simulator().gd(inst.initial_logits, inst.data, inst.labels, eta, steps, [steps]).final_state


def random_checks(quick: bool = True) -> list[Verdict]:
    out = []
    rng = np.random.default_rng(7)
    N, M, d = 7, 5, 6
    p = rng.random(N) + 0.1
    p /= p.sum()
    inst = memory_instance(N, M, d, p, 3, orthogonal=False, W0="random", labels=rng.integers(0, M, N))
    steps = 200
    ws = weight_space_simulator()
    W = ws.gd(inst.W0, inst.data, inst.labels, 0.7, steps, [steps]).final_state
    S_w = inst.E @ W.T @ inst.U.T
    S_p = _final_logits(inst, 0.7, steps)
    out.append(compare("logit particles = W-space GD", S_p, S_w, 1e-10, f"{steps} steps", relative=True))
    out.append(compare("W-space kernel vs NumPy", W,
                       weight_space_gd_numpy(inst.W0, inst.E, inst.U, p, inst.labels, 0.7, steps), 1e-10,
                       f"{steps} steps", relative=True))
    # flow: RK4 in W-space and on logits agree
    times = np.array([0.0, 0.5, 1.0])
    fw = ws.flow(inst.W0, inst.data, inst.labels, times, step=1e-3)
    fp = logit_particle_simulator().flow(inst.initial_logits, inst.data, inst.labels, times, step=1e-3)
    out.append(compare("logit flow = W-space flow (RK4)", fp.margins, fw.margins, 1e-10, "t in [0, 1]"))
    # gradient and Hessian against finite differences of the generated loss
    W = inst.W0
    grad = -ws.module.velocity(W, *[inst.data[s.name] for s in ws.system.data])
    out.append(compare("generated gradient vs NumPy gradient", grad,
                       weight_space_gradient_numpy(W, inst.E, inst.U, p, inst.labels), 1e-12, "W_0"))
    V = rng.standard_normal(W.shape)
    h = 1e-5
    fd = (weight_space_loss_numpy(W + h * V, inst.E, inst.U, p, inst.labels)
          - weight_space_loss_numpy(W - h * V, inst.E, inst.U, p, inst.labels)) / (2 * h)
    out.append(compare("directional derivative vs finite difference", np.sum(grad * V), fd, 1e-7, "W_0", relative=True))
    hvp = ws.hessian_vector_product(W, V, inst.data)
    fd_h = (weight_space_gradient_numpy(W + h * V, inst.E, inst.U, p, inst.labels)
            - weight_space_gradient_numpy(W - h * V, inst.E, inst.U, p, inst.labels)) / (2 * h)
    out.append(compare("Hessian-vector product vs finite differences", hvp, fd_h, 1e-7, "W_0"))
    # sharpness: the dense Hessian from the generated HVP, Lanczos without forming it, and the
    # orthogonal value max_x p(x) / M at W = 0
    dense = sharpness(ws, inst.W0, inst.data, "dense")
    out.append(compare("sharpness: Lanczos vs dense Hessian", sharpness(ws, inst.W0, inst.data, "lanczos"), dense, 1e-8,
                       "W_0", relative=True))
    ortho = memory_instance(4, 5, 6, np.array([0.4, 0.3, 0.2, 0.1]), 0, orthogonal=True)
    out.append(compare("orthogonal sharpness at W = 0 is max p / M", sharpness(ws, ortho.W0, ortho.data), 0.4 / 5, 1e-12,
                       "W = 0, N = 4, M = 5", relative=True))
    # SGD is deterministic given the seed and matches its own re-run
    a = logit_particle_simulator().gd(inst.initial_logits, inst.data, inst.labels, 0.5, 300, None, 4, 11)
    b = logit_particle_simulator().gd(inst.initial_logits, inst.data, inst.labels, 0.5, 300, None, 4, 11)
    out.append(compare("SGD reproducible from its seed", a.loss, b.loss, 0.0, "300 steps"))
    return out
