"""The collected derivation: every claim holds, the fields are the objects the modules derive."""

from fractions import Fraction

import pytest
import sympy as sp

from gradflow.theory.derivation import Derivation
from gradflow.theory.laws import Law
from gradflow.theory.symmetry import SymmetryDerivation, crossover, derive, expansion_count
from gradflow.theory.symmetry.dominance import h as h_symbol


@pytest.fixture(scope="module")
def quick():
    return derive(quick=True)


def test_every_claim_holds(quick):
    assert isinstance(quick, SymmetryDerivation) and isinstance(quick, Derivation)
    failing = [str(c) for c in quick.claims.values() if not c.holds]
    assert not failing, failing
    assert len(quick.claims) >= 25


def test_fields(quick):
    assert quick.identity.startswith("binomial recurrence")
    assert sp.simplify(quick.c_h - 1 / (2 * (h_symbol + 1))) == 0
    for law in (quick.ratio_at_zero, quick.linear_growth, quick.expansion_growth, quick.critical_growth,
                quick.ratio_growth, quick.ratio_at_zero_sum_below, quick.linear_growth_sum_below):
        assert isinstance(law, Law)
    assert quick.expansion_table[1, 2] == 3 and quick.expansion_table[4, 4] == 24
    assert quick.expansion_table[3, 10] == expansion_count(3, 10)
    assert quick.critical_table[2, 4] == 14
    assert quick.ratio_table[5, 0] == Fraction(2)
    assert quick.crossovers["default"][20] == crossover(20)
    assert quick.crossovers["sum_below"][50] == crossover(50, "sum_below")


def test_documents(quick):
    latex = quick.to_latex()
    assert r"\begin{document}" in latex and "Fukumizu-Amari" in latex
    markdown = quick.to_markdown()
    assert "S{\\left(m + 1,r^{*} + 1 \\right)}" in markdown
    assert "FAILED" not in markdown


@pytest.mark.slow
def test_full_derivation():
    full = derive()
    assert all(c.holds for c in full.claims.values())
    assert any("[2, 2, 2, 1]" in name for name in full.equivariance)
