"""Figures of the clustering phase: the dendrogram with its cut, the distance matrix in leaf order, the
big-cluster count against the cut height, the alignment of each cluster, and the teacher comparison.

Each function takes a ``LayerClustering`` or a ``TeacherComparison`` and returns a matplotlib Figure,
also written to ``path`` when one is given."""

from __future__ import annotations

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

from gradflow.derivations.report import pyplot
from gradflow.numerics.expand_cluster.hierarchy import condensed_distances

CUT_STYLE = {"color": "tab:orange", "ls": "--", "lw": 1.2}
# kept clusters green; dropped as too small (members or students) blue, as unaligned red, others purple
VERDICT_COLORS = {None: "tab:green", "small": "tab:blue", "few_students": "tab:blue", "unaligned": "tab:red",
                  "no_best5": "tab:purple", "cancelled": "tab:purple", "negligible": "tab:purple",
                  "merged": "tab:olive"}
ABOVE_CUT = "0.55"
D_FLOOR = 1e-6  # the comparison's log axis starts here; smaller dissimilarities sit on it


def _finish(fig, path, after_layout=None):
    """Lay ``fig`` out, then call ``after_layout`` (a legend under the axes: the saved bounding box grows to
    hold it, the axes keep their size), and save it to ``path`` when one is given."""
    fig.tight_layout()
    if after_layout is not None:
        after_layout()
    if path is not None:
        fig.savefig(path, dpi=150, bbox_inches="tight")
    return fig


def _verdicts(clustering) -> dict:
    """Flat-cluster label at the cut -> its report (labels and reports share the sorted label order)."""
    return dict(zip(np.unique(clustering.cut.labels).tolist(), clustering.clusters))


def _node_labels(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Flat label of every dendrogram node whose leaves share one, else -1."""
    n = len(labels)
    node = np.concatenate([labels, -np.ones(n - 1, dtype=int)])
    for t, (left, right) in enumerate(Z[:, :2].astype(int)):
        node[n + t] = node[left] if node[left] == node[right] else -1
    return node


VERDICT_ENTRIES = [("kept", {"color": "tab:green"}), ("too small", {"color": "tab:blue"}),
                   ("unaligned", {"color": "tab:red"}), ("other drop", {"color": "tab:purple"})]


def _legend(ax, entries, **kwargs):
    """A legend of proxy lines: (name, Line2D style) for colours that stand for verdicts."""
    from matplotlib.lines import Line2D
    ax.legend([Line2D([], [], **style) for _, style in entries], [name for name, _ in entries],
              **{"loc": "upper right", **kwargs})


def dendrogram(clustering, path=None):
    """The hierarchy with the cut h* (orange, dashed); clusters kept (green), dropped as too small (blue),
    unaligned (red) or for another reason (purple); links above the cut grey."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=2, aspect=0.45)
    Z = clustering.linkage
    node = _node_labels(Z, clustering.cut.labels)
    verdicts = _verdicts(clustering)

    def color(k: int) -> str:
        return ABOVE_CUT if node[k] < 0 else VERDICT_COLORS[verdicts[node[k]].reason]

    hierarchy.dendrogram(Z, ax=ax, link_color_func=color, no_labels=True)
    cut = f"cut $h^* = {clustering.cut_height:.3g}$"
    ax.axhline(clustering.cut_height, **CUT_STYLE, label=cut)
    positive = Z[Z[:, 2] > 0, 2]
    if positive.size and positive.max() > 1e3 * positive.min():  # tight clusters would sit flat on zero
        ax.set_yscale("symlog", linthresh=float(positive.min()))
    ax.set_xlabel(f"student neurons ({len(clustering.points)})")
    ax.set_ylabel("merge height")
    return _finish(fig, path, lambda: _legend(ax, VERDICT_ENTRIES + [(cut, CUT_STYLE)], loc="upper center",
                                              bbox_to_anchor=(0.5, -0.1), ncols=5))


def distance_matrix(clustering, path=None):
    """Pairwise distances of the (masked, canonical) vectors in dendrogram leaf order, log colour."""
    from matplotlib.colors import LogNorm

    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.85)
    D = squareform(condensed_distances(clustering.features.masked[clustering.points], clustering.options.metric))
    order = hierarchy.leaves_list(clustering.linkage)
    D = D[np.ix_(order, order)]
    positive = D[D > 0]
    low = max(float(positive.min()) if positive.size else 1.0, 1e-16)
    high = max(float(D.max()), low * 10)
    image = ax.imshow(np.clip(D, low, high), norm=LogNorm(low, high), cmap="viridis", interpolation="nearest")
    fig.colorbar(image, ax=ax, label=f"{clustering.options.metric} distance")
    ax.set_xlabel("student neuron (leaf order)")
    ax.set_ylabel("student neuron (leaf order)")
    return _finish(fig, path)


