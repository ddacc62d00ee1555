"""Leaving a stationary point through an escape neuron.

Escape path (escape neuron i with h_i = 0, scalar or vector output).  For u with D = D_i(u) != 0,
move w_i -> w_i + eps u, h_i -> -c eps D.  While eps u changes no sign of w_i . x_k off the kink,
rho((w_i + eps u) . x_k) = rho(w_i . x_k) + eps drho(w_i . x_k; u . x_k), so with (S1) (g_i = 0)
sum_k e_k rho((w_i + eps u) . x_k) = eps D and f_k changes by -c eps D rho((w_i + eps u) . x_k):
  (n d_out)(L(theta_eps) - L(theta)) = -2 c eps^2 ||D||^2 + c^2 eps^2 ||D||^2 S_eps
                                    = eps^2 ||D||^2 (c^2 S_eps - 2 c),   S_eps = sum_k rho((w_i + eps u) . x_k)^2.
Each term of S is a convex quadratic of eps on that range, so max over [0, eps] is max(S_0, S_eps);
c = 1 / that maximum makes c^2 S_eps - 2 c <= -c < 0.

Second-order probe (vector output, escape neuron with h_i != 0, u with h_i . D = 0).  Along
w_i -> w_i + eps u, h_i -> h_i + eps v the first-order term 2 eps (v . g_i + h_i . D) vanishes and
the eps^2 coefficient of (n d_out) L is
  q(v) = 2 v . D + ||v||^2 A + 2 (v . h_i) B + ||h_i||^2 C,
  A = sum_k rho_k^2, B = sum_k rho_k delta_k, C = sum_k delta_k^2, rho_k = rho(w_i . x_k),
  delta_k = drho(w_i . x_k; u . x_k),
minimised (A > 0) by v = -(D + h_i B) / A with value ||h_i||^2 C - ||D + h_i B||^2 / A.  A negative
value certifies a saddle; the probe confirms it by evaluating L at eps, halving eps until L drops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradflow.theory.errors import require
from gradflow.theory.landscape.arithmetic import magnitude
from gradflow.theory.landscape.dmap import d_map, d_map_value_scale
from gradflow.theory.landscape.escape_neurons import escape_directions
from gradflow.theory.landscape.partitions import (NeuronPartition, is_zero_output_weight, neuron_partition, output_gradient,
                         output_gradient_scale)
from gradflow.theory.landscape.point import NetworkPoint

MAX_HALVINGS = 60


@dataclass(frozen=True, eq=False)
class EscapePath:
    neuron: int
    u: np.ndarray
    value: np.ndarray          # D_i(u)
    eps: object
    c: object
    S_eps: object
    point: NetworkPoint        # theta_eps
    predicted_change: object   # eps^2 ||D||^2 (c^2 S_eps - 2 c) / (n d_out)
    actual_change: object      # L(theta_eps) - L(theta)


@dataclass(frozen=True, eq=False)
class SecondOrderProbe:
    neuron: int
    u: np.ndarray
    value: np.ndarray                  # D_i(u)
    A: object
    B: object
    C: object
    v: np.ndarray
    coefficient: object                # eps^2 coefficient of L (with the 1 / (n d_out))
    eps: object = None                 # where L was seen to drop (None: not found / not tried)
    point: NetworkPoint | None = None
    change: object = None              # L(path(eps)) - L(theta)

    @property
    def descends(self) -> bool:
        return self.change is not None and self.change < 0


def escape_path(point: NetworkPoint, neuron: int, u=None, eps=None, c=None) -> EscapePath:
    """The escape path of an escape neuron with h_i = 0 (module docstring).  Defaults: u from the
    escape LPs, eps = min(1, half the sign-preserving step), c = 1 / max(S_0, S_eps)."""
    arithmetic = point.arithmetic
    partition = neuron_partition(point, neuron)
    require(is_zero_output_weight(point, neuron), "neuron", "a neuron with h_i = 0 for the escape path", neuron)
    _require_s1(point, neuron)
    dmap = d_map(point, neuron)
    if u is None:
        require(not dmap.is_identically_zero(), "neuron", "a neuron whose D-map is not identically 0", neuron)
        u = escape_directions(point, dmap)[0].u
    u = arithmetic.array(u, "u")
    value = dmap(u)
    require(not arithmetic.is_zero(value, dmap.scale * float(magnitude(u).max())), "u", "a direction with D_i(u) != 0", u)
    eps = _step(point, partition, u, eps)
    w = point.W[neuron] + eps * u
    S_eps = _squares(point, point.X.dot(w))
    if c is None:
        c = 1 / max(S_eps, _squares(point, point.preactivations()[:, neuron]))
    c = arithmetic.number(c)
    require(c > 0, "c", "positive", c)
    W, H = np.array(point.W), np.array(point.H)
    W[neuron], H[neuron] = w, -c * eps * value
    moved = point.with_parameters(W, H)
    predicted = point.mean_factor * eps**2 * arithmetic.dot(value, value) * (c * c * S_eps - 2 * c)
    return EscapePath(neuron, u, value, eps, c, S_eps, moved, predicted, moved.loss() - point.loss())


def second_order_probe(point: NetworkPoint, neuron: int, u) -> SecondOrderProbe:
    """Minimise the eps^2 coefficient over v and, when it is negative, find an eps where L drops."""
    arithmetic = point.arithmetic
    partition = neuron_partition(point, neuron)
    _require_s1(point, neuron)
    dmap = d_map(point, neuron)
    u = arithmetic.array(u, "u")
    h = point.H[neuron]
    value = dmap(u)
    require(arithmetic.is_zero(arithmetic.dot(h, value), d_map_value_scale(dmap, h) * float(magnitude(u).max())), "u",
            "a direction with h_i . D_i(u) = 0 (else the first-order term decides)", u)
    rho = np.asarray(point.activation(point.preactivations()[:, neuron]))
    delta = np.asarray(point.activation.one_sided(partition.preactivation, point.X.dot(u)))
    A, B, C = arithmetic.dot(rho, rho), arithmetic.dot(rho, delta), arithmetic.dot(delta, delta)
    v = _best_v(point, value, h, A, B, C)
    terms = (2 * arithmetic.dot(v, value), arithmetic.dot(v, v) * A, 2 * arithmetic.dot(v, h) * B,
             arithmetic.dot(h, h) * C)
    coefficient = point.mean_factor * sum(terms)
    scale = float(point.mean_factor) * float(sum(abs(float(t)) for t in terms))
    probe = SecondOrderProbe(neuron, u, value, A, B, C, v, coefficient)
    if not arithmetic.is_negative(coefficient, scale):
        return probe
    eps = _step(point, partition, u, None)
    for _ in range(MAX_HALVINGS):
        W, H = np.array(point.W), np.array(point.H)
        W[neuron], H[neuron] = point.W[neuron] + eps * u, h + eps * v
        moved = point.with_parameters(W, H)
        change = moved.loss() - point.loss()
        if change < 0:
            return SecondOrderProbe(neuron, u, value, A, B, C, v, coefficient, eps, moved, change)
        eps = eps / 2
    return probe


def sign_preserving_step(point: NetworkPoint, partition: NeuronPartition, u):
    """Largest eps such that w_i + eps u changes no sign of w_i . x_k off the kink (may be infinite)."""
    z = point.preactivations()[:, partition.index]
    steps = point.X.dot(u)
    kink = set(partition.kink)
    ratios = [abs(z[k]) / abs(steps[k]) for k in range(point.n) if k not in kink and z[k] * steps[k] < 0]
    if ratios:
        return min(ratios)
    return sp.oo if point.exact else math.inf


def _step(point: NetworkPoint, partition: NeuronPartition, u, eps):
    limit = sign_preserving_step(point, partition, u)
    if eps is None:
        one = point.arithmetic.number(1)
        return one if limit == sp.oo or limit == math.inf else min(one, limit / 2)
    eps = point.arithmetic.number(eps)
    require(0 < eps <= limit, "eps", f"in (0, {limit}] (no sign change of w_i . x_k off the kink)", eps)
    return eps


def _squares(point: NetworkPoint, preactivation):
    values = np.asarray(point.activation(preactivation))
    return point.arithmetic.dot(values, values)


def _best_v(point: NetworkPoint, value, h, A, B, C):
    """argmin of q(v); for A = 0, q is linear in v and v = -t (D + h B) with t past q's root."""
    arithmetic = point.arithmetic
    gradient = value + h * B
    if A > 0:
        return -gradient / A
    norm = arithmetic.dot(gradient, gradient)
    if norm == 0:
        return arithmetic.zeros(point.d_out)
    return -(arithmetic.dot(h, h) * C / norm + 1) * gradient


def _require_s1(point: NetworkPoint, neuron: int) -> None:
    require(point.arithmetic.is_zero(output_gradient(point, neuron), output_gradient_scale(point, neuron)), "neuron",
            "a neuron with (S1) g_i = 0 (the expansions need it)", neuron)
