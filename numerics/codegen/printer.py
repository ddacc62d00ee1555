"""Printers from SymPy expressions to Numba-compilable Python source.

Two printers: ``lane_code`` for scalar lane expressions (math module, stable rewrites) and
``matrix_code`` for matrix expressions (NumPy ``@`` products, which Numba sends to BLAS).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p
from sympy.codegen.rewriting import expm1_opt, optimize
from sympy.printing.pycode import PythonCodePrinter

from theory.matrix_functions import RowSoftmax

PRINTER_VERSION = "2"


class _LanePrinter(PythonCodePrinter):
    def __init__(self, names: dict):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self._names = names

    def _print_Symbol(self, expr):
        return self._names.get(expr, super()._print_Symbol(expr))

    def _print_Dummy(self, expr):
        return self._names.get(expr, super()._print_Dummy(expr))


def _log1p_of_sums(expr):
    """log(1 + a + b) -> log1p(a + b): SymPy's log1p_opt only matches a single term beside 1."""

    def rewrite(e):
        arg = e.args[0]
        return log1p(arg - 1) if isinstance(arg, sp.Add) and sp.S.One in arg.args else e

    return expr.replace(lambda e: isinstance(e, sp.log), rewrite)


def lane_code(expr, names: dict) -> str:
    """Python source for a scalar expression, symbols renamed by ``names``."""
    # log1p_opt is not used: it turns log(1 + e^{-x}) into -x + log1p(e^x), which overflows
    expr = optimize(_log1p_of_sums(sp.sympify(expr)), [expm1_opt])
    return _LanePrinter(names).doprint(expr)


def stable_forms(expr, x: sp.Symbol):
    """Equal rewrites of ``expr`` for x > 0 and x <= 0 that never exponentiate a large x.

    For x > 0 every e^{k x} becomes u^{-k} with u = e^{-x} in (0, 1); logs of the resulting
    rational functions are split so that log u turns back into -x.  Symmetric for x <= 0.
    Returns (positive_form, negative_form, aux) where aux is the Dummy standing for e^{-|x|};
    both forms are checked equal to ``expr`` at random points by the tests.
    """
    expr = sp.sympify(expr)
    if not any(x in e.free_symbols for e in expr.atoms(sp.exp)):
        return expr, expr, None
    aux = sp.Dummy("u", positive=True)
    # Terms free of e^x (like the x in x + eta g(x)) are kept apart so they stay exact.
    plain = sp.Add(*[q for q in sp.Add.make_args(expr) if not _has_exp_of(q, x)])
    expr = expr - plain

    def rewrite(sign):
        # sign = +1: u = e^{-x}; sign = -1: u = e^{x}
        def to_aux(e):
            # e^{k x + r} = e^r u^{-k} for a numeric k (the sign of a symbolic k is unknown)
            arg = sp.expand(e.args[0])
            k = arg.coeff(x)
            rest = arg - k * x
            if not k.is_number or x in rest.free_symbols:
                return e
            return sp.exp(rest) * aux ** (-sign * k)

        body = expr.replace(lambda e: isinstance(e, sp.exp) and x in e.free_symbols, to_aux)

        def split_log(e):
            numer, denom = sp.fraction(sp.together(e.args[0]))
            parts = [sp.log(f) for f in sp.Mul.make_args(numer)] + [-sp.log(f) for f in sp.Mul.make_args(denom)]
            return sp.Add(*[sp.expand_log(q, force=True) for q in parts])

        body = body.replace(lambda e: isinstance(e, sp.log), split_log)
        body = body.subs(sp.log(aux), -sign * x)
        body = sp.expand(body)
        # gather the rational-in-u part so that no 1/u survives
        terms = sp.Add.make_args(body)
        rational = sp.Add(*[q for q in terms if not q.has(sp.log)])
        logs = sp.Add(*[q for q in terms if q.has(sp.log)])
        return plain + sp.cancel(sp.together(rational)) + logs

    return rewrite(+1), rewrite(-1), aux


def _has_exp_of(expr, x):
    return any(x in e.free_symbols for e in expr.atoms(sp.exp))


