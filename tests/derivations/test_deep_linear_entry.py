"""The deep-linear CLI entry: settings, simulate on both backends, and its checks."""

import json

import numpy as np
import pytest

from gradflow.derivations.base import parse_settings
from gradflow.derivations.deep_linear import DeepLinearEntry, measured_half_times
from gradflow.theory.errors import ParameterError

ENTRY = DeepLinearEntry()


@pytest.mark.parametrize("pair, parameter", [
    ("n_in=0", "n_in"), ("hidden=-2", "hidden"), ("n_out=x", "n_out"), ("sigma=1,-1", "sigma"),
    ("sigma=0", "sigma"), ("s0=0", "s0"), ("s0=-1e-3", "s0"), ("eta=0", "eta"), ("eta=-0.1", "eta"),
    ("eta=nan", "eta"), ("seed=-1", "seed"), ("depth=3", "depth"),
])
def test_bad_settings_name_the_key(pair, parameter):
    with pytest.raises(ParameterError) as info:
        parse_settings(ENTRY.keys, [pair])
    assert info.value.parameter == parameter


@pytest.mark.parametrize("pairs, parameter", [
    (["sigma=3,2,1,0.5"], "sigma"),  # more modes than min(n_in, hidden, n_out) = 3
    (["s0=1.5", "sigma=2,1"], "s0"),  # s0 above the smallest sigma
])
def test_settings_that_conflict_name_the_key(pairs, parameter):
    settings = parse_settings(ENTRY.keys, pairs)
    with pytest.raises(ParameterError) as info:
        ENTRY.simulate(settings, "gd", 10)
    assert info.value.parameter == parameter


def test_unknown_method_and_backend():
    settings = parse_settings(ENTRY.keys, [])
    with pytest.raises(ParameterError, match="method"):
        ENTRY.simulate(settings, "sgd", 10)
    with pytest.raises(ParameterError, match="backend"):
        ENTRY.simulate(settings, "gd", 10, backend="cuda")


def test_simulate_gd_backends_agree_and_learn_every_mode():
    settings = parse_settings(ENTRY.keys, ["sigma=2,1", "s0=1e-2"])
    cpu, numpy = (ENTRY.simulate(settings, "gd", 1500, backend=b) for b in ("cpu", "numpy"))
    json.dumps(cpu)
    modes = np.array(cpu["modes"])
    assert modes.shape == (len(cpu["t"]), 2) and cpu["t"][-1] == 1500
    np.testing.assert_allclose(modes, np.array(numpy["modes"]), atol=1e-12)
    np.testing.assert_allclose(modes[-1], [2.0, 1.0], rtol=1e-6)
    # O(eta) from the logistic at eta = 0.01 (see check (c))
    assert np.max(np.abs(modes - np.array(cpu["logistic"]))) < 0.02


def test_simulate_flow_backends_agree_with_the_logistic():
    settings = parse_settings(ENTRY.keys, ["sigma=2,1", "s0=1e-2"])
    cpu, numpy = (ENTRY.simulate(settings, "flow", None, 6.0, backend=b) for b in ("cpu", "numpy"))
    assert cpu["t"][-1] == 6.0
    for run in (cpu, numpy):
        np.testing.assert_allclose(run["modes"], run["logistic"], atol=1e-8)
    loss = np.array(cpu["loss"])
    assert loss[0] == pytest.approx(0.5 * ((2 - 1e-2) ** 2 + (1 - 1e-2) ** 2), rel=1e-12)
    assert np.all(np.diff(loss) <= 1e-15)  # gradient flow decreases the loss


def test_measured_half_time_moves_with_s0():
    # the exact half time (1/2) log((1 - s0)/s0) at sigma = 1, typed in as the oracle
    s0 = np.array([1e-2, 1e-4])
    np.testing.assert_allclose(measured_half_times(1.0, s0), 0.5 * np.log((1 - s0) / s0), rtol=1e-9)


def test_quick_checks_pass():
    verdicts = ENTRY.checks(quick=True)
    assert len(verdicts) == 7
    failed = [str(v) for v in verdicts if not v.passed]
    assert not failed, failed
    json.dumps([v.to_dict() for v in verdicts])  # plain Python types for `gradflow check --json`
