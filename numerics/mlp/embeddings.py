"""Function-preserving maps between networks: split, add, remove, permute, scale and flip hidden neurons.

Each map takes a network description and a flat parameter vector and returns a new pair
``(network, theta)``.  Hidden layers are counted ``1 .. L-1`` (layer ``L`` is the output).  A hidden
neuron ``i`` of layer ``l`` owns row ``i`` of ``W_l`` (its incoming weights, bias last) and column ``i``
of ``W_{l+1}`` (its outgoing weights).  Every map except :func:`remove_neuron` leaves the network
function unchanged up to rounding; these are the symmetry-induced embeddings of a narrow network into
a wider one used to study saddles and plateaus (as in MLPGradientFlow.jl, here for any depth).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gradflow.theory.errors import require
from gradflow.theory.mlp.activations import activation as activation_by_name


def _hidden_layer(net, layer) -> int:
    n_layers = len(net.layers)
    require(isinstance(layer, (int, np.integer)) and 1 <= layer <= n_layers - 1, "layer",
            f"a hidden layer index in 1..{n_layers - 1}", layer)
    return int(layer)


def _neuron(net, layer: int, i, name: str, allow_end: bool = False) -> int:
    width = net.layers[layer - 1].width
    top = width if allow_end else width - 1
    require(isinstance(i, (int, np.integer)) and 0 <= i <= top, name, f"a neuron index in 0..{top}", i)
    return int(i)


def _weights(net, theta) -> list[np.ndarray]:
    theta = np.asarray(theta, dtype=float)
    require(theta.shape == (net.n_params,), "theta", f"a vector of length {net.n_params}", theta.shape)
    return [np.array(w, dtype=float, copy=True) for w in net.unflatten(theta)]


def _rebuilt(net, layer: int, activations: tuple) -> object:
    """``net`` with hidden layer ``layer`` given the per-neuron ``activations`` (and matching width)."""
    layers = list(net.layers)
    layers[layer - 1] = dataclasses.replace(layers[layer - 1], width=len(activations),
                                            activation=tuple(activations))
    return dataclasses.replace(net, layers=tuple(layers))


def _result(new_net, weights):
    return new_net, np.asarray(new_net.flatten(weights), dtype=float)


def split_neuron(net, theta, layer: int, i: int, gamma: float = 0.5, j: int | None = None):
    """Duplicate neuron ``i`` of hidden ``layer`` into a new neuron at position ``j`` (default: last).

    Both copies keep neuron ``i``'s incoming row; the outgoing column ``a_i`` is shared as
    ``gamma * a_i`` (kept at ``i``) and ``(1 - gamma) * a_i`` (new neuron).  Indices refer to the old
    layer for ``i`` and to the new layer for ``j``.
    """
    layer = _hidden_layer(net, layer)
    i = _neuron(net, layer, i, "i")
    width = net.layers[layer - 1].width
    j = width if j is None else _neuron(net, layer, j, "j", allow_end=True)
    require(np.isfinite(gamma), "gamma", "a finite number", gamma)
    weights = _weights(net, theta)
    w_in, w_out = weights[layer - 1], weights[layer]
    a_i = w_out[:, i].copy()
    w_out[:, i] = gamma * a_i
    weights[layer - 1] = np.insert(w_in, j, w_in[i], axis=0)
    weights[layer] = np.insert(w_out, j, (1.0 - gamma) * a_i, axis=1)
    acts = list(net.layers[layer - 1].activation)
    acts.insert(j, acts[i])
    return _result(_rebuilt(net, layer, tuple(acts)), weights)


def add_neuron(net, theta, layer: int, w_in, a_out=0.0, activation=None, position: int | None = None):
    """Insert a neuron with incoming weights ``w_in`` (bias last, if the layer has one) and outgoing
    weights ``a_out`` (a scalar or one value per next-layer neuron) at ``position`` (default: last).

    With ``a_out = 0`` the network function is unchanged.  ``activation`` (an ``MLPActivation`` or its
    name) defaults to the layer's activation when all its neurons share one.
    """
    layer = _hidden_layer(net, layer)
    weights = _weights(net, theta)
    w, w_next = weights[layer - 1], weights[layer]
    width = w.shape[0]
    position = width if position is None else _neuron(net, layer, position, "position", allow_end=True)
    w_in = np.asarray(w_in, dtype=float)
    require(w_in.shape == (w.shape[1],), "w_in", f"a vector of length {w.shape[1]}", w_in.shape)
    require(bool(np.all(np.isfinite(w_in))), "w_in", "finite", w_in)
    a_out = np.broadcast_to(np.asarray(a_out, dtype=float), (w_next.shape[0],)) \
        if np.ndim(a_out) == 0 else np.asarray(a_out, dtype=float)
    require(a_out.shape == (w_next.shape[0],), "a_out",
            f"a scalar or a vector of length {w_next.shape[0]}", a_out.shape)
    acts = list(net.layers[layer - 1].activation)
    if activation is None:
        names = {a.name for a in acts}
        require(len(names) == 1, "activation", "given when the layer mixes activations", sorted(names))
        new_act = acts[0]
    else:
        new_act = activation_by_name(activation)
    weights[layer - 1] = np.insert(w, position, w_in, axis=0)
    weights[layer] = np.insert(w_next, position, a_out, axis=1)
    acts.insert(position, new_act)
    return _result(_rebuilt(net, layer, tuple(acts)), weights)


def remove_neuron(net, theta, layer: int, i: int):
    """Delete neuron ``i`` of hidden ``layer`` (its row and its outgoing column).  The function is
    unchanged only if the neuron's outgoing weights were zero."""
    layer = _hidden_layer(net, layer)
    i = _neuron(net, layer, i, "i")
    require(net.layers[layer - 1].width > 1, "layer", "a layer with more than one neuron", layer)
    weights = _weights(net, theta)
    weights[layer - 1] = np.delete(weights[layer - 1], i, axis=0)
    weights[layer] = np.delete(weights[layer], i, axis=1)
    acts = list(net.layers[layer - 1].activation)
    del acts[i]
    return _result(_rebuilt(net, layer, tuple(acts)), weights)


