"""detect_plateaus on synthetic loss curves: staircases are recovered, smooth decays give none."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.saddle import Plateau, detect_plateaus
from gradflow.theory.errors import ParameterError

RUN = 500_000


def sigmoid(v):
    return 0.5 * (1.0 + np.tanh(0.5 * v))


def staircase(iterations, centres, drops_log10, width=0.005, start_log10=0.0):
    """log10 L = start - sum_j drop_j sigmoid((s - c_j) / width), s = iteration / RUN."""
    s = iterations / RUN
    log10 = start_log10 - sum(drop * sigmoid((s - c) / width) for c, drop in zip(centres, drops_log10))
    return 10.0 ** log10


def test_staircase_with_noise_and_a_final_decay():
    rng = np.random.default_rng(0)
    iterations = np.arange(0, RUN + 1, 10)
    loss = staircase(iterations, [0.15, 0.4, 0.7], [1.5, 1.5, 1.0])
    loss *= 10.0 ** -(np.clip(iterations / RUN - 0.85, 0, None) / 0.15)  # converging: a steady drop to 1e-5
    loss *= np.exp(0.01 * rng.standard_normal(iterations.size))
    plateaus = detect_plateaus(iterations, loss)
    assert [round(np.log10(p.loss), 2) for p in plateaus] == [0.0, -1.5, -3.0, -4.0]
    # each plateau ends before its drop and the next starts after it (within the sigmoid's width x 8)
    boundaries = [(p.end / RUN, q.start / RUN) for p, q in zip(plateaus, plateaus[1:])]
    for (end, start), centre in zip(boundaries, [0.15, 0.4, 0.7]):
        assert centre - 0.04 < end < centre < start < centre + 0.04
    assert plateaus[0].start == 0
    assert 0.85 <= plateaus[-1].end / RUN < 0.86  # the converging tail is not a plateau


staircases = st.integers(1, 4).flatmap(lambda k: st.tuples(
    st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k),  # spacing shares
    st.lists(st.floats(0.3, 1.5), min_size=k, max_size=k),  # drops in decades
    st.floats(0.002, 0.006),  # transition width (fraction of the run)
    st.integers(0, 2 ** 32 - 1)))


@settings(max_examples=25, deadline=None)
@given(staircases)
def test_random_staircases_give_one_plateau_per_level(case):
    shares, drops, width, seed = case
    k = len(drops)
    # centres in [0.1, 0.85], at least 0.15 apart: the last level lasts long enough to be a plateau once
    # its drop has settled (with a centre at 0.9 only ~0.05 of the run is left: found by Hypothesis)
    slack = 0.75 - 0.15 * (k - 1)
    offsets = np.cumsum(np.r_[0.0, np.full(k - 1, 0.15)]) + slack * np.sort(shares)
    centres = 0.1 + np.minimum(offsets, 0.75)
    iterations = np.arange(0, RUN + 1, 50)
    loss = staircase(iterations, centres, drops, width)
    loss *= np.exp(0.005 * np.random.default_rng(seed).standard_normal(iterations.size))
    plateaus = detect_plateaus(iterations, loss)
    levels = -np.r_[0.0, np.cumsum(drops)]
    assert len(plateaus) == k + 1
    assert np.allclose([np.log10(p.loss) for p in plateaus], levels, atol=0.01)
    for p, q, centre in zip(plateaus, plateaus[1:], centres):
        assert p.end < centre * RUN < q.start


@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_power_law_decay_has_no_plateau(alpha):
    iterations = np.arange(0, RUN + 1, 10)
    tau = RUN / 1e5 ** (1.0 / alpha)  # from 1 down to 1e-5 over the run
    assert detect_plateaus(iterations, (1.0 + iterations / tau) ** -alpha) == []


def test_exponential_decay_has_no_plateau():
    iterations = np.arange(0, RUN + 1, 10)
    assert detect_plateaus(iterations, np.exp(-11.5 * iterations / RUN)) == []


def test_a_constant_curve_is_one_plateau():
    iterations = np.arange(1000, 101_000, 7)
    assert detect_plateaus(iterations, np.full(iterations.size, 0.3)) == [Plateau(1000, int(iterations[-1]), 0.3)]


def test_log_spaced_records():
    iterations = np.unique(np.geomspace(1, RUN, 3000).astype(int))
    plateaus = detect_plateaus(iterations, staircase(iterations, [0.15, 0.4], [1.5, 1.5]))
    assert [round(np.log10(p.loss), 3) for p in plateaus] == [0.0, -1.5, -3.0]


def test_close_levels_stay_apart():
    # two saddles whose losses differ by 8% (as in relu-exp-a: 0.0302 then 0.0279)
    iterations = np.arange(0, RUN + 1, 10)
    loss = np.exp(-0.25 * sigmoid((iterations / RUN - 0.1) / 0.005) - 0.08 * sigmoid((iterations / RUN - 0.3) / 0.01))
    plateaus = detect_plateaus(iterations, loss)
    assert np.allclose([p.loss for p in plateaus], np.exp([0.0, -0.25, -0.33]), rtol=1e-3)
    assert plateaus[1].end <= plateaus[2].start


def test_a_blip_inside_a_plateau_does_not_split_it():
    iterations = np.arange(0, RUN + 1, 10)
    loss = staircase(iterations, [0.5], [1.0])
    loss[(iterations > 0.2 * RUN) & (iterations < 0.203 * RUN)] *= 1.03
    assert len(detect_plateaus(iterations, loss)) == 2


def test_bad_input_is_refused():
    iterations = np.arange(100)
    loss = np.ones(100)
    with pytest.raises(ParameterError, match="iterations"):
        detect_plateaus(iterations[::-1], loss)
    with pytest.raises(ParameterError, match="iterations"):
        detect_plateaus(iterations + 0.5, loss)
    with pytest.raises(ParameterError, match="loss"):
        detect_plateaus(iterations, -loss)
    with pytest.raises(ParameterError, match="loss"):
        detect_plateaus(iterations, loss[:-1])
    with pytest.raises(ParameterError, match="window"):
        detect_plateaus(iterations, loss, window=0.7)
    with pytest.raises(ParameterError, match="max_slope"):
        detect_plateaus(iterations, loss, max_slope=0)
    with pytest.raises(ParameterError, match="min_length"):
        detect_plateaus(iterations, loss, min_length=2)
    with pytest.raises(ParameterError, match="band"):
        detect_plateaus(iterations, loss, band=-1)
    with pytest.raises(ParameterError, match="resolution"):
        detect_plateaus(iterations, loss, resolution=5)
