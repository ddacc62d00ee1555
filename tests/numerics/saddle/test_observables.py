"""Per-neuron observables: angles, norms, output weights and the conservation drift."""

import numpy as np
import pytest

from gradflow.numerics.saddle import max_conservation_drift, neuron_observables
from gradflow.theory.errors import ParameterError


def test_angles_in_the_plane():
    W = np.array([[[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0], [0.0, 0.0]]])
    H = np.array([[[1.0], [-2.0], [0.5], [0.0]]])
    observed = neuron_observables(W, H)
    assert np.allclose(observed.angle_deg[0, :3], [0.0, 90.0, -135.0])
    assert np.isnan(observed.angle_deg[0, 3])  # w = 0 has no direction
    assert observed.polar_deg is None
    assert np.allclose(observed.w_norm[0], [1.0, 2.0, np.sqrt(2.0), 0.0])
    assert np.allclose(observed.h[0, :, 0], [1.0, -2.0, 0.5, 0.0])
    assert np.allclose(observed.h_norm[0], [1.0, 2.0, 0.5, 0.0])


def test_azimuth_and_polar_angle_in_space():
    W = np.array([[[1.0, 1.0, 0.0], [0.0, 0.0, -3.0], [1.0, 0.0, 1.0]]])
    observed = neuron_observables(W, np.ones((1, 3, 1)))
    assert np.allclose(observed.angle_deg[0], [45.0, 0.0, 0.0])
    assert np.allclose(observed.polar_deg[0], [90.0, 180.0, 45.0])


def test_other_dimensions_have_no_angles():
    observed = neuron_observables(np.ones((2, 3, 4)), np.ones((2, 3, 2)))
    assert observed.angle_deg is None and observed.polar_deg is None


def test_conservation_drift_is_measured_from_the_first_snapshot():
    W = np.array([[[1.0, 0.0]], [[2.0, 0.0]], [[1.0, 1.0]]])
    H = np.array([[[1.0]], [[1.0]], [[0.0]]])
    observed = neuron_observables(W, H)
    assert np.allclose(observed.conservation_drift[:, 0], [0.0, 3.0, 2.0])
    assert observed.max_conservation_drift == pytest.approx(3.0)
    assert max_conservation_drift(W, H[:, :, 0]) == pytest.approx(3.0)  # (R, m) output weights read as d_out = 1


def test_bad_input_is_refused():
    with pytest.raises(ParameterError, match="W_snapshots"):
        neuron_observables(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ParameterError, match="H_snapshots"):
        neuron_observables(np.ones((3, 2, 2)), np.ones((3, 3, 1)))
    with pytest.raises(ParameterError, match="finite"):
        neuron_observables(np.full((1, 1, 2), np.nan), np.ones((1, 1, 1)))
