"""Associative memories: the CLI models ``am-orthogonal`` and ``am-random`` and their checks."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gradflow.numerics.closed_form import numeric_function
from gradflow.numerics.compare import Verdict, compare, compare_bound
from gradflow.numerics.grids import log_steps, log_times
from gradflow.numerics.drivers.lanes import LaneSimulator
from gradflow.numerics.drivers.particles import ParticleSimulator, reduced_system, weight_space_system
from gradflow.numerics.reference import (
    logit_particles_numpy, margin_loss_numpy, margin_map_numpy, weight_space_gd_numpy, weight_space_gradient_numpy,
    weight_space_loss_numpy,
)
from gradflow.numerics.sharpness import sharpness
from gradflow.theory.errors import require
from gradflow.theory.models import associative_memory as am

from .am_instances import memory_instance, zipf_probabilities
from .base import Key, ModelEntry
from .derivation_cache import cached


@lru_cache(maxsize=None)
def derivation():
    """am.derive() through the disk cache."""
    return cached("associative_memory", am.derive)


# --- compiled simulators, built once per process (and cached on disk across processes) ---


@lru_cache(maxsize=None)
def margin_map_simulator() -> LaneSimulator:
    results = derivation().results
    return LaneSimulator(results["margin_map"], {"loss": results["lane_loss"]})


@lru_cache(maxsize=None)
def margin_map_cuda_simulator():
    from gradflow.numerics.drivers.cuda import CudaLaneSimulator

    results = derivation().results
    return CudaLaneSimulator(results["margin_map"], {"loss": results["lane_loss"]})


@lru_cache(maxsize=None)
def margin_flow_simulator() -> LaneSimulator:
    results = derivation().results
    return LaneSimulator(results["margin_flow"], {"loss": results["lane_loss"]})


@lru_cache(maxsize=None)
def logit_particle_simulator() -> ParticleSimulator:
    results = derivation().results
    return ParticleSimulator(reduced_system(results["model"], results["logit_flow"], (am.K, am.Gram_out, am.p_vec, am.Y)))


@lru_cache(maxsize=None)
def logit_particle_cuda_simulator():
    from gradflow.numerics.drivers.cuda import CudaParticleSimulator

    return CudaParticleSimulator(logit_particle_simulator().system)


@lru_cache(maxsize=None)
def weight_space_simulator() -> ParticleSimulator:
    return ParticleSimulator(weight_space_system(derivation().results["model"]))


# --- settings ---------------------------------------------------------------------------

_COMMON = (
    Key("N", "int", 6, "an integer >= 1", lambda v: v >= 1),
    Key("M", "int", 4, "an integer >= 2", lambda v: v >= 2),
    Key("zipf", "float", 1.0, ">= 0", lambda v: v >= 0),
    Key("p", "floats", None, "positive probabilities summing to 1", lambda v: len(v) >= 1),
    Key("eta", "float", 0.5, "> 0", lambda v: v > 0),
    Key("seed", "int", 0, ">= 0", lambda v: v >= 0),
    Key("batch", "int", 10, "an integer >= 1 (SGD batch size)", lambda v: v >= 1),
)


def _probabilities(settings) -> np.ndarray:
    if settings.get("p") is not None:
        return np.asarray(settings["p"], dtype=float)
    return zipf_probabilities(settings["N"], settings["zipf"])


def _record(n_steps: int) -> np.ndarray:
    # every step while it stays small enough to print; log-spaced beyond
    return np.arange(n_steps + 1) if n_steps <= 100_000 else log_steps(n_steps, 200)


def _jsonable(params: dict, **arrays) -> dict:
    out = {"params": {k: (list(v) if isinstance(v, (tuple, np.ndarray)) else v) for k, v in params.items()}}
    for name, value in arrays.items():
        out[name] = np.asarray(value).tolist()
    return out


def _orthogonal_zero_one(margins, p, labels):
    # from W_0 = 0 the wrong logits stay equal: ties (m = 0) go to class 0
    wrong = (margins < 0) | ((margins == 0) & (labels != 0))
    return wrong.astype(float) @ p


class OrthogonalMemory(ModelEntry):
    backends = ("cpu", "numpy", "cuda")

    def __init__(self):
        super().__init__(
            "am-orthogonal",
            "associative memory, orthonormal embeddings, W_0 = 0: each input reduces to its scalar margin",
            _COMMON,
            ("gd", "flow", "sgd"),
        )

    def derivation(self):
        return derivation()

    def instance(self, settings):
        N, M = settings["N"], settings["M"]
        return memory_instance(N, M, max(N, M), _probabilities(settings), settings["seed"], orthogonal=True)

    def simulate(self, settings, method="gd", steps=None, t_end=None, backend="cpu", progress=False):
        require(method in self.methods, "method", f"one of {', '.join(self.methods)}", method)
        require(backend != "cuda" or method == "gd", "backend", "cpu or numpy with --method flow or sgd (cuda runs gd)",
                backend)
        inst = self.instance(settings)
        N, M, eta, p, labels = settings["N"], settings["M"], settings["eta"], inst.p, inst.labels
        params = dict(settings, p=p.tolist(), labels=inst.labels.tolist(), method=method, backend=backend)
        if method == "flow":
            t_end = 1e4 if t_end is None else t_end
            require(t_end > 0, "t-end", "> 0", t_end)
            times = log_times(t_end)
            if backend == "cpu":
                traj = margin_flow_simulator().integrate(np.zeros((N, 1)), np.c_[p, np.full(N, M)], times, "logtime",
                                                         rtol=1e-12, atol=1e-14)
                margins = traj.states[:, :, 0]
            else:
                rhs = lambda t, m: M * p / (np.exp(m) + M - 1)  # noqa: E731 - the formula, by hand
                from scipy.integrate import solve_ivp  # only for the numpy backend; saves 0.4 s at start

                sol = solve_ivp(rhs, (0, t_end), np.zeros(N), t_eval=times, rtol=1e-10, atol=1e-12, method="LSODA")
                margins = sol.y.T
            loss = margin_loss_numpy(margins, M) @ p
            return _jsonable(params, t=times, loss=loss, l01=_orthogonal_zero_one(margins, p, labels), margins=margins)
        steps = 1000 if steps is None else steps
        require(steps >= 0, "steps", ">= 0", steps)
        record = _record(steps)
        if method == "gd":
            if backend in ("cpu", "cuda"):
                sim = margin_map_simulator() if backend == "cpu" else margin_map_cuda_simulator()
                traj = sim.iterate(np.zeros((N, 1)), np.c_[p, np.full(N, M), np.full(N, eta)], steps, record, progress)
                margins = traj.states[:, :, 0]
                loss = traj.observables["loss"] @ p
            else:
                margins = margin_map_numpy(p, M, eta, steps, record)
                loss = margin_loss_numpy(margins, M) @ p
            return _jsonable(params, t=record, loss=loss, l01=_orthogonal_zero_one(margins, p, labels), margins=margins)
        return _simulate_sgd(inst, settings, steps, record, backend, params, progress)

    def checks(self, quick=True):
        return orthogonal_checks(quick)


class RandomMemory(ModelEntry):
    backends = ("cpu", "numpy", "cuda")

    def __init__(self):
        keys = _COMMON[:1] + (
            Key("M", "int", 8, "an integer >= 2", lambda v: v >= 2),
            Key("d", "int", 8, "an integer >= 1", lambda v: v >= 1),
        ) + _COMMON[2:] + (Key("W0", "choice", "zero", "zero or random", choices=("zero", "random")),)
        keys = tuple(k if k.name != "N" else Key("N", "int", 8, "an integer >= 1", lambda v: v >= 1) for k in keys)
        super().__init__(
            "am-random",
            "associative memory, random unit-norm (correlated) embeddings: logit-particle GD/SGD/flow",
            keys,
            ("gd", "sgd", "flow"),
        )

    def derivation(self):
        return derivation()

    def instance(self, settings):
        return memory_instance(settings["N"], settings["M"], settings["d"], _probabilities(settings), settings["seed"],
                               orthogonal=False, W0=settings["W0"])

    def simulate(self, settings, method="gd", steps=None, t_end=None, backend="cpu", progress=False):
        require(method in self.methods, "method", f"one of {', '.join(self.methods)}", method)
        require(backend != "cuda" or method == "gd", "backend",
                f"{'cpu' if method == 'flow' else 'cpu or numpy'} with --method {method} (cuda runs gd)", backend)
        inst = self.instance(settings)
        params = dict(settings, p=inst.p.tolist(), labels=inst.labels.tolist(), method=method, backend=backend)
        if method == "flow":
            t_end = 10.0 if t_end is None else t_end
            require(t_end > 0, "t-end", "> 0", t_end)
            require(backend == "cpu", "backend", "cpu for the logit flow (RK4 kernel)", backend)
            times = np.linspace(0, t_end, 101)
            traj = logit_particle_simulator().flow(inst.initial_logits, inst.data, inst.labels, times, step=1e-2)
            return _jsonable(params, t=times, loss=traj.loss, l01=traj.l01, margins=traj.margins, norm=traj.norm)
        steps = 200 if steps is None else steps
        require(steps >= 0, "steps", ">= 0", steps)
        record = _record(steps)
        if method == "sgd":
            return _simulate_sgd(inst, settings, steps, record, backend, params, progress)
        if backend in ("cpu", "cuda"):
            sim = logit_particle_simulator() if backend == "cpu" else logit_particle_cuda_simulator()
            traj = sim.gd(inst.initial_logits, inst.data, inst.labels, settings["eta"], steps, record,
                          progress=progress)
            loss, l01, margins, norm = traj.loss, traj.l01, traj.margins, traj.norm
        else:
            loss, l01, margins, norm, _ = logit_particles_numpy(inst.initial_logits, inst.data["K"], inst.data["Gamma"],
                                                                inst.p, inst.labels, settings["eta"], steps, record)
        return _jsonable(params, t=record, loss=loss, l01=l01, margins=margins, norm=norm)

    def checks(self, quick=True):
        return random_checks(quick)


def _simulate_sgd(inst, settings, steps, record, backend, params, progress=False):
    eta, batch, seed = settings["eta"], settings["batch"], settings["seed"]
    if backend == "cpu":
        traj = logit_particle_simulator().gd(inst.initial_logits, inst.data, inst.labels, eta, steps, record, batch, seed,
                                             progress)
        loss, l01, margins, norm = traj.loss, traj.l01, traj.margins, traj.norm
    else:
        loss, l01, margins, norm, _ = logit_particles_numpy(inst.initial_logits, inst.data["K"], inst.data["Gamma"],
                                                            inst.p, inst.labels, eta, steps, record, batch,
                                                            np.random.default_rng(seed))
    return _jsonable(params, t=record, loss=loss, l01=l01, margins=margins, norm=norm)


# --- checks: theory against simulation ----------------------------------------------------


def _symbolic(name: str, holds: bool, how: str, measure: str = "symbolic") -> Verdict:
    return Verdict(name, bool(holds), 0.0 if holds else 1.0, 0.0, how, measure)


def orthogonal_checks(quick: bool = True) -> list[Verdict]:
    r = derivation().results
    out = [
        _symbolic("margin flow derived and closed", r["margin_flow"].rhs[0].free_symbols == {am.m, am.p, am.M},
                  "SymPy reduction of the symmetric logit flow"),
        _symbolic("stored outer products reproduce W flow", r["stored_products_verified"], "ansatz substitution"),
    ]
    out += [Verdict(name, claim.holds, claim.max_abs_at_random_points, 1e-9,
                    f"simplification to 0 and {claim.points} random points", "symbolic + numeric")
            for name, claim in r["claims"].items()]
    N, M = 6, 4
    p = zipf_probabilities(N, 1.0)
    T = 20_000
    record = log_steps(T, 40)
    sim = margin_map_simulator()
    for eta in (0.5, 5.0, 50.0):
        q = np.c_[p, np.full(N, M), np.full(N, eta)]
        traj = sim.iterate(np.zeros((N, 1)), q, T, record)
        m = traj.states[:, :, 0]
        out.append(compare(f"margin map kernel vs NumPy (eta={eta})", m, margin_map_numpy(p, M, eta, T, record), 1e-12,
                           f"{T} steps", relative=True))
        t = record[1:, None].astype(float)
        out.append(compare_bound(f"GD lower bound log(1 + eta p t) (eta={eta})", m[1:], np.log1p(eta * p * t), "lower",
                                 1e-12, f"t in [1, {T}]"))
        loss = traj.observables["loss"] @ p
        out.append(compare_bound(f"GD loss bound (eta={eta})", loss[1:],
                                 ((M - 1) * p / (1 + eta * p * t)).sum(axis=1), "upper", 1e-12, f"t in [1, {T}]"))
        monotone = bool(np.all(np.diff(m, axis=0) >= 0) and np.all(np.diff(loss) <= 0))  # up to one ulp
        out.append(_symbolic(f"GD monotone: margins up, loss down (eta={eta})", monotone, f"{T} steps", "boolean"))
        uniform = np.log(np.exp(eta * p) + eta * M * p * (t - 1))
        out.append(compare(f"uniform approximation (eta={eta})", m[-1], uniform[-1], 0.05, f"t = {T}"))
        # second-order expansion: e^m - eta M p t - (eta M p/2 - (M-1)) log t stays O(1)
        rest = np.exp(m[1:]) - eta * M * p * t - (eta * M * p / 2 - (M - 1)) * np.log(t)
        half = t[:, 0] >= T / 2
        spread = float(np.max(np.abs(rest[half] - rest[half][-1]) / (eta * M * p * T)))
        out.append(Verdict(f"GD expansion remainder is O(1) (eta={eta})", spread < 1e-3, spread, 1e-3,
                           f"t in [{T // 2}, {T}]", "relative drift"))
        if eta in (0.5, 5.0):
            target = N * (M - 1) / M
            out.append(compare(f"eta t L -> N(M-1)/M (eta={eta})", eta * T * loss[-1], target, 0.02, f"t = {T}",
                               relative=True))
    # orthogonal W-space GD equals the scalar margin map
    inst = memory_instance(N, M, 8, p, 0, orthogonal=True)
    steps = 200
    for eta in (0.5, 5.0, 50.0):
        W = weight_space_gd_numpy(inst.W0, inst.E, inst.U, p, inst.labels, eta, steps)
        S = inst.E @ W.T @ inst.U.T
        margins = S[np.arange(N), inst.labels] - np.max(np.where(np.eye(M)[inst.labels] > 0, -np.inf, S), axis=1)
        ref = sim.iterate(np.zeros((N, 1)), np.c_[p, np.full(N, M), np.full(N, eta)], steps, [steps]).states[0, :, 0]
        out.append(compare(f"W-space GD = margin map (eta={eta})", margins, ref, 1e-9, f"{steps} steps"))
    # flow: Lambert closed form vs log-time integration and bounds
    times = np.array([0.0, 1.0, 10.0, 1e2, 1e4, 1e6, 1e8])
    flow = margin_flow_simulator().integrate(np.zeros((N, 1)), np.c_[p, np.full(N, M)], times, "logtime",
                                             rtol=1e-12, atol=1e-14)
    closed = numeric_function(r["solution"].explicit, (am.t, am.p, am.M))
    exact = closed(times[:, None], p[None, :], float(M))
    out.append(compare("Lambert closed form vs log-time DOPRI5", flow.states[:, :, 0], exact, 1e-8, "t in [0, 1e8]",
                       relative=False))
    m = flow.states[1:, :, 0]
    tt = times[1:, None]
    out.append(compare_bound("flow lower bound log(1 + p t)", m, np.log1p(p * tt), "lower", 1e-10, "t in [1, 1e8]"))
    out.append(compare_bound("flow upper bound log(1 + M p t)", m, np.log1p(M * p * tt), "upper", 1e-10, "t in [1, 1e8]"))
    # the law's own next term: m - log(M p t) ~ (log_coefficient / rate) log t / t
    law = r["flow_law"]
    rate = float(law.constants["rate"].subs({am.M: M, am.p: 1}))  # rate = M p
    slack = float(abs(law.constants["log_coefficient"].subs(am.M, M))) * np.log(1e8) / (rate * p.min() * 1e8)
    out.append(compare("flow law m = log(M p t) + O(log t / t)", m[-1], np.log(M * p * 1e8), 2 * slack, "t = 1e8"))
    # conservation of sum_y s_y(x) along logit-particle GD with U U^T = I
    inst = memory_instance(N, M, 8, p, 1, orthogonal=True)
    run = logit_particle_simulator().gd(inst.initial_logits, inst.data, inst.labels, 5.0, 1000, [1000])
    S = _final_logits(inst, 5.0, 1000)
    out.append(compare("sum of logits conserved (1000 GD steps)", S.sum(axis=1), inst.initial_logits.sum(axis=1), 1e-12,
                       "1000 steps"))
    out.append(compare("logit-particle kernel final loss vs NumPy", run.loss[-1],
                       logit_particles_numpy(inst.initial_logits, inst.data["K"], inst.data["Gamma"], p, inst.labels, 5.0,
                                             1000, [1000])[0][-1], 1e-12, "1000 steps", relative=True))
    return out


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
    # orthogonal value max_x p(x) / M at W = 0 (spec section 2)
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


ENTRIES = (OrthogonalMemory(), RandomMemory())
