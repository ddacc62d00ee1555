"""Side-by-side performance runs against peers; `gradflow bench` runs them."""

from __future__ import annotations

from gradflow.theory.errors import ParameterError

from gradflow.bench.cells import CELLS
from gradflow.bench.harness import machine_ceilings, machine_load


def run_bench(quick: bool = False, cell: str | None = None, progress: bool = False) -> dict:
    """{"machine": ceilings, "cells": [...]} for every cell (or the one named); each cell carries the load
    average read before and after its function ran (``load``)."""
    from tqdm import tqdm

    if cell is not None and cell not in CELLS:
        raise ParameterError("--cell", f"one of {', '.join(CELLS)}", cell)
    ceilings = machine_ceilings(quick)
    names = [cell] if cell else list(CELLS)
    results = []
    for name in tqdm(names, desc="bench", disable=not progress):
        before = machine_load()
        cells = [c.to_dict() for c in CELLS[name](quick, ceilings)]
        after = machine_load()
        results += [dict(c, load={"before": before, "after": after}) for c in cells]
    return {"machine": ceilings, "cells": results}


__all__ = ["CELLS", "run_bench"]
