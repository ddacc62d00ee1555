"""One-sided directional derivatives of the loss, and the loss along a ray.

Along theta + t Delta, for 0 <= t <= t_max (the first t at which some w_i . x_k off the kink
reaches 0), rho((w_i + t dw_i) . x_k) = rho_ik + t delta_ik with delta_ik = drho(w_i . x_k; dw_i . x_k),
so f_k(t) = sum_i (h_i + t dh_i)(rho_ik + t delta_ik) is quadratic in t and L is a polynomial of
degree <= 4.  Its linear coefficient is the directional derivative

  L'(theta; Delta) = (2 / (n d_out)) sum_i (dh_i . g_i + h_i . D_i(dw_i)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradflow.theory.errors import require
from gradflow.theory.landscape.dmap import d_map
from gradflow.theory.landscape.partitions import output_gradient
from gradflow.theory.landscape.point import NetworkPoint, require_relu_like


def directional_derivative(point: NetworkPoint, dW, dH):
    """L'(theta; (dW, dH)) from g_i and the D-maps (kinks classified with the point's tolerance)."""
    dW, dH = direction(point, dW, dH)
    arithmetic = point.arithmetic
    total = arithmetic.number(0)
    for i in range(point.m):
        total += arithmetic.dot(dH[i], output_gradient(point, i)) + arithmetic.dot(point.H[i], d_map(point, i)(dW[i]))
    return point.mean_factor * 2 * total


@dataclass(frozen=True)
class RayPolynomial:
    """L(theta + t Delta) = sum_j coefficients[j] t^j for 0 <= t <= t_max."""

    coefficients: tuple      # c_0 .. c_4
    t_max: object            # Rational / float, or infinity

    def __call__(self, t):
        require(0 <= t <= self.t_max, "t", f"in [0, t_max = {self.t_max}] (the polynomial holds only there)", t)
        return sum(c * t**j for j, c in enumerate(self.coefficients))

    @property
    def slope(self):
        """The one-sided derivative at t = 0."""
        return self.coefficients[1]


def loss_along_ray(point: NetworkPoint, dW, dH) -> RayPolynomial:
    """The exact polynomial of L along theta + t Delta, from the point's actual pre-activations."""
    activation = require_relu_like(point)
    dW, dH = direction(point, dW, dH)
    Z = point.preactivations()
    steps = point.X.dot(dW.T)                                  # dw_i . x_k (n x m)
    rho = np.asarray(activation(Z))
    delta = np.asarray(activation.one_sided(Z, steps))
    first = rho.dot(dH) + delta.dot(point.H)                   # d f_k / dt at 0
    second = delta.dot(dH)                                     # coefficient of t^2 in f_k
    E = point.residuals()
    number = point.arithmetic.number
    raw = (number((E * E).sum()), 2 * number((E * first).sum()),
           number((first * first).sum()) + 2 * number((E * second).sum()),
           2 * number((first * second).sum()), number((second * second).sum()))
    factor = point.mean_factor
    return RayPolynomial(tuple(factor * c for c in raw), _first_crossing(point, Z, steps))


def direction(point: NetworkPoint, dW, dH):
    """Validate a direction (dW m x d, dH m x d_out or (m,) for scalar output) in the point's mode."""
    arithmetic = point.arithmetic
    dW, dH = arithmetic.array(dW, "dW"), arithmetic.array(dH, "dH")
    if dH.ndim == 1 and point.d_out == 1:
        dH = dH.reshape(-1, 1)
    require(dW.shape == point.W.shape, "dW", f"shape {point.W.shape} like W", dW.shape)
    require(dH.shape == point.H.shape, "dH", f"shape {point.H.shape} like H", dH.shape)
    return dW, dH


def _first_crossing(point: NetworkPoint, Z, steps):
    """Smallest t > 0 at which some w_i . x_k != 0 moving towards 0 reaches it."""
    ratios = [abs(Z[k, i]) / abs(steps[k, i]) for k in range(point.n) for i in range(point.m)
              if Z[k, i] != 0 and Z[k, i] * steps[k, i] < 0]
    if not ratios:
        return sp.oo if point.exact else math.inf
    return min(ratios)
