"""Tests for the generated integrators (numerics/integrators/*) driven through LaneSimulator.

Oracles: closed forms (exponential decay, rotation), the implicit solution of the margin flow
e^m + (M - 1) m = M p t + 1 solved with mpmath's Lambert W, plain Python loops for the map
and for RK4 blow-up.  Each generated module is compiled once per session (module fixtures).
"""

from __future__ import annotations

import math

import mpmath
import numba
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.errors import DivergenceError, IntegrationError
from gradflow.numerics.drivers.lanes import LaneSimulator
from gradflow.theory.errors import ParameterError
from gradflow.theory.flow import Flow, Map

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset

SETTINGS = settings(max_examples=25, deadline=None)

x, y, z, b, m = sp.symbols("x y z b m", real=True)
a, w, M, p, s = sp.symbols("a w M p s", positive=True)
qa, qb, qc = sp.symbols("qa qb qc", real=True)


@pytest.fixture(scope="module")
def linear():
    """dx/dt = -a x (decay), d(y, z)/dt = w (-z, y) (rotation) and db/dt = s b^2 (blow-up), one lane.

    One module for all three keeps the Numba compilation to one RK4 and one DOPRI5 kernel.  With
    b(0) = 0 the blow-up component stays exactly 0 and does not influence step-size control.
    """
    return LaneSimulator(Flow((x, y, z, b), (-a * x, -w * z, w * y, s * b ** 2), (a, w, s),
                              name="decay, rotation and blow-up"))


@pytest.fixture(scope="module")
def margin():
    return LaneSimulator(Flow((m,), (M * p / (sp.exp(m) + M - 1),), (M, p), name="margin flow (integrator tests)"))


@pytest.fixture(scope="module")
def quadratic():
    """x <- qa x^2 + qb x + qc: the logistic map for (-r, r, 0), x^2 + 1 for (1, 0, 1)."""
    return LaneSimulator(Map((x,), (qa * x ** 2 + qb * x + qc,), (qa, qb, qc), name="quadratic map"))


def lanes_of(x0, q, b0=0.0, sv=1.0):
    """Append the blow-up component b(0) = b0 and its rate s = sv to (x, y, z) lanes and (a, w)."""
    x0, q = np.atleast_2d(np.asarray(x0, float)), np.atleast_2d(np.asarray(q, float))
    return (np.column_stack([x0, np.full(len(x0), b0)]), np.column_stack([q, np.full(len(q), sv)]))


def linear_exact(times, x0, q):
    """Closed forms; b stays exactly 0 when it starts at 0."""
    times = np.asarray(times, float)[:, None]
    out = np.zeros((times.shape[0],) + x0.shape)
    out[:, :, 0] = x0[:, 0] * np.exp(-q[:, 0] * times)
    c, sn = np.cos(q[:, 1] * times), np.sin(q[:, 1] * times)
    out[:, :, 1] = c * x0[:, 1] - sn * x0[:, 2]
    out[:, :, 2] = sn * x0[:, 1] + c * x0[:, 2]
    return out


lanes_linear = st.lists(
    st.tuples(st.floats(0.1, 3.0), st.floats(0.5, 5.0), st.floats(-3.0, 3.0), st.floats(-3.0, 3.0),
              st.floats(-3.0, 3.0)),
    min_size=1, max_size=4)
record_times = st.lists(st.floats(0.0, 3.0), min_size=1, max_size=6).map(sorted)


def _split(lanes):
    arr = np.array(lanes, dtype=float)
    return lanes_of(arr[:, 2:], arr[:, :2])


# ----------------------------------------------------------------------------- RK4 / DOPRI5


@SETTINGS
@given(lanes=lanes_linear, times=record_times)
def test_rk4_matches_closed_forms_at_any_record_times(linear, lanes, times):
    x0, q = _split(lanes)
    traj = linear.integrate(x0, q, times, method="rk4", step=1e-3)
    assert traj.method == "rk4"
    np.testing.assert_array_equal(traj.times, np.asarray(times))  # exactly the requested times
    assert traj.states.shape == (len(times), len(lanes), 4)
    # global RK4 error ~ (w h)^4 w t |x|: at most 3.3e-10 for w <= 5, t <= 3, |x| <= 3 sqrt(2)
    np.testing.assert_allclose(traj.states, linear_exact(times, x0, q), rtol=0, atol=1e-9)
    # the rotation conserves y^2 + z^2 (RK4 only approximately, to its order)
    radius = traj.states[:, :, 1] ** 2 + traj.states[:, :, 2] ** 2
    np.testing.assert_allclose(radius, np.broadcast_to(x0[:, 1] ** 2 + x0[:, 2] ** 2, radius.shape), atol=2e-9)


