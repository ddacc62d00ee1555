"""Two interacting particles: the loss-spike model of the associative memory.

N = M = d = 2, U = I, e_2 = (alpha, sqrt(1 - alpha^2)), p = (p1, 1 - p1), W_0 = 0, labels
opposite (f*(x) = x) or same (f* = 0).  The family offers the CLI model ``am-two-particle`` and
the experiments ``am-landscape``, ``am-spike``, ``am-phase`` and ``am-phase-large``.

* entry        -- the model entry (declared parameters, simulate); parameters -- its declarations;
* checks       -- theory against simulation (``gradflow check am-two-particle``);
* experiments  -- the three experiments; figures -- their plots; phase -- the am-phase ensemble;
* sweeps       -- the sweep target am-phase (first hits over any grid, through gradflow sweep);
* phase_sweep  -- the experiment am-phase-large: am-phase on a fine grid through the sweep runner;
* laws         -- the derived formulas as NumPy functions;
* simulators   -- the cached derivation and the compiled lane simulators (map, flow; CPU and CUDA);
* instances    -- a concrete (p1, alpha, labels): embeddings, W from the margins, the 0-1 error;
* observables  -- sharpness along a run, loss increases, sign changes, edge of stability, the landscape;
* oracles      -- plain NumPy forms (the binary margin map of the associative memory, a SciPy flow).
"""

from gradflow.derivations.contract import Family
from gradflow.derivations.two_particle.conjectures import CLAIMS
from gradflow.derivations.two_particle.entry import TwoParticle
from gradflow.derivations.two_particle.experiments import AmLandscape, AmPhase, AmSpike
from gradflow.derivations.two_particle.phase_sweep import AmPhaseLarge
from gradflow.derivations.two_particle.sweeps import TARGETS

FAMILY = Family("two_particle", entries=(TwoParticle(),),
                experiments=(AmLandscape(), AmSpike(), AmPhase(), AmPhaseLarge()), sweep_targets=TARGETS,
                claims=CLAIMS)

__all__ = ["FAMILY", "AmLandscape", "AmPhase", "AmPhaseLarge", "AmSpike", "TwoParticle"]
