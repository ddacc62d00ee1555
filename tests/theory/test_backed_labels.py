"""A derivation step is labelled "Checked by SymPy" only when the check behind the label holds."""

from __future__ import annotations

import pytest
import sympy as sp

from gradflow.theory.verify import backed, vanishes

x = sp.Symbol("x", real=True)


def test_label_kept_when_every_piece_of_evidence_holds():
    assert backed("identity", vanishes(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1), True) == "identity"


@pytest.mark.parametrize("evidence", [(vanishes(sp.sin(x) - x),), (True, False), (vanishes(x - x), 0)])
def test_label_dropped_when_a_check_fails(evidence):
    assert backed("identity", *evidence) == ""


def test_a_label_without_evidence_is_refused():
    with pytest.raises(ValueError, match="needs the check"):
        backed("closure")


@pytest.mark.parametrize("module", ["associative_memory", "deep_linear", "two_particle"])
def test_every_label_of_the_shipped_derivations_is_backed(module):
    """The steps whose labels are backed by claims carry them (all checks pass); the labels removed for
    lack of a check stay removed."""
    import importlib

    doc = importlib.import_module(f"gradflow.theory.models.{module}").derive()
    labels = {step.title: step.checked_by for step in doc.steps}
    unlabelled = {"associative_memory": {"Gradient (matrix chain rule)"},
                  "deep_linear": {"Gradients (matrix chain rule)", "One mode (lane)"},
                  "two_particle": set()}[module]
    assert all(not labels[title] for title in unlabelled)
    for claim in getattr(doc, "claims", {}).values():
        assert claim.holds, claim
    assert sum(1 for label in labels.values() if label) >= 6
