"""Readable text for the ``gradflow`` command: a short table of a simulation's result.

The full result is the ``--json`` output; the table shows each parameter once (long lists
shortened) and each observable's last value (vectors as their size, min, mean and max).
"""

from __future__ import annotations

import textwrap

import numpy as np

SHOWN = 4  # list entries shown before "..."; longer vectors are summarised


def short_value(value) -> str:
    """A parameter value in a few characters: numbers with 4 significant digits, long lists cut."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return f"({len(value)} entries: see --json)"
    if isinstance(value, (list, tuple)):
        array = np.asarray(value, dtype=object)
        if array.ndim > 1:
            return "x".join(map(str, array.shape)) + " array"
        items = [short_value(v) for v in value[:SHOWN]]
        more = f", ... ({len(value)} values)" if len(value) > SHOWN else ""
        return "[" + ", ".join(items) + more + "]"
    return str(value)


def last_value(values) -> str:
    """The last recorded value of an observable: a number, a short vector, or a vector's summary."""
    last = np.asarray(values[-1], dtype=float)
    if last.ndim == 0:
        return f"{float(last):.6g}"
    flat = last.ravel()
    if flat.size <= SHOWN:
        return ", ".join(f"{v:.6g}" for v in flat)
    shape = "x".join(map(str, last.shape))
    return f"{shape} values: min {flat.min():.4g}, mean {flat.mean():.4g}, max {flat.max():.4g}"


def simulation_table(result: dict, width: int = 100) -> str:
    """Parameters wrapped to ``width``; one row per observable at the last recorded time; then the
    other results (numbers, and dicts of them one row per key)."""
    lines = _wrapped("parameters: ", result.get("params", {}), width)
    t = result.get("t")
    rest = {k: v for k, v in result.items() if k not in ("params", "t", "wall_time_s")}
    rows = {k: _last_or_none(v) for k, v in rest.items() if t and isinstance(v, list) and v}
    rows = {k: text for k, text in rows.items() if text is not None}
    if rows:
        column = max(len("observable"), *map(len, rows))
        lines.append(f"{'observable':{column}s}  at t = {t[-1]:g} ({len(t)} records)")
        lines += [f"{key:{column}s}  {text}" for key, text in rows.items()]
    for key, value in rest.items():
        if key in rows:
            continue
        if isinstance(value, dict):
            nested = all(isinstance(v, dict) for v in value.values()) and value
            for name, inner in (value.items() if nested else [("", value)]):
                lines += _wrapped(f"{key}{'.' + name if name else ''}: ", inner, width)
        else:
            lines.append(f"{key}: {short_value(value)}")
    if "wall_time_s" in result:
        lines.append(f"wall time: {result['wall_time_s']:.3f} s   (full result: --json)")
    return "\n".join(lines)


def _last_or_none(values) -> str | None:
    try:
        return last_value(values)
    except (TypeError, ValueError):  # ragged or not numbers: shown as a parameter-like value
        return None


def _wrapped(label: str, values: dict, width: int) -> list[str]:
    text = "  ".join(f"{k}={short_value(v)}" for k, v in values.items())
    return textwrap.wrap(text, width, initial_indent=label, subsequent_indent="  ") or [label.rstrip()]


def compare_table(verdicts: list) -> str:
    """``simulate --compare``: one row per derived law (verdict, measured, predicted, error, tolerance),
    its regime or the reason it failed on the next line, then the count."""
    def number(value) -> str:
        return "-" if value is None else f"{value:.6g}"

    lines = ["compared with the derived laws:"]
    for v in verdicts:
        lines.append(f"  [{'PASS' if v.passed else 'FAIL'}] {v.name}: measured {number(v.measured)}, predicted "
                     f"{number(v.predicted)}, {v.measure} {v.error:.3g} (tolerance {v.tolerance:.3g})")
        lines += textwrap.wrap(v.regime, 96, initial_indent="         ", subsequent_indent="         ")
    failed = sum(not v.passed for v in verdicts)
    lines.append(f"{len(verdicts) - failed} passed, {failed} failed")
    return "\n".join(lines)
