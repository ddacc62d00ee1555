"""``ec-toy``: Expand-and-Cluster on EC-Toy-150 at fixed width ratios rho, both clustering variants.

Per task and rho: N = 10 students from the task's deterministic starts, trained by the MLP engine (Adam,
then BFGS, to iteration caps per student); then the clustering phase, assembly and fine-tuning for the
code-faithful, the robust and the robust+fg variant (robust, plus the mean-ablation filter and the merge
of neurons split in two along a flat direction); success as the task defines it (K = r*, every teacher neuron
matched to 1e-3 with its output weight to 1e-2).  Reported: success fraction against rho per activation
and level, and the fraction of students that reached L <= 1e-10 Var(y).  ``--quick``: seed 0 and
rho in {1, 2, 4} with short caps; the full run (150 tasks x 5 ratios x 10 students) takes hours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.expand_cluster import toy_figures
from gradflow.derivations.expand_cluster.theory_doc import expand_cluster_derivation
from gradflow.derivations.report import Reproduction
from gradflow.numerics.expand_cluster.expansion import TrainerSettings, train_students
from gradflow.numerics.expand_cluster.options import ClusteringOptions
from gradflow.numerics.expand_cluster.pipeline import PipelineOptions, expand_and_cluster
from gradflow.numerics.expand_cluster.toy_tasks import TOY_ACTIVATIONS, TOY_LEVELS, ToyTask, toy_success

VARIANTS = ("code", "robust", "robust+fg")  # robust+fg: robust, the mean-ablation filter, the merge of split neurons
QUICK_RHOS, QUICK_SEEDS, QUICK_MAXTIME = (1, 2, 4), (0,), 60.0
ITERATIONS, QUICK_ITERATIONS = 3000, 1500  # Adam steps, then BFGS iterations, per student


def variant_key(variant: str) -> str:
    """A variant's name as a variable name: robust+fg -> robust_fg."""
    return variant.replace("+", "_")


def capped_trainer(maxtime: float, iterations: int) -> TrainerSettings:
    """The engine's trainer stopped after ``iterations`` Adam steps, then as many BFGS iterations, with
    ``maxtime`` as each phase's wall-time safety cap (the ec-* experiments' students)."""
    return TrainerSettings(maxtime_ode=maxtime, maxtime_optim=maxtime, maxiterations_ode=iterations,
                           maxiterations_optim=iterations)


def run_toy(task: ToyTask, rho: int, n_students: int, maxtime: float, keep: dict | None = None,
            iterations: int = ITERATIONS, student_ids=None) -> dict:
    """One task at one rho: train, then both variants; a JSON-ready record.  ``keep``: a dict that receives
    each variant's ExpandClusterResult (for figures).  ``student_ids``: the members of ``task.student_init``
    (default 0..n_students-1; the ec-toy sweep target draws them from each sweep member's seed)."""
    settings = capped_trainer(maxtime, iterations)
    network = task.network(rho * task.r_star)
    ids = range(n_students) if student_ids is None else student_ids
    starts = np.array([task.student_init(rho, int(m)) for m in ids])
    students = train_students(network, task.X, task.y, starts, settings)
    record = {"activation": task.activation, "level": task.level, "seed": task.seed, "rho": rho,
              "converged_fraction": float(np.mean(students.zero_loss())), "students": students.to_json(),
              "variants": {}}
    for variant in VARIANTS:
        options = PipelineOptions(clustering=ClusteringOptions(variant=variant), finetune_maxtime_ode=maxtime,
                                  finetune_maxtime_optim=maxtime)
        result = expand_and_cluster(students, task.X, task.y, task.activation, options, teacher=task.teacher_weights())
        if keep is not None:
            keep[variant] = result
        if result.reconstruction is None:
            verdict = {"success": False, "K": 0}
        else:
            (incoming, outgoing), = result.reconstruction.hidden()
            verdict = toy_success(task, incoming, outgoing).to_json()
            verdict["loss_before"] = result.reconstruction.loss_before / students.variance
            verdict["loss_after"] = result.reconstruction.loss_after / students.variance
        layer = result.loop.clusterings[0]
        verdict.update({"cut_height": float(layer.cut_height), "counts": layer.counts.tolist(),
                        "clusters": [c.to_json() for c in layer.clusters], "winner": layer.winners.tolist()})
        record["variants"][variant] = verdict
    return record


