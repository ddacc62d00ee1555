"""Confusion scores: how much an ensemble's members disagree about a test input, without its label.

Every score reads the members' log-probabilities, an array (M, n, C): M members, n inputs, C classes,
and returns n scores.  Working in log space keeps the scores finite and exact for logits of any size
(a probability of exp(-2000) is a log-probability of -2000, not 0 / 0):

  cs_entropy  H(p_bar), p_bar = (1/M) sum_m p_m, natural log, 0 log 0 = 0; in [0, log C]
  cs_norm     H(p_bar) / log C; in [0, 1]
  cs_vote     entropy of the vote histogram v_c = (1/M) #{m : argmax p_m = c} (ties: lowest index)
  cs_mi       H(p_bar) - (1/M) sum_m H(p_m), the mutual information ("BALD"); in [0, H(p_bar)]
  cs_var      sum_c Var_m p_m(c) (population variance, 1/M)

``register_score(name, function)`` adds a score: any function of the (M, n, C) log-probabilities
(``np.exp`` of them are the probabilities) that returns n finite numbers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import logsumexp

from gradflow.theory.errors import ParameterError, require

SUM_TOLERANCE = 1e-6  # |log sum_c p_c| above this: the rows are not probability distributions
DEFAULT_SCORE = "cs_entropy"


def log_softmax(logits) -> np.ndarray:
    """log softmax over the last axis, by log-sum-exp (finite for logits of any finite size)."""
    logits = np.asarray(logits, dtype=float)
    require(logits.ndim >= 1 and logits.shape[-1] >= 2, "logits", "an array whose last axis has C >= 2 classes",
            logits.shape)
    require(bool(np.isfinite(logits).all()), "logits", "finite")
    return logits - logsumexp(logits, axis=-1, keepdims=True)


def log_probabilities(probabilities) -> np.ndarray:
    """The logs of member probabilities (M, n, C), after checking that each row is a distribution."""
    p = np.asarray(probabilities, dtype=float)
    _require_shape(p, "probabilities")
    require(bool(np.isfinite(p).all()) and bool((p >= 0).all()), "probabilities", "finite and >= 0")
    sums = p.sum(axis=-1)
    worst = float(np.max(np.abs(sums - 1.0)))
    require(worst <= SUM_TOLERANCE, "probabilities", f"rows summing to 1 over the classes (within {SUM_TOLERANCE:g})",
            f"off by {worst:.3g}")
    with np.errstate(divide="ignore"):
        return np.log(p)


def _require_shape(a: np.ndarray, name: str) -> None:
    require(a.ndim == 3 and a.shape[0] >= 1 and a.shape[1] >= 1, name, "an array (M, n, C) with M, n >= 1",
            a.shape)
    require(a.shape[2] >= 2, "C", "at least 2 classes (the last axis)", a.shape[2])


def check_log_probabilities(log_probs) -> np.ndarray:
    """``log_probs`` as float (M, n, C), each row a distribution: no NaN or +inf, log-sum-exp 0."""
    lp = np.asarray(log_probs, dtype=float)
    _require_shape(lp, "log_probs")
    require(not bool(np.isnan(lp).any()) and not bool((lp == np.inf).any()), "log_probs",
            "log-probabilities (no NaN or +inf; -inf is probability 0)")
    worst = float(np.max(np.abs(logsumexp(lp, axis=-1))))
    require(worst <= SUM_TOLERANCE, "log_probs",
            f"rows whose probabilities sum to 1 (|logsumexp| <= {SUM_TOLERANCE:g})", f"off by {worst:.3g}")
    return lp


def _entropy_of_logs(lp: np.ndarray, axis: int = -1) -> np.ndarray:
    """-sum p log p from log p, with 0 log 0 = 0 (log p = -inf read as 0: e^0 * 0 = 0)."""
    safe = np.where(np.isfinite(lp), lp, 0.0)
    return np.maximum(-(np.exp(safe) * safe).sum(axis=axis), 0.0)


def mean_log_probabilities(lp: np.ndarray) -> np.ndarray:
    """log p_bar (n, C) = logsumexp_m log p_m - log M."""
    with np.errstate(divide="ignore"):
        return logsumexp(lp, axis=0) - np.log(lp.shape[0])


def cs_entropy(lp: np.ndarray) -> np.ndarray:
    return _entropy_of_logs(mean_log_probabilities(lp))


def cs_norm(lp: np.ndarray) -> np.ndarray:
    return np.minimum(cs_entropy(lp) / np.log(lp.shape[2]), 1.0)


def cs_vote(lp: np.ndarray) -> np.ndarray:
    M, n, C = lp.shape
    votes = np.argmax(lp, axis=2)  # (M, n): the lowest index wins a tie
    counts = np.zeros((n, C))
    np.add.at(counts, (np.broadcast_to(np.arange(n), (M, n)), votes), 1.0)
    v = counts / M
    with np.errstate(divide="ignore"):
        return _entropy_of_logs(np.log(v))


def cs_mi(lp: np.ndarray) -> np.ndarray:
    total = cs_entropy(lp)
    members = _entropy_of_logs(lp).mean(axis=0)
    return np.clip(total - members, 0.0, total)  # Jensen: rounding only can leave [0, H(p_bar)]


def cs_var(lp: np.ndarray) -> np.ndarray:
    return np.exp(lp).var(axis=0).sum(axis=1)


_SCORES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "cs_entropy": cs_entropy, "cs_norm": cs_norm, "cs_vote": cs_vote, "cs_mi": cs_mi, "cs_var": cs_var}
BUILT_IN_SCORES = tuple(_SCORES)


def score_names() -> tuple[str, ...]:
    return tuple(_SCORES)


def register_score(name: str, function: Callable[[np.ndarray], np.ndarray], replace: bool = False) -> None:
    """Add ``function`` (log-probabilities (M, n, C) -> n scores) under ``name``."""
    require(isinstance(name, str) and name.isidentifier(), "name", "an identifier", name)
    require(callable(function), "function", "callable (log-probabilities (M, n, C) -> n scores)", function)
    require(replace or name not in _SCORES, "name", "a name not yet registered (or replace=True)", name)
    _SCORES[name] = function


def unregister_score(name: str) -> None:
    require(name in _SCORES and name not in BUILT_IN_SCORES, "name", "a user-registered score", name)
    del _SCORES[name]


def get_score(name: str) -> Callable[[np.ndarray], np.ndarray]:
    if name not in _SCORES:
        raise ParameterError("score", f"one of {', '.join(_SCORES)}", name)
    return _SCORES[name]


def score_range(name: str, n_classes: int) -> tuple[float, float]:
    """The range [low, high] a built-in score takes with C classes (equal-width bins span it)."""
    ranges = {"cs_entropy": (0.0, np.log(n_classes)), "cs_vote": (0.0, np.log(n_classes)),
              "cs_mi": (0.0, np.log(n_classes)), "cs_norm": (0.0, 1.0), "cs_var": (0.0, 1.0)}
    require(name in ranges, "score", f"a built-in score for equal-width bins ({', '.join(ranges)})", name)
    return ranges[name]


def confusion_score(log_probs, name: str = DEFAULT_SCORE) -> np.ndarray:
    """The score ``name`` of every input: (n,) from the members' log-probabilities (M, n, C)."""
    function = get_score(name)
    lp = check_log_probabilities(log_probs)
    out = np.asarray(function(lp), dtype=float)
    require(out.shape == (lp.shape[1],), "score", f"{name} returning {lp.shape[1]} scores", out.shape)
    require(bool(np.isfinite(out).all()), "score", f"{name} returning finite scores")
    return out
