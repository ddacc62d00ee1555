"""The D-map of a neuron and its sign cones.

For a direction u in R^d,
  D_i(u) = sum_k e_k drho(w_i . x_k; x_k . u) = B_i u + (a_plus - a_minus) sum_{k in I0} e_k [x_k . u]_+,
positively homogeneous, linear when no input lies on the kink.  For a sign vector s on the kink
inputs, on the cone C_s = {u : s_k x_k . u >= 0} the map is linear, D_i(u) = M_s u with
  M_s = B_i + (a_plus - a_minus) sum_{k in I0, s_k = +} e_k x_k^T.

Only cones with non-empty interior are kept: every u lies in the closure of an open region of the
hyperplane arrangement {x_k . u = 0}, whose closure is the C_s of its sign vector, and D_i is
continuous, so any statement "for all u" or "there is a u" about M_s u over the cones is decided
by the full-dimensional ones.  The regions are enumerated one hyperplane at a time, each region
carrying an interior point: one child of every split inherits it, the other tries a shift along
the new hyperplane's normal and solves an LP only when that fails.

The zero-neuron map D_0(u) = sum_k e_k rho(x_k . u) is the D-map of a neuron with w = 0.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gradflow.theory.errors import require
from gradflow.theory.landscape.arithmetic import Arithmetic, magnitude
from gradflow.theory.landscape.linear_program import maximize
from gradflow.theory.landscape.partitions import linear_part, neuron_partition, zero_inputs
from gradflow.theory.landscape.point import NetworkPoint, require_relu_like

_D_MAPS: "weakref.WeakKeyDictionary[NetworkPoint, dict[tuple, DMap]]" = weakref.WeakKeyDictionary()
MAX_KINK_INPUTS = 16  # the sign cones number up to 2^|I0|; beyond this the enumeration is refused
_FLOAT_INTERIOR = 1e-9  # float mode: a region is full-dimensional when its inscribed margin exceeds this


@dataclass(frozen=True, eq=False)
class SignCone:
    """C_s = {u : constraints @ u <= 0} (rows -s_k x_k), on which D(u) = matrix @ u."""

    signs: tuple[int, ...]      # s_k in {+1, -1}, aligned with DMap.kink_inputs
    constraints: np.ndarray     # (|I0|, d)
    matrix: np.ndarray          # M_s (d_out x d)
    witness: np.ndarray         # an interior point


@dataclass(frozen=True, eq=False)
class DMap:
    """D_i for one neuron (or D_0), with its pre-activations idealised on the kink."""

    point: NetworkPoint
    preactivation: np.ndarray        # (n,), exactly 0 on the kink
    kink_inputs: tuple[int, ...]     # kink inputs with x_k != 0

    @cached_property
    def linear_part(self) -> np.ndarray:
        """B (d_out x d)."""
        return linear_part(self.point, self.preactivation)

    def __call__(self, u) -> np.ndarray:
        """D(u) (d_out,)."""
        point = self.point
        u = point.arithmetic.array(u, "u")
        require(u.shape == (point.d,), "u", f"a vector of length d = {point.d}", u.shape)
        steps = np.asarray(point.activation.one_sided(self.preactivation, point.X.dot(u)))
        return point.residuals().T.dot(steps)

    def cone_matrix(self, signs) -> np.ndarray:
        """M_s for a sign vector on the kink inputs."""
        point = self.point
        require(len(signs) == len(self.kink_inputs), "signs", f"{len(self.kink_inputs)} signs, one per kink input",
                signs)
        matrix = self.linear_part
        jump = point.activation.a_plus - point.activation.a_minus
        for k, s in zip(self.kink_inputs, signs):
            if s > 0:
                matrix = matrix + jump * np.outer(point.residuals()[k], point.X[k])
        return matrix

    @cached_property
    def cones(self) -> tuple[SignCone, ...]:
        """The full-dimensional sign cones (one cone, all of R^d, when no input is on the kink)."""
        point = self.point
        require(len(self.kink_inputs) <= MAX_KINK_INPUTS, "point",
                f"at most {MAX_KINK_INPUTS} inputs on one kink (the sign cones number 2^|I0|)", len(self.kink_inputs))
        rows = [point.X[k] for k in self.kink_inputs]
        cones = []
        for signs, witness in _regions(rows, point.arithmetic, point.d):
            constraints = np.array([[-s * v for v in row] for s, row in zip(signs, rows)],
                                   dtype=object if point.exact else float).reshape(len(rows), point.d)
            cones.append(SignCone(signs, constraints, self.cone_matrix(signs), witness))
        return tuple(cones)

    @cached_property
    def scale(self) -> float:
        """Float-mode magnitude of D: |a| (residual scale) sum_k ||x_k||_1 bounds ||D(u)||_inf for ||u||_inf <= 1."""
        point = self.point
        slope = max(abs(float(point.activation.a_plus)), abs(float(point.activation.a_minus)))
        return slope * point.residual_scale * float(magnitude(point.X).sum())

    def is_identically_zero(self) -> bool:
        """D == 0: a linear map vanishing on a full-dimensional cone is 0, so check every M_s."""
        return all(self.point.arithmetic.is_zero(cone.matrix, self.scale) for cone in self.cones)

    @cached_property
    def nonzero_direction(self):
        """Some u with ||u||_inf <= 1 and D(u) != 0 (None when D == 0): a cone's interior point when
        M_s does not vanish there, else the LP max +-(M_s u)_j over the cone and the box."""
        arithmetic = self.point.arithmetic
        for cone in self.cones:
            if arithmetic.is_zero(cone.matrix, self.scale):
                continue
            size = max(abs(v) for v in cone.witness) if len(cone.witness) else 0
            if size != 0 and not arithmetic.is_zero(cone.matrix.dot(cone.witness / size), self.scale):
                return cone.witness / size
            for row in cone.matrix:
                for sign in (1, -1):
                    solution = _maximize_over_cone(self.point, cone, [sign * v for v in row])
                    if arithmetic.is_positive(solution.value, self.scale):
                        return solution.x
        return None


def d_map(point: NetworkPoint, i: int) -> DMap:
    """D_i of neuron i.  D_i depends on w_i only through the sign pattern of its (idealised)
    pre-activations, so neurons sharing a pattern (all zero neurons, for instance) share one object
    per point, and its sign cones are enumerated once."""
    partition = neuron_partition(point, i)
    return _shared(point, partition.preactivation, partition.kink_inputs)


def zero_neuron_map(point: NetworkPoint) -> DMap:
    """D_0(u) = sum_k e_k rho(x_k . u): the D-map of a neuron with w = 0 (every input on its kink)."""
    require_relu_like(point)
    zeros = set(zero_inputs(point))
    return _shared(point, point.arithmetic.zeros(point.n), tuple(k for k in range(point.n) if k not in zeros))


def _shared(point: NetworkPoint, preactivation, kink_inputs) -> DMap:
    pattern = tuple(1 if z > 0 else -1 if z < 0 else 0 for z in preactivation)
    maps = _D_MAPS.setdefault(point, {})
    if pattern not in maps:
        maps[pattern] = DMap(point, preactivation, kink_inputs)
    return maps[pattern]


def zero_neuron_map_vanishes(point: NetworkPoint) -> bool:
    """Whether D_0 == 0 (zero-neuron lemma: for pairwise independent inputs, iff every e_k = 0)."""
    return zero_neuron_map(point).is_identically_zero()


def d_map_value_scale(dmap: DMap, h) -> float:
    """Float-mode magnitude of h . D(u) for ||u||_inf <= 1: ||h||_1 times D's scale."""
    return float(magnitude(h).sum()) * dmap.scale


