"""The benchmark cells that run on a CPU.  Peers that are not installed are skipped."""

from __future__ import annotations

import importlib.util

import numpy as np

from gradflow.bench.harness import Implementation, run_cell, skipped_cell
from gradflow.bench.mlp_hessian import mlp_hessian


def _missing(module: str) -> str:
    return "" if importlib.util.find_spec(module) else f"{module} not installed (pip install 'gradflow[bench]')"


# --- am-particles: logit-particle GD, N = M = d ------------------------------------------


def am_particles(quick: bool, ceilings: dict) -> list:
    from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities
    from gradflow.derivations.associative_memory.simulators import logit_particle_simulator
    from gradflow.derivations.associative_memory.oracles import logit_particles_numpy

    sizes, steps, repeats = ((16, 128), 50, 3) if quick else ((16, 128, 1024), 200, 5)
    sim = logit_particle_simulator()
    cells = []
    for n in sizes:
        inst = memory_instance(n, n, n, zipf_probabilities(n, 1.0), 0, orthogonal=False, W0="random")
        data = inst.data  # prepared once, outside every timing, as for the peers (it holds two products)
        S0, K, G, p, labels, eta = inst.initial_logits, data["K"], data["Gamma"], inst.p, inst.labels, 0.5
        record = np.array([steps])
        impls = [
            Implementation("gradflow", lambda: sim.gd(S0, data, labels, eta, steps, record).final_state, False),
            Implementation("numpy", lambda: logit_particles_numpy(S0, K, G, p, labels, eta, steps, record)[4]),
        ]
        impls += _jax_particles(S0, K, G, p, labels, eta, steps)
        impls += _torch_particles(S0, K, G, p, labels, eta, steps, inst)
        flops = steps * (2 * n * n * n + 2 * n * n * n)  # K @ G and (.) @ Gamma per step
        cell = run_cell(f"am-particles[N={n}]", impls, repeats, 1e-9, flops, ceilings["blas_gflops"] * 1e9,
                        {"steps": steps}, ceiling="blas")
        cell.notes["strategy"] = sim.gd(S0, data, labels, eta, 1, np.array([1])).strategy.to_dict()
        cells.append(cell)
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

AM_FLOW_RTOL, AM_FLOW_ATOL = 1e-9, 1e-11  # gradflow's: rel. error about 2e-10 at t = 1e8 (target < 1e-8)
IVP_RTOL, IVP_ATOL = 1e-10, 1e-12  # solve_ivp's tolerances in the am-flow cell


