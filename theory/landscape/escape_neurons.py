"""Escape neurons of a d-stationary point.

Neuron i is an escape neuron when some u has h_i . D_i(u) = 0 and D_i(u) != 0.  Per sign cone this
is an LP on the face {u in C_s : h_i . M_s u = 0} (the minimum face of (S2)): maximise +-(M_s u)_j
over it with ||u||_inf <= 1; a positive maximum gives an escape direction.
- h_i = 0: the face is the whole cone, so i is an escape neuron iff D_i is not identically 0.
- scalar output, h_i != 0: h_i M_s u = 0 forces M_s u = 0, so never an escape neuron.
- vector output: D_i(u) may be non-zero and orthogonal to h_i != 0.
Float mode replaces the face equation by |h_i . M_s u| <= (tol / 2) ||h_i||_1 scale(D).
The statements assume d-stationarity ((S2) makes the face the set of minimisers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.landscape.dmap import DMap, d_map, d_map_value_scale
from gradflow.theory.landscape.linear_program import maximize
from gradflow.theory.landscape.partitions import is_zero_output_weight
from gradflow.theory.landscape.point import NetworkPoint


@dataclass(frozen=True, eq=False)
class EscapeDirection:
    """u (||u||_inf <= 1) with h_i . D_i(u) = 0 and D_i(u) != 0."""

    u: np.ndarray
    value: np.ndarray  # D_i(u)


@dataclass(frozen=True, eq=False)
class NeuronEscape:
    index: int
    output_weight_zero: bool               # h_i = 0
    d_map_zero: bool                       # D_i == 0
    directions: tuple[EscapeDirection, ...]  # empty unless an escape neuron (one is enough when h_i = 0)

    @property
    def is_escape(self) -> bool:
        return bool(self.directions)


def neuron_escape(point: NetworkPoint, i: int) -> NeuronEscape:
    dmap = d_map(point, i)
    h_zero = is_zero_output_weight(point, i)
    d_zero = dmap.is_identically_zero()
    directions = () if d_zero else escape_directions(point, dmap, None if h_zero else point.H[i])
    return NeuronEscape(i, h_zero, d_zero, directions)


def escape_directions(point: NetworkPoint, dmap: DMap, h=None) -> tuple[EscapeDirection, ...]:
    """Directions u (||u||_inf <= 1) with D(u) != 0 and h . D(u) = 0.  h = None stands for h = 0: then one
    direction is enough; otherwise one per cone, output coordinate and sign (the face LPs' maximisers,
    candidates for the second-order probe)."""
    if h is None:
        u = dmap.nonzero_direction
        return () if u is None else (EscapeDirection(u, dmap(u)),)
    arithmetic = point.arithmetic
    zero = arithmetic.number(0)
    found = []
    for cone in dmap.cones:
        if arithmetic.is_zero(cone.matrix, dmap.scale):
            continue
        face = _face(point, dmap, cone.matrix, h)
        for j in range(point.d_out):
            for sign in (1, -1):
                solution = maximize([sign * v for v in cone.matrix[j]],
                                    A_ub=np.concatenate([cone.constraints, face["A_ub"]]).reshape(-1, point.d),
                                    b_ub=[zero] * len(cone.constraints) + face["b_ub"],
                                    A_eq=face["A_eq"], b_eq=face["b_eq"],
                                    lower=[-1] * point.d, upper=[1] * point.d, start=[zero] * point.d, exact=point.exact)
                if arithmetic.is_positive(solution.value, dmap.scale):
                    found.append(EscapeDirection(solution.x, dmap(solution.x)))
    return tuple(found)


def _face(point: NetworkPoint, dmap: DMap, matrix, h) -> dict:
    """The face h . M u = 0 as LP rows (a thin band in float mode)."""
    normal = matrix.T.dot(h)
    if point.exact:
        return {"A_ub": np.zeros((0, point.d), dtype=object), "b_ub": [], "A_eq": [normal],
                "b_eq": [point.arithmetic.number(0)]}
    band = 0.5 * point.tol * d_map_value_scale(dmap, h)
    return {"A_ub": np.array([normal, -normal]), "b_ub": [band, band], "A_eq": [], "b_eq": []}
