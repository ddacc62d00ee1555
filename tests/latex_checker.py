"""A strict checker for the LaTeX documents gradflow writes (no TeX engine is installed here).

It reads a document the way pdflatex would with only amsmath and amssymb loaded and refuses what
pdflatex refuses, plus what a journal would: math characters (^ _ & # $ %) outside math mode,
unbalanced braces, environments or \\left/\\right, a double superscript, a blank line inside
display math, a command that is not standard LaTeX/amsmath/amssymb (or is used in the wrong mode),
a SymPy class name printed as an operator (\\operatorname{DiagMatrix}), and non-ASCII characters.
``problems(source)`` lists what is wrong (line numbers included); ``check_document`` raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy

PACKAGES = {"amsmath", "amssymb"}
GREEK = set("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi
    varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma
    Upsilon Phi Psi Omega""".split())
MATH_ONLY = GREEK | set("""frac dfrac tfrac binom sqrt sum prod int lim limsup liminf max min sup inf log ln exp
    sin cos tan tanh sinh cosh arctan det dim ker deg arg operatorname mathrm mathbf mathcal mathbb mathit
    mathsf boldsymbol left right big Big bigg Bigg bigl bigr Bigl Bigr middle cdot cdots ldots vdots ddots
    times circ odot otimes oplus div pm mp le leq ge geq ne neq approx sim simeq equiv propto ll gg to mapsto
    rightarrow leftarrow Rightarrow Leftarrow iff implies Leftrightarrow leftrightarrow in notin subset
    subseteq supset cup cap setminus emptyset forall exists partial nabla infty ell hbar dot ddot hat tilde
    bar vec widehat widetilde overline underline top perp parallel mid lvert rvert lVert rVert langle rangle
    lfloor rfloor lceil rceil prime backslash neg land lor wedge vee star ast dagger quad qquad tag not
    colon mathop limits nolimits substack overset underset stackrel textstyle displaystyle
    scriptstyle""".split())
TEXT_ONLY = set("""documentclass usepackage section subsection subsubsection paragraph noindent par item
    textasciicircum textasciitilde textbackslash today""".split())
BOTH = set("""text mbox emph textbf textit texttt textrm textsc quad qquad ldots dots hspace vspace newline""".split())
SYMBOLS_MATH_ONLY = set("|!")
SYMBOLS_BOTH = set("\\,;: {}_&%#$")
TEXT_ARGUMENT = {"text", "mbox", "emph", "textbf", "textit", "texttt", "textrm", "textsc", "section", "subsection",
                 "subsubsection", "paragraph"}
DELIMITERS = set("()[]|./") | {"\\{", "\\}", "\\|", "\\langle", "\\rangle", "\\lvert", "\\rvert", "\\lVert",
                                "\\rVert", "\\lfloor", "\\rfloor", "\\lceil", "\\rceil", "\\backslash"}
# environment -> (mode it must be opened in, mode inside, whether & separates columns)
ENVIRONMENTS = {
    "document": ("text", "text", False), "itemize": ("text", "text", False), "enumerate": ("text", "text", False),
    "center": ("text", "text", False), "tabular": ("text", "text", True),
    "equation": ("text", "math", False), "equation*": ("text", "math", False), "align": ("text", "math", True),
    "align*": ("text", "math", True), "gather": ("text", "math", False), "gather*": ("text", "math", False),
    "multline*": ("text", "math", False),
    "aligned": ("math", "math", True), "gathered": ("math", "math", False), "split": ("math", "math", True),
    "cases": ("math", "math", True), "matrix": ("math", "math", True), "pmatrix": ("math", "math", True),
    "bmatrix": ("math", "math", True), "vmatrix": ("math", "math", True), "array": ("math", "math", True),
}
ARGUMENTS = {**dict.fromkeys("frac dfrac tfrac binom overset underset stackrel".split(), 2),
             **dict.fromkeys("""sqrt text mbox mathbb mathrm mathbf mathcal mathit mathsf boldsymbol hat tilde bar
             dot ddot vec widehat widetilde overline underline emph textbf textit texttt textrm textsc section
             subsection subsubsection paragraph operatorname substack""".split(), 1)}
