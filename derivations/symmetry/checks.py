"""``gradflow check symmetry``: every SymPy claim of the derivation, the counting identities against
enumeration, and (numerics) permutation points of trained networks against what the theory says."""

from __future__ import annotations

from gradflow.numerics.compare import Verdict
from gradflow.theory.symmetry import (brute_force_higher_order, critical_count, expansion_count, expansion_count_sum,
                                      higher_order_bound, intersection_graph, is_connected, labellings, surjections)


def claim_verdicts(doc) -> list:
    return [Verdict.from_claim(name, claim) for name, claim in doc.claims.items()]


def count_verdicts(quick: bool) -> list:
    top = 6 if quick else 8
    expansion = all(len(labellings(r, m)) == expansion_count(r, m) == expansion_count_sum(r, m)
                    for m in range(1, top + 1) for r in range(1, m + 1))
    critical = all(len(surjections(m, r)) == critical_count(r, m) for m in range(1, top + 1) for r in range(1, m + 1))
    higher = all(brute_force_higher_order(widths, K) == higher_order_bound(widths, K)
                 for widths in ((2, 3), (4,), (5,)) for K in (1, 2))
    graphs = []
    for r_star, m in ((2, 2), (2, 3), (3, 4)):
        nodes, edges = intersection_graph(r_star, m)
        graphs.append(is_connected(len(nodes), edges) == (m > r_star))
    return [Verdict.symbolic(f"T(r*, m) = closed form = enumerated labellings, m <= {top}", expansion,
                             "exact integers", "exact"),
            Verdict.symbolic(f"G(r, m) = r! S(m, r) = enumerated surjections, m <= {top}", critical,
                             "exact integers", "exact"),
            Verdict.symbolic("higher-order bound = brute force, widths (2, 3), (4), (5), K = 1, 2", higher,
                             "exact integers", "exact"),
            Verdict.symbolic("intersection graph: disconnected at h = 0, connected at h >= 1", all(graphs),
                             "(r*, m) = (2, 2), (2, 3), (3, 4)", "exact")]


def numeric_verdicts(quick: bool) -> list:
    """Permutation points of trained networks: critical to rounding, the kernel count n_next - rank(B)
    (at least one), the old bound n_next holding exactly when B = 0, the plateau flat."""
    from gradflow.numerics.symmetry import permutation_point_report

    verdicts = []
    for sizes in ((2, 3, 1),) if quick else ((2, 3, 1), (3, 3, 2)):
        r = permutation_point_report(sizes, seed=0, n_samples=200 if quick else 400)
        label = f"[{','.join(map(str, sizes))}]"
        verdicts += [
            Verdict(f"{label}: permutation point critical", r.grad_norm <= 1e-12, r.grad_norm, 1e-12,
                    "duplicated clean reduced critical point", "|grad|_2"),
            Verdict.symbolic(f"{label}: zero eigenvalues = n_next - rank(B) >= 1",
                             r.zero_count == r.predicted_zero_count >= 1,
                             f"zero count {r.zero_count}, rank(B) {r.rank_B}, n_next {r.n_next}", "count"),
            Verdict.symbolic(f"{label}: the bound n_next holds iff B = 0", r.paper_claim_holds == (r.rank_B == 0),
                             f"bound holds: {r.paper_claim_holds}", "count"),
            Verdict(f"{label}: loss constant on the plateau", r.plateau_max_dev <= 1e-12, r.plateau_max_dev, 1e-12,
                    "random plateau offsets e", "max |L - L_P| / L_P"),
            Verdict(f"{label}: negative directions antisymmetric", r.max_antisym_residual <= 1e-8,
                    r.max_antisym_residual, 1e-8, "eigenvectors of negative eigenvalues", "max ||P v + v||")]
    return verdicts + [_role_swap_verdict()]


def _role_swap_verdict():
    """Two roles of a width-3 student of a width-2 teacher swapped through its zero-type neuron."""
    import numpy as np

    from gradflow.numerics.mlp import MLPObjective
    from gradflow.numerics.symmetry import random_point, random_teacher, role_swap_path, shallow, swap_neurons

    teacher = random_teacher(2, 2, 1, seed=0)
    X = np.random.default_rng(100).normal(size=(200, 2))
    net = shallow(2, 3, 1)
    objective = MLPObjective.create(net, X, teacher.outputs(X))
    labelling = np.array([1, 2, 0])
    theta = random_point(teacher, labelling, np.random.default_rng(1))
    path = role_swap_path(net, theta, labelling, 0, 1)
    worst = float(np.max(objective.loss_ensemble(path)))
    ends = bool(np.array_equal(path[-1], swap_neurons(net, theta, 1, 0, 1)))
    return Verdict("expansion manifold: role swap through a zero-type neuron at zero loss", worst <= 1e-25 and ends,
                   worst, 1e-25, f"(r*, m) = (2, 3), {len(path)} points, ends at P_01 theta: {ends}", "max loss")
