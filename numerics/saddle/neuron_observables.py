"""Per-neuron observables along a trajectory: the quantities of the paper's figures.

For snapshots W (R, m, d) and H (R, m, d_out): ||w_i||, h_i, the direction of w_i as angles, and the
drift of the conserved quantity ||w_i||^2 - ||h_i||^2 from its value at the first snapshot.  Under
gradient flow the quantity is exactly conserved (Euler's identity for the positively homogeneous
rho); GD with step lr changes it by lr^2 (||grad_w||^2 - ||grad_h||^2) per step, i.e. O(lr) per unit
time, so the drift measures the discretisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import require


@dataclass(frozen=True)
class NeuronObservables:
    w_norm: np.ndarray  # (R, m)
    h: np.ndarray  # (R, m, d_out)
    h_norm: np.ndarray  # (R, m)
    angle_deg: object  # d = 2: atan2(w_2, w_1) in degrees, in (-180, 180]; d = 3: the azimuth; else None
    polar_deg: object  # d = 3: arccos(w_3 / ||w||) in degrees, in [0, 180]; else None
    conservation_drift: np.ndarray  # (R, m): (||w||^2 - ||h||^2)(t) - (||w||^2 - ||h||^2)(first snapshot)

    @property
    def max_conservation_drift(self) -> float:
        return float(np.max(np.abs(self.conservation_drift)))


def _snapshots(W_snapshots, H_snapshots) -> tuple[np.ndarray, np.ndarray]:
    W = np.asarray(W_snapshots, dtype=float)
    H = np.asarray(H_snapshots, dtype=float)
    require(W.ndim == 3 and min(W.shape) >= 1, "W_snapshots", "a 3-D array (R, m, d)", W.shape)
    if H.ndim == 2:
        H = H[:, :, None]
    require(H.ndim == 3 and H.shape[:2] == W.shape[:2] and H.shape[2] >= 1, "H_snapshots",
            f"a 3-D array (R, m, d_out) with (R, m) = {W.shape[:2]}", H.shape)
    require(bool(np.all(np.isfinite(W))) and bool(np.all(np.isfinite(H))), "W_snapshots, H_snapshots", "finite numbers")
    return W, H


def neuron_observables(W_snapshots, H_snapshots) -> NeuronObservables:
    """Norms, output weights, angles (d = 2 or 3; NaN for w = 0) and conservation drift per neuron."""
    W, H = _snapshots(W_snapshots, H_snapshots)
    w_norm = np.linalg.norm(W, axis=2)
    h_norm = np.linalg.norm(H, axis=2)
    angle = polar = None
    d = W.shape[2]
    if d in (2, 3):
        angle = np.where(w_norm > 0, np.degrees(np.arctan2(W[..., 1], W[..., 0])), np.nan)
    if d == 3:
        cosine = np.divide(W[..., 2], w_norm, out=np.full(w_norm.shape, np.nan), where=w_norm > 0)
        polar = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    balance = w_norm ** 2 - h_norm ** 2
    return NeuronObservables(w_norm, H, h_norm, angle, polar, balance - balance[0])


def max_conservation_drift(W_snapshots, H_snapshots) -> float:
    """max over snapshots and neurons of |(||w_i||^2 - ||h_i||^2)(t) - (same)(first snapshot)|."""
    return neuron_observables(W_snapshots, H_snapshots).max_conservation_drift
