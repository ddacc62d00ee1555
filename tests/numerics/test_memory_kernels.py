"""Generated associative-memory kernels against NumPy oracles and the properties the theory predicts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities
from gradflow.derivations.associative_memory.oracles import (logit_particles_numpy, margin_map_numpy,
                                                             weight_space_gd_numpy, weight_space_gradient_numpy,
                                                             weight_space_loss_numpy)
from gradflow.derivations.associative_memory.simulators import (logit_particle_simulator, margin_flow_simulator,
                                                                margin_map_simulator, weight_space_simulator)
from gradflow.numerics.closed_form import numeric_function
from gradflow.theory.models import associative_memory as am
from gradflow.theory.strategies import orthogonal_memory_settings

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset


@pytest.fixture(scope="module")
def sims():
    return {"map": margin_map_simulator(), "flow": margin_flow_simulator(), "logit": logit_particle_simulator(),
            "weights": weight_space_simulator()}


def random_instance(N, M, d, seed, W0="random", orthogonal=False):
    rng = np.random.default_rng(seed)
    p = rng.random(N) + 0.05
    p /= p.sum()
    return memory_instance(N, M, d, p, seed, orthogonal=orthogonal, W0=W0, labels=rng.integers(0, M, N))


sizes = st.tuples(st.integers(2, 7), st.integers(2, 6), st.integers(2, 7), st.integers(0, 10_000))


@settings(max_examples=12)
@given(sizes=sizes, eta=st.floats(0.05, 5.0))
def test_logit_particles_equal_weight_space_gd(sims, sizes, eta):
    N, M, d, seed = sizes
    inst = random_instance(N, M, d, seed)
    steps = 200
    S = sims["logit"].gd(inst.initial_logits, inst.data, inst.labels, eta, steps, [steps]).final_state
    W = sims["weights"].gd(inst.W0, inst.data, inst.labels, eta, steps, [steps]).final_state
    W_ref = weight_space_gd_numpy(inst.W0, inst.E, inst.U, inst.p, inst.labels, eta, steps)
    np.testing.assert_allclose(W, W_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(S, inst.E @ W.T @ inst.U.T, rtol=1e-10, atol=1e-10)


@settings(max_examples=6)
@given(sizes=sizes)
def test_logit_flow_equals_weight_space_flow(sims, sizes):
    N, M, d, seed = sizes
    inst = random_instance(N, M, d, seed)
    times = np.array([0.0, 0.3, 1.0])
    a = sims["logit"].flow(inst.initial_logits, inst.data, inst.labels, times, step=1e-3)
    b = sims["weights"].flow(inst.W0, inst.data, inst.labels, times, step=1e-3)
    np.testing.assert_allclose(a.final_state, inst.E @ b.final_state.T @ inst.U.T, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-10)


@settings(max_examples=10)
@given(sizes=sizes, eta=st.floats(0.05, 2.0))  # larger steps can be chaotic (loss spikes): rounding then grows
def test_logit_kernel_matches_numpy_loop(sims, sizes, eta):
    N, M, d, seed = sizes
    inst = random_instance(N, M, d, seed)
    record = np.array([0, 1, 7, 100])
    run = sims["logit"].gd(inst.initial_logits, inst.data, inst.labels, eta, 100, record)
    loss, l01, margins, norm, S = logit_particles_numpy(inst.initial_logits, inst.data["K"], inst.data["Gamma"], inst.p,
                                                  inst.labels, eta, 100, record)
    np.testing.assert_allclose(run.loss, loss, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(run.l01, l01, atol=1e-15)
    np.testing.assert_allclose(run.margins, margins, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(run.norm, norm, rtol=1e-10)
    np.testing.assert_allclose(run.final_state, S, rtol=1e-10, atol=1e-11)


@settings(max_examples=10)
@given(sizes=sizes, eta=st.floats(0.05, 2.0), blocks=st.integers(1, 3), batch=st.sampled_from([0, 3]))
def test_row_blocks_kernel_matches_numpy_loop_and_run_gd(sims, sizes, eta, blocks, batch):
    """run_gd_rows (the step's rows split between threads, each block multiplied on one BLAS thread)
    against the NumPy loop (GD) and against run_gd with the same seed (SGD)."""
    from gradflow.numerics.blas import one_blas_thread

    N, M, d, seed = sizes
    inst = random_instance(N, M, d, seed)
    blocks = min(blocks, N)
    sim = sims["logit"]
    X, arrays, labels = sim._arrays(inst.initial_logits, inst.data, inst.labels)
    record = np.array([0, 1, 7, 100])

    def run(kernel, *extra):
        out = sim._allocate(record.size, N)
        with one_blas_thread():
            final = kernel(X, *arrays, labels, eta, 100, record, batch, 11, *out, *extra)
        assert out[4][0] == -1
        return out, final

    (loss, l01, margins, norm, _), S = run(sim.module.run_gd_rows, blocks)
    if batch:
        (loss_ref, l01_ref, margins_ref, norm_ref, _), S_ref = run(sim.module.run_gd)
    else:
        loss_ref, l01_ref, margins_ref, norm_ref, S_ref = logit_particles_numpy(
            inst.initial_logits, inst.data["K"], inst.data["Gamma"], inst.p, inst.labels, eta, 100, record)
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(l01, l01_ref, atol=1e-15)
    np.testing.assert_allclose(margins, margins_ref, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(norm, norm_ref, rtol=1e-10)
    np.testing.assert_allclose(S, S_ref, rtol=1e-10, atol=1e-11)


def test_row_blocks_stop_where_the_state_diverges(sims, monkeypatch):
    """A run split by rows stops with the step at which any block became non-finite, as run_gd does."""
    import numba

    from gradflow.numerics import blas
    from gradflow.numerics.drivers import strategy
    from gradflow.numerics.errors import DivergenceError

    inst = random_instance(6, 4, 6, 2)
    K = inst.data["K"].copy()
    K[-1] *= 1e20  # finite data whose step overflows in the last row only: the last block's
    data = dict(inst.data, K=K)
    sim = sims["logit"]
    X, arrays, labels = sim._arrays(inst.initial_logits, data, inst.labels)
    stops = []
    for kernel, extra in ((sim.module.run_gd, ()), (sim.module.run_gd_rows, (2,)), (sim.module.run_gd_rows, (3,))):
        out = sim._allocate(1, 6)
        kernel(X, *arrays, labels, 1e290, 50, np.array([50]), 0, 0, *out, *extra)
        stops.append(int(out[4][0]))
    assert stops[0] > 0 and stops == [stops[0]] * 3
    if blas.blas_threads() is None or numba.get_num_threads() < 2:
        pytest.skip("the driver splits rows with SciPy's OpenBLAS and two Numba threads or more")
    monkeypatch.setattr(strategy, "ROW_SPLIT_WORK", 0.0)  # every product worth splitting
    monkeypatch.setattr(strategy, "_load", lambda: 1.0)  # on a quiet machine
    seen = []
    kernel = sim.module.run_gd_rows
    monkeypatch.setattr(sim.module, "run_gd_rows", lambda *args: seen.append(args[-1]) or kernel(*args))
    with pytest.raises(DivergenceError, match=f"step {stops[0]}"):
        sim.gd(inst.initial_logits, data, inst.labels, 1e290, 50)
    assert len(seen) == 1 and seen[0] >= 2  # the split run, on its threads


@pytest.mark.parametrize("eta", [0.5, 5.0, 50.0])
@settings(max_examples=5)
@given(N=st.integers(1, 6), M=st.integers(2, 6), seed=st.integers(0, 1000), zipf=st.floats(0, 2))
def test_orthogonal_weight_space_gd_equals_margin_map(sims, eta, N, M, seed, zipf):
    p = zipf_probabilities(N, zipf)
    inst = memory_instance(N, M, max(N, M) + 1, p, seed, orthogonal=True)
    steps = 200
    W = sims["weights"].gd(inst.W0, inst.data, inst.labels, eta, steps, [steps]).final_state
    S = inst.E @ W.T @ inst.U.T
    wrong = np.where(np.eye(M)[inst.labels] > 0, -np.inf, S)
    margins = S[np.arange(N), inst.labels] - wrong.max(axis=1)
    theory = sims["map"].iterate(np.zeros((N, 1)), np.c_[p, np.full(N, M), np.full(N, eta)], steps, [steps])
    np.testing.assert_allclose(margins, theory.states[0, :, 0], rtol=1e-10, atol=1e-10)


@settings(max_examples=15)
@given(p=st.floats(1e-3, 1.0), M=st.integers(2, 50), eta=st.floats(1e-3, 1e2))
def test_margin_map_kernel_and_bounds(sims, p, M, eta):
    T = 3000
    record = np.unique(np.geomspace(1, T, 40).astype(int))
    m = sims["map"].iterate([[0.0]], [[p, M, eta]], T, record).states[:, 0, 0]
    np.testing.assert_allclose(m, margin_map_numpy([p], M, eta, T, record)[:, 0], rtol=1e-12)
    t = record.astype(float)
    assert np.all(m >= np.log1p(eta * p * t) - 1e-12 * np.maximum(1, m))
    assert np.all(np.diff(m) >= 0)  # strictly up in exact arithmetic; increments can fall below one ulp
    loss = np.log1p((M - 1) * np.exp(-m))
    assert np.all(loss <= (M - 1) / (1 + eta * p * t) * (1 + 1e-12))


@settings(max_examples=10)
@given(p=st.floats(1e-3, 1.0), M=st.integers(2, 50))
def test_flow_bounds_and_lambert_vs_rk4(sims, p, M):
    times = np.array([0.0, 0.5, 2.0, 10.0, 50.0])
    rk = sims["flow"].integrate([[0.0]], [[p, M]], times, "rk4", step=1e-2).states[:, 0, 0]
    closed = numeric_function(am.derive().solution.explicit, (am.t, am.p, am.M))(times, p, float(M))
    np.testing.assert_allclose(rk, closed, rtol=1e-7, atol=1e-9)
    assert np.all(rk[1:] >= np.log1p(p * times[1:]) - 1e-9)
    assert np.all(rk[1:] <= np.log1p(M * p * times[1:]) + 1e-9)


@settings(max_examples=8)
@given(p=st.floats(1e-2, 1.0), M=st.integers(2, 50))
def test_logtime_flow_reaches_1e12(sims, p, M):
    times = np.array([0.0, 1.0, 1e4, 1e8, 1e12])
    traj = sims["flow"].integrate([[0.0]], [[p, M]], times, "logtime", rtol=1e-12, atol=1e-14)
    closed = numeric_function(am.derive().solution.explicit, (am.t, am.p, am.M))(times, p, float(M))
    np.testing.assert_allclose(traj.states[:, 0, 0], closed, rtol=1e-9, atol=1e-10)
    assert traj.work[0] < 5000


@pytest.mark.parametrize("eta", [0.5, 5.0])
@settings(max_examples=5)
@given(N=st.integers(2, 6), M=st.integers(2, 6), zipf=st.floats(0.0, 1.0))
def test_eta_t_loss_law_within_two_percent(sims, eta, N, M, zipf):
    p = zipf_probabilities(N, zipf)
    T = 20_000
    traj = sims["map"].iterate(np.zeros((N, 1)), np.c_[p, np.full(N, M), np.full(N, eta)], T, [T])
    loss = traj.observables["loss"][0] @ p
    assert eta * T * loss == pytest.approx(N * (M - 1) / M, rel=0.02)


@settings(max_examples=6)
@given(N=st.integers(2, 6), M=st.integers(2, 6), seed=st.integers(0, 1000), eta=st.floats(0.1, 20))
def test_sum_of_logits_conserved_when_U_orthonormal(sims, N, M, seed, eta):
    rng = np.random.default_rng(seed)
    inst = memory_instance(N, M, max(N, M) + 2, zipf_probabilities(N, 1.0), seed, orthogonal=False, W0="random")
    q, _ = np.linalg.qr(rng.standard_normal((inst.U.shape[1], M)))
    data = dict(inst.data, Gamma=q.T @ q)  # = I up to rounding
    S = sims["logit"].gd(inst.initial_logits, data, inst.labels, eta, 1000, [1000]).final_state
    np.testing.assert_allclose(S.sum(axis=1), inst.initial_logits.sum(axis=1), atol=1e-12 * max(1, eta))


@settings(max_examples=8)
@given(sizes=sizes)
def test_gradient_and_hessian_against_finite_differences(sims, sizes):
    N, M, d, seed = sizes
    inst = random_instance(N, M, d, seed)
    rng = np.random.default_rng(seed + 1)
    W, V = inst.W0, rng.standard_normal(inst.W0.shape)
    data = [inst.data[s.name] for s in sims["weights"].system.data]
    grad = -sims["weights"].module.velocity(W, *data)
    np.testing.assert_allclose(grad, weight_space_gradient_numpy(W, inst.E, inst.U, inst.p, inst.labels), atol=1e-13)
    h = 1e-5
    fd = (weight_space_loss_numpy(W + h * V, inst.E, inst.U, inst.p, inst.labels)
          - weight_space_loss_numpy(W - h * V, inst.E, inst.U, inst.p, inst.labels)) / (2 * h)
    assert np.sum(grad * V) == pytest.approx(fd, rel=1e-6, abs=1e-9)
    hvp = sims["weights"].hessian_vector_product(W, V, inst.data)
    fd_h = (weight_space_gradient_numpy(W + h * V, inst.E, inst.U, inst.p, inst.labels)
            - weight_space_gradient_numpy(W - h * V, inst.E, inst.U, inst.p, inst.labels)) / (2 * h)
    np.testing.assert_allclose(hvp, fd_h, atol=1e-8)
    # the Hessian is PSD: <V, H V> >= 0
    assert np.sum(V * hvp) >= -1e-12


def test_sgd_is_seeded_and_unbiased(sims):
    inst = random_instance(5, 4, 5, 3)
    a = sims["logit"].gd(inst.initial_logits, inst.data, inst.labels, 0.5, 50, None, batch=3, seed=9)
    b = sims["logit"].gd(inst.initial_logits, inst.data, inst.labels, 0.5, 50, None, batch=3, seed=9)
    c = sims["logit"].gd(inst.initial_logits, inst.data, inst.labels, 0.5, 50, None, batch=3, seed=10)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert not np.array_equal(a.loss, c.loss)
    # a very large batch is full-batch GD up to sampling noise O(1/sqrt(B))
    big = sims["logit"].gd(inst.initial_logits, inst.data, inst.labels, 0.5, 20, None, batch=200_000, seed=1)
    gd = sims["logit"].gd(inst.initial_logits, inst.data, inst.labels, 0.5, 20, None)
    np.testing.assert_allclose(big.loss, gd.loss, rtol=2e-2)


def test_chunked_runs_with_progress_equal_one_call(sims, monkeypatch):
    import gradflow.numerics.drivers.progress
    monkeypatch.setattr(gradflow.numerics.drivers.progress, "CHUNK_THRESHOLD", 10)
    inst = random_instance(4, 3, 4, 5)
    record = np.array([0, 3, 50, 77, 120])
    for batch in (0, 2):
        one = sims["logit"].gd(inst.initial_logits, inst.data, inst.labels, 0.8, 120, record, batch, 4)
        chunked = sims["logit"].gd(inst.initial_logits, inst.data, inst.labels, 0.8, 120, record, batch, 4, progress=True)
        np.testing.assert_array_equal(one.margins, chunked.margins)
        np.testing.assert_array_equal(one.final_state, chunked.final_state)
    q = np.array([[0.3, 4.0, 2.0], [0.7, 3.0, 0.1]])
    a = sims["map"].iterate(np.zeros((2, 1)), q, 500, record)
    b = sims["map"].iterate(np.zeros((2, 1)), q, 500, record, progress=True)
    np.testing.assert_array_equal(a.states, b.states)


def test_cached_kernels_load_in_a_new_process(tmp_path):
    """A warm start reads Numba's cache of the generated modules (a parallel helper called from
    cached code once made this segfault)."""
    import os
    import subprocess
    import sys

    snippet = (
        "import numpy as np\n"
        "from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities\n"
        "from gradflow.derivations.associative_memory.simulators import logit_particle_simulator, margin_map_simulator\n"
        "sim = logit_particle_simulator()\n"
        "inst = memory_instance(4, 3, 4, zipf_probabilities(4, 1.0), 0, orthogonal=False)\n"
        "run = sim.gd(inst.initial_logits, inst.data, inst.labels, 0.5, 5, None, 2, 1)\n"
        "import gradflow.numerics.drivers.strategy as strategy\n"
        "strategy.ROW_SPLIT_WORK, strategy._load = 0.0, lambda: 1.0\n"  # the rows split (parallel, cached)
        "rows = sim.gd(inst.initial_logits, inst.data, inst.labels, 0.5, 5)\n"
        "lanes = margin_map_simulator().iterate(np.zeros((2, 1)), [[0.5, 3, 1], [0.2, 3, 2]], 10)\n"
        "import numba\n"
        "split = rows.strategy.row_blocks or (None if rows.strategy.threads == 0 or numba.get_num_threads() < 2 else False)\n"
        "print(sim.cache_hit, repr(run.loss[-1]), repr(lanes.states[-1, 1, 0]), repr(rows.loss[-1]), split)\n"
    )
    # outside the repository, without it on the path: the generated modules import gradflow.* only
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["GRADFLOW_CACHE_DIR"] = str(tmp_path / "cache")
    outputs = [subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True, text=True, cwd=tmp_path)
               for _ in range(2)]
    assert [o.returncode for o in outputs] == [0, 0], outputs[-1].stderr[-2000:]
    cold, warm = (o.stdout.split() for o in outputs)
    assert cold[0] == "False" and warm[0] == "True" and cold[1:] == warm[1:]
    assert cold[-1] in ("True", "None")  # the row split ran (None: not SciPy's OpenBLAS, or one thread)


# the public strategies, used the way a user property-tests a claim about the model


@settings(max_examples=15)
@given(orthogonal_memory_settings(n_max=6, m_max=20, eta_low=1e-2, eta_high=50.0))
def test_margin_map_kernel_and_gd_lower_bound_for_any_orthogonal_memory(settings_):
    N, M, p, eta = settings_["N"], settings_["M"], settings_["p"], settings_["eta"]
    steps = 300
    record = np.arange(steps + 1)
    run = margin_map_simulator().iterate(np.zeros((N, 1)), {"p": p, "M": M, "eta": eta}, steps, record)
    m = run.states[:, :, 0]
    np.testing.assert_allclose(m, margin_map_numpy(p, M, eta, steps, record), rtol=1e-12, atol=1e-14)
    # the derived bound m_t >= log(1 + eta p t) of GD from m_0 = 0, at every step
    t = record[1:, None].astype(float)
    assert np.all(m[1:] >= np.log1p(eta * p * t) * (1 - 1e-12))
