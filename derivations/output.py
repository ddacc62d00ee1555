"""Plain-Python (JSON-ready) forms of what simulations and experiments return."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def jsonable(value):
    """``value`` with NumPy arrays and scalars, tuples and nested mappings turned into lists, dicts,
    floats, ints and bools (what ``json.dumps`` takes)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def simulation_result(params: Mapping, **arrays) -> dict:
    """The result of ``gradflow simulate``: {"params": ..., "t": [...], one list per observable}."""
    return {"params": jsonable(params), **{name: np.asarray(value).tolist() for name, value in arrays.items()}}
