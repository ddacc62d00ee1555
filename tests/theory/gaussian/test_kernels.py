"""Derived Gaussian kernels: each closed form checked by simplification and by numbers at random points."""

import numpy as np
import pytest
import sympy as sp
from scipy.stats import multivariate_normal

from gradflow.theory.errors import ParameterError
from gradflow.theory.gaussian.integrals import gaussian_expectation
from gradflow.theory.gaussian.kernels import kernel, normal_cdf_biased, polynomial_kernel, price_derivative_biased
from gradflow.theory.gaussian.phi2 import Phi2, normal_cdf
from gradflow.theory.gaussian.price import a, b, c, z
from gradflow.theory.gaussian.kernels import p, q

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset

EXPECTED = {
    "erf2": 2 / sp.pi * sp.asin(c / sp.sqrt((1 + a) * (1 + b))),
    "erf": 2 / sp.pi * sp.asin(2 * c / sp.sqrt((1 + 2 * a) * (1 + 2 * b))),
    "normal_cdf": sp.Rational(1, 4) + sp.asin(c / sp.sqrt((1 + a) * (1 + b))) / (2 * sp.pi),
    "relu": (sp.sqrt(a * b - c**2) + c * (sp.pi / 2 + sp.asin(c / sp.sqrt(a * b)))) / (2 * sp.pi),
}


def _factored_roots(expr):
    """sqrt(4ab + 2a + 2b + 1) -> sqrt(2a + 1) sqrt(2b + 1): SymPy's simplify does not factor radicands."""
    return expr.replace(lambda e: isinstance(e, sp.Pow) and e.exp.is_Rational and e.exp.q == 2,
                        lambda e: sp.Pow(sp.factor(e.base), e.exp))


