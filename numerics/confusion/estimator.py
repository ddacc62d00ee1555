"""The OOD accuracy estimate from confusion-score bins, and the exact identities around it.

With bins b of a confusion score, pi_b^D the fraction of set D in bin b (no labels needed) and A_b^ID
the model's accuracy on the ID test points of bin b,

    A_hat = sum_b pi_b^OOD A_b^ID

assumes P(correct | bin, OOD) = P(correct | bin, ID).  When OOD labels are given (evaluation only):

    A_hat - A_OOD = sum_b pi_b^OOD (A_b^ID - A_b^OOD)                      (error; empty OOD bins add 0)
    A_ID - A_OOD  = sum_b (pi_b^ID - pi_b^OOD) A_b^ID  +  sum_b pi_b^OOD (A_b^ID - A_b^OOD)
                  = mix shift (A_ID - A_hat)            +  within-bin drop (A_hat - A_OOD)
    c_b = pi_b^ID A_b^ID - pi_b^OOD A_b^OOD sums to the drop; gap closed = (A_ID - A_hat) / (A_ID - A_OOD).

One bin gives A_hat = A_ID, the naive estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.numerics.confusion.bins import Bins, bin_means, make_bins, merge_empty
from gradflow.theory.errors import require


def correct_predictions(predictions, labels, n_classes: int) -> np.ndarray:
    """1[prediction = label] per point, after checking both are classes 0..n_classes-1."""
    require(isinstance(n_classes, (int, np.integer)) and n_classes >= 2, "C", "an integer >= 2 classes", n_classes)
    out = []
    for name, values in (("predictions", predictions), ("labels", labels)):
        a = np.asarray(values)
        require(a.ndim == 1 and (a.dtype.kind in "iu" or bool(np.all(a == np.round(a)))), name,
                "a vector of integer classes", a.shape)
        a = a.astype(np.int64)
        bad = (a < 0) | (a >= n_classes)
        require(not bad.any(), name, f"classes in 0..{n_classes - 1}", int(a[np.argmax(bad)]) if bad.any() else None)
        out.append(a)
    require(out[0].shape == out[1].shape, "labels", f"one per prediction ({out[0].size})", out[1].size)
    return out[0] == out[1]


def _indicator(values, name: str, n: int | None = None) -> np.ndarray:
    a = np.asarray(values)
    require(a.ndim == 1 and a.size >= 1, name, "a non-empty vector of 0/1 correctness indicators", a.shape)
    require(bool(np.all((a == 0) | (a == 1))), name, "0/1 (or boolean) correctness indicators")
    if n is not None:
        require(a.size == n, name, f"one indicator per score ({n})", a.size)
    return a.astype(float)


def _scores(values, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    require(a.ndim == 1 and a.size >= 1, name, "a non-empty vector of scores (at least one point)", a.shape)
    require(bool(np.isfinite(a).all()), name, "finite scores")
    return a


@dataclass(frozen=True, eq=False)
class OODEstimate:
    """Per-bin masses and accuracies, the estimate, and (with OOD labels) its exact error terms."""

    bins: Bins
    pi_id: np.ndarray
    pi_ood: np.ndarray
    acc_id: np.ndarray
    acc_ood: np.ndarray | None  # NaN in bins without OOD points
    id_accuracy: float  # A_ID, the naive estimate
    estimate: float  # A_hat
    true_accuracy: float | None  # A_OOD
    mix_shift: float | None  # A_ID - A_hat
    within_bin: float | None  # sum_b pi_b^OOD (A_b^ID - A_b^OOD) = A_hat - A_OOD
    contribution: np.ndarray | None  # c_b

    @property
    def naive(self) -> float:
        return self.id_accuracy

    @property
    def drop(self) -> float | None:
        return None if self.true_accuracy is None else self.id_accuracy - self.true_accuracy

    @property
    def error(self) -> float | None:
        return None if self.true_accuracy is None else self.estimate - self.true_accuracy

    @property
    def gap_closed(self) -> float:
        """(A_ID - A_hat) / (A_ID - A_OOD); NaN without labels or without a drop."""
        drop = self.drop
        return float("nan") if drop is None or drop == 0 else (self.id_accuracy - self.estimate) / drop

    def to_json(self) -> dict:
        def listed(a):
            return None if a is None else [float(v) for v in a]

        return {"bins": self.bins.to_json(), "edges": [float(v) for v in self.bins.edges], "pi_id": listed(self.pi_id),
                "pi_ood": listed(self.pi_ood), "acc_id": listed(self.acc_id), "acc_ood": listed(self.acc_ood),
                "contribution": listed(self.contribution), "id_accuracy": self.id_accuracy, "naive": self.naive,
                "estimate": self.estimate, "true_accuracy": self.true_accuracy, "error": self.error,
                "mix_shift": self.mix_shift, "within_bin": self.within_bin, "drop": self.drop,
                "gap_closed": self.gap_closed}


def estimate_ood_accuracy(id_scores, id_correct, ood_scores, ood_correct=None, *, bins: Bins | None = None,
                          B: int = 10, binning: str = "quantile", edges=None, score_range=None) -> OODEstimate:
    """A_hat = sum_b pi_b^OOD A_b^ID from ID scores with correctness, OOD scores (and, to evaluate, OOD
    correctness).  ``bins`` given are used as they are after merging empty ID bins; otherwise they are
    made by ``make_bins(id_scores, B, binning, edges, score_range)``."""
    s_id = _scores(id_scores, "id_scores")
    c_id = _indicator(id_correct, "id_correct", s_id.size)
    s_ood = _scores(ood_scores, "ood_scores")
    bins = make_bins(s_id, B, binning, edges, score_range) if bins is None else merge_empty(bins, s_id)
    K = bins.count
    which_id, which_ood = bins.assign(s_id), bins.assign(s_ood)
    pi_id = np.bincount(which_id, minlength=K) / s_id.size
    pi_ood = np.bincount(which_ood, minlength=K) / s_ood.size
    acc_id = bin_means(which_id, c_id, K)  # every bin holds ID points after the merge
    id_accuracy = float(c_id.mean())
    estimate = float(pi_ood @ acc_id)
    if ood_correct is None:
        return OODEstimate(bins, pi_id, pi_ood, acc_id, None, id_accuracy, estimate, None, None, None, None)
    c_ood = _indicator(ood_correct, "ood_correct", s_ood.size)
    acc_ood = bin_means(which_ood, c_ood, K)
    filled = np.nan_to_num(acc_ood, nan=0.0)  # pi_b^OOD = 0 there: the bin adds nothing
    within = float(pi_ood @ (acc_id - filled))
    mix = float((pi_id - pi_ood) @ acc_id)
    contribution = pi_id * acc_id - pi_ood * filled
    return OODEstimate(bins, pi_id, pi_ood, acc_id, acc_ood, id_accuracy, estimate, float(c_ood.mean()), mix, within,
                       contribution)
