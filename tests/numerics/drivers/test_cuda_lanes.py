"""CUDA lane kernels (numerics/drivers/cuda.py, numerics/codegen/cuda_module.py) against the CPU kernels.

No GPU is needed: the parity checks run once, in one subprocess with NUMBA_ENABLE_CUDASIM=1 set before
numba is imported, on tiny grids; the subprocess saves CPU and CUDA results side by side and the tests
below compare them (float64, 1e-12).  On a machine with a GPU the same script runs on the device when
GRADFLOW_CUDA_TESTS=gpu is set.  The no-GPU error is checked in a plain subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from gradflow.numerics.codegen.cuda_module import condition_code, cuda_module
from gradflow.numerics.codegen.lane_module import lane_module
from gradflow.theory.errors import ParameterError
from gradflow.theory.flow import Flow, Map

from .cuda_script import REPO, run_cuda_script

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset

RTOL = ATOL = 1e-12

_PARITY = r'''
import json, sys, warnings
import numpy as np
import sympy as sp

warnings.simplefilter("ignore")  # overflow warnings of the simulator's NumPy scalars in the divergent lanes
import gradflow.numerics.drivers.progress
from gradflow.derivations.two_particle import phase as t2_phase
from gradflow.derivations.two_particle import simulators as t2
from gradflow.derivations.associative_memory import simulators as am
from gradflow.numerics.drivers.cuda import CudaLaneSimulator, ensemble_first_hits, simulator_enabled
from gradflow.numerics.drivers.ensemble import parameter_grid
from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.drivers.lanes import LaneSimulator
from gradflow.theory.flow import Flow, Map
from gradflow.theory.models import two_particle as tp

out, meta = {}, {"simulator": simulator_enabled()}
L01_ZERO = sp.And(tp.m1 >= 0, tp.m2 > 0)  # opposite labels, ties to class 0: L01 = 0 iff m1 >= 0 and m2 > 0
doc = t2.derivation()
lane_map, lane_flow = doc.opposite.lane_map, doc.opposite.lane_flow
observables = {"loss": doc.lane_loss, "sharpness": doc.lane_sharpness}

# two-particle GD map: an am-phase style grid, every step recorded, observables; then chunked (progress)
cpu = t2.lane_map_simulator()
gpu = CudaLaneSimulator(lane_map, observables, {"l01_zero": L01_ZERO})
meta["cuda_cache_hit"] = gpu.cache_hit
grid = parameter_grid(lane_map, {"p1": np.array([0.6, 0.75, 0.9]), "alpha": np.array([0.3, 0.95, 1.0]),
                                      "eta": np.array([0.5, 10.0])})
x0 = np.zeros((grid.lanes.shape[0], 2))
a, b = cpu.iterate(x0, grid.lanes, 40), gpu.iterate(x0, grid.lanes, 40)
out.update(tp_cpu=a.states, tp_gpu=b.states, tp_times_cpu=a.times, tp_times_gpu=b.times,
           tp_hits=b.first_hits["l01_zero"])
for k in observables:
    out[f"tp_{k}_cpu"], out[f"tp_{k}_gpu"] = a.observables[k], b.observables[k]
gradflow.numerics.drivers.progress.CHUNK_THRESHOLD = 0  # progress=True: the run is cut into chunks (state carried on the device)
record = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
a, c = cpu.iterate(x0, grid.lanes, 90, record, progress=True), gpu.iterate(x0, grid.lanes, 90, record, progress=True)
whole = gpu.iterate(x0, grid.lanes, 90, record)
out.update(tpc_cpu=a.states, tpc_gpu=c.states, tpc_whole=whole.states, tpc_hits=c.first_hits["l01_zero"],
           tpc_hits_whole=whole.first_hits["l01_zero"], tpc_loss_cpu=a.observables["loss"],
           tpc_loss_gpu=c.observables["loss"])
gradflow.numerics.drivers.progress.CHUNK_THRESHOLD = 200_000
a, b = cpu.iterate(x0, grid.lanes, 0), gpu.iterate(x0, grid.lanes, 0)
out.update(zero_cpu=a.states, zero_gpu=b.states, zero_hits=b.first_hits["l01_zero"])

# am-phase: first step with L01 = 0 (CPU: every state recorded, then NumPy; CUDA: checked on the device)
p1s, alphas, etas = (v[::3] for v in t2_phase.phase_axes())
n_iterates = 300
cpu_first, _ = t2_phase.first_hits(p1s, alphas, etas, n_iterates)
lanes = parameter_grid(lane_map, {"p1": p1s, "alpha": alphas, "eta": etas})
first, final = ensemble_first_hits(lane_map, L01_ZERO, lanes.lanes, n_iterates - 1)
out.update(phase_cpu=cpu_first, phase_gpu=lanes.reshape(np.where(first < 0, n_iterates - 1, first))[..., 0],
           phase_final_cpu=cpu.iterate(np.zeros((lanes.lanes.shape[0], 2)), lanes.lanes, n_iterates - 1,
                                       [n_iterates - 1]).states[-1], phase_final_gpu=final)

# orthogonal margin map (associative memory), an (eta, p) grid with M = 4, log-spaced records
mr = am.derivation()
cpu_m, gpu_m = am.margin_map_simulator(), CudaLaneSimulator(mr.margin_map, {"loss": mr.lane_loss})
grid = parameter_grid(mr.margin_map, {"p": np.array([0.05, 0.3, 0.9]), "M": 4.0,
                                          "eta": np.array([0.5, 5.0, 50.0, 500.0])})
x0 = np.linspace(-3.0, 3.0, grid.lanes.shape[0])[:, None]
record = np.unique(np.geomspace(1, 300, 12).astype(int))
a, b = cpu_m.iterate(x0, grid.lanes, 300, record), gpu_m.iterate(x0, grid.lanes, 300, record)
out.update(mm_cpu=a.states, mm_gpu=b.states, mm_loss_cpu=a.observables["loss"], mm_loss_gpu=b.observables["loss"])

# a Flow with RK4: the two-particle margin flow; uneven record times shorten steps
cpu_f = t2.lane_flow_simulator()
gpu_f = CudaLaneSimulator(lane_flow, {"loss": doc.lane_loss})
q = np.array([[0.75, 0.95], [0.6, 0.3], [0.9, -0.5], [0.55, 1.0]])
x0 = np.array([[0.0, 0.0], [1.0, -2.0], [-3.0, 0.5], [0.2, 0.1]])
times = np.array([0.0, 0.37, 1.0, 2.5, 2.5, 7.0, 20.0])
a = cpu_f.integrate(x0, q, times, "rk4", step=0.05)
b = gpu_f.integrate(x0, q, times, "rk4", step=0.05)
out.update(fl_cpu=a.states, fl_gpu=b.states, fl_loss_cpu=a.observables["loss"], fl_loss_gpu=b.observables["loss"])

# divergence: x <- a x^2 blows up in some lanes (Map); x' = x^2 blows up at t = 1/x0 (Flow, RK4)
x, s = sp.symbols("x a", real=True)
square = Map((x,), (s * x**2,), (s,), name="square map")
grow = Flow((x,), (x**2,), (), name="square flow")
meta["divergence"] = {}
x_map, q_map, x_flow = [[0.5], [3.0], [2.0]], [[1.0], [4.0], [5.0]], [[0.1], [2.0]]
for label, run in {
    "map_cpu": lambda: LaneSimulator(square).iterate(x_map, q_map, 40),
    "map_gpu": lambda: CudaLaneSimulator(square).iterate(x_map, q_map, 40),
    "flow_cpu": lambda: LaneSimulator(grow).integrate(x_flow, np.zeros((2, 0)), [0.0, 5.0], "rk4", step=0.1),
    "flow_gpu": lambda: CudaLaneSimulator(grow).integrate(x_flow, np.zeros((2, 0)), [0.0, 5.0], "rk4", step=0.1),
}.items():
    try:
        run()
        meta["divergence"][label] = None
    except DivergenceError as exc:
        meta["divergence"][label] = [exc.step, exc.quantity, str(exc)]

np.savez(sys.argv[1], **out)
print(json.dumps(meta))
'''


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    """CPU and CUDA results from one run of _PARITY under the simulator (or on a GPU, see module doc)."""
    return run_cuda_script(_PARITY, tmp_path_factory.mktemp("cuda") / "parity.npz")


def _close(actual, desired):
    np.testing.assert_allclose(actual, desired, rtol=RTOL, atol=ATOL)


def test_runs_where_intended(parity):
    _, meta = parity
    assert meta["simulator"] == (os.environ.get("GRADFLOW_CUDA_TESTS") != "gpu")


def test_two_particle_map_matches_cpu(parity):
    d, _ = parity
    assert d["tp_gpu"].shape == d["tp_cpu"].shape == (41, 18, 2)
    _close(d["tp_gpu"], d["tp_cpu"])
    _close(d["tp_times_gpu"], d["tp_times_cpu"])
    for k in ("loss", "sharpness"):
        _close(d[f"tp_{k}_gpu"], d[f"tp_{k}_cpu"])


def test_first_hit_is_the_first_recorded_state_with_zero_l01(parity):
    d, _ = parity
    m = d["tp_cpu"]
    hit = (m[..., 0] >= 0) & (m[..., 1] > 0)  # (steps, lanes)
    np.testing.assert_array_equal(d["tp_hits"], np.where(hit.any(axis=0), hit.argmax(axis=0), -1))
    assert (d["tp_hits"] > 1).any() and (d["tp_hits"] == -1).any()  # the grid has dips and never-separating lanes


def test_chunked_run_matches_cpu_and_one_launch(parity):
    d, _ = parity
    _close(d["tpc_gpu"], d["tpc_cpu"])
    _close(d["tpc_loss_gpu"], d["tpc_loss_cpu"])
    np.testing.assert_array_equal(d["tpc_gpu"], d["tpc_whole"])
    np.testing.assert_array_equal(d["tpc_hits"], d["tpc_hits_whole"])


def test_zero_steps_record_the_initial_state(parity):
    d, _ = parity
    assert d["zero_gpu"].shape == (1, 18, 2)
    np.testing.assert_array_equal(d["zero_gpu"], d["zero_cpu"])
    np.testing.assert_array_equal(d["zero_hits"], -1)  # m = 0 has L01 > 0 (ties go to class 0)


def test_am_phase_first_hits_equal_cpu(parity):
    d, _ = parity
    assert d["phase_gpu"].shape == d["phase_cpu"].shape == (4, 4, 4)
    np.testing.assert_array_equal(d["phase_gpu"], d["phase_cpu"])
    assert len(np.unique(d["phase_cpu"])) > 10  # hits at many different steps, and 'never'
    _close(d["phase_final_gpu"], d["phase_final_cpu"])


def test_orthogonal_margin_map_matches_cpu(parity):
    d, _ = parity
    _close(d["mm_gpu"], d["mm_cpu"])
    _close(d["mm_loss_gpu"], d["mm_loss_cpu"])


def test_flow_rk4_matches_cpu(parity):
    d, _ = parity
    assert np.all(np.isfinite(d["fl_cpu"]))
    _close(d["fl_gpu"], d["fl_cpu"])
    _close(d["fl_loss_gpu"], d["fl_loss_cpu"])


def test_divergent_lane_is_reported_like_cpu(parity):
    _, meta = parity
    div = meta["divergence"]
    for kind in ("map", "flow"):
        assert div[f"{kind}_cpu"] is not None, kind
        assert div[f"{kind}_gpu"] == div[f"{kind}_cpu"]
    assert "lane 1" in div["map_gpu"][2] and div["map_gpu"][1] == "x"  # the lowest diverging lane is named


_NO_GPU = r'''
from gradflow.numerics.drivers.cuda import CudaLaneSimulator, cuda_available, CudaUnavailableError
from gradflow.theory.errors import ParameterError
from gradflow.theory.flow import Map
import sympy as sp
if cuda_available():
    print("HAS-GPU")
else:
    x = sp.Symbol("x")
    try:
        CudaLaneSimulator(Map((x,), (x / 2,), ()))
    except CudaUnavailableError as exc:
        assert isinstance(exc, ParameterError)
        print(exc)
'''


def test_no_gpu_error_is_clear():
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", _NO_GPU], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    if "HAS-GPU" in proc.stdout:
        pytest.skip("this machine has a CUDA GPU")
    assert proc.stdout.strip() == (
        "backend: cuda needs an NVIDIA GPU with a CUDA driver (none found); install gradflow[cuda] on a GPU "
        "machine, or set NUMBA_ENABLE_CUDASIM=1 to run the simulator")


_LOWER = r'''
# Type and lower the kernels for the CUDA target up to LLVM IR, without a GPU: the simulator runs kernels
# as Python and cannot catch what the CUDA compiler rejects.  PTX needs libnvvm, which is not assumed.
import types
import sympy as sp
try:
    import numba.cuda.dispatcher as dispatcher
    from numba import types as nt
    from numba.cuda.compiler import compile_cuda
    dispatcher.get_current_device  # device functions ask the current device for its compute capability
except (ImportError, AttributeError) as exc:
    print(f"SKIP: numba.cuda internals differ ({exc})")
    raise SystemExit(0)
dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(8, 0))
from gradflow.numerics.codegen.cuda_module import cuda_module
from gradflow.theory.flow import Flow, Map

x, y, a = sp.symbols("x y a", real=True)
f2, f3, i1, i2 = nt.float64[:, :], nt.float64[:, :, :], nt.int64[:], nt.int64[:, :]
map_args = (f2, f2, nt.int64, nt.int64, i1, f3, f3, i2, i2)
stable = Map((x, y), (x + a * sp.log(1 + sp.exp(-y)), y - a * x / (1 + sp.exp(x))), (a,))
kernels = [
    (cuda_module(stable, {"loss": sp.log(1 + sp.exp(-x)), "norm": sp.sqrt(x**2 + y**2)},
                 {"hit": sp.And(x >= 0, sp.Or(y > 1, sp.Ne(a, 2)))})[0].iterate_map, map_args),
    (cuda_module(Map((x,), (a * x**2,), (a,)))[0].iterate_map, map_args),
    (cuda_module(Flow((x, y), (-y / (1 + sp.exp(x)), x), ()), {"e": x**2})[0].integrate_rk4,
     (f2, f2, nt.float64[:], nt.float64, f3, f3, i2)),
]
for kernel, signature in kernels:
    compile_cuda(kernel.py_func, nt.void, signature, cc=(8, 0))
print("LOWERED", len(kernels))
'''


def test_kernels_compile_for_the_cuda_target(tmp_path):
    """Type inference and lowering of the generated kernels by numba's CUDA compiler (no GPU needed)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.update(GRADFLOW_CACHE_DIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", _LOWER], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    if proc.stdout.startswith("SKIP"):
        pytest.skip(proc.stdout.strip())
    assert "LOWERED 3" in proc.stdout


