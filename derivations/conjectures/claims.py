"""Every named claim, by family: the table a TOML conjecture is looked up in."""

from __future__ import annotations

from gradflow.derivations.conjectures import associative_memory, mlp, symmetry, two_particle
from gradflow.derivations.conjectures.catalogue import Claim
from gradflow.theory.errors import ParameterError

_ALL = associative_memory.CLAIMS + two_particle.CLAIMS + symmetry.CLAIMS + mlp.CLAIMS


def families() -> dict[str, dict[str, Claim]]:
    out: dict[str, dict[str, Claim]] = {}
    for claim in _ALL:
        out.setdefault(claim.family, {})[claim.name] = claim
    return out


def get_claim(family: str, name: str, is_law: bool) -> Claim:
    """The claim ``name`` of ``family`` (a law when ``is_law``); errors name the TOML field."""
    table = families()
    if family not in table:
        raise ParameterError("family", f"a family with conjectures: one of {', '.join(table)}", family)
    field = "law" if is_law else "claim"
    named = {n: c for n, c in table[family].items() if c.is_law == is_law}
    if name not in named:
        what = "laws its derivation provides" if is_law else "claims"
        raise ParameterError(field, f"one of the {what} of {family}: {', '.join(named) or '(none)'}", name)
    return named[name]


__all__ = ["families", "get_claim"]
