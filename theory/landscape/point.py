"""A point of the loss landscape of a one-hidden-layer network, with its data.

f(x) = sum_i h_i rho(w_i . x), W (m x d) rows w_i, H (m x d_out) rows h_i, data X (n x d),
Y (n x d_out), loss L = (1 / (n d_out)) sum_k ||f(x_k) - y_k||^2 (the mean over all entries).

A point is exact (every array an object array of SymPy Rationals, ``tol`` None) or float
(float64 arrays, with the kink tolerance ``tol``, default 1e-4).  ``exact_point`` converts
ints, Fractions, strings and floats (through their decimal strings) to Rationals.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy as sp

from gradflow.theory.activations import Activation, ReluLike
from gradflow.theory.errors import require
from gradflow.theory.landscape.arithmetic import DEFAULT_TOL, Arithmetic, float_array, is_exact_array, magnitude, rational, rational_array


@dataclass(frozen=True, eq=False)
class NetworkPoint:
    """Parameters (W, H), data (X, Y) and activation of a shallow network; immutable."""

    W: np.ndarray
    H: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    activation: Activation
    tol: float | None = None

    def __post_init__(self):
        arrays = {"W": self.W, "H": self.H, "X": self.X, "Y": self.Y}
        exact_flags = {name: is_exact_array(np.asarray(value)) for name, value in arrays.items()}
        exact = all(exact_flags.values())
        require(exact or not any(exact_flags.values()), "W, H, X, Y",
                "all exact (object arrays of Rationals, see exact_point) or all float", exact_flags)
        convert = _exact_entries if exact else float_array
        converted = {name: convert(value, name) for name, value in arrays.items()}
        W, X = converted["W"], converted["X"]
        require(W.ndim == 2, "W", "a 2-d array (m x d)", W.shape)
        require(W.shape[0] >= 1, "W", "at least one row (width m >= 1)", W.shape)
        require(W.shape[1] >= 1, "W", "at least one column (input dimension d >= 1)", W.shape)
        require(X.ndim == 2, "X", "a 2-d array (n x d)", X.shape)
        require(X.shape[0] >= 1, "X", "at least one row (n >= 1 data points)", X.shape)
        require(X.shape[1] == W.shape[1], "X", f"{W.shape[1]} columns, the input dimension of W", X.shape)
        H = _as_matrix(converted["H"], "H", W.shape[0], "m (rows of W)")
        Y = _as_matrix(converted["Y"], "Y", X.shape[0], "n (rows of X)")
        require(Y.shape[1] == H.shape[1], "Y", f"{H.shape[1]} columns, the output dimension of H", Y.shape)
        require(isinstance(self.activation, Activation), "activation", "an Activation (e.g. RELU, ReluLike(a_plus, a_minus))",
                self.activation)
        if exact:
            require(self.tol is None, "tol", "None for an exact point (kinks are decided exactly)", self.tol)
            if isinstance(self.activation, ReluLike):
                for label, slope in (("a_plus", self.activation.a_plus), ("a_minus", self.activation.a_minus)):
                    require(isinstance(slope, (int, sp.Rational)) and not isinstance(slope, bool),
                            f"activation.{label}", "an int or SymPy Rational at an exact point (see exact_point)", slope)
            tol = None
        else:
            tol = DEFAULT_TOL if self.tol is None else self.tol
            require(isinstance(tol, (int, float)) and 0 < tol < 1, "tol", "a number in (0, 1)", tol)
            tol = float(tol)
        for name, value in (("W", W), ("H", H), ("X", X), ("Y", Y)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "tol", tol)

    # sizes and mode ----------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def d_out(self) -> int:
        return self.H.shape[1]

    @property
    def m(self) -> int:
        return self.W.shape[0]

    @property
    def exact(self) -> bool:
        return self.tol is None

    @property
    def arithmetic(self) -> Arithmetic:
        return Arithmetic(self.exact, self.tol)

    @property
    def mean_factor(self):
        """1 / (n d_out), the loss's normalisation (a Rational at an exact point)."""
        return sp.Rational(1, self.n * self.d_out) if self.exact else 1.0 / (self.n * self.d_out)

    # the network's values ----------------------------------------------------------------
    def preactivations(self) -> np.ndarray:
        """Z[k, i] = w_i . x_k (n x m)."""
        return self._preactivations

    def outputs(self) -> np.ndarray:
        """f(x_k) (n x d_out)."""
        return self._outputs

    def residuals(self) -> np.ndarray:
        """E = f(X) - Y (n x d_out); row k is e_k."""
        return self._residuals

    def loss(self):
        """L = (1 / (n d_out)) sum_k ||e_k||^2 (a Rational at an exact point)."""
        return self._loss

    @cached_property
    def _preactivations(self) -> np.ndarray:
        return _frozen(self.X.dot(self.W.T))

    @cached_property
    def _outputs(self) -> np.ndarray:
        return _frozen(np.asarray(self.activation(self._preactivations)).dot(self.H))

    @cached_property
    def _residuals(self) -> np.ndarray:
        return _frozen(self._outputs - self.Y)

    @cached_property
    def _loss(self):
        squares = (self._residuals * self._residuals).sum()
        return squares / (self.n * self.d_out) if self.exact else float(squares) / (self.n * self.d_out)

    @cached_property
    def residual_scale(self) -> float:
        """Float-mode magnitude of residuals: max |entry| of Y and of E (targets keep it away from 0
        near a global minimum, where the residuals themselves are only rounding noise)."""
        return float(max(magnitude(self.Y).max(), magnitude(self._residuals).max()))

    # new points --------------------------------------------------------------------------
    def with_parameters(self, W, H) -> "NetworkPoint":
        """The same data, activation and tolerance with new parameters (converted to this mode)."""
        arithmetic = self.arithmetic
        return NetworkPoint(arithmetic.array(W, "W"), arithmetic.array(H, "H"), self.X, self.Y, self.activation, self.tol)

    def to_float(self, tol: float = DEFAULT_TOL) -> "NetworkPoint":
        """The float point with the same values (rounded to float64) and kink tolerance ``tol``."""
        activation = self.activation
        if isinstance(activation, ReluLike):
            activation = ReluLike(float(activation.a_plus), float(activation.a_minus))
        W, H, X, Y = (np.asarray(a).astype(float) for a in (self.W, self.H, self.X, self.Y))
        return NetworkPoint(W, H, X, Y, activation, tol)


def exact_point(W, H, X, Y, activation: Activation = None) -> NetworkPoint:
    """An exact point: every entry (int, Fraction, str, float via its decimal string, Rational)
    becomes a SymPy Rational; a ReluLike activation gets Rational slopes.  Default: ReLU."""
    if activation is None:
        activation = ReluLike(sp.Integer(1), sp.Integer(0))
    if isinstance(activation, ReluLike):
        activation = ReluLike(rational(activation.a_plus, "activation.a_plus"),
                              rational(activation.a_minus, "activation.a_minus"))
    return NetworkPoint(rational_array(W, "W"), rational_array(H, "H"), rational_array(X, "X"),
                        rational_array(Y, "Y"), activation)


def require_relu_like(point: NetworkPoint) -> ReluLike:
    """The kink tools need a piecewise-linear activation with one kink."""
    require(isinstance(point.activation, ReluLike), "activation",
            "ReLU-like (ReluLike(a_plus, a_minus)) for the landscape tools", point.activation)
    return point.activation


def _exact_entries(values, parameter: str) -> np.ndarray:
    """Object arrays may hold ints, Fractions and Rationals; floats must go through exact_point."""
    values = np.asarray(values)
    for v in values.ravel():
        require(isinstance(v, (int, np.integer, sp.Rational, Fraction)) and not isinstance(v, bool), parameter,
                "exact entries (int, Fraction, SymPy Rational); convert floats with exact_point", v)
    return rational_array(values, parameter)


def _as_matrix(values: np.ndarray, parameter: str, rows: int, rows_name: str) -> np.ndarray:
    """(rows,) means scalar output: reshape to (rows, 1)."""
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    require(values.ndim == 2, parameter, f"a 1-d or 2-d array with {rows} rows", values.shape)
    require(values.shape[0] == rows, parameter, f"{rows} rows, matching {rows_name}", values.shape)
    require(values.shape[1] >= 1, parameter, "at least one column (d_out >= 1)", values.shape)
    return values


def _frozen(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    values.setflags(write=False)
    return values
