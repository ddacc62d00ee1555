"""Across models, and against difficulty: how the estimate tracks OOD accuracies, and whether the
confusion score measures difficulty.

Across models f_1..f_K the estimate is linear in each model's per-bin ID accuracies with weights
pi^OOD shared by all models; the observed line A_OOD ~ alpha + beta A_ID and the predicted line
A_hat ~ alpha' + beta' A_ID (least squares) are compared, with Pearson r of A_hat and of A_ID against
A_OOD and the mean absolute errors of the estimate and of the naive A_ID.

Difficulty: the ID accuracy per bin against the bin's mean score (expected non-increasing up to
noise) and the point-biserial correlation of the score with the error indicator 1 - correct
(expected positive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.numerics.confusion.bins import Bins, bin_means
from gradflow.theory.errors import require


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r; NaN when either side is constant (r is undefined)."""
    a, b = a - a.mean(), b - b.mean()
    scale = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / scale) if scale > 0 else float("nan")


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(alpha, beta) of y ~ alpha + beta x; NaN when x is constant."""
    xc = x - x.mean()
    denominator = xc @ xc
    if denominator == 0:
        return float("nan"), float("nan")
    beta = float(xc @ (y - y.mean()) / denominator)
    return float(y.mean() - beta * x.mean()), beta


@dataclass(frozen=True)
class ModelRelation:
    line_observed: tuple[float, float]  # A_OOD ~ alpha + beta A_ID
    line_predicted: tuple[float, float]  # A_hat ~ alpha' + beta' A_ID
    pearson_estimate: float  # r(A_hat, A_OOD)
    pearson_naive: float  # r(A_ID, A_OOD)
    mae_estimate: float
    mae_naive: float

    def to_json(self) -> dict:
        return {"line_observed": {"alpha": self.line_observed[0], "beta": self.line_observed[1]},
                "line_predicted": {"alpha": self.line_predicted[0], "beta": self.line_predicted[1]},
                "pearson_estimate": self.pearson_estimate, "pearson_naive": self.pearson_naive,
                "mae_estimate": self.mae_estimate, "mae_naive": self.mae_naive}


def model_relation(acc_id, acc_ood, estimates) -> ModelRelation:
    """The relation over K models from their ID accuracies, true OOD accuracies and estimates."""
    acc_id, acc_ood, estimates = (np.asarray(v, dtype=float).ravel() for v in (acc_id, acc_ood, estimates))
    require(acc_id.size >= 1, "acc_id", "at least one model", acc_id.size)
    require(acc_ood.size == acc_id.size == estimates.size, "estimates", f"one per model ({acc_id.size})",
            (acc_ood.size, estimates.size))
    return ModelRelation(_line(acc_id, acc_ood), _line(acc_id, estimates), _pearson(estimates, acc_ood),
                         _pearson(acc_id, acc_ood), float(np.mean(np.abs(estimates - acc_ood))),
                         float(np.mean(np.abs(acc_id - acc_ood))))


@dataclass(frozen=True, eq=False)
class Difficulty:
    bin_score: np.ndarray  # mean score of the ID points in each bin
    bin_accuracy: np.ndarray  # ID accuracy in each bin
    point_biserial: float  # corr(score, 1 - correct) on ID
    non_increasing_violations: int  # bins whose accuracy exceeds the previous bin's

    def to_json(self) -> dict:
        return {"bin_score": [float(v) for v in self.bin_score], "bin_accuracy": [float(v) for v in self.bin_accuracy],
                "point_biserial": self.point_biserial, "non_increasing_violations": self.non_increasing_violations}


def difficulty(id_scores, id_correct, bins: Bins) -> Difficulty:
    scores = np.asarray(id_scores, dtype=float)
    correct = np.asarray(id_correct, dtype=float)
    require(scores.ndim == 1 and scores.shape == correct.shape and scores.size >= 1, "id_correct",
            f"one indicator per score ({scores.size})", correct.shape)
    which = bins.assign(scores)
    mean_score, accuracy = bin_means(which, scores, bins.count), bin_means(which, correct, bins.count)
    filled = accuracy[np.isfinite(accuracy)]
    return Difficulty(mean_score, accuracy, _pearson(scores, 1.0 - correct), int(np.sum(np.diff(filled) > 0)))
