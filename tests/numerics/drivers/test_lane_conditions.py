"""First-hit conditions, shared-subexpression printing and lane blocking of the CPU lane kernels
(numerics/drivers/lanes.py, numerics/codegen/lane_module.py, printer.lane_block).

Oracles: first hits read off every recorded state; the CUDA simulator's first hits (numba's CUDASIM, in a
subprocess); ``lane_update`` (the one-lane function of the same module) iterated lane by lane in Python;
the SymPy expression evaluated at 50 digits; plain Python loops for divergence.
"""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import mpmath
import numba
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import gradflow.numerics.drivers.progress
from gradflow.derivations.two_particle.phase import phase_axes
from gradflow.derivations.two_particle.simulators import L01_ZERO, derivation
from gradflow.numerics.codegen.lane_module import lane_module
from gradflow.numerics.codegen.printer import condition_code, lane_block
from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.drivers.lanes import LaneSimulator, lanes_per_block
from gradflow.theory.errors import ParameterError
from gradflow.theory.flow import Flow, Map
from gradflow.theory.models import two_particle as tp

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset

REPO = Path(__file__).resolve().parents[3]
SETTINGS = settings(max_examples=25, deadline=None)

x, y = sp.symbols("x y", real=True)
a, c = sp.symbols("a c", real=True)


def _hits_from_states(states, condition):
    """First row (step) of states (steps, lanes, k) where condition(states) holds; -1 if never."""
    hit = condition(states)
    return np.where(hit.any(axis=0), hit.argmax(axis=0), -1)


def _l01_zero(states):
    return (states[..., 0] >= 0) & (states[..., 1] > 0)


@pytest.fixture(scope="module")
def two_particle():
    doc = derivation()
    return LaneSimulator(doc.opposite.lane_map, {"loss": doc.lane_loss}, {"l01_zero": L01_ZERO,
                                                                         "rare_first": sp.And(tp.m2 > 0, tp.m1 < 0)})


