"""The reproductions ``confusion-synthetic`` and ``confusion-digits``: per seed, train the ensemble and
the evaluated models, estimate every model's OOD accuracy per shift, then fold the seeds into per-seed
values, mean and std; the qualitative expectations are checked on the seed means."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.confusion import figures
from gradflow.derivations.confusion.analysis import SCORE_VARIANTS, analyse_seed, summarise
from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.report import Reproduction
from gradflow.theory.confusion import derive


def _int(name: str, default: int, low: int, high: int, help_text: str) -> Parameter:
    return Parameter(name, "int", default, f"an integer in [{low}, {high}]", help_text, lambda v: low <= v <= high)


def _common(seeds: int, members: int, steps: int, B: int) -> tuple:
    return (_int("seeds", seeds, 1, 100, "seeds 0..seeds-1"),
            _int("members", members, 2, 100, "ensemble members (bootstrap resamples)"),
            _int("steps", steps, 1, 100_000, "full-batch GD steps of every GD-trained model"),
            _int("B", B, 1, 1000, "confusion-score bins (ID-quantile edges)"),
            Parameter("score", "choice", "cs_entropy", "one of the built-in scores", "the confusion score",
                      choices=SCORE_VARIANTS),
            Parameter("binning", "choice", "quantile", "quantile or width", "bin edges: ID-test quantiles (equal "
                      "mass on ID) or equal width over the score's range ([0, log C] for the entropy)",
                      choices=("quantile", "width")))


def expectations(summary: dict, favoured: tuple, limit: str) -> dict:
    """The qualitative expectations on seed means: OOD sets more confusing than ID (for ``favoured``), the
    estimate closer than the naive one, the gap closed smallest for ``limit``, growing from B = 1."""
    shifts = summary["shifts"]
    gap = {s: rec["gap_closed"]["mean"] for s, rec in shifts.items()}
    by_B = {s: [rec["gap_closed_by_B"][b]["mean"] for b in sorted(rec["gap_closed_by_B"], key=int)]
            for s, rec in shifts.items()}
    return {
        "cs_ood_above_id": {s: shifts[s]["cs_mean_ood"]["mean"] > shifts[s]["cs_mean_id"]["mean"] for s in favoured},
        "estimate_closer_than_naive": {s: rec["abs_error_estimate"]["mean"] < rec["abs_error_naive"]["mean"]
                                       for s, rec in shifts.items()},
        "mae_estimate_below_naive": {s: rec["mae_estimate"]["mean"] < rec["mae_naive"]["mean"]
                                     for s, rec in shifts.items()},
        "gap_closed_largest": max(gap, key=lambda s: -np.inf if gap[s] is None else gap[s]),
        "gap_closed_smallest": min(gap, key=lambda s: np.inf if gap[s] is None else gap[s]),
        "smallest_is_the_limit_case": min(gap, key=lambda s: np.inf if gap[s] is None else gap[s]) == limit,
        "gap_closed_zero_at_one_bin": {s: v[0] == 0.0 for s, v in by_B.items()},
        "gap_closed_grows_with_B": {s: bool(v[1] > v[0] and all(b >= a - 0.02 for a, b in zip(v[1:], v[2:])))
                                    for s, v in by_B.items()},
    }


def run_seeds(seed_data, seeds, B: int, B_sweep, score: str, binning: str, progress: bool):
    """(records, raw scores of the first seed, seconds per seed)."""
    from tqdm import tqdm

    records, first_raw, seconds = [], None, []
    for seed in tqdm(seeds, desc="seeds", unit="seed", disable=not progress):
        start = time.perf_counter()
        record, raw = analyse_seed(seed_data(seed), B, B_sweep, score, binning)
        records.append(record)
        first_raw = raw if first_raw is None else first_raw
        seconds.append(time.perf_counter() - start)
    return records, first_raw, seconds


def shared_figures(summary: dict, raw: dict, score: str) -> dict:
    return {"per_bin_accuracy": figures.per_bin_accuracy(summary["shifts"]),
            "score_histograms": figures.score_histograms(raw, score),
            "predicted_vs_true": figures.predicted_vs_true(summary["shifts"]),
            "gap_closed_vs_B": figures.gap_closed_vs_B(summary["shifts"])}


def report(name: str, intro: str, summary: dict, expected: dict) -> str:
    def pm(node):
        return "n/a" if node["mean"] is None else f"{node['mean']:.4f} ± {node['std']:.4f}"

    lines = [f"# {name}", "", intro, "",
             f"Ensemble ID accuracy {pm(summary['ensemble_id_acc'])}; point-biserial corr(score, error) on ID "
             f"{pm(summary['corr_cs_error'])}.", "",
             "| shift | true OOD acc | estimate | naive (ID acc) | gap closed | mean score ID | mean score OOD |",
             "|---|---|---|---|---|---|---|"]
    for shift, rec in summary["shifts"].items():
        lines.append(f"| {shift} | {pm(rec['true_acc'])} | {pm(rec['estimate'])} | {pm(rec['naive'])} | "
                     f"{pm(rec['gap_closed'])} | {pm(rec['cs_mean_id'])} | {pm(rec['cs_mean_ood'])} |")
    lines += ["", "Gap closed against B (seed means):", "", "| shift | " + " | ".join(
        f"B = {b}" for b in sorted(next(iter(summary["shifts"].values()))["gap_closed_by_B"], key=int)) + " |"]
    lines.append("|---|" + "---|" * len(next(iter(summary["shifts"].values()))["gap_closed_by_B"]))
    for shift, rec in summary["shifts"].items():
        by_B = rec["gap_closed_by_B"]
        lines.append(f"| {shift} | " + " | ".join(f"{by_B[b]['mean']:.3f}" for b in sorted(by_B, key=int)) + " |")
    lines += ["", "Per model (seed means): true OOD accuracy / estimate / naive:", ""]
    for shift, rec in summary["shifts"].items():
        cells = [f"{m} {v['acc_ood']['mean']:.3f} / {v['estimate']['mean']:.3f} / {v['naive']['mean']:.3f}"
                 for m, v in rec["models"].items()]
        lines.append(f"- {shift}: " + "; ".join(cells) + f" (MAE estimate {pm(rec['mae_estimate'])}, naive "
                     f"{pm(rec['mae_naive'])})")
    rel = summary["relation"]
    lines += ["", "Across (model, shift): Pearson r of the estimate with the true accuracy "
              f"{pm(rel['pearson_estimate'])}, of the ID accuracy {pm(rel['pearson_naive'])}; "
              f"MAE estimate {pm(rel['mae_estimate'])}, naive "
              f"{pm(rel['mae_naive'])}.", "", "Expectations on seed means:", ""]
    lines += [f"- {key.replace('_', ' ')}: {_expectation(value)}" for key, value in expected.items()]
    return "\n".join(lines) + "\n"


def _expectation(value) -> str:
    """An expectation's outcome as words: per shift "holds"/"fails", or the named shift."""
    if isinstance(value, dict):
        return ", ".join(f"{shift} {_expectation(v)}" for shift, v in value.items())
    if isinstance(value, bool):
        return "holds" if value else "fails"
    return str(value)


