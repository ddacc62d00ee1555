"""Covariance kernels kappa(a, b, c) = E[sigma(u) sigma(v)], (u, v) ~ N(0, [[a, c], [c, b]]), by
Price's theorem: d kappa / dc = E[sigma'(u) sigma'(v)].  So kappa is its value at c = 0 (u, v
independent: a product of one-dimensional expectations) plus a c-integral of E[sigma' sigma'], or, for
a kink such as ReLU's, plus c E[sigma'] E[sigma'] at c = 0 plus a double c-integral of
E[sigma'' sigma''] = the bivariate density at the kink (sigma'' a delta function).
"""

from __future__ import annotations

import sympy as sp

from gradflow.theory.errors import ParameterError
from gradflow.theory.gaussian.integrals import bivariate_density_at, gaussian_expectation

z = sp.Symbol("z", real=True)
a, b = sp.symbols("a b", positive=True)
c = sp.Symbol("c", real=True)


def covariance() -> sp.Matrix:
    return sp.Matrix([[a, c], [c, b]])


def mean_under(sigma: sp.Expr, variance: sp.Expr) -> sp.Expr:
    """E[sigma(u)], u ~ N(0, variance), integrated by SymPy."""
    density = sp.exp(-z**2 / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)
    return sp.simplify(sp.integrate(sigma * density, (z, -sp.oo, sp.oo)))


def gaussian_form(expr: sp.Expr):
    """(C, q2, q1) with expr = C exp(q2 z^2 / 2 + q1 z), or None when expr has no such form."""
    expr = sp.powsimp(sp.expand(expr))
    coefficient, rest = expr.as_independent(z, as_Add=False)
    if rest == 1:
        return None
    if not isinstance(rest, sp.exp):
        return None
    exponent = sp.Poly(sp.expand(rest.args[0]), z)
    if exponent.degree() != 2:
        return None
    return coefficient * sp.exp(exponent.coeff_monomial(1)), 2 * exponent.coeff_monomial(z**2), exponent.coeff_monomial(z)


def integrate_inverse_sqrt(integrand: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """The integral from 0 to ``var`` of C / sqrt(K - s var^2) (K, s > 0): asin by SymPy, on
    positive stand-ins for K and s so no branch conditions remain."""
    coefficient, rest = integrand.as_independent(var, as_Add=False)
    if not (isinstance(rest, sp.Pow) and rest.exp == sp.Rational(-1, 2)):
        raise ParameterError("integrand", f"of the form C / sqrt(K - s {var}^2)", str(integrand))
    base = sp.Poly(sp.expand(rest.base), var)
    if base.degree() != 2 or base.coeff_monomial(var) != 0:
        raise ParameterError("integrand", f"of the form C / sqrt(K - s {var}^2)", str(integrand))
    K, s, t = sp.Symbol("K", positive=True), sp.Symbol("s", positive=True), sp.Symbol("t", real=True)
    primitive = sp.integrate(1 / sp.sqrt(K - s * t**2), (t, 0, var), conds="none")
    return coefficient * primitive.subs({K: base.coeff_monomial(1), s: -base.coeff_monomial(var**2)})


def kernel_by_price(sigma: sp.Expr) -> sp.Expr:
    """kappa(a, b, c) for an activation ``sigma`` in z, derived by Price's theorem (see module doc)."""
    mean_a, mean_b = mean_under(sigma, a), mean_under(sigma, b)
    at_zero = mean_a * mean_b
    d1 = sp.diff(sigma, z)
    form = gaussian_form(d1)
    if form is not None:  # erf-type: E[sigma' sigma'] is a Gaussian integral (completing the square)
        C, q2, q1 = form
        integrand = C**2 * gaussian_expectation(covariance(), M=q2 * sp.eye(2), h=[q1, q1])
        return sp.simplify(at_zero + integrate_inverse_sqrt(sp.simplify(integrand), c))
    d2 = sp.simplify(sp.diff(d1, z))
    coefficient, rest = d2.as_independent(z, as_Add=False)
    if rest != sp.DiracDelta(z):
        raise ParameterError("sigma", "with sigma' of Gaussian form exp(quadratic) or sigma'' = C delta(z)", str(sigma))
    # kink at 0: E[sigma'' sigma''] = C^2 p(0, 0); d kappa/dc at c = 0 = E[sigma'(u)] E[sigma'(v)]
    slope_at_zero = mean_under(d1, a) * mean_under(d1, b)
    s, t = sp.Symbol("s", real=True), sp.Symbol("t", real=True)
    density = coefficient**2 * bivariate_density_at([0, 0], [0, 0], covariance().subs(c, t))
    inner = sp.integrate(density, (t, 0, s), conds="none")
    outer = sp.integrate(inner, (s, 0, c), conds="none")
    return sp.simplify(at_zero + slope_at_zero * c + outer)


def kernel_of_polynomial(sigma: sp.Expr) -> sp.Expr:
    """kappa(a, b, c) for a polynomial sigma(z): Gaussian moments of sigma(x1) sigma(x2)."""
    x1, x2 = sp.symbols("x1 x2", real=True)
    return sp.expand(gaussian_expectation(covariance(), polynomial=sigma.subs(z, x1) * sigma.subs(z, x2), variables=(x1, x2)))
