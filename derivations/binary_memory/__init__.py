"""Binary memories: the associative memory with two classes (M = 2) and any embeddings.

The family has no CLI model of its own: its checks are contributed to ``am-random`` (the binary
case of the random-embedding memory), so ``gradflow check am-random`` runs them after that model's
own.  It offers the experiments ``am-underparam`` and ``am-large-memory``.

* checks       -- the margin map kernel, the separable laws and the finite CE minimizer against
  simulation (contributed to ``gradflow check am-random``);
* experiments  -- ``am-underparam`` and ``am-large-memory``; figures and reports -- their plots and
  report.md;
* laws         -- the derived laws (loss rate, sharpness, stability threshold) as NumPy functions;
* simulators   -- the cached derivation and the compiled binary margin map;
* instances    -- binary instances (embeddings, labels in {0, 1}, p, W_0), the worked instance;
* geometry     -- separability, hard-margin SVM, finite CE minimizer and best 0-1 error of the
  signed points.

The NumPy oracles of the margin map are the associative memory's (``binary_margin_map_numpy``).
"""

from gradflow.derivations.binary_memory.checks import checks
from gradflow.derivations.binary_memory.experiments import AmLargeMemory, AmUnderparam
from gradflow.derivations.contract import Family

FAMILY = Family("binary_memory", experiments=(AmUnderparam(), AmLargeMemory()),
                contributed_checks={"am-random": checks})

__all__ = ["FAMILY", "AmLargeMemory", "AmUnderparam", "checks"]
