"""CUDA per-particle kernels for one large matrix system (numerics/drivers/cuda.py CudaParticleSimulator,
numerics/codegen/matrix_cuda_module.py, numerics/codegen/matrix_cuda_kernels.py).

No GPU is needed: as in test_cuda_lanes.py, the device work runs once, in one subprocess with
NUMBA_ENABLE_CUDASIM=1 set before numba is imported, on tiny systems; it saves the CUDA results (and the
CPU ParticleSimulator's, the reference) and the tests below compare them here: parity in float64 to
1e-12, each kernel against a NumPy oracle computed in this process.  GRADFLOW_CUDA_TESTS=gpu runs the
same script on a GPU.  The no-GPU error and the lowering for the CUDA target run in plain subprocesses.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from gradflow.numerics.codegen.matrix_cuda_module import matrix_cuda_module, render
from gradflow.theory.errors import ParameterError
from gradflow.theory.matrix_functions import RowSoftmaxJVP

from .cuda_script import REPO, run_cuda_script

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset

RTOL = 1e-12

_DEVICE = r'''
import json, sys, warnings
# The simulator starts a Python thread per CUDA thread and polls them for barriers: hand the GIL over
# sooner (about 4x faster).  The sizes below keep the thread count (the cost) small.
sys.setswitchinterval(1e-4)
warnings.simplefilter("ignore")  # overflow warnings of the simulator's NumPy scalars in the divergent run
import numpy as np

import gradflow.numerics.drivers.progress
from gradflow.derivations.associative_memory import simulators as am
from gradflow.derivations.associative_memory.instances import memory_instance
from gradflow.numerics.codegen import matrix_cuda_kernels as k
from gradflow.numerics.drivers.cuda import CudaParticleSimulator, simulator_enabled
from gradflow.numerics.errors import DivergenceError
from gradflow.theory.errors import ParameterError

out, meta = {}, {"simulator": simulator_enabled(), "tile": k.TILE}
if meta["simulator"]:  # the kernels module installed the locked shared-array allocation
    from numba.cuda.simulator.kernelapi import FakeCUDAShared
    from gradflow.numerics.codegen.cuda_simulator_shared import _locked_shared_array
    meta["shared_locked"] = FakeCUDAShared.array is _locked_shared_array
rng = np.random.default_rng(7)
N, M, d = 6, 5, 4
p = rng.random(N) + 0.1
p /= p.sum()
inst = memory_instance(N, M, d, p, 3, orthogonal=False, W0="random", labels=rng.integers(0, M, N))
logits, weights = am.logit_particle_simulator(), am.weight_space_simulator()
gpu_logits, gpu_weights = CudaParticleSimulator(logits.system), CudaParticleSimulator(weights.system)


def save(tag, traj):
    for name in ("t", "loss", "l01", "margins", "norm", "final_state"):
        out[f"{tag}_{name}"] = getattr(traj, name)


# logit particles, recorded at some steps; W-space GD cut into one-step chunks (progress), every step recorded
args = (inst.initial_logits, inst.data, inst.labels, 0.7, 4, [0, 2, 4])
save("logits_cpu", logits.gd(*args))
save("logits_gpu", gpu_logits.gd(*args))
args = (inst.W0, inst.data, inst.labels, 2.0, 3)
save("weights_cpu", weights.gd(*args))
gradflow.numerics.drivers.progress.CHUNK_THRESHOLD = 0
save("weights_gpu", gpu_weights.gd(*args, progress=True))
save("zero_cpu", logits.gd(inst.initial_logits, inst.data, inst.labels, 0.7, 0))
save("zero_gpu", gpu_logits.gd(inst.initial_logits, inst.data, inst.labels, 0.7, 0))

# divergence: with K = -2 I GD climbs the loss and the logits grow linearly until they overflow (step 3);
# on the device in one-step chunks, so the reported step includes the chunk's offset
meta["divergence"] = {}
for label, sim in (("cpu", logits), ("gpu", gpu_logits)):
    try:
        sim.gd(inst.initial_logits, dict(inst.data, K=-2.0 * np.eye(N)), inst.labels, 1e308, 10, [10], progress=True)
        meta["divergence"][label] = None
    except DivergenceError as exc:
        meta["divergence"][label] = [exc.step, exc.quantity, str(exc)]
gradflow.numerics.drivers.progress.CHUNK_THRESHOLD = 200_000
# in one chunk, a diverged run stops at the next read of the flag: count the GD steps launched
launched, gd_step = [], gpu_logits.module.gd_step
gpu_logits.module.gd_step = lambda *a: (launched.append(a[3]), gd_step(*a))
gpu_logits.divergence_check_every = 2
try:
    gpu_logits.gd(inst.initial_logits, dict(inst.data, K=-2.0 * np.eye(N)), inst.labels, 1e308, 50, [50])
except DivergenceError as exc:
    meta["early_stop"] = [exc.step, launched]
gpu_logits.module.gd_step, gpu_logits.divergence_check_every = gd_step, 1000

# bad input: the messages
meta["errors"] = {}
for label, call in {
    "sgd": lambda: gpu_logits.gd(inst.initial_logits, inst.data, inst.labels, 0.7, 3, batch=2),
    "eta": lambda: gpu_logits.gd(inst.initial_logits, inst.data, inst.labels, -1.0, 3),
    "label": lambda: gpu_logits.gd(inst.initial_logits, inst.data, np.full(N, M), 0.7, 3),
    "shape": lambda: gpu_logits.gd(inst.initial_logits, dict(inst.data, Gamma=np.eye(M + 1)), inst.labels, 0.7, 3),
}.items():
    try:
        call()
        meta["errors"][label] = None
    except ParameterError as exc:
        meta["errors"][label] = str(exc)

# the CLI entry: gradflow simulate am-random --backend cuda (method gd) against --backend cpu
from gradflow.derivations.associative_memory import RandomMemory
entry = RandomMemory()
settings = entry.settings()
settings.update(N=4, M=4, d=4)
for backend in ("cpu", "cuda"):
    result = entry.simulate(settings, "gd", 2, backend=backend)
    for name in ("t", "loss", "l01", "margins", "norm"):
        out[f"cli_{backend}_{name}"] = np.asarray(result[name])

# every kernel on its own, on inputs saved for the NumPy oracles of the tests
from numba import cuda

inputs = {"A": rng.standard_normal((5, 7)), "B": rng.standard_normal((7, 3)), "Bt": rng.standard_normal((3, 7)),
          "At": rng.standard_normal((7, 5)), "C": rng.standard_normal((5, 7)), "w": rng.random((5, 1)),
          "v": rng.standard_normal((9, 1)), "big": 30.0 * rng.standard_normal((5, 7)),
          "ties": np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [0.0, 5.0, 1.0], [4.0, 4.0, 4.0]]),
          "tie_labels": np.array([2, 0, 0, 1])}
out.update({f"in_{name}": value for name, value in inputs.items()})
dev = {name: cuda.to_device(value) for name, value in inputs.items()}


def run(tag, shape, launch):
    target = cuda.to_device(np.full(shape, np.nan))
    launch(target)
    out[f"k_{tag}"] = target.copy_to_host()


run("AB", (5, 3), lambda C: k.matmul(dev["A"], False, dev["B"], False, 1.0, C))
run("AtB", (5, 3), lambda C: k.matmul(dev["At"], True, dev["B"], False, -2.5, C))
run("ABt", (5, 3), lambda C: k.matmul(dev["A"], False, dev["Bt"], True, 1.0, C))
run("AtBt", (5, 3), lambda C: k.matmul(dev["At"], True, dev["Bt"], True, 1.0, C))
run("BtAt", (3, 5), lambda C: k.matmul(dev["Bt"], False, dev["At"], False, 1.0, C))
run("vv", (1, 1), lambda C: k.matmul(dev["v"], True, dev["v"], False, 1.0, C))
run("vvt", (9, 9), lambda C: k.matmul(dev["v"], False, dev["v"], True, 1.0, C))
try:
    k.matmul(dev["A"], False, dev["A"], False, 1.0, cuda.device_array((5, 7)))
    meta["matmul_shape_error"] = None
except ValueError as exc:
    meta["matmul_shape_error"] = str(exc)
run("lincomb", (5, 7), lambda C: k.linear_combination(-1.5, dev["A"], 2.0, dev["C"], C))
in_place = cuda.to_device(inputs["A"])
k.linear_combination(1.0, in_place, 3.0, dev["C"], in_place)
out["k_lincomb_in_place"] = in_place.copy_to_host()
run("scaled", (5, 7), lambda C: k.scaled(-0.5, dev["A"], C))
run("hadamard", (5, 7), lambda C: k.hadamard(dev["A"], dev["C"], C))
run("softmax", (5, 7), lambda C: k.row_softmax(dev["big"], C))
run("wsm", (5, 7), lambda C: k.weighted_softmax_minus(dev["big"], dev["C"], dev["w"], -2.0, C))
run("lse", (5, 1), lambda C: k.row_logsumexp(dev["big"], C))
run("rowsums", (5, 1), lambda C: k.row_sums(dev["A"], -3.0, C))
run("norm", (1, 1), lambda C: k.frobenius_norm(dev["A"], C))  # 35 elements: more than one per thread
margins = cuda.to_device(np.full((2, 4), np.nan))
wrong = cuda.to_device(np.full((4, 1), np.nan))
k.margins_and_errors(dev["ties"], dev["tie_labels"], 1, margins, wrong)
out["k_margins"], out["k_wrong"] = margins.copy_to_host(), wrong.copy_to_host()
# GD steps in place: a non-finite entry in step 2 is reported as step 2, and step 3 keeps it
X, status = cuda.to_device(inputs["A"]), cuda.to_device(-np.ones(1, dtype=np.int64))
k.gd_step(X, 0.25, dev["C"], 1, status)
out["k_step_status_1"] = status.copy_to_host()
out["k_step"] = X.copy_to_host()
bad = inputs["C"].copy()
bad[3, 4] = np.inf
k.gd_step(X, 0.25, cuda.to_device(bad), 2, status)
k.gd_step(X, 0.25, cuda.to_device(bad), 3, status)
out["k_step_status_2"] = status.copy_to_host()

np.savez(sys.argv[1], **out)
print(json.dumps(meta))
'''


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    """CUDA and CPU results from one run of _DEVICE under the simulator (or on a GPU, see module doc)."""
    return run_cuda_script(_DEVICE, tmp_path_factory.mktemp("cuda_particles") / "device.npz")


def _close(actual, desired):
    """Relative to the array's scale: margins and S entries near zero are compared at 1e-12 of the largest."""
    desired = np.asarray(desired)
    np.testing.assert_allclose(actual, desired, rtol=RTOL, atol=RTOL * max(1.0, float(np.max(np.abs(desired)))))


