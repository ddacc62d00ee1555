"""What a sweep runs: a target, the per-block function of a model or experiment.

A target declares its axis parameters (name -> default), the observables it records (name, dtype,
extra dimensions such as ``step`` or ``neuron``), and ``run_block``: the observables of a block of
grid points x seeds, computed as ONE vectorised ensemble launch of its generated kernel (never a
Python loop over members).  Targets live with their model families (derivations) and are handed to
the runner as objects; the runner knows nothing of any family.  A target must pickle (workers
receive it), so it holds settings only and builds its simulators lazily in the worker.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Observable:
    """One recorded quantity: per member a scalar, or an array over ``dims`` (name, size) pairs."""

    name: str
    dtype: str = "float64"
    dims: tuple = ()  # ((dim name, size), ...) after the member dimensions
    help: str = ""

    @property
    def fill(self):
        """What an unwritten chunk reads as (the ``done`` flags say which chunks are real)."""
        return np.nan if np.dtype(self.dtype).kind == "f" else None


class SweepTarget:
    """Base of sweep targets.  Subclasses set ``name``, ``summary``, ``parameters`` ({axis name: default}),
    ``settings`` ({setting name: default}: fixed for a whole sweep, e.g. the step count),
    ``members_per_task`` (a task of about 1-30 s) and implement ``observables``, ``run_block``,
    ``code_source`` and ``derivation_text``."""

    name: str = ""
    summary: str = ""
    parameters: dict = {}
    settings: dict = {}
    members_per_task: int = 4096

    def observables(self, settings: dict) -> tuple:
        """The recorded Observables (their extra dims may depend on the settings)."""
        raise NotImplementedError

    def run_block(self, values: dict, seeds, settings: dict) -> dict:
        """``values[name]``: one value per block point (every axis parameter, flattened block, length P);
        ``seeds``: a BlockSeeds (P points x S seeds).  Returns {observable: array (P, S, *dims)}."""
        raise NotImplementedError

    def code_source(self, settings: dict) -> str:
        """The text of the generated code the block runs (its hash goes into the store)."""
        raise NotImplementedError

    def derivation_text(self) -> str:
        """A text form of the derivation behind the code (its hash goes into the store)."""
        raise NotImplementedError

    def prepare(self, settings: dict) -> None:
        """Compile or load the kernel once per process before timing-sensitive work (optional)."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def point_values(values: dict, count: int) -> dict:
    """Every value as a float array of length ``count`` (a scalar broadcast)."""
    return {k: np.broadcast_to(np.asarray(v, dtype=float), (count,)) for k, v in values.items()}
