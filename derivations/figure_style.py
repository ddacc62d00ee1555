"""One figure style for every reproduction: the widths a paper offers and a matplotlib style file.

A figure module asks ``pyplot().subplots(..., columns=1 | 2, height=... | aspect=...)`` for a figure one
column (``SINGLE_COLUMN`` inches) or the full page (``DOUBLE_COLUMN``) wide; fonts, line widths and
legends come from ``styles/gradflow.mplstyle`` (package data), applied by :func:`figure_style` while
``Experiment.reproduce`` builds the figures and while ``Reproduction.write`` saves them: the style is
scoped, never a global change of matplotlib's rcParams."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

SINGLE_COLUMN = 3.4  # inches: one column of a two-column paper
DOUBLE_COLUMN = 7.0  # inches: the full text width
MIN_FONT_PT = 8.0  # the smallest font at print size; the style's sizes are all at least this
DEFAULT_ASPECT = {1: 0.75, 2: 0.4}  # height / width when a figure gives neither height nor aspect
STYLE_FILE = Path(__file__).resolve().parent / "styles" / "gradflow.mplstyle"


def figure_size(columns: int = 1, height: float | None = None, aspect: float | None = None) -> tuple[float, float]:
    """(width, height) in inches of a figure ``columns`` (1 or 2) columns wide; the height is given, or
    ``aspect`` times the width, or the default aspect of that width."""
    if columns not in (1, 2):
        raise ValueError(f"columns must be 1 (single column, {SINGLE_COLUMN} in) or 2 (double column, "
                         f"{DOUBLE_COLUMN} in), not {columns!r}")
    if height is not None and aspect is not None:
        raise ValueError("give the height or the aspect, not both")
    width = SINGLE_COLUMN if columns == 1 else DOUBLE_COLUMN
    if height is None:
        height = width * (aspect if aspect is not None else DEFAULT_ASPECT[columns])
    if not height > 0:
        raise ValueError(f"a figure's height must be positive, not {height!r}")
    return width, float(height)


@contextmanager
def figure_style():
    """matplotlib's rcParams set from the style file inside the block and restored after it."""
    import matplotlib

    with matplotlib.rc_context(fname=str(STYLE_FILE)):
        yield


def legend(ax, *more_axes, **kwargs):
    """``ax.legend`` naming every labelled artist of ``ax`` (and of ``more_axes``, e.g. its twin) once:
    curves drawn once per input under one label ("derived law") get one entry."""
    entries = {}
    for axes in (ax, *more_axes):
        for handle, label in zip(*axes.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    return ax.legend(list(entries.values()), list(entries), **kwargs)


__all__ = ["DEFAULT_ASPECT", "DOUBLE_COLUMN", "MIN_FONT_PT", "SINGLE_COLUMN", "STYLE_FILE", "figure_size",
           "figure_style", "legend"]
