"""What every model and experiment of the CLI provides, and the safe parsing of KEY=VALUE.

No user text reaches eval or sympify: values are parsed as numbers, comma lists of numbers
or members of a fixed set of names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from gradflow.theory.errors import ParameterError


@dataclass(frozen=True)
class Key:
    """One ``--set KEY=VALUE`` setting: how to parse it, its default and its constraint."""

    name: str
    kind: str  # "int", "float", "floats", "choice", "p" (comma list of floats or zipf=a)
    default: object
    constraint: str
    check: Callable[[object], bool] = lambda value: True
    choices: tuple = ()

    def parse(self, text: str):
        text = text.strip()
        try:
            if self.kind == "int":
                value = int(text)
            elif self.kind == "float":
                value = float(text)
                if not np.isfinite(value):
                    raise ValueError
            elif self.kind == "floats":
                value = tuple(float(v) for v in text.split(","))
                if not all(np.isfinite(value)):
                    raise ValueError
            elif self.kind == "choice":
                if text not in self.choices:
                    raise ValueError
                value = text
            else:
                raise AssertionError(f"unknown key kind {self.kind}")
        except ValueError:
            expected = {"int": "an integer", "float": "a finite number", "floats": "a comma list of finite numbers",
                        "choice": f"one of {', '.join(self.choices)}"}[self.kind]
            raise ParameterError(self.name, expected, text) from None
        self.validate(value)
        return value

    def validate(self, value):
        if not self.check(value):
            raise ParameterError(self.name, self.constraint, value)


def parse_settings(keys: tuple, pairs: list[str]) -> dict:
    """Defaults overridden by KEY=VALUE strings; unknown keys are errors."""
    table = {k.name: k for k in keys}
    settings = {k.name: k.default for k in keys}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise ParameterError("--set", "of the form KEY=VALUE", pair)
        name = name.strip()
        if name not in table:
            raise ParameterError(name, f"a known key: one of {', '.join(table)}")
        settings[name] = table[name].parse(text)
    return settings


@dataclass
class ModelEntry:
    """A model the CLI knows.  Subclasses fill in the methods."""

    name: str = ""
    summary: str = ""
    keys: tuple = ()
    methods: tuple = ("gd",)
    extra: dict = field(default_factory=dict)

    def derivation(self):
        """theory.derivation.Derivation of this model."""
        raise NotImplementedError

    def simulate(self, settings: dict, method: str, steps: int | None, t_end: float | None, backend: str,
                 progress: bool = False) -> dict:
        """JSON-ready dict: 'params', 't', and one array per observable."""
        raise NotImplementedError

    def checks(self, quick: bool) -> list:
        """numerics.compare.Verdict list: theory against simulation."""
        raise NotImplementedError
