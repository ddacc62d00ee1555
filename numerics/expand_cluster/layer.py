"""Clustering one layer of N students: features, hierarchy, cut, filters, collapse."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from gradflow.numerics.expand_cluster.ablation import MeanAblation
from gradflow.numerics.expand_cluster.alignment import median_cosine_distance
from gradflow.numerics.expand_cluster.collapse import best_students, collapsed_vector, summed_outgoing, winner
from gradflow.numerics.expand_cluster.cut import CutResult, cut_rule, flat_clusters
from gradflow.numerics.expand_cluster.features import Features, canonical_features
from gradflow.numerics.expand_cluster.hierarchy import build_linkage
from gradflow.numerics.expand_cluster.merge import merged_splits
from gradflow.numerics.expand_cluster.options import ClusteringOptions
from gradflow.numerics.expand_cluster.report import ClusterReport
from gradflow.theory.errors import require


@dataclass(frozen=True)
class LayerClustering:
    """One layer clustered. ``points``: the point indices i = n k + j in the hierarchy (all, unless
    variant a pruned some), the leaves of ``linkage``; ``cut``: the cut search; ``clusters``: every flat
    cluster at the cut; ``winners`` (K,), ``incoming`` (K, D) collapsed canonical unmasked vectors,
    ``a_sum`` (N, K, m) per-student summed outgoing weights, ``outgoing`` (K, m) = the winners' a_sum
    (the last hidden layer only, else None)."""

    activation_class: str
    options: ClusteringOptions
    features: Features
    points: np.ndarray
    linkage: np.ndarray
    cut: CutResult
    clusters: tuple
    winners: np.ndarray
    incoming: np.ndarray
    a_sum: np.ndarray
    outgoing: np.ndarray | None

    @property
    def K(self) -> int:
        return len(self.winners)

    @property
    def heights(self) -> np.ndarray:
        return self.cut.heights

    @property
    def counts(self) -> np.ndarray:
        return self.cut.counts

    @property
    def cut_height(self) -> float:
        return self.cut.cut_height

    @property
    def cut_index(self) -> int:
        return self.cut.cut_index

    @property
    def kept(self) -> tuple:
        return tuple(c for c in self.clusters if c.kept)

    def to_json(self) -> dict:
        return {"options": self.options.to_json(), "activation_class": self.activation_class,
                "points": self.points.tolist(), "linkage": self.linkage.tolist(), "heights": self.heights.tolist(),
                "counts": self.counts.tolist(), "cut_index": int(self.cut_index), "cut_height": float(self.cut_height),
                "min_size": int(self.cut.min_size), "clusters": [c.to_json() for c in self.clusters],
                "winner": self.winners.tolist(), "K": self.K, "incoming": self.incoming.tolist(),
                "outgoing": None if self.outgoing is None else self.outgoing.tolist()}


def _pruned(features: Features, fraction: float) -> np.ndarray:
    """Points whose outgoing norm exceeds ``fraction`` times the largest of their student (variant a)."""
    norms = np.linalg.norm(features.outgoing, axis=1)
    top = np.zeros(features.n_students)
    np.maximum.at(top, features.students, norms)
    return np.flatnonzero(norms > fraction * top[features.students])


def _verdict(members, features, options, n_students, best, ablation) -> ClusterReport:
    letters = options.letters
    students = features.students[members]
    size, distinct = members.size, np.unique(students).size
    spread = median_cosine_distance(features.masked[members])
    reason, won = None, None
    if "b" in letters and distinct < options.min_size(n_students):
        reason = "few_students"
    elif "b" not in letters and size < options.min_size(n_students):
        reason = "small"
    elif "c" in letters and _cancels(members, features, options.prune_fraction):
        reason = "cancelled"
    elif "f" in letters and _negligible(members, features, ablation, options.ablation_fraction):
        reason = "negligible"
    elif spread > options.max_cosine_distance:
        reason = "unaligned"
    else:
        won = winner(members, features, best)
        reason = "no_best5" if won is None else None
    return ClusterReport(tuple(int(i) for i in members), int(size), int(distinct), spread, reason is None, reason, won)


def _cancels(members, features, fraction) -> bool:
    """Median over the owning students of |a_sum| below ``fraction`` max |a| (covert pairs cancel)."""
    owners = np.unique(features.students[members])
    sums = np.linalg.norm(summed_outgoing(members, features)[owners], axis=1)
    return float(np.median(sums)) < fraction * float(np.max(np.linalg.norm(features.outgoing, axis=1)))


def _negligible(members, features, ablation: MeanAblation, fraction: float) -> bool:
    """Median over the owning students of the mean-ablation effect of their members below ``fraction``."""
    students = features.students[members]
    effects = [ablation.effect(int(n), members[students == n] % features.width) for n in np.unique(students)]
    return float(np.median(effects)) < fraction


def _validated(incoming, outgoing, losses, options):
    require(isinstance(options, ClusteringOptions), "options", "a ClusteringOptions", type(options).__name__)
    shape = np.shape(incoming)
    require(len(shape) == 3, "incoming", "an array (N, k, D)", shape)
    N = shape[0]
    require(N >= 2, "incoming", "at least two students (N >= 2)", N)
    require(int(options.gamma * N) >= 2, "gamma", f"such that int(gamma N) >= 2 with N = {N}", options.gamma)
    losses = np.asarray(losses, dtype=float)
    require(losses.shape == (N,), "losses", f"a vector of length N = {N}", losses.shape)
    require(bool(np.all(np.isfinite(losses))), "losses", "finite", losses)
    return losses, options.mask_array(shape[2])


def cluster_layer(incoming, outgoing, losses, activation_class: str, options: ClusteringOptions | None = None,
                  last_layer: bool = True, ablation: MeanAblation | None = None) -> LayerClustering:
    """Cluster the hidden neurons of N students and collapse each kept cluster to one neuron.

    ``incoming`` (N, k, D): each neuron's [w; b] (bias last); ``outgoing`` (N, k, m): its outgoing weights;
    ``losses`` (N,): final losses (the best ``options.best_k`` students may win a cluster); ``ablation``:
    the students' mean ablation at this layer (variant f only).
    """
    options = ClusteringOptions() if options is None else options
    losses, mask = _validated(incoming, outgoing, losses, options)
    require("f" not in options.letters or ablation is not None, "variant",
            "without f unless the students and their inputs are given (cluster_layers passes them)",
            "".join(sorted(options.letters)))
    features = canonical_features(incoming, outgoing, activation_class, mask)
    N = features.n_students
    points = _pruned(features, options.prune_fraction) if "a" in options.letters \
        else np.arange(len(features.vectors))
    require(points.size >= 2, "outgoing", "non-negligible for at least two neurons", points.size)
    Z = build_linkage(features.masked[points], options.linkage, options.metric)
    cut = cut_rule(Z, options.min_size(N), owners=features.students[points] if "b" in options.letters else None,
                   accept=_aligned(features, points, options) if "d" in options.letters else None,
                   forced_height=options.max_cosine_distance if options.metric == "cosine" else None)
    best = best_students(losses, options.best_k)
    clusters = tuple(_verdict(points[m], features, options, N, best, ablation) for m in flat_clusters(cut.labels))
    if "g" in options.letters:
        clusters = merged_splits(clusters, features, best, options.merge_fraction)
    kept = [c for c in clusters if c.kept]
    factor = options.medoid_factor if "e" in options.letters else None
    m_out = features.outgoing.shape[1]
    incoming_k = np.array([collapsed_vector(np.asarray(c.members), features, c.winner, factor) for c in kept]
                          ).reshape(len(kept), features.vectors.shape[1])
    a_sum = np.stack([summed_outgoing(np.asarray(c.members), features) for c in kept], axis=1) if kept \
        else np.zeros((N, 0, m_out))
    winners = np.array([c.winner for c in kept], dtype=int)
    out = a_sum[winners, np.arange(len(kept))] if last_layer else None
    return LayerClustering(activation_class, options, features, points, Z, cut, clusters, winners, incoming_k,
                           a_sum, out)


def _aligned(features: Features, points: np.ndarray, options: ClusteringOptions):
    """The alignment test on hierarchy members (variant d), cached: clusters recur across heights. A flat
    cluster of a monotone linkage is a dendrogram node, so its first leaf and size name it."""
    seen: dict[tuple, bool] = {}

    def test(members: np.ndarray) -> bool:
        key = (int(members.min()), members.size)
        if key not in seen:
            seen[key] = median_cosine_distance(features.masked[points[members]]) <= options.max_cosine_distance
        return seen[key]
    return test
