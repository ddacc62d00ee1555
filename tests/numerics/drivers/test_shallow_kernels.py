"""Generated shallow-network kernels against the NumPy oracle and finite differences."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.derivations.shallow_relu.oracles import shallow_gd_numpy, shallow_loss_and_gradients_numpy
from gradflow.numerics.errors import DivergenceError
from gradflow.numerics.drivers.shallow_network import ShallowNetworkSimulator, initial_parameters
from gradflow.theory.activations import ReluLike, Smooth
from gradflow.theory.errors import ParameterError
from gradflow.theory.models.shallow_network import ShallowNetwork

SLOPES = [(1, 0), (1, -1), (1, sp.Rational(1, 10)), (2, sp.Rational(1, 2))]


def simulator(a_plus=1, a_minus=0):
    return ShallowNetworkSimulator(ShallowNetwork(ReluLike(a_plus, a_minus)))


@settings(max_examples=25)
@given(n=st.integers(1, 6), m=st.integers(1, 5), d=st.integers(1, 3), d_out=st.integers(1, 3),
       slopes=st.sampled_from(SLOPES), layout=st.sampled_from(["loops", "blas"]), seed=st.integers(0, 2**16))
def test_loss_and_gradients_equal_numpy(n, m, d, d_out, slopes, layout, seed):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(n, d_out))
    W, H = rng.normal(size=(m, d)), rng.normal(size=(m, d_out))
    W[0] = 0.0  # a zero neuron: every input on its kink, where rho'(0) = a_minus
    loss, gW, gH = simulator(*slopes).loss_and_gradients(X, Y, W, H, layout=layout)
    ref_loss, ref_gW, ref_gH = shallow_loss_and_gradients_numpy(W, H, X, Y, float(slopes[0]), float(slopes[1]))
    assert abs(loss - ref_loss) <= 1e-12 * max(1.0, ref_loss)
    assert np.allclose(gW, ref_gW, rtol=1e-11, atol=1e-12)
    assert np.allclose(gH, ref_gH, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("name", ["tanh", "softplus", "erf", "sigmoid"])
def test_smooth_gradients_equal_central_differences(name):
    sim = ShallowNetworkSimulator(ShallowNetwork(Smooth(name)))
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    W, H = rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    _, gW, gH = sim.loss_and_gradients(X, Y, W, H)
    h = 1e-6
    for grad, which in ((gW, 0), (gH, 1)):
        numeric = np.zeros_like(grad)
        for idx in np.ndindex(grad.shape):
            params = [W.copy(), H.copy()]
            params[which][idx] += h
            up = sim.loss_and_gradients(X, Y, *params)[0]
            params[which][idx] -= 2 * h
            down = sim.loss_and_gradients(X, Y, *params)[0]
            numeric[idx] = (up - down) / (2 * h)
        assert np.allclose(grad, numeric, atol=1e-8)


def _exp_a():
    x = np.array([-1, -0.6, -0.1, 0.3, 0.7])
    return np.stack([x, np.ones(5)], 1), np.array([0.28, -0.1, 0.03, 0.23, -0.22])


@pytest.mark.parametrize("layout", ["loops", "blas"])
def test_gd_trajectory_equals_numpy_loop(layout):
    X, Y = _exp_a()
    W0, H0 = initial_parameters(7, 2, 1, 0.3, seed=1)
    run = simulator().gd(X, Y, W0, H0, lr=0.05, n_steps=300, layout=layout, snapshots=30)
    W, H, losses = shallow_gd_numpy(W0, H0, X, Y[:, None], 1.0, 0.0, 0.05, 300)
    assert np.allclose(run.loss, losses, rtol=1e-11, atol=1e-14)
    assert np.allclose(run.W, W, atol=1e-12) and np.allclose(run.H, H, atol=1e-12)
    assert run.loss_iterations[-1] == 300 and run.status == "finished"
    assert np.allclose(run.W_snapshots[-1], W) and run.snapshot_iterations[-1] == 300
    assert np.allclose(run.W_snapshots[0], W0)


def test_float32_follows_float64():
    X, Y = _exp_a()
    W0, H0 = initial_parameters(10, 2, 1, 0.2, seed=2)
    r64 = simulator().gd(X, Y, W0, H0, 0.05, 2000, dtype=np.float64)
    r32 = simulator().gd(X, Y, W0, H0, 0.05, 2000, dtype=np.float32)
    assert r32.W.dtype == np.float32 and r64.W.dtype == np.float64
    assert np.allclose(r32.loss, r64.loss, rtol=1e-4, atol=1e-7)
    # float32 arithmetic really happened: the runs differ beyond float64 rounding
    assert np.max(np.abs(r32.loss - r64.loss)) > 1e-12


def test_ensemble_equals_single_runs_and_loss_every():
    X, Y = _exp_a()
    inits = [initial_parameters(6, 2, 1, 0.1, seed=s) for s in range(3)]
    W0s, H0s = np.stack([w for w, _ in inits]), np.stack([h for _, h in inits])
    lrs = [0.01, 0.02, 0.05]
    runs = simulator().gd_ensemble(X, Y, W0s, H0s, lrs, 500, loss_every=7)
    for (W0, H0), lr, run in zip(inits, lrs, runs):
        single = simulator().gd(X, Y, W0, H0, lr, 500, loss_every=7)
        assert np.array_equal(run.loss, single.loss) and np.array_equal(run.W, single.W)
        assert list(run.loss_iterations[:3]) == [0, 7, 14] and run.loss_iterations[-1] == 500


@pytest.mark.parametrize("stop_loss", [0.0, 1e-3])
def test_progress_bar_chunks_give_the_same_run(stop_loss, capsys):
    # with a progress bar the run is cut into >= 50 kernel calls; each continues the last exactly
    X, Y = _exp_a()
    inits = [initial_parameters(20, 2, 1, 0.5, seed=s) for s in range(2)]
    W0s, H0s = np.stack([w for w, _ in inits]), np.stack([h for _, h in inits])
    args = (X, Y, W0s, H0s, [0.05, 0.02], 20000)
    plain = simulator(1, -1).gd_ensemble(*args, loss_every=10, snapshots=50, stop_loss=stop_loss)
    shown = simulator(1, -1).gd_ensemble(*args, loss_every=10, snapshots=50, stop_loss=stop_loss, progress=True)
    err = capsys.readouterr().err  # the bar ends where the run did: at the end, or at the chunk of the early stop
    assert ("20000/20000" in err) == (stop_loss == 0.0) and "/20000" in err
    for a, b in zip(plain, shown):
        assert a.last_iteration == b.last_iteration and a.status == b.status
        assert np.array_equal(a.loss, b.loss) and np.array_equal(a.W_snapshots, b.W_snapshots, equal_nan=True)
        assert np.array_equal(a.W, b.W) and np.array_equal(a.H, b.H)


def test_stop_loss_stops_early():
    X, Y = _exp_a()
    W0, H0 = initial_parameters(20, 2, 1, 0.5, seed=0)
    run = simulator(1, -1).gd(X, Y, W0, H0, 0.05, 200000, stop_loss=1e-3, loss_every=10)
    assert run.status == "reached stop_loss" and run.final_loss <= 1e-3 < run.loss[-2]
    assert run.last_iteration == run.loss_iterations[-1] < 200000


def test_divergence_raises_with_step():
    X, Y = _exp_a()
    W0, H0 = initial_parameters(5, 2, 1, 1.0, seed=0)
    with pytest.raises(DivergenceError, match="diverged at step"):
        simulator(1, -1).gd(X * 100, Y, W0, H0, 10.0, 1000)


@pytest.mark.parametrize("kwargs,parameter", [
    ({"lr": 0.0}, "lr"), ({"lr": -1.0}, "lr"), ({"Y": np.zeros(4)}, "Y"), ({"X": np.full((5, 2), np.nan)}, "X"),
    ({"W0": np.zeros((0, 2)), "H0": np.zeros((0, 1))}, "width"), ({"W0": np.zeros((3, 3))}, "W0"),
    ({"dtype": np.float16}, "dtype"), ({"layout": "gpu"}, "layout")])
def test_bad_input_names_the_parameter(kwargs, parameter):
    X, Y = _exp_a()
    W0, H0 = initial_parameters(3, 2, 1, 0.1)
    args = dict(X=X, Y=Y, W0=W0, H0=H0, lr=0.1, n_steps=5)
    args.update(kwargs)
    with pytest.raises(ParameterError, match=f"^{parameter}"):
        simulator().gd(**args)


def test_initial_parameters_checks():
    with pytest.raises(ParameterError, match="width"):
        initial_parameters(0, 2, 1, 0.1)
    with pytest.raises(ParameterError, match="sigma"):
        initial_parameters(3, 2, 1, 0.0)


def test_generated_source_is_readable():
    source = simulator().source
    assert "def run_gd_loops" in source and "def run_gd_blas" in source and "np.dot" in source
    assert "dL/dW" in source


def test_size_specialised_kernel_equals_generic(monkeypatch):
    import gradflow.numerics.drivers.shallow_network as shallow
    from gradflow.numerics.codegen.network_module import network_module

    X, Y = _exp_a()
    W0, H0 = initial_parameters(9, 2, 1, 0.2, seed=4)
    generic = simulator().gd(X, Y, W0, H0, 0.05, 400)
    monkeypatch.setattr(shallow, "SPECIALISE_STEPS", 100)
    special = simulator().gd(X, Y, W0, H0, 0.05, 400)
    assert np.allclose(special.loss, generic.loss, rtol=1e-12, atol=0)
    module, path, _ = network_module(simulator().network, (("n", 5), ("d", 2), ("m", 9), ("d_out", 1)))
    assert "n = 5" in path.read_text()
    with pytest.raises(ValueError, match="sizes this kernel was generated for"):
        grads = np.empty((9, 3)), np.empty((9, 1))
        module.loss_and_gradients_loops(np.zeros((9, 3)), np.zeros((9, 1)), np.zeros((5, 3)), np.zeros((5, 1)),
                                        np.zeros(5), *grads)
