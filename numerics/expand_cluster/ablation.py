"""How much of a student's output a set of its hidden neurons carries: mean ablation (variant f).

Replace the outputs h_i of some neurons of hidden layer l by their means over the inputs (a constant, which
the next layer's bias could absorb) and run the rest of the network: the output changes by delta(x).  The
effect is RMS_x |delta(x)| (over the outputs too) divided by the spread of the student's own output,
RMS_x |f(x) - mean f|.  In the last hidden layer delta = sum_i a_i (h_i - mean h_i): zero for neurons
without outgoing weight and for duplicates whose outgoing weights cancel (what variants a and c test on
the weights).  In deeper layers the weights do not tell: a neuron with large outgoing weights may still
carry almost nothing to the output (nearly constant on the inputs, or cancelled downstream), and only a
pass through the layers above shows it.
"""

from __future__ import annotations

import numpy as np

from gradflow.theory.errors import require
from gradflow.theory.mlp import Network

MAX_INPUTS = 2000  # the effect is a mean over inputs: the first ones suffice


class MeanAblation:
    """Mean-ablation effects of neuron sets of hidden ``layer`` (1-based) for each student ``thetas[n]``."""

    def __init__(self, network: Network, thetas, X, layer: int):
        require(1 <= layer < network.depth, "layer", f"a hidden layer in 1..{network.depth - 1}", layer)
        self.network, self.layer = network, layer
        self.thetas = np.asarray(thetas, dtype=float)
        self.X = np.asarray(X, dtype=float)[:MAX_INPUTS]
        self._hidden: dict[int, tuple] = {}

    def _student(self, n: int):
        """(weights, the layer's outputs h, the output's spread) of student n, computed once."""
        if n not in self._hidden:
            weights = self.network.unflatten(self.thetas[n])
            a = self.X
            for index in range(self.layer):
                a = self.network.apply_layer(index, weights[index], a)
            f = self._above(weights, a)
            spread = float(np.sqrt(np.mean(np.sum((f - f.mean(axis=0)) ** 2, axis=1))))
            self._hidden[n] = (weights, a, f, spread)
        return self._hidden[n]

    def _above(self, weights, a: np.ndarray) -> np.ndarray:
        for index in range(self.layer, self.network.depth):
            a = self.network.apply_layer(index, weights[index], a)
        return a

    def effect(self, n: int, neurons) -> float:
        """RMS change of student n's output when ``neurons`` (indices within the layer) output their means,
        relative to the spread of its output (0 for a constant output)."""
        weights, h, f, spread = self._student(n)
        neurons = np.asarray(neurons, dtype=int)
        ablated = h.copy()
        ablated[:, neurons] = h[:, neurons].mean(axis=0)
        delta = self._above(weights, ablated) - f
        rms = float(np.sqrt(np.mean(np.sum(delta ** 2, axis=1))))
        return rms / spread if spread > 0 else 0.0
