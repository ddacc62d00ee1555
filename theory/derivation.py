"""A derivation: ordered steps (prose, LaTeX, the check that backs each) and the derived objects.

A model's ``derive()`` writes its steps into a :class:`Draft` and returns a frozen subclass of
:class:`Derivation` whose fields are the derived objects themselves (Flow, Map, Solution, Law,
SymPy expressions, claims), so that simulators, checks, reports and figures read those objects by
name, never retyped formulas and never string keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from gradflow.theory.latex import document, prose


@dataclass(frozen=True)
class Step:
    title: str
    latex: str
    text: str = ""
    checked_by: str = ""  # how SymPy established the step ("closure", "simplifies to 0", ...)


@dataclass(frozen=True, eq=False)
class Derivation:
    """Title and steps; subclasses add the derived objects as typed fields."""

    title: str
    steps: tuple[Step, ...]

    def to_latex(self) -> str:
        """A complete article (amsmath and amssymb only) that pdflatex compiles: texts may hold inline
        math as ``$...$``; everything else in them is escaped."""
        parts = []
        for step in self.steps:
            parts.append(rf"\subsection*{{{prose(step.title)}}}")
            if step.text:
                parts.append(prose(step.text))
            parts.append(r"\begin{equation*}" + step.latex + r"\end{equation*}")
            if step.checked_by:
                parts.append(rf"\emph{{Checked by SymPy: {prose(step.checked_by)}.}}")
        return document(self.title, "\n".join(parts))

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        for step in self.steps:
            lines.append(f"## {step.title}")
            if step.text:
                lines += ["", step.text]
            lines += ["", "$$", step.latex, "$$", ""]
            if step.checked_by:
                lines += [f"*Checked by SymPy: {step.checked_by}.*", ""]
        return "\n".join(lines)


D = TypeVar("D", bound=Derivation)


@dataclass
class Draft:
    """The steps of a derivation while it is being written."""

    title: str
    steps: list = field(default_factory=list)

    def add(self, title: str, latex: str, text: str = "", checked_by: str = "") -> None:
        self.steps.append(Step(title, latex, text, checked_by))

    def finish(self, kind: type[D] = Derivation, **derived) -> D:
        """The frozen derivation of type ``kind`` with these steps and the derived objects as its fields."""
        return kind(self.title, tuple(self.steps), **derived)

