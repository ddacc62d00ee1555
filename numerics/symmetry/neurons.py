"""Where a hidden neuron lives in the flat parameter vector, and the transposition P_ij of two neurons.

Hidden neuron ``i`` of hidden layer ``layer`` (1 .. L-1) owns its incoming vector w_i (row ``i`` of
W_layer, bias last) and its outgoing vector u_i (column ``i`` of W_{layer+1}).  P_ij swaps
(w_i, u_i) with (w_j, u_j): a permutation of coordinates, so an orthogonal involution, and the loss
is invariant under it.
"""

from __future__ import annotations

import numpy as np

from gradflow.theory.errors import require


def check_hidden_layer(net, layer) -> int:
    top = len(net.layers) - 1
    require(isinstance(layer, (int, np.integer)) and not isinstance(layer, bool) and 1 <= layer <= top,
            "layer", f"a hidden layer index in 1..{top}", layer)
    return int(layer)


def check_neuron(net, layer: int, i, name: str = "i") -> int:
    width = net.layers[layer - 1].width
    require(isinstance(i, (int, np.integer)) and not isinstance(i, bool) and 0 <= i < width,
            name, f"a neuron index in 0..{width - 1}", i)
    return int(i)


def neuron_indices(net, layer: int, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(incoming, outgoing): the positions in theta of w_i (n_{k-1} [+1] entries) and u_i (n_{k+1})."""
    layer = check_hidden_layer(net, layer)
    i = check_neuron(net, layer, i)
    _, cols = net.shapes[layer - 1]
    rows_next, cols_next = net.shapes[layer]
    incoming = net.offsets[layer - 1] + i * cols + np.arange(cols)
    outgoing = net.offsets[layer] + np.arange(rows_next) * cols_next + i
    return incoming, outgoing


def transposition(net, layer: int, i: int, j: int) -> np.ndarray:
    """The index array ``perm`` with P_ij theta = theta[perm] (P_ij is its own inverse)."""
    inc_i, out_i = neuron_indices(net, layer, i)
    inc_j, out_j = neuron_indices(net, layer, j)
    require(i != j, "j", "a neuron other than i", j)
    perm = np.arange(net.n_params)
    perm[np.concatenate([inc_i, out_i])] = np.concatenate([inc_j, out_j])
    perm[np.concatenate([inc_j, out_j])] = np.concatenate([inc_i, out_i])
    return perm


def transposition_matrix(net, layer: int, i: int, j: int) -> np.ndarray:
    """P_ij as a dense P x P permutation matrix (small nets, tests and Hessian blocks)."""
    return np.eye(net.n_params)[transposition(net, layer, i, j)]


def swap_neurons(net, theta, layer: int, i: int, j: int) -> np.ndarray:
    theta = np.asarray(theta, dtype=float)
    require(theta.shape == (net.n_params,), "theta", f"a vector of length {net.n_params}", theta.shape)
    return theta[transposition(net, layer, i, j)]


__all__ = ["check_hidden_layer", "check_neuron", "neuron_indices", "swap_neurons", "transposition",
           "transposition_matrix"]
