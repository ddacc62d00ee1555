"""Symbolic proofs of the biased closed forms: each residual below simplifies to 0.

A kernel with biases is written down as a closed form in Phi2 and one-dimensional Phi, phi; it is
proven by Price's theorem: its c-derivative equals E[sigma'(u) sigma'(v)] (a Gaussian integral, or
for ReLU the probability Phi2), and at c = 0 it equals the product of the one-dimensional means.
Together these fix kappa for every c (an ODE in c with its initial value).
"""

from __future__ import annotations

import sympy as sp

from gradflow.theory.gaussian.integrals import bivariate_density_at
from gradflow.theory.gaussian.kernels import erf2_biased, normal_cdf_biased, p, price_derivative_biased, q, relu_biased
from gradflow.theory.gaussian.phi2 import Phi2, normal_cdf, normal_pdf
from gradflow.theory.gaussian.price import a, b, c
from gradflow.theory.gaussian.relu_biased import (h, k, rho, standard_density, standardized_derivatives,
                                                  standardized_relu_kernel)


def _exponents_cancelled(expr):
    return expr.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.factor(sp.cancel(e.args[0]))))


def simplified(expr, rounds: int = 3) -> sp.Expr:
    """simplify, with the arguments of exponentials brought to one rational form in between (simplify
    alone leaves exp(A) - exp(B) with A = B only after cancelling)."""
    for _ in range(rounds):
        expr = sp.powsimp(_exponents_cancelled(sp.expand(expr)), combine="exp", force=True)
        expr = sp.simplify(_exponents_cancelled(expr))
        if expr == 0:
            break
    return expr


def _ratio_minus_one(got, want) -> sp.Expr:
    ratio = sp.powsimp(sp.expand_power_base(got / want, force=True), combine="exp", force=True)
    return sp.simplify(ratio - 1)


def relu_biased_residuals() -> dict:
    """ReLU with biases, in the standardized form g(h, k, rho) = kappa / sqrt(ab) (d/dc = d/drho / sqrt(ab))."""
    g = standardized_relu_kernel(h, k, rho)
    one_d = lambda x: x * normal_cdf(x) + normal_pdf(x)  # E[(X + x)_+]
    kern = relu_biased()
    standardized = kern.expression / sp.sqrt(a * b)
    return {
        "kappa = sqrt(ab) g(p/sqrt(a), q/sqrt(b), c/sqrt(ab))":
            sp.simplify(standardized - g.subs({h: p / sp.sqrt(a), k: q / sp.sqrt(b), rho: c / sp.sqrt(a * b)},
                                               simultaneous=True)),
        "dg/drho - Phi2(h, k; rho) (Price: E[H(u) H(v)])": simplified(sp.diff(g, rho) - Phi2(h, k, rho)),
        "d2g/drho2 - phi2(h, k; rho) (Price twice: E[delta(u) delta(v)])":
            simplified(sp.diff(Phi2(h, k, rho), rho) - standard_density(h, k, rho)),
        "density of (u, v) at 0 - phi2(h, k; rho) / sqrt(ab)":
            simplified(bivariate_density_at([0, 0], [p, q], sp.Matrix([[a, c], [c, b]]))
                       - standard_density(h, k, rho).subs({h: p / sp.sqrt(a), k: q / sp.sqrt(b),
                                                           rho: c / sp.sqrt(a * b)}, simultaneous=True) / sp.sqrt(a * b)),
        "g(rho = 0) - E[(X + h)_+] E[(Y + k)_+]": sp.simplify(g.subs(rho, 0) - one_d(h) * one_d(k)),
        "mean - sqrt(a) E[(X + h)_+]": sp.simplify((kern.mean - sp.sqrt(a) * one_d(p / sp.sqrt(a))).rewrite(sp.erf)),
        # g's limit at h = k, rho -> 1: Phi2 -> Phi(h), both Phi(.)/s-terms -> 1/2, s^2 phi2 -> 0
        "E[relu(u)^2] - ((a + p^2) Phi(h) + p sqrt(a) phi(h)), kappa's limit on the diagonal": sp.simplify(
            (kern.self_kernel - (a + p**2) * normal_cdf(p / sp.sqrt(a))
             - p * sp.sqrt(a) * normal_pdf(p / sp.sqrt(a))).rewrite(sp.erf)),
    }


def erf2_biased_residuals() -> dict:
    """erf2 and normal_cdf with biases: the c-derivative against the Price integrand (completing the
    square), and the value at c = 0 against the product of the means."""
    out = {}
    for kern, slope in ((normal_cdf_biased(), 1 / sp.sqrt(2 * sp.pi)), (erf2_biased(), sp.sqrt(2 / sp.pi))):
        integrand = price_derivative_biased(slope, -1)
        out[f"{kern.name}: (d kappa/dc) / E[sigma'(u) sigma'(v)] - 1"] = _ratio_minus_one(sp.diff(kern.expression, c),
                                                                                          integrand)
        out[f"{kern.name}: kappa(c = 0) - mean(a, p) mean(b, q)"] = sp.simplify(
            kern.expression.subs(c, 0) - kern.mean * kern.mean.subs({a: b, p: q}, simultaneous=True))
    return out


def relu_standardized_derivative_residuals() -> dict:
    """g's gradient and Hessian in (h, k, rho), as generated code uses them, against SymPy's derivatives."""
    g = standardized_relu_kernel(h, k, rho)
    gradient, hessian = standardized_derivatives(h, k, rho)
    variables = (h, k, rho)
    out = {f"dg/d{v} - closed form": simplified(sp.diff(g, v) - gradient[i]) for i, v in enumerate(variables)}
    for i, v in enumerate(variables):
        for j in range(i, 3):
            w = variables[j]
            out[f"d2g/d{v}d{w} - closed form"] = simplified(sp.diff(gradient[i], w) - hessian[i][j])
    return out
