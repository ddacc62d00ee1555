"""Axis values from text, parsed and never evaluated: ``a:b:n`` (n linear points from a to b),
``a:b:logn`` (n log-spaced points), or a comma list ``v1,v2,...``."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import ParameterError, require

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")  # plain ASCII decimal numbers only
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_POINTS = 10_000_000  # points on one axis: a typo such as 0:1:1e9 is refused, not allocated


@dataclass(frozen=True)
class Axis:
    """One named axis of a sweep: its values in order (floats)."""

    name: str
    values: tuple

    def __post_init__(self):
        require(bool(_NAME.match(self.name)), "axis", "a name of letters, digits and _", self.name)
        require(len(self.values) >= 1, f"axis {self.name}", "at least one value (the axis is empty)")
        require(all(math.isfinite(v) for v in self.values), f"axis {self.name}", "finite numbers")
        require(len(set(self.values)) == len(self.values), f"axis {self.name}", "distinct values")

    @property
    def array(self) -> np.ndarray:
        return np.asarray(self.values, dtype=float)

    def __len__(self) -> int:
        return len(self.values)


def _number(text: str, where: str) -> float:
    text = text.strip()
    if not _NUMBER.match(text):
        raise ParameterError(where, "numbers (a:b:n, a:b:logn or a comma list v1,v2,...)", text)
    value = float(text)
    require(math.isfinite(value), where, "finite numbers", text)
    return value


def _count(text: str, where: str) -> int:
    require(text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_POINTS, where,
            f"a point count n in 1..{MAX_POINTS} (a:b:n or a:b:logn)", text)
    return int(text)


def parse_values(text: str, name: str = "axis") -> tuple:
    """The values of ``text`` (``a:b:n``, ``a:b:logn`` or ``v1,v2,...``) as a tuple of floats."""
    where = f"axis {name}"
    text = text.strip()
    require(text != "", where, "at least one value (the axis is empty)")
    if ":" in text:
        parts = text.split(":")
        require(len(parts) == 3, where, "a:b:n or a:b:logn (three fields)", text)
        start, stop = _number(parts[0], where), _number(parts[1], where)
        spec = parts[2].strip()
        if spec.startswith("log"):
            n = _count(spec[3:], where)
            require(start > 0 and stop > 0, where, "positive ends for a log-spaced axis", text)
            values = np.geomspace(start, stop, n)
        else:
            values = np.linspace(start, stop, _count(spec, where))
        return tuple(float(v) for v in values)
    items = [item for item in text.split(",")]
    require(all(item.strip() for item in items), where, "a comma list without empty items", text)
    return tuple(_number(item, where) for item in items)


def parse_axis(text: str) -> Axis:
    """``name=values`` (values as in :func:`parse_values`) -> Axis."""
    require("=" in text, "--axis", "NAME=VALUES, e.g. eta=0.1:10:log25 or p1=0.5,0.7", text)
    name, values = text.split("=", 1)
    name = name.strip()
    require(bool(_NAME.match(name)), "--axis", "NAME=VALUES with a name of letters, digits and _", text)
    return Axis(name, parse_values(values, name))


def as_axis(name: str, values) -> Axis:
    """An Axis from Python values: a text (parsed as above), a number or a sequence of numbers."""
    if isinstance(values, str):
        return Axis(name, parse_values(values, name))
    array = np.atleast_1d(np.asarray(values))
    require(array.ndim == 1, f"axis {name}", "a 1-D list of numbers", array.shape)
    require(array.size >= 1, f"axis {name}", "at least one value (the axis is empty)")
    require(array.dtype.kind in "iuf", f"axis {name}", "numbers", array.dtype)
    return Axis(name, tuple(float(v) for v in array))