def test_runs_where_intended(device):
    _, meta = device
    assert meta["simulator"] == (os.environ.get("GRADFLOW_CUDA_TESTS") != "gpu")
    if meta["simulator"]:
        assert meta["tile"] == 4  # the tests' 5..9-sized matrices then span several tiles, with ragged edges
        assert meta["shared_locked"]


@pytest.mark.parametrize("tag", ["logits", "weights", "zero", "cli"])
def test_gd_matches_cpu(device, tag):
    d, _ = device
    cpu, gpu = ("cli_cpu", "cli_cuda") if tag == "cli" else (f"{tag}_cpu", f"{tag}_gpu")
    names = ("t", "loss", "l01", "margins", "norm") + (() if tag == "cli" else ("final_state",))
    for name in names:
        assert d[f"{gpu}_{name}"].shape == d[f"{cpu}_{name}"].shape, name
        assert np.all(np.isfinite(d[f"{cpu}_{name}"])), name
        _close(d[f"{gpu}_{name}"], d[f"{cpu}_{name}"])
    assert not np.allclose(d[f"{cpu}_margins"][-1], d[f"{cpu}_margins"][0]) or tag == "zero"  # the state moved


def test_recorded_steps(device):
    d, _ = device
    np.testing.assert_array_equal(d["logits_gpu_t"], [0, 2, 4])
    np.testing.assert_array_equal(d["weights_gpu_t"], np.arange(4))
    np.testing.assert_array_equal(d["zero_gpu_t"], [0])
    assert d["logits_gpu_margins"].shape == (3, 6) and d["weights_gpu_final_state"].shape == (4, 4)


