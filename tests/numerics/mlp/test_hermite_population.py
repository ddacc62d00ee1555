"""Gaussian-input numerics against independent oracles: scipy's bivariate normal CDF and Owen's T,
Monte Carlo, 2-D Gauss-Hermite, nested quad, plain-NumPy sample losses and finite differences."""

import numpy as np
import pytest
from scipy import integrate
from scipy.special import erf, owens_t as scipy_owens_t
from hypothesis import given, settings, strategies as st
from scipy.stats import multivariate_normal, norm

from gradflow.numerics.mlp.objective import Objective
from gradflow.numerics.mlp.population.gauss_hermite import gauss_hermite_data, kernel_by_quadrature
from gradflow.numerics.mlp.population.network import PopulationNetwork
from gradflow.numerics.mlp.population.owen import owens_t, phi2
from gradflow.theory.errors import ParameterError

ACTIVATIONS = {
    "erf2": lambda z: erf(z / np.sqrt(2)),
    "erf": erf,
    "normal_cdf": lambda z: 0.5 * (1 + erf(z / np.sqrt(2))),
    "relu": lambda z: np.maximum(z, 0.0),
}
# closed forms written out independently of the derivation
CLOSED = {
    "erf2": lambda a, b, c: 2 / np.pi * np.arcsin(c / np.sqrt((1 + a) * (1 + b))),
    "erf": lambda a, b, c: 2 / np.pi * np.arcsin(2 * c / np.sqrt((1 + 2 * a) * (1 + 2 * b))),
    "normal_cdf": lambda a, b, c: 0.25 + np.arcsin(c / np.sqrt((1 + a) * (1 + b))) / (2 * np.pi),
    "relu": lambda a, b, c: (np.sqrt(a * b - c * c) + c * (np.pi / 2 + np.arcsin(c / np.sqrt(a * b)))) / (2 * np.pi),
}
POINT = (1.3, 0.7, 0.4)


def test_owens_t_and_phi2_against_scipy():
    rng = np.random.default_rng(0)
    for _ in range(50):
        h, a = rng.normal(0, 3, 2)
        assert owens_t(h, a) == pytest.approx(scipy_owens_t(h, a), abs=1e-15)
    for _ in range(40):
        h, k = rng.normal(0, 2, 2)
        r = rng.uniform(-0.95, 0.95)
        assert phi2(h, k, r) == pytest.approx(multivariate_normal(cov=[[1, r], [r, 1]]).cdf([h, k]), abs=1e-7)
    assert phi2(0.0, -1.0, 0.3) == pytest.approx(multivariate_normal(cov=[[1, .3], [.3, 1]]).cdf([0, -1]), abs=1e-7)
    # a product of tiny arguments underflows to 0: the sign rule must not read it as "one of them is 0"
    assert phi2(0.0, -3e-251, 0.0) == pytest.approx(0.25, abs=1e-15)
    assert phi2(-1e-200, -1e-200, 0.5) == pytest.approx(1 / 3, abs=1e-15)


def _kernel_by_monte_carlo(sigma, a, b, c, n, seed):
    X = np.random.default_rng(seed).multivariate_normal([0, 0], [[a, c], [c, b]], size=n)
    f = sigma(X[:, 0]) * sigma(X[:, 1])
    return f.mean(), f.std() / np.sqrt(n)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_kernels_against_monte_carlo_quick(name):
    mean, se = _kernel_by_monte_carlo(ACTIVATIONS[name], *POINT, 100_000, seed=11)
    assert abs(CLOSED[name](*POINT) - mean) < 5 * se


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_kernels_against_monte_carlo(name):
    mean, se = _kernel_by_monte_carlo(ACTIVATIONS[name], *POINT, 1_000_000, seed=12)
    assert abs(CLOSED[name](*POINT) - mean) < 5 * se


