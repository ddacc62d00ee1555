"""Exact numbers in reports: short ones printed with a decimal, long ones described, never 40 digits."""

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.theory.exact_numbers import show_exact


def test_short_exact_values_keep_their_form_and_gain_a_decimal():
    assert show_exact(sp.Rational(17424, 2609375)) == "17424/2609375 = 0.006677"
    assert show_exact(sp.sqrt(2) / 4) == "sqrt(2)/4 ~ 0.3536"
    assert show_exact(sp.Integer(3)) == "3" and show_exact(7) == "7"
    assert show_exact(sp.Integer(10) ** 45) == "1e+45 (exact: a 46-digit integer)"
    assert show_exact(0.123456789) == "0.1235" and show_exact(np.float32(2.5)) == "2.5"


def test_a_long_fraction_times_sqrt2_is_a_decimal_and_its_shape():
    value = sp.Rational(1269855368313969854755756610067977265503,
                        271751044004413491178234936644963217693200) * sp.sqrt(2)
    shown = show_exact(value)
    assert shown == "0.006608 (exact: sqrt(2) times a ratio of 40- and 42-digit integers)"
    assert abs(float(shown.split()[0]) - float(value)) < 1e-6


@settings(max_examples=50, deadline=None)
@given(p=st.integers(1, 10**45) | st.just(10**45), q=st.integers(1, 10**45) | st.just(1))
def test_no_shown_number_has_more_than_24_digits_in_a_row(p, q):
    shown = show_exact(sp.Rational(p, q))
    digits = max(len(run) for run in "".join(c if c.isdigit() else " " for c in shown).split())
    assert digits <= 24
    assert abs(float(shown.replace("(", " ").split()[-1 if "=" in shown else 0]) / float(sp.Rational(p, q)) - 1) < 1e-3
