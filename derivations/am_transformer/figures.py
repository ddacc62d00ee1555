"""Figures of ``am-transformer``: losses per step (all and copy positions) and memory margins of W_O^2."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.figure_style import legend
from gradflow.derivations.report import pyplot


def run_key(mode: str, d: int, eta: float) -> str:
    """The name of a run's arrays: e.g. ``loss_wo2_d64_eta20``."""
    return f"{mode}_d{d}_eta{eta:g}"


def _groups(configs) -> dict:
    groups = {}
    for mode, d, eta in configs:
        groups.setdefault((mode, d), []).append(eta)
    return groups


def _title(mode: str, d: int) -> str:
    return f"train $W_O^2$ only, $d = {d}$" if mode == "wo2" else f"train all, $d = {d}$"


def losses(a: dict, configs, thresholds):
    """Loss on all positions (top) and on copy positions (bottom) per eta, log scale."""
    plt = pyplot()
    groups = _groups(configs)
    step = a["step"]
    fig, axes = plt.subplots(2, len(groups), columns=1 if len(groups) == 1 else 2, height=4.8, sharex=True,
                             squeeze=False)
    for j, ((mode, d), etas) in enumerate(groups.items()):
        colors = plt.cm.plasma(np.linspace(0, 0.85, len(etas)))
        for c, eta in zip(colors, etas):
            key = run_key(mode, d, eta)
            axes[0, j].plot(step, a[f"loss_{key}"], color=c, lw=1.2, label=rf"$\eta = {eta:g}$")
            axes[1, j].plot(step, a[f"copy_loss_{key}"], color=c, lw=1.2, label=rf"$\eta = {eta:g}$")
        for th in thresholds:
            axes[1, j].axhline(th, color="k", ls=":", lw=0.8, label="copy-loss thresholds")
        for ax, lab in ((axes[0, j], "loss (all positions, nats)"), (axes[1, j], "loss (copy positions, nats)")):
            ax.set_yscale("log")
            ax.set_ylabel(lab)
            legend(ax)
        axes[1, j].set_xlabel("SGD step")
        axes[0, j].set_title(_title(mode, d))
    fig.tight_layout()
    return fig


def margins(a: dict, configs):
    """Mean memory margin of W_O^2 per eta (thick) and the margins of three trigger tokens (thin)."""
    plt = pyplot()
    groups = _groups(configs)
    step = a["step"]
    fig, axm = plt.subplots(1, len(groups), columns=1 if len(groups) == 1 else 2, height=3.0, squeeze=False)
    for j, ((mode, d), etas) in enumerate(groups.items()):
        colors = plt.cm.plasma(np.linspace(0, 0.85, len(etas)))
        for c, eta in zip(colors, etas):
            m = a[f"margins_{run_key(mode, d, eta)}"]
            axm[0, j].plot(step, m.mean(axis=1), color=c, lw=1.4, label=rf"$\eta = {eta:g}$, mean")
            trig = a["triggers"]
            for y in range(min(3, m.shape[1])):
                axm[0, j].plot(step, m[:, trig[y] if y < len(trig) else y], color=c, lw=0.5, alpha=0.6,
                               label=rf"$\eta = {eta:g}$, 3 triggers")
        axm[0, j].set_title(_title(mode, d))
        axm[0, j].set_xlabel("SGD step")
        axm[0, j].set_ylabel("memory margin of $W_O^2$")
        axm[0, j].axhline(0, color="k", lw=0.6, label="zero margin")
        legend(axm[0, j])
    fig.tight_layout()
    return fig
