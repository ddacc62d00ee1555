"""Plateaus of a loss curve: maximal stretches where the loss is flat relative to its own scale.

Saddle-to-saddle training from vanishing initialisation gives a staircase loss curve: long flat
stretches (the network sits near a saddle) separated by quick drops (a group of neurons escapes).

The detector works in ln L against the fraction of the run s = (t - t_0) / (t_end - t_0):

1. The curve is put on a uniform grid of ``resolution`` bins (median of ln L of the samples in a
   bin; an empty bin, e.g. late in a log-spaced recording, is interpolated).  Medians make the
   detector indifferent to isolated spikes and to the recording grid.
2. The slope d ln L / ds is a least-squares fit over a centred ``window`` (a fraction of the run).
   A bin is *flat* when |d ln L / ds| <= ``max_slope``: at that rate the loss would change by less
   than a factor e^max_slope over the whole run.  Drops between plateaus are steep (slopes of tens
   to hundreds), and a power law L ~ t^-alpha has slope >= alpha everywhere, so with the default 0.5
   it gives no plateau for alpha >= 0.5 (nor does an exponential decay, whose slope is constant).
3. A maximal flat run of at least ``min_length`` (fraction of the run) is a plateau core.  The slope
   window blurs the core's edges, so the plateau is then extended on both sides while the binned
   loss stays within a factor e^(+-band) of the core's median (and nearer to it than to the next
   plateau's level): start/end are where the loss leaves the plateau value, independent of the
   window.  Two cores whose gap never leaves the first one's band are one plateau.

The plateau loss is the median of the recorded losses between start and end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.errors import require


@dataclass(frozen=True)
class Plateau:
    start: int  # first iteration of the plateau
    end: int  # last iteration of the plateau
    loss: float  # median recorded loss on [start, end]

    @property
    def length(self) -> int:
        return self.end - self.start


def _curve(iterations, loss) -> tuple[np.ndarray, np.ndarray]:
    iterations = np.asarray(iterations)
    loss = np.asarray(loss, dtype=float)
    require(iterations.ndim == 1 and iterations.size >= 3, "iterations", "a 1-D array of at least 3 iterations",
            iterations.shape)
    require(np.issubdtype(iterations.dtype, np.number) and bool(np.all(np.isfinite(iterations)))
            and bool(np.all(iterations == np.round(iterations))), "iterations", "integers")
    require(bool(np.all(np.diff(iterations) > 0)), "iterations", "strictly increasing")
    require(loss.shape == iterations.shape, "loss", f"one value per iteration ({iterations.size})", loss.shape)
    require(bool(np.all(np.isfinite(loss))) and bool(np.all(loss > 0)), "loss",
            "finite and > 0 (it is read on a log scale)")
    return iterations.astype(np.int64), loss


def _binned_log_loss(iterations: np.ndarray, log_loss: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges and the median ln L per bin (interpolated where a bin holds no sample)."""
    edges = np.linspace(iterations[0], iterations[-1], resolution + 1)
    bin_of_sample = np.clip(np.searchsorted(edges, iterations, side="right") - 1, 0, resolution - 1)
    bounds = np.searchsorted(bin_of_sample, np.arange(resolution + 1))
    centres = 0.5 * (edges[:-1] + edges[1:])
    binned = np.interp(centres, iterations, log_loss)
    for b in np.flatnonzero(bounds[1:] > bounds[:-1]):
        binned[b] = np.median(log_loss[bounds[b]:bounds[b + 1]])
    return edges, binned


def _windowed_slope(values: np.ndarray, half_width: int) -> np.ndarray:
    """Least-squares slope per bin over 2 half_width + 1 bins; point reflection at the ends keeps a
    linear trend linear, so edge bins get an honest slope."""
    left = 2 * values[0] - values[half_width:0:-1]
    right = 2 * values[-1] - values[-2:-half_width - 2:-1]
    padded = np.concatenate([left, values, right])
    offsets = np.arange(-half_width, half_width + 1, dtype=float)
    return np.correlate(padded, offsets / np.sum(offsets ** 2), mode="valid")