def test_rk4_is_fourth_order(linear):
    x0, q = lanes_of([[1.0, 1.0, 0.0], [2.0, 0.5, -1.0]], [[1.0, 2.0], [0.5, 3.0]])
    times = np.array([0.0, 1.0, 2.5])
    exact = linear_exact(times, x0, q)
    errors = [np.abs(linear.integrate(x0, q, times, method="rk4", step=h).states - exact).max()
              for h in (0.05, 0.025, 0.0125)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 13.0) & (ratios < 19.0)), (errors, ratios)  # 2^4 = 16


@SETTINGS
@given(lanes=lanes_linear, times=record_times)
def test_dopri5_matches_closed_forms(linear, lanes, times):
    x0, q = _split(lanes)
    traj = linear.integrate(x0, q, times, method="dopri5", rtol=1e-10, atol=1e-12)
    assert traj.method == "dopri5"
    np.testing.assert_array_equal(traj.times, np.asarray(times))
    np.testing.assert_allclose(traj.states, linear_exact(times, x0, q), rtol=0, atol=5e-9)
    assert traj.work.shape == (len(lanes),) and np.all(traj.work >= 0)


def test_dopri5_tolerance_controls_error_and_work(linear):
    x0, q = lanes_of([[1.0, 1.0, 0.0], [2.0, 0.5, -1.0]], [[1.0, 2.0], [0.5, 3.0]])
    times = np.array([0.0, 0.7, 3.0])
    exact = linear_exact(times, x0, q)
    errors, work = [], []
    for rtol in (1e-5, 1e-7, 1e-9, 1e-11):
        traj = linear.integrate(x0, q, times, method="dopri5", rtol=rtol, atol=rtol * 1e-2)
        errors.append(np.abs(traj.states - exact).max())
        work.append(traj.work.sum())
        assert errors[-1] < 30 * rtol, (rtol, errors[-1])
    assert errors == sorted(errors, reverse=True) and work == sorted(work)
    # a fifth-order method: 100x tighter tolerance costs about 100^(1/5) = 2.5x the steps
    ratios = np.array(work[1:]) / np.array(work[:-1])
    assert np.all((ratios > 1.6) & (ratios < 4.0)), work


@pytest.mark.parametrize("method", ["rk4", "dopri5", "logtime"])
def test_record_times_with_zero_and_duplicates(linear, method):
    x0, q = lanes_of([[1.5, -0.5, 2.0]], [[0.7, 1.3]])
    times = np.array([0.0, 0.0, 0.123, 0.5, 0.5, 1.0, 2.0, 2.0, 4.25])
    traj = linear.integrate(x0, q, times, method=method, step=1e-3)
    np.testing.assert_array_equal(traj.times, times)
    np.testing.assert_array_equal(traj.states[0], x0)  # t = 0 is the initial state, untouched
    np.testing.assert_array_equal(traj.states[1], x0)
    np.testing.assert_array_equal(traj.states[3], traj.states[4])  # a repeated time repeats the row
    np.testing.assert_array_equal(traj.states[6], traj.states[7])
    np.testing.assert_allclose(traj.states, linear_exact(times, x0, q), rtol=0, atol=1e-8)


# --------------------------------------------------------------------------- log-time


def margin_exact(t, Mv, pv):
    """Solution of dm/dt = M p / (e^m + M - 1), m(0) = 0: e^m + (M-1) m = M p t + 1."""
    with mpmath.workdps(40):
        k = mpmath.mpf(Mv) * mpmath.mpf(pv) * mpmath.mpf(t) + 1
        c = Mv - 1
        return float(k / c - mpmath.lambertw(mpmath.exp(k / c) / c))


LOG_TIMES = np.concatenate(([0.0], np.logspace(0, 12, 25)))


