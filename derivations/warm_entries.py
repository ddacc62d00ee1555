"""Model entries found without the registry: a warm ``gradflow simulate`` imports one entry module only.

The registry imports every family (their checks, experiments and figures: SymPy, matplotlib), which
costs more than the whole warm run.  An entry class that declares ``warm_start = True`` promises that
its module, and its ``simulate`` once the generated modules are cached, import no SymPy; after a
run through the registry the CLI records where such a class lives (``entries.json`` beside the
generated modules), and the next run imports that module directly.  A record that is missing,
unreadable, or points at a class that is gone, renamed or not warm-startable is ignored: the
registry is used as before.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile

from gradflow.numerics.codegen.cache import cache_dir

RECORD = "warm_entries.json"


def _read() -> dict:
    try:
        record = json.loads((cache_dir() / RECORD).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def find_entry(name: str):
    """The entry ``name`` from its recorded module, or None (then use the registry)."""
    where = _read().get(name)
    if not isinstance(where, str) or ":" not in where:
        return None
    module_name, _, qualname = where.partition(":")
    if not module_name.startswith("gradflow.derivations."):  # only gradflow's own entries
        return None
    try:
        cls = getattr(importlib.import_module(module_name), qualname)
    except (ImportError, AttributeError):
        return None
    if not isinstance(cls, type) or getattr(cls, "name", None) != name or not getattr(cls, "warm_start", False):
        return None
    return cls()


def remember_entry(entry) -> None:
    """Record where ``entry``'s class lives, when it declares ``warm_start`` (a failed write is only slower)."""
    cls = type(entry)
    if not getattr(cls, "warm_start", False):
        return
    where = f"{cls.__module__}:{cls.__qualname__}"
    record = _read()
    if record.get(entry.name) == where:
        return
    record[entry.name] = where
    folder = cache_dir()
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="warm_entries.", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh, indent=1, sort_keys=True)
        os.replace(tmp, folder / RECORD)
    except OSError:
        pass