def reproduction(name: str, parameters: dict, seeds, records, raw, seconds, extra_figures: dict, intro: str,
                 favoured: tuple, limit: str, extra_results: dict | None = None) -> Reproduction:
    from gradflow.numerics.codegen.mlp_module import mlp_module

    summary = summarise(records)
    expected = expectations(summary, favoured, limit)
    results = {"params": parameters, "seeds": list(seeds), **summary, **(extra_results or {}), "expectations": expected}
    arrays = {f"scores_{key.replace('-', '_')}": value for key, value in raw.items()}
    return Reproduction(name=name, parameters=parameters, arrays=arrays,
                        figures={**shared_figures(summary, raw, parameters["score"]), **extra_figures},
                        report_markdown=report(name, intro, summary, expected), derivation_latex=derive().to_latex(),
                        generated_code=[mlp_module()[1]], timings={"seconds_per_seed": seconds,
                                                                   "total": float(np.sum(seconds))},
                        seeds=list(seeds), results=results)


@dataclass(frozen=True)
class ConfusionSynthetic(Experiment):
    name = "confusion-synthetic"
    summary = ("Gaussian class mixtures under three shifts: OOD accuracy estimated from confusion-score bins of a "
               "bootstrap ensemble against the truth and the naive ID accuracy")
    parameters = _common(5, 10, 300, 10) + (_int("n_test", 5000, 100, 10 ** 6, "ID test and shifted set sizes"),)
    seeds: int = 5
    members: int = 10
    steps: int = 300
    B: int = 10
    score: str = "cs_entropy"
    binning: str = "quantile"
    n_test: int = 5000

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        from gradflow.derivations.confusion.synthetic import SHIFTS, SyntheticSettings, seed_data

        seeds = range(min(self.seeds, 2) if quick else self.seeds)
        B_sweep = (1, 5, 10, 20)
        settings = SyntheticSettings(members=min(self.members, 5) if quick else self.members,
                                     steps=min(self.steps, 150) if quick else self.steps,
                                     n_test=min(self.n_test, 1500) if quick else self.n_test)
        parameters = {"seeds": self.seeds, "members": self.members, "steps": self.steps, "B": self.B,
                      "score": self.score, "binning": self.binning, "n_test": self.n_test, "quick": quick,
                      "B_sweep": list(B_sweep),
                      "settings_used": settings.__dict__, "shifts": list(SHIFTS),
                      "models": ["softmax", "tanh-8", "tanh-32"], "reference_model": "softmax", "init_seed": "seed"}
        records, raw, seconds = run_seeds(lambda seed: seed_data(seed, settings), seeds, self.B, B_sweep,
                                          self.score, self.binning, progress)
        intro = (f"C = {settings.classes} Gaussian classes in d = {settings.dim}, n = {settings.n_train} training "
                 f"points, {settings.n_test} per test set; ensemble of {settings.members} bootstrap softmax "
                 f"regressions ({settings.steps} GD steps, lr {settings.lr}, L2 {settings.l2}); score {self.score}, "
                 f"B = {self.B} {self.binning} bins; seeds {list(seeds)}. The reference model is softmax regression "
                 "on the full training set.")
        return reproduction(self.name, parameters, seeds, records, raw, seconds, {}, intro, SHIFTS, "class-shift")


