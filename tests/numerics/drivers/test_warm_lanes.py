"""Warm lane simulators: found by name and source hashes without the symbolic system; a miss derives."""

import json

import numpy as np
import pytest

from gradflow.numerics.codegen import warm_index
from gradflow.numerics.drivers.lanes import LaneSignature, LaneSimulator
from gradflow.numerics.drivers.warm import warm_lane_simulator


def _margin_map():
    from gradflow.derivations.associative_memory.simulators import derivation

    doc = derivation()
    return doc.margin_map, {"loss": doc.lane_loss}, {}


@pytest.fixture
def family(tmp_path):
    """A stand-in for a family's source folder: editing it must change the key."""
    folder = tmp_path / "family"
    folder.mkdir()
    (folder / "simulators.py").write_text("VERSION = 1\n")
    return folder


def _forget(key):
    warm_index._record_path(key).unlink(missing_ok=True)


def test_a_warm_simulator_runs_the_same_module_as_the_cold_one(family):
    key = warm_index.warm_key("lanes:test.margin_map", (), (family,))
    _forget(key)
    cold = warm_lane_simulator("test.margin_map", _margin_map, (family,))
    assert warm_index.find(key) is not None  # the miss recorded the module
    warm = warm_lane_simulator("test.margin_map", _margin_map, (family,))
    assert warm.path == cold.path and warm._system is None  # no symbolic system was built
    assert warm.signature == cold.signature
    params = {"p": np.array([0.5, 0.3, 0.2]), "M": 3.0, "eta": 0.7}
    a = cold.iterate(np.zeros((3, 1)), params, 20)
    b = warm.iterate(np.zeros((3, 1)), params, 20)
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.observables["loss"], b.observables["loss"])
    # the symbolic system is still there when asked for (derived on use)
    assert warm.system.params == cold.system.params
    _forget(key)


def test_the_key_changes_with_the_sources_and_the_parameters(family):
    key = warm_index.warm_key("lanes:test.k", (1,), (family,))
    assert key == warm_index.warm_key("lanes:test.k", (1,), (family,))
    assert key != warm_index.warm_key("lanes:test.k", (2,), (family,))
    assert key != warm_index.warm_key("lanes:test.other", (1,), (family,))
    warm_index._folder_digest.cache_clear()
    (family / "simulators.py").write_text("VERSION = 2\n")
    try:
        assert warm_index.warm_key("lanes:test.k", (1,), (family,)) != key
    finally:
        warm_index._folder_digest.cache_clear()


def test_a_changed_source_is_a_miss_that_derives_again(family):
    name, built = "test.margin_map_edit", []

    def build():
        built.append(1)
        return _margin_map()

    warm_lane_simulator(name, build, (family,))
    warm_lane_simulator(name, build, (family,))
    assert len(built) == 1
    old_key = warm_index.warm_key(f"lanes:{name}", (), (family,))
    (family / "simulators.py").write_text("VERSION = 3\n")
    warm_index._folder_digest.cache_clear()
    try:
        warm_lane_simulator(name, build, (family,))
        assert len(built) == 2
        _forget(warm_index.warm_key(f"lanes:{name}", (), (family,)))
    finally:
        warm_index._folder_digest.cache_clear()
        _forget(old_key)


def test_an_edited_module_or_record_is_a_miss(family, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(tmp_path / "cache"))
    module = tmp_path / "cache" / "gf_test.py"
    (tmp_path / "cache").mkdir()
    module.write_text("def lane_step():\n    return 1\n")
    warm_index.remember("k" * 64, module, {"defines": ["lane_step"]})
    found = warm_index.find("k" * 64)
    assert found is not None and found[0].lane_step() == 1
    assert warm_index.find("j" * 64) is None  # another key
    module.write_text("def lane_step():\n    return 2\n")  # edited after it was recorded
    assert warm_index.find("k" * 64) is None
    warm_index.remember("k" * 64, module, {"defines": ["lane_step", "iterate_map"]})
    assert warm_index.find("k" * 64) is None  # does not define what the driver calls
    warm_index._record_path("k" * 64).write_text("{not json")
    assert warm_index.find("k" * 64) is None


def test_a_signature_round_trips_through_json():
    signature = LaneSignature("s", "map", ("m1", "m2"), ("p1", "eta"), ("loss",), ("hit",), ("lane_step",))
    assert LaneSignature.from_json(json.loads(json.dumps(signature.to_json()))) == signature
    assert signature.dimension == 2
    sim = LaneSimulator.from_module(signature, None, None, lambda: None)
    with pytest.raises(Exception, match="method"):
        sim.integrate(np.zeros((1, 2)), np.zeros((1, 2)), [1.0])  # a Map has no integrator
