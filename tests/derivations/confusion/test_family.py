"""The confusion family: registration, the model entry and its checks, bad settings."""

import numpy as np
import pytest

from gradflow.derivations import registry
from gradflow.derivations.confusion import FAMILY
from gradflow.derivations.confusion.digits import box_blur, hardness, translate
from gradflow.derivations.confusion.synthetic import SyntheticSettings, bayes_entropy, draw_world
from gradflow.theory.errors import ParameterError


def test_family_is_registered_last():
    assert registry.families()[-1] is FAMILY and FAMILY.name == "confusion"
    assert registry.get_model("confusion") is FAMILY.entries[0]
    assert [e.name for e in FAMILY.experiments] == ["confusion-synthetic", "confusion-digits"]


@pytest.mark.long  # about 10-20 s from an empty cache: not in the quick subset
def test_quick_checks_pass():
    verdicts = registry.checks("confusion", quick=True)
    assert len(verdicts) == 14 and all(v.passed for v in verdicts)


@pytest.mark.long  # trains bootstrap ensembles for every shift: not in the quick subset
def test_simulate_reports_every_shift():
    out = registry.get_model("confusion").simulate({"n_test": 300, "members": 3, "B": 4}, steps=50)
    assert set(out["shifts"]) == {"hard-resample", "noise", "class-shift"}
    for rec in out["shifts"].values():
        assert 0 <= rec["true_acc"] <= 1 and 0 <= rec["estimate"] <= 1 and rec["naive"] == out["shifts"]["noise"]["naive"]


@pytest.mark.parametrize("key, value, message", [("B", 0, "^B: must be an integer in"),
                                                 ("members", 1, "^members: must be"),
                                                 ("score", "cs_unknown", "^score: must be one of")])
def test_bad_settings_name_the_parameter(key, value, message):
    with pytest.raises(ParameterError, match=message):
        registry.get_model("confusion").simulate({key: value})
    experiment = registry.get_experiment("confusion-synthetic")
    with pytest.raises(ParameterError, match=message):
        experiment.configured({key: value})


def test_synthetic_world_draws_what_it_says():
    s = SyntheticSettings(n_train=50, n_test=400, members=3)
    world = draw_world(4, s)
    again = draw_world(4, s)
    assert all(np.array_equal(world["shifted"][k][0], again["shifted"][k][0]) for k in world["shifted"])
    mu = world["mu"]
    assert mu.shape == (5, 10) and world["weights"].shape == (3, 50) and np.all(world["weights"].sum(1) == 50)
    X0, y0 = world["shifted"]["class-shift"]
    assert set(np.unique(y0)) <= set(range(5)) and len(y0) == 400
    hard_X, _ = world["shifted"]["hard-resample"]
    assert bayes_entropy(hard_X, mu).mean() > bayes_entropy(world["id"][0], mu).mean()  # harder by construction
    assert np.all(bayes_entropy(world["id"][0], mu) <= np.log(5) + 1e-12)


def test_digit_shifts():
    image = np.zeros((1, 64))
    image[0, 27] = 9.0  # row 3, column 3
    blurred = box_blur(image).reshape(8, 8)
    assert np.isclose(blurred[2:5, 2:5], 1.0).all() and blurred.sum() == pytest.approx(9.0)
    corner = np.zeros((1, 64))
    corner[0, 0] = 9.0
    assert box_blur(corner).sum() == pytest.approx(4.0)  # zero padding loses what falls outside
    moved = translate(image).reshape(8, 8)
    assert moved[3, 4] == 9.0 and moved.sum() == 9.0
    X_train, y_train = np.array([[0.0, 0], [10, 0]]), np.array([0, 1])
    q = hardness(np.array([[1.0, 0], [6, 0]]), np.array([0, 0]), X_train, y_train)
    assert q == pytest.approx([1 / 10, 6 / 10])


def test_equal_width_bins_cover_the_entropy_range():
    from gradflow.derivations.confusion.analysis import analyse_seed
    from gradflow.derivations.confusion.synthetic import seed_data

    record, _ = analyse_seed(seed_data(0, SyntheticSettings(members=3, steps=20, n_test=300)), 4, (1, 4),
                             binning="width")
    bins = record["shifts"]["noise"]["bins"]
    kept = sorted(bins["edges"] + bins["merged_edges"])
    assert np.allclose(kept, np.log(5) * np.array([0.25, 0.5, 0.75]))  # inner edges, before and after merging
    assert abs(sum(bins["pi_id"]) - 1) <= 1e-12 and len(bins["pi_id"]) == len(bins["edges"]) + 1
