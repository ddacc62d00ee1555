"""The families the ``gradflow`` command knows: one line each.

A family is a folder of derivations/ whose ``__init__`` exports ``FAMILY``
(gradflow.derivations.contract.Family): its model entries, its experiments and the check suites
it adds to other families' models.  Adding a family is adding its line below (CONTRIBUTING.md).
"""

from __future__ import annotations

from functools import lru_cache

from gradflow.derivations.contract import Experiment, Family, ModelEntry
from gradflow.theory.errors import ParameterError


@lru_cache(maxsize=None)
def families() -> tuple[Family, ...]:
    from gradflow.derivations.associative_memory import FAMILY as associative_memory
    from gradflow.derivations.legacy import FAMILIES as legacy
    from gradflow.derivations.shallow_relu import FAMILY as shallow_relu

    return (associative_memory, *legacy, shallow_relu)


def models() -> dict[str, ModelEntry]:
    return {entry.name: entry for family in families() for entry in family.entries}


def experiments() -> dict[str, Experiment]:
    return {experiment.name: experiment for family in families() for experiment in family.experiments}


def get_model(name: str) -> ModelEntry:
    table = models()
    if name not in table:
        raise ParameterError("MODEL", f"one of {', '.join(table)}", name)
    return table[name]


def get_experiment(name: str) -> Experiment:
    table = experiments()
    if name not in table:
        raise ParameterError("EXPERIMENT", f"one of {', '.join(table)}", name)
    return table[name]


def checks(name: str, quick: bool) -> list:
    """Every verdict of ``gradflow check NAME``: the model's own checks, then those other families add."""
    verdicts = list(get_model(name).checks(quick=quick))
    for family in families():
        if name in family.contributed_checks:
            verdicts += family.contributed_checks[name](quick)
    return verdicts
