"""Names of a package imported on first use (PEP 562), so that importing the package stays cheap.

    _EXPORTS = {"Model": "gradflow.theory.model", ...}
    __getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
"""

from __future__ import annotations

import importlib


def lazy_exports(namespace: dict, exports: dict):
    """The module-level ``__getattr__`` and ``__dir__`` for ``exports`` (name -> module path); a loaded
    name is kept in ``namespace`` so that the next access is a plain lookup."""

    def __getattr__(name: str):
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    def __dir__():
        return sorted([*namespace, *exports])

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
