"""Assembly's global correction: an output-bias shift, or an affine skip for the even+linear classes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.numerics.expand_cluster.classes import activation_class as _checked_class
from gradflow.theory.errors import require


@dataclass(frozen=True)
class AffineCorrection:
    """``kind`` "bias": add ``bias`` (m,) to the output; "affine": add [X, 1] @ ``theta`` ((d+1), m), the
    covert linear part 2 alpha a v.x of flipped neurons (``bias`` is then its constant row, theta[-1]).
    ``residual``: the mean squared error left after the correction."""

    kind: str
    bias: np.ndarray
    theta: np.ndarray | None
    residual: float

    def apply(self, X, f_rec) -> np.ndarray:
        """Corrected predictions (n, m) of a reconstruction whose raw predictions are ``f_rec``."""
        f = np.asarray(f_rec, dtype=float)
        f = f[:, None] if f.ndim == 1 else f
        if self.theta is None:
            return f + self.bias
        X = np.asarray(X, dtype=float)
        return f + np.column_stack([X, np.ones(len(X))]) @ self.theta

    def to_json(self) -> dict:
        return {"kind": self.kind, "bias": self.bias.tolist(),
                "theta": None if self.theta is None else self.theta.tolist(), "residual": self.residual}


def _columns(name: str, values, n: int | None = None) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    values = values[:, None] if values.ndim == 1 else values
    require(values.ndim == 2 and (n is None or len(values) == n), name,
            "an array (n,) or (n, m)" + ("" if n is None else f" with n = {n}"), values.shape)
    require(bool(np.all(np.isfinite(values))), name, "finite")
    return values


def assemble_affine(X, y, f_rec, activation_class: str) -> AffineCorrection:
    """The correction that the reconstruction's symmetries leave free: classes none/odd/odd_constant shift
    the output bias by mean(y) - mean(f_rec); even_linear classes fit Theta = lstsq([X, 1], y - f_rec).
    ``f_rec``: the assembled network's predictions on ``X`` (output bias included), ``y`` the targets."""
    cls = _checked_class(activation_class)
    X = _columns("X", X)
    y = _columns("y", y, len(X))
    f = _columns("f_rec", f_rec, len(X))
    require(f.shape == y.shape, "f_rec", f"the shape of y {y.shape}", f.shape)
    gap = y - f
    if cls.startswith("even_linear"):
        design = np.column_stack([X, np.ones(len(X))])
        theta = np.linalg.lstsq(design, gap, rcond=None)[0]
        left = gap - design @ theta
        return AffineCorrection("affine", theta[-1].copy(), theta, float(np.mean(left ** 2)))
    bias = gap.mean(axis=0)
    return AffineCorrection("bias", bias, None, float(np.mean((gap - bias) ** 2)))
