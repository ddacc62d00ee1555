"""Domains as data: ranges from TOML-like values, their strategies, and errors naming the field."""

import math

import pytest
from hypothesis import given, settings

from gradflow.numerics.conjecture import Domain, Range, domain_from_mapping
from gradflow.theory.errors import ParameterError

DOMAIN = domain_from_mapping({"N": [2, 20], "eta": [0.01, 5.0], "s": {"low": 1e-3, "high": 10.0, "scale": "log"},
                              "labels": ["opposite", "same"], "alpha": 0.5})


def test_kinds_from_values():
    assert DOMAIN["N"] == Range("N", "int", 2, 20)
    assert DOMAIN["eta"] == Range("eta", "float", 0.01, 5.0)
    assert DOMAIN["s"].kind == "log" and DOMAIN["labels"].choices == ("opposite", "same")
    assert DOMAIN.fixed == {"alpha": 0.5}
    assert domain_from_mapping({"z": [0, 2.0]})["z"].kind == "float"  # one float bound: a float range


@settings(max_examples=60, deadline=None)
@given(DOMAIN.strategy())
def test_strategy_stays_inside_the_ranges(instance):
    assert set(instance) == {"N", "eta", "s", "labels", "alpha"}
    assert isinstance(instance["N"], int) and 2 <= instance["N"] <= 20
    assert 0.01 <= instance["eta"] <= 5.0 and math.isfinite(instance["eta"])
    assert 1e-3 <= instance["s"] <= 10.0
    assert instance["labels"] in ("opposite", "same") and instance["alpha"] == 0.5


@pytest.mark.parametrize("mapping, field", [
    ({"N": [2]}, "domain.N"),
    ({"N": [5, 2]}, "domain.N"),
    ({"N": [1, "a"]}, "domain.N"),
    ({"s": {"low": -1.0, "high": 2.0, "scale": "log"}}, "domain.s"),
    ({"s": {"low": 1.0, "high": 2.0, "scale": "cubic"}}, "domain.s.scale"),
    ({"s": {"low": 1.0, "hgh": 2.0}}, "domain.s.hgh"),
    ({"x": [0.0, float("inf")]}, "domain.x"),
])
def test_malformed_ranges_name_the_field(mapping, field):
    with pytest.raises(ParameterError) as error:
        domain_from_mapping(mapping)
    assert error.value.parameter == field


def test_check_names_the_parameter_out_of_range():
    with pytest.raises(ParameterError, match="^eta: must be in"):
        DOMAIN.check({"N": 3, "eta": 9.0, "s": 1.0, "labels": "same"})
    assert DOMAIN.check({"N": 3, "eta": 1.0, "s": 1.0, "labels": "same"})["alpha"] == 0.5
    with pytest.raises(ParameterError):
        Domain((Range("a", "int", 0, 1), Range("a", "int", 0, 2)))
