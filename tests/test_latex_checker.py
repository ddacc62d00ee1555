"""The strict LaTeX checker refuses what pdflatex (or a careful reader) refuses, and accepts good documents."""

import pytest

from tests.latex_checker import LatexError, check_document, problems

GOOD_BODY = r"""\section*{Margins of a memory}
With $W_0 = 0$ and $K = E E^T$ the margin obeys (50\% of the time \& more)
\begin{equation*}\frac{d m}{d t} = \frac{M p}{M + e^{m} - 1},\quad \begin{cases} a & \text{if } j = y, \\ b & \text{if } j \ne y \end{cases}\end{equation*}
\begin{equation*}\begin{aligned} x &= \left(\sum_{k=0}^{M-1} e^{s_k}\right)^{2} \\ y &= \operatorname{diag}\left(p\right)\end{aligned}\end{equation*}
\emph{Checked by SymPy: series of $e^m$ at infinity.}"""


def doc(body: str) -> str:
    return "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n" + body + "\n\\end{document}\n"


def test_a_good_document_passes():
    assert problems(doc(GOOD_BODY)) == []
    check_document(doc(GOOD_BODY))


@pytest.mark.parametrize("body, complaint", [
    (r"K = E E^T and Gamma = U U^T.", "'^' outside math mode"),
    (r"W is needed only for S_0.", "'_' outside math mode"),
    (r"\emph{Checked by SymPy: series of e^m at infinity.}", "'^' outside math mode"),
    (r"\begin{equation*}\operatorname{DiagMatrix}\left(p\right)\end{equation*}", "SymPy class name"),
    (r"\begin{equation*}\mathrm{MatMul}(A, B)\end{equation*}", "SymPy class name"),
    (r"$x = 1", "unclosed"),
    (r"\begin{equation*}x^{2\end{equation*}", "unclosed"),
    (r"\begin{equation*}\begin{aligned}x &= 1\end{equation*}", "while"),
    (r"\begin{equation*}\left( x \end{equation*}", "\\left without \\right"),
    (r"\begin{equation*}x^2^3\end{equation*}", "double superscript"),
    (r"\begin{equation*}x = 1 \\ y\end{equation*}" + "\n\n" + "$a & b$", "'&' outside an alignment"),
    (r"costs 5% more", "unescaped '%'"),
    (r"item #3", "unescaped '#'"),
    (r"\frac{1}{2} in text", "\\frac outside math mode"),
    (r"\begin{equation*}a\end{equation*}\section*{$x$ \mathbb{R}}", "\\mathbb outside math mode"),
    (r"\begin{equation*}\foo{x}\end{equation*}", "not a standard"),
    (r"\begin{tikzpicture}\end{tikzpicture}", "not standard"),
    ("\\begin{equation*}a\n\nb\\end{equation*}", "blank line inside math"),
    (r"$$x$$", "$$ display math"),
    ("\u03c3 = 1", "non-ASCII"),
    (r"a < b in text", "outside math mode"),
    (r"\begin{aligned}x\end{aligned}", "in text mode"),
    (r"{unbalanced", "unclosed"),
    (r"closes}", "closes nothing"),
    (r"\begin{equation*}\frac{1}\end{equation*}", "without its argument"),
    (r"\begin{equation*}x = \sqrt\end{equation*}", "without its argument"),
    (r"\begin{equation*}\hat^2\end{equation*}", "without its argument"),
])
def test_known_bad_inputs_are_refused(body, complaint):
    found = problems(doc(body))
    assert any(complaint in p for p in found), found
    with pytest.raises(LatexError):
        check_document(doc(body))


def test_a_fragment_is_not_a_document():
    assert any("complete document" in p for p in problems(r"\kappa = 1"))
    assert any("no \\begin{document}" in p for p in problems("% a comment\n"))


def test_the_preamble_allows_only_amsmath_and_amssymb():
    source = doc("x").replace(r"\usepackage{amsmath,amssymb}", r"\usepackage{amsmath,tikz}")
    assert any("tikz" in p for p in problems(source))
    assert any("after \\end{document}" in p for p in problems(doc("x") + "trailing"))