def _true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of the maximal runs of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    changes = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(changes[::2], changes[1::2])]


def _merge_flat_gaps(cores: list[tuple[int, int]], binned: np.ndarray, band: float) -> list[tuple[int, int]]:
    """Join consecutive cores whose gap stays within band of the first one's level (a blip, not a drop)."""
    merged: list[tuple[int, int]] = []
    for core in cores:
        if merged:
            first, last = merged[-1]
            level = np.median(binned[first:last + 1])
            if np.all(np.abs(binned[last + 1:core[1] + 1] - level) <= band):
                merged[-1] = (first, core[1])
                continue
        merged.append(core)
    return merged


def _extend(cores: list[tuple[int, int]], binned: np.ndarray, band: float) -> list[tuple[int, int]]:
    """Grow each core while the binned loss stays within band of its level and nearer to it than to the
    neighbouring plateau's level (so two close levels share their gap instead of swallowing it)."""
    levels = [np.median(binned[first:last + 1]) for first, last in cores]
    spans = []
    for i, (first, last) in enumerate(cores):
        def belongs(b, neighbour):
            distance = abs(binned[b] - levels[i])
            return distance <= band and (neighbour is None or distance < abs(binned[b] - levels[neighbour]))
        floor = cores[i - 1][1] + 1 if i > 0 else 0
        ceiling = cores[i + 1][0] - 1 if i + 1 < len(cores) else binned.size - 1
        while first > floor and belongs(first - 1, i - 1 if i > 0 else None):
            first -= 1
        while last < ceiling and belongs(last + 1, i + 1 if i + 1 < len(cores) else None):
            last += 1
        spans.append((first, last))
    return spans


def detect_plateaus(iterations, loss, *, max_slope: float = 0.5, window: float = 0.01, min_length: float = 0.02,
                    band: float = 0.05, resolution: int = 2000) -> list[Plateau]:
    """Plateaus of a loss curve, in order (see the module docstring for the criterion).

    iterations: increasing integers; loss: positive values, one per iteration.
    max_slope: flat means |d ln L / d(t / run length)| <= max_slope.
    window: fraction of the run over which the slope is fitted.
    min_length: fraction of the run a flat stretch must last.
    band: the plateau extends while |ln L - ln L_plateau| <= band.
    resolution: number of uniform bins the curve is read on."""
    iterations, loss = _curve(iterations, loss)
    require(isinstance(resolution, (int, np.integer)) and resolution >= 20, "resolution", "an integer >= 20",
            resolution)
    require(np.isfinite(max_slope) and max_slope > 0, "max_slope", "a finite number > 0", max_slope)
    require(np.isfinite(window) and 0 < window < 0.5, "window", "a fraction of the run in (0, 0.5)", window)
    require(np.isfinite(min_length) and 0 < min_length <= 1, "min_length", "a fraction of the run in (0, 1]",
            min_length)
    require(np.isfinite(band) and band > 0, "band", "a finite number > 0 (a tolerance on ln L)", band)

    log_loss = np.log(loss)
    edges, binned = _binned_log_loss(iterations, log_loss, resolution)
    half_width = max(1, int(round(window * resolution / 2)))
    slope_per_run = _windowed_slope(binned, half_width) * resolution
    cores = [run for run in _true_runs(np.abs(slope_per_run) <= max_slope)
             if run[1] - run[0] + 1 >= min_length * resolution]

    plateaus = []
    for first, last in _extend(_merge_flat_gaps(cores, binned, band), binned, band):
        start = int(np.ceil(edges[first]))
        end = int(np.floor(edges[last + 1]))
        inside = (iterations >= start) & (iterations <= end)
        value = np.median(loss[inside]) if np.any(inside) else np.exp(np.median(binned[first:last + 1]))
        plateaus.append(Plateau(start, end, float(value)))
    return plateaus
