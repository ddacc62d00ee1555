"""What ``gradflow conjecture`` does: load the file (or a shipped example), search it, say the verdict,
write the report folder; ``--at KEY=VALUE ...`` evaluates the claim at one given instance instead."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

from gradflow.derivations.shipped_conjectures import example_names, example_path, example_summary
from gradflow.derivations.conjecture_report import conjecture_report
from gradflow.derivations.conjecture_file import load
from gradflow.derivations.contract import Parameter
from gradflow.numerics.conjecture import Conjecture, ConjectureVerdict, Outcome, falsify
from gradflow.theory.errors import require


def source_arguments(file: str | None, example: str | None) -> list[str]:
    return ["--example", example] if example else [str(file)]


def resolve(file: str | None, example: str | None) -> Path:
    require((file is None) != (example is None), "FILE", "given, or --example NAME, but one of them")
    return example_path(example) if example else Path(file)


def list_examples() -> list[dict]:
    return [{"name": n, "summary": example_summary(n), "path": str(example_path(n))} for n in example_names()]


def parse_instance(conj: Conjecture, pairs: list[str]) -> dict:
    """``["N=3", "eta=0.5"]`` as an instance of ``conj``'s domain: numbers and choices only."""
    instance = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        require(bool(sep), "--at", "KEY=VALUE", pair)
        require(key in conj.domain.names, f"--at {key}", f"a parameter of the domain: {', '.join(conj.domain.names)}",
                key)
        require(key not in instance, f"--at {key}", "given once", key)
        require(key not in conj.domain.fixed, f"--at {key}", f"not set: fixed at {conj.domain.fixed.get(key)!r}",
                text)
        r = conj.domain[key]
        kind = {"int": "int", "float": "float", "log": "float", "choice": "choice"}[r.kind]
        constraint = f"in {r.span}"
        instance[key] = Parameter(f"--at {key}", kind, None, constraint, check=r.contains, choices=r.choices).parse(text)
    missing = [r.name for r in conj.domain.ranges if r.name not in instance]
    require(not missing, f"--at {missing[0] if missing else ''}", "given (every parameter of the domain)")
    return conj.domain.check(instance)


def at_command(source: list[str], instance: dict, fixed: dict) -> str:
    pairs = [f"--at {k}={v!r}" if isinstance(v, float) else f"--at {k}={v}" for k, v in instance.items()
             if k not in fixed]
    return " ".join(["gradflow conjecture", *map(shlex.quote, source), *pairs])


def search_command(source: list[str], budget: int, seed: int) -> str:
    return " ".join(["gradflow conjecture", *map(shlex.quote, source), f"--budget {budget}", f"--seed {seed}"])


def run_search(path: Path, source: list[str], budget: int | None, seed: int | None, max_time: float | None,
               database: str | None, progress: bool = False) -> tuple[Conjecture, ConjectureVerdict, str]:
    spec = load(path)
    conj = spec.conjecture
    budget = spec.search.budget if budget is None else budget
    seed = spec.search.seed if seed is None else seed
    max_time = spec.search.max_time if max_time is None else max_time
    verdict = falsify(conj, budget, seed, max_time, database, progress)
    search = search_command(source, budget, seed)
    at = at_command(source, verdict.counterexample, conj.domain.fixed) if verdict.falsified else search
    return conj, replace(verdict, command=at), search


def run_at(path: Path, pairs: list[str]) -> tuple[Conjecture, dict, Outcome]:
    conj = load(path).conjecture
    instance = parse_instance(conj, pairs)
    return conj, instance, conj.check(instance)


def write_report(conj, verdict, command: str, out) -> Path:
    return conjecture_report(conj, verdict, command).write(Path(out))


__all__ = ["list_examples", "parse_instance", "resolve", "run_at", "run_search", "source_arguments",
           "write_report"]
