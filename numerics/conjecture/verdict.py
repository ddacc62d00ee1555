"""The verdict of a falsification search: no counterexample in K instances, or a minimal one."""

from __future__ import annotations

from dataclasses import dataclass, field

from gradflow.numerics.conjecture.outcome import Outcome


@dataclass(frozen=True)
class ConjectureVerdict:
    name: str
    statement: str
    falsified: bool
    instances: int  # instances tested (before the first counterexample, when there is one)
    untested: int  # instances outside the claim's regime (neither for nor against)
    examples: int  # Hypothesis examples run before the first counterexample (each one a batch)
    domain: str
    budget: int
    seed: int
    search_s: float  # until the first counterexample (or the end of the search)
    shrink_s: float  # shrinking it to a minimal one
    counterexample: dict | None = None
    outcome: Outcome | None = None
    tolerance: str = ""
    timed_out: bool = False  # the time budget ended the search
    replayed: bool = False  # the counterexample came from the failure database, not from this search
    settings: dict = field(default_factory=dict)
    command: str = ""  # the command that reproduces the verdict (set by the caller that knows it)

    @property
    def total_s(self) -> float:
        return self.search_s + self.shrink_s

    def __str__(self) -> str:
        if not self.falsified:
            skipped = f"; {self.untested} outside the claim's regime" if self.untested else ""
            stop = "; stopped by the time budget" if self.timed_out else ""
            return (f"{self.name}: no counterexample in {self.instances} instances ({self.domain}; budget "
                    f"{self.budget}, seed {self.seed}{skipped}{stop}) in {self.total_s:.2f} s")
        params = ", ".join(f"{k}={_shown(v)}" for k, v in self.counterexample.items())
        found = (f"replayed from the failure database ({self.search_s:.2f} s)" if self.replayed else
                 f"after {self.instances} instances ({self.search_s:.2f} s search, {self.shrink_s:.2f} s shrinking)")
        lines = [f"{self.name}: falsified {found}",
                 f"  minimal counterexample: {params}",
                 f"  {self.outcome}"]
        if self.command:
            lines.append(f"  reproduce: {self.command}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"name": self.name, "statement": self.statement, "verdict": "falsified" if self.falsified else
                "no counterexample", "instances": self.instances, "untested": self.untested,
                "examples": self.examples, "domain": self.domain, "budget": self.budget, "seed": self.seed,
                "search_s": self.search_s, "shrink_s": self.shrink_s, "counterexample": self.counterexample,
                "outcome": self.outcome.to_dict() if self.outcome else None, "tolerance": self.tolerance,
                "timed_out": self.timed_out, "replayed": self.replayed, "settings": self.settings, "command": self.command}


def _shown(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


__all__ = ["ConjectureVerdict"]
