"""Idealise a network sitting on a plateau into the stationary point of a narrower network it embeds.

On a plateau of saddle-to-saddle training the neurons fall into three kinds:

* zero: ||(w_i, h_i)|| below ``zero_tol`` times the reference size -- the still-small neurons
  (their output is O(zero_tol^2) of a reference neuron's).  The reference is the largest neuron, or
  the data's own scale sqrt(rms(Y) / rms(X)) (the size of a balanced neuron whose output is of the
  size of the targets) if that is larger: on the first plateau every neuron is still tiny and all of
  them are zero;
* dead: ReLU (a_minus = 0) neurons with w_i . x_k < 0 for every input (beyond the kink tolerance);
* active: the rest, which gather in groups of aligned neurons.

Active neurons are grouped greedily, largest first: a neuron joins the first group whose leader has
cosine > 1 - ``angle_tol`` with it and an output weight on the same side (h_i . h_leader > 0), so
replicas with output weights of opposite signs -- a different stationary point -- stay apart.
A group acts as one neuron: sum_i h_i rho(w_i . x) = c_g rho(v_g . x) with c_g = sum_i h_i ||w_i||
and v_g the unit direction of sum_i w_i.  Inputs with |v_g . x_k| / ||x_k|| < ``kink_tol`` are put
exactly on the kink by projecting v_g onto their orthogonal complement; they form the group's I0.

The idealised full-width network puts each group on its first (lowest-index) member as the
balanced neuron w = sqrt(||c_g||) v_g, h = c_g / sqrt(||c_g||) (the balance GD from small
initialisation keeps), sets the other members and the zero neurons to exactly zero, and keeps the
dead neurons' w with h = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from gradflow.theory.errors import ParameterError, require

from gradflow.numerics.saddle.shallow_arrays import dead_neurons, network_loss, relu_like, shallow_data


@dataclass(frozen=True)
class NeuronGroup:
    members: tuple  # neuron indices, increasing
    direction: np.ndarray  # unit v_g, snapped onto the kinks of its I0 inputs
    output: np.ndarray  # combined output weight c_g = sum_i h_i ||w_i||, shape (d_out,)
    positive: tuple  # I+: data indices with v_g . x_k > 0
    negative: tuple  # I-: v_g . x_k < 0
    kink: tuple  # I0: v_g . x_k = 0 (after snapping)

    @property
    def representative(self) -> int:
        return self.members[0]

    @property
    def sign(self) -> int:
        """Sign of the combined output weight (scalar output only): +1 or -1 (+1 for c_g = 0)."""
        require(self.output.size == 1, "group", "a scalar-output group (d_out = 1) to have a sign", self.output.shape)
        return -1 if self.output[0] < 0 else 1


@dataclass(frozen=True)
class IdealisedPoint:
    groups: tuple  # NeuronGroup, ordered by representative
    zero_neurons: tuple
    dead_neurons: tuple
    W: np.ndarray  # (m, d) idealised full-width input weights
    H: np.ndarray  # (m, d_out) idealised output weights
    loss: float  # float loss of (W, H) on the data
    zero_tol: float
    angle_tol: float
    kink_tol: float

    @property
    def width(self) -> int:
        return self.W.shape[0]


def _check_tolerance(value, name: str, meaning: str) -> float:
    require(np.isfinite(value) and 0 < value < 1, name, f"in (0, 1) ({meaning})", value)
    return float(value)


def _group_active(order: np.ndarray, W: np.ndarray, H: np.ndarray, angle_tol: float) -> list[list[int]]:
    groups: list[list[int]] = []
    for i in order:
        unit = W[i] / np.linalg.norm(W[i])
        for group in groups:
            leader = group[0]
            aligned = unit @ W[leader] / np.linalg.norm(W[leader]) > 1.0 - angle_tol
            same_side = H[i] @ H[leader] > 0 or (not H[i].any() and not H[leader].any())
            if aligned and same_side:
                group.append(int(i))
                break
        else:
            groups.append([int(i)])
    return groups


def _snapped_pattern(direction: np.ndarray, X: np.ndarray, kink_tol: float):
    """Put the near-kink inputs exactly on the kink; return (unit v, I+, I-, I0)."""
    direction = direction / np.linalg.norm(direction)
    input_norms = np.linalg.norm(X, axis=1)
    cosines = np.divide(X @ direction, input_norms, out=np.zeros(X.shape[0]), where=input_norms > 0)
    kink = np.flatnonzero(np.abs(cosines) < kink_tol)
    if kink.size:
        basis = null_space(X[kink])
        direction = basis @ (basis.T @ direction)
        if np.linalg.norm(direction) < 1e-8:  # the kink inputs span R^d
            raise ParameterError("kink_tol", "small enough that a group's near-kink inputs leave it a direction",
                                 kink_tol)
        direction = direction / np.linalg.norm(direction)
    side = X @ direction
    off_kink = np.ones(X.shape[0], dtype=bool)
    off_kink[kink] = False
    positive = np.flatnonzero(off_kink & (side > 0))
    negative = np.flatnonzero(off_kink & (side <= 0))
    return direction, tuple(map(int, positive)), tuple(map(int, negative)), tuple(map(int, kink))


def idealise(W, H, X, Y, activation, *, zero_tol: float = 1e-2, angle_tol: float = 1e-3,
             kink_tol: float = 1e-4) -> IdealisedPoint:
    """Classify the neurons of (W, H) as zero / dead / grouped active and build the idealised point."""
    data = shallow_data(W, H, X, Y)
    activation = relu_like(activation)
    zero_tol = _check_tolerance(zero_tol, "zero_tol", "relative to the reference neuron size")
    angle_tol = _check_tolerance(angle_tol, "angle_tol", "cosine > 1 - angle_tol groups two neurons")
    kink_tol = _check_tolerance(kink_tol, "kink_tol", "|v.x| / ||x|| below it puts x on the kink")
    W, H, X = data.W, data.H, data.X

    sizes = np.sqrt(np.sum(W ** 2, axis=1) + np.sum(H ** 2, axis=1))
    x_rms, y_rms = np.sqrt(np.mean(X ** 2)), np.sqrt(np.mean(data.Y ** 2))
    data_size = np.sqrt(y_rms / x_rms) if x_rms > 0 else 0.0
    is_zero = sizes <= zero_tol * max(sizes.max(), data_size)
    dead = [int(i) for i in dead_neurons(W, X, activation, margin=kink_tol) if not is_zero[i]]
    active = np.array([i for i in np.flatnonzero(~is_zero) if i not in dead], dtype=int)
    require(bool(np.all(np.linalg.norm(W[active], axis=1) > 0)), "W",
            "non-zero rows for neurons that are not zero neurons (an input weight of 0 has no direction)")

    W_ideal = np.zeros_like(W)
    H_ideal = np.zeros_like(H)
    W_ideal[dead] = W[dead]
    groups = []
    for members in _group_active(active[np.argsort(-sizes[active], kind="stable")], W, H, angle_tol):
        members = tuple(sorted(members))
        direction, positive, negative, kink = _snapped_pattern(W[list(members)].sum(axis=0), X, kink_tol)
        output = sum(H[i] * np.linalg.norm(W[i]) for i in members)
        scale = np.sqrt(np.linalg.norm(output))
        if scale > 0:
            W_ideal[members[0]] = scale * direction
            H_ideal[members[0]] = output / scale
        groups.append(NeuronGroup(members, direction, output, positive, negative, kink))
    groups.sort(key=lambda group: group.representative)

    return IdealisedPoint(tuple(groups), tuple(map(int, np.flatnonzero(is_zero))), tuple(dead), W_ideal, H_ideal,
                          network_loss(W_ideal, H_ideal, X, data.Y, activation), zero_tol, angle_tol, kink_tol)