def _phase_lanes(n=6):
    p1s, alphas, etas = phase_axes()
    grid = np.stack(np.meshgrid(p1s[::10 // n], alphas[::10 // n], etas[::10 // n], indexing="ij"), -1)
    return grid.reshape(-1, 3)


# --- first hits ----------------------------------------------------------------------------


def test_first_hits_equal_those_read_off_every_recorded_state(two_particle):
    lanes = _phase_lanes()
    x0 = np.zeros((lanes.shape[0], 2))
    full = two_particle.iterate(x0, lanes, 300)
    hits = full.first_hits["l01_zero"]
    np.testing.assert_array_equal(hits, _hits_from_states(full.states, _l01_zero))
    np.testing.assert_array_equal(full.first_hits["rare_first"],
                                  _hits_from_states(full.states, lambda s: (s[..., 1] > 0) & (s[..., 0] < 0)))
    assert (hits > 1).any() and (hits == -1).any() and len(np.unique(hits)) > 10
    # recording only the last state gives the same hits and the same final state
    last = two_particle.iterate(x0, lanes, 300, [300])
    for name in ("l01_zero", "rare_first"):
        np.testing.assert_array_equal(last.first_hits[name], full.first_hits[name])
    np.testing.assert_array_equal(last.states[0], full.states[-1])
    assert last.states.shape == (1, lanes.shape[0], 2)


def test_first_hit_at_step_zero_and_zero_steps(two_particle):
    lanes = np.array([[0.7, 0.6, 1.0], [0.7, 0.6, 1.0], [0.6, 0.9, 5.0]])
    x0 = np.array([[1.0, 2.0], [0.0, 0.0], [0.0, 1e-300]])  # holds at step 0 / not / m1 = 0 counts (ties)
    zero = two_particle.iterate(x0, lanes, 0)
    assert zero.states.shape == (1, 3, 2)
    np.testing.assert_array_equal(zero.first_hits["l01_zero"], [0, -1, 0])
    run = two_particle.iterate(x0, lanes, 50)
    assert run.first_hits["l01_zero"][0] == 0 and run.first_hits["l01_zero"][2] == 0
    np.testing.assert_array_equal(run.first_hits["l01_zero"], _hits_from_states(run.states, _l01_zero))


def test_first_hits_of_a_chunked_run_equal_one_call(two_particle, monkeypatch):
    lanes = _phase_lanes(4)
    x0 = np.zeros((lanes.shape[0], 2))
    record = [0, 7, 99, 100, 250]
    whole = two_particle.iterate(x0, lanes, 250, record)
    monkeypatch.setattr(gradflow.numerics.drivers.progress, "CHUNK_THRESHOLD", 1)
    chunked = two_particle.iterate(x0, lanes, 250, record, progress=True)
    np.testing.assert_array_equal(chunked.states, whole.states)
    for name in whole.first_hits:
        np.testing.assert_array_equal(chunked.first_hits[name], whole.first_hits[name])
    np.testing.assert_array_equal(chunked.observables["loss"], whole.observables["loss"])


def test_conditions_on_params_and_boolean_operators():
    system = Map((x, y), (y, -x + a * sp.sin(y)), (a, c), name="rotation with conditions")
    conditions = {"up": x > c, "either": sp.Or(x < -c, sp.Not(y <= 0.5)), "never": sp.And(x > 10, x < -10),
                  "always": sp.Eq(c, c)}
    sim = LaneSimulator(system, None, conditions)
    rng = np.random.default_rng(3)
    x0, q = rng.normal(size=(37, 2)), np.c_[rng.uniform(0, 0.5, 37), rng.uniform(0.2, 1.5, 37)]
    traj = sim.iterate(x0, q, 40)
    s, cq = traj.states, q[:, 1]
    np.testing.assert_array_equal(traj.first_hits["up"], _hits_from_states(s, lambda s: s[..., 0] > cq))
    np.testing.assert_array_equal(traj.first_hits["either"],
                                  _hits_from_states(s, lambda s: (s[..., 0] < -cq) | (s[..., 1] > 0.5)))
    np.testing.assert_array_equal(traj.first_hits["never"], -1)
    np.testing.assert_array_equal(traj.first_hits["always"], 0)
    assert "Conditions (first step in hits[c]): up: x > c" in sim.source


def test_condition_errors():
    system = Map((x,), (x / 2,), (a,), name="half")
    with pytest.raises(ParameterError, match="conditions"):
        LaneSimulator(system, None, {"bad": sp.Symbol("z") > 0})
    with pytest.raises(ParameterError, match="conditions"):
        LaneSimulator(system, None, {"bad": x + a})
    with pytest.raises(ParameterError, match="conditions"):
        LaneSimulator(system, None, {"not an identifier": x > 0})
    with pytest.raises(ParameterError, match="Map"):
        LaneSimulator(Flow((x,), (-x,), ()), None, {"hit": x > 0})
    assert condition_code(sp.And(x >= 0, sp.Or(y < 1, sp.Not(sp.Eq(a, 2)))), {x: "x", y: "y", a: "a"}) == \
        "((x >= 0) and ((y < 1) or (a != 2)))"


def test_no_conditions_no_first_hits(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(tmp_path))
    system = Map((x,), (x / 2,), (), name="half")
    traj = LaneSimulator(system).iterate([[1.0], [2.0]], np.zeros((2, 0)), 3)
    assert traj.first_hits == {}
    np.testing.assert_array_equal(traj.states[:, :, 0], [[1, 2], [0.5, 1], [0.25, 0.5], [0.125, 0.25]])
    _, plain, _ = lane_module(system)
    _, with_hits, _ = lane_module(system, None, {"small": x < 0.3})
    assert plain != with_hits  # conditions are part of the cache key


# --- blocking: bit-identical to lane_update iterated lane by lane -----------------------------


def _lane_by_lane(module, x0, q, n_steps):
    out = np.empty((n_steps + 1,) + x0.shape)
    out[0] = x0
    for lane in range(x0.shape[0]):
        xv, yv = x0[lane].copy(), np.empty(x0.shape[1])
        for step in range(1, n_steps + 1):
            module.lane_update(xv, q[lane], yv)
            xv[:] = yv
            out[step, lane] = xv
    return out


@pytest.mark.parametrize("lanes", [1, 9, 300])
def test_blocked_kernel_is_bit_identical_to_lane_update(two_particle, lanes):
    rng = np.random.default_rng(lanes)
    q = np.c_[rng.uniform(0.05, 0.95, lanes), rng.uniform(-1, 1, lanes), 10 ** rng.uniform(-2, 1.5, lanes)]
    x0 = rng.normal(scale=5, size=(lanes, 2))
    x0[:: 3] = 0.0
    traj = two_particle.iterate(x0, q, 60)
    np.testing.assert_array_equal(traj.states, _lane_by_lane(two_particle.module, x0, q, 60))
    # any block size gives the same states and hits
    steps = np.arange(61)
    for block in (1, 8, 64, 256):
        state, out = x0.copy(), np.full((61, lanes, 2), np.nan)
        status, hits = -np.ones((lanes, 2), np.int64), -np.ones((2, lanes), np.int64)
        two_particle.module.iterate_map(state, q, 0, 60, steps, out, status, hits, block)
        np.testing.assert_array_equal(out, traj.states)
        np.testing.assert_array_equal(hits[0], traj.first_hits["l01_zero"])
        np.testing.assert_array_equal(state, traj.states[-1])
        assert (status == -1).all()


def test_block_size():
    assert lanes_per_block(10**6) == 256 and lanes_per_block(1) == 8
    assert all(lanes_per_block(n) % 8 == 0 and 8 <= lanes_per_block(n) <= 256 for n in (1, 7, 100, 513, 10**4))


def test_blocked_margin_map_with_stable_branches_equals_lane_update():
    """A one-state map whose exponential needs the sign branches (stable_forms), huge margins included."""
    m = sp.Symbol("m", real=True)
    eta, M, p = sp.symbols("eta M p", positive=True)
    system = Map((m,), (m + eta * M * p / (M + sp.exp(m) - 1),), (eta, M, p), eta, name="blocked margin map")
    sim = LaneSimulator(system, None, {"big": m > 20})
    x0 = np.array([[0.0], [700.0], [-700.0], [1e4], [-1e4], [30.0], [-30.0], [3.0], [-0.5]] * 3)
    q = np.tile([[1.0, 10.0, 0.5], [1e3, 3.0, 0.9], [0.1, 1000.0, 0.01]], (9, 1))
    traj = sim.iterate(x0, q, 25)
    assert np.all(np.isfinite(traj.states))
    np.testing.assert_array_equal(traj.states, _lane_by_lane(sim.module, x0, q, 25))
    np.testing.assert_array_equal(traj.first_hits["big"], _hits_from_states(traj.states, lambda s: s[..., 0] > 20))


# --- divergence in the blocked kernel ----------------------------------------------------------


def _python_first_nonfinite(xv, yv, av, n_steps):
    for step in range(1, n_steps + 1):
        xn, yn = xv * xv * av, yv + 1.0
        try:
            bad = [i for i, v in enumerate((xn, yn)) if not math.isfinite(v)]
        except OverflowError:
            bad = [0]
        if bad:
            return step, bad[-1]
        xv, yv = xn, yn
    return None


def test_divergence_names_the_first_lane_step_and_component(monkeypatch):
    system = Map((x, y), (a * x * x, y + 1), (a,), name="blocked square map")
    sim = LaneSimulator(system, None, {"big": x > 1e100})
    x0 = np.array([[0.5, 0.0]] * 20 + [[3.0, 0.0], [1.5, 0.0], [4.0, 0.0]] + [[0.9, 0.0]] * 30)
    q = np.ones((x0.shape[0], 1))
    expected = _python_first_nonfinite(3.0, 0.0, 1.0, 60)
    earliest = min(_python_first_nonfinite(v, 0.0, 1.0, 60)[0] for v in (3.0, 1.5, 4.0))
    assert expected is not None and earliest < expected[0]  # lane 22 (x = 4) diverges first
    with pytest.raises(DivergenceError) as info:
        sim.iterate(x0, q, 60)
    assert (info.value.step, info.value.quantity) == (expected[0], "x")
    assert "lane 20" in str(info.value)  # the lowest diverging lane, not the first to diverge (lane 22)
    monkeypatch.setattr(gradflow.numerics.drivers.progress, "CHUNK_THRESHOLD", 1)
    with pytest.raises(DivergenceError) as chunked:
        sim.iterate(x0, q, 60, progress=True)
    # a chunked run stops after the first chunk in which some lane diverged (as on the CUDA backend):
    # it names the lowest lane diverged by then, with that lane's own step
    assert (chunked.value.step, chunked.value.quantity) in ((expected[0], "x"), (earliest, "x"))
    assert f"lane {20 if chunked.value.step == expected[0] else 22}," in str(chunked.value)
    # before the overflow all is well, and the hits are those of the states
    ok = sim.iterate(x0, q, earliest - 1)
    np.testing.assert_array_equal(ok.first_hits["big"], _hits_from_states(ok.states, lambda s: s[..., 0] > 1e100))
    assert ok.first_hits["big"][20] > 0


def test_divergence_in_a_division_is_a_divergence_error():
    """The blocked kernel divides with NumPy semantics: 1/0 is inf, reported as divergence."""
    system = Map((x,), (1 / (x - 1),), (), name="pole map")
    with pytest.raises(DivergenceError) as info:
        LaneSimulator(system).iterate([[0.5], [2.0], [0.0]], np.zeros((3, 0)), 5)
    # x = 0.0 -> -1 -> -0.5 -> -2/3 ...; x = 2 -> 1 -> 1/0 at step 2
    assert info.value.step == 2 and "lane 1" in str(info.value)


# --- printer: lane_block at random and extreme points ------------------------------------------

m1, m2 = sp.symbols("m1 m2", real=True)
p1, al, eta = sp.Symbol("p1", positive=True), sp.Symbol("alpha", real=True), sp.Symbol("eta", positive=True)
NAMES = {m1: "m1", m2: "m2", p1: "p1", al: "alpha", eta: "eta", x: "x", a: "a"}


def _sig(m):
    """sigma(-m) in the stabilised form the derivations print."""
    return sp.exp(-m / 2 - sp.Abs(m) / 2) / (1 + sp.exp(-sp.Abs(m)))


BLOCKS = {
    "two-particle map": [m1 + 2 * eta * (p1 * _sig(m1) - al * (1 - p1) * _sig(m2)),
                         m2 + 2 * eta * ((1 - p1) * _sig(m2) - al * p1 * _sig(m1))],
    "loss and sharpness": [
        p1 * (-m1 / 2 + sp.Abs(m1) / 2 + sp.log(1 + sp.exp(-sp.Abs(m1)))) + (1 - p1) * sp.log(1 + sp.exp(-m2)),
        p1 * sp.exp(-sp.Abs(m1)) / (1 + sp.exp(-sp.Abs(m1))) ** 2
        + sp.sqrt(al ** 2 * sp.exp(-sp.Abs(m1) - sp.Abs(m2)) / (1 + sp.exp(-sp.Abs(m2))) ** 2)],
    "powers and expm1": [sp.exp(-2 * sp.Abs(m1)) * p1 + sp.exp(-sp.Abs(m2)) - 1,
                         sp.exp(-3 * m1 / 2 - 3 * sp.Abs(m1) / 2) + sp.exp(m2 / 2 - sp.Abs(m2) / 2)],
    "stable branches per state": [m1 + eta / (1 + sp.exp(m1)), sp.log(1 + sp.exp(-m2)) + p1 * sp.exp(-m2) / (1 + sp.exp(-m2)),
                                  eta * p1],
}
EXTREME = [0.0, 1e-300, -1e-300, 0.5, -0.5, 30.0, -30.0, 700.0, -700.0, 745.5, -745.5, 1e4, -1e4]


def _run_block(exprs, values: dict):
    code = lane_block(exprs, (m1, m2), NAMES, "", [f"out[{i}]" for i in range(len(exprs))])
    scope = {"math": math, "out": [None] * len(exprs)}
    scope.update({NAMES[k]: float(v) for k, v in values.items()})
    exec(compile(code, "<lane_block>", "exec"), scope)  # noqa: S102 - our own printer's output
    return scope["out"], code


def _exact(expr, values: dict):
    """mpmath with enough digits that 1 + e^{-|m|} is still resolved (60 digits lose log(1 + e^{-700}))."""
    keys = sorted(values, key=str)
    with mpmath.workdps(60 + int(max(abs(v) for v in values.values()) / 2.3)):
        return mpmath.mpf(sp.lambdify(keys, expr, "mpmath")(*[mpmath.mpf(values[k]) for k in keys]))


TINY = 2.2250738585072014e-308  # smallest normal double


def _check_block(label, values):
    exprs = BLOCKS[label]
    got, code = _run_block(exprs, values)
    for g, expr in zip(got, exprs):
        want = _exact(expr, values)
        assert math.isfinite(g), (label, values, code)
        # the error on the scale of the terms of the expanded expression (m + increment may cancel, so
        # may p1 - alpha p2), 4e-15 (products of a few rounded exponentials); values below the smallest
        # normal double only need to come out below it
        scale = max([abs(want)] + [abs(_exact(t, values)) for t in sp.Add.make_args(sp.expand(expr))])
        if scale < TINY:
            assert abs(g) <= 4 * TINY, (label, values, g, want, code)
        else:
            assert abs(mpmath.mpf(g) - want) <= 4e-15 * scale, (label, values, g, want, code)


@pytest.mark.parametrize("label", sorted(BLOCKS))
@SETTINGS
@given(mv=st.tuples(st.floats(-40, 40), st.floats(-40, 40)), pv=st.floats(0.01, 0.99), av=st.floats(-1, 1),
       ev=st.floats(1e-3, 1e3))
def test_lane_block_equals_the_expressions(label, mv, pv, av, ev):
    _check_block(label, {m1: mv[0], m2: mv[1], p1: pv, al: av, eta: ev})


@pytest.mark.parametrize("label", sorted(BLOCKS))
def test_lane_block_at_extreme_states(label):
    for mv1 in EXTREME:
        for mv2 in EXTREME[::3]:
            _check_block(label, {m1: mv1, m2: mv2, p1: 0.3, al: -0.7, eta: 2.0})


def test_lane_block_shares_one_exp_per_state_and_prints_subexpressions_once():
    code = lane_block(BLOCKS["two-particle map"], (m1, m2), NAMES, "", ["out[0]", "out[1]"])
    calls = [ast.unparse(n) for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call)]
    assert sorted(c for c in calls if c.startswith("math.exp")) == ["math.exp(-abs(m1))", "math.exp(-abs(m2))"]
    divisions = sum(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) for n in ast.walk(ast.parse(code)))
    assert divisions == 2  # one per sigmoid, shared by both outputs
    branches = lane_block(BLOCKS["stable branches per state"], (m1, m2), NAMES, "", ["a", "b", "c"])
    tree = ast.parse(branches)
    ifs = [ast.unparse(n.test) for n in tree.body if isinstance(n, ast.If)]
    assert ifs == ["m1 > 0.0", "m2 > 0.0"]  # one stable branch per state, each with one exp
    exps = sorted(ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "math.exp")
    assert exps == ["math.exp(-m1)", "math.exp(-m2)", "math.exp(m1)", "math.exp(m2)"]


def test_cuda_module_prints_the_same_block(tmp_path, monkeypatch):
    from gradflow.numerics.codegen.cuda_module import cuda_module

    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(tmp_path))
    system = derivation().opposite.lane_map
    _, cpu_path, _ = lane_module(system, None, {"l01_zero": L01_ZERO})
    _, gpu_path, _ = cuda_module(system, None, {"l01_zero": L01_ZERO})
    cpu, gpu = cpu_path.read_text(), gpu_path.read_text()
    start = cpu.index("def lane_update")
    update = cpu[start:cpu.index("\n\n\n", start)].splitlines()
    body = [s for s in update if s.startswith("    ") and "=" in s and '"""' not in s]
    # the same lines, but for the function computing the shared exponentials (the device keeps math.exp)
    assert any("= _exp(-abs(" in s for s in body)
    assert all(s.replace("= _exp(", "= math.exp(") in gpu.splitlines() for s in body)