def _shown(candidates: dict):
    """The job (and its results by variant) whose clustering is drawn: robust success first, then any
    reconstruction, hardest level first."""
    def rank(item):
        (task, _), results = item
        robust = results.get("robust")
        return (robust is not None and bool(robust.success), robust is not None and robust.reconstruction is not None,
                task.level)
    if not candidates:
        return None, {}
    return max(candidates.items(), key=rank)


def clustering_figures(results: dict, layers=(1,)) -> dict:
    """The clustering phase's figures (dendrogram with the cut, distance matrix, big-cluster counts,
    alignment; teacher comparison) for each variant's ExpandClusterResult in ``results``."""
    from gradflow.derivations.expand_cluster import figures

    out = {}
    for variant, result in results.items():
        for layer, clustering in enumerate(result.loop.clusterings, start=1):
            if layer not in layers or clustering.linkage.shape[0] < 1:
                continue
            tag = f"{variant_key(variant)}_layer{layer}"
            out[f"dendrogram_{tag}"] = figures.dendrogram(clustering)
            out[f"distances_{tag}"] = figures.distance_matrix(clustering)
            out[f"counts_{tag}"] = figures.cluster_counts(clustering)
            out[f"alignment_{tag}"] = figures.alignment_bars(clustering)
        for layer, comparison in enumerate(result.comparisons, start=1):
            if layer in layers:
                tag = f"{variant_key(variant)}_layer{layer}"
                out[f"matched_weights_{tag}"] = figures.matched_weights(comparison)
                out[f"match_distances_{tag}"] = figures.match_distances(comparison)
    return out


def summarise(records: list) -> dict:
    """success_fraction[variant][activation][level][rho], its average over levels, converged_fraction[activation][rho]."""
    success, by_rho, converged = {}, {}, {}
    for variant in VARIANTS:
        table, flat = {}, {}
        for r in records:
            table.setdefault(r["activation"], {}).setdefault(str(r["level"]), {}).setdefault(str(r["rho"]), []).append(
                r["variants"][variant]["success"])
            flat.setdefault(r["activation"], {}).setdefault(str(r["rho"]), []).append(r["variants"][variant]["success"])
        success[variant] = {a: {lv: {rho: float(np.mean(v)) for rho, v in rows.items()} for lv, rows in levels.items()}
                            for a, levels in table.items()}
        by_rho[variant] = {a: {rho: float(np.mean(v)) for rho, v in rows.items()} for a, rows in flat.items()}
    for r in records:
        converged.setdefault(r["activation"], {}).setdefault(str(r["rho"]), []).append(r["converged_fraction"])
    converged = {a: {rho: float(np.mean(v)) for rho, v in rows.items()} for a, rows in converged.items()}
    return {"success_fraction": success, "success_fraction_by_rho": by_rho, "converged_fraction": converged}


def _levels_ok(values) -> bool:
    return len(values) >= 1 and all(v in TOY_LEVELS for v in values)