@pytest.mark.parametrize("name", ["erf2", "erf", "normal_cdf"])
def test_smooth_kernels_against_gauss_hermite(name):
    for a, b, c in [POINT, (0.3, 2.0, -0.5), (1.0, 1.0, 0.9)]:
        value = kernel_by_quadrature(ACTIVATIONS[name], a, b, c, nodes=200)
        assert value == pytest.approx(CLOSED[name](a, b, c), rel=1e-12, abs=1e-14)


def _relu_by_quad(a, b, c):
    density = multivariate_normal([0, 0], [[a, c], [c, b]]).pdf
    value, _ = integrate.dblquad(lambda v, u: u * v * density([u, v]), 0, np.inf, 0, np.inf, epsabs=1e-13, epsrel=1e-12)
    return value


def test_relu_kernel_against_nested_quad_quick():
    assert _relu_by_quad(*POINT) == pytest.approx(CLOSED["relu"](*POINT), rel=1e-10)


@pytest.mark.slow
def test_relu_kernel_against_nested_quad():
    for a, b, c in [(0.3, 2.0, -0.5), (1.0, 1.0, 0.9), (2.0, 0.5, 0.0)]:
        assert _relu_by_quad(a, b, c) == pytest.approx(CLOSED["relu"](a, b, c), rel=1e-10, abs=1e-12)


def test_gauss_hermite_data_is_a_weighted_mean_quadrature():
    for d in (1, 2):
        X, w = gauss_hermite_data(d)
        assert X.shape == (w.size, d)
        assert np.mean(w) == pytest.approx(1.0, abs=1e-13)
        assert np.mean(w * X[:, 0] ** 4) == pytest.approx(3.0, rel=1e-12)
        assert np.mean(w * X[:, -1] ** 2 * X[:, 0] ** 2) == pytest.approx(1.0 if d == 2 else 3.0, rel=1e-12)
    with pytest.warns(UserWarning, match="tensor-product"):
        gauss_hermite_data(3, nodes=20)
    with pytest.raises(ParameterError, match="d"):
        gauss_hermite_data(0)


def _sample_loss(theta, X, w, sigma, k, D, hb, ob, tw, ta, tb, tbeta):
    """The mean squared error of a plain 1-hidden-layer MLP with theta's layout (bias last column)."""
    W1 = theta[: k * (D + hb)].reshape(k, D + hb)
    W2 = theta[k * (D + hb):]
    hidden = X @ W1[:, :D].T + (W1[:, D] if hb else 0.0)
    student = sigma(hidden) @ W2[:k] + (W2[k] if ob else 0.0)
    teacher = sigma(X @ tw.T + tb) @ ta + tbeta
    return np.mean(w * (student - teacher) ** 2)


CASES = [("relu", False, True), ("erf2", False, True), ("erf2", True, True), ("relu", True, True)]


def _network(name, hb, ob, seed=2, k=3, D=2):
    rng = np.random.default_rng(seed)
    tw, ta = rng.normal(size=(2, D)), rng.normal(size=2)
    tb = rng.normal(size=2) if hb else np.zeros(2)
    net = PopulationNetwork(name, D, k, tw, ta, hidden_bias=hb, output_bias=ob,
                            teacher_biases=tb if hb else None, teacher_output_bias=0.3)
    return net, rng.normal(size=net.n_params), (k, D, int(hb), int(ob), tw, ta, tb, 0.3)


@pytest.mark.parametrize("name, hb, ob", CASES)
def test_population_loss_against_gauss_hermite_and_monte_carlo(name, hb, ob):
    net, theta, args = _network(name, hb, ob)
    X, w = gauss_hermite_data(2, nodes=200 if name != "relu" else 600)
    quadrature = _sample_loss(theta, X, w, ACTIVATIONS[name], *args)
    tolerance = 1e-10 if name != "relu" else 1e-5  # the kink converges slowly under Gauss-Hermite
    assert net.loss(theta) == pytest.approx(quadrature, rel=tolerance)
    Xmc = np.random.default_rng(4).normal(size=(100_000, 2))
    per_sample = np.array([_sample_loss(theta, Xmc[i:i + 1], np.ones(1), ACTIVATIONS[name], *args) for i in range(0, 2000)])
    mc = _sample_loss(theta, Xmc, np.ones(len(Xmc)), ACTIVATIONS[name], *args)
    assert abs(net.loss(theta) - mc) < 5 * per_sample.std() / np.sqrt(len(Xmc))


