import itertools

import numpy as np
import pytest

from gradflow.numerics.mlp.embeddings import permute
from gradflow.numerics.symmetry import (MIN_POINTS, free_slot_point, neuron_indices, permutation_path, plateau_point,
                                        relocation, transposition_path)

from .cases import case


def _max_relative_deviation(objective, path, reference):
    losses = objective.loss_ensemble(path)
    return float(np.max(np.abs(losses - reference)) / reference)


@pytest.mark.parametrize("sizes", [(2, 3, 1), (3, 3, 2)])
def test_loss_is_constant_on_the_plateau(sizes):
    c = case(sizes)
    loss_P = c.objective.loss(c.theta_P)
    rng = np.random.default_rng(0)
    points = [plateau_point(c.wide, c.theta_P, 1, c.i, c.j, 3 * rng.normal(size=sizes[2])) for _ in range(20)]
    assert _max_relative_deviation(c.objective, np.array(points), loss_P) <= 1e-12
    free = free_slot_point(c.wide, c.theta_P, 1, c.i, c.j)
    _, out_i = neuron_indices(c.wide, 1, c.i)
    assert not np.any(free[out_i])
    assert abs(c.objective.loss(free) - loss_P) <= 1e-12 * loss_P


def test_relocation_segments():
    c = case((2, 3, 1))
    start = free_slot_point(c.wide, c.theta_P, 1, c.i, c.j)
    path = relocation(c.wide, start, 1, source=1, slot=c.i)
    assert path.shape == (2 * MIN_POINTS, c.wide.n_params)
    assert np.array_equal(path[0], start)
    inc_l, out_l = neuron_indices(c.wide, 1, 1)
    inc_a, out_a = neuron_indices(c.wide, 1, c.i)
    end = path[-1]
    assert np.array_equal(end[inc_a], start[inc_l]) and np.array_equal(end[out_a], start[out_l])
    assert not np.any(end[out_l])  # the source is the free slot now
    assert _max_relative_deviation(c.objective, path, c.objective.loss(start)) <= 1e-12
    with pytest.raises(ValueError, match="free slot"):
        relocation(c.wide, c.theta_P, 1, source=1, slot=c.i)  # u_i != 0 at theta_P itself


def test_transposition_is_three_relocations_and_swaps_the_roles():
    c = case((2, 3, 1))
    start = free_slot_point(c.wide, c.theta_P, 1, c.i, c.j)
    others = [p for p in range(3) if p != c.i]
    path = transposition_path(c.wide, start, 1, others[0], others[1], free=c.i)
    assert path.shape[0] == 1 + 3 * 2 * MIN_POINTS + MIN_POINTS
    order = np.arange(3)
    order[others] = order[others[::-1]]
    assert np.array_equal(path[-1], permute(c.wide, start, 1, order)[1])
    assert _max_relative_deviation(c.objective, path, c.objective.loss(start)) <= 1e-12


@pytest.mark.parametrize("sizes", [(2, 3, 1), (2, 4, 1), (2, 3, 2)])
def test_every_permuted_copy_is_reached_at_constant_loss(sizes):
    c = case(sizes, n_samples=60)
    width = sizes[1]
    loss_P = c.objective.loss(c.theta_P)
    worst = 0.0
    for order in itertools.permutations(range(width)):
        path = permutation_path(c.wide, c.theta_P, 1, c.i, c.j, np.array(order))
        assert np.array_equal(path[0], c.theta_P)
        assert np.array_equal(path[-1], permute(c.wide, c.theta_P, 1, np.array(order))[1])
        worst = max(worst, _max_relative_deviation(c.objective, path, loss_P))
    assert worst <= 1e-12


def test_paths_refuse_bad_orders():
    c = case((2, 3, 1))
    with pytest.raises(ValueError, match="order"):
        permutation_path(c.wide, c.theta_P, 1, c.i, c.j, np.array([0, 0, 1]))
    with pytest.raises(ValueError, match="n_points"):
        relocation(c.wide, free_slot_point(c.wide, c.theta_P, 1, c.i, c.j), 1, 1, c.i, n_points=1)
