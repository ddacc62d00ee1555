"""The full definition of a sweep as data: target, axes, seeds, settings, task size.

Stored in the store's attributes as JSON; a resumed run must give the same definition (the first
difference is named in a one-line error)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from gradflow.theory.errors import ParameterError, require

from gradflow.numerics.sweep.axes import Axis, as_axis
from gradflow.numerics.sweep.target import SweepTarget


@dataclass(frozen=True)
class SweepDefinition:
    target: str
    axes: tuple  # Axis, in grid order
    seeds: int = 1
    base_seed: int = 0
    settings: tuple = ()  # ((name, value), ...) sorted
    members_per_task: int = 4096

    @property
    def shape(self) -> tuple:
        return tuple(len(a) for a in self.axes)

    @property
    def members(self) -> int:
        return math.prod(self.shape) * self.seeds

    def settings_dict(self) -> dict:
        return dict(self.settings)

    def to_json(self) -> str:
        # axes as a list of [name, values]: their order is the grid's order
        return json.dumps({"target": self.target, "axes": [[a.name, list(a.values)] for a in self.axes],
                           "seeds": self.seeds, "base_seed": self.base_seed, "settings": dict(self.settings),
                           "members_per_task": self.members_per_task})

    @classmethod
    def from_json(cls, text: str) -> "SweepDefinition":
        d = json.loads(text)
        return cls(d["target"], tuple(Axis(k, tuple(v)) for k, v in d["axes"]), d["seeds"], d["base_seed"],
                   tuple(sorted(d["settings"].items())), d["members_per_task"])

    def difference(self, other: "SweepDefinition") -> str:
        """'' if equal, else the first difference in words (stored = self, given = other)."""
        if self.target != other.target:
            return f"target ({self.target} stored, {other.target} given)"
        mine, theirs = {a.name: a.values for a in self.axes}, {a.name: a.values for a in other.axes}
        if list(mine) != list(theirs):
            return f"axes ({', '.join(mine)} stored, {', '.join(theirs)} given)"
        for name in mine:
            if mine[name] != theirs[name]:
                if len(mine[name]) != len(theirs[name]):
                    return f"axis {name} ({len(mine[name])} values stored, {len(theirs[name])} given)"
                return f"the values of axis {name} (same count, other values)"
        for field, label in (("seeds", "seeds"), ("base_seed", "base seed"), ("settings", "settings"),
                             ("members_per_task", "task size")):
            if getattr(self, field) != getattr(other, field):
                return f"{label} ({getattr(self, field)} stored, {getattr(other, field)} given)"
        return ""


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int)


def define(target: SweepTarget, axes, seeds: int = 1, base_seed: int = 0, settings: dict | None = None,
           members_per_task: int | None = None) -> SweepDefinition:
    """A checked definition: axis names among the target's parameters (those not given take their
    default as a one-value axis), settings among its settings, positive counts."""
    require(_is_int(seeds) and seeds >= 1, "seeds", "an integer >= 1", seeds)
    require(_is_int(base_seed) and base_seed >= 0, "base_seed", "an integer >= 0", base_seed)
    given = dict(axes.items()) if hasattr(axes, "items") else {a.name: a for a in axes}
    for name in given:
        if name not in target.parameters:
            raise ParameterError("axis", f"a parameter of {target.name}: one of {', '.join(target.parameters)}", name)
    ordered = []
    for name, default in target.parameters.items():
        value = given.get(name, default)
        ordered.append(value if isinstance(value, Axis) else as_axis(name, value))
    settings = dict(settings or {})
    for name, value in settings.items():
        require(name in target.settings, "setting", f"a setting of {target.name}: one of "
                f"{', '.join(target.settings) or '(none)'}", name)
        default = target.settings[name]
        require(isinstance(value, type(default)) and not isinstance(value, bool) or
                (isinstance(default, float) and _is_int(value)), f"setting {name}",
                f"a number of the kind of its default {default!r}", value)
    full = {**target.settings, **settings}
    size = target.members_per_task if members_per_task is None else members_per_task
    require(_is_int(size) and size >= 1, "members_per_task", "an integer >= 1", size)
    return SweepDefinition(target.name, tuple(ordered), seeds, base_seed, tuple(sorted(full.items())), size)