@pytest.mark.parametrize("name, hb, ob", CASES)
def test_population_gradient_and_hessian_against_finite_differences(name, hb, ob):
    net, theta, _ = _network(name, hb, ob)
    loss, grad = net.loss_and_gradient(theta)
    H = net.hessian(theta)
    eps = 1e-6
    E = np.eye(net.n_params)
    fd_grad = np.array([(net.loss(theta + eps * e) - net.loss(theta - eps * e)) / (2 * eps) for e in E])
    fd_hess = np.array([(net.loss_and_gradient(theta + eps * e)[1] - net.loss_and_gradient(theta - eps * e)[1]) / (2 * eps) for e in E])
    assert loss == net.loss(theta)
    np.testing.assert_allclose(grad, fd_grad, atol=1e-7)
    np.testing.assert_allclose(H, fd_hess, atol=1e-6)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    v = np.random.default_rng(0).normal(size=net.n_params)
    np.testing.assert_allclose(net.hessian_vector(theta, v), H @ v, atol=1e-14)


def test_population_is_an_objective_without_samples():
    net, theta, _ = _network("erf2", False, False)
    assert isinstance(net, Objective)
    assert net.n_samples == 0 and net.data_term is net
    with pytest.raises(ParameterError, match="no samples"):
        net.on_samples(0, 1)
    with pytest.raises(ParameterError, match="no samples"):
        net.shuffled(np.arange(1))


def test_relu_hessian_at_parallel_neurons_names_the_pair():
    net, theta, _ = _network("relu", False, False)
    W = theta[:6].reshape(3, 2)
    theta[2:4] = 2.5 * W[0]  # student 1 parallel to student 0
    net.loss_and_gradient(theta)  # the gradient stays finite
    with pytest.raises(ParameterError, match=r"\(0, 1\)"):
        net.hessian(theta)
    theta[2:4] = 0.0
    with pytest.raises(ParameterError, match=r"\(1, 1\)"):
        net.hessian(theta)
    # the loss itself is defined there: the zero neuron outputs relu(0) = 0
    dropped = theta.copy()
    dropped[2:4], dropped[7] = 1.0, 0.0
    assert net.loss(theta) == pytest.approx(net.loss(dropped), rel=1e-14)


def _relu_biased_closed(a, b, c, p, q):
    """E[relu(u) relu(v)] with means (p, q), written out with scipy (the truncated bivariate moments)."""
    h, k, r = p / np.sqrt(a), q / np.sqrt(b), c / np.sqrt(a * b)
    s = np.sqrt(1 - r * r)
    big = multivariate_normal(cov=[[1, r], [r, 1]]).cdf([h, k])
    density = multivariate_normal(cov=[[1, r], [r, 1]]).pdf([h, k])
    g = ((r + h * k) * big + k * norm.pdf(h) * norm.cdf((k - r * h) / s) + h * norm.pdf(k) * norm.cdf((h - r * k) / s)
         + s * s * density)
    return np.sqrt(a * b) * g


def _relu_pair(a, b, c, p, q):
    from gradflow.numerics.mlp.population.kernel_module import kernel_module
    from gradflow.theory.gaussian.kernels import kernel

    module = kernel_module(kernel("relu", biased=True))
    K, g, H = np.zeros(1), np.zeros((1, 5)), np.zeros((1, 5, 5))
    module.pair_derivatives(*(np.array([x], float) for x in (a, b, c, p, q)), K, g, H)
    return K[0], g[0], H[0]