# --- parity with the CUDA simulator ----------------------------------------------------------------

_PARITY = r'''
import json, sys, warnings
import numpy as np
import sympy as sp
warnings.simplefilter("ignore")
from gradflow.derivations.two_particle import phase as t2_phase
from gradflow.derivations.two_particle import simulators as t2
from gradflow.numerics.drivers.cuda import CudaLaneSimulator, simulator_enabled
from gradflow.numerics.drivers.lanes import LaneSimulator
from gradflow.theory.models import two_particle as tp

lane_map = t2.derivation().opposite.lane_map
conditions = {"l01_zero": t2.L01_ZERO, "rare_first": sp.And(tp.m2 > 0, tp.m1 < 0), "far": tp.m1 > 4 * tp.eta}
p1s, alphas, etas = (v[::4] for v in t2_phase.phase_axes())
lanes = np.stack(np.meshgrid(p1s, alphas, etas, indexing="ij"), -1).reshape(-1, 3)
x0 = np.zeros((lanes.shape[0], 2))
x0[::5] = [0.5, 1.0]  # some lanes hit at step 0
cpu = LaneSimulator(lane_map, None, conditions).iterate(x0, lanes, 120, [120])
gpu = CudaLaneSimulator(lane_map, None, conditions).iterate(x0, lanes, 120, [120])
out = {f"cpu_{k}": v for k, v in cpu.first_hits.items()}
out.update({f"gpu_{k}": v for k, v in gpu.first_hits.items()})
out.update(cpu_final=cpu.states[-1], gpu_final=gpu.states[-1])
np.savez(sys.argv[1], **out)
print(json.dumps({"simulator": simulator_enabled(), "conditions": list(conditions)}))
'''


