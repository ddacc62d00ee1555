"""Every figure of every registered reproduction, rendered from its --quick run with the smallest settings that
still draw all of them, checked against gradflow's figure style (gradflow.derivations.figure_style).

The rules, for each figure:

* size: the width is SINGLE_COLUMN (3.4 in) or DOUBLE_COLUMN (7 in), and the PNG that Reproduction.write
  saves (tight bounding box) is at most 7.05 in wide at its dpi;
* fonts: every visible, non-empty Text (titles, labels, tick labels, legend entries, annotations) is at
  least MIN_FONT_PT (8 pt);
* axis labels: every axis of a visible Axes that shows tick labels has a non-empty label.  An axis without tick labels
  needs none: a picture (imshow with its ticks removed), a graph drawn with ``axis("off")``, the short side
  of a colorbar, a shared axis whose tick labels sit on its neighbour, the hidden x axis of a twinx;
* legends: every visible Line2D with data (reference lines included; an errorbar's caps and bars are
  part of its data line) has a label that does not start with "_", and that label is an entry of a
  legend of its Axes, of an Axes twinned with it (same position), or of the figure; every Axes drawing
  two or more artists (lines, collections, bar or errorbar groups) has such a legend.

Rendering every reproduction takes about 65 s of CPU; it runs in the default suite (every figure a
reproduction writes is checked on every CI run).  The checks themselves are tested on a figure that keeps
the rules and on the old four-panel am-margins strip, which breaks them.
"""

from __future__ import annotations

import io
import struct

import pytest

from gradflow.derivations.figure_style import DOUBLE_COLUMN, MIN_FONT_PT, SINGLE_COLUMN, figure_size, figure_style
from gradflow.derivations.registry import experiments, get_experiment
from gradflow.derivations.report import SAVE_PNG, pyplot

# the smallest settings that still draw every figure of each experiment (with quick=True)
TINY = {
    "am-margins": {"N": 3, "etas": (0.5, 5.0)},
    "am-landscape": {"alphas": (0.5,), "lims": (1.0,)},
    "am-spike": {"steps": 8},
    "am-phase": {},
    "am-phase-large": {},  # --quick: a 12^3 grid, in process, into the store given below
    "am-underparam": {"scan_seeds": 2},
    "am-large-memory": {"N": 3, "dims": (3.0,), "etas": (3.0, 10.0)},
    "am-transformer": {"N": 12, "k": 2, "T": 16, "wo2_d": 8, "wo2_etas": (20.0,), "all_ds": (8,),
                       "all_etas": (2.0,), "steps": 4, "batch": 2, "eval_batch": 2},
    "relu-exp-a": {"iterations": 3000},
    "relu-exp-b": {"iterations": 3000},
    "relu-exp-c": {"iterations": 3000},
    "relu-sigma-sweep": {"mus": (-0.5, -1.0), "seeds": 1, "iterations": 40000},
    "mlp-teacher-student": {"n": 200, "t_end": 5.0, "maxtime": 2.0},
    "mlp-gaussian": {"n": 500, "nodes": 60, "width": 2, "t_end": 2.0, "mc_samples": 20000, "maxtime": 2.0},
    "sym-counts": {},
    "sym-dominance": {},
    "sym-permutation-points": {"n": 100, "seeds": 1},
    "sym-critical-lines": {"n": 100},
    "sym-expansion-manifold": {"n": 100},
    "sym-paths": {"n": 100, "steps": 5},
    "sym-digits": {"pairs": 1, "seconds": 5.0},
    "ec-toy": {"seeds": (0,), "rhos": (1,), "levels": (1,), "n_students": 4, "maxtime": 0.2},
    "ec-digits": {"epochs": 5, "n_students": 4, "maxtime": 0.2},
    "ec-deep": {"n": 200, "n_students": 4, "maxtime": 0.2, "rho": 2},
    "confusion-synthetic": {"seeds": 1, "members": 3, "steps": 30, "n_test": 500},
    "confusion-digits": {"seeds": 1, "members": 3, "steps": 30},
}
NEEDS = {"am-transformer": "torch", "sym-digits": "sklearn", "ec-digits": "sklearn", "confusion-digits": "sklearn"}
WIDTHS = (SINGLE_COLUMN, DOUBLE_COLUMN)
MAX_SAVED_WIDTH = DOUBLE_COLUMN + 0.05


def test_every_experiment_has_tiny_settings():
    assert set(TINY) == set(experiments()), "add the new experiment's smallest settings to TINY"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _shows_tick_labels(axis) -> bool:
    return axis.get_visible() and any(t.get_visible() and t.get_text().strip() for t in axis.get_ticklabels())


def _data_lines(ax) -> list[tuple]:
    """(line, its label) of every visible Line2D with data; an errorbar's data line carries its container's
    label (matplotlib names the container, not the line) and its caps are part of it."""
    from matplotlib.container import ErrorbarContainer

    caps, named = set(), {}
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            data_line, cap_lines, _ = container.lines
            caps.update(id(c) for c in cap_lines)
            if data_line is not None:
                named[id(data_line)] = container.get_label()
    return [(line, named.get(id(line), line.get_label())) for line in ax.lines
            if line.get_visible() and len(line.get_xdata()) and id(line) not in caps]


