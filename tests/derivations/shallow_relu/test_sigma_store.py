"""relu-sigma-sweep with a store: the sweep runner's store gives the same report (table, fit, verdict) as
the in-process ensemble, and a complete store is read back without computing anything."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from gradflow.derivations.registry import get_experiment
from gradflow.numerics.sweep import open_dataset
from gradflow.theory.errors import ParameterError

# every escape (T1 <= 58.1 at lr 1e-3) within 7e4 steps.  Three mus: the store's members draw their directions
# per grid point (the in-process run reuses seed s at every mu), so two close mus would leave the slope to noise
SMALL = {"mus": (-1.8, -2.5, -3.0), "seeds": 2, "iterations": 70_000}


def _shape(report: str) -> tuple:
    """The report's structure: its table header and row count, and the fit sentence without its numbers."""
    lines = report.splitlines()
    rows = [line for line in lines if re.match(r"\| -?\d", line)]
    fit = next(line for line in lines if line.startswith("Fitted law"))
    verdict = re.search(r"verdict: (\w+)", fit).group(1)
    return lines[4], len(rows), re.sub(r"-?\d[\d.e+-]*", "#", fit), verdict


def test_the_store_report_matches_the_in_process_one(tmp_path):
    experiment = dataclasses.replace(get_experiment("relu-sigma-sweep"), **SMALL)
    in_process = experiment.run()
    store = str(tmp_path / "sigma.zarr")
    stored = dataclasses.replace(experiment, store=store).run()
    assert _shape(stored.report_markdown) == _shape(in_process.report_markdown)
    assert _shape(stored.report_markdown)[3] == "agrees"
    assert stored.results["fit"].keys() == in_process.results["fit"].keys()
    assert {k: np.shape(v) for k, v in stored.arrays.items()} == {k: np.shape(v) for k, v in in_process.arrays.items()}
    assert stored.results["store"]["computed_now"] == 1 and stored.results["store"]["already_done"] == 0
    # the report's numbers are the store's
    ds = open_dataset(store)
    assert np.array_equal(stored.arrays["measured"], ds.escape_time.isel(lr=0).values.reshape(-1))
    assert np.array_equal(stored.results["sigma"], in_process.results["sigma"])
    # the same experiment on the complete store computes nothing and reports the same
    again = dataclasses.replace(experiment, store=store).run()
    assert again.results["store"]["computed_now"] == 0 and again.results["store"]["already_done"] == 1
    assert np.array_equal(again.arrays["measured"], stored.arrays["measured"])
    assert "0 tasks computed in this run, 1 found done" in again.report_markdown


def test_the_store_parameter_is_text_never_evaluated():
    parameter = next(p for p in get_experiment("relu-sigma-sweep").parameters if p.name == "store")
    assert parameter.default is None and parameter.validate(None) is None
    assert parameter.parse(" results/sigma.zarr ") == "results/sigma.zarr"
    assert parameter.parse("__import__('os')") == "__import__('os')"  # a folder name, nothing more
    with pytest.raises(ParameterError, match="store"):
        parameter.parse("  ")
    with pytest.raises(ParameterError, match="store"):
        parameter.parse("a\x00b")
