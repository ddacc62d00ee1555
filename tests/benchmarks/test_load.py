"""The bench reads the machine's load around every implementation and flags a cell timed under changing load."""

import numpy as np

from gradflow.bench import harness
from gradflow.bench.harness import LOAD_SPREAD, Implementation, load_notes, run_cell


def _cell(monkeypatch, readings):
    readings = iter(readings)
    monkeypatch.setattr(harness, "machine_load", lambda: next(readings))
    impls = [Implementation("gradflow", lambda: np.ones(3), False), Implementation("peer", lambda: np.ones(3)),
             Implementation("missing", lambda: None, skipped="not installed")]
    return run_cell("toy", impls, 1, 0.0)


def test_each_implementation_has_its_load_readings(monkeypatch):
    cell = _cell(monkeypatch, [2.0, 2.1, 2.2, 2.4])
    assert cell.notes["load"] == {"gradflow": [2.0, 2.1], "peer": [2.2, 2.4]}  # a skipped one reads none
    assert not cell.notes["load_differs"] and abs(cell.notes["load_spread"] - 0.4) < 1e-12


def test_a_cell_whose_peers_ran_under_other_load_is_flagged(monkeypatch):
    cell = _cell(monkeypatch, [1.0, 1.2, 1.0 + LOAD_SPREAD + 0.5, 3.0])
    assert cell.notes["load_differs"] and cell.notes["load_spread"] == 2.0


def test_missing_readings_flag_nothing():
    none = load_notes({"a": [float("nan"), float("nan")]})
    assert none["load_spread"] == 0.0 and not none["load_differs"]
    notes = load_notes({"a": [float("nan"), 1.0], "b": [1.5, float("nan")]})
    assert notes["load_spread"] == 0.5 and not notes["load_differs"]
    assert load_notes({})["load_spread"] == 0.0
