"""Float evaluation of a shallow network f(x) = sum_i h_i rho(w_i . x) and its mean-squared loss.

Shared by the saddle-to-saddle tools (idealisation, perturbation certificate, escape law).  Shapes:
W (m, d), H (m, d_out), X (n, d), Y (n, d_out); a 1-D H or Y is read as d_out = 1.  The loss is
L = (1/(n d_out)) sum_k ||f(x_k) - y_k||^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.activations import ReluLike
from gradflow.theory.errors import require


@dataclass(frozen=True)
class ShallowData:
    """Validated float arrays of one network and its data set."""

    W: np.ndarray  # (m, d)
    H: np.ndarray  # (m, d_out)
    X: np.ndarray  # (n, d)
    Y: np.ndarray  # (n, d_out)

    @property
    def width(self) -> int:
        return self.W.shape[0]


def _matrix(values, name: str, columns_name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    require(array.ndim == 2 and array.shape[0] >= 1 and array.shape[1] >= 1, name,
            f"a 2-D array (rows x {columns_name}) with at least one entry", getattr(array, "shape", None))
    require(bool(np.all(np.isfinite(array))), name, "finite numbers")
    return array


def data_arrays(X, Y) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) and Y (n, d_out) as float arrays, checked."""
    X = _matrix(X, "X", "d")
    Y = _matrix(Y, "Y", "d_out")
    require(Y.shape[0] == X.shape[0], "Y", f"one row per input (n = {X.shape[0]})", Y.shape)
    return X, Y


def shallow_data(W, H, X, Y) -> ShallowData:
    """Check the shapes of a network (W, H) against its data (X, Y)."""
    X, Y = data_arrays(X, Y)
    W = _matrix(W, "W", "d")
    H = _matrix(H, "H", "d_out")
    require(W.shape[1] == X.shape[1], "W", f"(m, d) with d = {X.shape[1]} (the input dimension)", W.shape)
    require(H.shape == (W.shape[0], Y.shape[1]), "H", f"(m, d_out) = ({W.shape[0]}, {Y.shape[1]})", H.shape)
    return ShallowData(W, H, X, Y)


def relu_like(activation) -> ReluLike:
    require(isinstance(activation, ReluLike), "activation", "a ReluLike activation (piecewise linear)", activation)
    return activation


def network_output(W: np.ndarray, H: np.ndarray, X: np.ndarray, activation: ReluLike) -> np.ndarray:
    """f(X) (n, d_out); W and H may carry leading batch axes (..., m, d), (..., m, d_out)."""
    preactivations = np.einsum("kd,...md->...km", X, W)
    return np.einsum("...km,...mo->...ko", activation(preactivations), H)


def network_loss(W, H, X, Y, activation) -> float:
    """The mean-squared loss (1/(n d_out)) sum_k ||f(x_k) - y_k||^2."""
    data = shallow_data(W, H, X, Y)
    residual = network_output(data.W, data.H, data.X, relu_like(activation)) - data.Y
    return float(np.mean(residual ** 2))


def dead_neurons(W: np.ndarray, X: np.ndarray, activation: ReluLike, margin: float = 0.0) -> np.ndarray:
    """Indices of dead neurons: only for a_minus = 0 (ReLU), w_i . x_k < -margin ||w_i|| ||x_k|| for all k.

    A dead ReLU neuron outputs 0 on every input and, with rho'(0) := 0, gets no gradient.  Neurons with
    an input on (or within ``margin`` of) the kink are not dead: a perturbation can switch them on."""
    if float(activation.a_minus) != 0.0:
        return np.zeros(0, dtype=int)
    scale = np.linalg.norm(W, axis=1)[:, None] * np.linalg.norm(X, axis=1)[None, :]
    strictly_negative = W @ X.T < -margin * scale
    return np.flatnonzero(np.all(strictly_negative, axis=1))
