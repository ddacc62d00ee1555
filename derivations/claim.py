"""Named claims a conjecture can state about a family: the laws the family's derivation provides and the
predicates written for it, each with its parameters (the widest domain allowed), its run settings and
how it evaluates a batch of instances.  A TOML conjecture names one of these; nothing it holds is run
as code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gradflow.derivations.contract import Parameter
from gradflow.numerics.conjecture import Conjecture, Domain, Range
from gradflow.theory.errors import ParameterError, require


@dataclass(frozen=True)
class Claim:
    """``build(run, tolerance) -> (evaluate, trace, tolerance_text)``: ``evaluate(instances)`` gives one
    Outcome per instance (one launch for the list where the family has lanes), ``trace(instance)`` the
    curves of the counterexample's figure.  ``tolerance`` is a number >= 0 or "derived" (where
    ``derived`` says how the law's own error term gives it)."""

    family: str
    name: str
    statement: str
    parameters: tuple[Range, ...]  # the widest ranges allowed; also the default domain
    run: tuple[Parameter, ...]
    build: Callable
    default_tolerance: float | str = 0.0
    derived: str = ""  # what tolerance = "derived" means; empty: no derived tolerance
    batch: int = 1
    is_law: bool = False  # named by ``law = ...`` (a law of the derivation), else ``claim = ...``
    fixed: tuple = ()  # names of parameters with one fixed value (a choice of one)

    def parameter(self, name: str) -> Range:
        for r in self.parameters:
            if r.name == name:
                return r
        raise ParameterError(f"domain.{name}", f"a parameter of {self.name}: one of "
                             f"{', '.join(r.name for r in self.parameters)}", name)

    def run_settings(self, given: dict) -> dict:
        """The run settings with defaults, each validated (errors name ``run.NAME``)."""
        known = {p.name: p for p in self.run}
        for name in given:
            require(name in known, f"run.{name}", f"a run setting of {self.name}: one of "
                    f"{', '.join(known) or '(none)'}", name)
        out = {}
        for p in self.run:
            try:
                out[p.name] = p.validate(given.get(p.name, p.default))
            except ParameterError as error:
                raise ParameterError(f"run.{p.name}", error.constraint, error.value) from None
        return out

    def tolerance_value(self, tolerance) -> float | str:
        tolerance = self.default_tolerance if tolerance is None else tolerance
        if tolerance == "derived":
            require(bool(self.derived), "tolerance", f"a number >= 0 ({self.name} has no derived tolerance)",
                    tolerance)
            return tolerance
        require(isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool) and tolerance >= 0,
                "tolerance", "a number >= 0" + (" or 'derived'" if self.derived else ""), tolerance)
        return float(tolerance)

    def within(self, domain: Domain) -> Domain:
        """``domain`` checked against the declared parameters, completed by their default ranges (an
        integer range of a float parameter, ``eta = [1, 5]``, is read as the float range)."""
        ranges = []
        for r in domain.ranges:
            ranges.append(r)
            outer = self.parameter(r.name)
            where = f"domain.{r.name}"
            if outer.kind == "choice":
                require(r.kind == "choice" and set(r.choices) <= set(outer.choices), where,
                        f"a list of choices among {', '.join(outer.choices)}", r.choices or (r.low, r.high))
                continue
            require(r.kind != "choice", where, f"a range inside {outer.span}", r.choices)
            require(outer.kind != "int" or r.kind == "int", where, "a range of integers", (r.low, r.high))
            if r.kind == "int" and outer.kind != "int":
                ranges[-1] = Range(r.name, "float", float(r.low), float(r.high))
            require(outer.low <= r.low and r.high <= outer.high, where,
                    f"a range inside {outer.span}", (r.low, r.high))
        for name, value in domain.fixed.items():
            outer = self.parameter(name)
            require(outer.contains(value) and (outer.kind != "int" or isinstance(value, int)), f"domain.{name}",
                    f"a value in {outer.span}", value)
        given = set(domain.names)
        missing = tuple(r for r in self.parameters if r.name not in given)
        return Domain(tuple(ranges) + missing, dict(domain.fixed))

    def conjecture(self, domain: Domain | None = None, run: dict | None = None, tolerance=None, *,
                   name: str = "", statement: str = "", source: str = "", batch: int | None = None) -> Conjecture:
        domain = self.within(domain or Domain(()))
        settings = self.run_settings(run or {})
        tol = self.tolerance_value(tolerance)
        evaluate, trace, tolerance_text = self.build(settings, tol)
        return Conjecture(name or self.name, statement or self.statement, domain, evaluate,
                          self.batch if batch is None else batch, {**settings, "tolerance": tol}, tolerance_text,
                          trace, source)


__all__ = ["Claim"]
