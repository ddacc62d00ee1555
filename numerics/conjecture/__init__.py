"""Conjectures: state a claim about instances of a model family, let Hypothesis try to falsify it.

* domain   -- ranges of each parameter, as data, and their Hypothesis strategy;
* outcome  -- measured vs claimed at one instance, with the tolerance;
* claim    -- the Conjecture (domain, vectorised claim, settings) and the ``conjecture`` decorator;
* search   -- ``falsify``: batches of instances, shrinking, seed, failure database, budgets;
* verdict  -- "no counterexample in K instances" or the minimal counterexample;
* failures -- the failure database (JSON files), replayed before a search;
* threads  -- one Numba thread for the small launches a search makes.

Needs hypothesis (a core dependency of gradflow).
"""

from gradflow.numerics.conjecture.claim import Conjecture, Trace, conjecture
from gradflow.numerics.conjecture.domain import Domain, Range, domain_from_mapping, range_from_value
from gradflow.numerics.conjecture.failures import FailureDatabase
from gradflow.numerics.conjecture.outcome import Outcome
from gradflow.numerics.conjecture.search import falsify
from gradflow.numerics.conjecture.verdict import ConjectureVerdict

__all__ = ["Conjecture", "ConjectureVerdict", "Domain", "FailureDatabase", "Outcome", "Range", "Trace", "conjecture",
           "domain_from_mapping", "falsify", "range_from_value"]
