"""The reproductions: their JSON, determinism, metadata; the full runs' expectations (slow)."""

import json

import numpy as np
import pytest

from gradflow.derivations.output import dumps
from gradflow.derivations.registry import get_experiment

pytestmark = pytest.mark.long  # whole reproductions or subprocesses: not in the quick subset

SHIFT_KEYS = {"true_acc", "estimate", "naive", "gap_closed", "gap_closed_by_B", "gap_closed_by_score", "cs_mean_id",
              "cs_mean_ood", "cs_shift", "bins", "decomposition", "models", "mae_estimate", "mae_naive",
              "pearson_estimate", "pearson_naive", "line_observed", "line_predicted"}


@pytest.fixture(scope="module")
def synthetic():
    return get_experiment("confusion-synthetic").reproduce({}, quick=True)


def test_synthetic_json_has_every_key_per_seed_mean_and_std(synthetic):
    r = json.loads(dumps(synthetic.results))
    assert {"params", "seeds", "ensemble_id_acc", "corr_cs_error", "id_acc_per_bin", "shifts", "relation",
            "expectations"} <= set(r)
    assert r["seeds"] == [0, 1] and len(r["ensemble_id_acc"]["per_seed"]) == 2
    assert set(r["shifts"]) == {"hard-resample", "noise", "class-shift"}
    for rec in r["shifts"].values():
        assert SHIFT_KEYS <= set(rec)
        assert set(rec["bins"]) >= {"edges", "pi_id", "pi_ood", "acc_id", "acc_ood", "contribution"}
        assert set(rec["models"]) == {"softmax", "tanh-8", "tanh-32"}
        assert set(rec["models"]["tanh-8"]) >= {"acc_id", "acc_ood", "estimate"}
        assert rec["gap_closed_by_B"]["1"]["per_seed"] == [0.0, 0.0]
        d = rec["decomposition"]
        assert abs(d["drop"]["mean"] - d["mix_shift"]["mean"] - d["within_bin"]["mean"]) <= 1e-12
        assert abs(sum(rec["bins"]["contribution"]["mean"]) - d["drop"]["mean"]) <= 1e-12
        assert len(rec["bins"]["pi_id"]["mean"]) == 10
    assert set(synthetic.figures) == {"per_bin_accuracy", "score_histograms", "predicted_vs_true", "gap_closed_vs_B"}


def test_synthetic_is_deterministic_and_records_its_parameters(synthetic):
    again = get_experiment("confusion-synthetic").reproduce({}, quick=True)
    assert dumps(again.results) == dumps(synthetic.results)
    meta = json.loads(dumps(synthetic.metadata()))  # what metadata.json holds
    assert meta["seeds"] == [0, 1]
    assert {"seeds", "members", "steps", "B", "score", "n_test", "quick", "settings_used"} <= set(meta["parameters"])
    assert meta["parameters"]["settings_used"]["lr"] == 0.5 and meta["parameters"]["settings_used"]["members"] == 5


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    return get_experiment("confusion-digits").reproduce({}, quick=True)


def test_digits_json_per_variant_and_model(digits):
    r = json.loads(dumps(digits.results))
    assert set(r["shifts"]) == {"hard-resample", "noise", "blur", "class-specific"}
    for rec in r["shifts"].values():
        assert SHIFT_KEYS <= set(rec)
        models = rec["models"]
        assert len(models) == 8 and models["svc"]["source"] == "sklearn" and models["tanh-32"]["source"] == "gradflow"
        assert set(models["knn"]) >= {"acc_id", "acc_ood", "estimate", "naive"}
        assert set(rec["gap_closed_by_B"]) == {"1", "3", "5", "10"}
    assert "examples" in digits.figures
    assert r["expectations"]["gap_closed_zero_at_one_bin"] == {v: True for v in r["shifts"]}


def test_digits_data_are_deterministic():
    """The split, the bootstrap and the shifted sets repeat for a seed (GD and the JSON: the synthetic test)."""
    pytest.importorskip("sklearn")
    from gradflow.derivations.confusion.digits import DigitsSettings, bootstrap_weights, shifted_sets, split

    def draw(seed):
        train, _, pool = split(seed)
        rng = np.random.default_rng(seed)
        return bootstrap_weights(len(train[1]), 2, rng), shifted_sets(rng, train, pool, DigitsSettings())

    (w1, s1), (w2, s2), (w3, _) = draw(3), draw(3), draw(4)
    assert np.array_equal(w1, w2) and not np.array_equal(w1[:, :50], w3[:, :50])
    assert all(np.array_equal(s1[k][0], s2[k][0]) and np.array_equal(s1[k][1], s2[k][1]) for k in s1)
    assert np.array_equal(s1["blur"][1], s1["noise"][1]) and len(s1["hard-resample"][1]) == len(s1["noise"][1])
    train, _, pool = split(3)
    moved = shifted_sets(np.random.default_rng(3), train, pool, DigitsSettings(variant_c="translate"))
    assert list(moved) == ["hard-resample", "noise", "translate", "class-specific"]
    assert np.array_equal(moved["translate"][0].reshape(-1, 8, 8)[:, :, 1:], pool[0].reshape(-1, 8, 8)[:, :, :-1])


def _expectations_hold(results: dict, limit: str):
    e = results["expectations"]
    assert all(e["cs_ood_above_id"].values())
    assert all(e["gap_closed_zero_at_one_bin"].values())
    assert e["gap_closed_smallest"] == limit
    return e


@pytest.mark.slow
def test_full_synthetic_meets_the_qualitative_expectations():
    r = get_experiment("confusion-synthetic").reproduce({}).results
    e = _expectations_hold(r, "class-shift")
    assert all(e["estimate_closer_than_naive"].values()) and e["gap_closed_largest"] == "hard-resample"
    assert all(e["gap_closed_grows_with_B"].values())


@pytest.mark.slow
def test_full_digits_meets_the_qualitative_expectations():
    pytest.importorskip("sklearn")
    r = get_experiment("confusion-digits").reproduce({}).results
    e = _expectations_hold(r, "class-specific")
    assert all(e["mae_estimate_below_naive"][v] for v in ("hard-resample", "noise", "blur"))


def test_expectations_are_written_as_words_not_python_dicts():
    from gradflow.derivations.confusion.experiments import _expectation

    assert _expectation({"noise": True, "blur": False}) == "noise holds, blur fails"
    assert _expectation("class-shift") == "class-shift" and _expectation(True) == "holds"
