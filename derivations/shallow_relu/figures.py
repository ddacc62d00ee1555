"""Figures of the reproductions: the training curve with its plateaus and the neurons, one file each
(relu-exp-a/b/c), and the first escape times against ln(1/sigma) with the fitted line (relu-sigma-sweep)."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.figure_style import legend
from gradflow.derivations.report import pyplot


def training_loss(name: str, run, analysed: list):
    """Loss with the plateaus (shaded behind the curve) and, per plateau, a dotted line at its exact loss whose
    legend entry gives the value and the classification; iterations on a log axis (the plateaus span decades)."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.8)
    shown = run.loss_iterations >= 1  # the log axis starts at iteration 1
    ax.loglog(run.loss_iterations[shown], run.loss[shown], lw=1, color="k", zorder=3, label="loss $L$")
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, max(1, len(analysed))))
    for k, (p, color) in enumerate(zip(analysed, colors)):
        ax.axvspan(max(p["start"], 1), max(p["end"], 1), color=color, alpha=0.12, lw=0, zorder=0)
        value = p["loss_exact"] or f"{p['loss']:.4g}"
        level = p["loss_exact_float"] if p["loss_exact_float"] is not None else p["loss"]
        ax.axhline(level, color=color, ls=":", lw=1.0, zorder=2,
                   label=f"plateau {k + 1}: {value} ({p['classification']})")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss $L$")
    ax.set_title(f"{name}: loss and plateaus")
    fig.set_layout_engine("constrained")  # room below the axes for the legend, whatever its length
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center")
    return fig


def _neurons(it, values, ylabel: str, log: bool = False):
    """One curve per neuron (numbered from 0, as in the reports) over the iterations, on a log axis."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.75)
    shown = np.asarray(it) >= 1  # the log axis starts at iteration 1
    lines = ax.plot(np.asarray(it)[shown], np.asarray(values)[shown], lw=0.6)
    ax.set_xscale("log")
    if log:
        ax.set_yscale("log")
    for line in lines:
        line.set_label(f"neurons $i = 0, \\dots, {len(lines) - 1}$")
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
