"""A conjecture's verdict as a folder, laid out like ``gradflow reproduce``: report.md, the
counterexample's figure (figures/counterexample.png and .pdf), its curves (data.npz), metadata.json and
the verdict itself (results.json)."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.figure_style import figure_style
from gradflow.derivations.report import Reproduction, pyplot
from gradflow.numerics.conjecture import Conjecture, ConjectureVerdict, Trace
from gradflow.theory.latex import document, escape_text


def figure(trace: Trace, title: str):
    with figure_style():  # as Experiment.reproduce builds a reproduction's figures
        return _figure(trace, title)


def _figure(trace: Trace, title: str):
    plt = pyplot()
    fig, ax = plt.subplots(columns=2, aspect=0.5)
    for label, y in trace.curves.items():
        ax.plot(trace.x, y, lw=1.6, label=label)
    for label, y in trace.reference.items():
        ax.plot(trace.x, y, ls="--", lw=1.0, color="k", label=label)
    if trace.logx:
        ax.set_xscale("log")
    if trace.logy:
        ax.set_yscale("log")
    ax.set_xlabel(trace.xlabel)
    ax.set_ylabel(trace.ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def _markdown(conj: Conjecture, verdict: ConjectureVerdict, search_command: str) -> str:
    lines = [f"# Conjecture: {conj.name}", "", f"**Claim.** {conj.statement}", "",
             f"**Domain.** {verdict.domain}", "", f"**Tolerance.** {verdict.tolerance or 'none'}", "",
             f"**Run settings.** {', '.join(f'{k} = {v}' for k, v in conj.settings.items()) or 'none'}", "",
             f"**Search.** Hypothesis, budget {verdict.budget} instances in batches of {conj.batch} (one launch "
             f"per batch), seed {verdict.seed}: `{search_command}`", ""]
    if not verdict.falsified:
        lines += [f"## Verdict: no counterexample in {verdict.instances} instances", "",
                  f"{verdict.untested} drawn instances were outside the claim's regime (not tested). "
                  f"Search time {verdict.total_s:.2f} s." + (" The time budget ended the search." if
                                                              verdict.timed_out else ""), ""]
        return "\n".join(lines)
    params = ", ".join(f"{k} = {v!r}" for k, v in verdict.counterexample.items())
    o = verdict.outcome
    lines += ["## Verdict: falsified", "",
              f"Minimal counterexample (after shrinking): {params}.", "",
              f"Measured {o.quantity}: {o.measured:.6g}; claimed {o.relation} {o.claimed:.6g} "
              f"(tolerance {o.tolerance:.3g}).", "",
              f"Found after {verdict.instances} instances ({verdict.examples} launches) in {verdict.search_s:.2f} s; "
              f"shrunk in {verdict.shrink_s:.2f} s.", "",
              f"Reproduce this instance: `{verdict.command}`", ""]
    if o.detail:
        lines += ["| detail | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in o.detail.items()] + [""]
    if conj.trace is not None:
        lines += ["![the counterexample](figures/counterexample.png)", ""]
    return "\n".join(lines)


def conjecture_report(conj: Conjecture, verdict: ConjectureVerdict, search_command: str) -> Reproduction:
    """The folder's contents; ``write(out)`` puts it in ``out/<conjecture name>``."""
    arrays, figures = {}, {}
    if verdict.falsified and conj.trace is not None:
        trace = conj.trace(verdict.counterexample)
        arrays["x"] = np.asarray(trace.x, dtype=float)
        for k, (label, y) in enumerate({**trace.curves, **trace.reference}.items()):
            arrays[f"curve{k}"] = np.asarray(y, dtype=float)
        figures["counterexample"] = figure(trace, f"{conj.name}: " + ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in verdict.counterexample.items()))
        labels = list(trace.curves) + list(trace.reference)
    else:
        labels = []
    parameters = {"statement": conj.statement, "domain": conj.domain.to_dict(), "settings": conj.settings,
                  "budget": verdict.budget, "seed": verdict.seed, "batch": conj.batch, "source": conj.source,
                  "curves": labels}
    return Reproduction(conj.name, parameters, arrays, figures, _markdown(conj, verdict, search_command),
                        _latex(conj), [], {"search": verdict.search_s, "shrink": verdict.shrink_s},
                        [verdict.seed], verdict.to_dict())


def _latex(conj) -> str:
    """The conjecture's statement as a complete LaTeX document (the statement is code: typewriter)."""
    return document(f"Conjecture {conj.name}", rf"Statement: \texttt{{{escape_text(conj.statement)}}}")


__all__ = ["conjecture_report", "figure"]