def _random_points(n=5, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        av, bv = rng.uniform(0.2, 3.0, 2)
        yield av, bv, rng.uniform(-0.95, 0.95) * np.sqrt(av * bv)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bias_free_kernels_simplify_to_closed_forms(name):
    derived = kernel(name).expression
    assert sp.simplify(_factored_roots(derived) - _factored_roots(EXPECTED[name])) == 0
    for av, bv, cv in _random_points():
        point = {a: av, b: bv, c: cv}
        assert float(derived.subs(point)) == pytest.approx(float(EXPECTED[name].subs(point)), rel=1e-13, abs=1e-15)


def test_gaussian_lemma_against_numbers():
    x1, x2 = sp.symbols("x1 x2", real=True)
    cov = sp.Matrix([[a, c], [c, b]])
    expr = gaussian_expectation(cov, M=-sp.eye(2) / 2, h=[sp.Rational(1, 3), -1], polynomial=x1**2 * x2 + x2,
                                variables=(x1, x2))
    av, bv, cv = 1.1, 0.6, 0.3
    rng = np.random.default_rng(3)
    X = rng.multivariate_normal([0, 0], [[av, cv], [cv, bv]], size=400_000)
    f = np.exp(-(X**2).sum(1) / 4 + X[:, 0] / 3 - X[:, 1]) * (X[:, 0] ** 2 * X[:, 1] + X[:, 1])
    assert abs(float(expr.subs({a: av, b: bv, c: cv})) - f.mean()) < 5 * f.std() / np.sqrt(f.size)
    assert sp.simplify(gaussian_expectation(cov, polynomial=x1**2 * x2**2, variables=(x1, x2)) - (a * b + 2 * c**2)) == 0


def test_polynomial_kernel_by_moments():
    k = polynomial_kernel([1, 2, 0, 1])  # 1 + 2z + z^3
    # E[(1 + 2u + u^3)(1 + 2v + v^3)]: Isserlis, written out by hand
    by_hand = 1 + 4 * c + 2 * 3 * a * c + 2 * 3 * b * c + 9 * a * b * c + 6 * c**3
    assert sp.simplify(k.expression - by_hand) == 0


def test_relu_derivatives_finite_on_the_diagonal_self_kernel():
    assert sp.simplify(kernel("relu").self_kernel - a / 2) == 0
    assert sp.simplify(_factored_roots(kernel("erf2").self_kernel) - 2 / sp.pi * sp.asin(a / (1 + a))) == 0


def test_phi2_derivative_rules_against_scipy():
    h, k, r = 0.3, -0.7, 0.45
    F = lambda hh, kk, rr: multivariate_normal(cov=[[1, rr], [rr, 1]]).cdf([hh, kk])
    expr = Phi2(sp.Symbol("h"), sp.Symbol("k"), sp.Symbol("r"))
    eps = 1e-4
    for i, sym in enumerate(expr.args):
        d = float(sp.diff(expr, sym).subs({expr.args[0]: h, expr.args[1]: k, expr.args[2]: r}))
        shift = np.eye(3)[i] * eps
        fd = (F(*(np.array([h, k, r]) + shift)) - F(*(np.array([h, k, r]) - shift))) / (2 * eps)
        assert d == pytest.approx(fd, abs=1e-6)
    assert Phi2(sp.Symbol("h"), sp.Symbol("k"), 0) == normal_cdf(sp.Symbol("h")) * normal_cdf(sp.Symbol("k"))
    assert "Phi_2" in sp.latex(expr)


def test_biased_normal_cdf_by_price():
    """d kappa/dc equals the Price integrand E[phi(u) phi(v)] and kappa(c = 0) = E[Phi(u)] E[Phi(v)]."""
    kern = normal_cdf_biased()
    integrand = price_derivative_biased(1 / sp.sqrt(2 * sp.pi), -1)
    difference = sp.diff(kern.expression, c) - integrand
    ratio = sp.powsimp(sp.expand_power_base(sp.diff(kern.expression, c) / integrand, force=True), combine="exp", force=True)
    assert sp.simplify(ratio) == 1
    rng = np.random.default_rng(5)
    for av, bv, cv in _random_points(3):
        pv, qv = rng.normal(size=2)
        assert abs(float(difference.subs({a: av, b: bv, c: cv, p: pv, q: qv}))) < 1e-13
    at_zero = kern.expression.subs(c, 0) - kern.mean * kern.mean.subs({a: b, p: q})
    assert sp.simplify(at_zero) == 0
    # the mean E[Phi(u)], u ~ N(p, a) = P(Z - u <= 0): d/dp equals E[phi(u)] integrated by SymPy
    u = sp.Symbol("u", real=True)
    density = sp.exp(-(u - p) ** 2 / (2 * a)) / sp.sqrt(2 * sp.pi * a)
    e_phi = sp.integrate(sp.exp(-(u**2) / 2) / sp.sqrt(2 * sp.pi) * density, (u, -sp.oo, sp.oo))
    assert sp.simplify(sp.diff(kern.mean, p) - e_phi) == 0


def test_biased_erf2_reduces_to_bias_free():
    biased = kernel("erf2", biased=True)
    for av, bv, cv in _random_points(3):
        point = {a: av, b: bv, c: cv}
        # Phi2 has no closed form at p = q = 0 in SymPy: evaluate with scipy
        value = biased.expression.subs({p: 0, q: 0}).subs(point).replace(
            Phi2, lambda h, k, r: sp.Float(multivariate_normal(cov=[[1, float(r)], [float(r), 1]]).cdf([float(h), float(k)])))
        assert float(value) == pytest.approx(float(EXPECTED["erf2"].subs(point)), abs=1e-7)


def test_unknown_kernel_names_the_parameter():
    with pytest.raises(ParameterError, match="name"):
        kernel("tanh")
    with pytest.raises(ParameterError, match="with biases"):
        kernel("erf", biased=True)


def test_biased_closed_forms_proven_by_price():
    """Every residual of the biased kernels (ReLU: Price twice; erf2, normal_cdf: once) simplifies to 0."""
    from gradflow.theory.gaussian.proofs import erf2_biased_residuals, relu_biased_residuals

    for name, residual in {**relu_biased_residuals(), **erf2_biased_residuals()}.items():
        assert residual == 0, name


def test_relu_standardized_derivatives_proven_and_numbers():
    from gradflow.theory.gaussian.proofs import simplified
    from gradflow.theory.gaussian.relu_biased import h, k, rho, standardized_derivatives, standardized_relu_kernel

    g = standardized_relu_kernel()
    gradient, hessian = standardized_derivatives()
    variables = (h, k, rho)
    for i, v in enumerate(variables):
        assert simplified(sp.diff(g, v) - gradient[i]) == 0
        for j in range(i, 3):
            assert simplified(sp.diff(gradient[i], variables[j]) - hessian[i][j]) == 0
    # numbers: E[(X + h)_+ (Y + k)_+] by Monte Carlo at one point
    hv, kv, rv = 0.4, -0.3, 0.6
    X = np.random.default_rng(9).multivariate_normal([0, 0], [[1, rv], [rv, 1]], size=400_000)
    f = np.maximum(X[:, 0] + hv, 0) * np.maximum(X[:, 1] + kv, 0)
    value = g.subs({h: hv, k: kv, rho: rv}).replace(
        Phi2, lambda x, y, r: sp.Float(multivariate_normal(cov=[[1, float(r)], [float(r), 1]]).cdf([float(x), float(y)])))
    assert abs(float(value) - f.mean()) < 5 * f.std() / np.sqrt(f.size)


def test_relu_biased_kernel_reduces_to_the_arc_cosine_kernel():
    biased = kernel("relu", biased=True)
    for av, bv, cv in _random_points(3):
        point = {a: av, b: bv, c: cv}
        value = biased.expression.subs({p: 0, q: 0}).subs(point).replace(
            Phi2, lambda x, y, r: sp.Float(multivariate_normal(cov=[[1, float(r)], [float(r), 1]]).cdf([float(x), float(y)])))
        assert float(value) == pytest.approx(float(EXPECTED["relu"].subs(point)), abs=1e-7)
    assert biased.self_kernel.subs(p, 0) == a / 2
