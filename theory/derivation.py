"""A derivation document: ordered steps, each with prose, LaTeX and the check that backs it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    title: str
    latex: str
    text: str = ""
    checked_by: str = ""  # how SymPy established the step ("closure", "simplifies to 0", ...)


@dataclass
class Derivation:
    title: str
    steps: list = field(default_factory=list)
    results: dict = field(default_factory=dict)  # named SymPy objects for numerics and checks

    def add(self, title: str, latex: str, text: str = "", checked_by: str = "") -> None:
        self.steps.append(Step(title, latex, text, checked_by))

    def to_latex(self) -> str:
        parts = [
            r"\documentclass{article}",
            r"\usepackage{amsmath,amssymb}",
            r"\begin{document}",
            rf"\section*{{{self.title}}}",
        ]
        for step in self.steps:
            parts.append(rf"\subsection*{{{step.title}}}")
            if step.text:
                parts.append(step.text)
            parts.append(r"\begin{equation*}" + step.latex + r"\end{equation*}")
            if step.checked_by:
                parts.append(rf"\emph{{Checked by SymPy: {step.checked_by}.}}")
        parts.append(r"\end{document}")
        return "\n".join(parts) + "\n"

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