def permute(net, theta, layer: int, order):
    """Reorder the neurons of hidden ``layer``: new neuron ``p`` is old neuron ``order[p]``."""
    layer = _hidden_layer(net, layer)
    width = net.layers[layer - 1].width
    order = np.asarray(order)
    require(order.shape == (width,) and np.issubdtype(order.dtype, np.integer)
            and np.array_equal(np.sort(order), np.arange(width)),
            "order", f"a permutation of 0..{width - 1}", order)
    weights = _weights(net, theta)
    weights[layer - 1] = weights[layer - 1][order]
    nxt = weights[layer]
    weights[layer] = np.concatenate([nxt[:, :width][:, order], nxt[:, width:]], axis=1)
    acts = net.layers[layer - 1].activation
    return _result(_rebuilt(net, layer, tuple(acts[k] for k in order)), weights)


def scale_neuron(net, theta, layer: int, i: int, c: float):
    """Multiply neuron ``i``'s incoming row by ``c > 0`` and divide its outgoing column by ``c``:
    exact for positively homogeneous activations (relu, leaky_relu, abs, identity) only."""
    layer = _hidden_layer(net, layer)
    i = _neuron(net, layer, i, "i")
    require(np.isfinite(c) and c > 0, "c", "a finite positive number", c)
    act = net.layers[layer - 1].activation[i]
    require(act.positively_homogeneous, "i",
            "a neuron with a positively homogeneous activation (relu, leaky_relu, abs, identity)", act.name)
    weights = _weights(net, theta)
    weights[layer - 1][i] *= c
    weights[layer][:, i] /= c
    return _result(net, weights)


def flip_neuron(net, theta, layer: int, i: int):
    """Negate neuron ``i``'s incoming row and outgoing column: exact for odd activations only."""
    layer = _hidden_layer(net, layer)
    i = _neuron(net, layer, i, "i")
    act = net.layers[layer - 1].activation[i]
    require(bool(act.odd), "i", "a neuron with an odd activation", act.name)
    weights = _weights(net, theta)
    weights[layer - 1][i] *= -1.0
    weights[layer][:, i] *= -1.0
    return _result(net, weights)


__all__ = ["split_neuron", "add_neuron", "remove_neuron", "permute", "scale_neuron", "flip_neuron"]