def _regions(rows, arithmetic: Arithmetic, d: int):
    """Sign vectors (with interior points) of the open regions of the arrangement {x . u = 0, x in rows}."""
    if not rows:
        return [((), arithmetic.zeros(d))]
    first = np.asarray(rows[0])
    regions = [((1,), first), ((-1,), -first)]
    for j in range(1, len(rows)):
        row = np.asarray(rows[j])
        refined = []
        for signs, witness in regions:
            side = _strict_side(row, witness, arithmetic)
            for s in (1, -1):
                if side == s:
                    inside = witness
                else:
                    inside = _nudged(rows[:j], signs, witness, row, s, arithmetic)
                    if inside is None:
                        inside = _interior_point(rows[:j + 1], signs + (s,), arithmetic)
                if inside is not None:
                    refined.append((signs + (s,), inside))
        regions = refined
    return regions


def _nudged(rows, signs, witness, row, s, arithmetic: Arithmetic):
    """Try witness + t s x (x = the new row): a cheap interior point of the refined region when the
    interval of admissible t is non-empty (checked), else None and the caller solves an LP."""
    along = s * np.asarray(row)
    low = -arithmetic.dot(along, witness) / arithmetic.dot(along, along)   # new constraint needs t > low
    high = None
    for sign, other in zip(signs, rows):
        slope = sign * arithmetic.dot(other, along)
        if slope < 0:  # this constraint needs t < bound
            bound = sign * arithmetic.dot(other, witness) / -slope
            high = bound if high is None else min(high, bound)
    if high is not None and not low < high:
        return None
    t = low + 1 if high is None else (low + high) / 2
    candidate = witness + t * along
    checks = [(sign, other) for sign, other in zip(signs, rows)] + [(s, row)]
    return candidate if all(_strict_side(np.asarray(x), candidate, arithmetic) == sign for sign, x in checks) else None


def _maximize_over_cone(point: NetworkPoint, cone: SignCone, objective):
    zero = point.arithmetic.number(0)
    return maximize(objective, A_ub=cone.constraints, b_ub=[zero] * len(cone.constraints), lower=[-1] * point.d,
                    upper=[1] * point.d, start=[zero] * point.d, exact=point.exact)


def _strict_side(row, witness, arithmetic: Arithmetic) -> int:
    """+1 / -1 when the witness is strictly on that side of x . u = 0, else 0."""
    value = arithmetic.dot(row, witness)
    if not arithmetic.exact:
        value = value / (np.linalg.norm(row) * max(np.abs(witness).max(), 1e-300))
        return 1 if value > _FLOAT_INTERIOR else -1 if value < -_FLOAT_INTERIOR else 0
    return 1 if value > 0 else -1 if value < 0 else 0


def _interior_point(rows, signs, arithmetic: Arithmetic):
    """max t s.t. t <= s_k x_k . u, ||u||_inf <= 1, 0 <= t <= 1; an interior point when t > 0."""
    d = len(rows[0])
    exact = arithmetic.exact
    normalised = rows if exact else [np.asarray(r, dtype=float) / np.linalg.norm(r) for r in rows]
    one, zero = arithmetic.number(1), arithmetic.number(0)
    A_ub = [[-s * v for v in row] + [one] for s, row in zip(signs, normalised)]
    solution = maximize([zero] * d + [one], A_ub=A_ub, b_ub=[zero] * len(rows),
                        lower=[-one] * d + [zero], upper=[one] * (d + 1), start=[zero] * (d + 1), exact=exact)
    margin = solution.value
    if (margin > 0) if exact else (margin > _FLOAT_INTERIOR):
        return np.array(list(solution.x[:d]), dtype=object if exact else float)
    return None
