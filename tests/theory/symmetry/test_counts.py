"""Exact counts: anchors, literal tables, the three forms of T, enumeration, ratios and crossovers."""

from fractions import Fraction
from math import comb, factorial, log, lgamma

import pytest
from hypothesis import given, settings, strategies as st

from gradflow.theory.errors import ParameterError
from gradflow.theory.symmetry import (critical_count, critical_count_sum_below, critical_count_with_zero_neurons,
                                      crossover, deep_critical_count, deep_dominance_ratio, deep_expansion_count,
                                      dominance_ratio, expansion_count, expansion_count_alternating,
                                      expansion_count_sum, higher_order_bound, higher_order_factor,
                                      labelling_dimension, labelling_nullity, labellings, orbit_size,
                                      pair_embeddings, stirling2, surjection_row, surjections)

# T(r*, m) rows m = 1..5, computed by hand from the definition (labellings onto the roles)
T_ROWS = {1: [1], 2: [3, 2], 3: [7, 12, 6], 4: [15, 50, 60, 24], 5: [31, 180, 390, 360, 120]}
# G(r, m) = r! S(m, r) = surjections, rows m = 1..5
G_ROWS = {1: [1], 2: [1, 2], 3: [1, 6, 6], 4: [1, 14, 36, 24], 5: [1, 30, 150, 240, 120]}


def test_anchors():
    assert expansion_count(1, 2) == 3  # (w1, w', a1, 0), its mirror, the replica line
    assert all(expansion_count(r, r) == factorial(r) for r in range(1, 15))


@pytest.mark.parametrize("m", sorted(T_ROWS))
def test_literal_tables(m):
    assert [expansion_count(r, m) for r in range(1, m + 1)] == T_ROWS[m]
    assert [expansion_count_sum(r, m) for r in range(1, m + 1)] == T_ROWS[m]
    assert [critical_count(r, m) for r in range(1, m + 1)] == G_ROWS[m]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 30).flatmap(lambda m: st.tuples(st.integers(1, m), st.just(m))))
def test_three_forms_of_T_agree(rm):
    r, m = rm
    assert expansion_count_sum(r, m) == expansion_count(r, m) == expansion_count_alternating(r, m)


def test_three_forms_of_T_agree_on_the_whole_table():
    for m in range(1, 31):
        for r in range(1, m + 1):
            assert expansion_count_sum(r, m) == expansion_count(r, m) == expansion_count_alternating(r, m)


@pytest.mark.parametrize("m", range(1, 9))
def test_enumeration_agrees(m):
    for r in range(1, m + 1):
        lams = labellings(r, m)
        assert len(lams) == len(set(lams)) == expansion_count(r, m)
        assert all(set(range(1, r + 1)) <= set(lam) for lam in lams)
        maps = surjections(m, r)
        assert len(maps) == len(set(maps)) == critical_count(r, m)


def test_critical_count_variants():
    for m in range(2, 12):
        for r in range(2, m + 1):
            assert critical_count_sum_below(r, m) == sum(factorial(s) * stirling2(m, s) for s in range(1, r))
        for r in range(1, m + 1):
            assert critical_count_with_zero_neurons(r, m) == expansion_count(r, m)
            assert surjection_row(m, r)[r] == critical_count(r, m)


def test_ratio_at_zero_is_exact():
    for r in range(2, 31):
        assert dominance_ratio(r, 0) == Fraction(r - 1, 2)


@pytest.mark.parametrize("variant", ["default", "sum_below", "with_zero_neurons"])
def test_ratio_decreases_in_h(variant):
    for r in (2, 3, 5, 10, 20):
        values = [dominance_ratio(r, h, variant) for h in range(0, 3 * r + 10)]
        assert all(a > b for a, b in zip(values, values[1:]))


def _crossover_by_scan(r, variant):
    last, h = None, 0
    while dominance_ratio(r, h, variant) > 1:
        last, h = h, h + 1
    return last


@pytest.mark.parametrize("variant", ["default", "sum_below"])
def test_crossover_against_a_direct_scan(variant):
    for r in (2, 3, 4, 5, 6, 8, 10, 15, 20):
        assert crossover(r, variant) == _crossover_by_scan(r, variant)


def test_crossover_values():
    assert [crossover(r) for r in (2, 3, 4, 8, 10, 15, 20, 30, 50)] == [None, None, 0, 1, 1, 3, 4, 7, 12]
    assert [crossover(r, "sum_below") for r in (2, 3, 6, 10, 20, 50)] == [None, 0, 1, 3, 7, 22]


