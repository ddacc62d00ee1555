"""Figures of the reproductions: the training curve with its plateaus and the neurons (relu-exp-a/b/c),
and the first escape times against ln(1/sigma) (relu-sigma-sweep)."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.report import pyplot


def training(name: str, run, analysed: list, observables, dataset):
    """Loss with the plateaus (shaded; dotted: exact plateau values, annotated with their
    classification), neuron angles, ||w_i|| and h_i over iterations."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(20, 4.2))
    ax = axes[0]
    ax.semilogy(run.loss_iterations, run.loss, lw=1)
    for p in analysed:
        ax.axvspan(p["start"], p["end"], color="tab:orange", alpha=0.15)
        if p["loss_exact_float"] is not None:
            ax.axhline(p["loss_exact_float"], color="k", ls=":", lw=0.8)
        ax.annotate(f"{p['loss_exact'] or round(p['loss'], 6)}\n{p['classification']}", (p["start"], p["loss"]),
                    fontsize=7, va="bottom")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(f"{name}: loss and plateaus")
    it = run.snapshot_iterations
    axes[1].plot(it, observables.angle_deg, lw=0.6)
    axes[1].set_title("neuron angles (deg)" if dataset.X.shape[1] == 2 else "neuron azimuth (deg)")
    axes[2].semilogy(it, np.maximum(observables.w_norm, 1e-300), lw=0.6)
    axes[2].set_title(r"$\|w_i\|$")
    axes[3].plot(it, observables.h[..., 0], lw=0.6)
    axes[3].set_title(r"$h_i$" if dataset.Y.shape[1] == 1 else r"$h_{i,1}$")
    for a in axes[1:]:
        a.set_xlabel("iteration")
    fig.tight_layout()
    return fig


def escape_times(sigmas, measured, fit):
    """Measured first escape times against ln(1/sigma), with the predicted line of slope
    ``fit.predicted_slope`` = 1/(2 lambda*) through the origin."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    logs = np.log(1 / sigmas)
    ax.plot(logs, measured, "o", label="measured")
    grid = np.linspace(0, logs.max() * 1.05, 50)
    ax.plot(grid, fit.predicted_slope * grid, "k--", label=r"$\ln(1/\sigma)/(2\lambda^*)$")
    ax.set_xlabel(r"$\ln(1/\sigma)$")
    ax.set_ylabel("first escape time (lr x iterations)")
    ax.legend()
    return fig
