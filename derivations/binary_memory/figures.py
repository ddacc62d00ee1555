"""Figures of ``am-underparam`` (the worked instance; the SGD forgetting run) and ``am-large-memory``."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.binary_memory import geometry
from gradflow.derivations.figure_style import DOUBLE_COLUMN, SINGLE_COLUMN, legend
from gradflow.derivations.report import pyplot


BELOW = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.2), "ncols": 1}  # under the x label, off the data


def _columns(panels: int) -> int:
    return 1 if panels == 1 else 2


def worked_instance(wi, ce, best, a: dict):
    """The worked instance (embeddings sized by p, signed points) with the CE minimizer's and the best 0-1
    decision boundaries."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=1.1)
    Z = geometry.signed_points(wi.E, wi.labels)
    for k, (z, e) in enumerate(zip(Z, wi.E)):
        label = wi.labels[k]
        ax.plot(*e, "o", color="tab:blue" if label == 0 else "tab:red", ms=4 + 20 * wi.p[k],
                label=f"embedding, label {label}")
        ax.annotate(f"$x = {k}$, $p = {wi.p[k]:.2f}$", e, textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.plot(*z, "x", color="gray", label="signed point")
    for v, style, label in ((ce.v / np.linalg.norm(ce.v), "-", "CE minimizer"),
                            (best.direction, "--", "best 0-1 direction")):
        ax.arrow(0, 0, *v, color="k", ls=style, head_width=0.04, length_includes_head=True)
        normal = np.array([-v[1], v[0]])
        ax.plot(*np.c_[-1.3 * normal, 1.3 * normal], style, color="tab:green" if label.startswith("CE") else "tab:purple",
                label=f"{label} boundary")
    ax.set_aspect("equal")
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.4)
    ax.set_xlabel("embedding coordinate 1")
    ax.set_ylabel("embedding coordinate 2")
    ax.set_title(f"$L_{{01}}$(CE) = {a['l01_ce']:.3f}, best = {a['l01_best']:.3f}")
    fig.tight_layout()
    legend(ax, **BELOW, markerscale=0.6)
    return fig


def sgd_forgetting(experiment, a: dict):
    """L01 along SGD with the best and the CE minimizer's 0-1 errors, and the cross-entropy (right axis)."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.85)
    t = a["sgd_t"]
    ax.plot(t[1:], a["sgd_l01"][1:], lw=1.2, label="$L_{01}$ along SGD")
    ax.axhline(a["sgd_l01_best"], color="tab:purple", ls="--", label="best 0-1 error")
    ax.axhline(a["sgd_l01_ce"], color="tab:green", ls=":", label="$L_{01}$ of the CE minimizer")
    ax.set_xscale("log")
    ax.set_xlabel("SGD step $t$")
    ax.set_ylabel("0-1 error $L_{01}$")
    twin = ax.twinx()
    twin.plot(t[1:], a["sgd_loss"][1:], color="k", lw=0.8, alpha=0.6, label="cross-entropy")
    twin.axhline(a["sgd_ce_loss"], color="k", ls=":", lw=0.8, label="cross-entropy of the CE minimizer")
    twin.set_ylabel("cross-entropy $L$")
    ax.set_title(rf"batch {experiment.batch}, $\eta = {experiment.eta:g}$, $N = {experiment.sgd_N}$, "
                 f"seed {experiment.seed}")
    fig.tight_layout()
    legend(ax, twin, **BELOW)
    return fig


def underparam(experiment, wi, ce, best, a: dict) -> dict:
    """stem -> figure: the worked instance and the SGD forgetting run, one file each."""
    return {"worked_instance": worked_instance(wi, ce, best, a), "sgd_forgetting": sgd_forgetting(experiment, a)}


def large_memory_loss(experiment, a: dict):
    """L and eta t L against t, one column per d, one curve per eta."""
    plt = pyplot()
    t = a["t"][1:]
    dims = experiment.dims
    fig, axes = plt.subplots(2, len(dims), columns=_columns(len(dims)), height=4.6, sharex=True, squeeze=False)
    for i, d in enumerate(dims):
        for k, eta in enumerate(experiment.etas):
            axes[0, i].plot(t, a["loss"][i, k, 1:], lw=1.1, label=rf"$\eta = {eta:g}$")
            axes[1, i].plot(t, eta * t * a["loss"][i, k, 1:], lw=1.1, label=rf"$\eta = {eta:g}$")
        axes[0, i].set_yscale("log")
        axes[0, i].set_title(f"$d = {d:g}$")
        axes[1, i].set_xlabel("step $t$")
        for ax in axes[:, i]:
            ax.set_xscale("log")
            legend(ax)
        axes[0, i].set_ylabel("loss $L(W_t)$")
        axes[1, i].set_ylabel(r"$\eta\, t\, L(W_t)$")
    fig.tight_layout()
    return fig


def large_memory_margins(experiment, a: dict):
    """Every margin against t, one panel per (d, eta)."""
    plt = pyplot()
    t = a["t"][1:]
    dims, etas = experiment.dims, experiment.etas
    width = SINGLE_COLUMN if len(etas) == 1 else DOUBLE_COLUMN
    fig, axes = plt.subplots(len(dims), len(etas), columns=_columns(len(etas)),
                             height=min(9.0, 0.8 * width / len(etas) * len(dims) + 0.8), sharex=True, squeeze=False)
    for i, d in enumerate(dims):
        for k, eta in enumerate(etas):
            ax = axes[i, k]
            for x in range(experiment.N):
                ax.plot(t, a["margins"][i, k, 1:, x], lw=0.9, label=f"$x = {x}$, $p = {a['p'][x]:.2f}$")
            ax.axhline(0, color="k", lw=0.5, label="$m = 0$")
            ax.set_xscale("log")
            ax.set_title(rf"$d = {d:g}$, $\eta = {eta:g}$")
            if i == len(dims) - 1:  # the x axis is shared: its tick labels sit on the bottom row only
                ax.set_xlabel("step $t$")
            ax.set_ylabel("margin $m(x)$")
    fig.tight_layout()
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=3)
    return fig
