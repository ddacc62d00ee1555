"""Two interacting particles (associative-memory spec section 4): the CLI model ``am-two-particle``
and the experiments ``am-landscape``, ``am-spike`` and ``am-phase`` (spec section 6).

Numeric paths that meet the theory here:
- the two-margin lane map / flow, generated from theory.models.two_particle (backend "cpu");
- a hand-written NumPy loop of the same map (backend "numpy"; the kernel's oracle);
- W-space GD on W in R^{2x2} through the generated associative-memory kernel, and the
  sharpness from its generated Hessian-vector product (numerics.sharpness).

Same labels use the opposite-label kernel with alpha -> -alpha (the derivation proves the two maps
equal under that substitution); loss and sharpness depend on alpha only through alpha^2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.special import expit

from gradflow.numerics.closed_form import numeric_function
from gradflow.numerics.compare import Verdict, compare
from gradflow.numerics.drivers.ensemble import parameter_grid
from gradflow.numerics.grids import log_steps
from gradflow.numerics.drivers.lanes import LaneSimulator
from gradflow.numerics.sharpness import sharpness as numeric_sharpness
from gradflow.theory.errors import require
from gradflow.theory.models import two_particle as tp

from gradflow.derivations.associative_memory.simulators import weight_space_simulator
from gradflow.derivations.base import Key, ModelEntry
from gradflow.derivations.derivation_cache import cached
from gradflow.derivations.report import Reproduction, pyplot

LABELS = tuple(tp.LABELS)
DENSE_SHARPNESS_RECORDS = 5000  # above this many records the derived sharpness(margins) observable is used
INCREASE_RTOL = 1e-12  # a loss increase must exceed rounding: L_{t+1} > L_t (1 + 1e-12)
L01_ZERO = sp.And(tp.m1 >= 0, tp.m2 > 0)  # opposite labels, ties to class 0 (spec section 1), p1 in (0, 1)


# --- theory, kernels -----------------------------------------------------------------------


@lru_cache(maxsize=None)
def derivation():
    """two_particle.derive() through the disk cache."""
    return cached("two_particle", tp.derive)


@lru_cache(maxsize=None)
def theory() -> dict:
    """The derived formulas as NumPy functions."""
    r = derivation().results
    asym = r["asymptotics"]
    return {
        "first_step": numeric_function(r["first_steps"]["opposite"], (tp.p1, tp.alpha, tp.eta)),
        "first_step_same": numeric_function(r["first_steps"]["same"], (tp.p1, tp.alpha, tp.eta)),
        "dip_threshold": numeric_function(r["dip_threshold"], (tp.p1,)),
        "sharpness_at_zero": numeric_function(r["sharpness_at_zero"], (tp.p1, tp.alpha)),
        "stability_threshold": numeric_function(r["stability_threshold"], (tp.p1, tp.alpha)),
        "sharpness": numeric_function(r["sharpness"], (tp.m1, tp.m2, tp.p1, tp.alpha)),
        "eta_t_loss": {k: numeric_function(asym[k]["eta_t_loss"], (tp.alpha,)) for k in LABELS},
        "offsets": {k: numeric_function(asym[k]["offsets"], (tp.p1, tp.alpha)) for k in LABELS},
    }


@lru_cache(maxsize=None)
def lane_map_simulator() -> LaneSimulator:
    """The lane map on the CPU; first_hits['l01_zero'] = first step with L01 = 0 (as on the CUDA backend)."""
    r = derivation().results
    return LaneSimulator(r["lane_map"], {"loss": r["lane_loss"], "sharpness": r["lane_sharpness"]},
                         {"l01_zero": L01_ZERO})


@lru_cache(maxsize=None)
def lane_map_cuda_simulator():
    """The lane map on the CUDA backend (one thread per lane); first_hits['l01_zero'] = first step with L01 = 0."""
    from gradflow.numerics.drivers.cuda import CudaLaneSimulator

    r = derivation().results
    return CudaLaneSimulator(r["lane_map"], {"loss": r["lane_loss"], "sharpness": r["lane_sharpness"]},
                             {"l01_zero": L01_ZERO})


@lru_cache(maxsize=None)
def lane_flow_simulator() -> LaneSimulator:
    r = derivation().results
    return LaneSimulator(r["lane_flow"], {"loss": r["lane_loss"]})


def kernel_alpha(alpha, labels: str):
    """The opposite-label kernel runs same labels with alpha -> -alpha (proved in the derivation)."""
    return np.asarray(alpha, dtype=float) * (1.0 if labels == "opposite" else -1.0)


# --- instances, W-space, observables -------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    p1: float
    alpha: float
    labels: str

    def __post_init__(self):
        tp.validate(self.p1, self.alpha, labels=self.labels)

    @property
    def p(self) -> np.ndarray:
        return np.array([self.p1, 1.0 - self.p1])

    @property
    def E(self) -> np.ndarray:
        return np.array([[1.0, 0.0], [self.alpha, np.sqrt(max(0.0, 1.0 - self.alpha**2))]])

    @property
    def label_array(self) -> np.ndarray:
        return np.array(tp.LABELS[self.labels], dtype=np.int64)

    @property
    def eps(self) -> np.ndarray:
        return np.array(tp.signs(self.labels), dtype=float)

    @property
    def data(self) -> dict:
        """Arrays by the names of the generated W-space kernel (U = I)."""
        return {"E": self.E, "U": np.eye(2), "p": self.p[:, None], "Y": np.eye(2)[self.label_array]}

    def v_from_margins(self, margins) -> np.ndarray:
        """v = W^T (u_0 - u_1) with eps_x <v, e_x> = m_x (least squares when alpha = +-1)."""
        margins = np.atleast_2d(margins)
        return np.linalg.lstsq(self.E, (margins * self.eps).T, rcond=None)[0].T

    def weights_from_margins(self, margins) -> np.ndarray:
        """W reached by GD from W_0 = 0: sum_y s_y(x) stays 0 (U U^T = I), so W = (u_0 - u_1) v^T / 2."""
        v = self.v_from_margins(margins)
        return np.stack([v / 2, -v / 2], axis=1)  # (records, 2, 2): rows u_0^T W, u_1^T W

    def zero_one(self, margins) -> np.ndarray:
        """L01 with ties to class 0 (spec section 1): label 0 is wrong iff m < 0, label 1 iff m <= 0."""
        margins = np.asarray(margins, dtype=float)
        wrong = np.where(self.label_array == 0, margins < 0, margins <= 0)
        return wrong.astype(float) @ self.p


def sharpness_along(inst: Instance, margins) -> np.ndarray:
    """Top Hessian eigenvalue at each recorded W, from the generated HVP (dense 4 x 4)."""
    sim = weight_space_simulator()
    return np.array([numeric_sharpness(sim, W, inst.data, method="dense") for W in inst.weights_from_margins(margins)])


def loss_increases(loss) -> np.ndarray:
    """Steps t with L_{t+1} > L_t (beyond rounding)."""
    loss = np.asarray(loss, dtype=float)
    return np.flatnonzero(loss[1:] > loss[:-1] * (1 + INCREASE_RTOL))


def sign_changes(margins) -> list:
    """For each margin, steps t >= 1 with m_t m_{t+1} < 0 (leaving m_0 = 0 is no change)."""
    margins = np.asarray(margins, dtype=float)
    return [np.flatnonzero(margins[1:-1, x] * margins[2:, x] < 0) + 1 for x in range(margins.shape[1])]


def edge_of_stability(sharp, eta) -> dict:
    """Sharpness against 2/eta: where it is above, the last such step, and the final ratio."""
    sharp = np.asarray(sharp, dtype=float)
    above = np.flatnonzero(sharp > 2.0 / eta)
    ratio = sharp * eta / 2
    rises = np.flatnonzero(np.diff(sharp) > 0)
    return {"threshold": 2.0 / eta, "steps_above": above.tolist(), "last_above": int(above[-1]) if above.size else -1,
            "max_ratio": float(ratio.max()), "final_ratio": float(ratio[-1]),
            "decreasing_from": int(rises[-1] + 1) if rises.size else 0}


# --- NumPy oracle ------------------------------------------------------------------------------


def two_margin_map_numpy(p1, alpha, eta, n_steps, record, labels="opposite"):
    """m_x <- m_x + eta kappa sum_x' Kt(x, x') p(x') sigma(-m_x'), kappa = 2, by hand (expit is stable)."""
    p = np.array([p1, 1 - p1])
    s = -1.0 if labels == "opposite" else 1.0
    Kt = np.array([[1.0, s * alpha], [s * alpha, 1.0]])
    m = np.zeros(2)
    out = np.empty((len(record), 2))
    r = 0
    for step in range(n_steps + 1):
        if step > 0:
            m = m + eta * 2.0 * Kt @ (p * expit(-m))
        while r < len(record) and record[r] == step:
            out[r] = m
            r += 1
    return out


def margin_loss_numpy(margins, p1):
    return np.logaddexp(0.0, -np.asarray(margins)) @ np.array([p1, 1 - p1])


# --- the CLI model -----------------------------------------------------------------------------

KEYS = (
    Key("p1", "float", 0.75, "in the open interval (0, 1)", lambda v: 0 < v < 1),
    Key("alpha", "float", 0.95, "in [-1, 1]", lambda v: -1 <= v <= 1),
    Key("labels", "choice", "opposite", "opposite or same", choices=LABELS),
    Key("eta", "float", 10.0, "a number > 0", lambda v: v > 0),
)
DEFAULT_STEPS = 35
DEFAULT_T_END = 35.0


def _record(n_steps: int) -> np.ndarray:
    return np.arange(n_steps + 1) if n_steps <= 100_000 else log_steps(n_steps, 200)


class TwoParticleEntry(ModelEntry):
    backends = ("cpu", "numpy", "cuda")

    def __init__(self):
        super().__init__(
            "am-two-particle",
            "two interacting particles (N = M = d = 2, e_2 = (alpha, sqrt(1 - alpha^2))): loss spikes, dip, sharpness",
            KEYS,
            ("gd", "flow"),
        )

    def derivation(self):
        return derivation()

    def simulate(self, settings, method="gd", steps=None, t_end=None, backend="cpu", progress=False):
        settings = {k.name: settings.get(k.name, k.default) for k in self.keys}
        for key in self.keys:
            key.validate(settings[key.name])
        require(method in self.methods, "method", f"one of {', '.join(self.methods)}", method)
        require(backend in self.backends, "backend", "cpu, numpy or cuda", backend)
        require(backend != "cuda" or method == "gd", "backend", "cpu or numpy with --method flow (cuda runs gd)", backend)
        inst = Instance(settings["p1"], settings["alpha"], settings["labels"])
        eta, p1, labels = settings["eta"], inst.p1, inst.labels
        tp.validate(eta_value=eta)
        a_kernel = float(kernel_alpha(inst.alpha, labels))
        params = dict(settings, method=method, backend=backend, p=inst.p.tolist())
        if method == "flow":
            t_end = DEFAULT_T_END if t_end is None else t_end
            require(np.isfinite(t_end) and t_end > 0, "t-end", "a finite number > 0", t_end)
            times = np.linspace(0.0, t_end, 201)
            if backend == "cpu":
                traj = lane_flow_simulator().integrate(np.zeros((1, 2)), [[p1, a_kernel]], times, "dopri5",
                                                       rtol=1e-11, atol=1e-13)
                margins = traj.states[:, 0, :]
            else:
                Kt = np.array([[1.0, -a_kernel], [-a_kernel, 1.0]])
                rhs = lambda _, m: 2.0 * Kt @ (inst.p * expit(-m))  # noqa: E731 - the formula, by hand
                margins = solve_ivp(rhs, (0.0, t_end), np.zeros(2), t_eval=times, rtol=1e-11, atol=1e-13,
                                    method="DOP853").y.T
            t = times
        else:
            steps = DEFAULT_STEPS if steps is None else steps
            require(not isinstance(steps, bool) and int(steps) == steps and steps >= 0, "steps", "an integer >= 0", steps)
            record = _record(int(steps))
            if backend in ("cpu", "cuda"):
                sim = lane_map_simulator() if backend == "cpu" else lane_map_cuda_simulator()
                traj = sim.iterate(np.zeros((1, 2)), [[p1, a_kernel, eta]], int(steps), record, progress)
                margins = traj.states[:, 0, :]
            else:
                margins = two_margin_map_numpy(p1, inst.alpha, eta, int(steps), record, labels)
            t = record
            params["record"] = "every step" if len(record) == steps + 1 else "log-spaced steps (200 per decade)"
        loss = margin_loss_numpy(margins, p1)
        if len(t) <= DENSE_SHARPNESS_RECORDS:
            sharp = sharpness_along(inst, margins)
            params["sharpness_method"] = "numerics.sharpness (dense Hessian from the generated HVP) at W(margins)"
        else:
            sharp = theory()["sharpness"](margins[:, 0], margins[:, 1], p1, inst.alpha)
            params["sharpness_method"] = "derived sharpness(m1, m2) (checked against the HVP Hessian)"
        s0 = float(theory()["sharpness_at_zero"](p1, inst.alpha))
        observables = {
            "loss_increases": loss_increases(loss).tolist() if method == "gd" else [],
            "sign_changes": [c.tolist() for c in sign_changes(margins)],
            "sharpness_at_zero": s0,
            "stability_threshold_eta": 2.0 / s0,
            "unstable_at_start": bool(method == "gd" and eta > 2.0 / s0),
            "dips": bool(margins.shape[0] > 1 and margins[1, 1] < 0),
            "dip_condition": bool(inst.alpha > (1 - p1) / p1) if labels == "opposite" else False,
        }
        if method == "gd":
            observables["edge_of_stability"] = edge_of_stability(sharp, eta)
        return {"params": params, "t": np.asarray(t, dtype=float).tolist(), "loss": loss.tolist(),
                "l01": inst.zero_one(margins).tolist(), "margins": margins.tolist(), "sharpness": sharp.tolist(),
                "observables": observables}

    def checks(self, quick=True):
        return two_particle_checks(quick)


# --- checks --------------------------------------------------------------------------------------


def _symbolic(name, holds, how, measure="symbolic") -> Verdict:
    return Verdict(name, bool(holds), 0.0 if holds else 1.0, 0.0, how, measure)


def _run(p1, alpha, eta, n_steps, labels="opposite", record=None):
    record = np.arange(n_steps + 1) if record is None else np.asarray(record)
    traj = lane_map_simulator().iterate(np.zeros((1, 2)), [[p1, float(kernel_alpha(alpha, labels)), eta]], n_steps, record)
    return traj.states[:, 0, :], traj.observables["loss"][:, 0], traj.observables["sharpness"][:, 0]


def two_particle_checks(quick: bool = True) -> list:
    r = derivation().results
    th = theory()
    out = [Verdict(name, claim.holds, claim.max_abs_at_random_points, 1e-9,
                   f"simplification to 0 and {claim.points} random points", "symbolic + numeric")
           for name, claim in r["claims"].items()]
    sim = lane_map_simulator()
    ws = weight_space_simulator()

    # 1. lane map = W-space GD (margins), kernel = NumPy loop
    cases = [(0.75, 0.95, 10.0, "opposite"), (0.75, 0.95, 1.0, "opposite"), (0.6, -0.5, 20.0, "opposite"),
             (0.8, 0.3, 3.0, "same"), (0.55, 0.9, 7.0, "same")]
    steps = 200
    for p1, alpha, eta, labels in cases:
        inst = Instance(p1, alpha, labels)
        margins, loss, _ = _run(p1, alpha, eta, steps, labels)
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
                           two_margin_map_numpy(p1, alpha, eta, steps, np.arange(steps + 1), labels), 1e-9,
                           f"{steps} steps"))
        out.append(compare(f"L01 from margins = W-space L01 ({labels}, eta={eta})", inst.zero_one(margins), w.l01, 0.0,
                           f"{steps} steps"))

    # 2. first step formula, dip condition both directions (grid of p1, alpha)
    p1s = np.linspace(0.5, 0.95, 10 if quick else 40)
    alphas = np.linspace(-1.0, 1.0, 21 if quick else 81)
    grid = parameter_grid(sim.system, {"p1": p1s, "alpha": alphas, "eta": 0.7})
    first = sim.iterate(np.zeros((grid.lanes.shape[0], 2)), grid.lanes, 1, [1]).states[0]
    P, A = grid.lanes[:, 0], grid.lanes[:, 1]
    predicted = np.stack(th["first_step"](P, A, 0.7), axis=1)
    out.append(compare("first GD step m_1 = eta (p1 - alpha p2), m_2 = eta (p2 - alpha p1)", first, predicted, 1e-14,
                       f"{P.size} (p1, alpha) points, eta = 0.7"))
    gap = A - th["dip_threshold"](P)
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

    # 3. sharpness at 0 vs the numeric Hessian; sharpness(margins) vs HVP along a run
    pts = [(0.75, 0.95), (0.5, 0.0), (0.9, -0.7), (0.6, 1.0), (0.99, 0.3)]
    measured = [numeric_sharpness(ws, np.zeros((2, 2)), Instance(p1, a, "opposite").data, method="dense") for p1, a in pts]
    out.append(compare("sharpness at 0 = (1 + sqrt(1 - 4 p1 p2 (1 - alpha^2)))/4 (HVP Hessian)", measured,
                       [th["sharpness_at_zero"](p1, a) for p1, a in pts], 1e-13, f"{len(pts)} (p1, alpha) points"))
    inst = Instance(0.75, 0.95, "opposite")
    margins, _, lane_sharp = _run(0.75, 0.95, 10.0, 35)
    out.append(compare("derived sharpness(m1, m2) = HVP sharpness along the eta=10 run", lane_sharp,
                       sharpness_along(inst, margins), 1e-12, "35 steps"))
    s_max = max(np.max(_run(p1, a, e, 100)[2] / th["sharpness_at_zero"](p1, a))
                for p1, a, e in [(0.75, 0.95, 10.0), (0.6, 0.5, 3.0), (0.9, -0.5, 50.0)])
    out.append(Verdict("sharpness(W_t) <= sharpness(0) (so eta < 2/S(0) is a global descent condition)", s_max <= 1 + 1e-12,
                       s_max - 1, 1e-12, "3 runs of 100 steps", "max S_t/S_0 - 1"))

    # 4. stability threshold: linearisation at 0 and the dynamics
    # the Jacobian of the GD map at m = 0 has eigenvalues 1 - eta lambda_i (nonzero Hessian eigenvalues):
    # the lowest, 1 - eta S(0), leaves (-1, 1) exactly when eta crosses 2/S(0)
    for p1, a in [(0.75, 0.95), (0.6, 0.3), (0.9, -0.5), (0.5, 1.0)]:
        s0, threshold = th["sharpness_at_zero"](p1, a), th["stability_threshold"](p1, a)
        lows = [_lowest_jacobian_eigenvalue(p1, a, f * threshold) for f in (0.99, 1.01)]
        err = max(abs(low - (1 - f * threshold * s0)) for low, f in zip(lows, (0.99, 1.01)))
        out.append(Verdict(f"linearised GD at W=0: lowest eigenvalue 1 - eta S0 > -1 iff eta < 2/S0 (p1={p1}, alpha={a})",
                           lows[0] > -1 > lows[1] and err < 1e-7, err, 1e-7,
                           "eta = 0.99 and 1.01 x 2/S0, finite-difference Jacobian of the generated map",
                           f"max abs(lowest - (1 - eta S0)); lowest {lows[0]:.4f}, {lows[1]:.4f}"))
    below = []
    for p1 in np.linspace(0.5, 0.95, 4):
        for a in np.linspace(-0.95, 0.99, 6):
            loss = _run(p1, a, 0.99 * th["stability_threshold"](p1, a), 200)[1]
            below.append(loss_increases(loss).size)
    out.append(Verdict("eta = 0.99 x 2/S0: no loss increase", sum(below) == 0, sum(below), 0, "24 (p1, alpha), 200 steps",
                       "loss increases"))
    threshold = th["stability_threshold"](0.75, 0.95)
    inc = {f: loss_increases(_run(0.75, 0.95, f * threshold, 100)[1]).size for f in (1.01, 1.5, 2.0)}
    out.append(Verdict("eta above 2/S0 (p1=0.75, alpha=0.95): loss increases at 1.5x and 2x",
                       inc[1.5] > 0 and inc[2.0] > 0, float(min(inc[1.5], inc[2.0])), 1, "100 steps",
                       f"increases at 1.01x/1.5x/2x: {inc[1.01]}/{inc[1.5]}/{inc[2.0]}"))

    # 5. cooperative interference: no loss increase far above 2/S0; no NaN up to eta = 1e3
    coop = []
    for p1, a in [(0.75, -0.5), (0.6, -0.9), (0.9, -0.1)]:
        for eta in (10.0, 100.0, 1000.0):
            coop.append(loss_increases(_run(p1, a, eta, 300)[1]).size)
    out.append(Verdict("alpha < 0 (opposite labels): no loss increase up to eta = 1e3", sum(coop) == 0, sum(coop), 0,
                       "3 (p1, alpha) x eta in {10, 100, 1000}, 300 steps", "loss increases"))
    finite = True
    for eta in (10.0, 100.0, 1000.0):
        for p1, a in [(0.75, 0.95), (0.6, 0.99), (0.75, 1.0)]:
            m, loss, s = _run(p1, a, eta, 500)
            inst = Instance(p1, a, "opposite")
            w = ws.gd(np.zeros((2, 2)), inst.data, inst.label_array, eta, 100)
            finite &= bool(np.all(np.isfinite(m)) and np.all(np.isfinite(loss)) and np.all(np.isfinite(s))
                           and np.all(np.isfinite(w.margins)) and np.all(np.isfinite(w.loss)))
    out.append(_symbolic("spiking runs stay finite (lanes and W-space, eta up to 1e3)", finite,
                         "eta in {10, 100, 1000}, alpha in {0.95, 0.99, 1}", "boolean"))

    # 6. the spike at p1 = 0.75, alpha = 0.95: benign, edge of stability
    m10, l10, s10 = _run(0.75, 0.95, 10.0, 35)
    m1, l1, _ = _run(0.75, 0.95, 1.0, 35)
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
    out.append(Verdict("eta=1 (below 2/S0 = %.3f): monotone" % threshold, loss_increases(l1).size == 0,
                       loss_increases(l1).size, 0, "35 steps", "loss increases"))

    # 7. asymptotic constants vs long runs
    T = 200_000 if quick else 2_000_000
    for labels, p1, a, eta in [("opposite", 0.75, 0.5, 1.0), ("opposite", 0.6, -0.5, 5.0), ("same", 0.75, 0.5, 2.0),
                               ("opposite", 0.75, 0.95, 10.0)]:
        m, loss, _ = _run(p1, a, eta, T, labels, [T // 2, T])
        rate = eta * np.array([T // 2, T]) * loss
        target = float(th["eta_t_loss"][labels](a))
        out.append(compare(f"eta t L -> {'1/(1-alpha)' if labels == 'opposite' else '1/(1+alpha)'} "
                           f"({labels}, p1={p1}, alpha={a}, eta={eta})", rate[-1], target, 2e-3,
                           f"t = {T}", relative=True))
        offsets = np.array(th["offsets"][labels](p1, a), dtype=float)
        out.append(compare(f"m_x - log(eta t) -> log(2 (1 -+ alpha) p_x) ({labels}, p1={p1}, alpha={a})",
                           m[-1] - np.log(eta * T), offsets, 0.01, f"t = {T}"))
        # direction: v_t = log(eta t) v_hat + E^{-1}(eps o c) + o(1), so 1 - cos(v_t, v_hat) = O(1/log^2 t);
        # the measured gap is compared with the gap of that asymptotic form
        inst = Instance(p1, a, labels)
        v_hat = np.array(numeric_function(r["asymptotics"][labels]["max_margin_direction"], (tp.alpha,))(a),
                         dtype=float).ravel()
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
    q = np.tile([p1, alpha, eta], (4, 1))
    y = lane_map_simulator().iterate(x0, q, 1, [1]).states[0]
    J = np.stack([(y[0] - y[1]) / (2 * h), (y[2] - y[3]) / (2 * h)], axis=1)
    return float(np.min(np.real(np.linalg.eigvals(J))))


# --- experiments (spec section 6) -----------------------------------------------------------------




def landscape(p1: float, alpha: float, theta: np.ndarray, labels: str = "opposite"):
    """L/N and L01 on the grid v = (theta_i, theta_j) of the binary model m(x) = eps_x <v, e_x>.

    The loss comes from the generated lane observable (the same code the simulations use)."""
    inst = Instance(p1, alpha, labels)
    V1, V2 = np.meshgrid(theta, theta, indexing="ij")
    v = np.stack([V1.ravel(), V2.ravel()], axis=1)
    margins = (v @ inst.E.T) * inst.eps
    q = np.ascontiguousarray(np.tile([p1, float(kernel_alpha(alpha, labels)), 1.0], (margins.shape[0], 1)))
    loss = lane_map_simulator().module.observable_loss(np.ascontiguousarray(margins[None]), q)[0]
    return (loss / 2).reshape(V1.shape), inst.zero_one(margins).reshape(V1.shape)


def _draw_landscape(ax, theta, loss_over_n, l01, inst, levels=12):
    lim = theta[-1]
    ax.pcolormesh(theta, theta, l01.T, cmap="Greys", vmin=0.0, vmax=1.6, shading="nearest", rasterized=True)
    finite = loss_over_n[np.isfinite(loss_over_n)]
    lv = np.unique(np.quantile(finite, np.linspace(0.02, 0.98, levels)))
    cs = ax.contour(theta, theta, loss_over_n.T, levels=lv, cmap="viridis", linewidths=0.9)
    ax.clabel(cs, fontsize=5, fmt="%.2g")
    for x, style in zip(range(2), ("-", "--")):
        e = inst.E[x]
        normal = np.array([-e[1], e[0]])  # <v, e_x> = 0
        ax.plot([-lim * normal[0] * 2, lim * normal[0] * 2], [-lim * normal[1] * 2, lim * normal[1] * 2], "k", ls=style,
                lw=0.7, label=rf"$\langle v, e_{x + 1}\rangle = 0$")
    direction = inst.eps @ inst.E
    direction = direction / max(np.linalg.norm(direction), 1e-300) * 0.8 * lim
    ax.annotate("", xy=direction, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 1.2})
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")


@dataclass(frozen=True)
class AmLandscape:
    name: str = "am-landscape"
    summary: str = "two-particle loss landscape: contours of L/N and L01 shading, p1 = 0.75, alpha in {-0.5, 0.5, 0.95}"
    p1: float = 0.75
    alphas: tuple = (-0.5, 0.5, 0.95)
    lims: tuple = (1.0, 10.0)

    def run(self, quick: bool = False, progress: bool = False) -> Reproduction:
        from tqdm import tqdm

        plt = pyplot()
        start = time.perf_counter()
        n = 41 if quick else 151
        arrays = {"alpha": np.array(self.alphas), "lim": np.array(self.lims)}
        for lim in tqdm(self.lims, desc=self.name, disable=not progress):
            theta = np.linspace(-lim, lim, n)
            maps = [landscape(self.p1, a, theta) for a in self.alphas]
            arrays[f"theta_lim{lim:g}"] = theta
            arrays[f"loss_over_N_lim{lim:g}"] = np.stack([m[0] for m in maps])
            arrays[f"l01_lim{lim:g}"] = np.stack([m[1] for m in maps])
        timings = {"grids": time.perf_counter() - start}
        fig, axes = plt.subplots(len(self.lims), len(self.alphas), figsize=(4.0 * len(self.alphas), 4.0 * len(self.lims)))
        for i, lim in enumerate(self.lims):
            for j, a in enumerate(self.alphas):
                ax = axes[i, j]
                _draw_landscape(ax, arrays[f"theta_lim{lim:g}"], arrays[f"loss_over_N_lim{lim:g}"][j],
                                arrays[f"l01_lim{lim:g}"][j], Instance(self.p1, a, "opposite"))
                ax.set_title(rf"$\alpha$ = {a:g}, $|\theta| \leq$ {lim:g}", fontsize=9)
                ax.set_xlabel(r"$\theta_1$")
                ax.set_ylabel(r"$\theta_2$")
        axes[0, 0].legend(fontsize=6, loc="lower left")
        fig.suptitle(f"L/N contours, L01 shading (white: 0, darker: larger); arrow: max-margin direction; p1 = {self.p1}",
                     fontsize=9)
        fig.tight_layout()
        report = self._report(arrays, n)
        return Reproduction(self.name, {"p1": self.p1, "alphas": list(self.alphas), "lims": list(self.lims), "grid": n,
                                        "labels": "opposite", "quick": quick, "theta": "v = W^T (u_0 - u_1)"},
                            arrays, {"landscape": fig}, report, derivation().to_latex(), [lane_map_simulator().path],
                            timings, [])

    def _report(self, a, n):
        lines = [f"# {self.name}", "", self.summary, "",
                 f"v = W^T(u_0 - u_1) on a {n} x {n} grid, m(x) = eps_x <v, e_x>, L = sum_x p(x) log(1 + e^(-m(x))), "
                 "shown as L/N (N = 2). L01 shading uses the tie rule of spec section 1.", "",
                 "| alpha | lim | min L/N on grid | fraction of grid with L01 = 0 | max-margin direction |", "|---|---|---|---|---|"]
        for lim in self.lims:
            for j, alpha in enumerate(self.alphas):
                inst = Instance(self.p1, alpha, "opposite")
                d = inst.eps @ inst.E
                lines.append(f"| {alpha:g} | {lim:g} | {a[f'loss_over_N_lim{lim:g}'][j].min():.4g} | "
                             f"{np.mean(a[f'l01_lim{lim:g}'][j] == 0):.3f} | ({d[0]:.3f}, {d[1]:.3f}) |")
        lines += ["", "With alpha close to 1 the zero-error cone between the two decision lines is narrow: the valley "
                  "along e_1 - e_2 is steep across and flat along it, which is where GD with large steps bounces "
                  "(see am-spike). With alpha < 0 (cooperative interference) the cone is wide.", ""]
        return "\n".join(lines)


@dataclass(frozen=True)
class AmSpike:
    name: str = "am-spike"
    summary: str = "loss spikes: p1 = 0.75, alpha = 0.95, GD eta in {10, 1}, 35 steps; loss, L01, margins, sharpness"
    p1: float = 0.75
    alpha: float = 0.95
    etas: tuple = (10.0, 1.0)
    steps: int = 35

    def run(self, quick: bool = False, progress: bool = False) -> Reproduction:
        plt = pyplot()
        inst = Instance(self.p1, self.alpha, "opposite")
        start = time.perf_counter()
        rows = {"loss": [], "l01": [], "margins": [], "sharpness": []}
        extra = {}
        for eta in self.etas:
            margins, loss, lane_sharp = _run(self.p1, self.alpha, eta, self.steps)
            sharp = sharpness_along(inst, margins)
            w = weight_space_simulator().gd(np.zeros((2, 2)), inst.data, inst.label_array, eta, self.steps)
            extra[eta] = {"ws_margin_error": float(np.max(np.abs(w.margins - margins))),
                          "lane_sharpness_error": float(np.max(np.abs(lane_sharp - sharp)))}
            for key, value in (("loss", loss), ("l01", inst.zero_one(margins)), ("margins", margins), ("sharpness", sharp)):
                rows[key].append(value)
        arrays = {"eta": np.array(self.etas), **{k: np.array(v) for k, v in rows.items()}}
        timings = {"runs": time.perf_counter() - start}
        figures = self._figures(plt, arrays, inst)
        report = self._report(arrays, extra)
        return Reproduction(self.name, {"p1": self.p1, "alpha": self.alpha, "etas": list(self.etas), "steps": self.steps,
                                        "labels": "opposite", "W0": "zero", "quick": quick},
                            arrays, figures, report, derivation().to_latex(),
                            [lane_map_simulator().path, weight_space_simulator().path], timings, [])

    def _figures(self, plt, a, inst):
        t = np.arange(self.steps + 1)
        colors = {eta: c for eta, c in zip(self.etas, ("tab:red", "tab:blue", "tab:green"))}
        fig, axes = plt.subplots(2, 2, figsize=(9, 6.5))
        for i, eta in enumerate(self.etas):
            c = colors[eta]
            axes[0, 0].plot(t, a["loss"][i], "o-", ms=2.5, color=c, label=rf"$\eta$ = {eta:g}")
            axes[0, 1].step(t, a["l01"][i], where="post", color=c, label=rf"$\eta$ = {eta:g}")
            axes[1, 0].plot(t, a["margins"][i][:, 0], "-", color=c, label=rf"$m_1$, $\eta$ = {eta:g}")
            axes[1, 0].plot(t, a["margins"][i][:, 1], "--", color=c, label=rf"$m_2$, $\eta$ = {eta:g}")
            axes[1, 1].plot(t, a["sharpness"][i], "o-", ms=2.5, color=c, label=rf"sharpness, $\eta$ = {eta:g}")
            axes[1, 1].axhline(2 / eta, color=c, ls=":", lw=1, label=rf"2/$\eta$ = {2 / eta:g}")
        s0 = float(theory()["sharpness_at_zero"](self.p1, self.alpha))
        axes[1, 1].axhline(s0, color="k", ls="--", lw=0.8, label=f"S(0) = {s0:.3f}")
        axes[0, 0].set_yscale("log")
        axes[0, 0].set_ylabel("loss L")
        axes[0, 1].set_ylabel("0-1 error")
        axes[1, 0].axhline(0, color="k", lw=0.5)
        axes[1, 0].set_ylabel("margins")
        axes[1, 1].set_yscale("log")
        axes[1, 1].set_ylabel("sharpness")
        for ax in axes.ravel():
            ax.set_xlabel("step t")
            ax.legend(fontsize=6)
        fig.suptitle(rf"p1 = {self.p1}, $\alpha$ = {self.alpha}: 2/S(0) = {2 / s0:.3f}", fontsize=9)
        fig.tight_layout()

        fig_t, ax = plt.subplots(figsize=(5.5, 5.5))
        vs = {eta: inst.v_from_margins(a["margins"][i]) for i, eta in enumerate(self.etas)}
        lim = 1.1 * max(np.abs(v).max() for v in vs.values())
        theta = np.linspace(-lim, lim, 161)
        loss_over_n, l01 = landscape(self.p1, self.alpha, theta)
        _draw_landscape(ax, theta, loss_over_n, l01, inst, levels=15)
        for eta, v in vs.items():
            ax.plot(v[:, 0], v[:, 1], "o-", ms=2.5, lw=0.9, color=colors[eta], label=rf"GD, $\eta$ = {eta:g}")
        ax.legend(fontsize=7)
        ax.set_title(r"trajectories $v_t = W_t^T(u_0 - u_1)$ over L/N and L01", fontsize=9)
        fig_t.tight_layout()
        return {"spike": fig, "trajectory": fig_t}

    def _report(self, a, extra):
        th = theory()
        s0 = float(th["sharpness_at_zero"](self.p1, self.alpha))
        m1, m2 = th["first_step"](self.p1, self.alpha, 1.0)
        lines = [f"# {self.name}", "", self.summary, "",
                 f"Theory: sharpness at W = 0: S(0) = {s0:.6f}; stability threshold 2/S(0) = {2 / s0:.4f}; "
                 f"dip threshold p2/p1 = {(1 - self.p1) / self.p1:.4f} < alpha = {self.alpha} (the rare margin first "
                 "goes negative).", "",
                 "| eta | first step (m1, m2) | predicted eta (p1 - alpha p2, p2 - alpha p1) | loss increases at steps | "
                 "sign changes of m2 | max S eta/2 | final L | final L01 | eta T L | max abs(margins - W-space GD) |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        T = self.steps
        for i, eta in enumerate(self.etas):
            m = a["margins"][i]
            lines.append(f"| {eta:g} | ({m[1, 0]:.4f}, {m[1, 1]:.4f}) | ({eta * m1:.4f}, {eta * m2:.4f}) | "
                         f"{loss_increases(a['loss'][i]).tolist()} | {sign_changes(m)[1].tolist()} | "
                         f"{np.max(a['sharpness'][i]) * eta / 2:.3f} | {a['loss'][i][-1]:.5f} | {a['l01'][i][-1]:g} | "
                         f"{eta * T * a['loss'][i][-1]:.3f} | {extra[eta]['ws_margin_error']:.1e} |")
        big, small = a["loss"][0][-1], a["loss"][1][-1]
        lines += ["", f"Benign spikes: after {T} steps the eta = {self.etas[0]:g} run has loss {big:.5f} "
                      f"{'<' if big < small else '>='} {small:.5f} of the eta = {self.etas[1]:g} run.",
                  f"eta t L tends to 1/(1 - alpha) = {1 / (1 - self.alpha):.1f} (derived); at T = {T} both runs are "
                  "still approaching it.",
                  "Sharpness: numerics.sharpness (dense Hessian from the generated HVP) at W(margins); it agrees with the "
                  "derived sharpness(m1, m2) to "
                  f"{max(e['lane_sharpness_error'] for e in extra.values()):.1e}.",
                  "Figures: `figures/spike.png` (loss, L01, margins, sharpness with 2/eta), "
                  "`figures/trajectory.png` (both runs over the landscape).", ""]
        return "\n".join(lines)


PHASE_STEPS = 1000  # iterates W_0 .. W_999 (a loop of 1000 GD steps logging L01 before each update)


def phase_axes():
    p1 = 1.0 / (1.0 + np.exp(-np.logspace(-0.5, 0.5, 10)))
    return p1, np.linspace(0.5, 1.0, 10), np.logspace(-1, 1, 10)


def first_hits(p1s, alphas, etas, n_iterates: int = PHASE_STEPS, progress: bool = False, backend: str = "cpu"):
    """One ensemble launch over the (p1, alpha, eta) grid; first t < n_iterates with L01 = 0, else n_iterates - 1.

    L01 = 0 is checked inside the kernel at every step (either backend); only the final state is recorded.
    Returns (first_hit[p1][alpha][eta], kernel seconds)."""
    require(backend in ("cpu", "cuda"), "backend", "cpu or cuda", backend)
    sim = lane_map_simulator() if backend == "cpu" else lane_map_cuda_simulator()
    grid = parameter_grid(sim.system, {"p1": np.asarray(p1s, float), "alpha": np.asarray(alphas, float),
                                       "eta": np.asarray(etas, float)})
    tp.validate(grid.lanes[:, 0], grid.lanes[:, 1], grid.lanes[:, 2])
    x0 = np.zeros((grid.lanes.shape[0], 2))
    start = time.perf_counter()
    first = sim.iterate(x0, grid.lanes, n_iterates - 1, [n_iterates - 1], progress).first_hits["l01_zero"]
    first = np.where(first < 0, n_iterates - 1, first)
    seconds = time.perf_counter() - start
    return grid.reshape(first)[..., 0], seconds


def _device(backend: str) -> str:
    if backend == "cpu":
        return "cpu"
    from gradflow.numerics.drivers.cuda import device_name

    return device_name()


@dataclass(frozen=True)
class AmPhase:
    name: str = "am-phase"
    summary: str = ("first step with L01 = 0 over p1 (10), alpha in [0.5, 1] (10), eta in [0.1, 10] (10), "
                    "1000 GD steps, one ensemble kernel launch")

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        require(backend in ("cpu", "cuda"), "backend", "cpu or cuda", backend)
        plt = pyplot()
        p1s, alphas, etas = phase_axes()
        start = time.perf_counter()
        sim = lane_map_simulator() if backend == "cpu" else lane_map_cuda_simulator()
        sim.iterate(np.zeros((1, 2)), [[0.7, 0.5, 1.0]], 1)  # compile or load, outside the timing
        timings = {"compile_or_load": time.perf_counter() - start}
        first, seconds = first_hits(p1s, alphas, etas, PHASE_STEPS, progress, backend)
        timings["ensemble_kernel"] = seconds
        arrays = {"p1": p1s, "alpha": alphas, "eta": etas, "first_hit": first.astype(np.int64)}
        figures = self._figures(plt, arrays)
        return Reproduction(self.name, {"grid": "[p1][alpha][eta]", "steps": PHASE_STEPS, "labels": "opposite",
                                        "never": PHASE_STEPS - 1, "quick": quick,
                                        "p1": "1/(1+exp(-l)), l in logspace(-0.5, 0.5, 10)",
                                        "alpha": "linspace(0.5, 1, 10)", "eta": "logspace(-1, 1, 10)",
                                        "lanes": int(first.size), "backend": backend, "device": _device(backend)},
                            arrays, figures, self._report(arrays, timings), derivation().to_latex(),
                            [sim.path], timings, [])

    def _figures(self, plt, a):
        from matplotlib.colors import LogNorm

        fig, axes = plt.subplots(2, 5, figsize=(16, 6.6), sharex=True, sharey=True)
        first = a["first_hit"]
        norm = LogNorm(vmin=1, vmax=PHASE_STEPS - 1)
        image = None
        dip = np.linspace(a["p1"][0], a["p1"][-1], 100)
        for k, ax in enumerate(axes.ravel()):
            image = ax.pcolormesh(a["alpha"], a["p1"], np.maximum(first[:, :, k], 1), norm=norm, cmap="magma_r",
                                  shading="nearest")
            ax.plot((1 - dip) / dip, dip, "c--", lw=1, label=r"$\alpha = p_2/p_1$")
            ax.set_xlim(a["alpha"][0] - 0.03, a["alpha"][-1] + 0.03)
            ax.set_title(rf"$\eta$ = {a['eta'][k]:.3g}", fontsize=9)
            if k % 5 == 0:
                ax.set_ylabel("p1")
            if k >= 5:
                ax.set_xlabel(r"$\alpha$")
        axes[0, 0].legend(fontsize=7, loc="lower left")
        fig.colorbar(image, ax=axes, label=f"first step with L01 = 0 ({PHASE_STEPS - 1} = never)")
        return {"phase": fig}

    def _report(self, a, timings):
        first = a["first_hit"]
        P, A = np.meshgrid(a["p1"], a["alpha"], indexing="ij")
        no_dip = A < (1 - P) / P
        never = first == PHASE_STEPS - 1
        lines = [f"# {self.name}", "", self.summary, "",
                 f"Ensemble: {first.size} lanes, one kernel launch of {PHASE_STEPS - 1} GD steps recording every iterate; "
                 f"kernel time {timings['ensemble_kernel']:.3f} s (after compilation). first_hit[p1][alpha][eta] is the "
                 f"first t in 0..{PHASE_STEPS - 1} with L01(W_t) = 0, {PHASE_STEPS - 1} if never.", "",
                 f"- Without a dip (alpha < p2/p1, {int(no_dip.sum())} of 100 (p1, alpha) points) the first step "
                 "already separates: predicted first_hit = 1 for every eta; measured: "
                 f"{'all 1' if np.all(first[no_dip] == 1) else np.unique(first[no_dip]).tolist()}.",
                 f"- With a dip (alpha > p2/p1) first_hit > 1: "
                 f"{'holds' if np.all(first[~no_dip] > 1) else 'violated'}.",
                 f"- alpha = 1 (e_2 = e_1, contradictory labels, not separable): never "
                 f"({'all' if np.all(never[:, -1, :]) else 'not all'} {PHASE_STEPS - 1}); no NaN.",
                 f"- Never within {PHASE_STEPS} steps: {int(never.sum())} of {first.size} lanes.", "",
                 "| eta | median first_hit (alpha < 1) | max first_hit (alpha < 1) |", "|---|---|---|"]
        for k, eta in enumerate(a["eta"]):
            sub = first[:, :-1, k]
            lines.append(f"| {eta:.3g} | {np.median(sub):g} | {sub.max()} |")
        lines += ["", "Figure: `figures/phase.png`, one heat map per eta over (alpha, p1) with the dip boundary "
                  "alpha = p2/p1.", ""]
        return "\n".join(lines)


AM_LANDSCAPE = AmLandscape()
AM_SPIKE = AmSpike()
AM_PHASE = AmPhase()
EXPERIMENTS = (AM_LANDSCAPE, AM_SPIKE, AM_PHASE)


ENTRIES = (TwoParticleEntry(),)
