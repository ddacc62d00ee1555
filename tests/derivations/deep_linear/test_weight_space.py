"""Generated squared-loss kernels of the two-layer linear network against independent oracles."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.derivations.deep_linear.instances import mode_problem, orthonormal_columns
from gradflow.derivations.deep_linear.oracles import numpy_gd, numpy_loss
from gradflow.derivations.deep_linear.weight_space import SquaredLossSimulator, weight_space_system
from gradflow.numerics.closed_form import numeric_function
from gradflow.numerics.errors import DivergenceError
from gradflow.theory.errors import ParameterError
from gradflow.theory.models import deep_linear as dl

SIM = SquaredLossSimulator()
MODULE = SIM.module
sizes = st.integers(1, 5)


def _random_instance(seed, n_in, h, n_out):
    rng = np.random.default_rng(seed)
    k = min(n_in, h, n_out)
    U, V = orthonormal_columns(rng, n_out, k), orthonormal_columns(rng, n_in, k)
    data = {"C": rng.standard_normal((n_out, n_in)), "U": U, "V": V}
    initial = (0.5 * rng.standard_normal((h, n_in)), 0.5 * rng.standard_normal((n_out, h)))
    return initial, data


def test_generated_file_lists_state_and_data_order():
    source = SIM.source
    assert "State order: W_1, W_2" in source and "Data order: C, U, V" in source
    assert "@numba.njit(cache=True)" in source and "W_2.T @ G" in source
    assert SquaredLossSimulator().cache_hit  # a second build reads the cached file


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_in=sizes, h=sizes, n_out=sizes)
def test_velocities_are_minus_finite_differences_of_the_generated_loss(seed, n_in, h, n_out):
    (W1, W2), data = _random_instance(seed, n_in, h, n_out)
    C, U, V = data["C"], data["U"], data["V"]

    def loss(a, b):
        return MODULE.loss_of_prediction(MODULE.prediction(a, b, C, U, V), C, U, V)

    assert loss(W1, W2) == pytest.approx(numpy_loss(W1, W2, C), rel=1e-13)
    velocities = MODULE.velocities(W1, W2, C, U, V)
    step = 1e-6
    for index, velocity in enumerate(velocities):
        numeric = np.zeros_like(velocity)
        for entry in np.ndindex(velocity.shape):
            plus, minus = [W1.copy(), W2.copy()], [W1.copy(), W2.copy()]
            plus[index][entry] += step
            minus[index][entry] -= step
            numeric[entry] = -(loss(*plus) - loss(*minus)) / (2 * step)
        assert np.allclose(velocity, numeric, rtol=1e-6, atol=1e-7)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_in=sizes, h=sizes, n_out=sizes, eta=st.floats(1e-3, 0.05),
       steps=st.integers(0, 60))
def test_gd_kernel_matches_numpy_oracle(seed, n_in, h, n_out, eta, steps):
    initial, data = _random_instance(seed, n_in, h, n_out)
    record = np.arange(0, steps + 1, 3)
    kernel = SIM.gd(initial, data, eta, steps, record)
    oracle = numpy_gd(initial, data, eta, steps, record)
    scale = 1.0 + np.max(np.abs(oracle.loss))
    assert np.max(np.abs(kernel.loss - oracle.loss)) <= 1e-12 * scale
    assert np.max(np.abs(kernel.observable - oracle.observable)) <= 1e-12 * scale
    for ours, theirs in zip(kernel.final, oracle.final):
        assert np.max(np.abs(ours - theirs)) <= 1e-12 * scale


def test_gd_in_chunks_equals_one_call(monkeypatch):
    import gradflow.numerics.drivers.progress
    problem = mode_problem(4, 3, 3, (2.0, 1.0), 1e-2, 1)
    record = np.arange(0, 101, 5)
    whole = SIM.gd(problem.initial, problem.data, 0.02, 100, record)
    monkeypatch.setattr(gradflow.numerics.drivers.progress, "CHUNK_THRESHOLD", 0)  # 50 chunks under a progress bar
    pieces = SIM.gd(problem.initial, problem.data, 0.02, 100, record, progress=True)
    assert np.array_equal(whole.loss, pieces.loss) and np.array_equal(whole.observable, pieces.observable)
    for ours, theirs in zip(whole.final, pieces.final):
        assert np.array_equal(ours, theirs)


def test_balanced_start_records_the_mode_strengths():
    problem = mode_problem(5, 4, 3, (3.0, 2.0, 1.0), 1e-3, 0)
    run = SIM.gd(problem.initial, problem.data, 0.01, 0, [0])
    assert np.allclose(run.observable[0], 1e-3, rtol=1e-12)
    assert run.loss[0] == pytest.approx(0.5 * np.sum((problem.sigma - 1e-3) ** 2), rel=1e-12)


def test_rk4_flow_follows_the_logistic_closed_form():
    problem = mode_problem(5, 4, 3, (3.0, 2.0, 1.0), 1e-3, 0)
    times = np.linspace(0.0, 8.0, 33)
    run = SIM.flow(problem.initial, problem.data, times, step=1e-2)
    doc = dl.derive()
    logistic = numeric_function(doc.logistic, (doc.strength_flow.time, dl.sigma, dl.s0))
    expected = logistic(times[:, None], problem.sigma[None, :], 1e-3)
    assert np.max(np.abs(run.observable - expected)) < 1e-6  # RK4 with h = 0.01: O(h^4)


def test_divergence_names_step_and_quantity():
    problem = mode_problem(3, 3, 3, (3.0,), 1e-1, 0)
    with pytest.raises(DivergenceError) as info:
        SIM.gd(problem.initial, problem.data, 5.0, 200, [0, 200])
    assert info.value.step >= 1 and info.value.quantity in ("W_1", "W_2", "loss")
    assert "eta = 5.0" in str(info.value)


def test_bad_run_arguments_name_the_parameter():
    problem = mode_problem(4, 3, 2, (1.0,), 0.1, 0)
    for eta in (0.0, -1.0, float("nan")):
        with pytest.raises(ParameterError, match="eta"):
            SIM.gd(problem.initial, problem.data, eta, 10)
    with pytest.raises(ParameterError, match="W_2"):
        SIM.gd((problem.W1, problem.W2[:, :2]), problem.data, 0.1, 10)
    with pytest.raises(ParameterError, match="C"):
        SIM.gd(problem.initial, {**problem.data, "C": problem.C.T}, 0.1, 10)
    with pytest.raises(ParameterError, match="V"):
        SIM.gd(problem.initial, {"C": problem.C, "U": problem.U}, 0.1, 10)
    with pytest.raises(ParameterError, match="record"):
        SIM.gd(problem.initial, problem.data, 0.1, 10, record=[0, 11])
    with pytest.raises(ParameterError, match="step"):
        SIM.flow(problem.initial, problem.data, [0.0, 1.0], step=0.0)


@pytest.mark.long  # generates and compiles a weight-space system: not in the quick subset
def test_one_state_system_renders_and_runs():
    # a one-layer model W x: the generated tuple unpacking must also work for a single state
    import sympy as sp

    from gradflow.theory.model import Model, SquaredError

    W = sp.MatrixSymbol("W", dl.n_out, dl.n_in)
    model = Model("one-layer linear", (W,), (dl.C,), (dl.n_in, dl.n_out), W, SquaredError(dl.C))
    system = weight_space_system(model, dl.mode_matrix(model.prediction_symbol), (dl.U, dl.V))
    _, data = _random_instance(3, 4, 2, 3)
    W0 = np.random.default_rng(4).standard_normal((3, 4))
    simulator = SquaredLossSimulator(system)
    run = simulator.gd((W0,), data, 0.1, 20, [20])
    # W <- W + eta (C - W) contracts to C by (1 - eta)^steps; the flow by e^{-t}
    expected = data["C"] + (1 - 0.1) ** 20 * (W0 - data["C"])
    assert len(run.final) == 1 and np.allclose(run.final[0], expected, rtol=1e-12, atol=1e-12)
    flow = simulator.flow((W0,), data, [0.0, 1.0], step=1e-2)
    assert len(flow.final) == 1
    assert np.allclose(flow.final[0], data["C"] + np.exp(-1.0) * (W0 - data["C"]), atol=1e-9)
