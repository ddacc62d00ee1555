"""Shallow ReLU networks: one hidden layer, squared loss, trained by full-batch GD.

f(x) = sum_i h_i rho(w_i . x) with rho ReLU-like.  The family offers the CLI model ``relu`` (the
generated GD kernel) and the saddle-to-saddle reproductions ``relu-exp-a``, ``relu-exp-b``,
``relu-exp-c`` and ``relu-sigma-sweep``.

* entry        -- the model entry (declared parameters, simulate); parameters -- its declarations;
* checks       -- theory against simulation (``gradflow check relu``);
* experiments  -- the four reproductions; figures -- their plots; reports -- their markdown;
* datasets     -- the data sets (exact decimal values) and their training set-up;
* training     -- GD runs from a vanishing initialisation;
* analysis     -- the plateaus of a run: idealised, solved exactly, classified;
* simulators   -- the cached derivation and the compiled GD simulators;
* sweeps       -- the sweep target relu-sigma-sweep (escape times over any (mu, lr) grid x seeds);
* sigma_store  -- relu-sigma-sweep with a store: run through the sweep runner, reported from the store;
* oracles      -- plain NumPy re-implementations (the kernels' oracles).
"""

from gradflow.derivations.contract import Family
from gradflow.derivations.shallow_relu.entry import ReluEntry
from gradflow.derivations.shallow_relu.experiments import ReluExpA, ReluExpB, ReluExpC, ReluSigmaSweep
from gradflow.derivations.shallow_relu.sweeps import TARGETS

FAMILY = Family("shallow_relu", entries=(ReluEntry(),),
                experiments=(ReluExpA(), ReluExpB(), ReluExpC(), ReluSigmaSweep()), sweep_targets=TARGETS)

__all__ = ["FAMILY", "ReluEntry", "ReluExpA", "ReluExpB", "ReluExpC", "ReluSigmaSweep"]
