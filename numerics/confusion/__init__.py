"""Confusion scores and out-of-distribution accuracy estimation: scores of an ensemble's disagreement
(``scores``), bins of a score (``bins``), the estimate and its exact identities (``estimator``), the
relation across models and the difficulty diagnostics (``relation``), and ensembles trained by GD with
the MLP engine (``ensembles``)."""

from gradflow.numerics.confusion.bins import (BINNINGS, Bins, edge_bins, make_bins, merge_empty, quantile_bins,
                                              width_bins)
from gradflow.numerics.confusion.estimator import OODEstimate, correct_predictions, estimate_ood_accuracy
from gradflow.numerics.confusion.relation import Difficulty, ModelRelation, difficulty, model_relation
from gradflow.numerics.confusion.scores import (BUILT_IN_SCORES, DEFAULT_SCORE, check_log_probabilities,
                                                confusion_score, get_score, log_probabilities, log_softmax,
                                                mean_log_probabilities, register_score, score_names, score_range,
                                                unregister_score)

__all__ = ["BINNINGS", "BUILT_IN_SCORES", "Bins", "DEFAULT_SCORE", "Difficulty", "ModelRelation", "OODEstimate",
           "check_log_probabilities", "confusion_score", "correct_predictions", "difficulty", "edge_bins",
           "estimate_ood_accuracy", "get_score", "log_probabilities", "log_softmax", "make_bins",
           "mean_log_probabilities", "merge_empty", "model_relation", "quantile_bins", "register_score",
           "score_names", "score_range", "unregister_score", "width_bins"]
