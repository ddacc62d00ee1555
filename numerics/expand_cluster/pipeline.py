"""Expand-and-Cluster from trained students to a fine-tuned reconstruction compared with the teacher.

    result = expand_and_cluster(students, X, Y, "tanh", PipelineOptions(), teacher=teacher_weights)
    result.to_json()

1. ``cluster_layers``: every hidden layer clustered (deep students rebuilt and retrained in between).
2. Assembly: one network of widths K_1..K_L; hidden layers the collapsed vectors, output weights the
   winners' summed outgoing weights, output bias the students' mean.  The global correction the
   symmetries leave free (``assemble_affine``): classes none/odd/odd_constant shift the output bias by
   mean(y) - mean(f_rec(X)); the even+linear classes fit an affine skip Theta = lstsq([X, 1], y - f_rec).
3. Fine-tuning with the engine's ``train`` (flow, then Newton/BFGS) on all parameters.  The engine has
   no skip layer, so for one hidden layer Theta is carried by covert linear pairs of neurons
   (:mod:`~gradflow.numerics.expand_cluster.covert_pairs`), exact and trained with the rest;
   for deeper networks (or alpha = 0) Theta stays fixed and the network is fine-tuned on y - [X, 1] Theta.
4. Teacher comparison (when the teacher's weights are given): layer 1 directly; layer 2 after mapping the
   teacher's layer-1 basis onto the reconstruction through the layer-1 matches (permutation and signs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradflow.numerics.expand_cluster.affine import AffineCorrection, assemble_affine
from gradflow.numerics.expand_cluster.compare import TeacherComparison, compare_to_teacher
from gradflow.numerics.expand_cluster.covert_pairs import covert_pairs, pairs_affine
from gradflow.numerics.expand_cluster.expansion import TrainerSettings, warm_kernels
from gradflow.numerics.expand_cluster.layer_loop import LayerLoop, cluster_layers
from gradflow.numerics.expand_cluster.options import ClusteringOptions
from gradflow.numerics.expand_cluster.student_set import StudentSet
from gradflow.numerics.errors import DivergenceError, IntegrationError
from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.mlp.training import train
from gradflow.theory.errors import require
from gradflow.theory.expand_cluster import class_constants
from gradflow.theory.mlp import Layer, Network, activation as make_activation

SUCCESS_DISSIMILARITY = 1e-3


@dataclass(frozen=True)
class PipelineOptions:
    clustering: ClusteringOptions = field(default_factory=ClusteringOptions)
    layer_source: str = "retrained"
    freeze: bool = False
    retrain: TrainerSettings = field(default_factory=TrainerSettings)
    finetune: bool = True
    finetune_maxtime_ode: float = 60.0
    finetune_maxtime_optim: float = 30.0
    skip: str = "covert_pairs"  # even+linear, one hidden layer: "covert_pairs" (trained) or "fixed"

    def __post_init__(self):
        require(self.skip in ("covert_pairs", "fixed"), "skip", "covert_pairs or fixed", self.skip)


@dataclass(frozen=True)
class Reconstruction:
    """The assembled network (``theta_before``) and after fine-tuning (``theta_after``).  With covert pairs
    the hidden layer holds K neurons and then ``pairs`` pairs; ``theta_skip`` the affine skip fitted at
    assembly (None for a bias shift), ``skip_after`` the pairs' affine map after fine-tuning."""

    network: Network
    widths: tuple
    theta_before: np.ndarray
    theta_after: np.ndarray
    correction: AffineCorrection
    loss_before: float
    loss_after: float
    pairs: int
    skip_fixed: bool
    skip_after: np.ndarray | None
    pair_gap: float | None
    finetune_error: str | None = None  # why fine-tuning stopped without a result (theta_after = theta_before)

    def hidden(self, theta=None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per hidden layer: the K_l reconstructed neurons' incoming rows and outgoing columns (pairs excluded)."""
        theta = self.theta_after if theta is None else theta
        weights = self.network.unflatten(theta)
        out = []
        for l, K in enumerate(self.widths):
            out.append((np.array(weights[l][:K]), np.array(weights[l + 1][:, :K].T)))
        return out

    def skip_theta(self) -> np.ndarray | None:
        return self.skip_after if self.skip_after is not None else self.correction.theta

    def to_json(self) -> dict:
        return {"widths": list(self.widths), "network": self.network.describe(),
                "params_before": self.theta_before.tolist(), "params_after": self.theta_after.tolist(),
                "correction": self.correction.to_json(), "theta": None if self.skip_theta() is None
                else self.skip_theta().tolist(), "covert_pairs": self.pairs, "skip_fixed": self.skip_fixed,
                "pair_gap": self.pair_gap, "loss_before": self.loss_before, "loss_after": self.loss_after,
                "finetune_error": self.finetune_error}


@dataclass(frozen=True)
class ExpandClusterResult:
    activation: str
    activation_class: str
    options: PipelineOptions
    students: StudentSet
    loop: LayerLoop
    reconstruction: Reconstruction | None
    comparisons: tuple  # TeacherComparison per compared layer (empty without a teacher)
    teacher_widths: tuple | None

    @property
    def widths(self) -> tuple:
        return self.loop.widths

    @property
    def success(self) -> bool | None:
        """K_l = r*_l for every layer and every compared teacher neuron at d_w <= 1e-3 (None without a teacher)."""
        if self.teacher_widths is None:
            return None
        return bool(self.widths == tuple(self.teacher_widths) and len(self.comparisons) >= 1
                    and all(c.max_d_w <= SUCCESS_DISSIMILARITY for c in self.comparisons))

    def to_json(self, **extra) -> dict:
        c = self.options.clustering
        return {"variant": c.variant if isinstance(c.variant, str) else "".join(sorted(c.letters)),
                "gamma": c.gamma, "beta": c.beta, "N": self.students.size, **extra,
                "activation": self.activation, "activation_class": self.activation_class,
                "layer_source": self.options.layer_source, "freeze": self.options.freeze,
                "students": self.students.to_json(),
                "layers": [_layer_json(cl) for cl in self.loop.clusterings],
                "reconstruction": None if self.reconstruction is None else self.reconstruction.to_json(),
                "comparison": [cmp.to_json() for cmp in self.comparisons], "success": self.success}


def _layer_json(clustering) -> dict:
    return {"linkage": clustering.linkage.tolist(), "cut_height": float(clustering.cut_height),
            "counts": clustering.counts.tolist(), "clusters": [c.to_json() for c in clustering.clusters],
            "winner": clustering.winners.tolist(), "K": clustering.K}


def _assembled(loop: LayerLoop, activation: str):
    """The network of widths K_1..K_L and its weights: collapsed vectors, winners' outgoing, mean output bias."""
    last_students = loop.student_sets[-1]
    net = last_students.network
    widths = loop.widths
    layers = tuple(Layer(K, activation) for K in widths) + (net.layers[-1],)
    network = Network(net.input_dim, layers, net.loss, net.output_mean)
    weights = [c.incoming for c in loop.clusterings]
    out = loop.clusterings[-1].outgoing  # (K_L, m)
    biases = np.array([net.unflatten(t)[-1][:, -1] for t in last_students.thetas]).mean(axis=0)
    weights.append(np.c_[out.T, biases])
    return network, weights


def _with_pairs(network: Network, weights, skip: np.ndarray, alpha: float):
    v, a = covert_pairs(skip, alpha)
    K = network.layers[0].width
    wide = Network(network.input_dim, (Layer(K + len(v), network.layers[0].activation[0]), network.layers[1]),
                   network.loss, network.output_mean)
    W1 = np.vstack([weights[0], v])
    W2 = np.c_[weights[1][:, :K], a.T, weights[1][:, K:]]
    return wide, [W1, W2], len(v) // 2


def reconstruct(loop: LayerLoop, X, Y, activation: str, options: PipelineOptions) -> Reconstruction:
    """Assembly, global correction and fine-tuning (see the module)."""
    cls = class_constants(activation)
    network, weights = _assembled(loop, activation)
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float).reshape(len(X), -1)
    f_rec = network.forward(network.flatten(weights), X)
    correction = assemble_affine(X, Y, f_rec, cls.kind)
    targets, pairs, skip_fixed = Y, 0, False
    if correction.theta is None:
        weights[-1][:, -1] += correction.bias
    else:
        alpha = float(cls.alpha.subs(make_activation(activation).symbols()))  # leaky_relu's slope, say
        if network.depth == 2 and alpha != 0 and options.skip == "covert_pairs":
            network, weights, pairs = _with_pairs(network, weights, correction.theta, alpha)
        else:
            skip_fixed = True
            targets = Y - np.c_[X, np.ones(len(X))] @ correction.theta
    theta = network.flatten(weights)
    objective = MLPObjective.create(network, X, targets)
    before = objective.loss(theta)
    after_theta, after, finetune_error = theta, before, None
    if options.finetune and network.n_params:
        warm_kernels(objective, theta)
        try:
            result = train(objective, theta, maxtime_ode=options.finetune_maxtime_ode,
                           maxtime_optim=options.finetune_maxtime_optim, spectrum=False)
        except (IntegrationError, DivergenceError) as error:
            # the assembled network stands without its refinement; the record says why
            finetune_error = f"{type(error).__name__}: {error}"
        else:
            if result.loss <= before:
                after_theta, after = result.x, result.loss
    skip_after = gap = None
    if pairs:
        W = network.unflatten(after_theta)
        K = loop.widths[0]
        skip_after, gap = pairs_affine(W[0][K:], W[1][:, K:K + 2 * pairs].T, alpha)
    return Reconstruction(network, loop.widths, theta, after_theta, correction, float(before), float(after), pairs,
                          skip_fixed, skip_after, gap, finetune_error)


def compare_layers(reconstruction: Reconstruction, teacher: list, activation_class: str, mask=None,
                   theta=None) -> tuple[TeacherComparison, ...]:
    """Layer 1 against the teacher's first layer; layer 2 (deep teachers) after mapping the teacher's
    layer-1 basis through the layer-1 matches, when every teacher neuron has its own match.  Below the
    last hidden layer the outgoing weights live in different bases (teacher's and reconstruction's next
    layer), so there only their norms are compared (d_a is then 0 by construction; a_error compares norms)."""
    hidden = reconstruction.hidden(theta)
    depth = len(teacher) - 1
    out = []
    basis = None  # teacher layer-1 neuron j -> (reconstructed index, sign)
    for l in range(min(depth, len(hidden), 2)):
        T_in, T_next = np.asarray(teacher[l], dtype=float), np.asarray(teacher[l + 1], dtype=float)
        r = T_in.shape[0]
        T_out = T_next[:, :r].T
        if l == 1:
            if basis is None:
                break
            K_prev = hidden[0][0].shape[0]
            mapped = np.zeros((r, K_prev + 1))
            for j, (index, sign) in basis.items():
                mapped[:, index] += sign * T_in[:, j]
            mapped[:, -1] = T_in[:, -1]
            T_in = mapped
        R_in, R_out = hidden[l]
        if l + 1 < len(hidden):  # the next layer's bases differ: only the outgoing norms are comparable
            T_out = np.linalg.norm(T_out, axis=1, keepdims=True)
            R_out = np.linalg.norm(R_out, axis=1, keepdims=True)
        cmp = compare_to_teacher(T_in, T_out, R_in, R_out, activation_class, mask if l == 0 else None)
        out.append(cmp)
        if l == 0:
            matches = {int(cmp.order[i]): (int(cmp.matches[i]), float(cmp.signs[i])) for i in range(r)}
            distinct = len({m for m, _ in matches.values()}) == r
            basis = matches if distinct and activation_class in ("odd", "none") else None
    return tuple(out)


def expand_and_cluster(students: StudentSet, X, Y, activation: str, options: PipelineOptions = PipelineOptions(),
                       teacher: list | None = None, progress=None) -> ExpandClusterResult:
    """The clustering phase, assembly, fine-tuning and (with ``teacher``: its weight matrices W_1..W_{L+1}
    in the network layout) the comparison.  ``students`` are ranked (best first)."""
    cls = class_constants(activation).kind
    loop = cluster_layers(students, X, Y, cls, options.clustering, options.layer_source, options.freeze,
                          options.retrain, progress)
    complete = len(loop.clusterings) == students.network.depth - 1 and all(K > 0 for K in loop.widths)
    reconstruction = reconstruct(loop, X, Y, activation, options) if complete else None
    comparisons = ()
    if teacher is not None and reconstruction is not None:
        comparisons = compare_layers(reconstruction, teacher, cls, options.clustering.mask)
    widths = None if teacher is None else tuple(np.shape(W)[0] for W in teacher[:-1])
    return ExpandClusterResult(activation, cls, options, students, loop, reconstruction, comparisons, widths)
