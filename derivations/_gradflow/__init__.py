"""gradflow: derive gradient flows with SymPy, simulate them with generated Numba kernels and check
simulation against theory.

One namespace, four layers (imports point down only):

- ``gradflow.derivations``: one folder per model family, the registry and the ``gradflow`` command;
- ``gradflow.bench``: side-by-side performance runs against peers;
- ``gradflow.numerics``: generated kernels, integrators, drivers, comparisons;
- ``gradflow.theory``: the symbolic layer (SymPy; NumPy/SciPy only to evaluate single points).

The layers are imported on first use (``gradflow.theory`` after ``import gradflow`` works), so
``import gradflow`` itself stays cheap.  ``gradflow.conjecture`` (a decorator stating a claim over a
domain) and ``gradflow.falsify`` (the Hypothesis search for a counterexample) come from
``gradflow.numerics.conjecture``, also on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAYERS = ("theory", "numerics", "derivations", "bench")
_CONJECTURES = ("conjecture", "falsify")
__all__ = ["__version__", *_LAYERS, *_CONJECTURES]


def __getattr__(name: str):
    if name in _LAYERS:
        return importlib.import_module(f"gradflow.{name}")
    if name in _CONJECTURES:
        return getattr(importlib.import_module("gradflow.numerics.conjecture"), name)
    raise AttributeError(f"module 'gradflow' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAYERS) | set(_CONJECTURES))
