"""Model entries found without the registry: ``gradflow simulate`` of such a model imports its entry module only.

The registry imports every family (their checks, experiments and figures: SymPy, matplotlib), which
costs more than a whole warm run and about half a second of a cold one.  An entry class that declares
``warm_start = True`` promises that its module, and its ``simulate`` once the generated modules are
cached, import no SymPy; ``WARM_ENTRIES`` says where each such class lives (a test checks it against
the registry: every warm-startable entry is listed, and every listed one is the registry's).
"""

from __future__ import annotations

import importlib

WARM_ENTRIES = {
    "am-orthogonal": "gradflow.derivations.associative_memory.entry:OrthogonalMemory",
    "am-random": "gradflow.derivations.associative_memory.entry:RandomMemory",
}


def find_entry(name: str):
    """The entry ``name`` from its module, or None (then use the registry)."""
    where = WARM_ENTRIES.get(name)
    if where is None:
        return None
    module_name, _, qualname = where.partition(":")
    cls = getattr(importlib.import_module(module_name), qualname)
    if not isinstance(cls, type) or getattr(cls, "name", None) != name or not getattr(cls, "warm_start", False):
        raise RuntimeError(f"WARM_ENTRIES[{name!r}] = {where!r} is not that model's warm-startable entry")
    return cls()
