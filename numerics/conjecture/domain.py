"""The domain of a conjecture: a range (or a list of choices) for each parameter of an instance.

A domain is data (numbers and names), so it can come from a TOML file as well as from Python; it
turns into a Hypothesis strategy of instances, ``{name: value}`` dictionaries, whose shrinking goes
towards the simplest values of each range (small integers, round floats, the first choice).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from gradflow.theory.errors import ParameterError, require

KINDS = ("int", "float", "log", "choice")


@dataclass(frozen=True)
class Range:
    """One parameter: integers or floats in [low, high] ("log": floats drawn uniformly in log), or one
    of ``choices``."""

    name: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    choices: tuple = ()

    def __post_init__(self):
        require(self.kind in KINDS, f"domain.{self.name}", f"a range of kind {', '.join(KINDS)}", self.kind)
        if self.kind == "choice":
            require(len(self.choices) >= 1, f"domain.{self.name}", "a non-empty list of choices", self.choices)
            return
        for bound in (self.low, self.high):
            require(isinstance(bound, (int, float)) and not isinstance(bound, bool) and math.isfinite(bound),
                    f"domain.{self.name}", "a range [low, high] of finite numbers", (self.low, self.high))
        require(self.low <= self.high, f"domain.{self.name}", "a range [low, high] with low <= high",
                (self.low, self.high))
        if self.kind == "int":
            require(float(self.low).is_integer() and float(self.high).is_integer(), f"domain.{self.name}",
                    "integer bounds for an integer range", (self.low, self.high))
        if self.kind == "log":
            require(self.low > 0, f"domain.{self.name}", "positive bounds for a log range", (self.low, self.high))

    def contains(self, value) -> bool:
        if self.kind == "choice":
            return value in self.choices
        return self.low <= value <= self.high

    def strategy(self):
        from hypothesis import strategies as st

        if self.kind == "choice":
            return st.sampled_from(self.choices)
        if self.kind == "int":
            return st.integers(int(self.low), int(self.high))
        if self.kind == "float":
            return st.floats(float(self.low), float(self.high), allow_nan=False, allow_infinity=False)
        low, high = math.log(self.low), math.log(self.high)
        return st.floats(low, high).map(lambda v: min(max(math.exp(v), self.low), self.high))

    @property
    def span(self) -> str:
        """The values allowed, in words: ``{a, b}`` or ``[low, high]`` (with its scale)."""
        if self.kind == "choice":
            return f"{{{', '.join(map(str, self.choices))}}}"
        scale = " (log-uniform)" if self.kind == "log" else ""
        return f"[{self.low:g}, {self.high:g}]{scale}"

    def describe(self) -> str:
        return f"{self.name} in {self.span}"

    def to_dict(self) -> dict:
        if self.kind == "choice":
            return {"kind": "choice", "choices": list(self.choices)}
        return {"kind": self.kind, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Domain:
    """The ranges of every parameter of an instance; ``fixed`` values are the same in every instance."""

    ranges: tuple[Range, ...]
    fixed: dict = field(default_factory=dict)

    def __post_init__(self):
        names = [r.name for r in self.ranges]
        for name in names:
            require(names.count(name) == 1, f"domain.{name}", "given once", names.count(name))
            require(name not in self.fixed, f"domain.{name}", "either a range or a fixed value, not both")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.ranges) + tuple(self.fixed)

    def __getitem__(self, name: str) -> Range:
        for r in self.ranges:
            if r.name == name:
                return r
        raise KeyError(name)

    def strategy(self):
        """Instances ``{name: value}`` drawn over the ranges (fixed values included)."""
        from hypothesis import strategies as st

        return st.fixed_dictionaries({r.name: r.strategy() for r in self.ranges}).map(
            lambda drawn: {**drawn, **self.fixed})

    def check(self, instance: dict) -> dict:
        """``instance`` with every parameter inside its range (as when it is given by hand)."""
        for r in self.ranges:
            if r.name not in instance:
                raise ParameterError(r.name, f"given ({r.describe()})")
            require(r.contains(instance[r.name]), r.name, f"in {r.span}", instance[r.name])
        return {**instance, **self.fixed}

    def describe(self) -> str:
        parts = [r.describe() for r in self.ranges] + [f"{k} = {v}" for k, v in self.fixed.items()]
        return ", ".join(parts)

    def to_dict(self) -> dict:
        return {**{r.name: r.to_dict() for r in self.ranges}, **{k: {"fixed": v} for k, v in self.fixed.items()}}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def range_from_value(name: str, value, field_name: str | None = None) -> Range | None:
    """A Range from data as a TOML file or a Python mapping writes it, or None for a fixed value:

    * ``[low, high]``: two integers give an integer range, otherwise floats (write ``0.0`` for a float);
    * ``{low = .., high = .., scale = "log" | "linear"}`` (``min``/``max`` also accepted);
    * ``["a", "b"]``: choices;  a single number or name: fixed (returns None)."""
    where = field_name or f"domain.{name}"
    if isinstance(value, Range):
        return value
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, str) for v in value):
            return Range(name, "choice", choices=tuple(value))
        require(len(value) == 2 and all(_number(v) for v in value), where,
                "[low, high] (two numbers), a list of names, or a table {low, high, scale}", value)
        kind = "int" if all(isinstance(v, int) for v in value) else "float"
        return Range(name, kind, value[0] if kind == "int" else float(value[0]),
                     value[1] if kind == "int" else float(value[1]))
    if isinstance(value, Mapping):
        unknown = set(value) - {"low", "high", "min", "max", "scale"}
        require(not unknown, f"{where}.{sorted(unknown)[0] if unknown else ''}",
                "one of the keys low, high, scale", sorted(unknown))
        low, high = value.get("low", value.get("min")), value.get("high", value.get("max"))
        require(_number(low) and _number(high), where, "a table with numbers low and high", value)
        scale = value.get("scale", "linear")
        require(scale in ("linear", "log"), f"{where}.scale", "'linear' or 'log'", scale)
        if scale == "log":
            return Range(name, "log", float(low), float(high))
        return range_from_value(name, [low, high], where)
    require(_number(value) or isinstance(value, str), where, "a range, a list of choices or one value", value)
    return None


def domain_from_mapping(mapping: Mapping, prefix: str = "domain") -> Domain:
    """A Domain from ``{name: range or value}`` (see :func:`range_from_value`)."""
    ranges, fixed = [], {}
    for name, value in mapping.items():
        r = range_from_value(name, value, f"{prefix}.{name}")
        if r is None:
            fixed[name] = value
        else:
            ranges.append(r if r.name == name else Range(name, r.kind, r.low, r.high, r.choices))
    return Domain(tuple(ranges), fixed)


__all__ = ["Domain", "KINDS", "Range", "domain_from_mapping", "range_from_value"]
