"""The cells of specs/performance.md that run on a CPU.  Peers that are not installed are skipped."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .harness import Implementation, run_cell


def _missing(module: str) -> str:
    return "" if importlib.util.find_spec(module) else f"{module} not installed (pip install 'gradflow[bench]')"


# --- am-particles: logit-particle GD, N = M = d ------------------------------------------


def am_particles(quick: bool, ceilings: dict) -> list:
    from derivations.am_instances import memory_instance, zipf_probabilities
    from derivations.associative_memory import logit_particle_simulator
    from numerics.reference import logit_particles_numpy

    sizes, steps, repeats = ((16, 128), 50, 3) if quick else ((16, 128, 1024), 200, 5)
    sim = logit_particle_simulator()
    cells = []
    for n in sizes:
        inst = memory_instance(n, n, n, zipf_probabilities(n, 1.0), 0, orthogonal=False, W0="random")
        S0, K, G, p, labels, eta = inst.initial_logits, inst.data["K"], inst.data["Gamma"], inst.p, inst.labels, 0.5
        record = np.array([steps])
        impls = [
            Implementation("gradflow", lambda: sim.gd(S0, inst.data, labels, eta, steps, record).final_state, False),
            Implementation("numpy", lambda: logit_particles_numpy(S0, K, G, p, labels, eta, steps, record)[4]),
        ]
        impls += _jax_particles(S0, K, G, p, labels, eta, steps)
        impls += _torch_particles(S0, K, G, p, labels, eta, steps, inst)
        flops = steps * (2 * n * n * n + 2 * n * n * n)  # K @ G and (.) @ Gamma per step
        cells.append(run_cell(f"am-particles[N={n}]", impls, repeats, 1e-9, flops, ceilings["blas_gflops"] * 1e9,
                              {"steps": steps}))
    return cells


def _jax_particles(S0, K, G, p, labels, eta, steps):
    reason = _missing("jax")
    if reason:
        return [Implementation("jax", lambda: None, skipped=reason)]
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    Y = jnp.eye(S0.shape[1])[labels]
    Kj, Gj, pj = jnp.asarray(K), jnp.asarray(G), jnp.asarray(p)[:, None]

    @jax.jit
    def run(S):
        def step(S, _):
            return S + eta * Kj @ (pj * (Y - jax.nn.softmax(S, axis=1))) @ Gj, None

        return jax.lax.scan(step, S, None, length=steps)[0]

    return [Implementation("jax", lambda: np.asarray(run(jnp.asarray(S0)).block_until_ready()))]


def _torch_particles(S0, K, G, p, labels, eta, steps, inst):
    reason = _missing("torch")
    if reason:
        return [Implementation("torch", lambda: None, skipped=reason),
                Implementation("torch-autograd", lambda: None, skipped=reason)]
    import torch

    Kt, Gt, pt = (torch.as_tensor(a, dtype=torch.float64) for a in (K, G, p[:, None]))
    Y = torch.eye(S0.shape[1], dtype=torch.float64)[torch.as_tensor(labels)]

    def plain():
        S = torch.as_tensor(S0, dtype=torch.float64).clone()
        with torch.no_grad():
            for _ in range(steps):
                S = S + eta * Kt @ (pt * (Y - torch.softmax(S, dim=1))) @ Gt
        return S.numpy()

    E, U = (torch.as_tensor(a, dtype=torch.float64) for a in (inst.E, inst.U))
    weights = torch.as_tensor(inst.p, dtype=torch.float64)
    target = torch.as_tensor(labels)

    def autograd():
        W = torch.as_tensor(inst.W0, dtype=torch.float64).clone().requires_grad_(True)
        for _ in range(steps):
            logits = E @ W.T @ U.T
            loss = (weights * torch.nn.functional.cross_entropy(logits, target, reduction="none")).sum()
            (grad,) = torch.autograd.grad(loss, W)
            with torch.no_grad():
                W -= eta * grad
        return (E @ W.T @ U.T).detach().numpy()

    return [Implementation("torch", plain), Implementation("torch-autograd", autograd)]


# --- am-flow: orthogonal margin flow to t = 1e8 -------------------------------------------


def am_flow(quick: bool, ceilings: dict) -> list:
    import sympy as sp
    from scipy.integrate import solve_ivp

    from derivations.associative_memory import derivation, margin_flow_simulator
    from numerics.closed_form import numeric_function
    from theory.models import associative_memory as am

    particles = 1_000 if quick else 100_000
    M, t_end = 4, 1e8
    p = np.random.default_rng(0).uniform(0.05, 1.0, particles)
    q = np.c_[p, np.full(particles, M)]
    x0 = np.zeros((particles, 1))
    sim = margin_flow_simulator()
    closed = numeric_function(derivation().results["solution"].explicit, (am.t, am.p, am.M))
    exact = closed(np.array([t_end]), p, float(M))
    times = np.array([0.0, t_end])
    rhs = sp.lambdify((am.m, am.p, am.M), derivation().results["margin_flow"].rhs[0], "numpy")
    ivp_particles = min(particles, 1_000)  # solve_ivp on all 1e5 would take minutes; scaled below
    ivp_t = 1e4

    def logtime():
        return sim.integrate(x0, q, times, "logtime", rtol=1e-12, atol=1e-14).states[-1, :, 0]

    def dopri5_in_t():
        return sim.integrate(x0, q, times, "dopri5", rtol=1e-12, atol=1e-14).states[-1, :, 0]

    def scipy(method):
        def run():
            sol = solve_ivp(lambda t, m: rhs(m, p[:ivp_particles], M), (0, ivp_t), np.zeros(ivp_particles),
                            method=method, rtol=1e-10, atol=1e-12, t_eval=[ivp_t])
            return sol.y[:, -1]
        return run

    start = time.perf_counter()
    log_result = logtime()
    log_seconds = time.perf_counter() - start
    error_logtime = float(np.max(np.abs(log_result - exact) / np.abs(exact)))
    cells = [run_cell("am-flow[logtime vs dopri5 in t, t=1e8]",
                      [Implementation("gradflow", logtime, False), Implementation("gradflow-dopri5-in-t", dopri5_in_t, False)],
                      1 if not quick else 1, 1e-8,
                      notes={"particles": particles, "rel_error_vs_lambert_logtime": error_logtime,
                             "first_call_s": log_seconds})]
    # solve_ivp to t = 1e4 on a subset, against gradflow to t = 1e8 on the same subset
    sub = (x0[:ivp_particles], q[:ivp_particles])
    impls = [Implementation("gradflow", lambda: sim.integrate(*sub, np.array([0.0, ivp_t]), "logtime", rtol=1e-12,
                                                             atol=1e-14).states[-1, :, 0], False),
             Implementation("scipy-RK45", scipy("RK45")), Implementation("scipy-LSODA", scipy("LSODA"))]
    cell = run_cell(f"am-flow[solve_ivp to t=1e4, {ivp_particles} particles]", impls, 1, 1e-6,
                    notes={"gradflow_to_1e8_s": None})
    sub_1e8 = lambda: sim.integrate(*sub, times, "logtime", rtol=1e-12, atol=1e-14).states[-1, :, 0]  # noqa: E731
    sub_1e8()
    start = time.perf_counter()
    sub_1e8()
    cell.notes["gradflow_to_1e8_s"] = time.perf_counter() - start
    cell.notes["target_met"] = cell.notes["gradflow_to_1e8_s"] < min(cell.times["scipy-RK45"], cell.times["scipy-LSODA"])
    cells.append(cell)
    return cells


# --- codegen: derive + generate + compile, cold and warm ----------------------------------

_START = """
import json, time
t0 = time.perf_counter()
import numpy as np
from derivations import associative_memory as am
sim = am.{factory}()
{exercise}
print(json.dumps({{"seconds": time.perf_counter() - t0, "hit": sim.cache_hit}}))
"""

_MODELS = {
    "am-orthogonal": ("margin_map_simulator", "sim.iterate(np.zeros((2, 1)), [[0.5, 3, 1.0], [0.5, 3, 2.0]], 3)"),
    "am-random": ("logit_particle_simulator",
                  "from derivations.am_instances import memory_instance, zipf_probabilities\n"
                  "inst = memory_instance(4, 3, 4, zipf_probabilities(4, 1.0), 0, orthogonal=False)\n"
                  "sim.gd(inst.initial_logits, inst.data, inst.labels, 0.5, 2)"),
}


def _start_seconds(snippet: str, cache: str) -> dict:
    env = dict(os.environ, GRADFLOW_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def codegen(quick: bool, ceilings: dict) -> list:
    cells = []
    for model, (factory, exercise) in list(_MODELS.items())[: 1 if quick else None]:
        snippet = _START.format(factory=factory, exercise=exercise)
        with tempfile.TemporaryDirectory() as cache:
            cold = _start_seconds(snippet, cache)
            warm = _start_seconds(snippet, cache)
        cells.append(_timing_cell(f"codegen[{model}]", {"gradflow-cold": cold["seconds"], "gradflow-warm": warm["seconds"]},
                                  {"cold_cache_hit": cold["hit"], "warm_cache_hit": warm["hit"],
                                   "target_cold_lt_10s": cold["seconds"] < 10, "target_warm_lt_1s": warm["seconds"] < 1}))
    return cells


def _timing_cell(name, times, notes):
    from .harness import CellResult

    return CellResult(name, False, True, 0.0, times, {}, {}, None, notes)


CELLS = {"am-particles": am_particles, "am-flow": am_flow, "codegen": codegen}
