"""The generated MLP kernels against a plain NumPy network, finite differences and PyTorch."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.mlp import L2, Barrier, Merge, MLPKernels, MLPObjective, hessian_spectrum, prepare_samples
from gradflow.theory.errors import ParameterError
from gradflow.theory.mlp import Layer, Network, random_params
from gradflow.theory.strategies import mlps

from . import oracle


def _data(net, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, net.input_dim))
    if net.loss == "nll":
        Y = rng.integers(0, net.output_dim, n)
    else:
        Y = rng.normal(size=(n, net.output_dim))
    w = rng.uniform(0.2, 2.0, n)
    return X, Y, w


def _point(net, seed, scale=0.5):
    rng = np.random.default_rng(seed)
    return random_params(net, seed) + scale * rng.normal(size=net.n_params)


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300))


def _far_from_kinks(net, theta, X, margin=1e-3):
    _, zs, _ = oracle.forward(net, theta, X)
    for layer, Z in zip(net.layers, zs):
        for u, act in enumerate(layer.activation):
            if act.kink and np.min(np.abs(Z[:, u])) < margin:
                return False
    return True


SMALL = Network(2, (Layer(3, ("tanh", "softplus", "relu")), Layer(2, "gelu", bias=False), Layer(2)))


def test_the_loss_is_exact_for_every_sample_count_from_1_to_64_across_chunk_edges():
    X, Y, w = _data(SMALL, 64, 0)
    theta = _point(SMALL, 1)
    for chunk in (5, 8, None):
        kernels = MLPKernels(SMALL, chunk=chunk)
        for n in range(1, 65):
            got = kernels.loss(theta, prepare_samples(SMALL, X[:n], Y[:n], w[:n]))
            want = oracle.loss(SMALL, theta, X[:n], Y[:n], w[:n])
            assert abs(got - want) <= 1e-13 * abs(want), (chunk, n, got, want)


def test_ensemble_members_equal_single_calls():
    X, Y, w = _data(SMALL, 37, 2)
    Theta = np.stack([_point(SMALL, s) for s in range(5)])
    for chunk in (4, None):
        kernels = MLPKernels(SMALL, chunk=chunk)
        data = prepare_samples(SMALL, X, Y, w)
        losses, grads = kernels.gradient_ensemble(Theta, data)
        assert np.array_equal(kernels.loss_ensemble(Theta, data), losses)
        for e in range(5):
            loss, grad = kernels.loss_and_gradient(Theta[e], data)
            assert losses[e] == pytest.approx(loss, rel=1e-14) and np.allclose(grads[e], grad, rtol=1e-13, atol=0)



def test_read_only_inputs_give_the_same_numbers():
    # the kernels are compiled for writable arrays (and call each other at fixed signatures): read-only
    # parameters and data are copied on the way in, never a typing error or a second compilation
    X, Y, w = _data(SMALL, 300, 3)
    Theta = np.stack([_point(SMALL, s) for s in range(3)])
    frozen = [a.copy() for a in (X, Y, w, Theta)]
    for a in frozen:
        a.flags.writeable = False
    kernels = MLPKernels(SMALL)
    data, frozen_data = prepare_samples(SMALL, X, Y, w), prepare_samples(SMALL, *frozen[:3])
    assert frozen_data.X.flags.writeable and frozen_data.w.flags.writeable
    for theta, frozen_theta in zip(Theta, frozen[3]):
        want = kernels.loss_and_gradient(theta, data)
        got = kernels.loss_and_gradient(frozen_theta, frozen_data)
        assert got[0] == want[0] and np.array_equal(got[1], want[1])
    for kernel in (kernels.loss_ensemble, kernels.gradient_ensemble):
        want, got = kernel(Theta, data), kernel(frozen[3], frozen_data)
        want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
        assert len(want) == len(got) and all(np.array_equal(a, b) for a, b in zip(want, got))

@settings(max_examples=25)
@given(mlps(), st.integers(1, 40), st.integers(0, 2 ** 16))
def test_loss_and_gradient_equal_the_numpy_network(net, n, seed):
    X, Y, w = _data(net, n, seed)
    theta = _point(net, seed)
    objective = MLPObjective.create(net, X, Y, w, chunk=7)
    loss, grad = objective.loss_and_gradient(theta)
    want = oracle.loss(net, theta, X, Y, w)
    assert loss == pytest.approx(want, rel=1e-13, abs=1e-300)
    # 1e-11: sums over samples and units that cancel round apart (a drawn network with a cube unit and a
    # softmax output, gradient entries up to 1e-3, differed from NumPy's by 2.1e-12 of the largest)
    assert _rel(grad, oracle.gradient(net, theta, X, Y, w)) <= 1e-11 or np.max(np.abs(grad)) < 1e-300


def _central(f, theta, eps):
    return np.array([(f(theta + eps * e) - f(theta - eps * e)) / (2 * eps) for e in np.eye(theta.size)])


@settings(max_examples=15)
@given(mlps(hidden_max=2, width_max=4), st.integers(1, 12), st.integers(0, 2 ** 16))
def test_gradient_and_hessian_equal_central_differences_of_the_generated_kernels(net, n, seed):
    X, Y, w = _data(net, n, seed)
    theta = _point(net, seed)
    if not _far_from_kinks(net, theta, X):
        return  # derivatives are one-sided there; the Hessian is the almost-everywhere one
    objective = MLPObjective.create(net, X, Y, w)
    loss, grad, H = objective.loss_gradient_hessian(theta)
    fd_grad = _central(objective.loss, theta, 1e-6)
    assert np.max(np.abs(grad - fd_grad)) <= 1e-6 * max(1.0, np.max(np.abs(grad)))
    fd_H = _central(lambda t: objective.loss_and_gradient(t)[1], theta, 1e-6)
    assert np.max(np.abs(H - fd_H)) <= 1e-6 * max(1.0, np.max(np.abs(H)))
    assert np.max(np.abs(H - H.T)) <= 1e-14 * np.max(np.abs(H))
    v = np.random.default_rng(seed).normal(size=net.n_params)
    assert np.allclose(objective.hessian_vector(theta, v), H @ v, rtol=1e-10, atol=1e-12 * np.max(np.abs(H)))


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
@pytest.mark.parametrize("net", [
    SMALL,
    Network(3, (Layer(4, ("sigmoid", "erf", "silu", "softplus")), Layer(3, "tanh"), Layer(3, "softmax")), loss="nll"),
    Network(1, (Layer(2, "cube", bias=False), Layer(2, "g"), Layer(1, "tanh")), output_mean=True),
])
def test_hessian_equals_torch_autograd(net):
    import torch

    X, Y, w = _data(net, 9, 4)
    theta = _point(net, 5)
    H = MLPObjective.create(net, X, Y, w).hessian(theta)
    torch_acts = {"tanh": torch.tanh, "softplus": torch.nn.functional.softplus, "relu": torch.relu,
                  "gelu": lambda z: torch.nn.functional.gelu(z), "identity": lambda z: z, "softmax": lambda z: z,
                  "sigmoid": torch.sigmoid, "erf": torch.erf, "silu": torch.nn.functional.silu,
                  "cube": lambda z: z ** 3, "g": lambda z: torch.sigmoid(4 * z) + torch.nn.functional.softplus(z)}
    Xt, wt = torch.tensor(X), torch.tensor(w)
    T = torch.tensor(oracle.targets(net, Y, len(X)))

    def loss(t):
        A, start = Xt, 0
        for (rows, cols), layer in zip(net.shapes, net.layers):
            W = t[start:start + rows * cols].reshape(rows, cols)
            start += rows * cols
            Z = A @ W[:, :A.shape[1]].T + (W[:, -1] if layer.bias else 0)
            A = torch.stack([torch_acts[a.name](Z[:, u]) for u, a in enumerate(layer.activation)], dim=1)
        if net.loss == "nll":
            return -(wt * (T * torch.log_softmax(A, dim=1)).sum(1)).mean()
        scale = 1.0 / net.output_dim if net.output_mean else 1.0
        return (wt * scale * ((A - T) ** 2).sum(1)).mean()

    want = torch.autograd.functional.hessian(loss, torch.tensor(theta)).numpy()
    assert np.max(np.abs(H - want)) <= 1e-10 * np.max(np.abs(want))


@settings(max_examples=15)
@given(mlps(kinks=False), st.integers(2, 15), st.integers(0, 2 ** 16), st.data())
def test_permuting_a_hidden_layer_permutes_gradient_and_hessian(net, n, seed, data):
    X, Y, w = _data(net, n, seed)
    theta = _point(net, seed)
    layer = data.draw(st.integers(1, net.depth - 1))
    order = np.array(data.draw(st.permutations(range(net.layers[layer - 1].width))))
    # the permuted network: neurons of `layer` reordered, with their activations
    layers = list(net.layers)
    acts = net.layers[layer - 1].activation
    layers[layer - 1] = Layer(len(order), tuple(acts[i] for i in order), net.layers[layer - 1].bias)
    permuted_net = Network(net.input_dim, tuple(layers), net.loss, net.output_mean)
    index = np.arange(net.n_params)
    Ws = net.unflatten(index)
    Ws[layer - 1] = Ws[layer - 1][order]
    cols = net.widths[layer]
    Ws[layer] = np.concatenate([Ws[layer][:, :cols][:, order], Ws[layer][:, cols:]], axis=1)
    perm = np.concatenate([W.ravel() for W in Ws])  # new parameter i is old parameter perm[i]
    original = MLPObjective.create(net, X, Y, w)
    moved = MLPObjective.create(permuted_net, X, Y, w)
    loss, grad, H = original.loss_gradient_hessian(theta)
    loss2, grad2, H2 = moved.loss_gradient_hessian(theta[perm])
    assert loss2 == pytest.approx(loss, rel=1e-14, abs=1e-300)
    assert np.allclose(grad2, grad[perm], rtol=1e-12, atol=1e-14 * max(1.0, np.max(np.abs(grad))))
    # the same sums in another order: equal to rounding, relative to the Hessian's scale (Hypothesis found
    # 1.1e-13 for a softmax network whose per-sample terms cancel to a Hessian of size 0.7)
    assert np.max(np.abs(H2 - H[np.ix_(perm, perm)])) <= 1e-12 * max(1.0, np.max(np.abs(H)))


def test_penalties_equal_finite_differences():
    X, Y, w = _data(SMALL, 10, 7)
    theta = 3.0 * _point(SMALL, 8)  # |theta|^2 / 2P beyond the barrier's 0.5
    penalties = (Barrier(0.5), Merge(SMALL, 1, 0, 2, 0.7), L2(0.3))
    objective = MLPObjective.create(SMALL, X, Y, w, penalties=penalties)
    plain = objective.data_term
    assert objective.loss(theta) > plain.loss(theta) + 1e-3
    assert Barrier(0.5).value(theta) > 0
    loss, grad, H = objective.loss_gradient_hessian(theta)
    assert np.max(np.abs(grad - _central(objective.loss, theta, 1e-6))) <= 1e-6 * np.max(np.abs(grad))
    fd_H = _central(lambda t: objective.loss_and_gradient(t)[1], theta, 1e-6)
    assert np.max(np.abs(H - fd_H)) <= 1e-6 * np.max(np.abs(H))
    v = np.random.default_rng(1).normal(size=theta.size)
    assert np.allclose(objective.hessian_vector(theta, v), H @ v, rtol=1e-10, atol=1e-10)


def test_nll_stays_finite_and_exact_at_logits_of_a_thousand():
    net = Network(1, (Layer(3, "identity", bias=False), Layer(3, "softmax", bias=False)), loss="nll")
    theta = np.concatenate([np.array([1.0, -1.0, 0.5]) * np.sqrt(1e3), np.eye(3).ravel()])
    X = np.array([[np.sqrt(1e3)], [-np.sqrt(1e3)]])  # logits (1000, -1000, 500) and their negatives
    y = np.array([1, 0])
    objective = MLPObjective.create(net, X, y)
    loss, grad, H = objective.loss_gradient_hessian(theta)
    # log softmax of (1000, -1000, 500) at class 1 is -2000 (to rounding); at (-1000, 1000, -500), class 0: -2000
    assert loss == pytest.approx(2000.0, rel=1e-15)
    assert np.isfinite(grad).all() and np.isfinite(H).all()
    assert loss == pytest.approx(oracle.loss(net, theta, X, y), rel=1e-15)


def test_hessian_spectrum_dense_and_lanczos_agree():
    X, Y, w = _data(SMALL, 20, 3)
    objective = MLPObjective.create(SMALL, X, Y, w)
    theta = _point(SMALL, 2)
    dense = hessian_spectrum(objective, theta)
    assert dense.method == "dense" and np.all(np.diff(dense.values) >= 0)
    lanczos = hessian_spectrum(objective, theta, k=4)
    assert np.allclose(lanczos.values[:2], dense.values[:2], rtol=1e-8, atol=1e-10)
    assert np.allclose(lanczos.values[2:], dense.values[-2:], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("call, words", [
    (lambda: prepare_samples(SMALL, np.ones((3, 3)), np.ones((3, 2))), "X: must be of shape (N, 2)"),
    (lambda: prepare_samples(SMALL, np.ones((3, 2)), np.ones((3, 1))), "Y: must be of shape (3, 2)"),
    (lambda: prepare_samples(SMALL, np.full((3, 2), np.nan), np.ones((3, 2))), "X: must be finite"),
    (lambda: prepare_samples(SMALL, np.ones((3, 2)), np.ones((3, 2)), -np.ones(3)), "weights: must be finite and >= 0"),
    (lambda: MLPKernels(SMALL).loss(np.ones(3), prepare_samples(SMALL, np.ones((3, 2)), np.ones((3, 2)))),
     "theta: must be a vector of 21 parameters"),
    (lambda: prepare_samples(Network(2, (Layer(3, "softmax"),), loss="nll"), np.ones((2, 2)), np.array([0, 3])),
     "Y: must be labels in 0..2"),
    (lambda: Network(2, (Layer(3, "softmax"),)), "loss: must be nll with a softmax output"),
    (lambda: Network(2, (Layer(3, "softmax"), Layer(1)), loss="nll"), "activation: must be softmax only in the last"),
    (lambda: Layer(0, "tanh"), "width: must be an integer >= 1"),
    (lambda: Layer(2, "tanhh"), "activation: must be one of identity"),
])
def test_bad_input_names_the_argument(call, words):
    with pytest.raises(ParameterError) as info:
        call()
    assert words in str(info.value), str(info.value)


def test_a_confident_softmax_keeps_the_digits_of_its_hessian():
    """p_best = 1 - 4e-9: diag(p) - p p^T cancels to 1e-9 of its terms; the kernels form it from the
    other classes instead (a regression: the Hessian and H v were off by 1e-4 relative here)."""
    net = Network(3, (Layer(4, "identity", bias=False), Layer(2, "softmax", bias=False)), loss="nll")
    X, Y, w = _data(net, 1, 630)
    theta = _point(net, 630)
    objective = MLPObjective.create(net, X, Y, w)
    loss, grad, H = objective.loss_gradient_hessian(theta)
    assert 1e-10 < loss < 1e-7  # the confident regime this test is about
    v = np.random.default_rng(630).normal(size=net.n_params)
    h = 1e-6
    fd = (objective.loss_and_gradient(theta + h * v)[1] - objective.loss_and_gradient(theta - h * v)[1]) / (2 * h)
    assert _rel(H @ v, fd) <= 1e-8
    assert _rel(objective.hessian_vector(theta, v), H @ v) <= 1e-12


def test_samples_split_over_threads_sum_to_the_same_values(monkeypatch):
    """The threaded path (each thread its own accumulators) against one chunk on the calling thread."""
    from gradflow.numerics.mlp import kernels

    net = Network(3, (Layer(5, "tanh"), Layer(4, ("softplus", "erf", "relu", "tanh")), Layer(2)))
    X, Y, w = _data(net, 301, 7)
    theta = _point(net, 7)
    v = np.random.default_rng(7).normal(size=net.n_params)
    objective = MLPObjective.create(net, X, Y, w)
    serial = (objective.loss_and_gradient(theta), objective.loss_gradient_hessian(theta),
              objective.hessian_vector(theta, v))
    monkeypatch.setattr(kernels, "SMALL_WORK", 0)
    monkeypatch.setattr(kernels, "PARALLEL_WORK", 0)
    monkeypatch.setattr(kernels, "_cores", lambda: 3)
    monkeypatch.setattr(kernels, "_pool", lambda: __import__("concurrent.futures").futures.ThreadPoolExecutor(3))
    threaded = (objective.loss_and_gradient(theta), objective.loss_gradient_hessian(theta),
                objective.hessian_vector(theta, v))
    assert abs(threaded[0][0] - serial[0][0]) <= 1e-13 * abs(serial[0][0])
    assert _rel(threaded[0][1], serial[0][1]) <= 1e-13
    assert _rel(threaded[1][2], serial[1][2]) <= 1e-13
    assert _rel(threaded[2], serial[2]) <= 1e-13


@settings(max_examples=30)
@given(st.integers(1, 40), st.integers(1, 12), st.integers(1, 12), st.integers(0, 2 ** 16))
def test_thin_products_and_backpropagation_equal_numpy_on_both_sides_of_the_threshold(n, r, c, seed):
    from gradflow.numerics.codegen.mlp_module import mlp_module

    module = mlp_module()[0]
    assert module.THIN == 8  # the sizes drawn straddle it
    rng = np.random.default_rng(seed)
    D, A, W = rng.normal(size=(n, r)), rng.normal(size=(n, c)), rng.normal(size=(r, c + 1))
    G = rng.normal(size=(r, c))
    want = G + D.T @ A
    module._add_transposed_product(G, D, A)
    assert np.allclose(G, want, rtol=1e-13, atol=1e-13 * np.max(np.abs(want)))
    head = module._product_head(D, W, c)
    assert head.shape == (n, c)
    assert np.allclose(head, (D @ W)[:, :c], rtol=1e-13, atol=1e-13 * np.max(np.abs(D @ W)))
    D1, D2 = rng.normal(size=(n, c)), rng.normal(size=(n, c))
    g = (D @ W)[:, :c]
    scale = np.max(np.abs(g)) * max(np.max(np.abs(D1)), np.max(np.abs(D2)))
    for curvature in (False, True):  # r = 1 takes a path of its own
        delta, curv = module._backpropagate(D, W, c, D1, D2, curvature)
        assert np.allclose(delta, g * D1, rtol=1e-13, atol=1e-13 * scale)
        assert curv.shape == ((n, c) if curvature else (0, 0))
        if curvature:
            assert np.allclose(curv, g * D2, rtol=1e-13, atol=1e-13 * scale)


@pytest.mark.parametrize("net", [
    Network(11, (Layer(12, "softplus"), Layer(10, ("tanh", "silu") * 5), Layer(9, "sigmoid"), Layer(2))),
    Network(2, (Layer(10, "softplus"), Layer(1))),
    Network(9, (Layer(3, "g"), Layer(12, "softplus"), Layer(4, "softmax")), loss="nll"),
])
@pytest.mark.parametrize("n", [30, 5])
def test_wide_and_thin_layers_equal_the_numpy_network_and_central_differences(net, n):
    # widths above and below the kernels' thin-product threshold (8), inputs and outputs alike; with 5
    # samples the last layers' curvature (units x samples <= FEW_ROWS) takes the lower-triangle loops
    X, Y, w = _data(net, n, 3)
    theta = _point(net, 4, scale=0.2)
    objective = MLPObjective.create(net, X, Y, w)
    loss, grad = objective.loss_and_gradient(theta)
    assert loss == pytest.approx(oracle.loss(net, theta, X, Y, w), rel=1e-13)
    assert _rel(grad, oracle.gradient(net, theta, X, Y, w)) <= 1e-12
    v = np.random.default_rng(5).normal(size=net.n_params)
    eps = 1e-5
    fd = (objective.loss_and_gradient(theta + eps * v)[1] - objective.loss_and_gradient(theta - eps * v)[1]) / (2 * eps)
    Hv = objective.hessian_vector(theta, v)
    assert np.max(np.abs(Hv - fd)) <= 1e-6 * max(1.0, np.max(np.abs(fd)))
    H = objective.hessian(theta)
    assert np.allclose(H @ v, Hv, rtol=1e-10, atol=1e-12 * np.max(np.abs(H)))


@settings(max_examples=40)
@given(st.integers(1, 80), st.integers(0, 2 ** 16), st.sampled_from([None, np.inf, -np.inf, np.nan]),
       st.booleans(), st.data())
def test_symmetrize_averages_the_triangles_and_tells_whether_every_entry_is_finite(P, seed, bad, in_gradient, data):
    from gradflow.numerics.codegen.mlp_module import mlp_module

    H = np.random.default_rng(seed).normal(size=(P, P)) * 10.0 ** np.random.default_rng(seed + 1).integers(-200, 200)
    grad = np.random.default_rng(seed + 2).normal(size=P)
    if bad is not None and in_gradient:
        grad[data.draw(st.integers(0, P - 1))] = bad
    elif bad is not None:
        H[data.draw(st.integers(0, P - 1)), data.draw(st.integers(0, P - 1))] = bad
    want = 0.5 * (H + H.T)
    finite = mlp_module()[0].symmetrize(H, grad)
    assert finite == (bad is None)
    assert np.array_equal(H, H.T, equal_nan=True)
    assert np.array_equal(H, want, equal_nan=True)


def test_serial_kernels_keep_a_call_on_its_thread_and_compute_the_same(monkeypatch):
    from gradflow.numerics.mlp import kernels as kernels_module

    net = Network(2, (Layer(50, "softplus"), Layer(1)))
    X, Y, w = _data(net, 4000, 1)  # 6 N P = 4.8e6 multiply-adds: split over the cores unless serial
    theta = _point(net, 2)
    objective = MLPObjective.create(net, X, Y, w)
    loss, grad = objective.loss_and_gradient(theta)

    def no_pool():
        raise AssertionError("the samples were split over threads")

    monkeypatch.setattr(kernels_module, "_pool", no_pool)
    monkeypatch.setattr(kernels_module.MLPKernels, "_shares", lambda *args: no_pool())
    if kernels_module._cores() > 1:
        with pytest.raises(AssertionError, match="split over threads"):
            objective.loss_and_gradient(theta)
    with kernels_module.serial_kernels():
        serial_loss, serial_grad = objective.loss_and_gradient(theta)
        H = objective.hessian(theta)
    assert serial_loss == pytest.approx(loss, rel=1e-13)
    assert np.allclose(serial_grad, grad, rtol=1e-12, atol=1e-14 * np.max(np.abs(grad)))
    assert np.array_equal(H, H.T)


@pytest.mark.parametrize("where, quantity", [("gradient", "gradient"), ("hessian", "Hessian")])
def test_a_non_finite_gradient_or_hessian_is_named(monkeypatch, where, quantity):
    from gradflow.numerics.mlp.kernels import MLPKernels
    from gradflow.numerics.mlp.mlp_objective import NonFiniteValue

    net = Network(2, (Layer(3, "tanh"), Layer(1)))
    X, Y, w = _data(net, 20, 3)
    objective = MLPObjective.create(net, X, Y, w)
    real = MLPKernels.hessian

    def spoilt(self, theta, data):
        loss, grad, H, _ = real(self, theta, data)
        (grad if where == "gradient" else H)[1] = np.nan
        return loss, grad, H, self.module.symmetrize(H, grad)  # the finiteness check the kernels make

    monkeypatch.setattr(MLPKernels, "hessian", spoilt)
    with pytest.raises(NonFiniteValue, match=f"the {quantity} is non-finite"):
        objective.loss_gradient_hessian(_point(net, 3))
