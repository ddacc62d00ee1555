"""The derivation of T's closed form and of the dominance laws: claims hold, and can fail."""

from fractions import Fraction
from math import factorial, log

import sympy as sp

from gradflow.theory.symmetry import closed_forms, counts, dominance
from gradflow.theory.symmetry.dominance import h as h_symbol, m as m_symbol, r as r_symbol


def test_egf_steps_hold():
    claims = closed_forms.egf_claims()
    assert len(claims) == 4
    assert all(c.holds for c in claims.values()), [str(c) for c in claims.values()]


def test_table_claims_hold_and_detect_a_wrong_closed_form(monkeypatch):
    assert all(c.holds for c in closed_forms.table_claims(12).values())
    # a plausible wrong closed form, r*! S(m + 1, r*), must be caught
    monkeypatch.setattr(closed_forms, "expansion_count",
                        lambda r, m: factorial(r) * counts.stirling2(m + 1, r))
    broken = closed_forms.table_claims(6)
    assert not any(c.holds for c in broken.values())
    assert all(c.max_abs_at_random_points > 0 for c in broken.values())


def test_stirling_polynomials():
    assert dominance.stirling_polynomial_claim().holds
    n = dominance.n
    assert sp.expand(dominance.stirling_polynomial(1) - n * (n + 1) / 2) == 0
    for q in range(4):
        poly = dominance.stirling_polynomial(q)
        assert all(poly.subs(n, k) == counts.stirling2(k + q, k) for k in range(40, 45))


def test_ratio_at_zero_law():
    law = dominance.ratio_at_zero_law()
    assert sp.simplify(law.leading - (r_symbol - 1) / 2) == 0
    assert dominance.ratio_at_zero_claim(law).holds
    for k in range(2, 31):  # numbers, independently of the claim
        assert Fraction(str(law.leading.subs(r_symbol, k))) == counts.dominance_ratio(k, 0)


def test_ratio_at_zero_sum_below_law():
    law = dominance.ratio_at_zero_sum_below_law()
    residue, _ = dominance.ordered_bell_pole()
    assert residue == sp.Rational(-1, 2)
    for k, exact, asymptotic in dominance.sum_below_table(20):
        assert abs(exact - asymptotic) <= 2 * float(law.error.subs(r_symbol, k)) * (exact + 1) + 1e-12


def test_linear_growth_law():
    law = dominance.linear_growth_law()
    assert sp.simplify(law.constants["c_h"] - 1 / (2 * (h_symbol + 1))) == 0
    for hv in range(4):
        c_h = Fraction(1, 2 * (hv + 1))
        gaps = [abs(counts.dominance_ratio(k, hv) - c_h * k) for k in (200, 400, 800)]
        assert max(gaps) < hv + 1  # R - c_h r* = O(1)
    normalised = dominance.normalised_ratios()
    for hv in range(4):
        assert normalised[200, hv] < normalised[400, hv] < normalised[800, hv] < 1


def test_sum_below_fixed_h_law_form():
    law = dominance.linear_growth_sum_below_law()
    expected = (2 ** (h_symbol - 1) * sp.factorial(h_symbol)
                / (r_symbol ** h_symbol * sp.log(2) ** (r_symbol + h_symbol + 1)))
    assert sp.simplify(law.leading - expected) == 0
    value = counts.dominance_ratio(300, 1, "sum_below")
    lead = float(sp.log(law.leading.subs({h_symbol: 1, r_symbol: 300})).evalf())
    assert abs(log(value.numerator) - log(value.denominator) - lead) < 0.01


def test_growth_rate_laws():
    t_law, g_law, ratio, check = dominance.growth_rate_laws(range(2, 4))
    assert check.holds
    assert t_law.constants["rate"] == r_symbol + 1 and g_law.constants["rate"] == r_symbol - 1
    for k in (3, 4):
        for mv in (30, 60):
            exact = counts.dominance_ratio(k, mv - k)
            lead = Fraction(k - 1, k + 1) ** mv
            assert abs(exact / lead - 1) < 2 * float(ratio.error.subs({r_symbol: k, m_symbol: mv}))


def test_crossovers_table():
    table = dominance.crossovers((2, 3, 4, 10))
    assert table == {"default": {2: None, 3: None, 4: 0, 10: 1}, "sum_below": {2: None, 3: 0, 4: 0, 10: 3}}


def test_higher_order_factor_law():
    from gradflow.theory.symmetry import higher_order_factor
    from gradflow.theory.symmetry.higher_order import K, factor_law, factor_polynomial, n

    law, claim = factor_law()
    assert claim.holds
    assert sp.simplify(law.leading - n ** K / (2 ** K * sp.factorial(K))) == 0
    assert factor_polynomial(2).as_expr() == sp.expand((n - 2) * (n - 3) / 8)
    for order in (1, 2, 3):  # ratio to the leading term tends to 1 (numbers, from the exact counts)
        ratios = [float(higher_order_factor((width,), order)) / (width ** order / (2 ** order * factorial(order)))
                  for width in (50, 100, 200)]
        assert ratios[0] < ratios[1] < ratios[2] < 1