def am_flow(quick: bool, ceilings: dict) -> list:
    """Two cells.  [logtime vs dopri5 in t]: gradflow's two adaptive methods to t = 1e8.  [target]: the
    target's comparison: gradflow to t = 1e8 (error against the Lambert closed form < 1e-8) against
    solve_ivp to t = 1e4 on the same particles (every solve_ivp result is compared with gradflow's own
    run to t = 1e4, ``gradflow-to-1e4``)."""
    import sympy as sp
    from scipy.integrate import solve_ivp

    from gradflow.derivations.associative_memory.simulators import derivation, margin_flow_simulator
    from gradflow.numerics.closed_form import numeric_function
    from gradflow.numerics.drivers.lanes import lane_parameters
    from gradflow.theory.models import associative_memory as am

    particles = 1_000 if quick else 100_000
    M, t_end, ivp_t = 4, 1e8, 1e4
    p = np.random.default_rng(0).uniform(0.05, 1.0, particles)
    x0 = np.zeros((particles, 1))
    sim = margin_flow_simulator()
    q = lane_parameters(sim.signature, {"p": p, "M": M}, particles)  # by name, built once outside the timings
    closed = numeric_function(derivation().solution.explicit, (am.t, am.p, am.M))
    exact = closed(np.array([t_end]), p, float(M))
    rhs = sp.lambdify((am.m, am.p, am.M), derivation().margin_flow.rhs[0], "numpy")

    def gradflow(method, t):
        return lambda: sim.integrate(x0, q, np.array([0.0, t]), method, rtol=AM_FLOW_RTOL,
                                     atol=AM_FLOW_ATOL).states[-1, :, 0]

    ivp_results = {}  # method -> its last result (its own error against the closed form is reported)

    def scipy(method, **options):
        def run():
            sol = solve_ivp(lambda t, m: rhs(m, p, M), (0, ivp_t), np.zeros(particles), method=method, rtol=IVP_RTOL,
                            atol=IVP_ATOL, t_eval=[ivp_t], **options)
            ivp_results[method] = sol.y[:, -1]
            return ivp_results[method]
        return run

    tolerances = {"gradflow_rtol": AM_FLOW_RTOL, "gradflow_atol": AM_FLOW_ATOL, "solve_ivp_rtol": IVP_RTOL,
                  "solve_ivp_atol": IVP_ATOL}
    methods = run_cell("am-flow[logtime vs dopri5 in t, t=1e8]",
                       [Implementation("gradflow", gradflow("logtime", t_end), False),
                        Implementation("gradflow-dopri5-in-t", gradflow("dopri5", t_end), False)],
                       5 if quick else 1, 1e-8, notes=dict(tolerances, particles=particles))
    methods.notes["rel_error_vs_lambert_logtime"] = _relative_error(gradflow("logtime", t_end)(), exact)
    impls = [Implementation("gradflow", gradflow("logtime", t_end), False, agree_with=None),
             Implementation("gradflow-1-thread", _one_thread(gradflow("logtime", t_end)), False, agree_with="gradflow"),
             Implementation("gradflow-to-1e4", gradflow("logtime", ivp_t), False, agree_with=None),
             Implementation("scipy-RK45", scipy("RK45"), agree_with="gradflow-to-1e4"),
             Implementation("scipy-DOP853", scipy("DOP853"), agree_with="gradflow-to-1e4"),
             Implementation("scipy-LSODA", scipy("LSODA", lband=0, uband=0), agree_with="gradflow-to-1e4")]
    notes = dict(tolerances, particles=particles, compared=(
        "gradflow: log-time DOPRI5 to t = 1e8; every solve_ivp method to t = 1e4 (all particles as one vectorised "
        "system, lambdified rhs), compared with gradflow-to-1e4; ratio > 1 for every solve_ivp method = target met"),
        lsoda="lband = uband = 0: the particles are independent, so LSODA's Jacobian is diagonal (a dense one "
              "would not fit in memory at 1e5 particles)",
        tolerances_chosen=("gradflow's rtol/atol: one decade tighter than the loosest that meets the target's 1e-8 "
                           "at t = 1e8 (rtol 1e-8 gives about 1.5e-9), for a margin (rel_error_vs_lambert, about "
                           "2e-10); solve_ivp keeps its"),
        one_thread=("gradflow-1-thread: the same run with numba.set_num_threads(1), as single-threaded as solve_ivp "
                    "(on a shared machine a parallel region waits for a descheduled thread)"))
    repeats = 5 if quick else 1
    cell = run_cell(f"am-flow[gradflow to t=1e8 vs solve_ivp to t=1e4, {particles} particles]", impls, repeats, 1e-6,
                    notes=notes)
    error = _relative_error(gradflow("logtime", t_end)(), exact)
    ivp_exact = closed(np.array([ivp_t]), p, float(M))
    cell.notes["rel_error_vs_lambert"] = error
    cell.notes["strategy"] = sim.integrate(x0, q, np.array([0.0, t_end]), "logtime", rtol=AM_FLOW_RTOL,
                                           atol=AM_FLOW_ATOL).strategy.to_dict()
    cell.notes["solve_ivp_rel_error_vs_lambert_at_1e4"] = {k: _relative_error(v, ivp_exact)
                                                           for k, v in ivp_results.items()}
    cell.notes["target_met"] = error < 1e-8 and min(v for k, v in cell.ratios.items() if k.startswith("scipy")) > 1
    cell.notes["target_met_1_thread"] = error < 1e-8 and all(
        cell.times[k] > cell.times["gradflow-1-thread"] for k in cell.times if k.startswith("scipy"))
    return [methods, cell]