# --- generation only (no GPU, no simulator needed) -----------------------------------------


def _toy_map():
    x, y, a = sp.symbols("x y a", real=True)
    return Map((x, y), (x + a * sp.log(1 + sp.exp(-y)), y - a * x), (a,), name="toy map"), x, y, a


def test_generated_source_prints_the_cpu_expressions(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(tmp_path))
    system, x, y, a = _toy_map()
    _, cpu_path, _ = lane_module(system, {"energy": x**2 + y**2})
    _, path, hit = cuda_module(system, {"energy": x**2 + y**2}, {"right": x > 0})
    assert not hit and path != cpu_path  # its own cache entry
    cpu_lines, lines = cpu_path.read_text().splitlines(), path.read_text().splitlines()
    assignments = [s for s in cpu_lines if s.strip().startswith(("out[0] =", "out[1] =", "_u ="))]
    assert assignments and all(s in lines for s in assignments)
    assert cuda_module(system, {"energy": x**2 + y**2}, {"right": x > 0})[2]  # warm: a cache hit
    assert cuda_module(system, {"energy": x**2 + y**2})[1] != path  # conditions are part of the key


def test_condition_printing_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(tmp_path))
    system, x, y, a = _toy_map()
    names = {x: "x", y: "y", a: "a"}
    assert condition_code(sp.And(x >= 0, sp.Or(y < 1, sp.Not(sp.Eq(a, 2)))), names) == \
        "((x >= 0) and ((y < 1) or (a != 2)))"
    with pytest.raises(ParameterError, match="conditions"):
        cuda_module(system, None, {"bad": sp.And(x > 0, sp.Symbol("z") > 0)})
    with pytest.raises(ParameterError, match="conditions"):
        cuda_module(system, None, {"bad": x + y})
    with pytest.raises(ParameterError, match="observables"):
        cuda_module(system, {"not an identifier": x})
    flow = Flow((x,), (-x,), ())
    with pytest.raises(ParameterError, match="Map"):
        cuda_module(flow, None, {"hit": x > 0})
