"""A local-minimum certificate with an explicit radius, for a d-stationary point without escape neurons.

Per neuron i:
  r_i     = min_{k not in I0} |w_i . x_k| / ||x_k||            (kink margin; infinite if I0 is everything)
  kappa_i = min over full-dimensional cones C_s, j and sign +- of
              min { h_i . M_s u : u in C_s, +-(M_s u)_j = 1, |(M_s u)_l| <= 1 for all l }
            (infinite when no such problem is feasible, i.e. when D_i == 0).

Theorem.  If (S1) and (S2) hold and no neuron is an escape neuron, then L(theta + Delta) >= L(theta)
for every Delta with ||dw_i||_2 < r_i and ||dh_i||_1 <= kappa_i for all i; in particular for
||Delta||_2 < R = min_i min(r_i, kappa_i / sqrt(d_out)).

Proof.  (1) Exact expansion.  |dw_i . x_k| <= ||dw_i|| ||x_k|| < |w_i . x_k| for k not in I0, so no
sign changes and rho((w_i + dw_i) . x_k) = rho(w_i . x_k) + drho(w_i . x_k; dw_i . x_k); for k in I0,
rho(0 + dw_i . x_k) = drho(0; dw_i . x_k) holds for every dw_i.  Hence
  Df_k = sum_i [dh_i rho(w_i . x_k) + (h_i + dh_i) drho(w_i . x_k; dw_i . x_k)],
and with sum_k e_k rho(w_i . x_k) = g_i, sum_k e_k drho(...) = D_i(dw_i):
  (n d_out)(L(theta + Delta) - L(theta)) = sum_k (2 e_k . Df_k + ||Df_k||^2)
     = 2 sum_i (dh_i . g_i + (h_i + dh_i) . D_i(dw_i)) + sum_k ||Df_k||^2.
By (S1) the g_i terms vanish, so it suffices that (h_i + dh_i) . D_i(dw_i) >= 0 for each i.
(2) h_i . D_i(u) >= kappa_i ||D_i(u)||_inf for all u.  Take u in a cone C_s (every u is in one,
D_i(u) = M_s u there) with D_i(u) != 0; let t = ||M_s u||_inf, attained at coordinate j with sign
+-.  Then u / t is feasible for the (s, j, +-) problem, so h_i . M_s u / t >= kappa_i.
(3) kappa_i > 0 when D_i is not 0.  Each problem is feasible-and-bounded (|h_i . M_s u| <= ||h_i||_1)
where feasible, so it attains its minimum at some u*; M_s u* != 0, and (S2) with "no escape neuron"
(h_i . M_s u = 0 => M_s u = 0 on C_s) makes h_i . M_s u* > 0.
(4) Hence (h_i + dh_i) . D_i(dw_i) >= kappa_i ||D_i(dw_i)||_inf - ||dh_i||_1 ||D_i(dw_i)||_inf >= 0
when ||dh_i||_1 <= kappa_i (and trivially when D_i == 0).  Finally ||dh_i||_1 <= sqrt(d_out) ||dh_i||_2.
The minimum is often not strict: (w, h) -> (c w, h / c) keeps f.

The LPs: each (s, j, +-) problem is solved from a feasible start found by the homogeneous LP
max { +-(M_s u)_j : u in C_s, |(M_s u)_l| <= +-(M_s u)_j, +-(M_s u)_j <= 1 } (value 1 iff feasible).
In float mode kinks are idealised with the point's tolerance, so the certificate holds up to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradflow.theory.errors import require
from gradflow.theory.landscape.dmap import DMap, d_map
from gradflow.theory.landscape.escape_neurons import neuron_escape
from gradflow.theory.landscape.linear_program import maximize, minimize
from gradflow.theory.landscape.partitions import is_zero_output_weight, kink_margin, neuron_partition
from gradflow.theory.landscape.point import NetworkPoint
from gradflow.theory.landscape.stationarity import d_stationarity


@dataclass(frozen=True, eq=False)
class NeuronCertificate:
    index: int
    kink_margin: object   # r_i
    kappa: object         # kappa_i


@dataclass(frozen=True, eq=False)
class LocalMinimumCertificate:
    """L(theta + Delta) >= L(theta) whenever ``covers(dW, dH)``; ``radius`` is a Euclidean ball inside."""

    neurons: tuple[NeuronCertificate, ...]
    radius: object
    exact: bool

    def covers(self, dW, dH) -> bool:
        """||dw_i||_2 < r_i and ||dh_i||_1 <= kappa_i for every neuron i."""
        dW, dH = np.asarray(dW), np.asarray(dH)
        dH = dH.reshape(len(self.neurons), -1)
        for neuron, dw, dh in zip(self.neurons, dW, dH):
            length = sp.sqrt(sum(v * v for v in dw)) if self.exact else float(np.linalg.norm(dw.astype(float)))
            if not (length < neuron.kink_margin and sum(abs(v) for v in dh) <= neuron.kappa):
                return False
        return True


def local_minimum_certificate(point: NetworkPoint) -> LocalMinimumCertificate:
    """Check the hypotheses ((S1), (S2), no escape neuron) and return the certificate."""
    stationarity = d_stationarity(point)
    require(stationarity.holds, "point", "d-stationary ((S1) and (S2) at every neuron) for a certificate",
            [n.index for n in stationarity.violations])
    escapes = [i for i in range(point.m) if neuron_escape(point, i).is_escape]
    require(not escapes, "point", "free of escape neurons for a local-minimum certificate", escapes)
    return certify(point)


def certify(point: NetworkPoint) -> LocalMinimumCertificate:
    """The radii, for a point already known to satisfy the hypotheses (see module docstring)."""
    neurons = tuple(NeuronCertificate(i, kink_margin(point, neuron_partition(point, i)), _kappa(point, i))
                    for i in range(point.m))
    root = sp.sqrt(point.d_out) if point.exact else math.sqrt(point.d_out)
    values = [min_value(neuron.kink_margin, neuron.kappa / root, point.exact) for neuron in neurons]
    radius = values[0]
    for value in values[1:]:
        radius = min_value(radius, value, point.exact)
    return LocalMinimumCertificate(neurons, radius, point.exact)


def min_value(a, b, exact: bool):
    """min of two exact numbers (SymPy compares surds and infinity exactly) or floats."""
    return sp.Min(a, b) if exact else min(a, b)


def _kappa(point: NetworkPoint, i: int):
    dmap = d_map(point, i)
    infinity = sp.oo if point.exact else math.inf
    if dmap.is_identically_zero():
        return infinity
    h = point.arithmetic.zeros(point.d_out) if is_zero_output_weight(point, i) else point.H[i]
    best = infinity
    for cone in dmap.cones:
        for j in range(point.d_out):
            for sign in (1, -1):
                value = _normalised_minimum(point, dmap, cone, h, j, sign)
                if value is not None and value < best:
                    best = value
    return best


def _normalised_minimum(point: NetworkPoint, dmap: DMap, cone, h, j: int, sign: int):
    """min { h . M u : u in C_s, sign (M u)_j = 1, |(M u)_l| <= 1 }, or None when infeasible."""
    arithmetic = point.arithmetic
    zero, one = arithmetic.number(0), arithmetic.number(1)
    M, d = cone.matrix, point.d
    lead = sign * M[j]
    others = [M[l] for l in range(point.d_out) if l != j]
    cone_rows = [list(row) for row in cone.constraints]
    # feasibility: max lead . u over the homogeneous cone {|M_l u| <= lead . u} with lead . u <= 1
    homogeneous = cone_rows + [list(r - lead) for r in others] + [list(-r - lead) for r in others]
    probe = maximize(lead, A_ub=homogeneous + [list(lead)], b_ub=[zero] * len(homogeneous) + [one],
                     start=[zero] * d, exact=point.exact)
    if not (probe.value == 1 if point.exact else probe.value > 0.5):
        return None
    bounded = cone_rows + [list(r) for r in others] + [list(-r) for r in others]
    solution = minimize(M.T.dot(h), A_ub=bounded, b_ub=[zero] * len(cone_rows) + [one] * (2 * len(others)),
                        A_eq=[list(lead)], b_eq=[one], start=list(probe.x), exact=point.exact)
    return None if solution is None else solution.value
