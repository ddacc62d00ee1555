"""gradflow: derive gradient flows with SymPy, simulate them with generated Numba kernels and check
simulation against theory.

One namespace, four layers (imports point down only):

- ``gradflow.derivations``: one folder per model family, the registry and the ``gradflow`` command;
- ``gradflow.bench``: side-by-side performance runs against peers;
- ``gradflow.numerics``: generated kernels, integrators, drivers, comparisons;
- ``gradflow.theory``: the symbolic layer (SymPy; NumPy/SciPy only to evaluate single points).

The layers are imported on first use (``gradflow.theory`` after ``import gradflow`` works), so
``import gradflow`` itself stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAYERS = ("theory", "numerics", "derivations", "bench")
__all__ = ["__version__", *_LAYERS]


def __getattr__(name: str):
    if name in _LAYERS:
        return importlib.import_module(f"gradflow.{name}")
    raise AttributeError(f"module 'gradflow' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAYERS))
