"""One seed's analysis, shared by the reproductions: scores of the ensemble on the ID test set and on
each shifted set, the estimate for every evaluated model, the sweeps over B and over the score
variants, and the relation across models; then the seed records folded into per-seed values, mean
and std."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from gradflow.numerics.confusion import (BUILT_IN_SCORES, DEFAULT_SCORE, confusion_score, correct_predictions,
                                         difficulty, estimate_ood_accuracy, make_bins, model_relation, score_range)

SCORE_VARIANTS = BUILT_IN_SCORES


@dataclass(frozen=True, eq=False)
class SeedData:
    """What one seed produced: the ensemble's log-probabilities (M, n, C) and labels on the ID test set
    and on each shifted set, and every evaluated model's predictions on each of them."""

    n_classes: int
    id_log_probs: np.ndarray
    id_labels: np.ndarray
    shifted: dict  # shift -> (log_probs, labels)
    predictions: dict  # model -> {"id": labels, shift: labels}
    reference: str  # the model whose estimate the per-shift numbers report
    sources: dict | None = None  # model -> who trained it ("gradflow" when not given)


def _shift_record(data: SeedData, shift: str, s_id, s_ood, B: int, B_sweep, variant_scores, bins, binning: str,
                  score: str) -> dict:
    _, labels = data.shifted[shift]
    C = data.n_classes
    correct = {m: (correct_predictions(p["id"], data.id_labels, C), correct_predictions(p[shift], labels, C))
               for m, p in data.predictions.items()}
    estimates = {m: estimate_ood_accuracy(s_id, mc_id, s_ood, mc_ood, bins=bins)
                 for m, (mc_id, mc_ood) in correct.items()}
    c_id, c_ood = correct[data.reference]
    e = estimates[data.reference]
    by_B = {str(b): estimate_ood_accuracy(s_id, c_id, s_ood, c_ood, B=b, binning=binning,
                                          score_range=_range(binning, score, C)).gap_closed for b in B_sweep}
    by_score = {name: estimate_ood_accuracy(sid, c_id, sood, c_ood, B=B, binning=binning,
                                            score_range=_range(binning, name, C)).gap_closed
                for name, (sid, sood) in variant_scores.items()}
    models = {m: {"source": (data.sources or {}).get(m, "gradflow"), "acc_id": me.id_accuracy,
                  "acc_ood": me.true_accuracy, "estimate": me.estimate, "naive": me.naive, "gap_closed": me.gap_closed}
              for m, me in estimates.items()}
    relation = model_relation([v["acc_id"] for v in models.values()], [v["acc_ood"] for v in models.values()],
                              [v["estimate"] for v in models.values()])
    return {"true_acc": e.true_accuracy, "estimate": e.estimate, "naive": e.naive, "gap_closed": e.gap_closed,
            "abs_error_estimate": abs(e.error), "abs_error_naive": abs(e.drop),
            "gap_closed_by_B": by_B, "gap_closed_by_score": by_score,
            "cs_mean_id": float(s_id.mean()), "cs_mean_ood": float(s_ood.mean()),
            "cs_shift": float(s_ood.mean() - s_id.mean()),
            "bins": {"edges": list(e.bins.edges[1:-1]), "merged_edges": list(e.bins.merged), "pi_id": e.pi_id,
                     "pi_ood": e.pi_ood, "acc_id": e.acc_id, "acc_ood": e.acc_ood, "contribution": e.contribution},
            "decomposition": {"mix_shift": e.mix_shift, "within_bin": e.within_bin, "drop": e.drop},
            "models": models, **relation.to_json()}


def _range(binning: str, score: str, C: int):
    return score_range(score, C) if binning == "width" else None


def analyse_seed(data: SeedData, B: int, B_sweep, score: str = DEFAULT_SCORE,
                 binning: str = "quantile") -> tuple[dict, dict]:
    """(record, raw): the seed's JSON-ready numbers and the raw scores (for figures)."""
    names = dict.fromkeys((score, *SCORE_VARIANTS))  # each score computed once, the analysed one included
    id_scores = {name: confusion_score(data.id_log_probs, name) for name in names}
    s_id = id_scores[score]
    C = data.n_classes
    bins = make_bins(s_id, B, binning, score_range=_range(binning, score, C))
    ensemble_pred = np.argmax(np.exp(data.id_log_probs).mean(axis=0), axis=1)
    c_ref = correct_predictions(data.predictions[data.reference]["id"], data.id_labels, C)
    diag = difficulty(s_id, c_ref, bins)
    shifts, raw = {}, {"id": s_id}
    for shift, (log_probs, _) in data.shifted.items():
        scores = {name: confusion_score(log_probs, name) for name in names}
        raw[shift] = scores[score]
        variants = {name: (id_scores[name], scores[name]) for name in SCORE_VARIANTS}
        shifts[shift] = _shift_record(data, shift, s_id, raw[shift], B, B_sweep, variants, bins, binning, score)
    pairs = [(m["acc_id"], m["acc_ood"], m["estimate"]) for rec in shifts.values() for m in rec["models"].values()]
    relation = model_relation(*zip(*pairs))
    record = {"ensemble_id_acc": float(np.mean(ensemble_pred == data.id_labels)),
              "corr_cs_error": diag.point_biserial, "id_acc_per_bin": diag.bin_accuracy,
              "id_cs_per_bin": diag.bin_score, "id_acc_non_increasing_violations": diag.non_increasing_violations,
              "shifts": shifts, "relation": relation.to_json()}
    return record, raw


def _leaf_summary(values: list):
    """per-seed values with their mean and std (population, over seeds); lists elementwise when equal-length;
    a text the same in every seed stays that text."""
    if all(isinstance(v, str) for v in values) and len(set(values)) == 1:
        return values[0]
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values):
        a = np.array(values, dtype=float)
        finite = a[np.isfinite(a)]
        return {"per_seed": [float(v) for v in a], "mean": float(finite.mean()) if finite.size else None,
                "std": float(finite.std()) if finite.size else None}
    arrays = [np.asarray(v, dtype=float) for v in values]
    if all(a.ndim == 1 for a in arrays) and len({a.size for a in arrays}) == 1:
        stacked = np.stack(arrays)
        with warnings.catch_warnings():  # a bin empty in every seed has no mean: NaN, written as null
            warnings.simplefilter("ignore", RuntimeWarning)
            return {"per_seed": [list(map(float, a)) for a in arrays], "mean": list(map(float, np.nanmean(stacked, 0))),
                    "std": list(map(float, np.nanstd(stacked, 0)))}
    return {"per_seed": [list(map(float, a)) for a in arrays], "mean": None, "std": None}


def summarise(records: list[dict]) -> dict:
    """The records of every seed folded leaf by leaf: {"per_seed": [...], "mean": ..., "std": ...}."""
    first = records[0]
    if isinstance(first, dict):
        return {key: summarise([r[key] for r in records]) for key in first}
    return _leaf_summary(records)
