"""The bivariate normal CDF Phi2(h, k; rho) by Owen's T function, in Numba.

T(h, a) = (1/2pi) int_0^a exp(-h^2 (1 + x^2)/2) / (1 + x^2) dx: Gauss-Legendre on [0, a] for |a| <= 1,
and for |a| > 1 the reflection T(h, a) = (Phi(h) + Phi(ah))/2 - Phi(h) Phi(ah) - T(ah, 1/a)
(h >= 0 form, T even in h), so the integrand is always smooth on a short interval.
Phi2(h, k; rho) = (Phi(h) + Phi(k))/2 - T(h, a_h) - T(k, a_k) - beta, a_h = (k - rho h)/(h sqrt(1-rho^2)),
a_k = (h - rho k)/(k sqrt(1-rho^2)), beta = 1/2 when h and k have opposite signs (h = 0 or k = 0
takes the other's sign: the limit from that side).
"""

from __future__ import annotations

import math

import numba
import numpy as np

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)
_TINY = 1e-300  # h = 0 or k = 0 is taken as a tiny number of the same sign rule (the limit is continuous)


@numba.njit(cache=True)
def normal_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@numba.njit(cache=True)
def _owens_t_small(h, a):
    """T(h, a) for 0 <= a <= 1."""
    total = 0.0
    for i in range(_NODES.shape[0]):
        x = 0.5 * a * (_NODES[i] + 1.0)
        s = 1.0 + x * x
        total += _WEIGHTS[i] * math.exp(-0.5 * h * h * s) / s
    return 0.5 * a * total / (2.0 * math.pi)


@numba.njit(cache=True)
def owens_t(h, a):
    """Owen's T function T(h, a)."""
    if a < 0.0:
        return -owens_t(h, -a)
    h = abs(h)
    if a <= 1.0:
        return _owens_t_small(h, a)
    ah = a * h
    ph, pah = normal_cdf(h), normal_cdf(ah)
    return 0.5 * (ph + pah) - ph * pah - _owens_t_small(ah, 1.0 / a)


@numba.njit(cache=True)
def phi2(h, k, rho):
    """P(X <= h, Y <= k) for standard normals with correlation rho, |rho| < 1."""
    root = math.sqrt(1.0 - rho * rho)
    if h == 0.0 and k == 0.0:
        return 0.25 + math.asin(rho) / (2.0 * math.pi)
    hh = h if h != 0.0 else (_TINY if k > 0.0 else -_TINY)
    kk = k if k != 0.0 else (_TINY if h > 0.0 else -_TINY)
    beta = 0.5 if (hh < 0.0) != (kk < 0.0) else 0.0  # signs, not hh * kk: the product underflows
    a_h = (kk - rho * hh) / (hh * root)
    a_k = (hh - rho * kk) / (kk * root)
    return 0.5 * (normal_cdf(hh) + normal_cdf(kk)) - owens_t(hh, a_h) - owens_t(kk, a_k) - beta
