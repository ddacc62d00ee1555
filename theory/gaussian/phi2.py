"""The bivariate standard normal CDF Phi2(h, k; rho) = P(X <= h, Y <= k), corr(X, Y) = rho, as a SymPy
function: its derivatives are elementary, so derivatives of kernels written with it stay closed."""

from __future__ import annotations

import sympy as sp


def normal_pdf(x):
    return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


def normal_cdf(x):
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


class Phi2(sp.Function):
    """Phi2(h, k, rho).  d/dh = phi(h) Phi((k - rho h)/sqrt(1 - rho^2)) (symmetric in h, k), and
    d/drho = the bivariate density at (h, k) (Plackett's identity)."""

    nargs = 3

    @classmethod
    def eval(cls, h, k, rho):
        if rho.is_zero:  # independence
            return normal_cdf(h) * normal_cdf(k)

    def fdiff(self, argindex=1):
        h, k, rho = self.args
        root = sp.sqrt(1 - rho**2)
        if argindex == 1:
            return normal_pdf(h) * normal_cdf((k - rho * h) / root)
        if argindex == 2:
            return normal_pdf(k) * normal_cdf((h - rho * k) / root)
        if argindex == 3:
            return sp.exp(-(h**2 - 2 * rho * h * k + k**2) / (2 * (1 - rho**2))) / (2 * sp.pi * root)
        raise sp.ArgumentIndexError(self, argindex)

    def _latex(self, printer):
        h, k, rho = (printer._print(x) for x in self.args)
        return rf"\Phi_2\left({h}, {k}; {rho}\right)"

    def _pythoncode(self, printer):
        # generated numeric code binds the name Phi2 to a numeric implementation
        return "Phi2(" + ", ".join(printer._print(x) for x in self.args) + ")"
