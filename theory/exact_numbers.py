"""Exact numbers as a reader wants them: a decimal with 4 significant digits and the exact form when it is
short (``17424/2609375 = 0.006677``); a long exact form is described, not printed (no 40-digit
fractions in a report: ``0.006608 (exact: sqrt(2) times a ratio of 40- and 42-digit integers)``)."""

from __future__ import annotations

import numpy as np
import sympy as sp

SHORT = 24  # the longest exact form printed as it is


def decimal(value, digits: int = 4) -> str:
    """``value`` (a float or an exact SymPy number) with ``digits`` significant digits."""
    return f"{float(value):.{digits}g}"


def show_exact(value, digits: int = 4) -> str:
    """A float as a decimal; an exact number as ``exact = decimal`` (or ``~``), or as a decimal with a
    description of its exact form when that is long."""
    if isinstance(value, (float, np.floating)):
        return decimal(value, digits)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = sp.sympify(value)
    text = str(value)
    if value.is_Integer and len(text) > SHORT:
        return f"{decimal(value, digits)} (exact: a {len(text.lstrip('-'))}-digit integer)"
    if value.is_Integer or not value.is_number:
        return text
    if len(text) <= SHORT:
        return f"{text} {'=' if value.is_Rational else '~'} {decimal(value, digits)}"
    coefficient, rest = value.as_coeff_Mul()
    if coefficient.is_Rational and len(str(coefficient)) > SHORT // 2:
        ratio = f"a ratio of {len(str(abs(coefficient.p)))}- and {len(str(coefficient.q))}-digit integers"
        shape = ratio if rest == 1 else f"{rest} times {ratio}" if len(str(rest)) <= SHORT else None
        if shape:
            return f"{decimal(value, digits)} (exact: {shape})"
    return f"{decimal(value, digits)} (exact form of {len(text)} characters)"