def test_first_hits_equal_the_cuda_simulators(tmp_path):
    target = tmp_path / "parity.npz"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    if os.environ.get("GRADFLOW_CUDA_TESTS") != "gpu":
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    proc = subprocess.run([sys.executable, "-c", _PARITY, str(target)], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0 and "No module named 'numba.cuda'" in proc.stderr:
        pytest.skip("numba.cuda is not installed")
    assert proc.returncode == 0, proc.stderr[-4000:]
    meta = json.loads(proc.stdout.strip().splitlines()[-1])
    with np.load(target) as d:
        for name in meta["conditions"]:
            np.testing.assert_array_equal(d[f"cpu_{name}"], d[f"gpu_{name}"])
        hits = d["cpu_l01_zero"]
        assert (hits == 0).any() and (hits > 1).any() and (hits == -1).any()
        assert (d["cpu_far"] >= 0).any()
        np.testing.assert_allclose(d["cpu_final"], d["gpu_final"], rtol=1e-12, atol=1e-12)


# --- the vectorisable exp of the CPU kernels ---------------------------------------------------------


@pytest.fixture(scope="module")
def cpu_exp():
    """support._exp, which the generated lane kernels import and the row softmax uses."""
    from gradflow.numerics.codegen.support import _exp as exp

    @numba.njit
    def many(ts):
        out = np.empty_like(ts)
        for i in range(ts.size):
            out[i] = exp(ts[i])
        return out

    return many


def test_cpu_exp_is_within_one_ulp(cpu_exp):
    rng = np.random.default_rng(11)
    ts = np.concatenate([rng.uniform(-746, 710, 4000), -rng.exponential(2.0, 2000), rng.uniform(-1e-3, 1e-3, 500),
                         rng.uniform(-745.2, -707.0, 1000),  # subnormal results
                         [0.0, -0.0, 5e-324, -5e-324, 1.0, -1.0, 0.5 * math.log(2), -0.5 * math.log(2), 709.78,
                          -708.39, -745.1332191019411, -745.13321910194122, -745.2]])
    got = cpu_exp(ts)
    with mpmath.workprec(120):
        for t, g in zip(ts, got):
            exact = mpmath.exp(mpmath.mpf(float(t)))
            ulp = math.ulp(float(exact)) if float(exact) else 5e-324
            assert abs(mpmath.mpf(float(g)) - exact) <= ulp, (t, g)


def test_cpu_exp_special_values(cpu_exp):
    got = cpu_exp(np.array([np.nan, -np.inf, np.inf, -746.0, -1e4, -1e308, 709.8, 1e4, 1e308, -0.0]))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [0.0, np.inf, 0.0, 0.0, 0.0, np.inf, np.inf, np.inf, 1.0])


def test_cpu_kernels_use_it_for_the_shared_exponentials(two_particle):
    src = two_particle.source
    assert "_e0 = _exp(-abs(m1))" in src and "_e1 = _exp(-abs(m2))" in src
    update = src[src.index("def lane_update"):src.index("def lane_step")]
    assert "math.exp" not in update
