"""Figures of ``am-landscape``, ``am-spike`` and ``am-phase``."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.figure_style import DOUBLE_COLUMN, SINGLE_COLUMN, legend
from gradflow.derivations.report import pyplot
from gradflow.derivations.two_particle.instances import Instance
from gradflow.derivations.two_particle.laws import TwoParticleLaws
from gradflow.derivations.two_particle.observables import landscape

SPIKE_COLORS = ("tab:red", "tab:blue", "tab:green")  # one per step size of am-spike


def draw_landscape(ax, theta, loss_over_n, l01, inst: Instance, levels=12):
    """L/N contours over L01 shading on the (theta_1, theta_2) grid, the two decision lines and an arrow
    along eps^T E = e_1 - e_2 (opposite labels), the max-margin direction (named in the legend by an empty
    line of its colour)."""
    lim = theta[-1]
    ax.pcolormesh(theta, theta, l01.T, cmap="Greys", vmin=0.0, vmax=1.6, shading="nearest", rasterized=True)
    finite = loss_over_n[np.isfinite(loss_over_n)]
    lv = np.unique(np.quantile(finite, np.linspace(0.02, 0.98, levels)))
    cs = ax.contour(theta, theta, loss_over_n.T, levels=lv, cmap="viridis", linewidths=0.9)
    ax.clabel(cs, cs.levels[::3], fontsize=8, fmt="%.2g")
    for x, style in zip(range(2), ("-", "--")):
        e = inst.E[x]
        normal = np.array([-e[1], e[0]])  # <v, e_x> = 0
        ax.plot([-lim * normal[0] * 2, lim * normal[0] * 2], [-lim * normal[1] * 2, lim * normal[1] * 2], "k", ls=style,
                lw=0.7, label=rf"$\langle v, e_{x + 1}\rangle = 0$")
    direction = inst.eps @ inst.E
    direction = direction / max(np.linalg.norm(direction), 1e-300) * 0.8 * lim
    ax.annotate("", xy=direction, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 1.2})
    ax.plot([], [], color="tab:red", lw=1.2, label="max-margin direction")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")


def landscape_panels(experiment, a: dict):
    """One panel per (lim, alpha): rows lims, columns alphas."""
    plt = pyplot()
    rows, cols = len(experiment.lims), len(experiment.alphas)
    columns = 1 if cols == 1 else 2
    width = SINGLE_COLUMN if cols == 1 else DOUBLE_COLUMN
    fig, axes = plt.subplots(rows, cols, columns=columns, height=width / cols * rows + 0.5, squeeze=False)
    for i, lim in enumerate(experiment.lims):
        for j, alpha in enumerate(experiment.alphas):
            ax = axes[i, j]
            draw_landscape(ax, a[f"theta_lim{lim:g}"], a[f"loss_over_N_lim{lim:g}"][j], a[f"l01_lim{lim:g}"][j],
                           Instance(experiment.p1, alpha, "opposite"))
            ax.set_title(rf"$\alpha = {alpha:g}$, $|\theta| \leq {lim:g}$")
    fig.suptitle(f"$L/N$ contours over $L_{{01}}$ shading (white: 0), $p_1 = {experiment.p1:g}$")
    fig.tight_layout()
    handles, labels = axes[0, 0].get_legend_handles_labels()  # one legend under the panels
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncols=min(3, len(labels)) if cols > 1 else 1)
    return fig


def spike(experiment, a: dict, laws: TwoParticleLaws):
    """Loss, L01, margins and sharpness (with 2/eta and S(0)) of each run against the step."""
    plt = pyplot()
    t = np.arange(experiment.steps + 1)
    fig, axes = plt.subplots(2, 2, columns=2, height=5.6)
    for i, eta in enumerate(experiment.etas):
        c = SPIKE_COLORS[i]
        axes[0, 0].plot(t, a["loss"][i], "o-", ms=2.5, color=c, label=rf"$\eta = {eta:g}$")
        axes[0, 1].step(t, a["l01"][i], where="post", color=c, label=rf"$\eta = {eta:g}$")
        axes[1, 0].plot(t, a["margins"][i][:, 0], "-", color=c, label=rf"$m_1$, $\eta = {eta:g}$")
        axes[1, 0].plot(t, a["margins"][i][:, 1], "--", color=c, label=rf"$m_2$, $\eta = {eta:g}$")
        axes[1, 1].plot(t, a["sharpness"][i], "o-", ms=2.5, color=c, label=rf"sharpness, $\eta = {eta:g}$")
        axes[1, 1].axhline(2 / eta, color=c, ls=":", lw=1, label=rf"$2/\eta = {2 / eta:g}$")
    s0 = float(laws.sharpness_at_zero(experiment.p1, experiment.alpha))
    axes[1, 1].axhline(s0, color="k", ls="--", lw=0.8, label=f"$S(0) = {s0:.3f}$")
    axes[0, 0].set_yscale("log")
    axes[0, 0].set_ylabel("loss $L$")
    axes[0, 1].set_ylabel("0-1 error $L_{01}$")
    axes[1, 0].axhline(0, color="k", lw=0.5, label="$m = 0$")
    axes[1, 0].set_ylabel("margins $m_1$, $m_2$")
    axes[1, 1].set_yscale("log")
    axes[1, 1].set_ylabel("sharpness $S$")
    for ax in axes.ravel():
        ax.set_xlabel("step $t$")
        legend(ax)
    threshold = float(laws.stability_threshold(experiment.p1, experiment.alpha))
    fig.suptitle(rf"$p_1 = {experiment.p1:g}$, $\alpha = {experiment.alpha:g}$: $2/S(0) = {threshold:.3f}$")
    fig.tight_layout()
    return fig


def spike_trajectories(experiment, a: dict, inst: Instance):
    """The runs as v_t = W_t^T (u_0 - u_1) over the landscape."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=1.15)
    vs = {eta: inst.v_from_margins(a["margins"][i]) for i, eta in enumerate(experiment.etas)}
    lim = 1.1 * max(np.abs(v).max() for v in vs.values())
    theta = np.linspace(-lim, lim, 161)
    loss_over_n, l01 = landscape(experiment.p1, experiment.alpha, theta)
    draw_landscape(ax, theta, loss_over_n, l01, inst, levels=15)
    for i, (eta, v) in enumerate(vs.items()):
        ax.plot(v[:, 0], v[:, 1], "o-", ms=2.5, lw=0.9, color=SPIKE_COLORS[i], label=rf"GD, $\eta = {eta:g}$")
    legend(ax, loc="upper left")
    ax.set_title(r"$v_t = W_t^T(u_0 - u_1)$ over $L/N$ and $L_{01}$")
    fig.tight_layout()
    return fig


