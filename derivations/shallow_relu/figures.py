"""Figures of the reproductions: the training curve with its plateaus and the neurons, one file each
(relu-exp-a/b/c), and the first escape times against ln(1/sigma) with the fitted line (relu-sigma-sweep)."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.figure_style import legend
from gradflow.derivations.report import pyplot


def training_loss(name: str, run, analysed: list):
    """Loss with the plateaus: shaded below the curve, dotted at their exact values, annotated with their
    classification."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.8)
    ax.semilogy(run.loss_iterations, run.loss, lw=1, color="tab:blue", zorder=3, label="loss $L$")
    for p in analysed:
        ax.axvspan(p["start"], p["end"], color="tab:orange", alpha=0.15, lw=0, zorder=0, label="plateau")
        if p["loss_exact_float"] is not None:
            ax.axhline(p["loss_exact_float"], color="k", ls=":", lw=0.8, zorder=2, label="exact plateau loss")
        ax.annotate(f"{p['loss_exact'] or round(p['loss'], 6)}\n{p['classification']}", (p["start"], p["loss"]),
                    xytext=(0, 6), textcoords="offset points", fontsize=8, va="bottom")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss $L$")
    ax.set_title(f"{name}: loss and plateaus")
    legend(ax, loc="lower left")
    fig.tight_layout()
    return fig


def _neurons(it, values, ylabel: str, log: bool = False):
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.75)
    lines = ax.semilogy(it, values, lw=0.6) if log else ax.plot(it, values, lw=0.6)
    for line in lines:
        line.set_label(f"neurons $i = 1, \\dots, {len(lines)}$")
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    legend(ax, loc="best")
    fig.tight_layout()
    return fig


def training(name: str, run, analysed: list, observables, dataset) -> dict:
    """stem -> figure: ``training`` (loss and plateaus), ``neuron_angles``, ``neuron_norms``, ``neuron_outputs``."""
    it = run.snapshot_iterations
    angle = "neuron angle (deg)" if dataset.X.shape[1] == 2 else "neuron azimuth (deg)"
    output = r"output weight $h_i$" if dataset.Y.shape[1] == 1 else r"output weight $h_{i,1}$"
    return {"training": training_loss(name, run, analysed),
            "neuron_angles": _neurons(it, observables.angle_deg, angle),
            "neuron_norms": _neurons(it, np.maximum(observables.w_norm, 1e-300), r"$\|w_i\|$", log=True),
            "neuron_outputs": _neurons(it, observables.h[..., 0], output)}


def escape_times(sigmas, measured, fit):
    """Measured first escape times against ln(1/sigma) with the least-squares line (the result: its slope) and
    the derived slope 1/(2 lambda*) drawn through the same centre (the law fixes the slope, not the O(1) term)."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.8)
    logs = np.log(1 / np.asarray(sigmas))
    measured = np.asarray(measured)
    ax.plot(logs, measured, "o", label="measured")
    grid = np.linspace(logs.min() - 0.05 * np.ptp(logs), logs.max() + 0.05 * np.ptp(logs), 50)
    ax.plot(grid, fit.slope * grid + fit.intercept, "-", color="tab:blue", lw=1,
            label=f"least-squares fit, slope {fit.slope:.3g}")
    centre_x, centre_y = logs.mean(), measured.mean()
    ax.plot(grid, centre_y + fit.predicted_slope * (grid - centre_x), "k--", lw=1,
            label=rf"derived slope $1/(2\lambda^*) = {fit.predicted_slope:.3g}$")
    ax.set_xlabel(r"$\ln(1/\sigma)$")
    ax.set_ylabel(r"first escape time $T_1$ (lr $\times$ iterations)")
    legend(ax)
    fig.tight_layout()
    return fig