def _one_thread(run):
    """``run`` with Numba's thread count set to 1 for its duration."""
    import numba

    def single():
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return run()
        finally:
            numba.set_num_threads(threads)
    return single


def _relative_error(got, exact) -> float:
    return float(np.max(np.abs(got - exact) / np.abs(exact)))


# --- am-ensemble: two-particle GD over a (p1, alpha, eta) grid, first step with L01 = 0 ------

def _ensemble_lanes(quick: bool) -> np.ndarray:
    """(members, 3) rows (p1, alpha, eta) on the am-phase ranges: 10^3 members (quick) or 25 x 20 x 20."""
    from gradflow.derivations.two_particle.phase import phase_axes

    if quick:
        p1s, alphas, etas = phase_axes()
    else:
        p1s = 1.0 / (1.0 + np.exp(-np.logspace(-0.5, 0.5, 25)))
        alphas, etas = np.linspace(0.5, 1.0, 20), np.logspace(-1, 1, 20)
    return np.stack(np.meshgrid(p1s, alphas, etas, indexing="ij"), -1).reshape(-1, 3)


def _first_hit_update(first, states, offset):
    """first[lane] = offset + first row of states (rows, lanes, 2) with L01 = 0 (m1 >= 0 and m2 > 0,
    derivations.two_particle.simulators.L01_ZERO), for lanes that have not hit yet."""
    hit = (states[..., 0] >= 0) & (states[..., 1] > 0)
    new = (first < 0) & hit.any(axis=0)
    first[new] = offset + hit[:, new].argmax(axis=0)


def gradflow_first_hits(sim, lanes: np.ndarray, n_steps: int) -> np.ndarray:
    """First step in 0..n_steps with L01 = 0 (-1: never) from LaneSimulator.iterate's first-hit condition
    (checked inside the kernel at every step; only the final state is recorded)."""
    x0 = np.zeros((lanes.shape[0], 2))
    return sim.iterate(x0, lanes, n_steps, [n_steps]).first_hits["l01_zero"]


def numpy_first_hits(lanes: np.ndarray, n_steps: int) -> np.ndarray:
    """Hand-written NumPy, vectorised over members: m <- m + eta 2 Kt (p * sigma(-m)), Kt = [[1, -alpha],
    [-alpha, 1]] (the two-particle model, opposite labels), first step with m1 >= 0, m2 > 0."""
    from scipy.special import expit

    p1, alpha, eta = (np.ascontiguousarray(c) for c in lanes.T)
    p2 = 1.0 - p1
    m1, m2 = np.zeros(lanes.shape[0]), np.zeros(lanes.shape[0])
    first = np.where((m1 >= 0) & (m2 > 0), 0, -1)
    for step in range(1, n_steps + 1):
        u1, u2 = p1 * expit(-m1), p2 * expit(-m2)
        m1, m2 = m1 + eta * 2.0 * (u1 - alpha * u2), m2 + eta * 2.0 * (u2 - alpha * u1)
        first[(first < 0) & (m1 >= 0) & (m2 > 0)] = step
    return first


def _jax_first_hits(lanes: np.ndarray, n_steps: int, name: str = "jax", gpu: bool = False):
    reason = _missing("jax")
    if reason:
        return Implementation(name, lambda: None, skipped=reason)
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    if gpu and jax.default_backend() not in ("gpu", "cuda"):
        return Implementation(name, lambda: None, skipped=f"jax has no GPU backend here ({jax.default_backend()})")

    def member(p1, alpha, eta):
        def step(carry, t):
            m1, m2, first = carry
            u1, u2 = p1 * jax.nn.sigmoid(-m1), (1.0 - p1) * jax.nn.sigmoid(-m2)
            m1, m2 = m1 + eta * 2.0 * (u1 - alpha * u2), m2 + eta * 2.0 * (u2 - alpha * u1)
            return (m1, m2, jnp.where((first < 0) & (m1 >= 0) & (m2 > 0), t, first)), None

        zero = jnp.zeros((), dtype=jnp.float64)
        carry, _ = jax.lax.scan(step, (zero, zero, jnp.asarray(-1, dtype=jnp.int64)), jnp.arange(1, n_steps + 1))
        return carry[2]

    run = jax.jit(jax.vmap(member))
    columns = [jnp.asarray(np.ascontiguousarray(c)) for c in lanes.T]
    return Implementation(name, lambda: np.asarray(run(*columns).block_until_ready()))


