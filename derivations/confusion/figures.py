"""Figures of the confusion reproductions; each reads the summary (seed means) or one seed's raw scores."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.figure_style import legend
from gradflow.derivations.report import pyplot


def _mean(node):
    """Seed means; where the bins differ between seeds (merged empty bins), the first seed's values."""
    return np.asarray(node["mean"] if node["mean"] is not None else node["per_seed"][0], dtype=float)


def _grid(plt, panels: int, row_height: float = 2.5):
    """Panels two to a row across the page (one column for a single panel); unused cells hidden."""
    cols = 1 if panels == 1 else 2
    rows = -(-panels // cols)
    fig, axes = plt.subplots(rows, cols, columns=cols, height=row_height * rows, squeeze=False)
    for ax in axes.ravel()[panels:]:
        ax.set_visible(False)
    return fig, axes.ravel()[:panels]


def per_bin_accuracy(shifts: dict):
    """Per shift: ID and OOD accuracy per bin (lines) over the bin masses (bars), seed means."""
    plt = pyplot()
    fig, axes = _grid(plt, len(shifts))
    for ax, (shift, rec) in zip(axes, shifts.items()):
        bins = rec["bins"]
        pi_id, pi_ood = _mean(bins["pi_id"]), _mean(bins["pi_ood"])
        b = np.arange(pi_id.size)
        mass = ax.twinx()
        mass.bar(b - 0.2, pi_id, 0.4, color="tab:blue", alpha=0.25, label=r"$\pi^{ID}$")
        mass.bar(b + 0.2, pi_ood, 0.4, color="tab:red", alpha=0.25, label=r"$\pi^{OOD}$")
        mass.set_ylabel(r"bin mass $\pi_b$")
        ax.plot(b, _mean(bins["acc_id"]), "o-", color="tab:blue", label="ID accuracy")
        ax.plot(b, _mean(bins["acc_ood"]), "s-", color="tab:red", label="OOD accuracy")
        ax.set_zorder(mass.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("confusion-score bin $b$ (low to high)")
        ax.set_ylabel("accuracy $A_b$")
        ax.set_title(shift)
        legend(ax, mass, loc="lower left", ncols=2)
    fig.tight_layout()
    return fig


def score_histograms(raw: dict, score: str):
    """The score on the ID test set against each shifted set (one seed)."""
    plt = pyplot()
    shifts = [k for k in raw if k != "id"]
    fig, axes = _grid(plt, len(shifts), row_height=2.3)
    top = max(float(np.max(v)) for v in raw.values())
    edges = np.linspace(0.0, top if top > 0 else 1.0, 31)
    for ax, shift in zip(axes, shifts):
        ax.hist(raw["id"], edges, density=True, alpha=0.5, label="ID test")
        ax.hist(raw[shift], edges, density=True, alpha=0.5, label=shift)
        ax.set_xlabel(f"confusion score ({score})")
        ax.set_ylabel("density")
        ax.set_yscale("log")
        ax.legend()
    fig.tight_layout()
    return fig


def predicted_vs_true(shifts: dict):
    """Estimated and naive OOD accuracy against the true one, over (model, shift), seed means; y = x."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.9)
    markers = "osD^v<>p*h"
    lows = []
    for (shift, rec), marker in zip(shifts.items(), markers):
        models = rec["models"]
        true = [models[m]["acc_ood"]["mean"] for m in models]
        ax.scatter(true, [models[m]["estimate"]["mean"] for m in models], marker=marker, color="tab:blue",
                   label=f"estimate, {shift}")
        ax.scatter(true, [models[m]["naive"]["mean"] for m in models], marker=marker, facecolors="none",
                   edgecolors="tab:grey", label=f"naive (ID accuracy), {shift}")
        lows += true
    low = min(lows) - 0.05
    ax.plot([low, 1], [low, 1], "k--", lw=0.8, label="$y = x$")
    ax.set_xlabel("true OOD accuracy")
    ax.set_ylabel("predicted OOD accuracy")
    fig.tight_layout()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=1)  # below: the saved bounding box holds it
    return fig


def gap_closed_vs_B(shifts: dict):
    """Gap closed against the number of bins, mean and std over seeds, one line per shift."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1)
    for shift, rec in shifts.items():
        by_B = rec["gap_closed_by_B"]
        Bs = sorted(by_B, key=int)
        ax.errorbar([int(b) for b in Bs], [by_B[b]["mean"] for b in Bs], [by_B[b]["std"] for b in Bs], marker="o",
                    capsize=3, label=shift)
    ax.axhline(0.0, color="grey", lw=0.8, label="no gap closed")
    ax.set_xlabel("bins $B$")
    ax.set_ylabel("gap closed (fraction)")
    ax.legend()
    fig.tight_layout()
    return fig


def image_grid(examples: dict, per_row: int = 8):
    """Example 8x8 images, one row per set (ID test and each shifted set)."""
    plt = pyplot()
    fig, axes = plt.subplots(len(examples), per_row, columns=2, height=len(examples) * 0.95, squeeze=False)
    for row, (name, (images, labels)) in zip(axes, examples.items()):
        for i, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            if i < len(images):
                ax.imshow(np.asarray(images[i]).reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
                ax.set_title(str(int(labels[i])))
        row[0].set_ylabel(name, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig
