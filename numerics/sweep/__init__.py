"""Sweeps beyond one machine: Dask for the work, an xarray Dataset in Zarr for the results.

* axes     -- axis values from text (``a:b:n``, ``a:b:logn``, comma lists), never evaluated;
* config   -- a sweep as a TOML file;
* target   -- what a sweep runs (per-block function of axis values and seeds -> observables);
* definition -- the sweep as data (target, axes, seeds, settings, task size), compared on resume;
* seeds    -- per-member SeedSequence by grid position;
* plan     -- cutting the grid into tasks, one Zarr chunk each;
* store    -- the Zarr store (layout, done flags, attributes, refusal on a changed sweep);
* lock     -- one driving process per store;
* runner   -- ``sweep(...)``: Dask (LocalCluster / address / serial), resume, failures, progress;
* status   -- tasks done / total and failures of a store.
"""

from gradflow.numerics.sweep.axes import Axis, as_axis, parse_axis, parse_values
from gradflow.numerics.sweep.config import load_config
from gradflow.numerics.sweep.definition import SweepDefinition, define
from gradflow.numerics.sweep.lock import StoreLock
from gradflow.numerics.sweep.plan import Plan, Task, block_shape
from gradflow.numerics.sweep.runner import run_task, sweep
from gradflow.numerics.sweep.seeds import BlockSeeds, member_seed
from gradflow.numerics.sweep.status import sweep_status
from gradflow.numerics.sweep.store import open_dataset
from gradflow.numerics.sweep.target import Observable, SweepTarget, point_values, text_hash

__all__ = [
    "Axis", "BlockSeeds", "Observable", "Plan", "StoreLock", "SweepDefinition", "SweepTarget", "Task", "as_axis",
    "block_shape", "define", "load_config", "member_seed", "open_dataset", "parse_axis", "parse_values",
    "point_values", "run_task", "sweep", "sweep_status", "text_hash",
]