@dataclass(frozen=True)
class ECToy(Experiment):
    name = "ec-toy"
    summary = ("Expand-and-Cluster on EC-Toy-150 (tanh, sigmoid, g; 5 levels; 10 seeds): success fraction and "
               "students at zero loss against rho, code-faithful and robust clustering")
    parameters = (
        Parameter("seeds", "ints", tuple(range(10)), "integers >= 0", "task seeds (--quick: 0)",
                  lambda v: len(v) >= 1 and all(s >= 0 for s in v)),
        Parameter("rhos", "ints", (1, 2, 3, 4, 6), "integers >= 1", "width ratios (--quick: 1, 2, 4)",
                  lambda v: len(v) >= 1 and all(r >= 1 for r in v)),
        Parameter("levels", "ints", tuple(TOY_LEVELS), "integers in 1..5", "task levels", _levels_ok),
        Parameter("n_students", "int", 10, "an integer in [2, 100]", "students per task and rho",
                  lambda v: 2 <= v <= 100),
        Parameter("maxtime", "float", 300.0, "a number > 0", "wall-time safety cap of each training phase per student "
                  f"(s; at most {QUICK_MAXTIME:g} with --quick)", lambda v: v > 0),
    )

    seeds: tuple = tuple(range(10))
    rhos: tuple = (1, 2, 3, 4, 6)
    levels: tuple = tuple(TOY_LEVELS)
    n_students: int = 10
    maxtime: float = 300.0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        seeds = QUICK_SEEDS if quick else self.seeds
        rhos = QUICK_RHOS if quick else self.rhos
        maxtime = min(self.maxtime, QUICK_MAXTIME) if quick else self.maxtime
        jobs = [(ToyTask(a, level, seed), rho) for a in TOY_ACTIVATIONS for level in self.levels for seed in seeds
                for rho in rhos]
        started, records = time.perf_counter(), []
        from tqdm import tqdm

        # clustering figures: tanh at the largest rho, the hardest level where the robust variant succeeded
        candidates = {job: {} for job in jobs if job[0].activation == "tanh" and job[1] == max(rhos)}
        for task, rho in tqdm(jobs, disable=not progress, desc="ec-toy"):
            records.append(run_toy(task, rho, self.n_students, maxtime, candidates.get((task, rho)),
                                   QUICK_ITERATIONS if quick else ITERATIONS))
        shown, kept = _shown(candidates)
        summary = summarise(records)
        results = {"variant": list(VARIANTS), "gamma": 0.5, "beta": float(np.pi / 6), "N": self.n_students,
                   "rho": list(rhos), "seeds": list(seeds), "levels": list(self.levels), **summary,
                   "runs": records}
        arrays = {"converged_fraction": np.array([r["converged_fraction"] for r in records]),
                  **{f"success_{variant_key(v)}": np.array([r["variants"][v]["success"] for r in records], dtype=float)
                     for v in VARIANTS}}
        figure = toy_figures.success_vs_rho(summary["success_fraction_by_rho"], summary["converged_fraction"])
        shown_label = "none" if shown is None else f"{shown[0].label()} rho {shown[1]}"
        return Reproduction(name=self.name, parameters={"quick": quick, "seeds": list(seeds), "rhos": list(rhos),
                                                        "levels": list(self.levels), "n_students": self.n_students,
                                                        "maxtime": maxtime},
                            arrays=arrays, figures={"success_vs_rho": figure, **clustering_figures(kept)},
                            report_markdown=_report(summary, quick) + f"\nClustering figures: {shown_label}.\n",
                            derivation_latex=expand_cluster_derivation().to_latex(), generated_code=[],
                            timings={"total": time.perf_counter() - started}, seeds=list(seeds), results=results)


def _report(summary: dict, quick: bool) -> str:
    lines = ["# ec-toy", "", "Expand-and-Cluster on EC-Toy-150" + (" (quick: seed 0, rho 1, 2, 4)" if quick else "")
             + ". Success: K = r* and every teacher neuron matched (dissimilarity <= 1e-3, output weight within "
             "1 %).", ""]
    for variant, table in summary["success_fraction_by_rho"].items():
        lines += [f"## success fraction, {variant} variant", "", "| activation | " + " | ".join(
            f"rho {r}" for r in next(iter(table.values()))) + " |", "|---|" + "---|" * len(next(iter(table.values())))]
        for act, row in table.items():
            lines.append(f"| {act} | " + " | ".join(f"{v:.2f}" for v in row.values()) + " |")
        lines.append("")
    lines += ["## students at L <= 1e-10 Var(y)", ""]
    for act, row in summary["converged_fraction"].items():
        lines.append(f"- {act}: " + ", ".join(f"rho {r}: {v:.2f}" for r, v in row.items()))
    lines += ["", "Per level: results.json, success_fraction[variant][activation][level][rho]."]
    return "\n".join(lines) + "\n"
