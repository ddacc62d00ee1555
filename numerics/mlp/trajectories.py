"""How far one training trajectory stays from another (GD, SGD or Adam against the gradient flow).

``trajectory_distance(traj, ref)``: for each point of ``traj`` in order, the reference is scanned
forward from the last match while the distance |theta - theta_ref|^2 / (2P) does not increase; the
distance there is the point's distance to the reference curve.  Both trajectories are (n, P) arrays;
the reference's times (when given) are reported at the matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import require


@dataclass(frozen=True)
class TrajectoryDistance:
    distances: np.ndarray  # (n,): |theta_i - ref_j(i)|^2 / (2P)
    indices: np.ndarray  # (n,): j(i), nondecreasing
    reference_times: np.ndarray | None  # (n,): the reference's time at j(i)

    @property
    def largest(self) -> float:
        return float(self.distances.max())


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    d = a - b
    return float(d @ d) / (2 * a.size)


def trajectory_distance(traj, ref, ref_times=None) -> TrajectoryDistance:
    traj, ref = np.asarray(traj, dtype=float), np.asarray(ref, dtype=float)
    require(traj.ndim == 2 and ref.ndim == 2 and traj.shape[1] == ref.shape[1] and len(ref) >= 1, "traj",
            f"(n, P) points with the reference's P = {ref.shape[-1]}", traj.shape)
    if ref_times is not None:
        ref_times = np.asarray(ref_times, dtype=float)
        require(ref_times.shape == (len(ref),), "ref_times", f"{len(ref)} times", ref_times.shape)
    distances, indices = np.empty(len(traj)), np.empty(len(traj), dtype=np.int64)
    j = 0
    for i, point in enumerate(traj):
        d = _distance(point, ref[j])
        while j + 1 < len(ref):
            nxt = _distance(point, ref[j + 1])
            if nxt > d:
                break
            j, d = j + 1, nxt
        distances[i], indices[i] = d, j
    return TrajectoryDistance(distances, indices, None if ref_times is None else ref_times[indices])
