"""The clustering phase over all hidden layers of deep students (layer by layer).

Layer 1 is clustered from the trained students.  For a deeper layer l + 1, every student n is rebuilt in
the reconstructed basis: layers 1..l become the reconstruction (K_1..K_l neurons, the same for all
students), layer l + 1's incoming weights become its summed outgoing weights a_sum[n] (its next layer seen
through the merged neurons) with its own biases, deeper layers stay its own.  Then

- ``layer_source="retrained"`` (default): all N rebuilt students are retrained (everything free, or with
  ``freeze=True`` the reconstructed layers fixed) and layer l + 1 is clustered from them;
- ``layer_source="original"``: no retraining; layer l + 1 is clustered from the rebuilt originals.  (Each
  original student's own layer l + 1 lives in its own neuron order; seen through a_sum[n] it is in the
  common reconstructed basis, where vectors of different students can be compared.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gradflow.numerics.expand_cluster.ablation import MeanAblation
from gradflow.numerics.expand_cluster.expansion import TrainerSettings, train_students
from gradflow.numerics.expand_cluster.frozen import FrozenObjective
from gradflow.numerics.expand_cluster.layer import LayerClustering, cluster_layer
from gradflow.numerics.expand_cluster.options import ClusteringOptions
from gradflow.numerics.expand_cluster.student_set import StudentSet
from gradflow.numerics.mlp import MLPObjective
from gradflow.theory.errors import require
from gradflow.theory.mlp import Layer, Network

LAYER_SOURCES = ("retrained", "original")


@dataclass(frozen=True)
class LayerLoop:
    """Every hidden layer's clustering, and the student sets each was read from."""

    clusterings: tuple[LayerClustering, ...]
    student_sets: tuple[StudentSet, ...]  # student_sets[l - 1]: the students layer l was clustered from

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(c.K for c in self.clusterings)


def _narrowed(network: Network, layer: int, width: int) -> Network:
    """``network`` with hidden layer ``layer`` (1-based) ``width`` neurons wide."""
    layers = list(network.layers)
    old = layers[layer - 1]
    layers[layer - 1] = Layer(width, old.activation[0], old.bias)
    return Network(network.input_dim, tuple(layers), network.loss, network.output_mean)


def rebuilt_students(students: StudentSet, layer: int, clustering: LayerClustering,
                     lower: list[np.ndarray]) -> tuple[Network, np.ndarray]:
    """Every student in the reconstructed basis of hidden ``layer``: layers < layer = ``lower`` (the
    reconstructed incoming matrices so far), layer = the collapsed vectors, layer + 1 = [a_sum[n]^T, own bias]."""
    network = _narrowed(students.network, layer, clustering.K)
    thetas = []
    for n, theta in enumerate(students.thetas):
        weights = [np.array(W) for W in students.network.unflatten(theta)]
        weights[:layer - 1] = [np.array(W) for W in lower]
        weights[layer - 1] = clustering.incoming.copy()
        nxt = weights[layer]
        bias = nxt[:, -1:] if students.network.layers[layer].bias else np.zeros((nxt.shape[0], 0))
        weights[layer] = np.concatenate([clustering.a_sum[n].T, bias], axis=1)
        thetas.append(network.flatten(weights))
    return network, np.array(thetas)


def _retrain(network, thetas, X, Y, settings: TrainerSettings, freeze_upto: int | None, members) -> StudentSet:
    if freeze_upto is None:
        return train_students(network, X, Y, thetas, settings, members=members)
    base = MLPObjective.create(network, X, Y)
    free = np.arange(network.offsets[freeze_upto], network.n_params)
    frozen = FrozenObjective(base, thetas[0], free)  # the frozen layers are the same for every student
    reduced = train_students(network, X, Y, thetas[:, free], settings, members=members, objective=frozen)
    full = np.array([frozen.full(x) for x in reduced.thetas])
    return StudentSet(network, full, reduced.losses, reduced.gnorms, reduced.converged, reduced.members,
                      reduced.variance)


def cluster_layers(students: StudentSet, X, Y, activation_class: str, options: ClusteringOptions = ClusteringOptions(),
                   layer_source: str = "retrained", freeze: bool = False,
                   retrain: TrainerSettings = TrainerSettings(), progress=None) -> LayerLoop:
    """Cluster hidden layers 1..L of ``students`` (ranked), rebuilding and retraining between layers."""
    require(layer_source in LAYER_SOURCES, "layer_source", f"one of {', '.join(LAYER_SOURCES)}", layer_source)
    depth = students.network.depth - 1
    clusterings, sets, lower, current = [], [], [], students
    for layer in range(1, depth + 1):
        layer_options = options if layer == 1 else replace(options, mask=None)  # the mask is the input's
        incoming, outgoing = current.layer_vectors(layer)
        ablation = MeanAblation(current.network, current.thetas, X, layer) if "f" in options.letters else None
        clustering = cluster_layer(incoming, outgoing, current.losses, activation_class, layer_options,
                                   last_layer=layer == depth, ablation=ablation)
        clusterings.append(clustering)
        sets.append(current)
        if progress:
            progress(f"layer {layer}: K = {clustering.K}")
        if layer == depth or clustering.K == 0:
            break
        network, thetas = rebuilt_students(current, layer, clustering, lower)
        lower = lower + [clustering.incoming.copy()]
        if layer_source == "original":
            current = StudentSet(network, thetas, current.losses, current.gnorms, current.converged, current.members,
                                 current.variance)
        else:
            current = _retrain(network, thetas, X, Y, retrain, layer if freeze else None, current.members)
    return LayerLoop(tuple(clusterings), tuple(sets))
