"""Row-wise matrix functions that SymPy's matrix algebra treats as opaque, shape-aware nodes.

They keep matrix-shaped models symbolic in their sizes (an N x M logit matrix stays one
symbol) while the numeric printer knows how to evaluate each of them stably.
"""

from __future__ import annotations

import sympy as sp


class _RowFunction(sp.MatrixExpr):
    latex_name = ""

    def __new__(cls, *args):
        args = tuple(sp.sympify(a) for a in args)
        shape = args[0].shape
        for a in args[1:]:
            if a.shape != shape:
                raise ValueError(f"{cls.__name__}: shapes {shape} and {a.shape} differ")
        return sp.Basic.__new__(cls, *args)

    @property
    def shape(self):
        return self.args[0].shape

    def _latex(self, printer):
        inner = ", ".join(printer._print(a) for a in self.args)
        return rf"\operatorname{{{self.latex_name}}}\left({inner}\right)"

    def _eval_transpose(self):
        return None


class RowSoftmax(_RowFunction):
    """Pi(S): softmax of every row of S."""

    latex_name = "softmax"


class RowSoftmaxJVP(_RowFunction):
    """Directional derivative of RowSoftmax at S along dS: rows pi * (ds - <pi, ds>)."""

    latex_name = "d\\,softmax"


class RowLogSumExp(sp.MatrixExpr):
    """Column vector of logsumexp over each row of S (N x 1)."""

    def __new__(cls, arg):
        return sp.Basic.__new__(cls, sp.sympify(arg))

    @property
    def shape(self):
        return (self.args[0].shape[0], sp.Integer(1))

    def _latex(self, printer):
        return rf"\operatorname{{logsumexp}}_{{\mathrm{{row}}}}\left({printer._print(self.args[0])}\right)"
