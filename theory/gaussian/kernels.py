"""Covariance kernels of activations under Gaussian pre-activations, each derived, with its mean,
derivatives and LaTeX.

kappa(a, b, c) = E[sigma(u) sigma(v)], (u, v) ~ N((p, q), [[a, c], [c, b]]) (p = q = 0 for the
bias-free kernels), mean(a, p) = E[sigma(u)], u ~ N(p, a), and self_kernel(a, p) = E[sigma(u)^2]:
kappa on the diagonal a = b = c, p = q, simplified there (ReLU's kappa is not differentiable at
c^2 = ab, but its diagonal a / 2 is smooth).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from gradflow.theory.errors import ParameterError
from gradflow.theory.gaussian.composite import Composite
from gradflow.theory.gaussian.integrals import gaussian_expectation
from gradflow.theory.gaussian.phi2 import Phi2, normal_cdf
from gradflow.theory.gaussian.price import a, b, c, kernel_by_price, kernel_of_polynomial, mean_under, z
from gradflow.theory.gaussian.relu_biased import (h, k, rho, standardized_derivatives, standardized_relu_kernel,
                                                  truncated_moment)

p, q = sp.symbols("p q", real=True)


@dataclass(frozen=True)
class Kernel:
    """A derived covariance kernel.  ``variables`` are (a, b, c) or (a, b, c, p, q) with biases."""

    name: str
    activation: sp.Expr
    expression: sp.Expr
    mean: sp.Expr
    biased: bool = False
    diagonal: sp.Expr | None = None  # E[sigma(u)^2] when derived apart from kappa (kappa's limit is awkward)
    composite: Composite | None = None  # kappa = prefactor g(y): generated code uses g's own derivatives

    @property
    def variables(self) -> tuple:
        return (a, b, c, p, q) if self.biased else (a, b, c)

    @property
    def mean_variables(self) -> tuple:
        return (a, p) if self.biased else (a,)

    @cached_property
    def gradient(self) -> tuple:
        return tuple(sp.simplify(sp.diff(self.expression, v)) for v in self.variables)

    @cached_property
    def hessian(self) -> tuple:
        """Upper triangle, row by row: d2/dv_i dv_j for i <= j."""
        vs = self.variables
        return tuple(sp.simplify(sp.diff(g, vs[j])) for i, g in enumerate(self.gradient) for j in range(i, len(vs)))

    @cached_property
    def self_kernel(self) -> sp.Expr:
        on_diagonal = {b: a, c: a, q: p}
        if self.diagonal is not None:
            return self.diagonal
        if self.name == "relu":  # E[relu(u)^2] = a/2 by symmetry; kappa's limit c -> sqrt(ab)
            return sp.limit(self.expression.subs(b, a), c, a, "-")
        return sp.simplify(self.expression.subs(on_diagonal))

    @property
    def latex(self) -> str:
        return sp.latex(self.expression)


def _bias_free(name: str, sigma: sp.Expr) -> Kernel:
    return Kernel(name, sigma, kernel_by_price(sigma), mean_under(sigma, a))


def polynomial_kernel(coefficients) -> Kernel:
    """sigma(z) = sum_k coefficients[k] z^k: kappa by Gaussian moments."""
    sigma = sum(sp.sympify(x) * z**k for k, x in enumerate(coefficients))
    return Kernel(f"polynomial{tuple(coefficients)}", sigma, kernel_of_polynomial(sigma), sp.expand(mean_under(sigma, a)))


def normal_cdf_biased() -> Kernel:
    """E[Phi(u) Phi(v)] = Phi2(p/sqrt(1+a), q/sqrt(1+b); c/sqrt((1+a)(1+b))): Phi(u) = P(Z <= u)."""
    expression = Phi2(p / sp.sqrt(1 + a), q / sp.sqrt(1 + b), c / sp.sqrt((1 + a) * (1 + b)))
    return Kernel("normal_cdf", normal_cdf(z), expression, normal_cdf(p / sp.sqrt(1 + a)), biased=True)


def erf2_biased() -> Kernel:
    """erf(z/sqrt2) = 2 Phi(z) - 1, so kappa = 4 Phi2 - 2 Phi(h) - 2 Phi(k) + 1."""
    base = normal_cdf_biased()
    h, k = p / sp.sqrt(1 + a), q / sp.sqrt(1 + b)
    expression = 4 * base.expression - 2 * normal_cdf(h) - 2 * normal_cdf(k) + 1
    return Kernel("erf2", sp.erf(z / sp.sqrt(2)), expression, sp.erf(h / sp.sqrt(2)), biased=True)


def relu_biased() -> Kernel:
    """E[relu(u) relu(v)] = sqrt(ab) g(p/sqrt(a), q/sqrt(b), c/sqrt(ab)) (``relu_biased`` module: Price's
    theorem twice); the mean and E[relu(u)^2] are one-dimensional integrals."""
    gradient, hessian = standardized_derivatives()
    composite = Composite(sp.sqrt(a * b), ((h, p / sp.sqrt(a)), (k, q / sp.sqrt(b)), (rho, c / sp.sqrt(a * b))),
                          standardized_relu_kernel(), gradient, hessian)
    return Kernel("relu", sp.Max(z, 0), composite.expression, truncated_moment(1, a, p), biased=True,
                  diagonal=truncated_moment(2, a, p), composite=composite)


def price_derivative_biased(sigma_prime_scale, q2) -> sp.Expr:
    """E[sigma'(u) sigma'(v)] with biases for sigma'(z) = C exp(q2 z^2/2): shift x = (u - p, v - q)
    and complete the square (the Price integrand the biased closed forms are checked against)."""
    cov = sp.Matrix([[a, c], [c, b]])
    constant = sp.exp(q2 * (p**2 + q**2) / 2)
    return sigma_prime_scale**2 * constant * gaussian_expectation(cov, M=q2 * sp.eye(2), h=[q2 * p, q2 * q])


_BIAS_FREE = {
    "erf2": lambda: sp.erf(z / sp.sqrt(2)),
    "erf": lambda: sp.erf(z),
    "normal_cdf": lambda: normal_cdf(z),
    "relu": lambda: sp.Max(z, 0),
}
_BIASED = {"normal_cdf": normal_cdf_biased, "erf2": erf2_biased, "relu": relu_biased}
_cache: dict = {}


def kernel(name: str, biased: bool = False) -> Kernel:
    """The derived kernel of ``name`` (erf2, erf, normal_cdf, relu; biased: normal_cdf, erf2, relu)."""
    table = _BIASED if biased else _BIAS_FREE
    if name not in table:
        raise ParameterError("name", f"one of {sorted(table)}" + (" (with biases)" if biased else ""), name)
    key = (name, biased)
    if key not in _cache:
        _cache[key] = table[name]() if biased else _bias_free(name, table[name]())
    return _cache[key]