def _relu_biased_by_quad(a, b, c, p, q):
    """Nested quad over the Cholesky coordinates u = p + L00 z1, v = q + L10 z1 + L11 z2."""
    L = np.linalg.cholesky([[a, c], [c, b]])
    gauss = lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi)

    def inner(z1):
        mean = q + L[1, 0] * z1
        v_part, _ = integrate.quad(lambda z2: (mean + L[1, 1] * z2) * gauss(z2), -mean / L[1, 1], np.inf,
                                   epsabs=1e-15, epsrel=1e-13)
        return (p + L[0, 0] * z1) * gauss(z1) * v_part

    value, _ = integrate.quad(inner, -p / L[0, 0], np.inf, epsabs=1e-15, epsrel=1e-13, limit=200)
    return value


def _biased_points(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        a, b = rng.uniform(0.2, 3.0, 2)
        yield a, b, rng.uniform(-0.95, 0.95) * np.sqrt(a * b), *rng.normal(0, 1.5, 2)


def test_relu_biased_kernel_against_nested_quad_and_closed_form():
    for point in _biased_points(4, seed=21):
        value = _relu_pair(*point)[0]
        assert value == pytest.approx(_relu_biased_by_quad(*point), rel=1e-10, abs=1e-13)
        assert value == pytest.approx(_relu_biased_closed(*point), rel=1e-7)  # scipy's Phi2: ~1e-8


@pytest.mark.parametrize("samples", [100_000, pytest.param(1_000_000, marks=pytest.mark.slow)])
def test_relu_biased_kernel_against_monte_carlo(samples):
    for i, (a, b, c, p, q) in enumerate(_biased_points(3, seed=22)):
        X = np.random.default_rng(30 + i).multivariate_normal([p, q], [[a, c], [c, b]], size=samples)
        f = np.maximum(X[:, 0], 0) * np.maximum(X[:, 1], 0)
        assert abs(_relu_pair(a, b, c, p, q)[0] - f.mean()) < 5 * f.std() / np.sqrt(samples)


def test_relu_biased_kernel_derivatives_against_finite_differences():
    for point in _biased_points(3, seed=23):
        point = np.array(point)
        _, g, H = _relu_pair(*point)
        eps = 1e-6
        fd_g = np.array([(_relu_pair(*(point + eps * e))[0] - _relu_pair(*(point - eps * e))[0]) / (2 * eps)
                         for e in np.eye(5)])
        fd_H = np.array([(_relu_pair(*(point + eps * e))[1] - _relu_pair(*(point - eps * e))[1]) / (2 * eps)
                         for e in np.eye(5)])
        np.testing.assert_allclose(g, fd_g, atol=1e-8)
        np.testing.assert_allclose(H, fd_H, atol=1e-7)
        # Price's theorem in numbers: d kappa/dc = P(u > 0, v > 0)
        a, b, c, p, q = point
        r = c / np.sqrt(a * b)
        assert g[2] == pytest.approx(multivariate_normal(cov=[[1, r], [r, 1]]).cdf([p / np.sqrt(a), q / np.sqrt(b)]),
                                     abs=1e-7)


def test_relu_biased_parallel_and_zero_neurons():
    net, theta, args = _network("relu", True, True)
    k, D = 3, 2
    W = theta[: k * (D + 1)].reshape(k, D + 1)
    W[1, :D] = 2.0 * W[0, :D]  # student 1 parallel to student 0 (different biases)
    theta[: k * (D + 1)] = W.ravel()
    X, w = gauss_hermite_data(2, nodes=600)
    assert net.loss(theta) == pytest.approx(_sample_loss(theta, X, w, ACTIVATIONS["relu"], *args), rel=1e-5)
    assert np.all(np.isfinite(net.loss_and_gradient(theta)[1]))
    W[1, D] = W[0, D] * 2.0  # now u_1 = 2 u_0: the kink of kappa is at this point
    theta[: k * (D + 1)] = W.ravel()
    with pytest.raises(ParameterError, match=r"\(0, 1\)"):
        net.hessian(theta)
    W[1, :D] = 0.0  # a zero neuron outputs relu(b_1): the loss is the sample loss, derivatives raise
    theta[: k * (D + 1)] = W.ravel()
    assert net.loss(theta) == pytest.approx(_sample_loss(theta, X, w, ACTIVATIONS["relu"], *args), rel=1e-5)
    with pytest.raises(ParameterError, match=r"\(1, 1\)"):
        net.loss_and_gradient(theta)


def test_quadrature_takes_a_sympy_activation():
    import sympy as sp

    z = sp.Symbol("z")
    assert kernel_by_quadrature(sp.erf(z), *POINT) == pytest.approx(CLOSED["erf"](*POINT), rel=1e-12)


def _relu_module():
    from gradflow.numerics.mlp.population.kernel_module import kernel_module
    from gradflow.theory.gaussian.kernels import kernel

    return kernel_module(kernel("relu", biased=True))


def test_relu_biased_kernel_tends_to_its_diagonal_and_factorises_at_zero_covariance():
    module = _relu_module()
    a, p = np.array([1.7]), np.array([-0.4])
    S, gS, hS = np.zeros(1), np.zeros((1, 2)), np.zeros((1, 2, 2))
    module.self_derivatives(a, p, S, gS, hS)
    M, gM, hM = np.zeros(1), np.zeros((1, 2)), np.zeros((1, 2, 2))
    module.mean_derivatives(a, p, M, gM, hM)
    X = np.random.default_rng(8).normal(size=400_000) * np.sqrt(a[0]) + p[0]
    assert abs(M[0] - np.maximum(X, 0).mean()) < 5 * np.maximum(X, 0).std() / np.sqrt(X.size)
    assert abs(S[0] - (np.maximum(X, 0) ** 2).mean()) < 5 * (np.maximum(X, 0) ** 2).std() / np.sqrt(X.size)
    near = _relu_pair(a[0], a[0], a[0] * (1 - 1e-12), p[0], p[0])[0]
    assert near == pytest.approx(S[0], rel=1e-6)  # kappa -> E[relu(u)^2] as the pair becomes one neuron
    # c = 0: independent, kappa = E[relu(u)] E[relu(v)]
    mean_v = 0.9 * norm.cdf(0.9 / np.sqrt(0.6)) + np.sqrt(0.6) * norm.pdf(0.9 / np.sqrt(0.6))
    assert _relu_pair(1.7, 0.6, 0.0, -0.4, 0.9)[0] == pytest.approx(M[0] * mean_v, rel=1e-13)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.05, 5.0), st.floats(0.05, 5.0), st.floats(-0.99, 0.99), st.floats(-4.0, 4.0), st.floats(-4.0, 4.0))
