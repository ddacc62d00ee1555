"""Teacher-student data for permutation-point experiments: a one-hidden-layer (or deeper) teacher with
all parameters i.i.d. N(0, teacher_std^2) labels Gaussian inputs x ~ N(0, I)."""

from __future__ import annotations

import dataclasses

import numpy as np

from gradflow.theory.errors import require
from gradflow.theory.mlp.network import Layer, Network


def mlp(sizes, activation: str = "tanh", bias: bool = True) -> Network:
    """[n_0, n_1, ..., n_d]: hidden layers with ``activation``, a linear output, MSE loss."""
    sizes = tuple(int(s) for s in sizes)
    require(len(sizes) >= 3 and min(sizes) >= 1, "sizes", "[n_0, n_1, ..., n_d] with a hidden layer, all >= 1",
            sizes)
    hidden = tuple(Layer(n, activation, bias) for n in sizes[1:-1])
    return Network(sizes[0], hidden + (Layer(sizes[-1], "identity", bias),))


def narrowed(net: Network, layer: int, by: int = 1) -> Network:
    """``net`` with ``by`` fewer neurons in hidden ``layer`` (same activation)."""
    layers = list(net.layers)
    old = layers[layer - 1]
    require(old.width > by, "layer", f"a layer wider than {by}", old.width)
    layers[layer - 1] = dataclasses.replace(old, width=old.width - by, activation=old.activation[:old.width - by])
    return dataclasses.replace(net, layers=tuple(layers))


def teacher_data(net: Network, seed: int, n_samples: int = 400, teacher_std: float = 2.0):
    """(X, Y, theta_teacher): x ~ N(0, I), Y = f_teacher(X), teacher parameters N(0, teacher_std^2)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, teacher_std, net.n_params)
    X = rng.normal(size=(n_samples, net.input_dim))
    return X, net.forward(theta, X), theta


__all__ = ["mlp", "narrowed", "teacher_data"]
