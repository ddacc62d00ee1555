"""Task planning: blocks cover the grid exactly once; seeds depend on grid position only."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gradflow.numerics.sweep import Axis, BlockSeeds, Plan, SweepDefinition, block_shape, member_seed


def _definition(shape, seeds, per_task):
    axes = tuple(Axis(f"x{i}", tuple(float(v) for v in range(n))) for i, n in enumerate(shape))
    return SweepDefinition("toy", axes, seeds, 7, (), per_task)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=3), st.integers(1, 4), st.integers(1, 50))
def test_tasks_cover_every_member_once(shape, seeds, per_task):
    plan = Plan(_definition(shape, seeds, per_task))
    count = np.zeros(plan.grid_shape, dtype=int)
    for task in plan.all_tasks():
        count[task.slices] += 1
        size = np.prod([s.stop - s.start for s in task.slices])
        assert size <= max(per_task, 1) or all(b == 1 for b in plan.block[:-1])
        values, points, seed_index = plan.block_inputs(task)
        # the flat grid index of every block point names its axis values
        coords = np.unravel_index(points, tuple(shape))
        for i, c in enumerate(coords):
            assert np.array_equal(values[f"x{i}"], c.astype(float))
    assert np.all(count == 1) and len(plan.all_tasks()) == plan.tasks


def test_block_fills_trailing_dimensions_first():
    assert block_shape((10, 20, 8), 160) == (1, 20, 8)
    assert block_shape((10, 20, 8), 100) == (1, 12, 8)
    assert block_shape((10, 20, 8), 10_000) == (10, 20, 8)
    assert block_shape((3, 4), 1) == (1, 1)


def test_member_seed_is_spawn_by_grid_position():
    parent = np.random.SeedSequence(11)
    child = parent.spawn(5)[3].spawn(4)[2]
    assert np.array_equal(member_seed(11, 3, 2).generate_state(4), child.generate_state(4))
    block = BlockSeeds(11, np.array([9, 3]), np.array([0, 2]))
    assert block.generator(1, 1).random() == np.random.default_rng(child).random()
    assert member_seed(11, 3, 2).generate_state(1) != member_seed(11, 2, 3).generate_state(1)
