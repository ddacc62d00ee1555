"""What one instance says about a conjecture: the measured value, the claimed one, the tolerance,
and whether the claim holds there (or the instance lies outside the claim's regime)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

RELATIONS = ("==", "<=", ">=")


@dataclass(frozen=True)
class Outcome:
    """``measured relation claimed`` within ``tolerance``: "==" means |measured - claimed| <= tolerance,
    "<=" means measured <= claimed + tolerance, ">=" means measured >= claimed - tolerance.  A
    non-finite measurement never holds.  ``holds is None``: the instance was not tested (``note``
    says why), and it is neither a confirmation nor a counterexample."""

    measured: float
    claimed: float
    tolerance: float
    relation: str = "=="
    quantity: str = ""  # what was measured, in words
    note: str = ""
    detail: dict = field(default_factory=dict)  # extra numbers for the report (JSON-ready)
    tested: bool = True

    def __post_init__(self):
        if self.relation not in RELATIONS:
            raise ValueError(f"relation must be one of {RELATIONS}, got {self.relation!r}")
        for name in ("measured", "claimed", "tolerance"):
            object.__setattr__(self, name, float(getattr(self, name)))

    @classmethod
    def untested(cls, note: str, **detail) -> Outcome:
        return cls(math.nan, math.nan, math.nan, note=note, detail=detail, tested=False)

    @classmethod
    def of_bool(cls, holds: bool, quantity: str = "the predicate") -> Outcome:
        """A yes/no claim written as a plain predicate: measured 1 (holds) or 0, claimed 1."""
        return cls(1.0 if holds else 0.0, 1.0, 0.0, "==", quantity, detail={"predicate": True})

    @property
    def holds(self) -> bool | None:
        if not self.tested:
            return None
        if not math.isfinite(self.measured):
            return False
        if self.relation == "==":
            return abs(self.measured - self.claimed) <= self.tolerance
        if self.relation == "<=":
            return self.measured <= self.claimed + self.tolerance
        return self.measured >= self.claimed - self.tolerance

    @property
    def failed(self) -> bool:
        return self.holds is False

    def __str__(self) -> str:
        if not self.tested:
            return f"not tested: {self.note}"
        if self.detail.get("predicate"):
            return f"{self.quantity} is {'true' if self.holds else 'false'}"
        what = f"{self.quantity}: " if self.quantity else ""
        rel = {"==": "within", "<=": "at most", ">=": "at least"}[self.relation]
        tol = f" (tolerance {self.tolerance:.3g})" if self.tolerance else ""
        mark = "holds" if self.holds else "fails"
        return f"{what}measured {self.measured:.6g}, claimed {rel} {self.claimed:.6g}{tol}: {mark}"

    def to_dict(self) -> dict:
        out = {"holds": self.holds, "measured": self.measured, "claimed": self.claimed, "tolerance": self.tolerance,
               "relation": self.relation, "quantity": self.quantity, "note": self.note, "detail": self.detail}
        return out


__all__ = ["Outcome", "RELATIONS"]
