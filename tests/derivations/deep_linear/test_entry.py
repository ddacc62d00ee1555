"""The deep-linear CLI entry: declared parameters, settings, simulate on both backends, and its checks."""

import json

import numpy as np
import pytest

from gradflow.derivations import registry
from gradflow.derivations.deep_linear import FAMILY, DeepLinearEntry
from gradflow.derivations.deep_linear.checks import measured_half_times
from gradflow.derivations.deep_linear.entry import RECORDS, evenly_recorded_steps
from gradflow.derivations.deep_linear.parameters import require_consistent
from gradflow.derivations.deep_linear.simulators import laws
from gradflow.theory.errors import ParameterError

ENTRY = DeepLinearEntry()


@pytest.mark.parametrize("pair, parameter", [
    ("n_in=0", "n_in"), ("hidden=-2", "hidden"), ("n_out=x", "n_out"), ("sigma=1,-1", "sigma"),
    ("sigma=0", "sigma"), ("s0=0", "s0"), ("s0=-1e-3", "s0"), ("eta=0", "eta"), ("eta=-0.1", "eta"),
    ("eta=nan", "eta"), ("seed=-1", "seed"), ("depth=3", "depth"),
])
def test_bad_settings_name_the_key(pair, parameter):
    with pytest.raises(ParameterError) as info:
        ENTRY.parse_settings([pair])
    assert info.value.parameter == parameter


@pytest.mark.parametrize("pairs, parameter", [
    (["sigma=3,2,1,0.5"], "sigma"),  # more modes than min(n_in, hidden, n_out) = 3
    (["s0=1.5", "sigma=2,1"], "s0"),  # s0 above the smallest sigma
])
def test_settings_that_conflict_name_the_key(pairs, parameter):
    settings = ENTRY.parse_settings(pairs)
    with pytest.raises(ParameterError) as info:
        ENTRY.simulate(settings, "gd", 10)
    assert info.value.parameter == parameter


@pytest.mark.parametrize("given, parameter", [
    ({"n_in": 0}, "n_in"), ({"hidden": -1}, "hidden"), ({"n_out": 0}, "n_out"),
    ({"sigma": (1.0, -2.0)}, "sigma"), ({"sigma": (0.0,)}, "sigma"),
    ({"n_in": 2, "sigma": (1.0, 1.0, 1.0), "s0": 0.1}, "sigma"),  # three modes, n_in = 2
    ({"sigma": (1.0, 2.0), "s0": 1.0}, "s0"),  # s0 = min sigma
    ({"sigma": (1.0,), "s0": 0.0}, "s0"), ({"eta": 0.0}, "eta"), ({"eta": -1.0}, "eta"),
    ({"eta": float("nan")}, "eta"),
])
def test_bad_settings_from_python_name_the_parameter(given, parameter):
    with pytest.raises(ParameterError) as info:
        ENTRY.simulate(given, "gd", 0)
    assert info.value.parameter == parameter


def test_constraints_between_parameters_are_checked_in_one_place():
    require_consistent(ENTRY.settings({"sigma": (3.0, 2.0, 1.0), "s0": 0.999}))  # n_in, hidden, n_out = 5, 4, 3
    with pytest.raises(ParameterError, match=r"sigma: must be at most min\(n_in, hidden, n_out\) = 2 values"):
        require_consistent(ENTRY.settings({"hidden": 2}))
    with pytest.raises(ParameterError, match=r"s0: must be in \(0, min sigma\) = \(0, 1.0\)"):
        require_consistent(ENTRY.settings({"s0": 1.0}))
    for method in ("gd", "flow"):  # the flow of the modes refuses them too
        with pytest.raises(ParameterError, match="s0"):
            ENTRY.simulate({"s0": 2.0}, method)


def test_declared_parameters():
    declared = {p.name: p.default for p in ENTRY.parameters}
    assert declared == {"n_in": 5, "hidden": 4, "n_out": 3, "sigma": (3.0, 2.0, 1.0), "s0": 1e-3, "eta": 0.01,
                        "seed": 0}
    assert all(p.help for p in ENTRY.parameters)
    assert ENTRY.methods == ("gd", "flow") and ENTRY.backends == ("cpu", "numpy")
    assert ENTRY.settings({"sigma": [2, 1]})["sigma"] == (2.0, 1.0)


def test_the_family_is_registered_in_its_place():
    assert FAMILY.entries and FAMILY.experiments == ()
    assert registry.get_model("deep-linear") is FAMILY.entries[0]
    assert [f.name for f in registry.families()] == ["associative_memory", "two_particle", "binary_memory",
                                                      "am_transformer", "deep_linear", "shallow_relu", "mlp", "symmetry",
                                                      "expand_cluster", "confusion"]


