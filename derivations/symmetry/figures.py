"""Figures of the symmetry reproductions."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from gradflow.derivations.report import pyplot


def factor_vs_width(rows: list):
    """The K-th order factor N_K / N_min against the width, one line per K (one-hidden-layer rows)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    for K in sorted({r["K"] for r in rows}):
        points = sorted((sum(r["widths"]), float(Fraction(r["factor"]))) for r in rows
                        if r["K"] == K and Fraction(r["factor"]) > 0)
        if points:
            ax.semilogy(*zip(*points), "o-", label=f"K = {K}")
    ax.set_xlabel("total hidden width")
    ax.set_ylabel(r"$N_K / N_{min}$ (bound)")
    ax.legend()
    fig.tight_layout()
    return fig


def ratio_vs_extra(ratios: dict):
    """log R(r*, h) against h, one line per r*."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    for r_star, row in sorted(ratios.items()):
        h = np.arange(len(row))
        ax.semilogy(h, row, "o-", label=f"r* = {r_star}")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("extra neurons h = m - r*")
    ax.set_ylabel("R = G(r* - 1, m) / T(r*, m)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sorted_spectra(reports: list):
    """Sorted log10 |lambda| of the Hessian at each permutation point; zero eigenvalues sit far below."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    for report in reports:
        values = np.sort(np.log10(np.maximum(np.abs(np.asarray(report.eigenvalues)), 1e-300)))
        ax.plot(values, "o-", ms=3, label=f"{list(report.sizes)}: {report.zero_count} zero")
    ax.set_xlabel("index")
    ax.set_ylabel(r"$\log_{10} |\lambda|$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def q_vs_beta(rows: list, eig_M):
    """eig(V^T H V) along the split direction against beta, with beta (1 - beta) eig(M) drawn through them."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    betas = np.array([r["beta"] for r in rows])
    eigs = np.array([r["Q_eigs"] for r in rows])
    for column in range(eigs.shape[1]):
        ax.plot(betas, eigs[:, column], "o", label=f"eig {column + 1} of $V^T H V$")
    fine = np.linspace(betas.min(), betas.max(), 200)
    for value in eig_M:
        ax.plot(fine, fine * (1 - fine) * value, "-", color="grey", lw=0.8)
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_xlabel(r"$\beta$")
    ax.set_ylabel("curvature along the split")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def nullity_vs_formula(cases: list):
    """Numeric Hessian nullity of every labelling's points against the derived formula."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 4.5))
    top = 1
    for case in cases:
        formula = [f for row in case["labellings"] for f in row["nullity_formula"]]
        numeric = [v for row in case["labellings"] for v in row["nullity"]]
        top = max(top, *formula, *numeric)
        ax.plot(formula, numeric, "o", alpha=0.6, label=f"r* = {case['r_star']}, m = {case['m']}")
    ax.plot([0, top], [0, top], color="grey", lw=0.8)
    ax.set_xlabel("nullity (formula)")
    ax.set_ylabel("nullity (Hessian, numeric)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def loss_along_paths(profiles: dict):
    """Loss along each path theta* -> theta_P -> P_ij theta* (position in steps)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    for key, losses in profiles.items():
        values = np.maximum(np.asarray(losses), 1e-300)
        ax.semilogy(np.linspace(0.0, 1.0, values.size), values, label=f"(i, j) = ({key})")
    ax.set_xlabel("position along the path")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def intersection_graphs(cases: list):
    """The intersection graph of each case: one node per labelling (on a circle, coloured by its number k of
    zero-type neurons), an edge where two pieces of the expansion manifold meet."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(cases), figsize=(3.2 * len(cases), 3.4), squeeze=False)
    for ax, case in zip(axes[0], cases):
        ks = np.array([row["k"] for row in case["labellings"]])
        slot = np.empty(ks.size, dtype=int)
        slot[np.argsort(ks, kind="stable")] = np.arange(ks.size)  # labellings with equal k side by side
        angle = 2 * np.pi * slot / max(ks.size, 1)
        x, y = np.cos(angle), np.sin(angle)
        for a, b in case["edge_list"]:
            ax.plot([x[a], x[b]], [y[a], y[b]], color="grey", lw=0.5, alpha=0.6, zorder=1)
        points = ax.scatter(x, y, c=ks, cmap="viridis", s=18, zorder=2, vmin=0, vmax=max(1, int(ks.max())))
        ax.set_title(f"r* = {case['r_star']}, m = {case['m']}: {case['edges']} edges, "
                     f"{'connected' if case['connected'] else 'not connected'}", fontsize=8)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.colorbar(points, ax=list(axes[0]), shrink=0.7, label="zero-type neurons k")
    return fig


def smallest_per_pair(spectra: dict):
    """The smallest Hessian eigenvalues (Lanczos) at each pair's permutation point, symmetric-log scale."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    keys = list(spectra)
    for position, key in enumerate(keys):
        values = np.asarray(spectra[key])
        ax.plot(np.full(values.size, position), values, "_", ms=14, mew=1.2)
    ax.set_yscale("symlog", linthresh=1e-8)
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([f"({k})" for k in keys], rotation=60, fontsize=7)
    ax.set_xlabel("(layer, i, j)")
    ax.set_ylabel("smallest eigenvalues of H at theta_P")
    fig.tight_layout()
    return fig


def plateau_profiles(reports: list):
    """Along the plateau e = s d of each permutation point: the relative loss change (rounding level) and
    |grad|, which grows like sqrt(2) |B^T d| |s| (flat at zero where B = 0)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.8))
    for report in reports:
        s, dev, grad = (np.asarray(part) for part in report.plateau_profile)
        label = f"{list(report.sizes)}: rank B = {report.rank_B}"
        left.plot(s, dev, "o-", ms=3, label=label)
        right.plot(s, grad, "o-", ms=3, label=label)
    left.set_xlabel("s (offset e = s d)")
    left.set_ylabel(r"$(L - L_P) / L_P$")
    right.set_xlabel("s (offset e = s d)")
    right.set_ylabel(r"$|\nabla L|_2$")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig
