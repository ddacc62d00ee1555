"""The two arithmetic modes of the landscape tools, behind one small interface.

* exact: numpy object arrays of ``sympy.Rational``; "is zero" means == 0.
* float: float64 arrays; "is zero" means |value| <= tol * scale, where ``scale`` is the natural
  magnitude of the quantity tested (the caller states it), and ``tol`` is the point's tolerance.

Every algorithm in this package is written once against :class:`Arithmetic`; only the
comparisons (and the LP backend, see ``linear_program``) differ between the modes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral

import numpy as np
import sympy as sp

from gradflow.theory.errors import ParameterError, require

DEFAULT_TOL = 1e-4


def rational(value, parameter: str) -> sp.Rational:
    """An int, Fraction, decimal/fraction string, finite float (via its shortest decimal string)
    or SymPy Rational as a SymPy Rational.  Parsing goes through ``fractions.Fraction``, never
    ``sympify``, so no text is evaluated."""
    if isinstance(value, sp.Rational):
        return value
    if isinstance(value, bool):
        raise ParameterError(parameter, "a rational number (int, Fraction, str or float)", value)
    if isinstance(value, Integral):
        return sp.Integer(int(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        require(math.isfinite(value), parameter, "finite", value)
        value = repr(value)  # shortest decimal string: 0.1 -> "0.1" -> 1/10
    if isinstance(value, str):
        try:
            parsed = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ParameterError(parameter, "a rational number such as '3', '-1/4' or '0.25'", value) from None
        return sp.Rational(parsed.numerator, parsed.denominator)
    raise ParameterError(parameter, "a rational number (int, Fraction, str or float)", value)


def rational_array(values, parameter: str) -> np.ndarray:
    """Any nested sequence of numbers as an object array of SymPy Rationals."""
    raw = np.asarray(values, dtype=object)
    return np.vectorize(lambda v: rational(v, parameter), otypes=[object])(raw) if raw.size else raw


def is_exact_array(values) -> bool:
    return isinstance(values, np.ndarray) and values.dtype == object


def float_array(values, parameter: str) -> np.ndarray:
    """Real, finite float64 array (complex, text or non-finite entries are refused)."""
    try:
        array = np.array(values, dtype=float)  # a copy: the point freezes its arrays, never the caller's
    except (TypeError, ValueError):
        raise ParameterError(parameter, "an array of real numbers", values) from None
    require(bool(np.all(np.isfinite(array))), parameter, "finite (no NaN or infinity)", values)
    return array


@dataclass(frozen=True)
class Arithmetic:
    """Comparisons and conversions of one mode.  ``tol`` is None in exact mode."""

    exact: bool
    tol: float | None = None

    def number(self, value, parameter: str = "value"):
        """A scalar in this mode's number type."""
        require(np.ndim(value) == 0, parameter, "a single number", value)
        return rational(value, parameter) if self.exact else float(float_array(value, parameter))

    def array(self, values, parameter: str) -> np.ndarray:
        """User-supplied numbers (directions, weights) in this mode's array type."""
        return rational_array(values, parameter) if self.exact else float_array(values, parameter)

    def zeros(self, shape) -> np.ndarray:
        return np.full(shape, sp.Integer(0), dtype=object) if self.exact else np.zeros(shape)

    def is_zero(self, value, scale=0.0) -> bool:
        """value == 0 (exact), or every entry within tol * scale (float)."""
        value = np.asarray(value)
        if self.exact:
            return all(v == 0 for v in value.ravel())
        return bool(np.all(np.abs(value.astype(float)) <= self.tol * float(scale)))

    def is_negative(self, value, scale=0.0) -> bool:
        """value < 0, beyond the float tolerance tol * scale."""
        if self.exact:
            return bool(value < 0)
        return float(value) < -self.tol * float(scale)

    def is_positive(self, value, scale=0.0) -> bool:
        if self.exact:
            return bool(value > 0)
        return float(value) > self.tol * float(scale)

    def sqrt(self, value):
        return sp.sqrt(value) if self.exact else math.sqrt(float(value))

    def norm(self, vector):
        """Euclidean norm (a SymPy number, possibly a square root, in exact mode)."""
        vector = np.asarray(vector).ravel()
        return self.sqrt(sum((v * v for v in vector), self.number(0)))

    def dot(self, a, b):
        return sum((x * y for x, y in zip(np.asarray(a).ravel(), np.asarray(b).ravel())), self.number(0))


def magnitude(values) -> np.ndarray:
    """|values| as floats: the scales used by float-mode tolerances (never used for decisions in exact mode)."""
    return np.abs(np.asarray(values).astype(float))