def _torch_first_hits(lanes: np.ndarray, n_steps: int, name: str = "torch", device: str = "cpu"):
    reason = _missing("torch")
    if reason:
        return Implementation(name, lambda: None, skipped=reason)
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        return Implementation(name, lambda: None, skipped="torch has no CUDA device here")
    p1, alpha, eta = (torch.as_tensor(np.ascontiguousarray(c), dtype=torch.float64, device=device) for c in lanes.T)

    def run():
        with torch.no_grad():
            m1, m2 = torch.zeros_like(p1), torch.zeros_like(p1)
            first = torch.full(p1.shape, -1, dtype=torch.int64, device=device)
            for step in range(1, n_steps + 1):
                u1, u2 = p1 * torch.sigmoid(-m1), (1.0 - p1) * torch.sigmoid(-m2)
                m1, m2 = m1 + eta * 2.0 * (u1 - alpha * u2), m2 + eta * 2.0 * (u2 - alpha * u1)
                first = torch.where((first < 0) & (m1 >= 0) & (m2 > 0), step, first)
            return first.cpu().numpy()

    return Implementation(name, run)


def am_ensemble(quick: bool, ceilings: dict) -> list:
    from gradflow.derivations.two_particle.simulators import L01_ZERO, derivation, lane_map_simulator
    from gradflow.numerics.drivers.lanes import LaneSimulator

    lanes = _ensemble_lanes(quick)
    steps, repeats = (200, 3) if quick else (1000, 3)
    members = lanes.shape[0]
    # the generated lane kernel with the condition L01 = 0 checked in the kernel, no observables
    sim = LaneSimulator(derivation().opposite.lane_map, None, {"l01_zero": L01_ZERO})
    with_observables = lane_map_simulator()  # the two-particle simulator with loss and sharpness observables

    def record_all():  # every state recorded, loss and sharpness observed at each, hits read off the states
        states = with_observables.iterate(np.zeros((members, 2)), lanes, steps).states
        first = np.full(members, -1, dtype=np.int64)
        _first_hit_update(first, states, 0)
        return first

    impls = [
        Implementation("gradflow", lambda: gradflow_first_hits(sim, lanes, steps), False),
        Implementation("gradflow-record-all", record_all, False),
        Implementation("numpy", lambda: numpy_first_hits(lanes, steps)),
        _jax_first_hits(lanes, steps),
        _torch_first_hits(lanes, steps),
    ]
    notes = {
        "members": members, "steps": steps, "grid": "p1 x alpha x eta on the am-phase ranges",
        "compared": "first step in 0..steps with L01 = 0 per member (-1: never); agree = identical arrays",
        "recording": ("gradflow: LaneSimulator(conditions={'l01_zero': L01_ZERO}).iterate records only the final "
                      "state; the first step with L01 = 0 is checked inside the kernel at every step (lanes in "
                      "blocks of 256 with the lane loop inside, one vectorised exp per sigmoid, "
                      "numerics/codegen/lane_module.py); gradflow-record-all records instead "
                      "(lane_map_simulator().iterate recording every step plus its loss and sharpness observables, "
                      "hits read off the states)"),
        "fraction_of_ceiling": ("2 exp per member-step (one per sigmoid) against the NumPy exp throughput; above 1 "
                                "when the kernel's fused, vectorised exp beats np.exp over a large array"),
    }
    cell = run_cell("am-ensemble", impls, repeats, 0.0, 2.0 * members * steps, ceilings["exp_gelems_per_s"] * 1e9,
                    notes, ceiling="exp")
    gradflow_first = gradflow_first_hits(sim, lanes, steps)
    cell.notes["strategy"] = sim.iterate(np.zeros((members, 2)), lanes, steps, [steps]).strategy.to_dict()
    cell.notes["never"] = int(np.sum(gradflow_first < 0))
    cell.notes["target_ge_3x_numpy"] = cell.ratios.get("numpy", 0.0) >= 3.0
    return [cell]


