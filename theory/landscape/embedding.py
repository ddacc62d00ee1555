"""Network embeddings: wider networks with the same function f (hence the same residuals and loss).

- zero neuron (w, h) = (0, 0);
- inactive neuron (w, h) = (v, 0);
- dead neuron (v, h) with v in the dead cone: rho(v . x_k) = 0 strictly off the kink for every k
  (v . x_k < 0 for all k when a_minus = 0, as for ReLU; v . x_k > 0 when a_plus = 0);
- replication of neuron i into copies (c_l w_i, h_l), c_l > 0, sum_l c_l h_l = h_i: by positive
  homogeneity sum_l h_l rho(c_l w_i . x) = (sum_l c_l h_l) rho(w_i . x);
  standard case h_l = lambda_l h_i with sum_l c_l lambda_l = 1.
New neurons are appended; a replicated neuron keeps index i for its first copy, the other copies
are appended, so indices of the narrower network stay valid.
"""

from __future__ import annotations

import numpy as np

from gradflow.theory.errors import require
from gradflow.theory.landscape.partitions import require_neuron
from gradflow.theory.landscape.point import NetworkPoint, require_relu_like


def add_zero_neuron(point: NetworkPoint) -> NetworkPoint:
    """Append (w, h) = (0, 0)."""
    return _append(point, [point.arithmetic.zeros(point.d)], [point.arithmetic.zeros(point.d_out)])


def add_inactive_neuron(point: NetworkPoint, v) -> NetworkPoint:
    """Append (w, h) = (v, 0)."""
    return _append(point, [_vector(point, v, "v", point.d)], [point.arithmetic.zeros(point.d_out)])


def add_dead_neuron(point: NetworkPoint, v, h=None) -> NetworkPoint:
    """Append (v, h) (h = 0 by default) with v in the dead cone (module docstring)."""
    activation = require_relu_like(point)
    arithmetic = point.arithmetic
    v = _vector(point, v, "v", point.d)
    dead_side = -1 if activation.a_minus == 0 else 1 if activation.a_plus == 0 else 0
    require(dead_side != 0, "activation", "with a_plus = 0 or a_minus = 0 (else no neuron is dead)", activation)
    margins = dead_side * point.X.dot(v)
    norms = [float(np.linalg.norm(np.asarray(x, dtype=float))) * float(np.linalg.norm(np.asarray(v, dtype=float)))
             for x in point.X]
    inside = all(arithmetic.is_positive(margins[k], norms[k]) for k in range(point.n))
    side = "< 0" if dead_side < 0 else "> 0"
    require(inside, "v", f"in the dead cone: v . x_k {side} for every input k", v)
    h = arithmetic.zeros(point.d_out) if h is None else _vector(point, h, "h", point.d_out)
    return _append(point, [v], [h])


def replicate_neuron(point: NetworkPoint, i: int, output_weights, scales=None) -> NetworkPoint:
    """Replace neuron i by copies (c_l w_i, h_l); requires c_l > 0 and sum_l c_l h_l = h_i."""
    require_neuron(point, i)
    arithmetic = point.arithmetic
    output_weights = [_vector(point, h, "output_weights", point.d_out) for h in output_weights]
    require(len(output_weights) >= 1, "output_weights", "at least one copy", output_weights)
    scales = _scales(point, scales, len(output_weights))
    combined = sum((c * h for c, h in zip(scales, output_weights)), arithmetic.zeros(point.d_out))
    require(arithmetic.is_zero(combined - point.H[i], max(1.0, float(np.abs(np.asarray(point.H[i], float)).max()))),
            "output_weights", f"with sum_l c_l h_l = h_{i}", combined)
    W, H = np.array(point.W), np.array(point.H)
    W[i], H[i] = scales[0] * point.W[i], output_weights[0]
    extra_w = [c * point.W[i] for c in scales[1:]]
    return _append(point.with_parameters(W, H), extra_w, output_weights[1:])


def split_neuron(point: NetworkPoint, i: int, lambdas, scales=None) -> NetworkPoint:
    """The standard replication h_l = lambda_l h_i; requires sum_l c_l lambda_l = 1 (c_l = 1 by default)."""
    require_neuron(point, i)
    arithmetic = point.arithmetic
    lambdas = [arithmetic.number(value, "lambdas") for value in lambdas]
    scales_checked = _scales(point, scales, len(lambdas))
    total = sum((c * lam for c, lam in zip(scales_checked, lambdas)), arithmetic.number(0))
    require(arithmetic.is_zero(total - 1, 1.0), "lambdas", "with sum_l c_l lambda_l = 1", lambdas)
    return replicate_neuron(point, i, [lam * point.H[i] for lam in lambdas], scales_checked)


def _append(point: NetworkPoint, rows_w, rows_h) -> NetworkPoint:
    if not len(rows_w):
        return point
    W = np.concatenate([point.W, np.array(rows_w, dtype=point.W.dtype).reshape(-1, point.d)])
    H = np.concatenate([point.H, np.array(rows_h, dtype=point.H.dtype).reshape(-1, point.d_out)])
    return point.with_parameters(W, H)


def _vector(point: NetworkPoint, values, parameter: str, size: int) -> np.ndarray:
    vector = point.arithmetic.array(values, parameter).reshape(-1)
    require(vector.shape == (size,), parameter, f"a vector of length {size}", vector.shape)
    return vector


def _scales(point: NetworkPoint, scales, count: int):
    arithmetic = point.arithmetic
    scales = [arithmetic.number(1)] * count if scales is None else [arithmetic.number(c, "scales") for c in scales]
    require(len(scales) == count, "scales", f"{count} values, one per copy", scales)
    require(all(c > 0 for c in scales), "scales", "positive (rho is only positively homogeneous)", scales)
    return scales
