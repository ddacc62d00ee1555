"""Errors for bad input: each names the parameter and the constraint it broke."""

from __future__ import annotations


class ParameterError(ValueError):
    """A parameter value that breaks a stated constraint."""

    def __init__(self, parameter: str, constraint: str, value=None):
        self.parameter = parameter
        self.constraint = constraint
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{parameter}: must be {constraint}{shown}")


def require(condition: bool, parameter: str, constraint: str, value=None) -> None:
    if not condition:
        raise ParameterError(parameter, constraint, value)
