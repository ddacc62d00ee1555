"""Generated two-particle lane kernels against independent oracles: a NumPy loop written here, the
binary margin map oracle of the associative memory, the generated W-space GD kernel, finite differences
of a NumPy loss, SciPy's ODE solver.  Also: stability at huge steps and the dip property on the kernel."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.special import expit

from gradflow.derivations.associative_memory.oracles import weight_space_gradient_numpy, weight_space_loss_numpy
from gradflow.derivations.associative_memory.simulators import weight_space_simulator
from gradflow.derivations.two_particle.instances import KAPPA, Instance
from gradflow.derivations.two_particle.oracles import (binary_margin_flow_numpy, binary_margin_loss_numpy,
                                                       binary_margin_map_numpy)
from gradflow.derivations.two_particle.simulators import gd_run, lane_flow_simulator, lane_map_simulator
from gradflow.numerics.sharpness import sharpness


def numpy_map(p1, a, eta, steps, labels="opposite"):
    """m <- m + 2 eta Kt (p o sigma(-m)), Kt = [[1, s a], [s a, 1]], s = -1 (opposite) / +1 (same)."""
    s = -1.0 if labels == "opposite" else 1.0
    Kt, p = np.array([[1, s * a], [s * a, 1]]), np.array([p1, 1 - p1])
    m, out = np.zeros(2), [np.zeros(2)]
    for _ in range(steps):
        m = m + 2 * eta * Kt @ (p * expit(-m))
        out.append(m)
    return np.array(out)


def run(p1, a, eta, steps, labels="opposite"):
    return gd_run(p1, a, eta, steps, labels)


params = dict(p1=st.floats(0.05, 0.95), a=st.floats(-1.0, 1.0), labels=st.sampled_from(["opposite", "same"]))


@settings(max_examples=20, deadline=None)
@given(eta=st.floats(1e-2, 3.0), **params)
def test_lane_kernel_equals_numpy_loop(p1, a, labels, eta):
    margins, loss, _ = run(p1, a, eta, 150, labels)
    ref = numpy_map(p1, a, eta, 150, labels)
    np.testing.assert_allclose(margins, ref, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(loss, np.logaddexp(0, -ref) @ [p1, 1 - p1], rtol=1e-11)


@settings(max_examples=20, deadline=None)
@given(eta=st.floats(1e-2, 1e2), **params)
def test_binary_margin_oracle_is_the_loop_written_here(p1, a, labels, eta):
    """The associative memory's binary margin map with kappa = 2 and the instance's Kt is this family's GD
    map, to the bit; its loss is sum_x p_x log(1 + e^{-m_x})."""
    inst = Instance(p1, a, labels)
    ref = numpy_map(p1, a, eta, 60, labels)
    np.testing.assert_array_equal(binary_margin_map_numpy(inst.Kt, inst.p, KAPPA, eta, 60), ref)
    np.testing.assert_array_equal(binary_margin_map_numpy(inst.Kt, inst.p, KAPPA, eta, 60, record=[0, 7, 60]),
                                  ref[[0, 7, 60]])
    np.testing.assert_allclose(binary_margin_loss_numpy(ref, inst.p), np.logaddexp(0, -ref) @ [p1, 1 - p1],
                               rtol=1e-15)


def test_scipy_flow_oracle_against_the_flow_kernel():
    for p1, a, labels in [(0.75, 0.95, "opposite"), (0.6, 0.4, "same")]:
        inst = Instance(p1, a, labels)
        times = np.linspace(0, 10, 6)
        alpha = a if labels == "opposite" else -a
        traj = lane_flow_simulator().integrate(np.zeros((1, 2)), {"p1": p1, "alpha": alpha}, times, "dopri5",
                                               rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(binary_margin_flow_numpy(inst.Kt, inst.p, KAPPA, times), traj.states[:, 0, :],
                                   atol=1e-8)


@settings(max_examples=12, deadline=None)
@given(eta=st.sampled_from([0.5, 4.0, 10.0, 30.0]), **dict(params, a=st.floats(-0.9, 0.9)))
def test_lane_kernel_equals_weight_space_gd(p1, a, labels, eta):
    """The particle map equals W-space GD (1e-10 relative, 200 steps), incl. spiking steps.  Embeddings
    closer to collinear leave out: there a step of 10 or 30 amplifies the two maps' different roundings past
    1e-10 (measured on a grid: 1.4e-10 at |a| = 0.94, eta = 30; 2e-8 at |a| = 0.97, eta = 10; O(1) at |a| = 1)."""
    inst = Instance(p1, a, labels)
    margins, _, _ = run(p1, a, eta, 200, labels)
    w = weight_space_simulator().gd(np.zeros((2, 2)), inst.data, inst.label_array, eta, 200)
    np.testing.assert_allclose(margins, w.margins, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(inst.zero_one(margins), w.l01)


@settings(max_examples=10, deadline=None)
@given(p1=st.floats(0.05, 0.95), a=st.floats(-0.99, 0.99), mm=st.tuples(st.floats(-8, 8), st.floats(-8, 8)))
def test_flow_rhs_is_minus_kappa_Kt_gradient_by_finite_differences(p1, a, mm):
    """dm/dt = J dW/dt = -J J^T grad_m L = -2 Kt grad_m L; grad_m L by central differences of a NumPy loss,
    and the W-space gradient (the NumPy oracle) mapped through J."""
    out = np.empty(2)
    lane_flow_simulator().module.lane_rhs(np.array(mm), np.array([p1, a]), out)
    loss = lambda m: np.logaddexp(0, -m) @ [p1, 1 - p1]  # noqa: E731
    h = 1e-6
    grad = np.array([(loss(np.array(mm) + h * e) - loss(np.array(mm) - h * e)) / (2 * h) for e in np.eye(2)])
    Kt = np.array([[1, -a], [-a, 1]])
    np.testing.assert_allclose(out, -2 * Kt @ grad, atol=1e-8)
    inst = Instance(p1, a, "opposite")
    W = inst.weights_from_margins(np.array(mm))[0]
    G = weight_space_gradient_numpy(W, inst.E, np.eye(2), inst.p, inst.label_array)
    dS = -inst.E @ G.T  # S = E W^T, dW/dt = -G
    np.testing.assert_allclose(out, [dS[0, 0] - dS[0, 1], dS[1, 1] - dS[1, 0]], atol=1e-12)


def test_flow_kernel_matches_scipy():
    p1, a = 0.75, 0.95
    times = np.linspace(0, 20, 11)
    traj = lane_flow_simulator().integrate(np.zeros((1, 2)), {"p1": p1, "alpha": a}, times, "dopri5", rtol=1e-11,
                                           atol=1e-13)
    Kt, p = np.array([[1, -a], [-a, 1]]), np.array([p1, 1 - p1])
    ref = solve_ivp(lambda t, m: 2 * Kt @ (p * expit(-m)), (0, 20), [0.0, 0.0], t_eval=times, rtol=1e-12, atol=1e-14,
                    method="DOP853").y.T
    np.testing.assert_allclose(traj.states[:, 0, :], ref, atol=1e-8)
    assert np.all(np.diff(traj.states[:4, 0, 1]) < 0)  # under the flow the rare margin first decreases (dip)


@settings(max_examples=10, deadline=None)
@given(p1=st.floats(0.05, 0.95), a=st.floats(-1.0, 1.0), eta=st.sampled_from([1.0, 10.0]), step=st.integers(0, 35))
def test_sharpness_observable_against_hvp_and_finite_differences(p1, a, eta, step):
    inst = Instance(p1, a, "opposite")
    margins, _, lane_sharp = run(p1, a, eta, 35)
    W = inst.weights_from_margins(margins[step])[0]
    via_hvp = sharpness(weight_space_simulator(), W, inst.data, method="dense")
    assert lane_sharp[step] == pytest.approx(via_hvp, rel=1e-10, abs=1e-14)
    h = 1e-4
    f = lambda w: weight_space_loss_numpy(w.reshape(2, 2), inst.E, np.eye(2), inst.p, inst.label_array)  # noqa: E731
    H = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            e_i, e_j = np.eye(4)[i] * h, np.eye(4)[j] * h
            w0 = W.ravel()
            H[i, j] = (f(w0 + e_i + e_j) - f(w0 + e_i - e_j) - f(w0 - e_i + e_j) + f(w0 - e_i - e_j)) / (4 * h * h)
    assert lane_sharp[step] == pytest.approx(np.linalg.eigvalsh(0.5 * (H + H.T))[-1], abs=1e-6)


@pytest.mark.parametrize("eta", [10.0, 100.0, 1000.0])
@pytest.mark.parametrize("a", [0.95, 0.999, 1.0, -0.5])
def test_huge_steps_stay_finite(eta, a):
    """Spiking runs never produce NaN/Inf: margins of order eta, losses of order eta."""
    margins, loss, sharp = run(0.75, a, eta, 400)
    assert np.all(np.isfinite(margins)) and np.all(np.isfinite(loss)) and np.all(np.isfinite(sharp))
    assert np.max(np.abs(margins)) > 0.1 * eta  # the first step alone is of order eta
    inst = Instance(0.75, a, "opposite")
    w = weight_space_simulator().gd(np.zeros((2, 2)), inst.data, inst.label_array, eta, 60)
    assert np.all(np.isfinite(w.loss))
    np.testing.assert_allclose(loss[:61], w.loss, rtol=1e-9, atol=1e-12 * eta)


@settings(max_examples=20, deadline=None)
@given(p1=st.floats(0.5, 0.99), a=st.floats(-1.0, 1.0), eta=st.floats(1e-2, 1e2))
def test_dip_condition_on_the_kernel_both_directions(p1, a, eta):
    """After one GD step the rare margin is negative iff alpha > p2/p1 (off a 1e-9 band)."""
    gap = a - (1 - p1) / p1
    first = run(p1, a, eta, 1)[0][1]
    np.testing.assert_allclose(first, [eta * (p1 - a * (1 - p1)), eta * ((1 - p1) - a * p1)], rtol=1e-13, atol=1e-15)
    if abs(gap) > 1e-9:
        assert (first[1] < 0) == (gap > 0)


@settings(max_examples=10, deadline=None)
@given(p1=st.floats(0.05, 0.95), a=st.floats(-1.0, 1.0))
def test_linear_stability_threshold_at_zero(p1, a):
    """The Jacobian of the generated GD map at m = 0 has eigenvalues 1 - eta lambda_i (nonzero Hessian eigenvalues,
    a neutral 1 when alpha = +-1): all in (-1, 1] iff eta < 2/sharpness(0)."""
    s0 = (1 + np.sqrt(1 - 4 * p1 * (1 - p1) * (1 - a * a))) / 4
    h = 1e-6
    for factor, stable in ((0.98, True), (1.02, False)):
        eta = factor * 2 / s0
        x0 = np.array([[h, 0], [-h, 0], [0, h], [0, -h]], dtype=float)
        y = lane_map_simulator().iterate(x0, {"p1": p1, "alpha": a, "eta": eta}, 1, [1]).states[0]
        J = np.stack([(y[0] - y[1]) / (2 * h), (y[2] - y[3]) / (2 * h)], axis=1)
        eig = np.sort(np.real(np.linalg.eigvals(J)))
        assert eig[0] == pytest.approx(1 - eta * s0, abs=1e-7)
        assert eig[1] <= 1 + 1e-7 and (eig[0] > -1) == stable