def _artist_count(ax) -> int:
    from matplotlib.collections import LineCollection, QuadMesh
    from matplotlib.container import BarContainer, ErrorbarContainer

    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    errorbars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    in_errorbars = {id(b) for c in errorbars for b in c.lines[2]}
    collections = [c for c in ax.collections if c.get_visible() and not isinstance(c, QuadMesh)
                   and id(c) not in in_errorbars and not (isinstance(c, LineCollection) and not len(c.get_segments()))]
    return len(_data_lines(ax)) + len(collections) + len(bars)


def _legend_entries(fig, ax) -> set[str]:
    legends = list(fig.legends)
    for other in fig.axes:  # the Axes itself and its twins (same position)
        if other is ax or other.get_position().bounds == ax.get_position().bounds:
            legends.append(other.get_legend())
    return {t.get_text() for legend in legends if legend is not None for t in legend.get_texts()}


def figure_problems(stem: str, fig) -> list[str]:
    """What breaks the rules in the module docstring (empty when nothing does)."""
    problems = []
    width, _ = fig.get_size_inches()
    if not any(abs(width - w) <= 0.01 for w in WIDTHS):
        problems.append(f"{stem}: width {width:.2f} in is neither {SINGLE_COLUMN} nor {DOUBLE_COLUMN}")
    buffer = io.BytesIO()
    with figure_style():
        fig.savefig(buffer, format="png", **SAVE_PNG)
    saved, _ = _png_size(buffer.getvalue())
    if saved / SAVE_PNG["dpi"] > MAX_SAVED_WIDTH:
        problems.append(f"{stem}: the saved PNG is {saved / SAVE_PNG['dpi']:.2f} in wide (> {MAX_SAVED_WIDTH})")
    for text in _texts(fig):
        if text.get_fontsize() < MIN_FONT_PT:
            problems.append(f"{stem}: text {text.get_text()[:40]!r} at {text.get_fontsize():g} pt")
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():  # an unused cell of a grid
            continue
        where = f"{stem}, axes {k} ({ax.get_title()[:30]!r})"
        if ax.axison:
            for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
                if _shows_tick_labels(axis) and not axis.get_label_text().strip():
                    problems.append(f"{where}: the {name} axis shows ticks but has no label")
        entries = _legend_entries(fig, ax)
        for _, label in _data_lines(ax):
            if label.startswith("_"):
                problems.append(f"{where}: a line without a label ({label})")
            elif label not in entries:
                problems.append(f"{where}: line {label!r} is in no legend")
        if _artist_count(ax) >= 2 and not entries:
            problems.append(f"{where}: {_artist_count(ax)} artists and no legend")
    return problems


def test_the_checks_pass_a_styled_figure():
    with figure_style():
        fig, ax = pyplot().subplots(columns=1)
        ax.plot([1.0, 10.0, 100.0], [3.0, 2.0, 1.0], label="simulated")
        ax.axhline(1.5, ls="--", label="derived law")
        ax.set_xscale("log")
        ax.set_xlabel("step $t$")
        ax.set_ylabel("margin $m$")
        ax.legend()
    assert figure_problems("good", fig) == []


def test_the_checks_catch_a_strip_of_panels():
    """main's am-margins figure in miniature: four panels 12.6 in wide, a 7 pt legend in the first only, one
    y label, reference lines without labels."""
    from matplotlib.figure import Figure

    with figure_style():
        fig = Figure(figsize=(12.6, 3.6))
        axes = fig.subplots(1, 4)
        for ax in axes:
            ax.plot([1.0, 2.0], [1.0, 2.0], label="p=0.55")
            ax.plot([1.0, 2.0], [1.0, 1.5], ls="--")
            ax.set_xlabel("step t")
        axes[0].set_ylabel("margin m(x)")
        axes[0].legend(fontsize=7)
    problems = "\n".join(figure_problems("margins", fig))
    for expected in ("width 12.60 in is neither", "the saved PNG is", "'p=0.55' at 7 pt",
                     "axes 1 (''): the y axis shows ticks but has no label", "axes 0 (''): a line without a label",
                     "axes 2 (''): line 'p=0.55' is in no legend"):
        assert expected in problems, expected


def test_the_style_is_scoped_to_reproduce():
    import matplotlib

    before = dict(matplotlib.rcParams)
    result = get_experiment("sym-counts").reproduce({}, quick=True)
    assert dict(matplotlib.rcParams) == before  # no global change left behind
    fig = result.figures["factor_vs_width"]
    assert fig.axes[0].xaxis.label.get_fontsize() == MIN_FONT_PT  # built in the style, not matplotlib's 10 pt


def test_figure_sizes():
    assert figure_size(1) == (SINGLE_COLUMN, SINGLE_COLUMN * 0.75)
    assert figure_size(2, height=3.0) == (DOUBLE_COLUMN, 3.0) and figure_size(2, aspect=0.5) == (DOUBLE_COLUMN, 3.5)
    for bad in ({"columns": 3}, {"columns": 1, "height": 2.0, "aspect": 1.0}, {"columns": 1, "height": 0.0}):
        with pytest.raises(ValueError):
            figure_size(**bad)


@pytest.mark.long
@pytest.mark.parametrize("name", sorted(TINY))  # about 65 s of CPU for all (ec-* runs draw 13 to 24 figures each)
def test_figures_follow_the_style(name, tmp_path):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    settings = dict(TINY[name])
    if name == "am-phase-large":
        settings["store"] = str(tmp_path / "phase.zarr")
    result = get_experiment(name).reproduce(settings, quick=True)
    assert result.figures, f"{name} draws no figure"
    problems = [p for stem, fig in result.figures.items() for p in figure_problems(stem, fig)]
    assert not problems, "\n".join(problems)
