"""LaTeX for papers: formulas without SymPy internals, and prose that compiles.

``latex(expr)`` is SymPy's printer with the matrix nodes SymPy prints by class name
(``\\operatorname{DiagMatrix}``) printed as mathematics (``\\operatorname{diag}``).

``prose(text)`` turns the short texts of a derivation (titles, explanations, "checked by" notes)
into LaTeX text: inline math is written ``$...$`` and kept as it is; everything outside it is
escaped, so a stray ``&``, ``%`` or ``#`` prints as itself instead of breaking the document; a
plain formula such as ``W_0`` or ``E^T`` becomes inline math, a snake_case name and `code` become
``\\texttt``.  The same texts read well in Markdown, where ``$...$`` is math too.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter

_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\textasciicircum{}",
            "&": r"\&", "%": r"\%", "#": r"\#", "~": r"\textasciitilde{}", "$": r"\$",
            "<": r"{$<$}", ">": r"{$>$}", "|": r"{$|$}",  # the default font prints < > | in text as other glyphs
            "\u2013": "--", "\u2014": "---", "\u2019": "'", "\u00d7": r"{$\times$}", "\u2264": r"{$\le$}",
            "\u2265": r"{$\ge$}", "\u2248": r"{$\approx$}", "\u2192": r"{$\to$}"}
_RELATIONS = {"->": r"{$\to$}", "<=": r"{$\le$}", ">=": r"{$\ge$}", "!=": r"{$\ne$}"}
_ESCAPED = re.compile("|".join(re.escape(c) for c in (*_RELATIONS, *_ESCAPES)))
# $...$ with no unescaped $ inside, or `code`
_MATH_OR_CODE = re.compile(r"(?<!\\)\$(?P<math>(?:[^$\\]|\\.)+)\$|`(?P<code>[^`]+)`")
_GREEK = re.compile(r"(?<![A-Za-z\\])(alpha|beta|gamma|Gamma|delta|Delta|epsilon|zeta|eta|theta|Theta|kappa|lambda|"
                    r"Lambda|mu|nu|xi|Xi|pi|Pi|rho|sigma|Sigma|tau|phi|Phi|chi|psi|Psi|omega|Omega|ell)(?![A-Za-z])")
_PLAIN_SCRIPT = re.compile(r"([_^])([A-Za-z0-9*]+)")


class PaperLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with matrix internals printed as the operators a paper writes."""

    def _print_DiagMatrix(self, expr):  # the diagonal matrix with the entries of a vector
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"


def latex(expr, **settings) -> str:
    """LaTeX of a SymPy expression (or anything ``sympy.latex`` takes), without SymPy class names."""
    return PaperLatexPrinter(settings).doprint(sp.sympify(expr) if isinstance(expr, (int, float)) else expr)


def escape_text(text: str) -> str:
    """``text`` as LaTeX text mode: every special character printed as itself."""
    return _ESCAPED.sub(lambda m: _RELATIONS.get(m.group(0)) or _ESCAPES[m.group(0)], text)


def _plain_formula(token: str) -> str | None:
    """A plain-text formula such as ``W_0``, ``E^T``, ``A_ID`` or ``sigma_l'(z_l)`` as inline math
    (multi-letter scripts braced, Greek names as letters); None when ``token`` is no such formula."""
    if not re.search(r"[_^]", token) or re.search(r"[\\$%#&~`\"]", token):
        return None
    braced = _PLAIN_SCRIPT.sub(r"\1{\2}", token)
    if not _well_formed(braced):
        return None
    return "$" + _GREEK.sub(r"\\\1", braced) + "$"


def _identifier(token: str) -> str | None:
    """A snake_case name from the code (``with_zero_neurons``, ``sum_below``) in typewriter, else None."""
    if re.fullmatch(r"[A-Za-z0-9]*[A-Za-z]{2,}_[A-Za-z]{2,}[A-Za-z0-9_]*", token):
        return rf"\texttt{{{escape_text(token)}}}"
    return None


