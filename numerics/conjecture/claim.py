"""A conjecture: a claim about instances of a model family, over a domain, with a tolerance.

The claim is a function from instances ``{name: value}`` to :class:`Outcome`; a vectorised claim takes
a list of instances and evaluates them in one launch (``batch`` instances at a time), which is how the
lane families run a whole Hypothesis example at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gradflow.numerics.conjecture.domain import Domain, domain_from_mapping
from gradflow.numerics.conjecture.outcome import Outcome
from gradflow.theory.errors import require


@dataclass(frozen=True)
class Trace:
    """The curves that show one instance (the counterexample's figure): ``curves[label]`` against ``x``;
    ``reference`` curves (the claimed side, or the threshold it is judged by) are drawn dashed."""

    x: object
    curves: dict
    xlabel: str = "t"
    ylabel: str = ""
    reference: dict = field(default_factory=dict)
    logx: bool = False
    logy: bool = False


@dataclass(frozen=True)
class Conjecture:
    name: str
    statement: str
    domain: Domain
    evaluate: Callable  # list of instances -> list of Outcome (one launch for the whole list)
    batch: int = 1  # instances per Hypothesis example (evaluated together)
    settings: dict = field(default_factory=dict)  # run settings shared by every instance
    tolerance: str = ""  # the tolerance, in words (for the verdict)
    trace: Callable | None = None  # instance -> Trace, for the counterexample's figure
    source: str = ""  # where it was declared (a file, an example name, a function)

    def __post_init__(self):
        require(isinstance(self.batch, int) and self.batch >= 1, "batch", "an integer >= 1", self.batch)

    def outcomes(self, instances: list) -> list[Outcome]:
        out = list(self.evaluate(list(instances)))
        if len(out) != len(instances):
            raise ValueError(f"conjecture {self.name!r} returned {len(out)} outcomes for {len(instances)} instances")
        return [o if isinstance(o, Outcome) else Outcome.of_bool(bool(o)) for o in out]

    def check(self, instance: Mapping) -> Outcome:
        """The claim at one instance, given by hand (every parameter inside its range)."""
        return self.outcomes([self.domain.check(dict(instance))])[0]

    def key(self) -> bytes:
        """Identifies the conjecture in the failure database: name, domain, settings and tolerance."""
        text = json.dumps([self.name, self.domain.to_dict(), self.settings, self.tolerance], sort_keys=True,
                          default=str)
        return hashlib.sha256(text.encode()).digest()[:16]


def conjecture(domain, *, name: str | None = None, statement: str = "", vectorised: bool = False, batch: int = 1,
               settings: Mapping | None = None, tolerance: str = "", trace: Callable | None = None):
    """Decorator: ``@conjecture({"eta": (0.1, 10.0), "N": (2, 8)})`` over ``claim(instance) -> Outcome or
    bool`` (or, ``vectorised=True``, over ``claim(instances) -> list``) gives a :class:`Conjecture`;
    search it with :func:`falsify`.  ``domain`` is a :class:`Domain` or a mapping (two ints: an integer
    range, two floats: a float range, a list of names: choices, one value: fixed)."""
    dom = domain if isinstance(domain, Domain) else domain_from_mapping(domain)

    def wrap(function: Callable) -> Conjecture:
        evaluate = function if vectorised else (lambda instances: [function(i) for i in instances])
        doc = (function.__doc__ or "").strip().splitlines()
        return Conjecture(name or function.__name__, statement or (doc[0] if doc else function.__name__), dom,
                          evaluate, batch if vectorised else 1, dict(settings or {}), tolerance, trace,
                          f"{function.__module__}.{function.__qualname__}")

    return wrap


__all__ = ["Conjecture", "Trace", "conjecture"]
