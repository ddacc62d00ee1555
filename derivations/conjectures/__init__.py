"""Conjectures about the model families, stated in TOML or Python, searched for counterexamples.

* catalogue  -- a named claim: its parameters (widest domain), run settings, tolerance, evaluation;
* associative_memory, two_particle, symmetry, mlp -- the claims of each family (laws and predicates);
* claims     -- the table of every claim by family;
* spec       -- a conjecture from a TOML file (tomllib, validated field by field, nothing evaluated);
* shipped    -- the worked conjectures shipped as package data (``examples/*.toml``);
* report     -- the verdict as a folder: report.md, the counterexample's figure, data, metadata.

``gradflow conjecture FILE`` (or ``--example NAME``) runs the search; the machinery itself (domain,
Hypothesis search, verdict) is ``gradflow.numerics.conjecture``.
"""

from gradflow.derivations.conjectures.catalogue import Claim
from gradflow.derivations.conjectures.claims import families, get_claim
from gradflow.derivations.conjectures.shipped import example_names, example_path, example_summary
from gradflow.derivations.conjectures.spec import ConjectureFile, Search, load, loads

__all__ = ["Claim", "ConjectureFile", "Search", "example_names", "example_path", "example_summary", "families",
           "get_claim", "load", "loads"]