def cluster_counts(clustering, path=None):
    """Number of big clusters against the cut height (log axis), with the chosen cut h*."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1)
    heights = np.asarray(clustering.heights)
    positive = heights[heights > 0]
    floor = float(positive.min()) / 2 if positive.size else 1e-16
    ax.step(np.maximum(heights, floor), clustering.counts, where="post", color="black", label="big clusters")
    ax.set_xscale("log")
    ax.axvline(max(clustering.cut_height, floor), **CUT_STYLE, label=f"cut $h^* = {clustering.cut_height:.3g}$")
    ax.set_xlabel("cut height $h$")
    ax.set_ylabel(f"clusters with >= {clustering.cut.min_size} " + ("students" if "b" in clustering.options.letters
                                                                     else "members"))
    ax.legend()
    return _finish(fig, path)


def alignment_bars(clustering, path=None):
    """Median pairwise cosine distance of every cluster of two or more members at the cut, coloured by
    verdict, with the threshold 1 - cos beta."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.85)
    shown = [c for c in clustering.clusters if c.size >= 2]
    values = [max(c.median_cosine_distance, 1e-16) for c in shown]
    ax.bar(range(len(shown)), values, color=[VERDICT_COLORS[c.reason] for c in shown])
    ax.set_yscale("log")
    threshold = {"color": "black", "ls": "--", "lw": 1.0}
    threshold_label = rf"$1 - \cos\beta = {clustering.options.max_cosine_distance:.3g}$"
    ax.axhline(clustering.options.max_cosine_distance, **threshold, label=threshold_label)
    ax.set_xticks(range(len(shown)), [str(c.size) for c in shown])
    ax.set_xlabel("cluster (tick: members)")
    ax.set_ylabel("median cosine distance")
    return _finish(fig, path, lambda: _legend(ax, VERDICT_ENTRIES + [(threshold_label, threshold)], loc="upper center",
                                              bbox_to_anchor=(0.5, -0.2), ncols=2))


def matched_weights(comparison, path=None):
    """Teacher against matched reconstructed weights: canonical [w; b] entries and outgoing weights."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, columns=2, aspect=0.45)
    for ax, teacher, matched, title in ((left, comparison.teacher_vectors, comparison.matched_vectors, "[w; b]"),
                                        (right, comparison.teacher_outgoing, comparison.matched_outgoing, "a")):
        t, m = np.ravel(teacher), np.ravel(matched)
        ax.scatter(t, m, s=12, label="matched entries")
        span = [min(t.min(), m.min()), max(t.max(), m.max())] if t.size else [0.0, 1.0]
        ax.plot(span, span, color="grey", lw=0.8, label="$y = x$")
        ax.set_xlabel(f"teacher {title}")
        ax.set_ylabel(f"reconstructed {title}")
        ax.legend(loc="upper left")
    return _finish(fig, path)


def match_distances(comparison, path=None):
    """d_j (incoming) and the outgoing dissimilarity of every teacher neuron's match, log axis 1e-6..1
    (values below it marked by a triangle on the axis), with the 1e-3 success line."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.85)
    j = np.arange(len(comparison.d_w))
    for shift, values, label, color in ((-0.2, comparison.d_w, "incoming $d_j$", "tab:blue"),
                                        (0.2, comparison.d_a, "outgoing", "tab:orange")):
        values = np.asarray(values)
        ax.bar(j + shift, np.clip(values, D_FLOOR, 1.0), width=0.4, label=label, color=color)
        low = values <= D_FLOOR  # bars below the axis: a marker on it instead
        ax.plot(j[low] + shift, np.full(low.sum(), D_FLOOR * 1.5), "v", color=color, ms=5,
                label=f"{label} below $10^{{-6}}$")
    ax.axhline(1e-3, color="grey", ls=":", lw=1.0, label="success line $10^{-3}$")
    ax.set_yscale("log")
    ax.set_ylim(D_FLOOR, 1.0)
    ax.set_xticks(j, [str(k) for k in comparison.order])
    ax.set_xlabel("teacher neuron (by outgoing norm)")
    ax.set_ylabel(r"dissimilarity $1 - |\cos|$")
    ax.legend()
    return _finish(fig, path)
