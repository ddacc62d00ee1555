"""Each student neuron as a point: its canonical incoming vector [w; b], sign, scale and outgoing weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.numerics.expand_cluster.classes import activation_class as _checked_class
from gradflow.theory.errors import require


def normalises(activation_class: str) -> bool:
    """Positive homogeneity: (v, a) ~ (k v, a / k), so only the direction of v is identifiable."""
    return activation_class == "even_linear_positive_scaling"


def flips(activation_class: str) -> bool:
    """Every class but none identifies v only up to sign."""
    return activation_class != "none"


def sign_corrects_output(activation_class: str) -> bool:
    """Odd classes flip the outgoing weight with v; even ones keep it (the difference is affine)."""
    return activation_class in ("odd", "odd_constant")


@dataclass(frozen=True)
class Features:
    """Points ``i = n k + j`` (student n, neuron j): ``vectors`` the canonical incoming vectors (unmasked),
    ``masked`` the same times the mask (what distances see), ``signs`` s_i, ``scales`` the norms divided
    out (ReLU-like classes; else 1), ``outgoing`` a_i times the scale (not sign-corrected),
    ``students`` n per point, ``width`` k."""

    vectors: np.ndarray
    masked: np.ndarray
    signs: np.ndarray
    scales: np.ndarray
    outgoing: np.ndarray
    students: np.ndarray
    width: int
    activation_class: str

    @property
    def n_students(self) -> int:
        return self.vectors.shape[0] // self.width

    @property
    def signed_outgoing(self) -> np.ndarray:
        """a_i s_i for the odd classes (the weight the canonical vector carries), a_i otherwise."""
        if sign_corrects_output(self.activation_class):
            return self.outgoing * self.signs[:, None]
        return self.outgoing


def canonical_scale(V: np.ndarray, A: np.ndarray, activation_class: str):
    """ReLU-like classes: rows v <- v/||v|| and a <- a ||v|| (a zero row stays as it is); others unchanged.
    Returns (V, A, the norms divided out)."""
    if not normalises(activation_class):
        return V, A, np.ones(len(V))
    norms = np.linalg.norm(V, axis=1)
    scales = np.where(norms > 0, norms, 1.0)
    return V / scales[:, None], A * scales[:, None], scales


def sign_index(mask: np.ndarray) -> int:
    """k0: the coordinate whose sign fixes the canonical sign, the first one the mask keeps."""
    return int(np.flatnonzero(mask)[0])


def canonical_features(incoming, outgoing, activation_class: str, mask=None) -> Features:
    """Features of students ``incoming`` (N, k, D) and ``outgoing`` (N, k, m).

    ReLU-like: v <- v/||v||, a <- a ||v|| (a zero vector stays as it is). Every class but none:
    s = sign(v[k0]) with +1 for 0, v <- s v. ``mask`` (D,) 0/1 enters ``masked`` and k0 only.
    """
    activation_class = _checked_class(activation_class)
    V = np.asarray(incoming, dtype=float)
    A = np.asarray(outgoing, dtype=float)
    require(V.ndim == 3 and V.shape[2] >= 1, "incoming", "an array (N, k, D)", V.shape)
    require(A.ndim == 3 and A.shape[:2] == V.shape[:2], "outgoing", f"an array ({V.shape[0]}, {V.shape[1]}, m)",
            A.shape)
    require(bool(np.all(np.isfinite(V))), "incoming", "finite")
    require(bool(np.all(np.isfinite(A))), "outgoing", "finite")
    N, k, D = V.shape
    mask = np.ones(D) if mask is None else np.asarray(mask, dtype=float)
    require(mask.shape == (D,) and bool(np.all((mask == 0) | (mask == 1))) and mask.any(), "mask",
            f"a 0/1 vector of length {D} with at least one 1", mask.shape)
    v, a, scales = canonical_scale(V.reshape(N * k, D).copy(), A.reshape(N * k, A.shape[2]).copy(),
                                   activation_class)
    signs = np.ones(N * k)
    if flips(activation_class):
        signs = np.where(v[:, sign_index(mask)] < 0, -1.0, 1.0)
        v *= signs[:, None]
    return Features(v, v * mask, signs, scales, a, np.repeat(np.arange(N), k), k, activation_class)