def test_divergence_is_reported_like_cpu(device):
    _, meta = device
    cpu, gpu = meta["divergence"]["cpu"], meta["divergence"]["gpu"]
    assert cpu is not None and cpu[0] == 3  # diverges after a few steps, not at once
    assert gpu == cpu  # step (with the chunk offset), quantity and message
    assert gpu[1] == "S" and "eta = 1e+308" in gpu[2]
    assert meta["early_stop"] == [3, [1, 2, 3, 4]]  # of 50 steps, checked every 2


def test_bad_input_errors(device):
    _, meta = device
    errors = meta["errors"]
    assert errors["sgd"] == ("batch: must be 0 on the cuda backend (full-batch GD; SGD runs on the cpu backend) "
                             "(got 2)")
    assert errors["eta"].startswith("eta: must be a finite number > 0")
    assert errors["label"] == "labels: must be integers in [0, 5)"
    assert errors["shape"].startswith("Gamma: must be shape (5, 5) for (M, M)")


# --- the kernels against NumPy -------------------------------------------------------------


def _softmax(S):
    e = np.exp(S - S.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_matmul_kernel_against_numpy(device):
    """Non-square shapes, none a multiple of the tile, every transpose combination, a scale, a dot product."""
    d, meta = device
    A, B, At, Bt, v = (d[f"in_{n}"] for n in ("A", "B", "At", "Bt", "v"))
    _close(d["k_AB"], A @ B)
    _close(d["k_AtB"], -2.5 * At.T @ B)
    _close(d["k_ABt"], A @ Bt.T)
    _close(d["k_AtBt"], At.T @ Bt.T)
    _close(d["k_BtAt"], Bt @ At)
    _close(d["k_vv"], v.T @ v)
    _close(d["k_vvt"], v @ v.T)
    assert meta["matmul_shape_error"] == "matmul: shapes (5, 7) @ (5, 7) -> (5, 7)"


def test_elementwise_kernels_against_numpy(device):
    d, _ = device
    A, C = d["in_A"], d["in_C"]
    _close(d["k_lincomb"], -1.5 * A + 2.0 * C)
    _close(d["k_lincomb_in_place"], A + 3.0 * C)
    _close(d["k_scaled"], -0.5 * A)
    _close(d["k_hadamard"], A * C)
    _close(d["k_step"], A + 0.25 * C)
    np.testing.assert_array_equal(d["k_step_status_1"], [-1])
    np.testing.assert_array_equal(d["k_step_status_2"], [2])  # the first non-finite step, kept


def test_row_kernels_against_numpy(device):
    d, _ = device
    big, C, w, A = d["in_big"], d["in_C"], d["in_w"], d["in_A"]
    assert np.abs(big).max() > 50  # large logits: a plain exp would lose the small entries
    _close(d["k_softmax"], _softmax(big))
    _close(d["k_wsm"], -2.0 * w * (_softmax(big) - C))
    top = big.max(axis=1, keepdims=True)
    _close(d["k_lse"], top + np.log(np.exp(big - top).sum(axis=1, keepdims=True)))
    _close(d["k_rowsums"], -3.0 * A.sum(axis=1, keepdims=True))
    _close(d["k_norm"], [[np.linalg.norm(A)]])


def test_margins_and_errors_against_numpy(device):
    d, _ = device
    S, labels = d["in_ties"], d["in_tie_labels"]
    rows = np.arange(len(labels))
    others = np.where(np.eye(S.shape[1])[labels] > 0, -np.inf, S)
    np.testing.assert_array_equal(d["k_margins"][1], S[rows, labels] - others.max(axis=1))
    assert np.all(np.isnan(d["k_margins"][0]))  # only row r = 1 written
    # argmax ties go to the first maximal class: row 0 (classes 1 and 2 tie, label 2) and row 3 are wrong
    np.testing.assert_array_equal(d["k_wrong"][:, 0], (np.argmax(S, axis=1) != labels).astype(float))
    np.testing.assert_array_equal(d["k_wrong"][:, 0], [1.0, 0.0, 1.0, 1.0])


# --- without a GPU; for the CUDA target ----------------------------------------------------


_NO_GPU = r'''
from gradflow.derivations.associative_memory import simulators as am
from gradflow.numerics.drivers.cuda import CudaParticleSimulator, CudaUnavailableError, cuda_available
from gradflow.numerics.drivers.particles import reduced_system
from gradflow.theory.errors import ParameterError
from gradflow.theory.models import associative_memory as tam
if cuda_available():
    print("HAS-GPU")
else:
    r = am.derivation()
    try:
        CudaParticleSimulator(reduced_system(r.model, r.logit_flow, (tam.K, tam.Gram_out, tam.p_vec, tam.Y)))
    except CudaUnavailableError as exc:
        assert isinstance(exc, ParameterError)
        print(exc)
'''


def _plain_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return dict(env, **extra)


def test_no_gpu_error_is_clear():
    proc = subprocess.run([sys.executable, "-c", _NO_GPU], env=_plain_env(), cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    if "HAS-GPU" in proc.stdout:
        pytest.skip("this machine has a CUDA GPU")
    assert proc.stdout.strip() == (
        "backend: cuda needs an NVIDIA GPU with a CUDA driver (none found); install gradflow[cuda] on a GPU "
        "machine, or set NUMBA_ENABLE_CUDASIM=1 to run the simulator")


_LOWER = r'''
# Type and lower every kernel for the CUDA target up to LLVM IR, without a GPU: the simulator runs kernels
# as Python and cannot catch what the CUDA compiler rejects.  PTX needs libnvvm, which is not assumed.
import types
try:
    import numba.cuda.dispatcher as dispatcher
    from numba import types as nt
    from numba.cuda.compiler import compile_cuda
    dispatcher.get_current_device  # device functions ask the current device for its compute capability
except (ImportError, AttributeError) as exc:
    print(f"SKIP: numba.cuda internals differ ({exc})")
    raise SystemExit(0)
dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(8, 0))
from gradflow.numerics.codegen import matrix_cuda_kernels as k

f2, i1, i64, f64, b = nt.float64[:, :], nt.int64[:], nt.int64, nt.float64, nt.boolean
kernels = {
    "_matmul_kernel": (f2, b, f2, b, f64, f2),
    "_linear_combination_kernel": (f64, f2, f64, f2, f2),
    "_scaled_kernel": (f64, f2, f2),
    "_hadamard_kernel": (f2, f2, f2),
    "_gd_step_kernel": (f2, f64, f2, i64, i1),
    "_row_softmax_kernel": (f2, f2),
    "_weighted_softmax_minus_kernel": (f2, f2, f2, f64, f2),
    "_row_logsumexp_kernel": (f2, f2),
    "_row_sums_kernel": (f2, f64, f2),
    "_margins_kernel": (f2, i1, i64, f2, f2),
    "_frobenius_norm_kernel": (f2, f2),
}
missing = sorted(n for n in dir(k) if n.endswith("_kernel") and n not in kernels)
assert not missing, f"not lowered: {missing}"
for name, signature in kernels.items():
    compile_cuda(getattr(k, name).py_func, nt.void, signature, cc=(8, 0))
print("LOWERED", len(kernels), "TILE", k.TILE)
'''


def test_kernels_compile_for_the_cuda_target(tmp_path):
    """Type inference and lowering of every kernel by numba's CUDA compiler (no GPU needed), at the GPU tile."""
    proc = subprocess.run([sys.executable, "-c", _LOWER], env=_plain_env(GRADFLOW_CACHE_DIR=str(tmp_path)), cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    if proc.stdout.startswith("SKIP"):
        pytest.skip(proc.stdout.strip())
    assert "LOWERED 11 TILE 16" in proc.stdout


# --- generation only (no GPU, no simulator needed) -----------------------------------------


@pytest.fixture(scope="module")
def systems():
    from gradflow.derivations.associative_memory import simulators as am
    from gradflow.numerics.drivers.particles import reduced_system, weight_space_system
    from gradflow.theory.models import associative_memory as tam

    r = am.derivation()
    return (reduced_system(r.model, r.logit_flow, (tam.K, tam.Gram_out, tam.p_vec, tam.Y)),
            weight_space_system(r.model))


def test_generated_host_code_launches_per_node(systems):
    logits, weights = (render(s) for s in systems)
    # the fused cross-entropy gradient, the products left to right with the sign on the last launch
    assert ("    weighted_softmax_minus(S, Y, p, 1.0, w.G)\n    matmul(K, False, w.G, False, 1.0, w.t2)\n"
            "    matmul(w.t2, False, Gamma, False, -1.0, w.V)\n") in logits
    assert "def prediction(X, K, Gamma, p, Y, w):\n    \"\"\"S = S\"\"\"\n    return X\n" in logits  # S is the state
    # transposes are flags of the product, never copies
    assert "matmul(E, False, X, True, 1.0, w.t1)" in weights and "matmul(U, True, w.G, True, 1.0, w.t4)" in weights
    for source in (logits, weights):
        assert "matmul(p, True, w.wrong, False, 1.0, records[r:r + 1, 1:2])" in source
        compile(source, "generated", "exec")


def test_cache_hit_and_own_entry(systems, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(tmp_path))
    logits, weights = systems
    _, path, hit = matrix_cuda_module(logits)
    assert not hit and matrix_cuda_module(logits)[2]
    assert matrix_cuda_module(weights)[1] != path


def test_unsupported_nodes_are_named(systems):
    logits, _ = systems
    S = logits.prediction_symbol
    K = logits.data[0]
    for meaning, name in [(RowSoftmaxJVP(S, S), "RowSoftmaxJVP"), (sp.Inverse(K), "Inverse"),
                          (sp.DiagMatrix(logits.data[2]) * S, "DiagMatrix outside"),
                          (sp.HadamardProduct(K, K.T), "transpose outside a matrix product"),
                          (sp.MatrixSymbol("Q", *S.shape), "Q is neither")]:
        with pytest.raises(NotImplementedError, match=name):
            render(dataclasses.replace(logits, meaning=meaning))


def test_am_random_cuda_runs_only_gd():
    from gradflow.derivations.associative_memory import RandomMemory

    entry = RandomMemory()
    settings = entry.settings()
    assert "cuda" in entry.backends
    with pytest.raises(ParameterError, match=r"backend: must be cpu or numpy with --method sgd \(cuda runs gd\)"):
        entry.simulate(settings, "sgd", 3, backend="cuda")
    with pytest.raises(ParameterError, match=r"backend: must be cpu with --method flow \(cuda runs gd\)"):
        entry.simulate(settings, "flow", None, 1.0, backend="cuda")
