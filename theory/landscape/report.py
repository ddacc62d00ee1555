"""``landscape_report``: the one call that classifies a point of a shallow ReLU-like network.

Decision procedure:
1. (S1), (S2) at every neuron.  If one fails: "not stationary", with a descent direction (and
   whether the point is at least Clarke-stationary, by the chain-rule estimate).
2. Escape neurons.  None: "local minimum", with a certificate radius.
3. An escape neuron with h_i = 0: "saddle", shown by the escape path (exact decrease).
4. Only escape neurons with h_i != 0 (vector output): second-order probes along their escape
   directions; a verified decrease gives "saddle", otherwise "undetermined" (the theorems give no
   verdict there: H3 is a local minimum with such a neuron, H4 a saddle).
Neurons and inputs are numbered from 0 in every field and in ``reason``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradflow.theory.errors import require
from gradflow.theory.exact_numbers import show_exact
from gradflow.theory.landscape.certificate import LocalMinimumCertificate, certify
from gradflow.theory.landscape.clarke import clarke_stationarity
from gradflow.theory.landscape.escape import EscapePath, SecondOrderProbe, escape_path, second_order_probe
from gradflow.theory.landscape.escape_neurons import NeuronEscape, neuron_escape
from gradflow.theory.landscape.partitions import NeuronPartition, is_zero_output_weight, neuron_partition, zero_inputs
from gradflow.theory.landscape.point import NetworkPoint, require_relu_like
from gradflow.theory.landscape.stationarity import Descent, NeuronStationarity, d_stationarity

CLASSIFICATIONS = ("not stationary", "local minimum", "saddle", "undetermined")
NEURON_STATUSES = ("zero", "dead", "inactive", "active")


@dataclass(frozen=True, eq=False)
class NeuronReport:
    index: int
    status: str                          # zero (w = 0) / dead / inactive (h = 0) / active
    differentiable: bool                 # no input on the kink
    kink_inputs: tuple[int, ...]
    g_norm: object                       # ||g_i||_2
    s1: bool
    s2: bool
    descent: Descent | None              # when (S1) or (S2) fails
    d_map_zero: bool | None              # D_i == 0 (None: not evaluated, point not d-stationary)
    escape: bool | None                  # escape neuron (None: not evaluated)
    escape_direction: np.ndarray | None  # u with h_i . D_i(u) = 0, D_i(u) != 0
    escape_value: np.ndarray | None      # D_i(u)


@dataclass(frozen=True, eq=False)
class LandscapeReport:
    exact: bool
    tol: float | None                    # the float-mode kink tolerance (None: exact)
    loss: object
    d_stationary: bool
    clarke_stationary: bool              # chain-rule estimate (see theory.landscape.clarke)
    neurons: tuple[NeuronReport, ...]
    escape_neurons: tuple[int, ...]
    classification: str                  # one of CLASSIFICATIONS
    reason: str
    certificate: LocalMinimumCertificate | None = None
    escape_path: EscapePath | None = None
    second_order: SecondOrderProbe | None = None

    def to_dict(self) -> dict:
        """JSON-serialisable: Rationals and surds as strings ("1/4"), arrays as lists, inf as "inf"."""
        result = {
            "exact": self.exact, "tol": self.tol, "loss": _plain(self.loss),
            "d_stationary": self.d_stationary, "clarke_stationary": self.clarke_stationary,
            "classification": self.classification, "reason": self.reason,
            "escape_neurons": list(self.escape_neurons),
            "neurons": [_neuron_dict(neuron) for neuron in self.neurons],
            "certificate": None, "escape_path": None, "second_order": None,
        }
        if self.certificate is not None:
            result["certificate"] = {
                "radius": _plain(self.certificate.radius),
                "neurons": [{"index": n.index, "kink_margin": _plain(n.kink_margin), "kappa": _plain(n.kappa)}
                            for n in self.certificate.neurons]}
        if self.escape_path is not None:
            path = self.escape_path
            result["escape_path"] = {name: _plain(getattr(path, name)) for name in
                                     ("neuron", "u", "value", "eps", "c", "S_eps", "predicted_change", "actual_change")}
        if self.second_order is not None:
            probe = self.second_order
            result["second_order"] = {name: _plain(getattr(probe, name)) for name in
                                      ("neuron", "u", "value", "A", "B", "C", "v", "coefficient", "eps", "change")}
        return result


def landscape_report(point: NetworkPoint) -> LandscapeReport:
    """Classify ``point``: "not stationary", "local minimum", "saddle" or "undetermined" (module docstring)."""
    require_relu_like(point)
    stationarity = d_stationarity(point)
    clarke = clarke_stationarity(point)
    base = dict(exact=point.exact, tol=point.tol, loss=point.loss(), d_stationary=stationarity.holds,
                clarke_stationary=clarke.holds)
    partitions = [neuron_partition(point, i) for i in range(point.m)]
    if not stationarity.holds:
        neurons = tuple(_neuron_report(point, p, s, None) for p, s in zip(partitions, stationarity.neurons))
        return LandscapeReport(**base, neurons=neurons, escape_neurons=(), classification="not stationary",
                               reason=_not_stationary_reason(stationarity.violations[0], clarke.holds))
    escapes = [neuron_escape(point, i) for i in range(point.m)]
    neurons = tuple(_neuron_report(point, p, s, e) for p, s, e in zip(partitions, stationarity.neurons, escapes))
    escape_indices = tuple(e.index for e in escapes if e.is_escape)
    base.update(neurons=neurons, escape_neurons=escape_indices)
    if not escape_indices:
        certificate = certify(point)
        return LandscapeReport(**base, classification="local minimum", certificate=certificate,
                               reason=f"no escape neuron: local minimum (certificate radius {_show(certificate.radius)})")
    silent = [e for e in escapes if e.is_escape and e.output_weight_zero]
    if silent:
        path = escape_path(point, silent[0].index, silent[0].directions[0].u)
        return LandscapeReport(**base, classification="saddle", escape_path=path,
                               reason=f"escape neuron {path.neuron} with h = 0: escape path lowers the loss by "
                                      f"{_show(-path.actual_change)}")
    for escape in escapes:
        for direction in escape.directions:
            probe = second_order_probe(point, escape.index, direction.u)
            if probe.descends:
                return LandscapeReport(**base, classification="saddle", second_order=probe,
                                       reason=f"escape neuron {escape.index} with h != 0: second-order path "
                                              f"(eps^2 coefficient {_show(probe.coefficient)}) lowers the loss by "
                                              f"{_show(-probe.change)}")
    return LandscapeReport(**base, classification="undetermined",
                           reason="vector output, escape neurons with h != 0 and no second-order descent: "
                                  "the theorems give no verdict")


def kink_sensitivity(point: NetworkPoint, tols=(1e-2, 1e-3, 1e-4, 1e-5, 1e-6)) -> dict[float, str]:
    """Classification of a float point under each kink tolerance (is the verdict an artefact of tol?)."""
    require(not point.exact, "point", "a float point (exact points have no kink tolerance)", "exact")
    tols = tuple(tols)
    require(len(tols) >= 1, "tols", "at least one tolerance", tols)
    return {float(tol): landscape_report(NetworkPoint(point.W, point.H, point.X, point.Y, point.activation, tol))
            .classification for tol in tols}


def neuron_status(point: NetworkPoint, partition: NeuronPartition) -> str:
    """zero (w_i = 0), dead (rho(w_i . x_k) = 0 strictly off the kink for every k), inactive (h_i = 0), active."""
    if partition.is_zero:
        return "zero"
    activation = point.activation
    nonzero = set(range(point.n)) - set(zero_inputs(point))
    if activation.a_minus == 0:
        silent_side = set(partition.negative)
    elif activation.a_plus == 0:
        silent_side = set(partition.positive)
    else:  # rho vanishes only at 0: no neuron is dead
        silent_side = set()
    if not partition.kink_inputs and nonzero <= silent_side:
        return "dead"
    return "inactive" if is_zero_output_weight(point, partition.index) else "active"


def _neuron_report(point: NetworkPoint, partition: NeuronPartition, stationarity: NeuronStationarity,
                   escape: NeuronEscape | None) -> NeuronReport:
    direction = escape.directions[0] if escape is not None and escape.directions else None
    return NeuronReport(
        index=partition.index, status=neuron_status(point, partition), differentiable=partition.differentiable,
        kink_inputs=partition.kink_inputs, g_norm=point.arithmetic.norm(stationarity.g),
        s1=stationarity.s1, s2=stationarity.s2, descent=stationarity.descent,
        d_map_zero=None if escape is None else escape.d_map_zero,
        escape=None if escape is None else escape.is_escape,
        escape_direction=None if direction is None else direction.u,
        escape_value=None if direction is None else direction.value)


def _not_stationary_reason(neuron: NeuronStationarity, clarke: bool) -> str:
    descent = neuron.descent
    if not neuron.s1:
        detail = f"(S1) fails at neuron {neuron.index}: dh = -g gives L'(theta; Delta) = {_show(descent.derivative)}"
    else:
        detail = (f"(S2) fails at neuron {neuron.index}: moving w along u = {_show(descent.dW[neuron.index])} "
                  f"gives L'(theta; Delta) = {_show(descent.derivative)}")
    return f"Clarke-stationary but not d-stationary; {detail}" if clarke else detail


def _neuron_dict(neuron: NeuronReport) -> dict:
    return {
        "index": neuron.index, "status": neuron.status, "differentiable": neuron.differentiable,
        "kink_inputs": list(neuron.kink_inputs), "g_norm": _plain(neuron.g_norm), "s1": neuron.s1, "s2": neuron.s2,
        "descent": None if neuron.descent is None else {
            "dW": _plain(neuron.descent.dW), "dH": _plain(neuron.descent.dH),
            "derivative": _plain(neuron.descent.derivative)},
        "d_map_zero": neuron.d_map_zero, "escape": neuron.escape,
        "escape_direction": _plain(neuron.escape_direction), "escape_value": _plain(neuron.escape_value),
    }


def _plain(value):
    """JSON-friendly: arrays to lists, exact numbers to strings ("1/4", "sqrt(2)/2"), floats stay floats,
    infinities (exact or float) as "inf"."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()] if value.ndim else _plain(value.item())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else str(float(value))
    if value in (sp.oo, -sp.oo):
        return "inf" if value == sp.oo else "-inf"
    return str(value)


def _show(value) -> str:
    if isinstance(value, np.ndarray):
        return "(" + ", ".join(_show(v) for v in value.ravel()) + ")"
    return show_exact(value)

