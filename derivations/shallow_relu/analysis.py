"""The plateaus of a training run: idealised, solved exactly and classified.

The point in the middle of each plateau is idealised into an embedded stationary point of a
narrower network (groups of aligned neurons, zero neurons, dead neurons), its loss is solved
exactly (a rational for scalar outputs) and the landscape tools classify it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import sympy as sp

from gradflow.derivations.shallow_relu.datasets import DATASETS, ReluDataset
from gradflow.numerics.saddle.exact_plateau import exact_plateau_loss
from gradflow.numerics.saddle.idealise import idealise
from gradflow.numerics.saddle.plateaus import detect_plateaus
from gradflow.numerics.saddle.shallow_arrays import network_output
from gradflow.theory.activations import RELU
from gradflow.theory.landscape import NetworkPoint, exact_point, kink_sensitivity, landscape_report

KINK_TOL = 1e-4  # relative |w.x| / (|w| |x|) below which a float point's input is on a kink
ZERO_TOLS = (1e-2, 1e-3)  # candidate sizes (relative to the data scale) below which a neuron is a zero neuron


def plateaus(run) -> list:
    """The plateaus of the run's loss curve."""
    return detect_plateaus(run.loss_iterations, np.maximum(run.loss, np.finfo(float).tiny))


def _small_dead(W, ideal, dataset: ReluDataset) -> tuple:
    """Small neurons that GD has frozen: every input strictly on the negative side (beyond the kink
    tolerance).  They are dead, not zero: rho'(0) = a_minus = 0 keeps them still, and a dead neuron
    preserves a local minimum where a zero neuron would make it a saddle (a zero neuron is an escape
    direction, a dead one is not)."""
    # Strictly negative, without tolerance: that is exactly when GD (with rho'(0) = 0) leaves it still.
    return tuple(i for i in ideal.zero_neurons if np.linalg.norm(W[i]) > 0 and np.all(dataset.X @ W[i] < 0))


@lru_cache(maxsize=None)
def _deepest_dead_direction(name: str) -> np.ndarray:
    """A rational direction as deep inside the dead cone {w : w . x_k < 0 for all k} as a box allows
    (an LP: max s with x_k . w + s <= 0, |w_j| <= 1).  Where a dead neuron sits in that cone does
    not change the point, and a deep direction keeps kink tolerances from reading it as on a kink."""
    from scipy.optimize import linprog

    X = DATASETS[name].X
    d = X.shape[1]
    result = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[X, np.ones(len(X))], b_ub=np.zeros(len(X)),
                     bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
    if not result.success or -result.fun <= 0:
        return None
    return np.array([sp.nsimplify(float(v), rational=True, tolerance=1e-6) for v in result.x[:d]], dtype=object)


def _kept(ideal, small_dead) -> tuple:
    """One neuron per group, one zero neuron if any small neuron is alive (all zero neurons are the
    same point, so one decides their status), and the dead neurons, small or not."""
    live = [i for i in ideal.zero_neurons if i not in small_dead]
    return [g.representative for g in ideal.groups] + live[:1], list(ideal.dead_neurons) + list(small_dead)


def _report_point(ideal, exact, dataset: ReluDataset, small_dead):
    """The narrower network the plateau embeds; exact for scalar outputs, float (tolerance
    KINK_TOL) otherwise."""
    active, dead = _kept(ideal, small_dead)
    keep = active + dead
    if exact.W_exact is not None:
        W = exact.W_exact[keep]
        H = exact.H_exact[keep]
        for row, neuron in enumerate(keep):
            if neuron in ideal.zero_neurons and neuron not in small_dead:
                W[row] = [sp.Integer(0)] * W.shape[1]
                H[row] = [sp.Integer(0)] * H.shape[1]
            elif neuron in dead:  # it never contributes: any direction inside the dead cone will do
                W[row] = _deepest_dead_direction(dataset.name)
                H[row] = [sp.Integer(0)] * H.shape[1]
        return exact_point(W, H, dataset.X_exact, dataset.Y_exact, RELU), keep
    return _float_with_dead(exact.W, exact.H, keep, dead, dataset), keep


def _float_with_dead(W, H, keep, dead, dataset):
    W, H = W[keep].copy(), H[keep].copy()
    for row, neuron in enumerate(keep):
        if neuron in dead:
            W[row], H[row] = _deepest_dead_direction(dataset.name).astype(float), 0.0
    return NetworkPoint(W, H, dataset.X, dataset.Y, RELU, tol=KINK_TOL)


def _float_point(ideal, dataset: ReluDataset, small_dead):
    active, dead = _kept(ideal, small_dead)
    keep = active + dead
    return _float_with_dead(ideal.W, ideal.H, keep, dead, dataset), keep


