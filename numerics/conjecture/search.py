"""Falsification search with Hypothesis: draw batches of instances over the domain, evaluate each batch
in one call, and shrink the first failing batch to a minimal counterexample.

A Hypothesis example is a list of ``batch`` instances (the conjecture evaluates the whole list in one
launch); the list has a fixed length, so shrinking simplifies every member and the failing one ends as
simple as the domain allows (small integers, round floats, the first choice).  ``seed`` makes the
search reproducible; ``database`` (a folder) keeps the minimal counterexamples, and a re-run evaluates
them first (one launch) before searching.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from random import Random

from gradflow.numerics.conjecture.claim import Conjecture
from gradflow.numerics.conjecture.verdict import ConjectureVerdict
from gradflow.numerics.conjecture.failures import FailureDatabase
from gradflow.theory.errors import ParameterError, require


class _OutOfTime(BaseException):
    """The time budget ran out before any counterexample (a BaseException, so Hypothesis does not take it
    for a failing example)."""


@dataclass
class _Tally:
    """What the search saw before its first counterexample (shrinking is timed, not counted)."""

    start: float
    max_time: float | None
    instances: int = 0
    untested: int = 0
    examples: int = 0
    found_at: float | None = None
    timed_out: bool = False

    def out_of_time(self) -> bool:
        if self.found_at is None and self.max_time is not None and time.perf_counter() - self.start > self.max_time:
            self.timed_out = True
        return self.timed_out and self.found_at is None


def _settings(examples: int):
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    return settings(max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck),
                    phases=(Phase.generate, Phase.shrink), verbosity=Verbosity.quiet, print_blob=False,
                    derandomize=False)


def _replayed(conj: Conjecture, db: FailureDatabase | None, common: dict) -> ConjectureVerdict | None:
    """The first stored counterexample (still inside the domain) that still fails, as a verdict."""
    if db is None:
        return None
    start = time.perf_counter()
    stored = [i for i in db.load(conj.key()) if _inside(conj, i)]
    if not stored:
        return None
    outcomes = conj.outcomes(stored)
    for instance, outcome in zip(stored, outcomes):
        if outcome.failed:
            return ConjectureVerdict(falsified=True, instances=len(stored), untested=0, examples=0,
                                     search_s=time.perf_counter() - start, shrink_s=0.0, counterexample=instance,
                                     outcome=outcome, replayed=True, **common)
    return None


def _inside(conj: Conjecture, instance: dict) -> bool:
    try:
        return conj.domain.check(instance) == instance
    except ParameterError:
        return False


def falsify(conj: Conjecture, budget: int = 100, seed: int = 0, max_time: float | None = None,
            database: str | Path | None = None, progress: bool = False) -> ConjectureVerdict:
    """Search ``budget`` instances (``ceil(budget / conj.batch)`` Hypothesis examples) for a counterexample;
    ``max_time`` (seconds) ends the search early; the verdict names the minimal counterexample found.
    With ``database`` (a folder), stored counterexamples are evaluated first and new ones are stored.
    With ``progress`` a bar counts the examples searched, then the shrinking steps."""
    from hypothesis import find, strategies as st
    from hypothesis.errors import NoSuchExample
    from tqdm import tqdm

    require(isinstance(budget, int) and budget >= 1, "budget", "an integer >= 1", budget)
    require(isinstance(seed, int) and seed >= 0, "seed", "an integer >= 0", seed)
    require(max_time is None or max_time > 0, "max_time", "a number of seconds > 0", max_time)
    tally = _Tally(time.perf_counter(), max_time)

    def counterexample_in(instances) -> bool:
        if tally.out_of_time():
            raise _OutOfTime  # ends Hypothesis's run at once (it stops on BaseException, shrinking nothing)
        outcomes = conj.outcomes(instances)
        failed = any(o.failed for o in outcomes)
        if tally.found_at is None:
            tally.examples += 1
            tally.instances += sum(o.holds is not None for o in outcomes)
            tally.untested += sum(o.holds is None for o in outcomes)
            if failed:
                tally.found_at = time.perf_counter()
                bar.set_description(f"{conj.name}: counterexample found, shrinking")
        bar.update()
        return failed

    examples = max(1, math.ceil(budget / conj.batch))
    bar = tqdm(total=examples, desc=f"{conj.name}: searching", unit="example", disable=not progress)
    strategy = st.lists(conj.domain.strategy(), min_size=conj.batch, max_size=conj.batch)
    common = dict(name=conj.name, statement=conj.statement, domain=conj.domain.describe(), budget=budget, seed=seed,
                  tolerance=conj.tolerance, settings=conj.settings)
    db = None if database is None else FailureDatabase(database)
    replayed = _replayed(conj, db, common)
    if replayed is not None:
        return replayed
    try:
        with bar:
            batch = find(strategy, counterexample_in, settings=_settings(examples), random=Random(seed))
    except (NoSuchExample, _OutOfTime):
        return ConjectureVerdict(falsified=False, instances=tally.instances, untested=tally.untested,
                                 examples=tally.examples, search_s=time.perf_counter() - tally.start, shrink_s=0.0,
                                 timed_out=tally.timed_out, **common)
    end = time.perf_counter()
    outcomes = conj.outcomes(batch)
    index = next(k for k, o in enumerate(outcomes) if o.failed)
    if db is not None:
        db.save(conj.key(), conj.name, dict(batch[index]))
    found_at = tally.found_at if tally.found_at is not None else tally.start
    return ConjectureVerdict(falsified=True, instances=tally.instances, untested=tally.untested,
                             examples=tally.examples, search_s=found_at - tally.start, shrink_s=end - found_at,
                             counterexample=dict(batch[index]), outcome=outcomes[index], **common)


__all__ = ["falsify"]
