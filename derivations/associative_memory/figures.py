"""Figures of ``am-margins``: margins against log t with the derived laws (one file per eta), the flow against
its Lambert form, and eta t L against t."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.associative_memory.laws import MarginLaws
from gradflow.derivations.figure_style import legend
from gradflow.derivations.report import pyplot


# the laws of MarginLaws.gd_law_text and uniform_text, in the mathtext of the axis labels
GD_LAW = r"derived law $\log(\eta M p t)$"
UNIFORM = r"uniform approx. $\log(e^{\eta p} + \eta M p (t - 1))$"
BELOW = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.25), "ncols": 2}  # under the x label


def _colors(plt, N: int):
    return plt.cm.viridis(np.linspace(0, 0.9, N))


def margins_gd(experiment, a: dict, laws: MarginLaws, eta: float):
    """The simulated margins of the GD run at ``eta`` (solid), the derived log law (dashed) and the uniform
    approximation (dotted), against log t."""
    plt = pyplot()
    N, p, t = experiment.N, a["p"], a["t"][1:]
    colors = _colors(plt, N)
    fig, ax = plt.subplots(columns=1, aspect=0.8)
    m = a[f"margins_eta{eta:g}"]
    for x in range(N):
        ax.plot(t, m[1:, x], color=colors[x], lw=1.4, label=f"$p = {p[x]:.2f}$")
    for x in range(N):
        ax.plot(t, laws.gd_law(t, p[x], eta), color=colors[x], ls="--", lw=0.8, label=GD_LAW)
        ax.plot(t, laws.uniform(t, p[x], eta), color="k", ls=":", lw=0.7, label=UNIFORM)
    ax.set_xscale("log")
    ax.set_title(rf"GD, $\eta = {eta:g}$")
    ax.set_xlabel("step $t$")
    ax.set_ylabel("margin $m(x)$")
    fig.tight_layout()
    legend(ax, title="solid: simulated", **BELOW)  # after the layout: the saved bounding box grows to hold it
    return fig


def margins_flow(experiment, a: dict, laws: MarginLaws):
    """The scalar margin flow against its Lambert form over log t, with the full logit flow (x = 0)."""
    plt = pyplot()
    N, p = experiment.N, a["p"]
    colors = _colors(plt, N)
    fig, ax = plt.subplots(columns=1, aspect=0.8)
    lt = a["long_t"][1:]
    for x in range(N):
        ax.plot(lt, a["long_margins"][1:, x], color=colors[x], lw=1.4, label=f"$p = {p[x]:.2f}$")
    for x in range(N):
        ax.plot(lt, a["lambert_long"][1:, x], color="k", ls=":", lw=0.8, label="Lambert form")
    ax.plot(a["flow_t"][1:], a["flow_margins"][1:, 0], "o", ms=2.5, color="tab:red", label="full logit flow ($x = 0$)")
    ax.set_xscale("log")
    ax.set_title("gradient flow against the Lambert form")
    ax.set_xlabel("time $t$")
    ax.set_ylabel("margin $m(x)$")
    fig.tight_layout()
    legend(ax, title="solid: scalar flow", **BELOW)
    return fig


def margins(experiment, a: dict, laws: MarginLaws) -> dict:
    """stem -> figure: ``margins_eta{eta}`` for every GD step size and ``margins_flow``."""
    out = {f"margins_eta{eta:g}": margins_gd(experiment, a, laws, eta) for eta in experiment.etas}
    out["margins_flow"] = margins_flow(experiment, a, laws)
    return out


def eta_t_loss(experiment, a: dict, laws: MarginLaws):
    """eta t L(W_t) for every eta, approaching the derived limit N(M-1)/M."""
    plt = pyplot()
    t = a["t"]
    fig, ax = plt.subplots(columns=1)
    for eta in experiment.etas:
        ax.plot(t[1:], eta * t[1:] * a[f"loss_eta{eta:g}"][1:], lw=1.4, label=rf"$\eta = {eta:g}$")
    ax.axhline(laws.eta_t_loss_limit(experiment.N), color="k", ls="--", lw=1,
               label=f"derived limit {laws.loss_limit_text}")
    ax.set_xscale("log")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$\eta\, t\, L(W_t)$")
    legend(ax)
    fig.tight_layout()
    return fig
