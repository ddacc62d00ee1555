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
    """Every family, in the order of ``gradflow list``."""
    from gradflow.derivations.am_transformer import FAMILY as am_transformer
    from gradflow.derivations.associative_memory import FAMILY as associative_memory
    from gradflow.derivations.binary_memory import FAMILY as binary_memory
    from gradflow.derivations.deep_linear import FAMILY as deep_linear
    from gradflow.derivations.mlp import FAMILY as mlp
    from gradflow.derivations.symmetry import FAMILY as symmetry
    from gradflow.derivations.shallow_relu import FAMILY as shallow_relu
    from gradflow.derivations.two_particle import FAMILY as two_particle
    from gradflow.derivations.expand_cluster import FAMILY as expand_cluster

    return (associative_memory, two_particle, binary_memory, am_transformer, deep_linear, shallow_relu, mlp, symmetry,
            expand_cluster)


def models() -> dict[str, ModelEntry]:
    return {entry.name: entry for family in families() for entry in family.entries}


def trainable_models() -> dict[str, ModelEntry]:
    """The models ``gradflow train`` runs: those whose entry can train (a ``train`` method)."""
    return {name: entry for name, entry in models().items() if callable(getattr(entry, "train", None))}


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
