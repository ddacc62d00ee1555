"""Axis text (a:b:n, a:b:logn, comma lists) is parsed, never evaluated; bad text gets one clear line."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.sweep import as_axis, load_config, parse_axis, parse_values
from gradflow.theory.errors import ParameterError


def test_linear_log_and_list_forms():
    assert parse_values("0:1:5") == tuple(np.linspace(0, 1, 5))
    assert np.allclose(parse_values("0.1:10:log3"), (0.1, 1.0, 10.0))
    assert parse_values(" 1, 2.5 ,-3e-1") == (1.0, 2.5, -0.3)
    axis = parse_axis("eta=0.1:10:log25")
    assert axis.name == "eta" and len(axis) == 25 and axis.values[0] == pytest.approx(0.1)


@pytest.mark.parametrize("text, says", [
    ("", "empty"), ("1,,2", "without empty items"), ("1,abc", "numbers"), ("__import__('os')", "numbers"),
    ("1e999", "numbers"), ("nan", "numbers"), ("0:1", "three fields"), ("0:1:0", "point count"),
    ("0:1:logx", "point count"), ("0:1:log3", "positive ends"), ("1,1", "distinct"), ("0:1:1e9", "point count"),
])
def test_bad_values_name_the_axis_and_the_rule(text, says):
    with pytest.raises(ParameterError, match=f"axis eta: must .*{says}"):
        parse_axis(f"eta={text}")


@pytest.mark.parametrize("text", ["eta", "=1,2", "1eta=1", "e ta=1"])
def test_bad_axis_names(text):
    with pytest.raises(ParameterError, match="--axis|axis"):
        parse_axis(text)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8, unique=True))
def test_comma_lists_round_trip(values):
    assert parse_values(",".join(repr(v) for v in values)) == tuple(values)


@settings(max_examples=30, deadline=None)
@given(st.floats(1e-3, 1e3), st.floats(1e-3, 1e3), st.integers(2, 50))
def test_ranges_match_numpy(a, b, n):
    if a == b:
        return
    assert np.allclose(parse_values(f"{a!r}:{b!r}:{n}"), np.linspace(a, b, n), rtol=0, atol=1e-12 * max(a, b))
    assert np.allclose(parse_values(f"{a!r}:{b!r}:log{n}"), np.geomspace(a, b, n), rtol=1e-12)


def test_python_values_and_refusals():
    assert as_axis("a", [1, 2]).values == (1.0, 2.0) and as_axis("a", 3).values == (3.0,)
    with pytest.raises(ParameterError, match="axis a: must be at least one value"):
        as_axis("a", [])
    with pytest.raises(ParameterError, match="axis a: must be numbers"):
        as_axis("a", ["x"])


def test_toml_config(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('target = "toy"\nseeds = 3\n[axes]\na = "0:1:3"\nb = [1, 2.5]\n[settings]\nnoise = 0.5\n')
    config = load_config(path)
    assert config["axes"] == {"a": "0:1:3", "b": [1, 2.5]} and config["seeds"] == 3
    path.write_text('target = "toy"\nstep = 1\n')
    with pytest.raises(ParameterError, match="--config: must be keys among"):
        load_config(path)
    path.write_text('[axes]\na = [1, "x"]\n')
    with pytest.raises(ParameterError, match="axis a"):
        load_config(path)
    path.write_text('target = \n')
    with pytest.raises(ParameterError, match="valid TOML"):
        load_config(path)