def stable_lane_code(expr, x: sp.Symbol, names: dict, indent: str, target: str) -> str:
    """Source lines that assign ``target`` = expr, branching on the sign of x when needed."""
    positive, negative, aux = stable_forms(expr, x)
    if aux is None:
        return f"{indent}{target} = {lane_code(expr, names)}\n"
    local = dict(names)
    local[aux] = "_u"
    xs = names[x]
    return (
        f"{indent}if {xs} > 0.0:\n"
        f"{indent}    _u = math.exp(-{xs})\n"
        f"{indent}    {target} = {lane_code(positive, local)}\n"
        f"{indent}else:\n"
        f"{indent}    _u = math.exp({xs})\n"
        f"{indent}    {target} = {lane_code(negative, local)}\n"
    )


class _MatrixPrinter:
    """MatrixExpr -> NumPy source.  Column vectors of weights act as diagonal matrices."""

    def __init__(self, names: dict):
        self.names = names

    def __call__(self, expr) -> str:
        method = getattr(self, "_" + type(expr).__name__, None)
        if method is None:
            raise NotImplementedError(f"matrix printer cannot print {type(expr).__name__}: {expr}")
        return method(expr)

    def _MatrixSymbol(self, e):
        return self.names[e]

    def _Transpose(self, e):
        return f"{self(e.arg)}.T"

    def _MatAdd(self, e):
        return "(" + " + ".join(self(a) for a in e.args) + ")"

    def _MatMul(self, e):
        coefficient, factors = e.as_coeff_matrices()
        out = []
        i = 0
        while i < len(factors):
            f = factors[i]
            fused = self._fused_cross_entropy_gradient(f, factors[i + 1:])
            if fused is not None:
                out.append(fused)
                break
            if isinstance(f, sp.DiagMatrix) and i + 1 < len(factors):
                # diag(p) X == p * X for a column p: no N x N matrix is formed
                out.append(f"({self._as_column(f.args[0])} * {self._product(factors[i + 1:])})")
                break
            if isinstance(f, sp.OneMatrix) and f.shape[1] == 1 and out:
                out[-1] = f"{out[-1]}.sum(axis=1).reshape(-1, 1)"
                i += 1
                continue
            out.append(self(f))
            i += 1
        body = out[0] if len(out) == 1 else "(" + " @ ".join(out) + ")"
        if coefficient == 1:
            return body
        if coefficient == -1:
            return f"(-{body})"
        return f"({sp.pycode(coefficient)} * {body})"

    def _fused_cross_entropy_gradient(self, first, rest):
        """diag(w) (RowSoftmax(A) - B) -> one fused pass (no temporaries), for a column w."""
        if not (isinstance(first, sp.DiagMatrix) and len(rest) == 1 and isinstance(rest[0], sp.MatAdd)
                and first.args[0].shape[1] == 1 and len(rest[0].args) == 2):
            return None
        softmax = [a for a in rest[0].args if isinstance(a, RowSoftmax)]
        other = [a for a in rest[0].args if not isinstance(a, RowSoftmax)]
        if len(softmax) != 1 or len(other) != 1:
            return None
        coefficient, matrices = other[0].as_coeff_matrices() if isinstance(other[0], sp.MatMul) else (1, [other[0]])
        if coefficient != -1 or len(matrices) != 1:
            return None
        return (f"_weighted_softmax_minus({self(softmax[0].args[0])}, {self(matrices[0])}, "
                f"{self(first.args[0])})")

    def _product(self, factors):
        if len(factors) == 1:
            return self(factors[0])
        return self(sp.MatMul(*factors))

    def _HadamardProduct(self, e):
        return "(" + " * ".join(self(a) for a in e.args) + ")"

    def _RowSoftmax(self, e):
        return f"_row_softmax({self(e.args[0])})"

    def _RowSoftmaxJVP(self, e):
        return f"_row_softmax_jvp({self(e.args[0])}, {self(e.args[1])})"

    def _RowLogSumExp(self, e):
        return f"_row_logsumexp({self(e.args[0])})"

    def _as_column(self, vector) -> str:
        return self(vector) if vector.shape[1] == 1 else f"{self(vector)}.T"

    def _DiagMatrix(self, e):
        return f"np.diag(np.ravel({self(e.args[0])}))"


def matrix_code(expr, names: dict) -> str:
    """NumPy source for a matrix expression, MatrixSymbols renamed by ``names``."""
    return _MatrixPrinter(names)(expr)

