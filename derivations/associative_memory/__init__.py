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

from gradflow.derivations.associative_memory.conjectures import CLAIMS
from gradflow.derivations.associative_memory.entry import OrthogonalMemory, RandomMemory
from gradflow.derivations.associative_memory.experiments import AmMargins
from gradflow.derivations.contract import Family

FAMILY = Family("associative_memory", entries=(OrthogonalMemory(), RandomMemory()), experiments=(AmMargins(),),
                claims=CLAIMS)

__all__ = ["FAMILY", "AmMargins", "OrthogonalMemory", "RandomMemory"]
