"""Gaussian integrals over R^2 by completing the square.

For x ~ N(0, S) in R^2, a symmetric M with S^{-1} - M positive definite, a vector h and a polynomial p:

    E[exp(x^T M x / 2 + h^T x) p(x)] = det(I - S M)^{-1/2} exp(h^T T h / 2) E_{y ~ N(T h, T)}[p(y)],

with T = (S^{-1} - M)^{-1}: the exponent joins the Gaussian density into another Gaussian density
(completing the square), and the polynomial's moments under it come from its moment generating
function exp(mu^T t + t^T T t / 2).
"""

from __future__ import annotations

import sympy as sp


def gaussian_moment(mean, cov, powers: tuple[int, int]) -> sp.Expr:
    """E[y_1^i y_2^j] for y ~ N(mean, cov): derivatives of the moment generating function at 0."""
    t = sp.symbols("t1 t2", real=True)
    tv = sp.Matrix(t)
    mean, cov = sp.Matrix(mean), sp.Matrix(cov)
    mgf = sp.exp((mean.T * tv)[0] + (tv.T * cov * tv)[0] / 2)
    i, j = powers
    return sp.expand(sp.diff(mgf, t[0], i, t[1], j).subs({t[0]: 0, t[1]: 0}))


def gaussian_expectation(cov, M=None, h=None, polynomial=1, variables=None) -> sp.Expr:
    """E[exp(x^T M x / 2 + h^T x) p(x)] for x ~ N(0, cov) in R^2, by completing the square.

    ``polynomial`` is a polynomial in ``variables`` (two symbols; default x1, x2).  ``M`` defaults to
    zero and ``h`` to the zero vector (plain moments).  Valid where cov^{-1} - M is positive definite."""
    cov = sp.Matrix(cov)
    M = sp.zeros(2, 2) if M is None else sp.Matrix(M)
    h = sp.zeros(2, 1) if h is None else sp.Matrix(h)
    if variables is None:
        variables = sp.symbols("x1 x2", real=True)
    tilted_cov = (cov.inv() - M).inv()  # T: the covariance of the completed square
    tilted_mean = tilted_cov * h
    normaliser = 1 / sp.sqrt((sp.eye(2) - cov * M).det())
    shift = sp.exp((h.T * tilted_cov * h)[0] / 2)
    poly = sp.Poly(sp.sympify(polynomial), *variables)
    moments = sum(coef * gaussian_moment(tilted_mean, tilted_cov, powers) for powers, coef in poly.terms())
    return sp.simplify(normaliser * shift) * sp.simplify(moments)


def bivariate_density_at(point, mean, cov) -> sp.Expr:
    """The N(mean, cov) density on R^2 at ``point``."""
    diff = sp.Matrix(point) - sp.Matrix(mean)
    cov = sp.Matrix(cov)
    return sp.exp(-(diff.T * cov.inv() * diff)[0] / 2) / (2 * sp.pi * sp.sqrt(cov.det()))
