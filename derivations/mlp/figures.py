"""Figures of ``mlp-teacher-student``: loss curves on log-log axes, trajectory distances to the flow."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.report import pyplot

COLORS = {"flow": "black", "gd": "tab:blue", "sgd": "tab:orange", "adam": "tab:green"}


def draw_loss_curves(ax, runs: dict, colors: dict, reference: str) -> None:
    """runs[name] = {"time", "loss"} on log-log axes (positive values); the reference run drawn thicker."""
    for name, run in runs.items():
        t, loss = np.asarray(run["time"]), np.asarray(run["loss"])
        keep = (t > 0) & (loss > 0)
        ax.loglog(t[keep], loss[keep], label=name, color=colors.get(name), lw=1.5 if name == reference else 1.0)


def loss_curves(runs: dict):
    plt = pyplot()
    fig, ax = plt.subplots(columns=1)
    draw_loss_curves(ax, runs, COLORS, "flow")
    ax.set_xlabel(r"time $t$ (flow) or lr $\times$ steps")
    ax.set_ylabel("loss $L$")
    ax.legend()
    fig.tight_layout()
    return fig


def draw_distance(ax, d, label: str, color, style: str = "-") -> None:
    """One TrajectoryDistance against the reference run's time, on log-log axes."""
    t = np.asarray(d.reference_times)
    keep = t > 0
    ax.loglog(t[keep], np.maximum(d.distances[keep], 1e-300), style, color=color, label=label)


def trajectory_distances(distances: dict):
    plt = pyplot()
    fig, ax = plt.subplots(columns=1)
    for name, d in distances.items():
        draw_distance(ax, d, name, COLORS.get(name))
    ax.set_xlabel("flow time $t$ of the matching point")
    ax.set_ylabel(r"$|\theta - \theta_{flow}|^2 / 2P$")
    ax.legend()
    fig.tight_layout()
    return fig