@dataclass(frozen=True)
class ConfusionDigits(Experiment):
    name = "confusion-digits"
    summary = ("8x8 digits under four shifts: OOD accuracies of gradflow and scikit-learn models estimated from "
               "confusion-score bins of a bootstrap tanh-MLP ensemble (needs scikit-learn)")
    parameters = _common(5, 10, 1000, 5) + (
        Parameter("variant_c", "choice", "blur", "blur or translate", "the third shift: 3x3 box blur or a "
                  "one-pixel translation", choices=("blur", "translate")),
        Parameter("reference", "choice", "softmax", "one of the evaluated models", "the model of the per-variant "
                  "numbers", choices=("softmax", "tanh-16", "tanh-32", "tanh-128", "logistic", "svc", "knn",
                                      "forest")))
    seeds: int = 5
    members: int = 10
    steps: int = 1000
    B: int = 5
    score: str = "cs_entropy"
    binning: str = "quantile"
    variant_c: str = "blur"
    reference: str = "softmax"

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        from gradflow.derivations.confusion import digits
        from gradflow.theory.errors import require

        try:
            import sklearn  # noqa: F401  (the data set and four of the models)
        except ImportError:
            require(False, "confusion-digits", "run with scikit-learn installed (pip install gradflow[sklearn])")
        seeds = range(1 if quick else self.seeds)
        B_sweep = (1, 3, 5, 10)
        sources = {m: digits.source(m) for m in digits.MODELS}
        settings = digits.DigitsSettings(members=min(self.members, 3) if quick else self.members,
                                         steps=min(self.steps, 100) if quick else self.steps,
                                         variant_c=self.variant_c, reference=self.reference)
        parameters = {"seeds": self.seeds, "members": self.members, "steps": self.steps, "B": self.B,
                      "score": self.score, "binning": self.binning, "variant_c": self.variant_c,
                      "reference": self.reference, "quick": quick, "B_sweep": list(B_sweep),
                      "settings_used": settings.__dict__,
                      "variants": ["hard-resample", "noise", self.variant_c, "class-specific"], "models": sources,
                      "member_init": "random_params(net, [seed, m])", "model_init": "random_params(net, seed)"}
        examples = {}

        def one_seed(seed):
            data, pixel_sets = digits.seed_data(seed, settings)
            if not examples:
                examples.update({k: (X[:8], y[:8]) for k, (X, y) in pixel_sets.items()})
            return data

        records, raw, seconds = run_seeds(one_seed, seeds, self.B, B_sweep, self.score, self.binning, progress)
        intro = (f"scikit-learn's 8x8 digits, stratified 60/20/20 split; ensemble of {settings.members} bootstrap "
                 f"tanh MLPs of width {settings.width} ({settings.steps} GD steps, lr {settings.lr}, "
                 f"L2 {settings.l2}); "
                 f"score {self.score}, B = {self.B} {self.binning} bins; reference model {self.reference}; seeds "
                 f"{list(seeds)}. Variants from the OOD pool: hard-resample (q^{settings.hardness_power:g}), pixel noise "
                 f"(sigma {settings.noise_sigma:g}), "
                 f"{self.variant_c}, class-specific (class 7 + mean class-1 image).")
        return reproduction(self.name, parameters, seeds, records, raw, seconds,
                            {"examples": figures.image_grid(examples)}, intro,
                            ("hard-resample", "noise", self.variant_c),
                            "class-specific", {"sources": sources})