def phase(a: dict, steps: int, laws: TwoParticleLaws):
    """One heat map of the first step with L01 = 0 per eta over (alpha, p1), with the dip boundary."""
    from matplotlib.colors import LogNorm

    plt = pyplot()
    fig, axes = plt.subplots(2, 5, columns=2, height=3.9, sharex=True, sharey=True)
    first = a["first_hit"]
    norm = LogNorm(vmin=1, vmax=steps - 1)
    image = None
    dip = np.linspace(a["p1"][0], a["p1"][-1], 100)
    for k, ax in enumerate(axes.ravel()):
        image = ax.pcolormesh(a["alpha"], a["p1"], np.maximum(first[:, :, k], 1), norm=norm, cmap="magma_r",
                              shading="nearest")
        ax.plot(laws.dip_threshold(dip), dip, "c--", lw=1, label=r"$\alpha = p_2/p_1$")
        ax.set_xlim(a["alpha"][0] - 0.03, a["alpha"][-1] + 0.03)
        ax.set_title(rf"$\eta = {a['eta'][k]:.2g}$")
        if k % 5 == 0:
            ax.set_ylabel("$p_1$")
        if k >= 5:
            ax.set_xlabel(r"$\alpha$")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower left")
    fig.colorbar(image, ax=axes, label=f"first step with $L_{{01}} = 0$ ({steps - 1}: never)")
    return fig
