"""ReLU's covariance kernel with biases, by Price's theorem applied twice.

(u, v) ~ N((p, q), [[a, c], [c, b]]) is u = p + sqrt(a) X, v = q + sqrt(b) Y with standard (X, Y) of
correlation rho = c / sqrt(ab), so kappa = E[relu(u) relu(v)] = sqrt(ab) g(h, k, rho), h = p / sqrt(a),
k = q / sqrt(b), g(h, k, rho) = E[(X + h)_+ (Y + k)_+], and d/dc = d/drho / sqrt(ab).  Price's theorem:

    d kappa / dc   = E[H(u) H(v)]         = P(X > -h, Y > -k) = Phi2(h, k; rho),
    d2 kappa / dc2 = E[delta(u) delta(v)] = the density of (u, v) at (0, 0),
    kappa(c = 0)   = E[relu(u)] E[relu(v)], E[relu(u)] = p Phi(h) + sqrt(a) phi(h).

Integrating Phi2 in rho (the truncated bivariate moments of Rosenbaum, J. R. Stat. Soc. B 1961) gives

    g = (rho + h k) Phi2(h, k; rho) + k phi(h) Phi((k - rho h)/s) + h phi(k) Phi((h - rho k)/s)
        + s^2 phi2(h, k; rho),    s = sqrt(1 - rho^2),

phi2 the standard bivariate density.  ``gaussian.proofs`` proves it: dg/drho - Phi2 and g(rho = 0) -
the product of the one-dimensional means simplify to 0.  The one-dimensional moments E[relu(u)^n]
are integrated by SymPy.

Numerically the terms of g have both signs: its absolute error is ~1e-16 of sqrt(ab) (1 + |h k|), so
deep in a tail (a neuron almost never active, h or k << -5) kappa is tiny and its relative error large.
"""

from __future__ import annotations

import sympy as sp

from gradflow.theory.gaussian.phi2 import Phi2, normal_cdf, normal_pdf

h, k = sp.symbols("h k", real=True)
rho = sp.Symbol("rho", real=True)


def standard_density(h, k, rho) -> sp.Expr:
    """The density of standard normals with correlation rho at (h, k) (symmetric under (h, k) -> -(h, k))."""
    return sp.exp(-(h**2 - 2 * rho * h * k + k**2) / (2 * (1 - rho**2))) / (2 * sp.pi * sp.sqrt(1 - rho**2))


def standardized_relu_kernel(h=h, k=k, rho=rho) -> sp.Expr:
    """g(h, k, rho) = E[(X + h)_+ (Y + k)_+] for standard normals (X, Y) with correlation rho."""
    s = sp.sqrt(1 - rho**2)
    return ((rho + h * k) * Phi2(h, k, rho) + k * normal_pdf(h) * normal_cdf((k - rho * h) / s)
            + h * normal_pdf(k) * normal_cdf((h - rho * k) / s) + (1 - rho**2) * standard_density(h, k, rho))


def truncated_moment(power: int, variance: sp.Expr, mean: sp.Expr) -> sp.Expr:
    """E[relu(u)^power], u ~ N(mean, variance): the integral over u > 0, integrated by SymPy."""
    x = sp.Symbol("x", real=True)
    integrand = (mean + sp.sqrt(variance) * x) ** power * normal_pdf(x)
    moment = sp.simplify(sp.integrate(sp.expand(integrand), (x, -mean / sp.sqrt(variance), sp.oo)))
    # SymPy writes Phi(h) as 1 - erfc(h / sqrt2)/2, which cancels for h << 0: erfc(-h / sqrt2)/2 does not
    return sp.expand(moment.replace(sp.erfc, lambda y: 2 - sp.erfc(-y, evaluate=False)))


def standardized_derivatives(h=h, k=k, rho=rho) -> tuple:
    """(gradient, Hessian) of g in (h, k, rho), by Price's theorem and conditioning, each proven in
    ``gaussian.proofs``: g_rho = Phi2, g_h = E[(Y + k)_+ ; X > -h], g_hh = phi(h) E[(Y + k)_+ | X = -h],
    g_hk = Phi2 (the boundary term vanishes), g_h rho = phi(h) Phi(m_h).  Written so that no factor
    overflows: every exponential is a density."""
    s = sp.sqrt(1 - rho**2)
    m_h, m_k = (k - rho * h) / s, (h - rho * k) / s  # Y given X = -h is N(-rho h, s^2); likewise X given Y
    big = Phi2(h, k, rho)
    gradient = (k * big + normal_pdf(k) * normal_cdf(m_k) + rho * normal_pdf(h) * normal_cdf(m_h),
                h * big + normal_pdf(h) * normal_cdf(m_h) + rho * normal_pdf(k) * normal_cdf(m_k),
                big)
    hh = normal_pdf(h) * ((k - rho * h) * normal_cdf(m_h) + s * normal_pdf(m_h))
    kk = normal_pdf(k) * ((h - rho * k) * normal_cdf(m_k) + s * normal_pdf(m_k))
    hessian = ((hh, big, normal_pdf(h) * normal_cdf(m_h)),
               (big, kk, normal_pdf(k) * normal_cdf(m_k)),
               (normal_pdf(h) * normal_cdf(m_h), normal_pdf(k) * normal_cdf(m_k), standard_density(h, k, rho)))
    return gradient, hessian
