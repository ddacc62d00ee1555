"""Ensembles: a grid of parameter values (and lanes per value) laid out as lanes of one kernel call."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import ParameterError, require


@dataclass(frozen=True)
class ParameterGrid:
    """Cartesian product of parameter values; ``lanes`` rows in C order over ``axes``."""

    names: tuple  # parameter names in the system's order
    axes: tuple  # names of the varied parameters, outermost first
    shape: tuple
    lanes: np.ndarray  # (prod(shape) * per_point, P)
    per_point: int

    def reshape(self, values: np.ndarray) -> np.ndarray:
        """(..., lanes, ...) -> (..., *shape, per_point, ...) along the lane axis (axis 1 for states)."""
        values = np.asarray(values)
        lane_axis = 1 if values.ndim >= 2 else 0
        new = values.shape[:lane_axis] + self.shape + (self.per_point,) + values.shape[lane_axis + 1:]
        return values.reshape(new)


def parameter_grid(system, values: dict, per_point: int = 1) -> ParameterGrid:
    """Lanes for every combination of ``values`` (name -> number or 1-D array) of system.params.

    ``per_point`` > 1 repeats each combination (e.g. one lane per particle of the same system).
    """
    names = tuple(str(s) for s in system.params)
    missing = [n for n in names if n not in values]
    unknown = [n for n in values if n not in names]
    if unknown:
        raise ParameterError(unknown[0], f"a parameter of the system: one of {', '.join(names)}")
    if missing:
        raise ParameterError(missing[0], "given (every parameter of the system needs a value)")
    require(per_point >= 1, "per_point", "an integer >= 1", per_point)
    axes = tuple(n for n in names if np.ndim(values[n]) == 1)
    shape = tuple(len(values[n]) for n in axes)
    mesh = np.meshgrid(*[np.asarray(values[n], dtype=float) for n in axes], indexing="ij") if axes else []
    columns = []
    for name in names:
        column = mesh[axes.index(name)].ravel() if name in axes else np.full(int(np.prod(shape)), float(values[name]))
        columns.append(np.repeat(column, per_point))
    lanes = np.ascontiguousarray(np.stack(columns, axis=1))
    require(bool(np.all(np.isfinite(lanes))), "values", "finite numbers")
    return ParameterGrid(names, axes, shape, lanes, per_point)
