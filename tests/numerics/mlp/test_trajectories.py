"""trajectory_distance on trajectories with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from gradflow.numerics.mlp.trajectories import trajectory_distance
from gradflow.theory.errors import ParameterError


def test_a_trajectory_on_the_reference_curve_has_distance_zero():
    t = np.linspace(0, 1, 101)
    ref = np.stack([np.cos(t), np.sin(t)], axis=1)
    result = trajectory_distance(ref[::10], ref, ref_times=t)
    assert np.all(result.distances == 0) and np.array_equal(result.indices, np.arange(0, 101, 10))
    assert np.allclose(result.reference_times, t[::10])


def test_an_offset_trajectory_matches_forward_and_measures_the_offset():
    ref = np.stack([np.linspace(0, 10, 1001), np.zeros(1001)], axis=1)
    traj = np.stack([np.linspace(0, 10, 11), np.full(11, 0.2)], axis=1)
    result = trajectory_distance(traj, ref)
    assert np.allclose(result.distances, 0.2 ** 2 / 4) and np.all(np.diff(result.indices) > 0)


def test_the_scan_never_goes_back():
    ref = np.array([[0.0], [1.0], [2.0], [3.0]])
    traj = np.array([[2.9], [0.0]])  # the second point is nearest ref[0], but the match stays at ref[3]
    result = trajectory_distance(traj, ref)
    assert list(result.indices) == [3, 3] and result.distances[1] == pytest.approx(9.0 / 2)


def test_shapes_are_checked():
    with pytest.raises(ParameterError, match="traj"):
        trajectory_distance(np.zeros((3, 2)), np.zeros((4, 3)))
