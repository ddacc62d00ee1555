"""Figures of ``mlp-gaussian``: loss curves of the three data kinds per teacher, trajectory distances
of the quadrature and sample runs to the population run."""

from __future__ import annotations

from gradflow.derivations.mlp.figures import draw_distance, draw_loss_curves
from gradflow.derivations.report import pyplot

COLORS = {"population": "black", "hermite": "tab:blue", "samples": "tab:orange"}


def loss_curves(runs: dict):
    """runs[teacher][kind] = {"time", "loss"}: one log-log panel per teacher."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(runs), columns=1 if len(runs) == 1 else 2, aspect=0.75 if len(runs) == 1 else 0.42,
                             squeeze=False)
    for ax, (teacher, kinds) in zip(axes[0], runs.items()):
        draw_loss_curves(ax, kinds, COLORS, "population")
        ax.set_title(f"{teacher} teacher")
        ax.set_xlabel("flow time $t$")
        ax.set_ylabel("loss $L$ (each on its own data)")
        ax.legend()
    fig.tight_layout()
    return fig


def trajectory_distances(distances: dict):
    """distances[teacher][kind] = TrajectoryDistance to the population run."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.85)
    styles = ("-", "--", ":")
    for style, (teacher, kinds) in zip(styles, distances.items()):
        for kind, d in kinds.items():
            draw_distance(ax, d, f"{teacher}: {kind}", COLORS.get(kind), style)
    ax.set_xlabel("flow time $t$ of the matching point (population)")
    ax.set_ylabel(r"$|\theta - \theta_{population}|^2 / 2P$")
    ax.legend()
    fig.tight_layout()
    return fig