@settings(max_examples=10, deadline=None)
@given(lanes=st.lists(st.tuples(st.integers(2, 100), st.floats(0.05, 1.0)), min_size=1, max_size=4))
def test_logtime_reaches_1e12_and_follows_the_log_law(margin, lanes):
    q = np.array(lanes, dtype=float)
    x0 = np.zeros((len(lanes), 1))
    traj = margin.integrate(x0, q, LOG_TIMES, method="logtime", rtol=1e-12, atol=1e-14)
    assert traj.method == "logtime"
    np.testing.assert_array_equal(traj.times, LOG_TIMES)
    assert np.all(traj.work <= 800)  # a few hundred steps to t = 1e12
    for lane, (Mv, pv) in enumerate(lanes):
        got = traj.states[:, lane, 0]
        exact = np.array([margin_exact(t, Mv, pv) for t in LOG_TIMES])
        np.testing.assert_allclose(got, exact, rtol=0, atol=1e-10)
        late = LOG_TIMES >= 1e3  # M p <= 100 <= t / 10: the asymptotic regime
        t = LOG_TIMES[late]
        law = np.log(Mv * pv * t)
        bound = 2 * (Mv - 1) * np.log(t) / (Mv * pv * t)
        assert np.all(np.abs(got[late] - law) <= bound), (Mv, pv, np.abs(got[late] - law) / bound)
    assert np.all(np.diff(traj.states[:, :, 0], axis=0) >= 0)  # margins only grow


def test_logtime_is_cheaper_than_dopri5_in_t(margin):
    q = np.array([[10.0, 0.5], [2.0, 0.1], [100.0, 0.9]])
    x0 = np.zeros((3, 1))
    work = {}
    for method in ("logtime", "dopri5"):
        for t_end in (1e6, 1e12):
            traj = margin.integrate(x0, q, [0.0, t_end], method=method)
            exact = np.array([margin_exact(t_end, Mv, pv) for Mv, pv in q])
            np.testing.assert_allclose(traj.states[1, :, 0], exact, rtol=0, atol=1e-8)
            work[method, t_end] = traj.work
    # at t = 1e6 log-time already takes clearly fewer steps (measured: about 0.55x)
    assert np.all(work["logtime", 1e6] < 0.75 * work["dopri5", 1e6]), work
    assert np.all(work["logtime", 1e12] < 0.4 * work["dopri5", 1e12]), work
    # and from 1e6 to 1e12 it needs almost nothing: tau = log t makes the solution nearly linear
    extra_log = work["logtime", 1e12] - work["logtime", 1e6]
    extra_t = work["dopri5", 1e12] - work["dopri5", 1e6]
    assert np.all(extra_log < 0.2 * extra_t), (extra_log, extra_t)
    assert np.all(extra_log < 40)


# ------------------------------------------------------------------- DOPRI5 on blocks of lanes
#
# integrate_dopri5 advances the lanes in blocks (lane loop inside, vectorised), each lane with its own step
# size, error control, step count and status: a lane must come out exactly as if it were integrated alone.


def run_dopri5(sim, x0, q, times, block, log_time=True, rtol=1e-9, atol=1e-11, max_steps=10**7):
    """The generated kernel called directly, with a chosen block size: (states, status)."""
    x0, q = np.ascontiguousarray(x0, dtype=float), np.ascontiguousarray(q, dtype=float)
    times = np.asarray(times, dtype=float)
    out = np.full((times.size,) + x0.shape, np.nan)
    status = np.zeros((x0.shape[0], 2), dtype=np.int64)
    sim.module.integrate_dopri5(x0, q, times, log_time, 1.0, rtol, atol, max_steps, out, status, block)
    return out, status


margin_lanes = st.lists(st.tuples(st.sampled_from([2.0, 4.0, 10.0, 100.0]), st.floats(0.05, 1.0)),
                        min_size=1, max_size=150)


@settings(max_examples=15, deadline=None)
@given(lanes=margin_lanes, block=st.sampled_from([3, 8, 64, 256]), log_time=st.booleans())
def test_each_lane_is_integrated_as_if_alone(margin, lanes, block, log_time):
    q = np.array(lanes)
    x0 = np.zeros((len(lanes), 1))
    times = [0.0, 0.5, 30.0, 1e3]
    together, status = run_dopri5(margin, x0, q, times, block, log_time)
    alone, alone_status = run_dopri5(margin, x0, q, times, 1, log_time)  # one lane per block
    np.testing.assert_array_equal(together, alone)  # the same doubles: no lane sees its neighbours
    np.testing.assert_array_equal(status, alone_status)  # the same step counts, all codes -1
    assert np.all(status[:, 1] == -1)


