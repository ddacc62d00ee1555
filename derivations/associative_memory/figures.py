"""Figures of ``am-margins``: margins against log t with the derived laws, and eta t L against t."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.associative_memory.laws import MarginLaws
from gradflow.derivations.report import pyplot


def margins(experiment, a: dict, laws: MarginLaws):
    """One panel per eta (simulated margins, the log law dashed, the uniform approximation dotted) and
    the flow against its Lambert form."""
    plt = pyplot()
    N, p, t = experiment.N, a["p"], a["t"]
    colors = plt.cm.viridis(np.linspace(0, 0.9, N))
    fig, axes = plt.subplots(1, len(experiment.etas) + 1, figsize=(4.2 * (len(experiment.etas) + 1), 3.6),
                             sharey=False)
    for ax, eta in zip(axes, experiment.etas):
        m = a[f"margins_eta{eta:g}"]
        for x in range(N):
            ax.plot(t[1:], m[1:, x], color=colors[x], lw=1.6, label=f"p={p[x]:.2f}")
            ax.plot(t[1:], laws.gd_law(t[1:], p[x], eta), color=colors[x], ls="--", lw=0.8)
            ax.plot(t[1:], laws.uniform(t[1:], p[x], eta), color="k", ls=":", lw=0.7)
        ax.set_xscale("log")
        ax.set_title(rf"GD, $\eta$ = {eta:g}")
        ax.set_xlabel("step t")
    axes[0].set_ylabel("margin m(x)")
    axes[0].legend(fontsize=7, title=f"solid: simulated\ndashed: {laws.gd_law_text()}\n"
                                     f"dotted: {laws.uniform_text()}", title_fontsize=7)
    ax = axes[-1]
    lt = a["long_t"][1:]
    for x in range(N):
        ax.plot(lt, a["long_margins"][1:, x], color=colors[x], lw=1.6)
        ax.plot(lt, a["lambert_long"][1:, x], color="k", ls=":", lw=0.8)
    ax.plot(a["flow_t"][1:], a["flow_margins"][1:, 0], "o", ms=2.5, color="tab:red", label="full logit flow (x=0)")
    ax.set_xscale("log")
    ax.set_title("gradient flow vs Lambert form")
    ax.set_xlabel("time t")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def eta_t_loss(experiment, a: dict, laws: MarginLaws):
    """eta t L(W_t) for every eta, approaching the derived limit N(M-1)/M."""
    plt = pyplot()
    t = a["t"]
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    for eta in experiment.etas:
        ax.plot(t[1:], eta * t[1:] * a[f"loss_eta{eta:g}"][1:], lw=1.6, label=rf"$\eta$ = {eta:g}")
    ax.axhline(laws.eta_t_loss_limit(experiment.N), color="k", ls="--", lw=1, label=laws.loss_limit_text)
    ax.set_xscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel(r"$\eta\, t\, L(W_t)$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
