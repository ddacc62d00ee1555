"""Bins of a confusion score: edges -inf = t_0 < t_1 < ... < t_B = +inf, bin b = [t_b, t_{b+1}).

Three ways to choose the inner edges t_1..t_{B-1}:

  quantile  the ID-test scores' quantiles at b/B (equal mass on ID; the default)
  width     equal width on [low, high] (for the entropy: [0, log C])
  edges     the user's own, strictly increasing

A bin without ID test points has no ID accuracy to transfer: it is merged with its right neighbour
(the last one with its left) by dropping the edge between them, and the dropped edge is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import require

BINNINGS = ("quantile", "width", "edges")


@dataclass(frozen=True)
class Bins:
    """Inner edges (B - 1 finite, strictly increasing) and the edges dropped to merge empty ID bins."""

    inner: tuple[float, ...]
    merged: tuple[float, ...] = ()
    kind: str = "quantile"

    @property
    def count(self) -> int:
        return len(self.inner) + 1

    @property
    def edges(self) -> np.ndarray:
        """t_0 .. t_B, the outer two infinite."""
        return np.concatenate([[-np.inf], self.inner, [np.inf]])

    def assign(self, scores) -> np.ndarray:
        """The bin of each score: b with t_b <= s < t_{b+1}."""
        return np.searchsorted(np.asarray(self.inner, dtype=float), np.asarray(scores, dtype=float), side="right")

    def masses(self, scores) -> np.ndarray:
        """pi_b: the fraction of ``scores`` in each bin."""
        scores = np.asarray(scores, dtype=float)
        return np.bincount(self.assign(scores), minlength=self.count) / scores.size

    def to_json(self) -> dict:
        return {"kind": self.kind, "inner_edges": list(self.inner), "merged_edges": list(self.merged)}


def _require_B(B) -> int:
    require(isinstance(B, (int, np.integer)) and not isinstance(B, bool) and B >= 1, "B", "an integer >= 1", B)
    return int(B)


def quantile_bins(id_scores, B: int) -> Bins:
    B = _require_B(B)
    scores = np.asarray(id_scores, dtype=float)
    require(scores.ndim == 1 and scores.size >= 1, "id_scores", "at least one ID test score", scores.shape)
    inner = np.quantile(scores, np.arange(1, B) / B) if B > 1 else np.empty(0)
    # equal quantiles (ties in the scores) would leave an empty bin between them: keep one, report the rest
    values, counts = np.unique(inner, return_counts=True)
    repeated = tuple(float(v) for v, c in zip(values, counts) for _ in range(c - 1))
    return merge_empty(Bins(tuple(float(v) for v in values), repeated, "quantile"), scores)


def width_bins(B: int, low: float, high: float) -> Bins:
    B = _require_B(B)
    require(np.isfinite(low) and np.isfinite(high) and high > low, "high", f"a finite number > low = {low}", high)
    return Bins(tuple(np.linspace(low, high, B + 1)[1:-1]), kind="width")


def edge_bins(inner_edges) -> Bins:
    inner = np.asarray(inner_edges, dtype=float).ravel()
    require(bool(np.isfinite(inner).all()) and bool(np.all(np.diff(inner) > 0)), "edges",
            "finite inner edges t_1 < ... < t_{B-1}", inner)
    return Bins(tuple(inner), kind="edges")


def bin_means(which: np.ndarray, values, count: int) -> np.ndarray:
    """The mean of ``values`` over the points of each of ``count`` bins (``which``: each point's bin);
    NaN in a bin without points."""
    counts = np.bincount(which, minlength=count)
    sums = np.bincount(which, weights=values, minlength=count)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def merge_empty(bins: Bins, id_scores) -> Bins:
    """``bins`` with every bin that holds no ID score merged into a neighbour (the dropped edges reported)."""
    inner = list(bins.inner)
    merged = list(bins.merged)
    scores = np.asarray(id_scores, dtype=float)
    while inner:
        counts = np.bincount(np.searchsorted(np.asarray(inner), scores, side="right"), minlength=len(inner) + 1)
        empty = np.flatnonzero(counts == 0)
        if empty.size == 0:
            break
        b = int(empty[0])
        edge = b if b < len(inner) else b - 1  # the edge above bin b, or below the last bin
        merged.append(float(inner.pop(edge)))
    return Bins(tuple(inner), tuple(merged), bins.kind)


def make_bins(id_scores, B: int = 10, binning: str = "quantile", edges=None, score_range=None) -> Bins:
    """Bins for ``binning`` (quantile | width | edges), empty ID bins merged."""
    require(binning in BINNINGS, "binning", f"one of {', '.join(BINNINGS)}", binning)
    if binning == "quantile":
        return quantile_bins(id_scores, B)
    if binning == "width":
        require(score_range is not None, "score_range", "(low, high) for equal-width bins")
        return merge_empty(width_bins(B, *score_range), id_scores)
    require(edges is not None, "edges", "the inner edges for binning 'edges'")
    return merge_empty(edge_bins(edges), id_scores)