def test_logtime_on_many_lanes_meets_the_bench_accuracy(margin):
    # the am-flow bench's tolerances: relative error < 1e-8 at t = 1e8 against the implicit solution
    rng = np.random.default_rng(3)
    q = np.c_[rng.choice([2.0, 4.0, 10.0], 300), rng.uniform(0.05, 1.0, 300)]
    traj = margin.integrate(np.zeros((300, 1)), q, [0.0, 1e8], "logtime", rtol=1e-9, atol=1e-11)
    exact = np.array([margin_exact(1e8, Mv, pv) for Mv, pv in q])
    assert np.max(np.abs(traj.states[-1, :, 0] - exact) / exact) < 1e-8
    assert np.all(traj.work < 150)


def test_a_lane_that_blows_up_leaves_its_block_alone(linear):
    # lane 5 of 20 (one block) blows up at t = 1; the others follow their closed forms to t = 2
    x0, q = lanes_of(np.tile([1.0, 1.0, 0.0], (20, 1)), np.c_[np.linspace(0.5, 2.0, 20), np.linspace(1.0, 3.0, 20)])
    x0[5, 3] = 1.0
    times = np.array([0.0, 0.5, 2.0])
    states, status = run_dopri5(linear, x0, q, times, 64, log_time=False, rtol=1e-10, atol=1e-12)
    healthy = np.arange(20) != 5
    assert np.all(status[healthy, 1] == -1) and status[5, 1] in (3, -3)  # b non-finite, or the step underflows
    np.testing.assert_allclose(states[:, healthy], linear_exact(times, x0, q)[:, healthy], rtol=0, atol=5e-9)
    np.testing.assert_allclose(states[1, 5, 3], 2.0, rtol=1e-8)  # b = 1 / (1 - t) before the blow-up
    with pytest.raises((DivergenceError, IntegrationError), match="lane 5"):
        linear.integrate(x0, q, times, method="dopri5")


def test_max_steps_counts_per_lane(linear):
    # a slow rotation needs few steps, a fast one many: a budget between them stops only the fast lane
    x0, q = lanes_of([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]], [[1.0, 0.5], [1.0, 5.0]])
    times = np.array([0.0, 3.0])
    _, free = run_dopri5(linear, x0, q, times, 8, log_time=False, rtol=1e-10, atol=1e-12)
    slow, fast = free[:, 0]
    assert slow < fast
    states, status = run_dopri5(linear, x0, q, times, 8, log_time=False, rtol=1e-10, atol=1e-12, max_steps=slow + 1)
    np.testing.assert_array_equal(status[0], [slow, -1])
    np.testing.assert_array_equal(status[1], [slow + 1, -2])
    np.testing.assert_allclose(states[:, 0], linear_exact(times, x0, q)[:, 0], rtol=0, atol=5e-9)
    with pytest.raises(IntegrationError, match="lane 1 after .* too many steps"):
        linear.integrate(x0, q, times, method="dopri5", max_steps=slow + 1)


@pytest.fixture(scope="module")
def step_factor():
    """dopri5's _step_factor, compiled from its source (with support's _double_from_bits, as the generated
    modules import it)."""
    from gradflow.numerics.codegen.support import _double_from_bits
    from gradflow.numerics.integrators.dopri5 import SOURCE

    start = SOURCE.index("@numba.extending.intrinsic")
    end = SOURCE.index("@numba.njit(cache=True, error_model", start)
    scope = {"_double_from_bits": _double_from_bits}
    exec("import math\nimport llvmlite.ir\nimport numba\nimport numba.extending\nimport numpy as np\n"  # noqa: S102
         + SOURCE[start:end].replace("cache=True, ", ""), scope)
    factor = scope["_step_factor"]

    @numba.njit
    def many(errs):
        out = np.empty_like(errs)
        for i in range(errs.size):
            out[i] = factor(errs[i])
        return out

    return many


