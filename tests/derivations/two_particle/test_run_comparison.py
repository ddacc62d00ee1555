"""``simulate am-two-particle --compare``: the default runs pass; doctored formulas fail."""

from __future__ import annotations

import dataclasses

import pytest

from gradflow.derivations.registry import get_model


def _verdicts(entry, method, **given):
    settings = entry.settings(given)
    return entry.compare(settings, method, entry.simulate(settings, method))


@pytest.fixture(scope="module")
def entry():
    return get_model("am-two-particle")


@pytest.mark.parametrize("method, count", [("gd", 4), ("flow", 2)])
def test_default_run_passes(entry, method, count):
    verdicts = _verdicts(entry, method)
    assert len(verdicts) == count and all(v.passed for v in verdicts), [str(v) for v in verdicts]


def test_a_doctored_first_step_and_sharpness_fail(entry, monkeypatch):
    doc = entry.derivation()
    case = doc.cases["opposite"]
    m1, m2 = case.first_step
    cases = dict(doc.cases, opposite=dataclasses.replace(case, first_step=(m1, m2 * (1 + 1e-6))))
    doctored = dataclasses.replace(doc, cases=cases, sharpness_at_zero=doc.sharpness_at_zero * (1 + 1e-9),
                                   sharpness=doc.sharpness * (1 + 1e-9))
    monkeypatch.setattr(entry, "derivation", lambda: doctored)
    assert [v.passed for v in _verdicts(entry, "gd")] == [False, True, False, False]


def test_a_doctored_dip_threshold_fails(entry, monkeypatch):
    doc = entry.derivation()
    monkeypatch.setattr(entry, "derivation", lambda: dataclasses.replace(doc, dip_threshold=doc.dip_threshold * 3))
    assert [v.passed for v in _verdicts(entry, "gd")] == [True, False, True, True]  # p2/p1 x 3 = 1 > alpha: no dip
