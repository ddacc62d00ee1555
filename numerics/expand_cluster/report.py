"""What became of one flat cluster at the cut: its size, students, alignment and verdict."""

from __future__ import annotations

from dataclasses import dataclass

# Why a cluster was dropped: too few members, too spread in angle, no member among the best students,
# too few distinct students (variant b), duplicates whose outgoing weights cancel (variant c), neurons whose
# mean ablation leaves the output almost unchanged (variant f), merged into a nearby kept cluster (variant g).
REASONS = ("small", "unaligned", "no_best5", "few_students", "cancelled", "negligible", "merged")


@dataclass(frozen=True)
class ClusterReport:
    """One flat cluster at the cut height. ``members``: point indices i = n k + j; ``kept`` with
    ``reason`` None, else ``reason`` in REASONS; ``winner``: the student whose vectors it takes (kept only)."""

    members: tuple
    size: int
    distinct_students: int
    median_cosine_distance: float
    kept: bool
    reason: str | None
    winner: int | None = None

    def to_json(self) -> dict:
        return {"members": [int(i) for i in self.members], "size": int(self.size),
                "distinct_students": int(self.distinct_students),
                "median_cosine_distance": float(self.median_cosine_distance), "kept": bool(self.kept),
                "reason": self.reason, "winner": None if self.winner is None else int(self.winner)}