def test_step_factor_is_the_clipped_fifth_root(step_factor):
    # min(5, max(0.2, 0.9 err^(-1/5))) without libm's pow: within 4 ulp of NumPy's power everywhere
    errs = np.concatenate([np.logspace(-320, 300, 20001), np.random.default_rng(5).uniform(0, 3, 20000),
                           [1.9e-4, 1846.0, 1.0, 1e-5, 1e5]])
    with np.errstate(divide="ignore"):
        want = np.minimum(5.0, np.maximum(0.2, 0.9 * errs ** -0.2))
    got = step_factor(errs)
    assert np.all(np.abs(got - want) <= 4 * np.spacing(want)), np.max(np.abs(got - want) / np.spacing(want))
    np.testing.assert_array_equal(step_factor(np.array([0.0, 5e-324, np.inf])), [5.0, 5.0, 0.2])


# ------------------------------------------------------------------------- map iteration


def python_iterate(x0, coefficients, n_steps):
    qa_, qb_, qc_ = coefficients
    out = [x0]
    xv = x0
    for _ in range(n_steps):
        xv = qa_ * (xv * xv) + qb_ * xv + qc_  # x * x: Python's ** raises on overflow
        out.append(xv)
    return out


@SETTINGS
@given(
    lanes=st.lists(st.tuples(st.floats(0.5, 2.9), st.floats(0.01, 0.99)), min_size=1, max_size=4),
    n_steps=st.integers(0, 300),
    data=st.data(),
)
def test_map_iteration_with_record_grid_equals_python_loop(quadratic, lanes, n_steps, data):
    record = data.draw(st.lists(st.integers(0, n_steps), min_size=1, max_size=12))  # unsorted, repeats
    q = np.array([[-r, r, 0.0] for r, _ in lanes])
    x0 = np.array([[xv] for _, xv in lanes])
    traj = quadratic.iterate(x0, q, n_steps, record=record)
    steps = sorted(set(record))
    np.testing.assert_array_equal(traj.times, np.array(steps, dtype=float))
    assert traj.method == "map"
    for lane, (r, xv) in enumerate(lanes):
        expected = python_iterate(xv, (-r, r, 0.0), n_steps)
        np.testing.assert_allclose(traj.states[:, lane, 0], [expected[k] for k in steps], rtol=1e-12, atol=0)
    full = quadratic.iterate(x0, q, n_steps)  # default: every step
    np.testing.assert_array_equal(full.times, np.arange(n_steps + 1, dtype=float))
    np.testing.assert_array_equal(full.states[steps], traj.states)


def test_map_iteration_cut_into_progress_chunks_is_unchanged(quadratic, monkeypatch):
    progress = pytest.importorskip("gradflow.numerics.drivers.progress")
    lanes = [(2.5, 0.1), (1.5, 0.9), (2.9, 0.33)]
    q = np.array([[-r, r, 0.0] for r, _ in lanes])
    x0 = np.array([[xv] for _, xv in lanes])
    record = [157, 0, 3, 50, 51, 51, 100, 156]
    whole = quadratic.iterate(x0, q, 157, record=record)
    monkeypatch.setattr(progress, "CHUNK_THRESHOLD", 1)  # force the chunked path (50 pieces)
    chunked = quadratic.iterate(x0, q, 157, record=record, progress=True)
    np.testing.assert_array_equal(chunked.times, whole.times)
    np.testing.assert_array_equal(chunked.states, whole.states)
    for lane, (r, xv) in enumerate(lanes):
        expected = python_iterate(xv, (-r, r, 0.0), 157)
        np.testing.assert_allclose(chunked.states[:, lane, 0], [expected[k] for k in sorted(set(record))],
                                   rtol=1e-12, atol=0)
    # divergence inside a later chunk still reports the global step
    with pytest.raises(DivergenceError) as info:
        quadratic.iterate([[10.0]], [[1.0, 0.0, 1.0]], 200, progress=True)
    assert info.value.step == 9


# ---------------------------------------------------------------------------- divergence


def test_map_divergence_names_step_and_state(quadratic):
    expected = python_iterate(10.0, (1.0, 0.0, 1.0), 20)
    first_bad = next(k for k, v in enumerate(expected) if not math.isfinite(v))
    assert first_bad == 9  # 10, 101, 10202, ... overflows on the 9th step
    with pytest.raises(DivergenceError) as info:
        quadratic.iterate([[10.0]], [[1.0, 0.0, 1.0]], 50)
    assert info.value.step == first_bad
    assert info.value.quantity == "x"
    message = str(info.value)
    assert f"step {first_bad}" in message and "x" in message
    # a healthy lane next to a diverging one: the error names the diverging lane
    with pytest.raises(DivergenceError, match="lane 1"):
        quadratic.iterate([[0.5], [10.0]], [[-2.0, 2.0, 0.0], [1.0, 0.0, 1.0]], 50)
    # stopping before the overflow is fine
    ok = quadratic.iterate([[10.0]], [[1.0, 0.0, 1.0]], first_bad - 1)
    assert ok.states[-1, 0, 0] == pytest.approx(expected[first_bad - 1], rel=1e-12)


