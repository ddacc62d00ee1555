"""Plain-Python (JSON-ready) forms of what simulations and experiments return.

Every backend shares one divergence policy: a simulation whose recorded values are not all finite
raises DivergenceError naming the first step (or time) and the quantity, whatever computed them.
JSON output is always valid JSON: a non-finite number that is part of a result (an undefined
quantity, e.g. a loss over an empty set) is written as null, never as NaN or Infinity.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Mapping

import numpy as np

from gradflow.numerics.errors import DivergenceError


def shows_progress(as_json: bool) -> bool:
    """Whether a command draws progress bars: only for a person watching a terminal, never with
    ``--json``, when stderr is a file or a pipe, or under CI (``CI`` set to anything but "" or "false")."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false")
    return not as_json and not ci and sys.stderr.isatty()


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


def finite_json(value):
    """``jsonable(value)`` with every non-finite float replaced by None (null)."""
    value = jsonable(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_json(v) for v in value]
    return value


def dumps(value, **options) -> str:
    """Valid JSON text of ``value`` (non-finite floats as null)."""
    return json.dumps(finite_json(value), allow_nan=False, **options)


def require_finite(arrays: Mapping, t=None, time_axis: bool = False) -> None:
    """DivergenceError at the first record where any of ``arrays`` (records along axis 0) is not finite;
    ``t`` names the records: GD steps, or times of a flow (``time_axis``)."""
    first = None
    for name, value in arrays.items():
        a = np.asarray(value)
        if a.dtype.kind not in "fc" or a.size == 0:
            continue
        bad = ~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1) if a.ndim else ~np.isfinite(a.reshape(1))
        if bad.any():
            row = int(np.argmax(bad))
            if first is None or row < first[0]:
                first = (row, name)
    if first is None:
        return
    row, name = first
    at = row if t is None or row >= len(t) else float(np.asarray(t, dtype=float)[row])
    if time_axis:
        raise DivergenceError(row, name, time=at)
    raise DivergenceError(int(at), name)


def simulation_result(params: Mapping, **arrays) -> dict:
    """The result of ``gradflow simulate``: {"params": ..., "t": [...], one list per observable}, after
    checking that every recorded value is finite (``t`` holds steps, or times when params' method is flow)."""
    require_finite({k: v for k, v in arrays.items() if k != "t"}, arrays.get("t"), params.get("method") == "flow")
    return {"params": jsonable(params), **{name: np.asarray(value).tolist() for name, value in arrays.items()}}
