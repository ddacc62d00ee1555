"""``simulate deep-linear --compare``: the default runs pass; a doctored law or a short run fails."""

from __future__ import annotations

import dataclasses

import pytest

from gradflow.derivations.registry import get_model
from gradflow.theory.models import deep_linear as dl


def _verdicts(entry, method, **length):
    settings = entry.settings({})
    return entry.compare(settings, method, entry.simulate(settings, method, **length))


@pytest.fixture(scope="module")
def entry():
    return get_model("deep-linear")


@pytest.mark.parametrize("method", ["gd", "flow"])
def test_default_run_passes(entry, method):
    verdicts = _verdicts(entry, method)
    assert len(verdicts) == 2 and all(v.passed for v in verdicts), [str(v) for v in verdicts]
    half = verdicts[1]
    assert half.measured is not None and 0 < half.error <= half.tolerance < 0.05


@pytest.mark.parametrize("method", ["gd", "flow"])
def test_a_doctored_time_to_learn_fails(entry, monkeypatch, method):
    doc = entry.derivation()
    law = dataclasses.replace(doc.time_to_learn, leading=doc.time_to_learn.leading.subs(dl.sigma, 1.05 * dl.sigma))
    monkeypatch.setattr(entry, "derivation", lambda: dataclasses.replace(doc, time_to_learn=law))
    assert [v.passed for v in _verdicts(entry, method)] == [True, False]


def test_a_doctored_logistic_fails_the_flow(entry, monkeypatch):
    doc = entry.derivation()
    monkeypatch.setattr(entry, "derivation", lambda: dataclasses.replace(doc, logistic=doc.logistic * 1.001))
    assert not _verdicts(entry, "flow")[0].passed


def test_a_run_that_ends_before_the_half_time_fails(entry):
    verdicts = _verdicts(entry, "gd", steps=100)  # eta k = 1 < t_half of every mode
    assert not verdicts[1].passed and "too short" in verdicts[1].regime and "--steps" in verdicts[1].regime
