"""``gradflow check expand-cluster``: the activation classes and their symmetries (SymPy and numbers on
z in [-10, 10]), the clustering rules on their worked examples, the covert-pair skip, the mean ablation of a
neuron that carries nothing, and a student
trained in an ensemble against the same student trained alone."""

from __future__ import annotations

import math

import numpy as np

from gradflow.numerics.compare import Verdict
from gradflow.theory.expand_cluster import EXPECTED_CLASSES, identity_residuals

IDENTITY_TOLERANCE = 1e-12


def class_verdicts(doc) -> list:
    verdicts = [Verdict.symbolic("derived activation classes = the class table", doc.table_matches,
                                 ", ".join(f"{n}: {c.kind}" for n, c in doc.classes.items()), "classification")]
    verdicts += [Verdict.from_claim(name, claim) for name, claim in doc.claims.items()]
    for name, kind in EXPECTED_CLASSES.items():
        residuals = identity_residuals(name, derived=doc.classes.get(name))
        if kind == "none":
            far = min(residuals.values())
            verdicts.append(Verdict.symbolic(f"{name}: no class identity holds (sum not constant, difference not linear)",
                                             far > 0.1, f"z in [-10, 10]: distance from every constant / line "
                                             f"{far:.3g} > 0.1", "numeric"))
        else:
            worst = max(residuals.values())
            verdicts.append(Verdict(f"{name}: {kind} identity in floating point", worst <= IDENTITY_TOLERANCE * 10,
                                    worst, IDENTITY_TOLERANCE * 10, "z in [-10, 10], 2001 points", "max abs"))
    return verdicts


def clustering_verdicts() -> list:
    """The cut rule's worked example and the alignment example, through the clustering phase's own code."""
    from gradflow.numerics.expand_cluster.alignment import median_cosine_distance
    from gradflow.numerics.expand_cluster.cut import cut_rule
    from gradflow.numerics.expand_cluster.hierarchy import build_linkage

    points = np.array([0, .01, .03, .06, 1, 1.02, 5, 5.05, 5.12, 10, 20])[:, None]
    cut = cut_rule(build_linkage(points, "average", "euclidean"), 2)
    spread = median_cosine_distance(np.array([[1, 0, 0], [1, 0.1, 0], [1, 0, 0.1]], dtype=float))
    return [Verdict(f"cut rule example: h* = 0.095 (counts {cut.counts.tolist()})",
                    abs(cut.cut_height - 0.095) <= 1e-12, abs(cut.cut_height - 0.095), 1e-12,
                    "11 points on a line, m = 2", "abs"),
            Verdict("alignment example: median cosine distance 4.96e-3 < 1 - cos(pi/6)",
                    abs(spread - 4.96e-3) < 1e-5 and spread < 1 - math.cos(math.pi / 6), abs(spread - 4.96e-3), 1e-5,
                    "(1, 0, 0), (1, 0.1, 0), (1, 0, 0.1)", "abs")]


def covert_pair_verdicts() -> list:
    """An affine skip as covert linear pairs equals the skip (softplus, relu, gelu)."""
    from gradflow.numerics.expand_cluster.covert_pairs import covert_pairs
    from gradflow.theory.expand_cluster import class_constants
    from gradflow.theory.mlp import activation

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    Xt = np.c_[X, np.ones(len(X))]
    theta = rng.normal(size=(4, 2))
    verdicts = []
    for name in ("softplus", "relu", "gelu"):
        act = activation(name)
        alpha = float(class_constants(name).alpha)
        v, a = covert_pairs(theta, alpha)
        f = act(Xt @ v.T) @ a
        err = float(np.max(np.abs(f - Xt @ theta)))
        verdicts.append(Verdict(f"{name}: {len(v) // 2} covert pairs = affine skip", err <= 1e-12, err, 1e-12,
                                "200 Gaussian inputs, D = 3, m = 2", "max abs"))
    return verdicts


