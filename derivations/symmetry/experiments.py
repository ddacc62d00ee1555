"""Reproductions of the symmetry family that rest on exact counting (the ones on trained networks are in
``networks``).

``sym-counts``: higher-order permutation points.  For hidden widths n_1..n_{d-1}, the points with K
neurons of one layer duplicated into pairs number at least N_min sum_k binom(n_k - K, K) / 2^K, N_min =
prod_k n_k!; a brute-force enumerator counts the distinct wide parameter vectors of random reduced
networks and agrees exactly.

``sym-dominance``: for a width-m student of a width-r* teacher, R = G(r* - 1, m) / T(r*, m) compares the
symmetry-induced critical subspaces with the zero-loss subspaces; its laws are derived by SymPy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.contract import Experiment
from gradflow.derivations.derivation_cache import cached
from gradflow.derivations.report import Reproduction
from gradflow.derivations.symmetry import figures
from gradflow.theory.symmetry import (brute_force_higher_order, critical_count, deep_critical_count,
                                      deep_dominance_ratio, deep_expansion_count, expansion_count, higher_order_bound,
                                      higher_order_factor, orbit_size)
from gradflow.theory.symmetry.derivation import RATIO_EXTRA, RATIO_TEACHERS, SymmetryDerivation, derive
from gradflow.theory.symmetry.dominance import CROSSOVER_TEACHERS, normalised_ratios

COUNT_WIDTHS = ((2, 3), (3, 4), (4, 4), (5,), (6,))
ORDERS = (1, 2, 3)
DOMINANCE_TEACHERS = RATIO_TEACHERS  # the derivation's ratio table: R(r*, h) for these r* and h
DOMINANCE_EXTRA = tuple(RATIO_EXTRA)
DEPTH_TEACHERS = ((2, 2), (3, 3), (2, 3, 4))
DEPTH_EXTRA = (0, 1, 2)  # extra neurons in every hidden layer


def symmetry_derivation() -> SymmetryDerivation:
    return cached("symmetry_derivation", derive)


@dataclass(frozen=True)
class SymCounts(Experiment):
    name = "sym-counts"
    summary = "higher-order permutation points: the counting bound against a brute-force enumerator"
    parameters = ()

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        start = time.perf_counter()
        widths = COUNT_WIDTHS[:3] if quick else COUNT_WIDTHS
        rows = []
        for hidden in widths:
            for K in ORDERS:
                rows.append({"widths": list(hidden), "K": K, "N_min": orbit_size(hidden),
                             "factor": str(higher_order_factor(hidden, K)), "bound": higher_order_bound(hidden, K),
                             "brute_force_pairs": brute_force_higher_order(hidden, K),
                             "brute_force_all": brute_force_higher_order(hidden, K, all_fibres=True)})
        results = {"rows": rows, "agree": all(r["bound"] == r["brute_force_pairs"] for r in rows)}
        arrays = {"bound": np.array([r["bound"] for r in rows], dtype=float),
                  "brute_force_pairs": np.array([r["brute_force_pairs"] for r in rows], dtype=float)}
        return Reproduction(name=self.name, parameters={"quick": quick}, arrays=arrays,
                            figures={"factor_vs_width": figures.factor_vs_width(rows)},
                            report_markdown=_counts_report(rows), derivation_latex=symmetry_derivation().to_latex(),
                            generated_code=[], timings={"total": time.perf_counter() - start}, seeds=[0],
                            results=results)


def _counts_report(rows: list) -> str:
    lines = ["# sym-counts", "", "Points with K neurons of one hidden layer duplicated into pairs: the bound "
             "N_min sum_k binom(n_k - K, K) / 2^K and the distinct wide parameter vectors enumerated by brute "
             "force (pair maps only, and every merging map).", "",
             "| hidden widths | K | N_min | factor | bound | brute force (pairs) | brute force (all merges) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['widths']} | {r['K']} | {r['N_min']} | {r['factor']} | {r['bound']} | "
                     f"{r['brute_force_pairs']} | {r['brute_force_all']} |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SymDominance(Experiment):
    name = "sym-dominance"
    summary = "critical subspaces against zero-loss subspaces: R(r*, h), its derived laws and the crossover h_c"
    parameters = ()

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        start = time.perf_counter()
        doc = symmetry_derivation()
        ratios = {r: [doc.ratio_table[r, h] for h in DOMINANCE_EXTRA] for r in DOMINANCE_TEACHERS}
        normalised = normalised_ratios()
        results = {
            "T": {f"{r},{r + h}": expansion_count(r, r + h) for r in DOMINANCE_TEACHERS for h in DOMINANCE_EXTRA},
            "G": {f"{r - 1},{r + h}": critical_count(r - 1, r + h) for r in DOMINANCE_TEACHERS for h in DOMINANCE_EXTRA},
            "R": {f"{r},{h}": {"exact": str(value), "float": float(value)}
                  for r, row in ratios.items() for h, value in enumerate(row)},
            "h_c": {variant: {str(r): h for r, h in table.items()} for variant, table in doc.crossovers.items()},
            "laws": {name: getattr(doc, name).latex() for name in (
                "ratio_at_zero", "ratio_at_zero_sum_below", "linear_growth", "linear_growth_sum_below",
                "expansion_growth", "critical_growth", "ratio_growth")},
            "c_h": str(doc.c_h),
            "normalised_ratio": {f"{r},{h}": value for (r, h), value in normalised.items()},
            "success_fraction": None,  # the optional GD ensemble is not run
            "crossover_teachers": list(CROSSOVER_TEACHERS),
            "depth": _depth_rows()}
        arrays = {f"R_{r}": np.array([float(v) for v in row]) for r, row in ratios.items()}
        return Reproduction(name=self.name, parameters={"quick": quick}, arrays=arrays,
                            figures={"ratio_vs_extra": figures.ratio_vs_extra(
                                {r: [float(v) for v in row] for r, row in ratios.items()})},
                            report_markdown=_dominance_report(results), derivation_latex=doc.to_latex(),
                            generated_code=[], timings={"total": time.perf_counter() - start}, seeds=[],
                            results=results)


def _depth_rows() -> list:
    """Deeper teachers of minimal widths r*_l, students with h extra neurons in every hidden layer:
    prod_l T(r*_l, m_l) zero-loss subspaces (prod_l r*_l! isolated points at h = 0), prod_l G(r*_l - 1, m_l)
    critical subspaces, and their ratio (the layers' ratios multiply)."""
    rows = []
    for r_stars in DEPTH_TEACHERS:
        for h in DEPTH_EXTRA:
            ms = tuple(r + h for r in r_stars)
            ratio = deep_dominance_ratio(r_stars, ms)
            rows.append({"r_stars": list(r_stars), "ms": list(ms), "isolated_minima": orbit_size(r_stars),
                         "T": deep_expansion_count(r_stars, ms), "G": deep_critical_count(r_stars, ms),
                         "R": {"exact": str(ratio), "float": float(ratio)}})
    return rows


def _dominance_report(results: dict) -> str:
    lines = ["# sym-dominance", "", "R(r*, h) = G(r* - 1, r* + h) / T(r*, r* + h): symmetry-induced critical "
             "subspaces over zero-loss subspaces (exact fractions in results.json).", "",
             "| r* | " + " | ".join(f"h = {h}" for h in DOMINANCE_EXTRA) + " |",
             "|---|" + "---|" * len(DOMINANCE_EXTRA)]
    for r in DOMINANCE_TEACHERS:
        lines.append(f"| {r} | " + " | ".join(f"{results['R'][f'{r},{h}']['float']:.4g}" for h in DOMINANCE_EXTRA)
                     + " |")
    lines += ["", "Crossover h_c(r*) = max{h : R > 1} (none: R <= 1 already at h = 0):", "",
              "| r* | default | sum_below |", "|---|---|---|"]
    for r in results["crossover_teachers"]:
        lines.append(f"| {r} | {results['h_c']['default'].get(str(r))} | {results['h_c']['sum_below'].get(str(r))} |")
    lines += ["", "Laws (derived by SymPy):", ""] + [f"- {name}: ${latex}$" for name, latex in results["laws"].items()]
    lines += ["", "Depth (h extra neurons in every hidden layer; at h = 0 the zero-loss set is prod r*_l! isolated "
              "points):", "", "| r*_l | m_l | isolated minima | T (product) | G (product) | R |", "|" + "---|" * 6]
    for row in results["depth"]:
        lines.append(f"| {row['r_stars']} | {row['ms']} | {row['isolated_minima']} | {row['T']} | {row['G']} | "
                     f"{row['R']['float']:.4g} |")
    lines += ["", "The optional GD ensemble (success fraction against h) is not run."]
    return "\n".join(lines) + "\n"


COUNTING_EXPERIMENTS = (SymCounts(), SymDominance())
