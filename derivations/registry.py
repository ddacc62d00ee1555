"""Models and experiments the CLI knows, by name."""

from __future__ import annotations

from gradflow.theory.errors import ParameterError


def models() -> dict:
    from .associative_memory import ENTRIES as memory
    from .deep_linear import ENTRIES as deep_linear
    from .shallow_relu import ENTRIES as relu
    from .two_particle import ENTRIES as two_particle

    return {entry.name: entry for entry in (*memory, *two_particle, *deep_linear, *relu)}


def experiments() -> dict:
    from .am_margins import AM_MARGINS
    from .am_transformer import EXPERIMENTS as transformer
    from .binary_memory import EXPERIMENTS as binary
    from .shallow_relu import EXPERIMENTS as relu
    from .two_particle import EXPERIMENTS as two_particle

    return {exp.name: exp for exp in (AM_MARGINS, *two_particle, *binary, *transformer, *relu)}


def contributed_checks() -> dict:
    """model name -> check suites that other families contribute to it (the binary memory checks am-random)."""
    from .binary_memory import CHECKS as binary

    return {name: (suite,) for name, suite in binary.items()}


def checks(name: str, quick: bool) -> list:
    """Every verdict of ``gradflow check NAME``: the model's own checks, then the contributed ones."""
    verdicts = list(get_model(name).checks(quick=quick))
    for suite in contributed_checks().get(name, ()):
        verdicts += suite(quick)
    return verdicts


def get_model(name: str):
    table = models()
    if name not in table:
        raise ParameterError("MODEL", f"one of {', '.join(table)}", name)
    return table[name]


def get_experiment(name: str):
    table = experiments()
    if name not in table:
        raise ParameterError("EXPERIMENT", f"one of {', '.join(table)}", name)
    return table[name]