def test_t_end_only_with_the_flow():
    with pytest.raises(ParameterError, match="--t-end"):
        ENTRY.simulate({}, "gd", None, 3.0)
    with pytest.raises(ParameterError, match="--steps"):
        ENTRY.simulate({}, "flow", 10)


def test_unknown_method_and_backend():
    settings = ENTRY.settings()
    with pytest.raises(ParameterError, match="method"):
        ENTRY.simulate(settings, "sgd", 10)
    with pytest.raises(ParameterError, match="backend"):
        ENTRY.simulate(settings, "gd", 10, backend="cuda")


def test_simulate_gd_backends_agree_and_learn_every_mode():
    settings = ENTRY.parse_settings(["sigma=2,1", "s0=1e-2"])
    cpu, numpy = (ENTRY.simulate(settings, "gd", 1500, backend=b) for b in ("cpu", "numpy"))
    json.dumps(cpu)
    modes = np.array(cpu["modes"])
    assert modes.shape == (len(cpu["t"]), 2) and cpu["t"][-1] == 1500
    np.testing.assert_allclose(modes, np.array(numpy["modes"]), atol=1e-12)
    np.testing.assert_allclose(modes[-1], [2.0, 1.0], rtol=1e-6)
    # O(eta) from the logistic at eta = 0.01 (see check (c))
    assert np.max(np.abs(modes - np.array(cpu["logistic"]))) < 0.02


@pytest.mark.long  # about 10-20 s from an empty cache: not in the quick subset
def test_simulate_flow_backends_agree_with_the_logistic():
    settings = ENTRY.parse_settings(["sigma=2,1", "s0=1e-2"])
    cpu, numpy = (ENTRY.simulate(settings, "flow", None, 6.0, backend=b) for b in ("cpu", "numpy"))
    assert cpu["t"][-1] == 6.0
    for run in (cpu, numpy):
        np.testing.assert_allclose(run["modes"], run["logistic"], atol=1e-8)
    loss = np.array(cpu["loss"])
    assert loss[0] == pytest.approx(0.5 * ((2 - 1e-2) ** 2 + (1 - 1e-2) ** 2), rel=1e-12)
    assert np.all(np.diff(loss) <= 1e-15)  # gradient flow decreases the loss


@pytest.mark.long  # default-length runs of every method from an empty cache: not in the quick subset
def test_default_lengths_and_records():
    gd = ENTRY.simulate({}, "gd")
    assert gd["params"]["steps"] == 2000 and len(gd["t"]) == RECORDS + 1 and gd["t"][-1] == 2000
    np.testing.assert_allclose(gd["time"], np.array(gd["t"]) * 0.01)
    flow = ENTRY.simulate({"sigma": (2.0, 1.0), "s0": 1e-2}, "flow")
    slowest = 0.5 * np.log((1 - 1e-2) / 1e-2)  # the exact half time at sigma = 1, typed in
    assert flow["params"]["t_end"] == pytest.approx(2 * slowest, rel=1e-12)
    steps = evenly_recorded_steps(12345)
    assert steps[0] == 0 and steps[-1] == 12345 and len(steps) == RECORDS + 1
    assert np.array_equal(evenly_recorded_steps(7), np.arange(8))


def test_laws_evaluate_the_derived_formulas():
    # oracles typed in by hand: s(0) = s0, s(t) -> sigma; t_half and the law's leading term at sigma = 2
    s = laws().logistic([0.0, 50.0], [2.0, 1.0], 1e-3)
    np.testing.assert_allclose(s, [[1e-3, 1e-3], [2.0, 1.0]], rtol=1e-12)
    np.testing.assert_allclose(laws().half_time(2.0, 1e-3), np.log((2 - 1e-3) / 1e-3) / 4, rtol=1e-12)
    assert laws().slowest_half_time(np.array([2.0, 1.0]), 1e-3) == pytest.approx(np.log((1 - 1e-3) / 1e-3) / 2, rel=1e-12)
    assert laws().time_to_learn(1e4, 2.0) == pytest.approx(np.log(1e4) / 4, rel=1e-14)
    assert laws().correction(1e4, 2.0) == pytest.approx(-1 / (4 * 1e4), rel=1e-14)
    assert laws().lane_loss(1.0, 0.5, 2.0) == pytest.approx(0.5 * 1.5 ** 2, rel=1e-14)
    np.testing.assert_allclose(laws().lane_velocity(1.0, 0.5, 2.0), [0.5 * 1.5, 1.0 * 1.5], rtol=1e-14)


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
