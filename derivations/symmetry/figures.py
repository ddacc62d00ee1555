"""Figures of the symmetry reproductions."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from gradflow.derivations.figure_style import DOUBLE_COLUMN, SINGLE_COLUMN, legend
from gradflow.derivations.report import pyplot


def factor_vs_width(rows: list):
    """The K-th order factor N_K / N_min against the width, one line per K (one-hidden-layer rows)."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1)
    for K in sorted({r["K"] for r in rows}):
        points = sorted((sum(r["widths"]), float(Fraction(r["factor"]))) for r in rows
                        if r["K"] == K and Fraction(r["factor"]) > 0)
        if points:
            ax.semilogy(*zip(*points), "o-", label=f"K = {K}")
    ax.set_xlabel("total hidden width $m$")
    ax.set_ylabel(r"$N_K / N_{min}$ (bound)")
    legend(ax)
    fig.tight_layout()
    return fig


def ratio_vs_extra(ratios: dict):
    """log R(r*, h) against h, one line per r*."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1)
    for r_star, row in sorted(ratios.items()):
        h = np.arange(len(row))
        ax.semilogy(h, row, "o-", label=f"r* = {r_star}")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--", label="$R = 1$")
    ax.set_xlabel("extra neurons $h = m - r^*$")
    ax.set_ylabel("$R = G(r^* - 1, m) / T(r^*, m)$")
    legend(ax)
    fig.tight_layout()
    return fig


def sorted_spectra(reports: list):
    """Sorted log10 |lambda| of the Hessian at each permutation point; zero eigenvalues sit far below."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1)
    for report in reports:
        values = np.sort(np.log10(np.maximum(np.abs(np.asarray(report.eigenvalues)), 1e-300)))
        ax.plot(values, "o-", ms=3, label=f"{list(report.sizes)}: {report.zero_count} zero")
    ax.set_xlabel("eigenvalue index $k$ (sorted)")
    ax.set_ylabel(r"$\log_{10} |\lambda_k|$")
    legend(ax)
    fig.tight_layout()
    return fig


def q_vs_beta(rows: list, eig_M):
    """eig(V^T H V) along the split direction against beta, with beta (1 - beta) eig(M) drawn through them."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1)
    betas = np.array([r["beta"] for r in rows])
    eigs = np.array([r["Q_eigs"] for r in rows])
    for column in range(eigs.shape[1]):
        ax.plot(betas, eigs[:, column], "o", label=f"eig {column + 1} of $V^T H V$")
    fine = np.linspace(betas.min(), betas.max(), 200)
    for value in eig_M:
        ax.plot(fine, fine * (1 - fine) * value, "-", color="grey", lw=0.8,
                label=r"derived $\beta (1 - \beta)\, \mathrm{eig}(M)$")
    ax.axhline(0.0, color="black", lw=0.5, label="zero curvature")
    ax.set_xlabel(r"split fraction $\beta$")
    ax.set_ylabel("curvature along the split")
    legend(ax)
    fig.tight_layout()
    return fig


def nullity_vs_formula(cases: list):
    """Numeric Hessian nullity of every labelling's points against the derived formula."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.85)
    top = 1
    for case in cases:
        formula = [f for row in case["labellings"] for f in row["nullity_formula"]]
        numeric = [v for row in case["labellings"] for v in row["nullity"]]
        top = max(top, *formula, *numeric)
        ax.plot(formula, numeric, "o", alpha=0.6, label=f"r* = {case['r_star']}, m = {case['m']}")
    ax.plot([0, top], [0, top], color="grey", lw=0.8, label="$y = x$")
    ax.set_xlabel("nullity (derived formula)")
    ax.set_ylabel("nullity (Hessian, numeric)")
    legend(ax)
    fig.tight_layout()
    return fig


