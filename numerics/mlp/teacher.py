"""Comparing a trained student with its teacher: equal up to the symmetries of the hidden layer."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from gradflow.theory.errors import require
from gradflow.theory.mlp.network import Network


def aligned_distance(student: np.ndarray, teacher: np.ndarray, net: Network) -> float:
    """max |student - teacher| after matching the hidden neurons of a one-hidden-layer network: a
    permutation (found by linear_sum_assignment on the incoming weights) and, for odd activations,
    the sign of each neuron (incoming and outgoing weights flipped together)."""
    require(net.depth == 2, "net", "a network with one hidden layer", net.depth - 1)
    W1s, W2s = net.unflatten(student)
    W1t, W2t = net.unflatten(teacher)
    odd = all(a.odd for a in net.layers[0].activation)
    signs = (1.0, -1.0) if odd else (1.0,)
    k = W1s.shape[0]
    cost = np.full((k, k), np.inf)
    best_sign = np.ones((k, k))
    for i in range(k):
        for j in range(k):
            for s in signs:
                d = np.max(np.abs(s * W1s[i] - W1t[j]))
                if d < cost[i, j]:
                    cost[i, j], best_sign[i, j] = d, s
    rows, cols = linear_sum_assignment(cost)
    worst = 0.0
    for i, j in zip(rows, cols):
        s = best_sign[i, j]
        worst = max(worst, np.max(np.abs(s * W1s[i] - W1t[j])), np.max(np.abs(s * W2s[:, i] - W2t[:, j])))
    worst = max(worst, np.max(np.abs(W2s[:, k:] - W2t[:, k:]))) if W2s.shape[1] > k else worst
    return float(worst)
