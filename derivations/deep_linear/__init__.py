"""The two-layer linear network y = W2 W1 x (Saxe, McClelland and Ganguli 2014).

Whitened inputs and C = E[y x^T] = U diag(sigma) V^T: each mode learns on its own, along a
logistic curve, in a time ~ log(sigma / s0) / (2 sigma).  The family offers the CLI model
``deep-linear``; it has no experiments.  To add a family, copy this folder.

* entry         -- the model entry (declared methods and backends, run);
* parameters    -- the declared parameters and the one constraint between them;
* checks        -- theory against simulation (``gradflow check``);
* simulators    -- the cached derivation, its laws and the compiled simulators, and the shared runs;
* laws          -- the derived closed forms as NumPy functions;
* instances     -- C and the small start on random orthonormal frames, from a seed;
* weight_space  -- the generated squared-loss kernel on (W1, W2) and its driver;
* oracles       -- plain NumPy GD (the kernel's oracle and ``--backend numpy``).
"""

from gradflow.derivations.contract import Family
from gradflow.derivations.deep_linear.entry import DeepLinearEntry

FAMILY = Family("deep_linear", entries=(DeepLinearEntry(),))

__all__ = ["FAMILY", "DeepLinearEntry"]