# --- relu-gd: relu-exp-a, 6e5 GD steps, float64 and float32 ----------------------------------

RELU_PEER_STEPS = {True: 5_000, False: 20_000}  # steps the slow peers are timed on (quick, full)


def _torch_relu(X, Y, W0, H0, lr, dtype, n_steps):
    """The authors' code path: leaf tensors with requires_grad, loss.backward(), SGD update under no_grad."""
    import torch

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    Xt, Yt = torch.as_tensor(X, dtype=tdtype), torch.as_tensor(Y, dtype=tdtype)

    def run():
        W = torch.tensor(W0, dtype=tdtype, requires_grad=True)
        H = torch.tensor(H0, dtype=tdtype, requires_grad=True)
        for _ in range(n_steps):
            loss = ((torch.relu(Xt @ W.T) @ H - Yt) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                W -= lr * W.grad
                H -= lr * H.grad
                W.grad.zero_()
                H.grad.zero_()
        with torch.no_grad():
            return np.array([float(((torch.relu(Xt @ W.T) @ H - Yt) ** 2).mean())])

    return run


def relu_gd(quick: bool, ceilings: dict) -> list:
    from gradflow.derivations.shallow_relu.datasets import DATASETS, SEED, WIDTH
    from gradflow.derivations.shallow_relu.oracles import shallow_gd_numpy
    from gradflow.derivations.shallow_relu.simulators import simulator
    from gradflow.numerics.drivers.shallow_network import initial_parameters
    from gradflow.theory.activations import RELU

    data = DATASETS["relu-exp-a"]
    sim = simulator()
    steps = 20_000 if quick else data.iterations
    peer_steps = min(steps, RELU_PEER_STEPS[quick])
    scale = steps / peer_steps
    a_plus, a_minus = float(RELU.a_plus), float(RELU.a_minus)
    cells = []
    for dtype, tolerance in ((np.float64, 1e-10), (np.float32, 1e-3)):
        W0, H0 = initial_parameters(WIDTH, data.X.shape[1], data.Y.shape[1], data.sigma, seed=SEED, dtype=dtype)
        X, Y = data.X.astype(dtype), data.Y.astype(dtype)

        def gradflow(n, dtype=dtype, W0=W0, H0=H0):
            run = sim.gd(data.X, data.Y, W0, H0, data.lr, n, loss_every=1, snapshots=1, dtype=dtype)
            return np.array([run.loss[-1]])

        def numpy(W0=W0, H0=H0, X=X, Y=Y):
            return np.array([shallow_gd_numpy(W0, H0, X, Y, a_plus, a_minus, data.lr, peer_steps)[2][-1]])

        reference = "gradflow" if scale == 1 else f"gradflow@{peer_steps}"
        impls = [Implementation("gradflow", lambda n=steps, g=gradflow: g(n), False)]
        if scale != 1:
            impls.append(Implementation(reference, lambda g=gradflow: g(peer_steps), False, scale=scale, agree_with=None))
        impls.append(Implementation("numpy", numpy, scale=scale, agree_with=reference))
        reason = _missing("torch")
        impls.append(Implementation("torch", _torch_relu(X, Y, W0, H0, data.lr, dtype, peer_steps) if not reason else None,
                                    skipped=reason, scale=scale, agree_with=reference))
        notes = {"steps": steps, "width": WIDTH, "points": int(data.X.shape[0]), "lr": data.lr, "seed": SEED,
                 "dtype": np.dtype(dtype).name, "compared": "final loss (relative difference)",
                 "recorded": "the loss at every step in every implementation",
                 "fraction_of_ceiling": "none: 5 points x width 50 is latency-bound, no BLAS or exp ceiling applies"}
        if scale != 1:
            notes["scaled"] = (f"numpy and torch are timed on {peer_steps} steps and their medians multiplied by {scale:g} "
                               f"(the cost per GD step is constant); they are compared with gradflow run for the same "
                               f"{peer_steps} steps ({reference}); {reference} is scaled the same way: its ratio is about 1 "
                               "when gradflow's cost per step does not depend on the run length (gradflow specialises "
                               "the kernel to the sizes for long runs, numerics.drivers.shallow_network.SPECIALISE_STEPS, so it can "
                               "be > 1)")
        cell = run_cell(f"relu-gd[{np.dtype(dtype).name}]", impls, 2 if quick else 3, tolerance, notes=notes)
        cell.notes["final_loss"] = float(gradflow(steps)[0]) if not quick else None
        cell.notes["target_ge_20x_numpy"] = cell.ratios.get("numpy", 0.0) >= 20.0
        cells.append(cell)
    return cells


# --- gpu-ensemble: am-ensemble at 10^4 .. 10^7 members on a GPU ------------------------------


def gpu_ensemble(quick: bool, ceilings: dict) -> list:
    from gradflow.numerics.drivers.cuda import cuda_available, device_name, ensemble_first_hits, simulator_enabled

    if not cuda_available() or simulator_enabled():
        reason = ("numba's CUDA simulator is enabled (not a GPU)" if simulator_enabled()
                  else "no CUDA GPU in this session (numerics.drivers.cuda.cuda_available() is False)")
        return [skipped_cell("gpu-ensemble", reason)]
    from gradflow.derivations.two_particle.simulators import L01_ZERO, derivation

    system = derivation().opposite.lane_map
    steps = 1000
    sizes = (10**4, 10**5) if quick else (10**4, 10**5, 10**6, 10**7)
    device = device_name()
    cells = []
    for members in sizes:
        rng = np.random.default_rng(0)
        lanes = np.c_[rng.uniform(0.5, 0.9, members), rng.uniform(0.5, 1.0, members),
                      10.0 ** rng.uniform(-1.0, 1.0, members)]
        impls = [Implementation("gradflow", lambda lanes=lanes: ensemble_first_hits(system, L01_ZERO, lanes, steps)[0],
                                False),
                 _jax_first_hits(lanes, steps, "jax-gpu", gpu=True),
                 _torch_first_hits(lanes, steps, "torch-gpu", device="cuda")]
        notes = {"device": device, "members": members, "steps": steps,
                 "compared": "first step with L01 = 0 per member (-1: never); disagreement = fraction of members "
                             "whose first step differs (GPU exp/division roundings may move a borderline hit)"}
        cell = run_cell(f"gpu-ensemble[members={members}]", impls, 3, 1e-4, notes=notes,
                        compare=lambda a, b: float(np.mean(np.asarray(a) != np.asarray(b))))
        if members == 10**6:
            cell.notes["target_ge_10x_jax"] = cell.ratios.get("jax-gpu", 0.0) >= 10.0
        cells.append(cell)
    return cells


# --- codegen: derive + generate + compile, cold and warm ----------------------------------


def codegen(quick: bool, ceilings: dict) -> list:
    from gradflow.bench.codegen_cell import codegen as cell

    return cell(quick, ceilings)


def mlp_train(quick: bool, ceilings: dict) -> list:
    from gradflow.bench.mlp_train import mlp_train as cell

    return cell(quick, ceilings)


def sweep(quick: bool, ceilings: dict) -> list:
    from gradflow.bench.sweep import sweep_cells

    return sweep_cells(quick, ceilings)


CELLS = {"am-particles": am_particles, "am-ensemble": am_ensemble, "am-flow": am_flow, "relu-gd": relu_gd,
         "codegen": codegen, "mlp-hessian": mlp_hessian, "mlp-train": mlp_train, "gpu-ensemble": gpu_ensemble,
         "sweep": sweep}