def ablation_verdicts() -> list:
    """Variant f's measure: a layer-1 neuron with w = 0 (a constant output) and outgoing weights 3 into layer 2,
    its constant cancelled by the layer-2 biases, carries nothing to the output of a 2-4-2-1 tanh network."""
    from gradflow.numerics.expand_cluster.ablation import MeanAblation
    from gradflow.theory.mlp import Layer, Network

    rng = np.random.default_rng(0)
    net = Network(2, (Layer(4, "tanh"), Layer(2, "tanh"), Layer(1, "identity")))
    W1, W2, W3 = (rng.normal(size=shape) for shape in net.shapes)
    W1[3] = (0.0, 0.0, 0.5)
    W2[:, 3] = 3.0
    W2[:, 4] -= 3.0 * np.tanh(0.5)
    ablation = MeanAblation(net, net.flatten([W1, W2, W3])[None], rng.normal(size=(500, 2)), 1)
    effect, others = ablation.effect(0, [3]), min(ablation.effect(0, [j]) for j in range(3))
    return [Verdict(f"mean ablation: a constant layer-1 neuron with outgoing weights 3 has effect 0 (others >= "
                    f"{others:.2g})", effect <= 1e-14 and others > 1e-2, effect, 1e-14,
                    "2-4-2-1 tanh, 500 Gaussian inputs", "relative RMS")]


def input_curvature_verdicts() -> list:
    """The step "which inputs pin a neuron's weights": at a zero-loss point of a 4-3-2 tanh network the loss's
    curvature along (w_ik + delta, b_i - delta m_k) is at most 2 |a_i|^2 Var(x_k), for inputs of standard
    deviations 1, 0.3, 1e-2, 1e-4 around random means, and zero for a constant input."""
    from gradflow.numerics.mlp import MLPObjective
    from gradflow.theory.mlp import Layer, Network, random_params

    rng = np.random.default_rng(0)
    net = Network(4, (Layer(3, "tanh"), Layer(2, "identity")))
    theta = random_params(net, 0)
    X = rng.normal(size=(300, 4)) * np.array([1.0, 0.3, 1e-2, 1e-4]) + rng.normal(size=4)
    H = MLPObjective.create(net, X, net.forward(theta, X)).hessian(theta)
    index, A = net.unflatten(np.arange(net.n_params))[0], net.unflatten(theta)[1]
    worst = 0.0
    for neuron in range(3):
        for k in range(4):
            move = np.zeros(net.n_params)
            move[index[neuron, k]], move[index[neuron, -1]] = 1.0, -X[:, k].mean()
            worst = max(worst, float(move @ H @ move) / (2 * float(A[:, neuron] @ A[:, neuron]) * X[:, k].var()))
    X[:, 2] = 0.7  # a constant input
    H = MLPObjective.create(net, X, net.forward(theta, X)).hessian(theta)
    move = np.zeros(net.n_params)
    move[index[0, 2]], move[index[0, -1]] = 1.0, -0.7
    free = abs(float(move @ H @ move))
    return [Verdict("curvature along an input's weight <= 2 |a|^2 max(sigma')^2 Var(x_k) at zero loss",
                    worst <= 1 + 1e-9, worst, 1.0, "4-3-2 tanh, 300 inputs of std 1 to 1e-4, all 12 weights",
                    "largest ratio to the bound"),
            Verdict("a constant input leaves its weight free (curvature 0)", free <= 1e-14, free, 1e-14,
                    "the same network with input 3 constant", "abs")]


def ensemble_verdicts(quick: bool) -> list:
    """A student trained in an ensemble equals the same student trained alone (engine's train_ensemble)."""
    from gradflow.numerics.expand_cluster.toy_tasks import ToyTask
    from gradflow.numerics.mlp import MLPObjective
    from gradflow.numerics.mlp.training import train, train_ensemble

    task = ToyTask("tanh", 1, 0)
    network = task.network(2 * task.r_star)
    objective = MLPObjective.create(network, task.X[:200], task.y[:200])
    starts = np.array([task.student_init(2, m) for m in range(2 if quick else 6)])
    # iteration caps only: a wall-time cap (the trainer's default) would cut a member short on a loaded machine
    options = dict(maxiterations_ode=100 if quick else 1000, maxiterations_optim=5 if quick else 50, spectrum=False,
                   maxtime_ode=1e6, maxtime_optim=1e6)
    together = train_ensemble(objective, starts, workers=2, **options)
    alone = train(objective, starts[-1], **options)
    diff = float(np.max(np.abs(together[-1].x - alone.x)))
    return [Verdict("a student trained in an ensemble equals it trained alone", diff == 0.0, diff, 0.0,
                    f"tanh, {len(starts)} members, iteration caps (no wall-time caps)", "max abs")]


def all_verdicts(doc, quick: bool) -> list:
    return (class_verdicts(doc) + clustering_verdicts() + covert_pair_verdicts() + ablation_verdicts()
            + input_curvature_verdicts() + ensemble_verdicts(quick))
