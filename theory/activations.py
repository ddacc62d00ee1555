"""Activation functions of shallow networks, symbolic and numeric from one definition.

Two families:

* ``ReluLike(a_plus, a_minus)``: rho(z) = a_plus z for z > 0, a_minus z for z <= 0 (ReLU is
  (1, 0), leaky ReLU (1, a), absolute value (1, -1)).  Its derivative uses rho'(0) := a_minus,
  PyTorch's convention, so dead ReLU neurons are frozen under GD.  It also has the one-sided
  derivative drho(z; tau) used by the landscape tools.
* ``Smooth``: tanh, softplus, erf, sigmoid, defined by a SymPy expression.

Numeric evaluation works on float arrays and on object arrays of SymPy Rationals (exact mode).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from gradflow.theory.errors import ParameterError, require

_z = sp.Symbol("z", real=True)


def _is_object(values) -> bool:
    return isinstance(values, np.ndarray) and values.dtype == object


class Activation:
    """rho and rho' as SymPy expressions (``expr``, ``derivative``) and on arrays (``__call__``, ``prime``)."""

    name: str
    piecewise_linear: bool = False

    def expr(self, z):  # pragma: no cover - interface
        raise NotImplementedError

    def derivative(self, z):
        return sp.diff(self.expr(_z), _z).subs(_z, z)

    def second_derivative(self, z):
        return sp.diff(self.expr(_z), _z, 2).subs(_z, z)

    def as_lambda(self) -> sp.Lambda:
        return sp.Lambda(_z, self.expr(_z))

    def derivative_lambda(self) -> sp.Lambda:
        return sp.Lambda(_z, self.derivative(_z))

    def __call__(self, values):  # pragma: no cover - interface
        raise NotImplementedError

    def prime(self, values):  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class ReluLike(Activation):
    """rho(z) = a_plus z (z > 0), a_minus z (z <= 0); a_plus != a_minus."""

    a_plus: object = 1
    a_minus: object = 0
    piecewise_linear = True

    def __post_init__(self):
        for label, value in (("a_plus", self.a_plus), ("a_minus", self.a_minus)):
            try:
                finite = bool(np.isfinite(float(value)))
            except (TypeError, ValueError):
                raise ParameterError(label, "a real number", value) from None
            require(finite, label, "finite", value)
        require(sp.nsimplify(self.a_plus) != sp.nsimplify(self.a_minus) if _exact(self.a_plus, self.a_minus)
                else float(self.a_plus) != float(self.a_minus),
                "a_minus", "different from a_plus (otherwise rho is linear)", self.a_minus)

    @property
    def name(self) -> str:
        if (self.a_plus, self.a_minus) == (1, 0):
            return "relu"
        if (self.a_plus, self.a_minus) == (1, -1):
            return "abs"
        return f"relu_like({self.a_plus}, {self.a_minus})"

    def expr(self, z):
        return sp.Piecewise((sp.sympify(self.a_plus) * z, z > 0), (sp.sympify(self.a_minus) * z, True))

    def derivative(self, z):
        # rho'(0) := a_minus (PyTorch's convention), i.e. the z <= 0 branch includes the kink.
        return sp.Piecewise((sp.sympify(self.a_plus), z > 0), (sp.sympify(self.a_minus), True))

    def second_derivative(self, z):
        return sp.S.Zero

    def __call__(self, values):
        values = np.asarray(values)
        if _is_object(values):
            a_plus, a_minus = sp.sympify(self.a_plus), sp.sympify(self.a_minus)
            return np.vectorize(lambda v: a_plus * v if v > 0 else a_minus * v, otypes=[object])(values)
        return np.where(values > 0, self.a_plus * values, self.a_minus * values)

    def prime(self, values):
        values = np.asarray(values)
        if _is_object(values):
            a_plus, a_minus = sp.sympify(self.a_plus), sp.sympify(self.a_minus)
            return np.vectorize(lambda v: a_plus if v > 0 else a_minus, otypes=[object])(values)
        return np.where(values > 0, float(self.a_plus), float(self.a_minus)) + 0 * values

    def one_sided(self, z, tau):
        """Directional derivative of rho at z in direction tau: a_plus tau (z > 0), a_minus tau
        (z < 0), rho(tau) (z = 0).  Arrays broadcast; exact for object arrays."""
        z, tau = np.broadcast_arrays(np.asarray(z), np.asarray(tau))
        if _is_object(z) or _is_object(tau):
            a_plus, a_minus = sp.sympify(self.a_plus), sp.sympify(self.a_minus)

            def one(zv, tv):
                if zv > 0:
                    return a_plus * tv
                if zv < 0:
                    return a_minus * tv
                return a_plus * tv if tv > 0 else a_minus * tv
            return np.vectorize(one, otypes=[object])(z, tau)
        at_kink = np.where(tau > 0, self.a_plus * tau, self.a_minus * tau)
        return np.where(z > 0, self.a_plus * tau, np.where(z < 0, self.a_minus * tau, at_kink))


def _exact(*values) -> bool:
    return all(isinstance(v, (int, sp.Rational)) for v in values)


@dataclass(frozen=True)
class Smooth(Activation):
    """A smooth activation given by name: tanh, softplus, erf, sigmoid."""

    name: str

    def __post_init__(self):
        require(self.name in _SMOOTH, "activation", f"one of {sorted(_SMOOTH)} or relu-like", self.name)

    def expr(self, z):
        return _SMOOTH[self.name][0](z)

    def __call__(self, values):
        values = np.asarray(values)
        if _is_object(values):
            return np.vectorize(lambda v: self.expr(v), otypes=[object])(values)
        return _SMOOTH[self.name][1](values)

    def prime(self, values):
        values = np.asarray(values)
        if _is_object(values):
            return np.vectorize(lambda v: self.derivative(v), otypes=[object])(values)
        return _SMOOTH[self.name][2](values)


def _sigmoid(v):
    return 0.5 * (1.0 + np.tanh(0.5 * v))


def _erf(v):
    from scipy.special import erf
    return erf(v)


_SMOOTH = {
    "tanh": (sp.tanh, np.tanh, lambda v: 1.0 - np.tanh(v) ** 2),
    "softplus": (lambda z: sp.log(1 + sp.exp(z)), lambda v: np.logaddexp(0.0, v), _sigmoid),
    "erf": (sp.erf, _erf, lambda v: 2.0 / np.sqrt(np.pi) * np.exp(-v * v)),
    "sigmoid": (lambda z: 1 / (1 + sp.exp(-z)), _sigmoid, lambda v: _sigmoid(v) * (1.0 - _sigmoid(v))),
}

RELU = ReluLike(1, 0)
ABSOLUTE = ReluLike(1, -1)


def leaky_relu(slope) -> ReluLike:
    return ReluLike(1, slope)


def activation(name: str, a_plus=None, a_minus=None) -> Activation:
    """Look an activation up by name: relu, abs, leaky_relu (a_minus = slope), relu_like
    (a_plus, a_minus), tanh, softplus, erf, sigmoid."""
    if name == "relu":
        return RELU
    if name == "abs":
        return ABSOLUTE
    if name == "leaky_relu":
        return leaky_relu(0.01 if a_minus is None else a_minus)
    if name == "relu_like":
        require(a_plus is not None and a_minus is not None, "activation", "relu_like needs a_plus and a_minus")
        return ReluLike(a_plus, a_minus)
    return Smooth(name)
