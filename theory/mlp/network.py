"""A multilayer perceptron: its layers, its loss, and the layout of its parameter vector.

a_0 = x; z_l = W_l [a_{l-1}; 1] (or W_l a_{l-1} without bias); a_l = sigma_l(z_l); f = a_L.
W_l is k_l x (k_{l-1} + bias_l) with the bias in the last column, and theta is W_1, ..., W_L
flattened row-major and concatenated.  Each neuron may have its own activation.

Losses, on the mean over samples with weights w_n >= 0 (not renormalised):
  mse: L = (1/N) sum_n w_n |f(x_n) - y_n|^2 (summed over outputs, no 1/2; divided by k_L when
       ``output_mean``);
  nll: L = -(1/N) sum_n w_n sum_c t_nc log softmax(z_L)_c (labels or probability rows t).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from gradflow.theory.errors import ParameterError, require
from gradflow.theory.mlp.activations import MLPActivation, activation

LOSSES = ("mse", "nll")


def _as_activation(value) -> MLPActivation:
    if isinstance(value, MLPActivation):
        return value
    if isinstance(value, str):
        return activation(value)
    raise ParameterError("activation", "an activation name or MLPActivation", value)


@dataclass(frozen=True)
class Layer:
    """``width`` neurons, one activation each (a single one is repeated), with or without biases."""

    width: int
    activation: tuple = ("identity",)
    bias: bool = True

    def __post_init__(self):
        require(isinstance(self.width, (int, np.integer)) and not isinstance(self.width, bool) and self.width >= 1,
                "width", "an integer >= 1", self.width)
        object.__setattr__(self, "width", int(self.width))
        acts = self.activation
        if isinstance(acts, (str, MLPActivation)):
            acts = (acts,)
        acts = tuple(_as_activation(a) for a in acts)
        if len(acts) == 1:
            acts = acts * self.width
        require(len(acts) == self.width, "activation", f"one activation or {self.width} (one per neuron)",
                len(acts))
        object.__setattr__(self, "activation", acts)
        object.__setattr__(self, "bias", bool(self.bias))

    @property
    def groups(self) -> tuple[tuple[MLPActivation, int, int], ...]:
        """Runs of equal activations: (activation, first neuron, end)."""
        runs, start = [], 0
        while start < self.width:
            stop = start
            while stop < self.width and self.activation[stop] == self.activation[start]:
                stop += 1
            runs.append((self.activation[start], start, stop))
            start = stop
        return tuple(runs)

    @property
    def is_softmax(self) -> bool:
        return self.activation[0].name == "softmax"


@dataclass(frozen=True)
class Network:
    input_dim: int
    layers: tuple
    loss: str = "mse"
    output_mean: bool = False

    def __post_init__(self):
        require(isinstance(self.input_dim, (int, np.integer)) and not isinstance(self.input_dim, bool)
                and self.input_dim >= 1, "input_dim", "an integer >= 1", self.input_dim)
        object.__setattr__(self, "input_dim", int(self.input_dim))
        layers = tuple(self.layers)
        require(len(layers) >= 1 and all(isinstance(layer, Layer) for layer in layers), "layers",
                "one Layer or more", self.layers)
        object.__setattr__(self, "layers", layers)
        require(self.loss in LOSSES, "loss", f"one of {', '.join(LOSSES)}", self.loss)
        for index, layer in enumerate(layers, start=1):
            if any(a.name == "softmax" for a in layer.activation):
                require(index == len(layers), "activation", "softmax only in the last layer", f"layer {index}")
                require(all(a.name == "softmax" for a in layer.activation), "activation",
                        "softmax on every neuron of the output layer", f"layer {index}")
                require(self.loss == "nll", "loss", "nll with a softmax output", self.loss)
        if self.loss == "nll":
            require(layers[-1].is_softmax, "loss", "mse unless the output layer is softmax (nll needs logits)",
                    self.loss)

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def widths(self) -> tuple[int, ...]:
        """(D0, k_1, ..., k_L)."""
        return (self.input_dim, *(layer.width for layer in self.layers))

    @property
    def output_dim(self) -> int:
        return self.layers[-1].width

    @cached_property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        widths = self.widths
        return tuple((layer.width, widths[i] + layer.bias) for i, layer in enumerate(self.layers))

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Where each W_l starts in theta, and the total (L + 1 numbers)."""
        out = [0]
        for rows, cols in self.shapes:
            out.append(out[-1] + rows * cols)
        return tuple(out)

    @property
    def n_params(self) -> int:
        return self.offsets[-1]

    def unflatten(self, theta) -> list[np.ndarray]:
        """W_1, ..., W_L as views of theta (or of each row of an (E, P) ensemble)."""
        theta = np.asarray(theta)
        require(theta.shape[-1:] == (self.n_params,), "theta", f"a vector of {self.n_params} parameters",
                theta.shape)
        return [theta[..., a:b].reshape(*theta.shape[:-1], *shape)
                for (a, b), shape in zip(zip(self.offsets, self.offsets[1:]), self.shapes)]

    def flatten(self, weights) -> np.ndarray:
        weights = list(weights)
        require(len(weights) == self.depth, "weights", f"{self.depth} matrices", len(weights))
        for index, (W, shape) in enumerate(zip(weights, self.shapes), start=1):
            require(np.shape(W) == shape, f"W_{index}", f"of shape {shape}", np.shape(W))
        return np.concatenate([np.asarray(W, dtype=float).ravel() for W in weights])

    def forward(self, theta, X, *, pre_activations: bool = False) -> np.ndarray:
        """f(X) in plain NumPy: (N, k_L); a softmax network returns its logits z_L."""
        X = np.asarray(X, dtype=float)
        require(X.ndim == 2 and X.shape[1] == self.input_dim, "X", f"of shape (N, {self.input_dim})", X.shape)
        a = X
        for index, W in enumerate(self.unflatten(theta)):
            a = self.apply_layer(index, W, a)
        return a

    def apply_layer(self, index: int, W: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Layer ``index`` (0-based) with weights ``W`` on the previous layer's outputs ``a`` (N, k_{l-1})."""
        layer = self.layers[index]
        zl = a @ W[:, :a.shape[1]].T + (W[:, -1] if layer.bias else 0.0)
        out = np.empty_like(zl)
        for act, start, stop in layer.groups:
            out[:, start:stop] = act(zl[:, start:stop])
        return out

    def describe(self) -> str:
        """The network in the ``layers=`` notation: D0,WIDTH:ACT[:nobias],..."""
        parts = [str(self.input_dim)]
        for index, layer in enumerate(self.layers, start=1):
            groups = layer.groups
            act = str(groups[0][0]) if len(groups) == 1 else "+".join(f"{a}*{b - s}" for a, s, b in groups)
            if index == self.depth and act == "identity":  # the output's default
                parts.append(f"{layer.width}" + ("" if layer.bias else ":nobias"))
            else:
                parts.append(f"{layer.width}:{act}" + ("" if layer.bias else ":nobias"))
        return ",".join(parts)


def random_params(net: Network, seed: int | None = None) -> np.ndarray:
    """Glorot-normal weights, W ~ N(0, 2 / (fan_in + fan_out)) with fan_in not counting the bias;
    biases 0.  ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    weights = []
    for (rows, cols), layer in zip(net.shapes, net.layers):
        fan_in = cols - layer.bias
        W = np.zeros((rows, cols))
        W[:, :fan_in] = rng.normal(0.0, np.sqrt(2.0 / (fan_in + rows)), size=(rows, fan_in))
        weights.append(W)
    return net.flatten(weights)
