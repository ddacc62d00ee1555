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
    from gradflow.derivations.confusion import FAMILY as confusion
    from gradflow.derivations.deep_linear import FAMILY as deep_linear
    from gradflow.derivations.mlp import FAMILY as mlp
    from gradflow.derivations.symmetry import FAMILY as symmetry
    from gradflow.derivations.shallow_relu import FAMILY as shallow_relu
    from gradflow.derivations.two_particle import FAMILY as two_particle
    from gradflow.derivations.expand_cluster import FAMILY as expand_cluster

    return (associative_memory, two_particle, binary_memory, am_transformer, deep_linear, shallow_relu, mlp, symmetry,
            expand_cluster, confusion)


def models() -> dict[str, ModelEntry]:
    return {entry.name: entry for family in families() for entry in family.entries}


def trainable_models() -> dict[str, ModelEntry]:
    """The models ``gradflow train`` runs: those whose entry can train (a ``train`` method)."""
    return {name: entry for name, entry in models().items() if callable(getattr(entry, "train", None))}


def experiments() -> dict[str, Experiment]:
    return {experiment.name: experiment for family in families() for experiment in family.experiments}


def sweep_targets() -> dict:
    """The targets ``gradflow sweep run`` knows, by name (each family declares its own)."""
    return {target.name: target for family in families() for target in family.sweep_targets}


def get_sweep_target(name: str):
    table = sweep_targets()
    if name not in table:
        raise ParameterError("TARGET", f"one of {', '.join(table)}", name)
    return table[name]


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


def claims() -> dict:
    """family name -> claim name -> Claim, for every family that declares claims."""
    table: dict = {}
    for family in families():
        for claim in family.claims:
            table.setdefault(family.name, {})[claim.name] = claim
    return table


def get_claim(family: str, name: str, is_law: bool):
    """The claim ``name`` of ``family`` (a law when ``is_law``); errors name the conjecture file's field."""
    table = claims()
    if family not in table:
        raise ParameterError("family", f"a family with conjectures: one of {', '.join(table)}", family)
    field = "law" if is_law else "claim"
    named = {n: c for n, c in table[family].items() if c.is_law == is_law}
    if name not in named:
        what = "laws its derivation provides" if is_law else "claims"
        raise ParameterError(field, f"one of the {what} of {family}: {', '.join(named) or '(none)'}", name)
    return named[name]
