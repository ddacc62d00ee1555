"""Reproductions of the symmetry family on trained networks: permutation points, critical lines, the
expansion manifold and paths through permutation points."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.output import jsonable
from gradflow.derivations.report import Reproduction
from gradflow.derivations.symmetry import figures
from gradflow.derivations.symmetry.experiments import symmetry_derivation
from gradflow.numerics.codegen.mlp_module import mlp_module
from gradflow.numerics.symmetry.report import ZERO_TOLERANCE
from gradflow.theory.symmetry import expansion_count, expansion_count_sum


def _samples(default: int) -> Parameter:
    return Parameter("n", "int", default, "an integer in [10, 100000]", "Gaussian input samples",
                     lambda v: 10 <= v <= 100_000)


def _seed(meaning: str) -> Parameter:
    return Parameter("seed", "int", 0, "an integer >= 0", meaning, lambda v: v >= 0)


def _reproduction(experiment: Experiment, start: float, **fields) -> Reproduction:
    """``experiment``'s result with what every reproduction here shares: the symmetry derivation, the
    generated MLP module and the total time since ``start``."""
    return Reproduction(name=experiment.name, derivation_latex=symmetry_derivation().to_latex(),
                        generated_code=[mlp_module()[1]], timings={"total": time.perf_counter() - start}, **fields)


PERMUTATION_SIZES = ((2, 3, 1), (3, 3, 2), (3, 4, 2), (2, 3, 4), (1, 3, 5))
REPORT_KEYS = ("sizes", "P", "n_next", "L_red", "grad_norm", "zero_count", "negative_count", "rank_B",
               "B_singular_values", "predicted_zero_count", "paper_bound", "paper_claim_holds", "spectral_gap",
               "max_antisym_residual", "plateau_max_dev", "plateau_grad_error", "teacher_seed", "hessian_check")


@dataclass(frozen=True)
class SymPermutationPoints(Experiment):
    name = "sym-permutation-points"
    summary = ("permutation points of one-hidden-layer tanh networks: the Hessian's zero eigenvalues n_next - "
               "rank(B) against the bound n_next")
    parameters = (_samples(400),
                  Parameter("seeds", "int", 5, "an integer in [1, 100]", "teacher seeds 0..seeds-1 per size",
                            lambda v: 1 <= v <= 100))
    n: int = 400
    seeds: int = 5

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        from gradflow.numerics.symmetry import permutation_point_report

        start = time.perf_counter()
        sizes = PERMUTATION_SIZES[:2] if quick else PERMUTATION_SIZES
        seeds = range(1 if quick else self.seeds)
        n = min(self.n, 200) if quick else self.n
        runs = [(s, seed) for s in sizes for seed in seeds]
        reports = [permutation_point_report(s, seed=seed, n_samples=n)
                   for s, seed in tqdm(runs, desc=self.name, unit="network", disable=not progress)]
        cases = [{key: jsonable(getattr(r, key)) for key in REPORT_KEYS} | {"seed": seed}
                 for r, (_, seed) in zip(reports, runs)]
        results = {"cases": cases, "n": n,
                   "every_case_has_a_zero": all(c["zero_count"] >= 1 for c in cases),
                   "counts_as_predicted": all(c["zero_count"] == c["predicted_zero_count"] for c in cases),
                   "bound_holds_iff_B_zero": all(c["paper_claim_holds"] == (c["rank_B"] == 0) for c in cases)}
        arrays = {f"eigenvalues_{i}": np.asarray(r.eigenvalues) for i, r in enumerate(reports)}
        first_seed = [r for r, (_, seed) in zip(reports, runs) if seed == 0]
        return _reproduction(self, start, parameters={"n": self.n, "seeds": self.seeds, "quick": quick},
                             arrays=arrays, figures={"sorted_spectra": figures.sorted_spectra(first_seed),
                                                     "plateau_profiles": figures.plateau_profiles(first_seed)},
                             report_markdown=_permutation_report(results), seeds=list(seeds), results=results)


def _permutation_report(results: dict) -> str:
    lines = ["# sym-permutation-points", "", f"One hidden tanh layer with biases, N = {results['n']} Gaussian inputs, "
             "teacher parameters N(0, 4); the reduced network (one hidden neuron fewer) trained to a clean critical "
             "point, neuron 0 duplicated. The Hessian at the permutation point has n_next - rank(B) zero "
             "eigenvalues (B: the plateau matrix); the bound 'at least n_next' holds only where B = 0.", "",
             "| sizes | seed | P | n_next | rank B | zero | predicted | bound | bound holds | negative | "
             "abs(grad) | plateau dev |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in results["cases"]:
        lines.append(f"| {c['sizes']} | {c['seed']} | {c['P']} | {c['n_next']} | {c['rank_B']} | {c['zero_count']} | "
                     f"{c['predicted_zero_count']} | {c['paper_bound']} | {'yes' if c['paper_claim_holds'] else 'no'} | "
                     f"{c['negative_count']} | {c['grad_norm']:.1e} | {c['plateau_max_dev']:.1e} |")
    lines += ["", f"Every case has a zero eigenvalue: {results['every_case_has_a_zero']}; counts as predicted: "
              f"{results['counts_as_predicted']}; bound holds exactly where B = 0: {results['bound_holds_iff_B_zero']}."]
    return "\n".join(lines) + "\n"


CRITICAL_LINE_BETAS = (-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5)


def _narrow_critical_point(d_out: int, n: int, seed: int):
    """(net, theta, loss, X, Y): a width-1 critical point (tanh, no biases) for a width-2 teacher."""
    from gradflow.numerics.mlp import MLPObjective
    from gradflow.numerics.symmetry import critical_point, random_teacher, shallow

    teacher = random_teacher(2, 2, d_out, seed=seed)
    X = np.random.default_rng(seed + 10).normal(size=(n, 2))
    Y = teacher.outputs(X, "tanh")
    net = shallow(2, 1, d_out, "tanh")
    point = critical_point(MLPObjective.create(net, X, Y), np.random.default_rng(seed).normal(size=net.n_params))
    return net, point.theta, point.loss, X, Y


def _inertia(values) -> list:
    """[negative, zero, positive] eigenvalue counts; zero: |lambda| <= ZERO_TOLERANCE max |lambda|."""
    zero = np.abs(values) <= ZERO_TOLERANCE * float(np.max(np.abs(values)))
    return [int(np.sum((values < 0) & ~zero)), int(np.sum(zero)), int(np.sum((values > 0) & ~zero))]


@dataclass(frozen=True)
class SymCriticalLines(Experiment):
    name = "sym-critical-lines"
    summary = ("splitting a critical neuron into (w, beta a), (w, (1 - beta) a): a line of critical points at the "
               "same loss, curvature beta (1 - beta) xi^T M xi across it")
    parameters = (_samples(300),
                  _seed("seed of the teacher, inputs and start"))
    n: int = 300
    seed: int = 0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        from gradflow.numerics.mlp import MLPObjective
        from gradflow.numerics.symmetry import fukumizu_amari_matrix, split_directions, split_point

        start = time.perf_counter()
        net, theta, loss_r, X, Y = _narrow_critical_point(1, self.n, self.seed)
        M = fukumizu_amari_matrix(net, theta, X, Y)
        eig_M = np.linalg.eigvalsh(M)
        rows = []
        for beta in CRITICAL_LINE_BETAS:
            wide, theta_m = split_point(net, theta, np.array([0, 0]), np.array([beta, 1 - beta]))
            objective = MLPObjective.create(wide, X, Y)
            loss, grad, H = objective.loss_gradient_hessian(theta_m)
            V = split_directions(wide, beta)
            Q = V.T @ H @ V
            eigenvalues = np.linalg.eigvalsh(H)
            scaled = (np.linalg.eigvalsh(Q / (beta * (1 - beta))).tolist() if beta not in (0.0, 1.0) else None)
            rows.append({"beta": beta, "loss": float(loss), "loss_r": float(loss_r),
                         "grad_norm": float(np.linalg.norm(grad)), "Q_eigs": np.linalg.eigvalsh(Q).tolist(),
                         "Q_scaled_eigs": scaled,
                         "inertia": _inertia(eigenvalues)})
        wide2, theta2, loss2, X2, Y2 = _narrow_critical_point(2, self.n, self.seed)
        a_bar = wide2.unflatten(theta2)[1][:, 0]
        e = np.array([-a_bar[1], a_bar[0]])  # a split not parallel to a-bar: same loss, not critical
        split_net, theta_np = split_point(wide2, theta2, np.array([0, 0]), np.array([0.5, 0.5]),
                                          directions=np.array([e, -e]))
        loss_np, grad_np = MLPObjective.create(split_net, X2, Y2).loss_and_gradient(theta_np)
        results = {"eig_M": eig_M.tolist(), "betas": rows, "L_r": float(loss_r),
                   "nonparallel_grad_norm": float(np.linalg.norm(grad_np)),
                   "nonparallel_loss_change": float(abs(loss_np - loss2) / loss2),
                   "max_scaled_eig_error": max(float(np.max(np.abs(np.asarray(r["Q_scaled_eigs"]) - eig_M)))
                                               for r in rows if r["Q_scaled_eigs"] is not None)}
        arrays = {"betas": np.array(CRITICAL_LINE_BETAS), "Q_eigs": np.array([r["Q_eigs"] for r in rows]),
                  "eig_M": eig_M}
        return _reproduction(self, start, parameters={"n": self.n, "seed": self.seed, "quick": quick},
                             arrays=arrays, figures={"Q_vs_beta": figures.q_vs_beta(rows, eig_M)},
                             report_markdown=_critical_lines_report(results), seeds=[self.seed], results=results)


def _critical_lines_report(results: dict) -> str:
    lines = ["# sym-critical-lines", "", "A width-1 tanh network (no biases) at a critical point for a width-2 "
             f"teacher (loss L_r = {results['L_r']:.6e}); its neuron split into (w, beta a), (w, (1 - beta) a). "
             "Along v = ((1 - beta) xi, -beta xi) the Hessian's form is beta (1 - beta) xi^T M xi.", "",
             f"eig(M) = {', '.join(f'{v:.6g}' for v in results['eig_M'])}", "",
             "| beta | loss - L_r | abs(grad) | eig(V^T H V) / (beta (1 - beta)) | inertia (neg, zero, pos) |",
             "|---|---|---|---|---|"]
    for r in results["betas"]:
        scaled = "-" if r["Q_scaled_eigs"] is None else ", ".join(f"{v:.6g}" for v in r["Q_scaled_eigs"])
        lines.append(f"| {r['beta']} | {r['loss'] - r['loss_r']:.1e} | {r['grad_norm']:.1e} | {scaled} | "
                     f"{tuple(r['inertia'])} |")
    lines += ["", f"Largest difference of the scaled eigenvalues to eig(M): {results['max_scaled_eig_error']:.1e}.",
              f"A split not parallel to a-bar (two outputs) keeps the loss (relative change "
              f"{results['nonparallel_loss_change']:.1e}) but is not critical: abs(grad) = "
              f"{results['nonparallel_grad_norm']:.3e}."]
    return "\n".join(lines) + "\n"


EXPANSION_SIZES = ((1, 2), (2, 3), (2, 4), (3, 4))


def _expansion_case(r: int, m: int, n: int, seed: int, points: int) -> dict:
    """Every labelling of a width-m student of a width-r teacher: zero loss, dimension, nullity, graph."""
    from gradflow.numerics.mlp import MLPObjective
    from gradflow.numerics.symmetry import (dimension, graph_components, intersection_graph, labellings,
                                            nullity_formula, numeric_nullity, random_point, random_teacher, shallow,
                                            unpack)

    teacher = random_teacher(r, 2, 1, seed=seed)
    X = np.random.default_rng(seed + 100).normal(size=(n, 2))
    net = shallow(2, m, 1)
    objective = MLPObjective.create(net, X, teacher.outputs(X))
    rng = np.random.default_rng(seed + 1)
    labels = labellings(r, m)
    rows = []
    for lab in labels:
        losses, grads, nullities, formulas = [], [], [], []
        for _ in range(points):
            theta = random_point(teacher, lab, rng)
            loss, grad = objective.loss_and_gradient(theta)
            losses.append(loss)
            grads.append(float(np.linalg.norm(grad)))
            nullities.append(numeric_nullity(net, theta, X))
            formulas.append(nullity_formula(lab, r, 2, unpack(net, theta)[1]))
        rows.append({"lambda": lab.tolist(), "k": int(np.sum(lab == 0)),
                     "sizes": np.bincount(lab, minlength=r + 1)[1:].tolist(), "dim": dimension(lab, r, 2, 1),
                     "max_loss": float(max(losses)), "max_grad": max(grads), "nullity": nullities,
                     "nullity_formula": formulas})
    adjacency = intersection_graph(labels)
    return {"r_star": r, "m": m, "T_sum": expansion_count_sum(r, m), "T_closed_form": expansion_count(r, m),
            "T_enumerated": len(labels), "labellings": rows, "edges": int(np.sum(adjacency) // 2),
            "edge_list": np.argwhere(np.triu(adjacency)).tolist(),
            "connected": graph_components(adjacency) == 1} | _swap_path(teacher, net, objective, rng)


def _swap_path(teacher, net, objective, rng) -> dict:
    """Neurons 0 and 1 exchange roles at zero loss through a zero-type neuron (labelling 1..r*, 0, ..., 0;
    with r* = 1 neuron 1 is itself the zero-type one); none at m = r* (the minima are isolated points)."""
    from gradflow.numerics.symmetry import random_point, role_swap_path, swap_neurons

    r, m = teacher.width, net.layers[0].width
    if m == r:
        return {"swap_path_max_loss": None, "swap_path_points": 0, "swap_path_ends_swapped": None}
    labelling = np.array(list(range(1, r + 1)) + [0] * (m - r))
    theta = random_point(teacher, labelling, rng)
    path = role_swap_path(net, theta, labelling, 0, 1)
    return {"swap_path_max_loss": float(np.max(objective.loss_ensemble(path))), "swap_path_points": len(path),
            "swap_path_ends_swapped": bool(np.array_equal(path[-1], swap_neurons(net, theta, 1, 0, 1)))}


@dataclass(frozen=True)
class SymExpansionManifold(Experiment):
    name = "sym-expansion-manifold"
    summary = ("zero-loss subspaces of a wider student: T(r*, m) labellings, each at zero loss with the derived "
               "dimension and Hessian nullity; connected once one neuron is added")
    parameters = (_samples(300),
                  _seed("seed of the teacher and the points"))
    n: int = 300
    seed: int = 0

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        start = time.perf_counter()
        cases = [_expansion_case(r, m, self.n, self.seed, 1 if quick else 3)
                 for r, m in (EXPANSION_SIZES[:2] if quick else EXPANSION_SIZES)]
        table = {f"{r},{m}": expansion_count(r, m) for m in range(1, 11) for r in range(1, m + 1)}
        results = {"cases": cases, "T_table": table,
                   "all_zero_loss": all(row["max_loss"] <= 1e-25 for c in cases for row in c["labellings"]),
                   "nullity_as_derived": all(row["nullity"] == row["nullity_formula"]
                                             for c in cases for row in c["labellings"]),
                   "swap_path_max_loss": max(c["swap_path_max_loss"] for c in cases if c["m"] > c["r_star"])}
        arrays = {f"nullity_{c['r_star']}_{c['m']}": np.array([row["nullity"] for row in c["labellings"]])
                  for c in cases}
        return _reproduction(self, start, parameters={"n": self.n, "seed": self.seed, "quick": quick},
                             arrays=arrays, figures={"nullity_vs_formula": figures.nullity_vs_formula(cases),
                                                     "intersection_graph": figures.intersection_graphs(cases)},
                             report_markdown=_expansion_report(results), seeds=[self.seed], results=results)


def _expansion_report(results: dict) -> str:
    lines = ["# sym-expansion-manifold", "", "Softplus students without biases, d = 2, scalar output. A labelling "
             "maps each student neuron to a teacher role (a replica) or to 0 (a zero-type neuron, outgoing weight 0). "
             "Every labelling's subspace has zero loss; its dimension is k d + (m - k - r*) d_out and its Hessian "
             "nullity k d + sum_i (s_i - 1)(d + 1).", "",
             "| r* | m | T (sum) | T (closed form) | labellings | edges | connected | max loss | nullity = formula |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in results["cases"]:
        rows = c["labellings"]
        lines.append(f"| {c['r_star']} | {c['m']} | {c['T_sum']} | {c['T_closed_form']} | {c['T_enumerated']} | "
                     f"{c['edges']} | {'yes' if c['connected'] else 'no'} | {max(r['max_loss'] for r in rows):.1e} | "
                     f"{all(r['nullity'] == r['nullity_formula'] for r in rows)} |")
    lines += ["", "The intersection graph has no edges at m = r* (isolated permutations of the teacher) and is "
              "connected once m > r*.", "",
              "Role swap: neurons 0 and 1 of a point with labelling (1, ..., r*, 0, ..., 0) exchange their roles "
              "through a zero-type neuron (straight segments, three relocations); highest loss along the path:", ""]
    for c in results["cases"]:
        if c["swap_path_max_loss"] is not None:
            lines.append(f"- r* = {c['r_star']}, m = {c['m']}: {c['swap_path_max_loss']:.1e} over "
                         f"{c['swap_path_points']} points, ends at the swapped point exactly: "
                         f"{c['swap_path_ends_swapped']}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SymPaths(Experiment):
    name = "sym-paths"
    summary = ("paths from a minimum to each mirror image P_ij theta* through a permutation point; pairs whose "
               "merged network has no critical point are reported as refused")
    parameters = (_samples(400),
                  _seed("seed of the teacher and inputs"),
                  Parameter("steps", "int", 41, "an integer in [3, 401]", "shrink factors s per half path",
                            lambda v: 3 <= v <= 401))
    n: int = 400
    seed: int = 0
    steps: int = 41

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        from itertools import combinations

        from gradflow.numerics.mlp import MLPObjective
        from gradflow.numerics.symmetry import CriticalPointError, collision_path, mlp, teacher_data

        start = time.perf_counter()
        net = mlp([1, 4, 1])
        X, Y, theta_star = teacher_data(net, self.seed, self.n)
        objective = MLPObjective.create(net, X, Y)
        steps = min(self.steps, 11) if quick else self.steps
        pairs, profiles = [], {}
        chosen = [(0, 3), (0, 1)] if quick else list(combinations(range(4), 2))
        for i, j in tqdm(chosen, desc=self.name, unit="pair", disable=not progress):
            try:
                path = collision_path(objective, theta_star, 1, i, j, n_steps=steps)
            except CriticalPointError as refused:
                pairs.append({"i": i, "j": j, "refused": str(refused)})
                continue
            negative, zero, _ = _inertia(np.linalg.eigvalsh(objective.hessian(path.theta_P)))
            pairs.append({"i": i, "j": j, "loss_P": path.loss_P, "path_max": float(np.max(path.losses)),
                          "barrier": path.barrier, "grad_norm_P": path.grad_norm_P, "index": negative,
                          "zero_count": zero})
            profiles[f"{i},{j}"] = path.losses.tolist()
            pairs[-1] |= _plateau_paths(objective, path.theta_P, i, j, quick)
        reached = [p for p in pairs if "refused" not in p]
        results = {"pairs": pairs, "profiles": profiles, "loss_star": float(objective.loss(theta_star)),
                   "reached": len(reached), "refused": len(pairs) - len(reached),
                   "plateau_path_max_dev": max((p["plateau_path_max_dev"] for p in reached), default=None),
                   "plateau_paths_end_permuted": all(p["plateau_paths_end_permuted"] for p in reached)}
        arrays = {f"profile_{key.replace(',', '_')}": np.array(v) for key, v in profiles.items()}
        return _reproduction(self, start, parameters={"n": self.n, "seed": self.seed, "steps": steps, "quick": quick},
                             arrays=arrays, figures={"loss_along_paths": figures.loss_along_paths(profiles)},
                             report_markdown=_paths_report(results), seeds=[self.seed], results=results)


def _maybe(value) -> str:
    return "none (no pair reached)" if value is None else f"{value:.1e}"


def _plateau_paths(objective, theta_P, i: int, j: int, quick: bool) -> dict:
    """From theta_P to each permuted copy (every order of the four neurons; three in the quick variant)
    along the plateau and the free slot: the largest |L - L_P| / L_P, and whether each path ends at the
    permuted point exactly."""
    from itertools import permutations

    from gradflow.numerics.mlp.embeddings import permute
    from gradflow.numerics.symmetry import permutation_path

    net = objective.network
    loss_P = objective.loss(theta_P)
    orders = list(permutations(range(net.layers[0].width)))
    worst, exact = 0.0, True
    for order in orders[1:4] if quick else orders:
        order = np.array(order)
        path = permutation_path(net, theta_P, 1, i, j, order)
        worst = max(worst, float(np.max(np.abs(objective.loss_ensemble(path) - loss_P)) / loss_P))
        exact &= bool(np.array_equal(path[-1], permute(net, theta_P, 1, order)[1]))
    return {"plateau_path_max_dev": worst, "plateau_paths": min(3, len(orders) - 1) if quick else len(orders),
            "plateau_paths_end_permuted": exact}


def _paths_report(results: dict) -> str:
    lines = ["# sym-paths", "", "A [1, 4, 1] tanh network with biases; its teacher's parameters theta* are a zero-loss "
             "minimum. For each pair (i, j) the differences of neurons i and j are shrunk to zero with the loss "
             "minimised over the rest (continuation); the end, polished, is a permutation point theta_P, and the "
             "mirrored half leads on to P_ij theta*.", "",
             "| i | j | loss at theta_P | highest loss on the path | index | zero eigenvalues | abs(grad) at theta_P |",
             "|---|---|---|---|---|---|---|"]
    for p in results["pairs"]:
        if "refused" in p:
            lines.append(f"| {p['i']} | {p['j']} | refused: {p['refused'].replace('|', '')} | | | | |")
        else:
            lines.append(f"| {p['i']} | {p['j']} | {p['loss_P']:.4e} | {p['path_max']:.4e} | {p['index']} | "
                         f"{p['zero_count']} | {p['grad_norm_P']:.1e} |")
    lines += ["", f"{results['reached']} pairs reached a permutation point, {results['refused']} refused (the "
              "merged network's fit runs off to large outgoing weights: no critical point to 1e-12).", "",
              "From each permutation point to its permuted copies along the plateau (free slot, relocations): "
              f"largest relative loss deviation {_maybe(results['plateau_path_max_dev'])}; every path ends at the "
              f"permuted point exactly: {results['plateau_paths_end_permuted']}."]
    return "\n".join(lines) + "\n"


NETWORK_EXPERIMENTS = (SymPermutationPoints(), SymCriticalLines(), SymExpansionManifold(), SymPaths())