_SYMPY_NAMES = {name for name in dir(sympy) if name[:1].isupper() and len(name) > 3}


class LatexError(ValueError):
    """A document pdflatex (or a careful reader) would refuse."""


@dataclass
class _Frame:
    kind: str  # "group", "env", "$", "\\(", "\\["
    mode: str  # "text" or "math"
    name: str = ""
    line: int = 0
    columns: bool = False
    lefts: int = 0
    script_pending: str = ""  # "^" or "_" waiting for its argument
    scripts: set = field(default_factory=set)  # scripts already attached to the current base


class _Reader:
    def __init__(self, source: str):
        self.s = source
        self.i = 0
        self.errors: list[str] = []
        self.stack = [_Frame("top", "text")]
        self.pending_mode = ""  # the mode of the next group (the argument of \text, \emph, ...)
        self.expect_delimiter = False
        self.in_document = False
        self.ended = False

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def line(self) -> int:
        return self.s.count("\n", 0, self.i) + 1

    @property
    def frame(self) -> _Frame:
        return self.stack[-1]

    @property
    def mode(self) -> str:
        return self.frame.mode

    def error(self, message: str) -> None:
        self.errors.append(f"line {self.line}: {message}")

    def braced(self) -> str | None:
        """The raw text of a {...} argument starting at the cursor (skipping spaces), or None."""
        j = self.i
        while j < len(self.s) and self.s[j] in " \t":
            j += 1
        if j >= len(self.s) or self.s[j] != "{":
            return None
        depth, k = 0, j
        while k < len(self.s):
            if self.s[k] == "\\":
                k += 2
                continue
            depth += {"{": 1, "}": -1}.get(self.s[k], 0)
            if depth == 0:
                self.i = k + 1
                return self.s[j + 1:k]
            k += 1
        return None

    # -- the base a script attaches to -----------------------------------------------------------
    def atom(self) -> None:
        """A token in math mode: the argument of a pending script, or a new base."""
        f = self.frame
        if f.script_pending:
            f.scripts.add(f.script_pending)
            f.script_pending = ""
        else:
            f.scripts = set()

    def script(self, ch: str) -> None:
        f = self.frame
        if self.mode != "math":
            self.error(f"'{ch}' outside math mode (escape it or put the formula in $...$)")
            return
        if f.script_pending:
            self.error(f"'{ch}' right after '{f.script_pending}' (missing argument)")
        elif ch in f.scripts:
            self.error(f"double {'superscript' if ch == '^' else 'subscript'}: use braces")
        f.script_pending = ch

    # -- the main loop ---------------------------------------------------------------------------
    def run(self) -> list[str]:
        while self.i < len(self.s):
            ch = self.s[self.i]
            if self.ended and not ch.isspace():
                self.error("text after \\end{document}")
                break
            if ord(ch) > 127:
                self.error(f"non-ASCII character {ch!r} (pdflatex needs a LaTeX command)")
                self.i += 1
            elif ch == "\\":
                self.command()
            elif ch == "{":
                self.open_group()
            elif ch == "}":
                self.close_group()
            elif ch == "$":
                self.dollar()
            elif ch in "^_":
                self.i += 1
                self.script(ch)
            elif ch == "&":
                self.i += 1
                if not self.frame.columns:
                    self.error("'&' outside an alignment (escape it as \\&)")
            elif ch in "#%":
                self.i += 1
                self.error(f"unescaped '{ch}'" + (" (starts a comment)" if ch == "%" else ""))
            elif ch == "\n" and self.s.startswith("\n\n", self.i) and self.mode == "math":
                self.error("blank line inside math mode")
                self.i += 1
            else:
                self.i += 1
                if not ch.isspace():
                    self.body_character(ch)
        self.finish()
        return self.errors

    def body_character(self, ch: str) -> None:
        if not self.in_document and self.frame.kind == "top":
            self.error(f"text {ch!r} before \\begin{{document}}")
        if ch in "<>|" and self.mode == "text":  # the default text font prints them as other glyphs
            self.error(f"'{ch}' outside math mode (prints as another glyph in text)")
        if self.expect_delimiter:
            self.expect_delimiter = False
            if ch not in DELIMITERS:
                self.error(f"\\left or \\right followed by {ch!r}, not a delimiter")
            return
        if self.mode == "math":
            word = re.match(r"[A-Za-z]*", self.s[self.i - 1:]).group(0) or ch
            self.i += len(word) - 1
            for _ in word:  # x^ab: the script takes one letter, b is a new base
                self.atom()
            if word in _SYMPY_NAMES:
                self.error(f"SymPy class name {word!r} printed into the formula")

    def open_group(self) -> None:
        self.i += 1
        mode = self.pending_mode or self.mode
        self.pending_mode = ""
        self.stack.append(_Frame("group", mode, line=self.line))

    def close_group(self) -> None:
        self.i += 1
        f = self.frame
        if f.kind != "group":
            self.error(f"'}}' closes nothing (open: {self.describe(f)})")
            return
        self.check_closing(f)
        self.stack.pop()
        if self.mode == "math":
            self.atom()

    def check_closing(self, f: _Frame) -> None:
        if f.lefts:
            self.error(f"{f.lefts} \\left without \\right in {self.describe(f)}")
        if f.script_pending:
            self.error(f"'{f.script_pending}' without its argument")

    @staticmethod
    def describe(f: _Frame) -> str:
        return {"group": f"the group opened on line {f.line}", "env": f"\\begin{{{f.name}}} (line {f.line})",
                "top": "the document"}.get(f.kind, f"math opened by {f.kind} on line {f.line}")

    def dollar(self) -> None:
        if self.s.startswith("$$", self.i):
            self.error("$$ display math (use equation* or \\[ \\])")
            self.i += 2
            return
        self.i += 1
        if self.frame.kind == "$":
            self.check_closing(self.frame)
            self.stack.pop()
        elif self.mode == "math":
            self.error("'$' inside math mode")
        else:
            self.stack.append(_Frame("$", "math", line=self.line))

    def command(self) -> None:
        m = re.match(r"\\([A-Za-z]+\*?|.)", self.s[self.i:], re.S)
        token = m.group(0)
        name = m.group(1)
        self.i += len(token)
        if self.expect_delimiter:
            self.expect_delimiter = False
            if token not in DELIMITERS:
                self.error(f"\\left or \\right followed by {token}, not a delimiter")
            return
        if not name[0].isalpha():
            self.control_symbol(name)
            return
        base = name.rstrip("*")
        if base in ("begin", "end"):
            self.environment(base)
            return
        if base in ("(", "["):
            return
        self.control_word(base)

    def control_symbol(self, name: str) -> None:
        if name in "([":
            if self.mode == "math":
                self.error(f"\\{name} inside math mode")
            self.stack.append(_Frame("\\" + name, "math", line=self.line))
        elif name in ")]":
            opener = {")": "\\(", "]": "\\["}[name]
            if self.frame.kind != opener:
                self.error(f"\\{name} without {opener}")
            else:
                self.check_closing(self.frame)
                self.stack.pop()
        elif name in SYMBOLS_MATH_ONLY and self.mode != "math":
            self.error(f"\\{name} outside math mode")
        elif name == "^" and self.mode == "math":
            self.error("\\^ (a text accent) in math mode")
        elif name not in SYMBOLS_BOTH | SYMBOLS_MATH_ONLY | {"^", "~", "\n"}:
            self.error(f"unknown control symbol \\{name!r}")
        elif self.mode == "math" and name not in "\\,;: !":
            self.atom()

    def control_word(self, name: str) -> None:
        if name not in MATH_ONLY | TEXT_ONLY | BOTH:
            self.error(f"\\{name} is not a standard LaTeX/amsmath/amssymb command")
            return
        if name in ("documentclass", "usepackage"):
            self.preamble(name)
            return
        if not self.in_document:
            self.error(f"\\{name} before \\begin{{document}}")
        if name in MATH_ONLY and self.mode != "math":
            self.error(f"\\{name} outside math mode")
        if name in TEXT_ONLY and self.mode == "math":
            self.error(f"\\{name} inside math mode")
        if name in ("left", "right"):
            self.atom()
            self.frame.lefts += 1 if name == "left" else -1
            if self.frame.lefts < 0:
                self.error("\\right without \\left in the same group")
                self.frame.lefts = 0
            self.expect_delimiter = True
            return
        self.check_arguments(name)
        if name in ("operatorname", "mathrm"):
            argument = self.braced()
            if argument is None:
                self.error(f"\\{name} without a braced argument")
            elif re.search(r"[A-Z][a-z]+[A-Z]|^[A-Z][a-z]{3,}", argument) or argument in _SYMPY_NAMES:
                self.error(f"\\{name}{{{argument}}}: a SymPy class name, not a mathematical operator")
        if name in TEXT_ARGUMENT:
            self.pending_mode = "text"
        if self.mode == "math" and name not in ("quad", "qquad", "limits", "nolimits"):
            self.atom()

    def check_arguments(self, name: str) -> None:
        """A command that takes arguments is followed by them (not by '}', '&', '\\\\', a script or the end)."""
        rest = self.s[self.i:]
        j = len(rest) - len(rest.lstrip(" \t\n"))
        if name == "sqrt" and rest[j:j + 1] == "[":
            close = rest.find("]", j)
            j = close + 1 if close >= 0 else len(rest)
        for _ in range(ARGUMENTS.get(name, 0)):
            j += len(rest[j:]) - len(rest[j:].lstrip(" \t\n"))
            if j >= len(rest) or rest[j] in "}&^_" or rest.startswith("\\\\", j):
                self.error(f"\\{name} without its argument(s)")
                return
            if rest[j] == "{":
                depth, k = 0, j
                while k < len(rest):
                    if rest[k] == "\\":
                        k += 2
                        continue
                    depth += {"{": 1, "}": -1}.get(rest[k], 0)
                    k += 1
                    if depth == 0:
                        break
                j = k
            elif rest[j] == "\\":
                m = re.match(r"\\([A-Za-z]+|.)", rest[j:])
                if m.group(1) in ("end", "right", "begin"):
                    self.error(f"\\{name} without its argument(s)")
                    return
                j += len(m.group(0))
            else:
                j += 1

    def preamble(self, name: str) -> None:
        argument = self.braced()
        if self.in_document:
            self.error(f"\\{name} inside the document")
        if name == "documentclass" and argument != "article":
            self.error(f"\\documentclass{{{argument}}} (expected article)")
        if name == "usepackage":
            extra = {p.strip() for p in (argument or "").split(",")} - PACKAGES
            if extra:
                self.error(f"package(s) {sorted(extra)} beyond {sorted(PACKAGES)}")

    def environment(self, which: str) -> None:
        name = self.braced()
        if name is None:
            self.error(f"\\{which} without an environment name")
            return
        if which == "begin":
            if name not in ENVIRONMENTS:
                self.error(f"environment {name!r} is not standard")
                return
            outer, inner, columns = ENVIRONMENTS[name]
            if name == "document":
                if self.in_document or len(self.stack) > 1:
                    self.error("\\begin{document} twice or inside a group")
                self.in_document = True
            elif not self.in_document:
                self.error(f"\\begin{{{name}}} before \\begin{{document}}")
            if self.mode != outer:
                self.error(f"\\begin{{{name}}} in {self.mode} mode (it belongs in {outer} mode)")
            if self.mode == "math":
                self.atom()
            self.stack.append(_Frame("env", inner, name=name, line=self.line, columns=columns))
            return
        f = self.frame
        if f.kind != "env" or f.name != name:
            self.error(f"\\end{{{name}}} while {self.describe(f)} is open")
            return
        self.check_closing(f)
        self.stack.pop()
        if name == "document":
            self.ended = True

    def finish(self) -> None:
        if not self.in_document:
            self.error("no \\begin{document}")
        elif not self.ended:
            self.error("no \\end{document}")
        for f in self.stack[1:]:
            self.error(f"unclosed: {self.describe(f)}")


def problems(source: str) -> list[str]:
    """What pdflatex (with amsmath and amssymb) or a careful reader would refuse in ``source``."""
    if not source.lstrip().startswith("\\documentclass"):
        return ["line 1: not a complete document (it must start with \\documentclass)"] + _Reader(source).run()
    return _Reader(source).run()


def check_document(source: str) -> None:
    """Raise LatexError listing every problem of the complete LaTeX document ``source``."""
    found = problems(source)
    if found:
        raise LatexError("\n".join(found[:20]))