def python_rk4_first_nonfinite(x0, h, n_max):
    xv = x0
    for step in range(1, n_max + 1):
        k1 = xv * xv
        k2 = (xv + 0.5 * h * k1) ** 2
        k3 = (xv + 0.5 * h * k2) ** 2
        k4 = (xv + h * k3) ** 2
        xv = xv + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        if not math.isfinite(xv):
            return step
    return None


BLOW_UP = lanes_of([[1.0, 1.0, 0.0]], [[1.0, 1.0]], b0=1.0, sv=1.0)


def test_flow_blow_up_raises_divergence_with_rk4(linear):
    # b' = b^2, b(0) = 1: b = 1 / (1 - t) blows up at t = 1
    first_bad = python_rk4_first_nonfinite(1.0, 0.01, 1000)
    assert first_bad is not None and 100 <= first_bad <= 200
    with pytest.raises(DivergenceError) as info:
        linear.integrate(*BLOW_UP, [0.0, 2.0], method="rk4", step=0.01)
    assert info.value.step == first_bad
    assert info.value.quantity == "b"
    assert f"step {first_bad}" in str(info.value) and "b became non-finite" in str(info.value)
    # a healthy lane beside it: the error names the lane that diverged
    x0, q = lanes_of([[1.0, 1.0, 0.0]] * 2, [[1.0, 1.0]] * 2)
    x0[1, 3] = 1.0
    with pytest.raises(DivergenceError, match="lane 1"):
        linear.integrate(x0, q, [0.0, 2.0], method="rk4", step=0.01)
    # before the singularity the solution is accurate
    traj = linear.integrate(*BLOW_UP, [0.0, 0.5, 0.9], method="rk4", step=1e-3)
    np.testing.assert_allclose(traj.states[:, 0, 3], [1.0, 2.0, 10.0], rtol=1e-8)


@pytest.mark.parametrize("method", ["dopri5", "logtime"])
def test_adaptive_methods_never_return_nan_silently(linear, method):
    # b' = s b^2 from b = -1 with s = 1e10: b(t) = -1 / (1 + s t) is bounded, but the first trial
    # step (h = 1e-3) overflows.  A correct run rejects that step and shrinks h.
    x0, q = lanes_of([[1.0, 1.0, 0.0]], [[1.0, 1.0]], b0=-1.0, sv=1e10)
    try:
        traj = linear.integrate(x0, q, [0.0, 1.0], method=method)
    except IntegrationError:
        pass  # giving up loudly would be acceptable
    else:
        assert np.all(np.isfinite(traj.states)), traj.states
        assert traj.states[-1, 0, 3] == pytest.approx(-1.0 / (1.0 + 1e10), rel=1e-6)
    # the same from b = +1 blows up at t = 1e-10: that must be an error, not NaN states
    x0, q = lanes_of([[1.0, 1.0, 0.0]], [[1.0, 1.0]], b0=1.0, sv=1e10)
    with pytest.raises((DivergenceError, IntegrationError)):
        linear.integrate(x0, q, [0.0, 1.0], method=method)


def test_flow_blow_up_is_never_silent_with_dopri5(linear):
    with pytest.raises((DivergenceError, IntegrationError)):
        linear.integrate(*BLOW_UP, [0.0, 2.0], method="dopri5")
    traj = linear.integrate(*BLOW_UP, [0.0, 0.9], method="dopri5")
    assert traj.states[-1, 0, 3] == pytest.approx(10.0, rel=1e-8)


# ------------------------------------------------------------------------- bad parameters