def _idealised(W, H, dataset: ReluDataset, growing: np.ndarray):
    """Idealise the point (selection only: the plateau's loss is not consulted, it is what the checks
    then compare the exact value with).

    Small neurons are zero neurons (coarse tolerance) unless a finer tolerance promotes them into
    groups while none of them is still growing across the plateau (a growing small neuron is a zero
    neuron escaping), the exact stationary point keeps its activation patterns, and that point's
    predictions on the data are at least as close to the snapshot's as the coarser choice's."""
    snapshot = network_output(W, H, dataset.X, RELU)

    def distance(exact):
        return float(np.linalg.norm(network_output(exact.W, exact.H, dataset.X, RELU) - snapshot))

    coarse = idealise(W, H, dataset.X, dataset.Y, RELU, kink_tol=KINK_TOL, zero_tol=ZERO_TOLS[0])
    exact = exact_plateau_loss(coarse, dataset.X_exact, dataset.Y_exact, RELU, pin_to_kink=True)
    chosen, closest = (coarse, exact, ZERO_TOLS[0]), distance(exact)
    for zero_tol in ZERO_TOLS[1:]:
        fine = idealise(W, H, dataset.X, dataset.Y, RELU, kink_tol=KINK_TOL, zero_tol=zero_tol)
        promoted = sorted(set(coarse.zero_neurons) - set(fine.zero_neurons))
        if not promoted or np.any(growing[promoted]):
            break
        exact = exact_plateau_loss(fine, dataset.X_exact, dataset.Y_exact, RELU, pin_to_kink=True)
        if not exact.keeps_pattern or distance(exact) > closest:
            break
        chosen, closest = (fine, exact, zero_tol), distance(exact)
    return chosen


def analyse_plateau(plateau, run, dataset: ReluDataset) -> dict:
    """Idealise the point in the middle of a plateau, solve its exact loss, classify it."""
    middle = (plateau.start + plateau.end) // 2
    snap = int(np.argmin(np.abs(run.snapshot_iterations - middle)))
    W, H = run.W_snapshots[snap].astype(float), run.H_snapshots[snap].astype(float)
    last = int(np.argmin(np.abs(run.snapshot_iterations - plateau.end)))
    norms = np.linalg.norm(run.W_snapshots[[snap, last]], axis=2)  # from the analysed point on
    growing = norms[1] > 1.5 * norms[0]
    ideal, exact, zero_tol = _idealised(W, H, dataset, growing)
    small_dead = _small_dead(W, ideal, dataset)
    if exact.keeps_pattern:
        point, kept = _report_point(ideal, exact, dataset, small_dead)
    else:
        # The narrower network has no stationary point with the plateau's activation patterns: the
        # loss is still drifting (GD zig-zags across kinks).  Classify the idealised float point.
        point, kept = _float_point(ideal, dataset, small_dead)
    summary = {"start": int(plateau.start), "end": int(plateau.end), "loss": float(plateau.loss),
               **_exact_summary(exact), "snapshot_iteration": int(run.snapshot_iterations[snap]),
               "groups": _groups(exact), "zero_neurons": len(ideal.zero_neurons) - len(small_dead),
               "dead_neurons": len(ideal.dead_neurons) + len(small_dead)}
    return {**summary, **_classification(point, kept, zero_tol)}


def _exact_summary(exact) -> dict:
    return {"loss_exact": exact.loss_string if exact.keeps_pattern else None,
            "loss_exact_float": float(exact.loss_float) if exact.keeps_pattern else None,
            "exact_reason": exact.reason, "keeps_pattern": bool(exact.keeps_pattern),
            "pinned_to_kink": [list(map(int, p)) for p in exact.pinned]}


def _groups(exact) -> list:
    return [{"neurons": list(map(int, g.members)), "direction": g.direction.tolist(),
             "output": g.output.tolist(), "active_inputs": list(g.positive), "kink_inputs": list(g.kink)}
            for g in exact.groups]


def _classification(point, kept, zero_tol) -> dict:
    """The landscape report of the embedded point (``kept``: its neurons in the full network)."""
    report = landscape_report(point)
    # the report numbers the neurons of the embedded point; the table and the text use the full network's
    reason = re.sub(r"(escape neuron) (\d+)", lambda m: f"{m.group(1)} {int(kept[int(m.group(2))])}", report.reason)
    return {
        "stationary": bool(report.d_stationary), "clarke_stationary": bool(report.clarke_stationary),
        "escape_neurons": [int(kept[i]) for i in report.escape_neurons],
        "classification": report.classification, "reason": reason,
        "certificate_radius": str(report.certificate.radius) if report.certificate is not None else None,
        "report_mode": ("exact" if report.exact else f"float, kink tolerance {report.tol:g}") + f", zero tolerance {zero_tol:g}",
        # a float classification must not hinge on the tolerance: report it at several
        "kink_sensitivity": None if report.exact else {f"{tol:g}": c for tol, c in kink_sensitivity(point).items()},
    }
