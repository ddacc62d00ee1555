"""Cross-entropy of one input over M classes, written with an index (M stays a symbol).

ell(s) = log sum_{k<M} exp(s_k) - s_c.  Everything here is differentiated by SymPy from that
single line: the logit gradient (softmax minus one-hot) and the flow of the logits on the
symmetric subspace where all wrong logits are equal.
"""

from __future__ import annotations

import sympy as sp

from gradflow.theory.flow import Flow

M = sp.Symbol("M", integer=True, positive=True)
logits = sp.IndexedBase("s", real=True)
k, j = sp.symbols("k j", integer=True, nonnegative=True)


def generic_member(expr, index):
    """Resolve Piecewise((v, index in range), (0, True)) to v: ``index`` is a valid class."""

    def pick(pw):
        branches = [e for e, c in pw.args if c is not sp.true and index in c.free_symbols]
        return branches[0] if len(branches) == 1 else pw

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)


def per_example_loss(label=0):
    """ell = log(sum_k e^{s_k}) - s_label over k = 0..M-1."""
    return sp.log(sp.Sum(sp.exp(logits[k]), (k, 0, M - 1))) - logits[label]


def logit_gradient():
    """d ell / d s_j for a generic class j != label, derived by differentiation.

    Returns (derivative, softmax): the caller can check derivative - softmax == 0.
    """
    ell = per_example_loss(label=0)
    derivative = generic_member(sp.diff(ell, logits[j]).doit(), j)
    derivative = derivative.subs(sp.KroneckerDelta(0, j), 0)  # j is a wrong class here
    softmax = sp.exp(logits[j]) / sp.Sum(sp.exp(logits[k]), (k, 0, M - 1))
    return sp.simplify(derivative), softmax


def label_logit_gradient():
    """d ell / d s_label, derived by differentiation (the label is class 0; classes are exchangeable).

    Returns (derivative, softmax - 1): the caller can check that their difference is 0.
    """
    derivative = sp.diff(per_example_loss(label=0), logits[0]).doit()
    softmax = sp.exp(logits[0]) / sp.Sum(sp.exp(logits[k]), (k, 0, M - 1))
    return sp.simplify(derivative), softmax - 1


def symmetric_logit_flow(p: sp.Symbol, correct: sp.Symbol, wrong: sp.Symbol) -> Flow:
    """Logit flow ds/dt = -p grad ell on the subspace s_label = correct, s_other = wrong.

    The label is put first (classes are exchangeable).  The subspace is invariant: the
    derived right-hand side of every wrong logit is the same function, independent of which
    wrong class it is, which is checked here.
    """
    ell = sp.log(sp.exp(logits[0]) + sp.Sum(sp.exp(logits[k]), (k, 1, M - 1))) - logits[0]

    def on_subspace(expr):
        expr = expr.doit()
        expr = generic_member(expr, j).subs(sp.KroneckerDelta(0, j), 0)  # j is a wrong class
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.args[1] != 0, lambda e: wrong)
        expr = expr.subs(logits[0], correct)
        return sp.simplify(expr.doit())

    d_correct = on_subspace(-p * sp.diff(ell, logits[0]))
    d_wrong = on_subspace(-p * sp.diff(ell, logits[j]))
    if j in d_wrong.free_symbols:
        raise ValueError("symmetric subspace is not invariant: wrong-logit drift depends on the class")
    return Flow((correct, wrong), (d_correct, d_wrong), (p, M), name="symmetric logit flow")