def _group_end(token: str, i: int) -> int:
    """The index after the group that opens at ``token[i] == "{"``, or -1 when it does not close."""
    depth = 0
    for j in range(i, len(token)):
        depth += {"{": 1, "}": -1}.get(token[j], 0)
        if depth == 0:
            return j + 1
    return -1


def _checked_group_end(token: str, i: int) -> int:
    """``_group_end``, or -1 also when what the group holds is not well formed (``{^}``, ``x_{^}``)."""
    end = _group_end(token, i)
    return end if end >= 0 and _well_formed(token[i + 1:end - 1]) else -1


def _well_formed(token: str) -> bool:
    """Whether every script in ``token``, inside groups too, has a base and an argument, at most one of each
    kind per base."""
    i = 0
    while i < len(token):
        if token[i] in "_^}":
            return False
        i = _checked_group_end(token, i) if token[i] == "{" else i + 1
        if i < 0:
            return False
        used = set()
        while i < len(token) and token[i] in "_^'":
            if token[i] == "'":  # a prime is a superscript: allowed before ^, not after it
                if "^" in used:
                    return False
                i += 1
                continue
            if token[i] in used or i + 1 >= len(token) or token[i + 1] in "_^}'":
                return False
            used.add(token[i])
            i = _checked_group_end(token, i + 1) if token[i + 1] == "{" else i + 2
            if i < 0:
                return False
    return True


def _balanced_core(token: str) -> tuple[str, str, str]:
    """``token`` split into opening brackets, core, closing punctuation (only what does not pair inside)."""
    start, end = 0, len(token)
    while start < end and token[start] in "([" and token.count(")", start) + token.count("]", start) < \
            token.count("(", start) + token.count("[", start):
        start += 1
    while end > start and token[end - 1] in ".,;:)]" and (token[end - 1] in ".,;:" or token.count(
            "(", start, end) + token.count("[", start, end) < token.count(")", start, end) + token.count("]", start, end)):
        end -= 1
    return token[:start], token[start:end], token[end:]


def _pieces(text: str) -> list[str]:
    """``text`` split at whitespace outside braces (``s_{x y}`` stays one piece); the spaces are pieces too."""
    pieces, current, depth, spaces = [], "", 0, False
    for ch in text:
        depth = max(0, depth + {"{": 1, "}": -1}.get(ch, 0))
        separator = ch.isspace() and depth == 0
        if current and separator != spaces:
            pieces.append(current)
            current = ""
        current, spaces = current + ch, separator
    return pieces + [current] if current else pieces


def _plain_text(text: str) -> str:
    """Text outside ``$...$``: plain formulas become inline math, everything else is escaped."""
    out = []
    for piece in _pieces(text):
        before, core, after = _balanced_core(piece)
        formula = (_identifier(core) or _plain_formula(core)) if core else None
        out.append(escape_text(before) + formula + escape_text(after) if formula else escape_text(piece))
    return "".join(out)


def prose(text: str) -> str:
    """LaTeX of a short text: inline math written ``$...$`` is kept, code written ```...``` is typewriter,
    a plain formula like ``E^T`` or ``W_0`` becomes inline math, and everything else is escaped."""
    out, last = [], 0
    for m in _MATH_OR_CODE.finditer(text):
        out.append(_plain_text(text[last:m.start()]))
        if m.group("math") is not None:
            out.append(f"${m.group('math')}$")
        else:
            out.append(rf"\texttt{{{escape_text(m.group('code'))}}}")
        last = m.end()
    out.append(_plain_text(text[last:]))
    return "".join(out).replace("$$", "${}$")  # two formulas side by side, not display math


def document(title: str, body: str) -> str:
    """A complete article (amsmath and amssymb only) with the section ``title`` (prose) and the LaTeX ``body``."""
    return "\n".join([r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\begin{document}",
                      rf"\section*{{{prose(title)}}}", body.strip(), r"\end{document}"]) + "\n"