def test_normalised_ratio_increases_to_one():
    for h in range(4):
        c_h = Fraction(1, 2 * (h + 1))
        values = [dominance_ratio(r, h) / (c_h * r) for r in (200, 400, 800)]
        assert values[0] < values[1] < values[2] < 1
        assert 1 - values[2] < 2 * (1 - values[1]) / 1.9  # the gap closes like 1/r*


def test_sum_below_fixed_h_law():
    """R_below ~ 2^{h-1} h! / (r^h (ln 2)^{r+h+1}): log error shrinks like 1/r."""
    for h in range(3):
        errors = []
        for r in (100, 200, 400):
            R = dominance_ratio(r, h, "sum_below")
            lead = (h - 1) * log(2) + lgamma(h + 1) - h * log(r) - (r + h + 1) * log(log(2))
            errors.append(abs(log(R.numerator) - log(R.denominator) - lead))
        if h == 0:  # exact up to the exponentially small poles and the "- 1"
            assert max(errors) < 1e-10
        else:
            assert errors[0] > errors[1] > errors[2]
            assert 1.8 < errors[1] / errors[2] < 2.2 and errors[2] < 0.02  # O(1/r*)


def test_geometric_growth():
    for r in (2, 3, 5):
        t = [expansion_count(r, m) / (r + 1) ** m for m in (20, 40, 80)]
        g = [critical_count(r - 1, m) / (r - 1) ** m for m in (20, 40, 80)]
        assert t[0] < t[1] < t[2] <= 1 and abs(t[2] - 1) < 1e-5
        assert abs(g[2] - 1) < 1e-5


def test_higher_order_formula():
    assert orbit_size((2, 3)) == 12
    assert pair_embeddings(4, 1) == comb(3, 1) * 24 // 2
    assert higher_order_factor((3, 4), 2) == Fraction(1, 4)  # binom(2, 2)/4 from the width-4 layer
    assert higher_order_bound((3, 4), 2) == 36
    for widths in [(1,), (3,), (2, 3), (3, 3, 2)]:
        assert higher_order_factor(widths, 2) == 0 and higher_order_bound(widths, 2) == 0  # every n_k < 4


def test_dimension_and_nullity():
    # r* = 2, m = 4, one zero-type neuron, d = 3, d_out = 1: one free w (3) and one extra replica (1)
    assert labelling_dimension(4, 2, 1, 3, 1) == 3 + 1
    # scalar output: k d + sum (s_i - 1)(d + 1)
    assert labelling_nullity(1, (2, 1), (1, 1), 3, 1) == 3 + 1 * 4
    assert labelling_nullity(0, (3,), (2,), 2, 2) == 2 * 2 + (3 - 2) * 2


def test_depth_products():
    assert deep_expansion_count((2, 3), (3, 4)) == expansion_count(2, 3) * expansion_count(3, 4)
    assert deep_critical_count((2, 3), (3, 4)) == critical_count(1, 3) * critical_count(2, 4)
    assert deep_dominance_ratio((2, 3), (3, 4)) == dominance_ratio(2, 1) * dominance_ratio(3, 1)


@pytest.mark.parametrize("call, name", [
    (lambda: expansion_count(3, 2), "r_star"),
    (lambda: expansion_count_sum(0, 2), "r_star"),
    (lambda: expansion_count(1, 0), "m"),
    (lambda: critical_count(4, 3), "r"),
    (lambda: critical_count_sum_below(1, 3), "r_star"),
    (lambda: dominance_ratio(1, 0), "r_star"),
    (lambda: dominance_ratio(3, -1), "h"),
    (lambda: dominance_ratio(3, 1, "cheap"), "variant"),
    (lambda: crossover(True), "r_star"),
    (lambda: higher_order_bound((0, 3), 1), "hidden_widths"),
    (lambda: higher_order_factor((3,), 0), "K"),
    (lambda: labelling_dimension(4, 2, 3, 2, 1), "zero_type"),
    (lambda: labelling_nullity(0, (2,), (3,), 2, 2), "output_ranks"),
    (lambda: deep_expansion_count((2, 3), (3,)), "ms"),
    (lambda: labellings(2, 9), "m"),
    (lambda: crossover(50, h_max=3), "h_max"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ParameterError) as info:
        call()
    assert info.value.parameter == name
