"""Figures of ``am-underparam`` (the worked instance and the SGD forgetting run) and ``am-large-memory``."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.binary_memory import geometry
from gradflow.derivations.report import pyplot


def underparam(experiment, wi, ce, best, a: dict):
    """Left: the worked instance with the CE minimizer's and the best 0-1 decision boundaries; right: L01 and
    the cross-entropy along SGD."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    ax = axes[0]
    Z = geometry.signed_points(wi.E, wi.labels)
    for k, (z, e) in enumerate(zip(Z, wi.E)):
        ax.plot(*e, "o", color="tab:blue" if wi.labels[k] == 0 else "tab:red", ms=6 + 30 * wi.p[k])
        ax.annotate(f"x={k}, p={wi.p[k]:.2f}", e, textcoords="offset points", xytext=(5, 5), fontsize=8)
        ax.plot(*z, "x", color="gray")
    for v, style, label in ((ce.v / np.linalg.norm(ce.v), "-", "CE minimizer"),
                            (best.direction, "--", "best 0-1 direction")):
        ax.arrow(0, 0, *v, color="k", ls=style, head_width=0.04, length_includes_head=True)
        normal = np.array([-v[1], v[0]])
        ax.plot(*np.c_[-1.3 * normal, 1.3 * normal], style, color="tab:green" if label.startswith("CE") else "tab:purple",
                label=f"{label} boundary")
    ax.set_aspect("equal")
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.4)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(f"worked instance: L01(CE) = {a['l01_ce']:.3f}, best = {a['l01_best']:.3f}\n"
                 "(blue: label 0, red: label 1; x: signed points)", fontsize=9)
    ax = axes[1]
    t = a["sgd_t"]
    ax.plot(t[1:], a["sgd_l01"][1:], lw=1.2, label="L01 along SGD")
    ax.axhline(a["sgd_l01_best"], color="tab:purple", ls="--", label="best 0-1 error")
    ax.axhline(a["sgd_l01_ce"], color="tab:green", ls=":", label="L01 of the CE minimizer")
    ax.set_xscale("log")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("0-1 error")
    twin = ax.twinx()
    twin.plot(t[1:], a["sgd_loss"][1:], color="k", lw=0.8, alpha=0.6, label="cross-entropy")
    twin.axhline(a["sgd_ce_loss"], color="k", ls=":", lw=0.8)
    twin.set_ylabel("cross-entropy (black)")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"SGD (batch {experiment.batch}, eta {experiment.eta:g}), N = {experiment.sgd_N}, "
                 f"seed {experiment.seed}", fontsize=9)
    fig.tight_layout()
    return fig


def large_memory_loss(experiment, a: dict):
    """L and eta t L against t, one column per d, one curve per eta."""
    plt = pyplot()
    t = a["t"][1:]
    fig, axes = plt.subplots(2, len(experiment.dims), figsize=(4.2 * len(experiment.dims), 7), sharex=True,
                             squeeze=False)
    for i, d in enumerate(experiment.dims):
        for k, eta in enumerate(experiment.etas):
            axes[0, i].plot(t, a["loss"][i, k, 1:], lw=1.1, label=rf"$\eta$ = {eta:g}")
            axes[1, i].plot(t, eta * t * a["loss"][i, k, 1:], lw=1.1, label=rf"$\eta$ = {eta:g}")
        axes[0, i].set_yscale("log")
        axes[0, i].set_title(f"d = {d}")
        axes[1, i].set_xlabel("step t")
        for ax in axes[:, i]:
            ax.set_xscale("log")
    axes[0, 0].set_ylabel("loss L(W_t)")
    axes[1, 0].set_ylabel(r"$\eta\, t\, L(W_t)$")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def large_memory_margins(experiment, a: dict):
    """Every margin against t, one panel per (d, eta)."""
    plt = pyplot()
    t = a["t"][1:]
    dims, etas = experiment.dims, experiment.etas
    fig, axes = plt.subplots(len(dims), len(etas), figsize=(3.6 * len(etas), 2.8 * len(dims)), sharex=True,
                             squeeze=False)
    for i, d in enumerate(dims):
        for k, eta in enumerate(etas):
            ax = axes[i, k]
            for x in range(experiment.N):
                ax.plot(t, a["margins"][i, k, 1:, x], lw=0.9, label=f"x={x}, p={a['p'][x]:.2f}")
            ax.axhline(0, color="k", lw=0.5)
            ax.set_xscale("log")
            ax.set_title(rf"d = {d}, $\eta$ = {eta:g}", fontsize=9)
    axes[0, 0].legend(fontsize=6)
    fig.tight_layout()
    return fig
