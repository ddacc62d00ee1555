"""LaTeX for papers: SymPy internals printed as mathematics, prose escaped or set as math."""

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.matrices.expressions.diagonal import DiagMatrix

from gradflow.theory.derivation import Draft
from gradflow.theory.latex import document, escape_text, latex, prose
from tests.latex_checker import problems


def test_diag_matrix_prints_as_diag():
    p = sp.MatrixSymbol("p", 3, 1)
    Y = sp.MatrixSymbol("Y", 3, 3)
    assert "DiagMatrix" in sp.latex(DiagMatrix(p) * Y)  # what SymPy alone prints
    assert latex(DiagMatrix(p) * Y) == r"\operatorname{diag}\left(p\right) Y"
    assert latex(sp.Symbol("x") ** 2) == sp.latex(sp.Symbol("x") ** 2)


def test_prose_keeps_math_and_escapes_the_rest():
    assert prose(r"Columns of $\Omega$ are $w_y = W^T u_y$") == r"Columns of $\Omega$ are $w_y = W^T u_y$"
    assert prose("50% & #1") == r"50\% \& \#1"
    assert prose("run `gradflow check`") == r"run \texttt{gradflow check}"
    assert prose("s0 -> 0, eta >= 1, a < b") == r"s0 {$\to$} 0, eta {$\ge$} 1, a {$<$} b"


def test_plain_formulas_become_inline_math():
    assert prose("K = E E^T; W is needed for S_0.") == "K = E $E^{T}$; W is needed for $S_{0}$."
    assert prose("(= A_ID - A_hat, seen)") == "(= $A_{ID}$ - $A_{hat}$, seen)"
    assert prose("D_l = diag sigma_l'(z_l)") == r"$D_{l}$ = diag $\sigma_{l}'(z_{l})$"
    assert prose("component s_{x y} is") == "component $s_{x y}$ is"
    assert prose("the with_zero_neurons variant") == r"the \texttt{with\_zero\_neurons} variant"


def test_a_script_without_its_argument_inside_braces_stays_text():
    # a randomised run drew "{^}": the braces passed as a base and "^" inside them went into math unchecked
    for text in ("{^}", "x_{^}", "{a_}", "{{_b}}"):
        assert "$" not in prose(text) and problems(document(text, prose(text))) == [], text
    assert prose("x_{a^2}") == "$x_{a^{2}}$" and prose("{a}_b") == "${a}_{b}$"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters="$\\"), max_size=60))
def test_any_printable_text_becomes_a_valid_document(text):
    # $...$ holds math the author wrote in LaTeX; every other printable character is the printer's job
    source = document(text, prose(text))
    assert problems(source) == [], (text, source)


def test_escape_text_leaves_no_special_character():
    assert escape_text(r"a_b^c{d}\e~f$") == (r"a\_b\textasciicircum{}c\{d\}\textbackslash{}e"
                                             r"\textasciitilde{}f\$")


def test_a_derivation_is_a_complete_checked_document():
    doc = Draft("Loss of U U^T = I")
    doc.add("Step with x_1", r"x_1 = 1", "Because W_0 = 0 and 5% of $\\eta$", checked_by="series of e^m")
    source = doc.finish().to_latex()
    assert source.startswith("\\documentclass{article}") and source.rstrip().endswith("\\end{document}")
    assert problems(source) == []
    assert r"\emph{Checked by SymPy: series of $e^{m}$.}" in source
