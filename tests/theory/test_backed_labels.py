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
