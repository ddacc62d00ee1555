"""A two-layer attention-only Transformer whose output matrix W_O^2 is an associative memory.

* task         -- the bigram-with-triggers task (NumPy): statistics, batches, copy positions;
* model        -- the Transformer and its SGD runs (PyTorch, imported lazily);
* observables  -- memory margins of W_O^2 and loss-curve events;
* experiments  -- ``am-transformer``; figures -- its plots.
"""

from gradflow.derivations.am_transformer.experiments import AmTransformer
from gradflow.derivations.contract import Family

FAMILY = Family("am_transformer", experiments=(AmTransformer(),))

__all__ = ["FAMILY", "AmTransformer"]
