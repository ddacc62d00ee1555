"""How close a reconstruction is to the teacher: each teacher neuron's best match and its dissimilarities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.numerics.expand_cluster.classes import activation_class as _checked_class
from gradflow.numerics.expand_cluster.features import canonical_scale, flips, sign_corrects_output
from gradflow.theory.errors import require

FLOOR, CEILING = 1e-16, 2.0  # dissimilarities are clipped here (a log axis needs a floor)
EXCESS_NORM = 0.1  # an unmatched neuron with a larger outgoing norm is flagged as doing real work


@dataclass(frozen=True)
class TeacherComparison:
    """Teacher neurons in ``order`` (outgoing norm descending); per teacher neuron in that order:
    ``matches`` (index of the reconstructed neuron with the smallest ``d_w``, -1 when there is none),
    ``d_w`` (1 - |cos| of the masked incoming vectors, 1 - cos for class none), ``d_a`` (1 - |cos| of the
    outgoing vectors for odd classes, else 1 - cos), ``a_error`` (||a_hat - s a*|| / ||a*||, s the sign of
    the match for odd classes, in the canonical scale), ``signs``; ``teacher_vectors``/``matched_vectors``
    and ``teacher_outgoing``/``matched_outgoing``: the pairs in one frame (matches sign-aligned, ReLU-like
    vectors normalised) for scatter plots; ``excess``: reconstructed neurons nobody matched,
    ``excess_flagged`` those with outgoing norm above EXCESS_NORM."""

    order: np.ndarray
    matches: np.ndarray
    d_w: np.ndarray
    d_a: np.ndarray
    a_error: np.ndarray
    signs: np.ndarray
    teacher_vectors: np.ndarray
    matched_vectors: np.ndarray
    teacher_outgoing: np.ndarray
    matched_outgoing: np.ndarray
    excess: np.ndarray
    excess_flagged: np.ndarray

    @property
    def mean_d_w(self) -> float:
        return float(np.mean(self.d_w))

    @property
    def max_d_w(self) -> float:
        return float(np.max(self.d_w))

    def to_json(self) -> dict:
        return {"order": self.order.tolist(), "matches": self.matches.tolist(), "d_w": self.d_w.tolist(),
                "d_a": self.d_a.tolist(), "a_error": self.a_error.tolist(), "signs": self.signs.tolist(),
                "mean_d_w": self.mean_d_w, "max_d_w": self.max_d_w, "excess": self.excess.tolist(),
                "excess_flagged": self.excess_flagged.tolist()}


def cosines(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos between every row of A and every row of B, and where a row is zero (no direction)."""
    na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
    cos = (A / np.where(na > 0, na, 1.0)[:, None]) @ (B / np.where(nb > 0, nb, 1.0)[:, None]).T
    return np.clip(cos, -1.0, 1.0), (na == 0)[:, None] | (nb == 0)[None, :]


def dissimilarity(A, B, unsigned: bool) -> np.ndarray:
    """1 - |cos| (``unsigned``) or 1 - cos between rows, 1 for a zero row, clipped to [FLOOR, CEILING]."""
    cos, zero = cosines(np.asarray(A, dtype=float), np.asarray(B, dtype=float))
    d = 1.0 - (np.abs(cos) if unsigned else cos)
    return np.clip(np.where(zero, 1.0, d), FLOOR, CEILING)


def _rows(values, name: str, rows: int | None, cols: int | None, shape: str) -> np.ndarray:
    """``values`` as a 2-D float array (a vector of length ``rows`` is one column), checked."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1 and rows is not None and values.size == rows:
        values = values[:, None]
    fits = values.ndim == 2 and (rows is None or values.shape[0] == rows) and (cols is None or values.shape[1] == cols)
    require(fits, name, f"an array {shape}", values.shape)
    require(bool(np.all(np.isfinite(values))), name, "finite")
    return values


def _arrays(teacher_incoming, teacher_outgoing, rec_incoming, rec_outgoing):
    V = _rows(teacher_incoming, "teacher_incoming", None, None, "(r, D)")
    A = _rows(teacher_outgoing, "teacher_outgoing", len(V), None, f"({len(V)}, m)")
    R = np.asarray(rec_incoming, dtype=float)
    R = R.reshape(0, V.shape[1]) if R.size == 0 else R
    R = _rows(R, "rec_incoming", None, V.shape[1], f"(K, {V.shape[1]})")
    B = np.asarray(rec_outgoing, dtype=float)
    B = B.reshape(0, A.shape[1]) if B.size == 0 else B
    B = _rows(B, "rec_outgoing", len(R), A.shape[1], f"({len(R)}, {A.shape[1]})")
    return V, A, R, B


def compare_to_teacher(teacher_incoming, teacher_outgoing, rec_incoming, rec_outgoing, activation_class: str,
                       mask=None) -> TeacherComparison:
    """Match every teacher neuron (rows [w; b], outgoing rows) to its closest reconstructed neuron."""
    cls = _checked_class(activation_class)
    V, A, R, B = _arrays(teacher_incoming, teacher_outgoing, rec_incoming, rec_outgoing)
    mask = np.ones(V.shape[1]) if mask is None else np.asarray(mask, dtype=float)
    require(mask.shape == (V.shape[1],), "mask", f"a vector of length {V.shape[1]}", mask.shape)
    V, A, _ = canonical_scale(V, A, cls)
    R, B, _ = canonical_scale(R, B, cls)
    order = np.argsort(-np.linalg.norm(A, axis=1), kind="stable")
    V, A = V[order], A[order]
    r, K = len(V), len(R)
    if K:
        d = dissimilarity(V * mask, R * mask, flips(cls))
        matches = np.argmin(d, axis=1)
        d_w = d[np.arange(r), matches]
        cos, _ = cosines(V * mask, R[matches] * mask)
        signs = np.where(np.diag(cos) < 0, -1.0, 1.0) if flips(cls) else np.ones(r)
        matched_vectors = R[matches] * signs[:, None]
        out_signs = signs if sign_corrects_output(cls) else np.ones(r)
        matched_outgoing = B[matches] * out_signs[:, None]
        d_a = np.diag(dissimilarity(A, B[matches], sign_corrects_output(cls)))
    else:  # nothing reconstructed: every teacher neuron unmatched
        matches, d_w, d_a, signs = -np.ones(r, dtype=int), np.ones(r), np.ones(r), np.ones(r)
        matched_vectors, matched_outgoing = np.zeros_like(V), np.zeros_like(A)
    a_norm = np.linalg.norm(A, axis=1)
    a_error = np.linalg.norm(matched_outgoing - A, axis=1) / np.where(a_norm > 0, a_norm, 1.0)
    excess = np.setdiff1d(np.arange(K), matches)
    flagged = excess[np.linalg.norm(B[excess], axis=1) > EXCESS_NORM] if K else excess
    return TeacherComparison(order, matches, d_w, d_a, a_error, signs, V, matched_vectors, A, matched_outgoing,
                             excess, flagged)
