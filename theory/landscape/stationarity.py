"""Directional (d-) stationarity: L'(theta; Delta) >= 0 for every direction Delta.

Since L'(theta; Delta) = (2 / (n d_out)) sum_i (dh_i . g_i + h_i . D_i(dw_i)) splits over neurons
and over (dh_i, dw_i), it holds iff for every neuron
  (S1) g_i = 0                 (else dh_i = -g_i descends), and
  (S2) h_i . D_i(u) >= 0 for all u.
(S2) is decided cone by cone: D_i(u) = M_s u on C_s, so (S2) holds iff
  min { h_i . M_s u : u in C_s, ||u||_inf <= 1 } = 0    for every full-dimensional sign cone C_s
(the box only normalises: the objective is homogeneous).  A negative minimum returns its
minimiser u as a descent direction that moves only w_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.landscape.dmap import DMap, d_map, d_map_value_scale
from gradflow.theory.landscape.linear_program import minimize
from gradflow.theory.landscape.partitions import is_zero_output_weight, output_gradient, output_gradient_scale
from gradflow.theory.landscape.point import NetworkPoint


@dataclass(frozen=True, eq=False)
class Descent:
    """A direction (dW, dH) with a negative one-sided derivative."""

    neuron: int
    dW: np.ndarray
    dH: np.ndarray
    derivative: object  # L'(theta; (dW, dH)) < 0


@dataclass(frozen=True, eq=False)
class NeuronStationarity:
    index: int
    g: np.ndarray                    # g_i
    s1: bool                         # g_i = 0
    s2: bool                         # h_i . D_i(u) >= 0 for all u
    s2_minimum: object               # min over cones and ||u||_inf <= 1 of h_i . D_i(u) (0 when (S2) holds)
    s1_descent: Descent | None       # dh_i = -g_i when (S1) fails
    s2_descent: Descent | None       # dw_i = the minimiser u when (S2) fails

    @property
    def holds(self) -> bool:
        return self.s1 and self.s2

    @property
    def descent(self) -> Descent | None:
        return self.s1_descent or self.s2_descent


@dataclass(frozen=True, eq=False)
class Stationarity:
    neurons: tuple[NeuronStationarity, ...]

    @property
    def holds(self) -> bool:
        """d-stationary: (S1) and (S2) at every neuron."""
        return all(neuron.holds for neuron in self.neurons)

    @property
    def violations(self) -> tuple[NeuronStationarity, ...]:
        return tuple(neuron for neuron in self.neurons if not neuron.holds)


def d_stationarity(point: NetworkPoint) -> Stationarity:
    return Stationarity(tuple(neuron_stationarity(point, i) for i in range(point.m)))


def neuron_stationarity(point: NetworkPoint, i: int) -> NeuronStationarity:
    arithmetic = point.arithmetic
    factor = 2 * point.mean_factor
    g = output_gradient(point, i)
    s1 = arithmetic.is_zero(g, output_gradient_scale(point, i))
    s1_descent = None
    if not s1:
        dH = arithmetic.zeros(point.H.shape)
        dH[i] = -g
        s1_descent = Descent(i, arithmetic.zeros(point.W.shape), dH, -factor * arithmetic.dot(g, g))
    dmap = d_map(point, i)
    minimum, u = s2_minimum(point, dmap, i)
    s2 = not arithmetic.is_negative(minimum, d_map_value_scale(dmap, point.H[i]))
    s2_descent = None
    if not s2:
        dW = arithmetic.zeros(point.W.shape)
        dW[i] = u
        s2_descent = Descent(i, dW, arithmetic.zeros(point.H.shape), factor * minimum)
    return NeuronStationarity(i, g, s1, s2, minimum if not s2 else arithmetic.number(0), s1_descent, s2_descent)


def s2_minimum(point: NetworkPoint, dmap: DMap, i: int):
    """(min over cones of min_{u in C_s, ||u||_inf <= 1} h_i . M_s u, a minimiser); h_i = 0 gives 0."""
    arithmetic = point.arithmetic
    zero = arithmetic.number(0)
    best, best_u = zero, arithmetic.zeros(point.d)
    if is_zero_output_weight(point, i):
        return best, best_u
    h = point.H[i]
    for cone in dmap.cones:
        objective = cone.matrix.T.dot(h)
        if all(v == 0 for v in objective):
            continue
        solution = minimize(objective, A_ub=cone.constraints, b_ub=[zero] * len(cone.constraints),
                            lower=[-1] * point.d, upper=[1] * point.d, start=[zero] * point.d, exact=point.exact)
        if solution.value < best:
            best, best_u = solution.value, solution.x
    return best, best_u
