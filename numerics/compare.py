"""Compare a simulated quantity with a theoretical one and return a verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Verdict:
    name: str
    passed: bool
    error: float
    tolerance: float
    regime: str  # where the comparison was made, e.g. "t in [1e4, 2e4]" or "all steps"
    measure: str  # "max abs", "max rel", "violation"
    # optional: the simulated value and the law's prediction where the error was measured
    measured: float | None = None
    predicted: float | None = None

    def __post_init__(self):
        # plain Python types, so verdicts serialise to JSON whatever NumPy returned
        object.__setattr__(self, "passed", bool(self.passed))
        object.__setattr__(self, "error", float(self.error))
        object.__setattr__(self, "tolerance", float(self.tolerance))
        for name in ("measured", "predicted"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, float(getattr(self, name)))

    def __str__(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"[{mark}] {self.name}: {self.measure} error {self.error:.3g} (tolerance {self.tolerance:.3g}) over {self.regime}"

    def to_dict(self) -> dict:
        """The fields as plain values; measured and predicted only when given."""
        return {k: v for k, v in asdict(self).items() if v is not None or k not in ("measured", "predicted")}

    @classmethod
    def from_claim(cls, name: str, claim, tolerance: float = 1e-9,
                   regime: str | None = None, measure: str = "symbolic + numeric") -> Verdict:
        """The verdict on a symbolic claim (gradflow.theory.verify.Claim): it must simplify to 0 and
        vanish at random points to ``tolerance``."""
        regime = f"simplification to 0 and {claim.points} random points" if regime is None else regime
        return cls(name, claim.holds, claim.max_abs_at_random_points, tolerance, regime, measure)

    @classmethod
    def symbolic(cls, name: str, holds: bool, how: str, measure: str = "symbolic") -> Verdict:
        """A yes/no fact established by SymPy (or a boolean test): error 0 if it holds, 1 if not."""
        return cls(name, bool(holds), 0.0 if holds else 1.0, 0.0, how, measure)


def compare(name, measured, predicted, tolerance, regime="all points", relative=False) -> Verdict:
    """max |measured - predicted| (divided by |predicted| if relative) against tolerance."""
    measured, predicted = np.broadcast_arrays(np.asarray(measured, float), np.asarray(predicted, float))
    if not (np.all(np.isfinite(measured)) and np.all(np.isfinite(predicted))):
        return Verdict(name, False, float("inf"), tolerance, regime, "non-finite values")
    diff = np.abs(measured - predicted)
    if relative:
        diff = diff / np.maximum(np.abs(predicted), np.finfo(float).tiny)
    error = float(diff.max()) if diff.size else 0.0
    return Verdict(name, error <= tolerance, error, tolerance, regime, "max rel" if relative else "max abs")


def compare_each(name, measured, predicted, tolerance, regime="all points", measure="max abs") -> Verdict:
    """|measured - predicted| against a tolerance of its own at each point (arrays that broadcast
    together): passes when every point is within its tolerance; the verdict reports the point
    closest to failing (largest error / tolerance), with its measured and predicted values."""
    measured, predicted, tolerance = np.broadcast_arrays(*(np.asarray(x, float) for x in (measured, predicted,
                                                                                          tolerance)))
    if measured.size == 0:
        return Verdict(name, True, 0.0, 0.0, regime, measure)
    if not (np.all(np.isfinite(measured)) and np.all(np.isfinite(predicted))):
        return Verdict(name, False, float("inf"), float(np.max(tolerance)), regime, "non-finite values")
    diff = np.abs(measured - predicted)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / tolerance)
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return Verdict(name, bool(np.all(diff <= tolerance)), diff[worst], tolerance[worst], regime, measure,
                   measured[worst], predicted[worst])


def compare_bound(name, measured, bound, kind, tolerance=1e-12, regime="all points") -> Verdict:
    """Largest violation of measured >= bound ('lower') or measured <= bound ('upper')."""
    measured, bound = np.broadcast_arrays(np.asarray(measured, float), np.asarray(bound, float))
    if kind not in ("lower", "upper"):
        raise ValueError(f"kind must be 'lower' or 'upper', got {kind!r}")
    gap = bound - measured if kind == "lower" else measured - bound
    scale = np.maximum(1.0, np.abs(bound))
    error = float(np.max(np.maximum(gap, 0.0) / scale)) if gap.size else 0.0
    if not np.all(np.isfinite(gap)):
        return Verdict(name, False, float("inf"), tolerance, regime, "violation")
    if not gap.size:
        return Verdict(name, True, 0.0, tolerance, regime, "violation")
    closest = np.unravel_index(int(np.argmax(gap / scale)), gap.shape)  # the point nearest to (or deepest in) violation
    return Verdict(name, error <= tolerance, error, tolerance, regime, "violation", measured[closest], bound[closest])
