"""``simulate am-orthogonal --compare``: the default runs pass; a doctored law or a short run fails."""

from __future__ import annotations

import dataclasses

import pytest

from gradflow.derivations.registry import get_model
from gradflow.theory.models import associative_memory as am


def _verdicts(entry, method, **length):
    settings = entry.settings({})
    return entry.compare(settings, method, entry.simulate(settings, method, **length))


@pytest.fixture(scope="module")
def entry():
    return get_model("am-orthogonal")


@pytest.mark.parametrize("method", ["gd", pytest.param("flow", marks=pytest.mark.long)])  # flow: a minute cold
def test_default_run_passes_with_measured_and_predicted(entry, method):
    verdicts = _verdicts(entry, method)
    assert verdicts and all(v.passed for v in verdicts), [str(v) for v in verdicts]
    law = next(v for v in verdicts if "law m" in v.name)
    assert law.measured is not None and law.predicted is not None
    assert 0 < law.error <= law.tolerance < 0.1  # a tolerance from the O(log T/T) terms at T, not a loose one


@pytest.mark.parametrize("method, law", [("gd", "gd_law"), ("flow", "flow_law")])
def test_a_doubled_rate_in_the_law_fails(entry, monkeypatch, method, law):
    doc = entry.derivation()
    doctored = getattr(doc, law)
    doctored = dataclasses.replace(doctored, leading=doctored.leading.subs(am.p, 2 * am.p))
    monkeypatch.setattr(entry, "derivation", lambda: dataclasses.replace(doc, **{law: doctored}))
    failed = [v for v in _verdicts(entry, method) if not v.passed]
    assert len(failed) == 1 and "law m" in failed[0].name and failed[0].error > failed[0].tolerance


def test_a_doctored_loss_limit_fails(entry, monkeypatch):
    doc = entry.derivation()
    doctored = dataclasses.replace(doc.loss_law, leading=doc.loss_law.leading * 1.3)
    monkeypatch.setattr(entry, "derivation", lambda: dataclasses.replace(doc, loss_law=doctored))
    assert [v.name for v in _verdicts(entry, "gd") if not v.passed] == [f"loss law eta T L_T -> {doctored.leading}"]


@pytest.mark.parametrize("method, length, needs", [("gd", {"steps": 100}, "--steps >="),
                                                    ("flow", {"t_end": 10.0}, "--t-end >=")])
def test_a_run_too_short_for_the_regime_fails_and_says_how_long(entry, method, length, needs):
    failed = [v for v in _verdicts(entry, method, **length) if not v.passed]
    assert failed and all("too short" in v.regime and needs in v.regime for v in failed)
    assert any("law m" in v.name for v in failed)
