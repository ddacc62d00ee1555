"""Figures of the Expand-and-Cluster reproductions: success and converged fraction against the width ratio."""

from __future__ import annotations

from gradflow.derivations.report import pyplot

MARKERS = {"code": "o-", "robust": "s--", "robust+fg": "^-."}


def success_vs_rho(success: dict, converged: dict | None = None):
    """``success[variant][activation][rho]`` (fractions over levels and seeds) as curves, one panel per
    activation; ``converged[activation][rho]`` (fraction of students at zero loss) dotted beside them."""
    variants = list(success)
    activations = sorted({a for v in variants for a in success[v]})
    panels = max(len(activations), 1)
    fig, axes = pyplot().subplots(1, panels, columns=1 if panels == 1 else 2, aspect=0.75 if panels == 1 else 0.4,
                                  sharey=True, squeeze=False)
    for ax, act in zip(axes[0], activations):
        for variant in variants:
            table = success[variant].get(act, {})
            rhos = sorted(table, key=float)
            ax.plot([float(r) for r in rhos], [table[r] for r in rhos], MARKERS.get(variant, "x-"),
                    label=f"success ({variant})")
        if converged and act in converged:
            rhos = sorted(converged[act], key=float)
            ax.plot([float(r) for r in rhos], [converged[act][r] for r in rhos], "k:", label="students at zero loss")
        ax.set_title(act)
        ax.set_xlabel(r"$\rho$ = width / $r^*$")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("fraction of tasks")
    fig.tight_layout()
    entries = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    # one legend for all panels, under them (the saved bounding box grows to hold it)
    fig.legend(list(entries.values()), list(entries), loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncols=min(3, len(entries)) if panels > 1 else 1)
    return fig
