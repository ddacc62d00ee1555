"""Options of the clustering phase: the cut and alignment thresholds, the linkage, the variant."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gradflow.theory.errors import require

LETTERS = "abcdefg"
ROBUST = frozenset("abc")  # pruning, distinct students, cancelling sums: the variant that removes zero-type clusters
NAMED = {"code": frozenset(), "robust": ROBUST, "robust+fg": ROBUST | {"f", "g"}}  # and ablation filter, split merge
_LINKAGES = ("average", "complete")
_METRICS = ("euclidean", "cosine")


def variant_letters(variant) -> frozenset:
    """The robust options a variant switches on: "code" none, "robust" a-c, "robust+fg" a-c, f and g, or the
    letters themselves."""
    if isinstance(variant, str) and variant in NAMED:
        return NAMED[variant]
    letters = frozenset(variant) if isinstance(variant, (str, set, frozenset, tuple, list)) else None
    require(letters is not None and letters <= set(LETTERS), "variant",
            f'"code", "robust", "robust+fg" or a set of letters from "{LETTERS}"', variant)
    return letters


@dataclass(frozen=True)
class ClusteringOptions:
    """How one layer's neurons are clustered.

    ``gamma``: a cluster needs ``int(gamma N)`` members (distinct students with option b);
    ``beta``: a kept cluster's median pairwise cosine distance is at most ``1 - cos beta``;
    ``linkage``/``metric``: the hierarchy (the cosine metric forces the cut at ``1 - cos beta``);
    ``variant``: "code" (faithful), "robust" (a-c), "robust+fg" (a-c, f, g) or letters of "abcdefg":
    (a) prune neurons with ``|a_i| <= prune_fraction * max |a|`` within their student,
    (b) count distinct students (``>= ceil(gamma N)``) in the cut search and the filter,
    (c) drop clusters whose median per-student ``|a_sum|`` is below ``prune_fraction * max |a|``,
    (d) apply the alignment test inside the cut search (needs ``gamma >= 0.6``),
    (e) average only the winner's members within ``medoid_factor`` times the median distance to the medoid,
    (f) drop clusters whose median per-student mean-ablation effect (the RMS change of the student's output
    when the cluster's neurons output their means, over the spread of that output) is below
    ``ablation_fraction``: neurons that carry almost nothing to the output through the layers above
    (needs the students and their inputs: ``cluster_layers`` passes them),
    (g) merge kept clusters whose mean canonical vectors are closer than ``merge_fraction`` times the longer
    one (a neuron split in two along a flat direction of the loss);
    ``best_k``: the lowest-loss students that may win a cluster;
    ``mask``: 0/1 per incoming coordinate (bias last), for distances and angles only (first layer).
    """

    gamma: float = 0.5
    beta: float = math.pi / 6
    linkage: str = "average"
    metric: str = "euclidean"
    variant: object = "code"
    best_k: int = 5
    mask: tuple | None = field(default=None)
    prune_fraction: float = 1e-3
    medoid_factor: float = 3.0
    ablation_fraction: float = 1e-2
    merge_fraction: float = 1e-2

    def __post_init__(self):
        require(isinstance(self.gamma, (int, float)) and 0 < self.gamma <= 1, "gamma", "in (0, 1]", self.gamma)
        require(isinstance(self.beta, (int, float)) and 0 < self.beta <= math.pi / 2, "beta", "in (0, pi/2]",
                self.beta)
        require(self.linkage in _LINKAGES, "linkage", f"one of {', '.join(_LINKAGES)}", self.linkage)
        require(self.metric in _METRICS, "metric", f"one of {', '.join(_METRICS)}", self.metric)
        letters = variant_letters(self.variant)
        require("d" not in letters or self.gamma >= 0.6, "gamma",
                "at least 0.6 when the alignment test runs inside the cut search (variant d)", self.gamma)
        require(isinstance(self.best_k, (int, np.integer)) and self.best_k >= 1, "best_k", "an integer >= 1",
                self.best_k)
        require(isinstance(self.prune_fraction, (int, float)) and 0 <= self.prune_fraction < 1, "prune_fraction",
                "in [0, 1)", self.prune_fraction)
        require(isinstance(self.medoid_factor, (int, float)) and self.medoid_factor > 0, "medoid_factor",
                "positive", self.medoid_factor)
        require(isinstance(self.ablation_fraction, (int, float)) and 0 <= self.ablation_fraction < 1,
                "ablation_fraction", "in [0, 1)", self.ablation_fraction)
        require(isinstance(self.merge_fraction, (int, float)) and 0 <= self.merge_fraction < 1,
                "merge_fraction", "in [0, 1)", self.merge_fraction)
        if self.mask is not None:
            mask = np.asarray(self.mask, dtype=float).ravel()
            require(mask.size > 0 and bool(np.all((mask == 0) | (mask == 1))) and mask.any(), "mask",
                    "a vector of 0/1 with at least one 1", self.mask)
            object.__setattr__(self, "mask", tuple(float(x) for x in mask))  # hashable, comparable

    @property
    def letters(self) -> frozenset:
        return variant_letters(self.variant)

    @property
    def max_cosine_distance(self) -> float:
        """``1 - cos beta``: the alignment threshold (and the forced cut of the cosine metric)."""
        return 1.0 - math.cos(self.beta)

    def min_size(self, n_students: int) -> int:
        """Members a cluster needs, ``int(gamma N)``, or distinct students ``ceil(gamma N)`` with option b."""
        return math.ceil(self.gamma * n_students - 1e-12) if "b" in self.letters else int(self.gamma * n_students)

    def mask_array(self, dim: int) -> np.ndarray:
        if self.mask is None:
            return np.ones(dim)
        require(len(self.mask) == dim, "mask", f"of length {dim} (incoming coordinates with the bias)",
                len(self.mask))
        return np.asarray(self.mask)

    def to_json(self) -> dict:
        variant = self.variant if isinstance(self.variant, str) and self.variant in NAMED \
            else "".join(sorted(self.letters))
        return {"gamma": self.gamma, "beta": self.beta, "linkage": self.linkage, "metric": self.metric,
                "variant": variant, "best_k": int(self.best_k),
                "mask": None if self.mask is None else list(self.mask)}
