"""Per-neuron partition of the data by the sign of w_i . x_k, and the objects read off it.

I+ (w_i . x_k > 0), I- (< 0), I0 (= 0: input k lies on neuron i's kink).  A zero neuron (w_i = 0)
has every input in I0.  In float mode "= 0" means |w_i . x_k| <= tol ||w_i|| ||x_k||, a zero
neuron is ||w_i|| <= tol max(1, max_j ||w_j||), and an input on the kink is treated as exactly
on it (its pre-activation is idealised to 0) by everything built on the partition.

  g_i = sum_k e_k rho(w_i . x_k)          (dL/dh_i = 2 g_i / (n d_out))
  B_i = a_plus sum_{I+} e_k x_k^T + a_minus sum_{I- and I0} e_k x_k^T     (d_out x d)
  r_i = min_{k not in I0} |w_i . x_k| / ||x_k||    (kink margin: ||dw_i|| < r_i keeps every sign)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradflow.theory.errors import require
from gradflow.theory.landscape.arithmetic import magnitude
from gradflow.theory.landscape.point import NetworkPoint, require_relu_like


@dataclass(frozen=True, eq=False)
class NeuronPartition:
    index: int
    positive: tuple[int, ...]        # I+
    negative: tuple[int, ...]        # I-
    kink: tuple[int, ...]            # I0 (includes zero inputs x_k = 0)
    kink_inputs: tuple[int, ...]     # I0 without zero inputs: the inputs that make the neuron non-differentiable
    is_zero: bool                    # w_i = 0
    preactivation: np.ndarray        # w_i . x_k with the I0 entries set to exactly 0

    @property
    def differentiable(self) -> bool:
        return not self.kink_inputs


def neuron_partition(point: NetworkPoint, i: int) -> NeuronPartition:
    require_relu_like(point)
    require_neuron(point, i)
    arithmetic = point.arithmetic
    z = point.preactivations()[:, i]
    zero = is_zero_neuron(point, i)
    if point.exact:
        on_kink = [zero or z[k] == 0 for k in range(point.n)]
    else:
        scale = float(np.linalg.norm(point.W[i])) * np.linalg.norm(point.X, axis=1)
        on_kink = [zero or abs(z[k]) <= point.tol * scale[k] for k in range(point.n)]
    kink = tuple(k for k in range(point.n) if on_kink[k])
    zeros = set(zero_inputs(point))
    ideal = np.array([arithmetic.number(0) if on_kink[k] else z[k] for k in range(point.n)],
                     dtype=object if point.exact else float)
    return NeuronPartition(
        index=i,
        positive=tuple(k for k in range(point.n) if not on_kink[k] and z[k] > 0),
        negative=tuple(k for k in range(point.n) if not on_kink[k] and z[k] < 0),
        kink=kink,
        kink_inputs=tuple(k for k in kink if k not in zeros),
        is_zero=zero,
        preactivation=ideal,
    )


def is_zero_neuron(point: NetworkPoint, i: int) -> bool:
    """w_i = 0 (float: ||w_i|| <= tol max(1, max_j ||w_j||))."""
    return _is_zero_row(point, point.W, i)


def is_zero_output_weight(point: NetworkPoint, i: int) -> bool:
    """h_i = 0 (float: ||h_i|| <= tol max(1, max_j ||h_j||))."""
    return _is_zero_row(point, point.H, i)


def zero_inputs(point: NetworkPoint) -> tuple[int, ...]:
    """Inputs x_k = 0 (float: ||x_k|| <= tol max(1, max_l ||x_l||)); they lie on every kink but never matter."""
    return tuple(k for k in range(point.n) if _is_zero_row(point, point.X, k))


def output_gradient(point: NetworkPoint, i: int):
    """g_i = sum_k e_k rho(w_i . x_k) (d_out,); exactly 0 for a zero neuron."""
    require_neuron(point, i)
    if is_zero_neuron(point, i):
        return point.arithmetic.zeros(point.d_out)
    activations = np.asarray(point.activation(point.preactivations()[:, i]))
    return point.residuals().T.dot(activations)


def output_gradient_scale(point: NetworkPoint, i: int) -> float:
    """Float-mode magnitude of g_i: residual scale times sum_k |rho(w_i . x_k)|."""
    return point.residual_scale * float(magnitude(point.activation(point.preactivations()[:, i])).sum())


def linear_part(point: NetworkPoint, preactivation: np.ndarray) -> np.ndarray:
    """B = sum_k rho'(z_k) e_k x_k^T (d_out x d) with rho'(0) = a_minus, for idealised pre-activations z."""
    slopes = np.asarray(point.activation.prime(preactivation))
    return point.residuals().T.dot(slopes[:, None] * point.X)


def kink_margin(point: NetworkPoint, partition: NeuronPartition):
    """r_i = min over inputs off the kink of |w_i . x_k| / ||x_k|| (infinite when all are on it)."""
    arithmetic = point.arithmetic
    off = [k for k in range(point.n) if k not in set(partition.kink)]
    if not off:
        return sp.oo if point.exact else math.inf
    z = point.preactivations()[:, partition.index]
    return min(abs(z[k]) / arithmetic.norm(point.X[k]) for k in off)


def _is_zero_row(point: NetworkPoint, rows: np.ndarray, i: int) -> bool:
    if point.exact:
        return all(v == 0 for v in rows[i])
    norms = np.linalg.norm(rows, axis=1)
    return bool(norms[i] <= point.tol * max(1.0, float(norms.max())))


def require_neuron(point: NetworkPoint, i: int) -> None:
    require(isinstance(i, (int, np.integer)) and 0 <= i < point.m, "neuron", f"an index in [0, {point.m})", i)