def loss_along_paths(profiles: dict):
    """Loss along each path theta* -> theta_P -> P_ij theta* (position in steps)."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1)
    for key, losses in profiles.items():
        values = np.maximum(np.asarray(losses), 1e-300)
        ax.semilogy(np.linspace(0.0, 1.0, values.size), values, label=f"$(i, j) = ({key})$")
    ax.set_xlabel("position along the path")
    ax.set_ylabel("loss $L$")
    legend(ax)
    fig.tight_layout()
    return fig


def intersection_graphs(cases: list):
    """The intersection graph of each case: one node per labelling (on a circle, coloured by its number k of
    zero-type neurons), an edge where two pieces of the expansion manifold meet."""
    plt = pyplot()
    from matplotlib.collections import LineCollection

    columns = 1 if len(cases) == 1 else 2
    width = SINGLE_COLUMN if columns == 1 else DOUBLE_COLUMN
    fig, axes = plt.subplots(1, len(cases), columns=columns, height=width / len(cases) + 1.0, squeeze=False)
    edges = None
    for ax, case in zip(axes[0], cases):
        ks = np.array([row["k"] for row in case["labellings"]])
        slot = np.empty(ks.size, dtype=int)
        slot[np.argsort(ks, kind="stable")] = np.arange(ks.size)  # labellings with equal k side by side
        angle = 2 * np.pi * slot / max(ks.size, 1)
        x, y = np.cos(angle), np.sin(angle)
        segments = [[(x[a], y[a]), (x[b], y[b])] for a, b in case["edge_list"]]
        edges = ax.add_collection(LineCollection(segments, colors="grey", linewidths=0.5, alpha=0.6, zorder=1,
                                                 label="edge: two pieces meet"))
        points = ax.scatter(x, y, c=ks, cmap="viridis", s=18, zorder=2, vmin=0, vmax=max(1, int(ks.max())),
                            label="labelling (piece)")
        ax.set_title(f"$r^* = {case['r_star']}$, $m = {case['m']}$:\n{case['edges']} edges, "
                     f"{'connected' if case['connected'] else 'not connected'}")
        ax.set_xlim(-1.15, 1.15)
        ax.set_ylim(-1.15, 1.15)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.colorbar(points, ax=list(axes[0]), shrink=0.7, label="zero-type neurons $k$")
    fig.legend([points, edges], ["labelling (piece)", "edge: two pieces meet"], loc="lower center", ncols=2)
    return fig


def smallest_per_pair(spectra: dict):
    """The smallest Hessian eigenvalues (Lanczos) at each pair's permutation point, symmetric-log scale."""
    plt = pyplot()
    fig, ax = plt.subplots(columns=1, aspect=0.85)
    keys = list(spectra)
    for position, key in enumerate(keys):
        values = np.asarray(spectra[key])
        ax.plot(np.full(values.size, position), values, "_", ms=10, mew=1.2, color="tab:blue",
                label="smallest eigenvalues (Lanczos)")
    ax.set_yscale("symlog", linthresh=1e-8)
    ax.axhline(0.0, color="black", lw=0.5, label="zero")
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([f"({k})" for k in keys], rotation=60)
    ax.set_xlabel("pair (layer, $i$, $j$)")
    ax.set_ylabel(r"eigenvalues of $H$ at $\theta_P$")
    legend(ax)
    fig.tight_layout()
    return fig


def plateau_profiles(reports: list):
    """Along the plateau e = s d of each permutation point: the relative loss change (rounding level) and
    |grad|, which grows like sqrt(2) |B^T d| |s| (flat at zero where B = 0)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, columns=2, aspect=0.42)
    for report in reports:
        s, dev, grad = (np.asarray(part) for part in report.plateau_profile)
        label = f"{list(report.sizes)}: rank B = {report.rank_B}"
        left.plot(s, dev, "o-", ms=3, label=label)
        right.plot(s, grad, "o-", ms=3, label=label)
    left.set_xlabel("offset $s$ ($e = s\\, d$)")
    left.set_ylabel(r"$(L - L_P) / L_P$")
    right.set_xlabel("offset $s$ ($e = s\\, d$)")
    right.set_ylabel(r"$|\nabla L|_2$")
    legend(left)
    legend(right)
    fig.tight_layout()
    return fig
