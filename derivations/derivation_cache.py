"""Disk cache of derivations: SymPy work done once per version of the theory code.

A derivation is a pure function of the ``theory`` sources and the SymPy version, so its result
is pickled next to the generated modules under a key that hashes both.  An unreadable entry
is recomputed.  This is what makes a warm start cheap: no SymPy simplification at all.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

import sympy

import gradflow.theory as theory
from gradflow.numerics.codegen.cache import cache_dir


@lru_cache(maxsize=None)
def _theory_fingerprint() -> str:
    digest = hashlib.sha256(sympy.__version__.encode())
    for path in sorted(Path(theory.__file__).parent.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cached(name: str, derive):
    """derive() through the disk cache, under ``name`` and the theory fingerprint."""
    path = cache_dir() / f"derivation_{name}_{_theory_fingerprint()[:24]}.pickle"
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError):
        pass
    result = derive()
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(result, fh)
    os.replace(tmp, path)
    return result
