"""Associative memories trained by gradient descent.

W in R^{d x d}, logits S = E W^T U^T, population cross-entropy weighted by p.  The family offers
the CLI models ``am-orthogonal`` (each input reduces to its scalar margin) and ``am-random``
(correlated embeddings: logit particles), the experiment ``am-margins``, and the pieces other
families build on: instances, NumPy oracles and the compiled simulators.

* entry        -- the two model entries (declared parameters, simulate);
* checks       -- theory against simulation (``gradflow check``);
* experiments  -- ``am-margins``; figures -- its plots; laws -- the derived laws as NumPy functions;
* simulators   -- the cached derivation and the compiled lane / particle simulators;
* instances    -- frequencies, labels and embeddings from a seed;
* oracles      -- plain NumPy re-implementations (the kernels' oracles and ``--backend numpy``).
"""


# Imported on first use (PEP 562): a warm ``gradflow simulate`` imports the entry module alone, not the
# experiments, checks and figures (SymPy, matplotlib).
from __future__ import annotations

import importlib

_EXPORTS = {"OrthogonalMemory": "entry", "RandomMemory": "entry", "AmMargins": "experiments"}

__all__ = ["FAMILY", "AmMargins", "OrthogonalMemory", "RandomMemory"]


def _family():
    from gradflow.derivations.associative_memory.conjectures import CLAIMS
    from gradflow.derivations.associative_memory.entry import OrthogonalMemory, RandomMemory
    from gradflow.derivations.associative_memory.experiments import AmMargins
    from gradflow.derivations.contract import Family

    return Family("associative_memory", entries=(OrthogonalMemory(), RandomMemory()), experiments=(AmMargins(),),
                  claims=CLAIMS)


def __getattr__(name: str):
    if name == "FAMILY":
        value = _family()
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
