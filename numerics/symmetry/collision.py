"""Permutation points and the split of parameter space into the collision subspace and its complement.

The collision subspace S_ij = Fix(P_ij) = {w_i = w_j, u_i = u_j}; its orthogonal complement is the
antisymmetric space {P_ij v = -v}, spanned by (e, -e) on (u_i, u_j) and (q, -q) on (w_i, w_j).
A permutation point is a critical point of the loss restricted to S_ij; duplicating a critical point
of the network with one neuron fewer (both copies get its incoming vector, each half its outgoing
vector) gives one, at the same loss.
"""

from __future__ import annotations

import numpy as np

from gradflow.numerics.mlp.embeddings import split_neuron
from gradflow.numerics.symmetry.neurons import check_hidden_layer, check_neuron, neuron_indices


def permutation_point(net, theta_red, layer: int, i: int):
    """(wide network, theta_P, j): neuron ``i`` of the reduced ``net`` duplicated, the copy appended as
    neuron j = n_k - 1 of the wide layer, outgoing vector halved between the two."""
    layer = check_hidden_layer(net, layer)
    i = check_neuron(net, layer, i)
    wide, theta = split_neuron(net, theta_red, layer, i, gamma=0.5)
    return wide, theta, net.layers[layer - 1].width


def antisymmetric_basis(net, layer: int, i: int, j: int) -> np.ndarray:
    """Orthonormal columns spanning {P_ij v = -v}: first the n_{k+1} outgoing directions e (the
    plateau), then the n_{k-1} [+1] incoming directions q."""
    layer = check_hidden_layer(net, layer)
    inc_i, out_i = neuron_indices(net, layer, i)
    inc_j, out_j = neuron_indices(net, layer, j)
    first = np.concatenate([out_i, inc_i])
    second = np.concatenate([out_j, inc_j])
    basis = np.zeros((net.n_params, first.size))
    columns = np.arange(first.size)
    basis[first, columns] = 1.0 / np.sqrt(2.0)
    basis[second, columns] = -1.0 / np.sqrt(2.0)
    return basis


def symmetric_basis(net, layer: int, i: int, j: int) -> np.ndarray:
    """Orthonormal columns spanning Fix(P_ij): every coordinate outside the two neurons, then
    (e_a + e_b)/sqrt(2) for each swapped pair of coordinates."""
    layer = check_hidden_layer(net, layer)
    inc_i, out_i = neuron_indices(net, layer, i)
    inc_j, out_j = neuron_indices(net, layer, j)
    first = np.concatenate([out_i, inc_i])
    second = np.concatenate([out_j, inc_j])
    others = np.setdiff1d(np.arange(net.n_params), np.concatenate([first, second]))
    basis = np.zeros((net.n_params, others.size + first.size))
    basis[others, np.arange(others.size)] = 1.0
    columns = others.size + np.arange(first.size)
    basis[first, columns] = 1.0 / np.sqrt(2.0)
    basis[second, columns] = 1.0 / np.sqrt(2.0)
    return basis


__all__ = ["antisymmetric_basis", "permutation_point", "symmetric_basis"]