def test_relu_biased_kernel_symmetric_and_bounded(a, b, r, p, q):
    c = r * np.sqrt(a * b)
    value, gradient, _ = _relu_pair(a, b, c, p, q)
    swapped, swapped_gradient, _ = _relu_pair(b, a, c, q, p)
    # the closed form sums terms of both signs: its absolute error is ~1e-16 of sqrt(ab) (1 + |h k|), so
    # deep in a tail (a neuron almost never active) a tiny kappa has a large relative error
    slack = 1e-14 * np.sqrt(a * b) * (1 + abs(p * q) / np.sqrt(a * b))
    assert value == pytest.approx(swapped, rel=1e-9, abs=slack)
    np.testing.assert_allclose(gradient[[1, 0, 2, 4, 3]], swapped_gradient, rtol=1e-9, atol=1e-14 + slack)
    # Cauchy-Schwarz: 0 <= kappa <= sqrt(E relu(u)^2 E relu(v)^2); d kappa / dc = P(u > 0, v > 0) in [0, 1]
    second = lambda s, m: (s + m * m) * norm.cdf(m / np.sqrt(s)) + m * np.sqrt(s) * norm.pdf(m / np.sqrt(s))
    assert -slack <= value <= np.sqrt(second(a, p) * second(b, q)) * (1 + 1e-12) + slack
    assert -1e-12 <= gradient[2] <= 1 + 1e-12
