"""Cutting the grid (axes x seeds) into tasks: equal blocks, one Zarr chunk each.

The block shape fills the trailing dimensions first (seeds, then the last axis, ...) up to the
task size, so a task is a contiguous run of the C-ordered grid where possible.  The same block
shape is the chunk shape of every observable, so no two tasks ever write the same chunk."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from gradflow.numerics.sweep.definition import SweepDefinition


def block_shape(shape: tuple, members_per_task: int) -> tuple:
    """Per dimension of ``shape`` (axes..., seeds), the block length: trailing dimensions filled first."""
    block, size = [1] * len(shape), 1
    for d in reversed(range(len(shape))):
        block[d] = max(1, min(shape[d], members_per_task // size))
        size *= block[d]
        if block[d] < shape[d]:
            break
    return tuple(block)


@dataclass(frozen=True)
class Task:
    """One block: ``index`` in the task grid and the slices of the (axes..., seed) grid it covers."""

    index: tuple
    slices: tuple

    @property
    def key(self) -> str:
        return "task-" + "-".join(map(str, self.index))


@dataclass(frozen=True)
class Plan:
    definition: SweepDefinition

    @property
    def grid_shape(self) -> tuple:
        return (*self.definition.shape, self.definition.seeds)

    @property
    def block(self) -> tuple:
        return block_shape(self.grid_shape, self.definition.members_per_task)

    @property
    def task_shape(self) -> tuple:
        return tuple(-(-n // b) for n, b in zip(self.grid_shape, self.block))

    @property
    def tasks(self) -> int:
        return math.prod(self.task_shape)

    def task(self, index: tuple) -> Task:
        slices = tuple(slice(i * b, min((i + 1) * b, n)) for i, b, n in zip(index, self.block, self.grid_shape))
        return Task(tuple(int(i) for i in index), slices)

    def all_tasks(self) -> list:
        return [self.task(index) for index in itertools.product(*map(range, self.task_shape))]

    def block_inputs(self, task: Task):
        """(values {axis: one value per block point}, flat grid indices of the points, seed indices)."""
        axis_slices, seed_slice = task.slices[:-1], task.slices[-1]
        local = [np.arange(s.start, s.stop) for s in axis_slices]
        mesh = np.meshgrid(*local, indexing="ij") if local else []
        flat_local = [m.ravel() for m in mesh]
        values = {a.name: a.array[i] for a, i in zip(self.definition.axes, flat_local)}
        points = (np.ravel_multi_index(flat_local, self.definition.shape) if local
                  else np.zeros(1, dtype=np.int64))
        return values, points.astype(np.int64), np.arange(seed_slice.start, seed_slice.stop)