FLOW_CASES = {
    "initial with 3 components for a 4-state flow": (dict(initial=np.zeros((2, 3))), "initial"),
    "initial 3-d": (dict(initial=np.zeros((2, 1, 4))), "initial"),
    "params with 2 columns": (dict(params=np.ones((2, 2))), "params"),
    "params for one lane only": (dict(params=np.ones((1, 3))), "params"),
    "params not finite": (dict(params=np.array([[1.0, np.nan, 1.0], [1.0, 1.0, 1.0]])), "params"),
    "initial not finite": (dict(initial=np.array([[np.inf, 0, 0, 0], [1.0, 0, 0, 0]])), "params"),
    "unsorted times": (dict(times=[0.0, 2.0, 1.0]), "times"),
    "negative times": (dict(times=[-1.0, 1.0]), "times"),
    "empty times": (dict(times=[]), "times"),
    "2-d times": (dict(times=[[0.0, 1.0]]), "times"),
    "nan in times": (dict(times=[0.0, np.nan]), "times"),
    "zero step": (dict(step=0.0), "step"),
    "negative step": (dict(step=-0.1), "step"),
    "zero rtol": (dict(rtol=0.0), "rtol"),
    "negative atol": (dict(atol=-1.0), "atol"),
    "unknown method": (dict(method="euler"), "method"),
}


@pytest.mark.parametrize("case", sorted(FLOW_CASES))
def test_flow_parameter_errors(linear, case):
    change, parameter = FLOW_CASES[case]
    arguments = dict(initial=np.zeros((2, 4)), params=np.ones((2, 3)), times=[0.0, 1.0], method="rk4")
    arguments.update(change)
    initial, params, times = arguments.pop("initial"), arguments.pop("params"), arguments.pop("times")
    with pytest.raises(ParameterError) as info:
        linear.integrate(initial, params, times, **arguments)
    assert parameter in info.value.parameter
    assert str(info.value).startswith(info.value.parameter + ": must be")


@pytest.mark.parametrize(
    "call, parameter",
    [
        (lambda sim: sim.iterate([[0.5]], [[-2.0, 2.0, 0.0]], -1), "n_steps"),
        (lambda sim: sim.iterate([[0.5]], [[-2.0, 2.0, 0.0]], 2.5), "n_steps"),
        (lambda sim: sim.iterate([[0.5]], [[-2.0, 2.0, 0.0]], 5, record=[0, 6]), "record"),
        (lambda sim: sim.iterate([[0.5]], [[-2.0, 2.0, 0.0]], 5, record=[-1, 2]), "record"),
        (lambda sim: sim.iterate([[0.5]], [[-2.0, 2.0, 0.0]], 5, record=[]), "record"),
        (lambda sim: sim.iterate(np.zeros((2, 2)), [[-2.0, 2.0, 0.0]] * 2, 5), "initial"),
        (lambda sim: sim.iterate([[0.5]], [[-2.0, 2.0]], 5), "params"),
        (lambda sim: sim.iterate([[0.5], [0.2]], [[-2.0, 2.0, 0.0]], 5), "params"),
        (lambda sim: sim.integrate([[0.5]], [[-2.0, 2.0, 0.0]], [0.0, 1.0]), "method"),
    ],
)
def test_map_parameter_errors(quadratic, call, parameter):
    with pytest.raises(ParameterError) as info:
        call(quadratic)
    assert info.value.parameter == parameter


def test_iterate_on_a_flow_is_refused(linear):
    with pytest.raises(ParameterError, match="method"):
        linear.iterate(np.zeros((1, 4)), np.ones((1, 3)), 3)


def test_one_state_lanes_accept_a_flat_initial_vector(quadratic):
    # k = 1: a flat vector of L numbers is L lanes, not one lane of L components
    traj = quadratic.iterate([0.25, 0.5], [[-2.0, 2.0, 0.0], [-2.0, 2.0, 0.0]], 1)
    np.testing.assert_allclose(traj.states[1, :, 0], [2 * 0.25 * 0.75, 2 * 0.5 * 0.5], rtol=1e-15)


@pytest.mark.parametrize("method", ["dopri5", "logtime"])
def test_infinite_time_is_a_parameter_error(linear, method):
    x0, q = lanes_of([[1.0, 1.0, 0.0]], [[1.0, 1.0]])
    with pytest.raises(ParameterError, match="times"):
        linear.integrate(x0, q, [0.0, np.inf], method=method, max_steps=1000)


@pytest.mark.parametrize("t_switch", [0.0, -1.0])
def test_non_positive_t_switch_is_a_parameter_error(margin, t_switch):
    with pytest.raises(ParameterError, match="t_switch"):
        margin.integrate(np.zeros((1, 1)), [[10.0, 0.5]], [0.0, 10.0], method="logtime", t_switch=t_switch)
