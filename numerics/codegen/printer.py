"""Printers from SymPy expressions to Numba-compilable Python source.

Two printers: ``lane_code`` for scalar lane expressions (math module, stable rewrites) and
``matrix_code`` for matrix expressions (NumPy ``@`` products, which Numba sends to BLAS).
``lane_block`` prints all outputs of one lane step at once: each e^{a x + b |x|} of a state x
becomes a power of one shared e^{-|x|} (one exp per state), and common subexpressions across
the outputs are printed once (``sympy.cse``).  ``condition_code`` prints relations (first-hit
conditions of the lane kernels).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p
from sympy.codegen.rewriting import expm1_opt, optimize
from sympy.printing.pycode import PythonCodePrinter

from gradflow.theory.errors import ParameterError
from gradflow.theory.matrix_functions import RowLogSumExp, RowSoftmax

PRINTER_VERSION = "3"


class _LanePrinter(PythonCodePrinter):
    def __init__(self, names: dict, functions: dict | None = None):
        super().__init__({"fully_qualified_modules": True, "standard": "python3", "user_functions": functions or {}})
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


def _rewrites(expr):
    """log(1 + a + b) -> log1p(a + b) and e^x - 1 -> expm1(x) on a whole expression."""
    # log1p_opt is not used: it turns log(1 + e^{-x}) into -x + log1p(e^x), which overflows
    return optimize(_log1p_of_sums(sp.sympify(expr)), [expm1_opt])


def lane_code(expr, names: dict, functions: dict | None = None) -> str:
    """Python source for a scalar expression, symbols renamed by ``names``; ``functions`` replaces the
    printed name of SymPy functions (e.g. {"exp": "_exp"}: a vectorisable one instead of math.exp)."""
    return _LanePrinter(names, functions).doprint(_rewrites(expr))


_RELATIONS = {"==", "!=", "<", "<=", ">", ">="}


def condition_code(expr, names: dict, functions: dict | None = None) -> str:
    """Python source of a SymPy boolean (relations joined by And/Or/Not); each side printed by lane_code."""
    expr = sp.sympify(expr)
    if expr is sp.true or expr is sp.false:
        return str(bool(expr))
    if isinstance(expr, sp.And):
        return "(" + " and ".join(condition_code(a, names, functions) for a in expr.args) + ")"
    if isinstance(expr, sp.Or):
        return "(" + " or ".join(condition_code(a, names, functions) for a in expr.args) + ")"
    if isinstance(expr, sp.Not):
        return f"(not {condition_code(expr.args[0], names, functions)})"
    if isinstance(expr, sp.core.relational.Relational) and expr.rel_op in _RELATIONS:
        return f"({lane_code(expr.lhs, names, functions)} {expr.rel_op} {lane_code(expr.rhs, names, functions)})"
    raise ParameterError("conditions", "relations (==, !=, <, <=, >, >=) joined by And/Or/Not", str(expr))


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


# --- one lane step: shared exponentials and common subexpressions --------------------------


def _power(k) -> int | None:
    """k as a non-negative int when it is one (e.g. 1, 2.0), else None."""
    k = sp.nsimplify(k) if isinstance(k, sp.Float) else sp.sympify(k)
    return int(k) if k.is_Integer and k >= 0 else None


class _SharedExp:
    """e^{sum_x (a_x x + b_x |x|)} over states x (numeric a, b) -> a product of powers of e_x = e^{-|x|}.

    For x > 0 the exponent of x's factor is (a + b) x = -(a + b) |x|, for x <= 0 it is (a - b) x =
    (b - a) |x|: the factor is e_x^{-(a + b)} or e_x^{a - b}.  Only exponentials whose two powers are
    non-negative integers are rewritten (then no factor exceeds 1 and none overflows); e^{-|x|} itself
    becomes e_x, e^{-(x + |x|)/2} (the numerator of a stabilised sigmoid) the selection
    (e_x if x > 0 else 1).  The rewrites are identities; the sigmoid's numerator is even the same double
    at every finite x (its exponent -(x + |x|)/2 is exactly -|x| or 0, halves of equal numbers)."""

    def __init__(self, states, names: dict):
        self.states = tuple(states)
        self.names = names
        self.exps = {}  # state -> Dummy for e^{-|x|}
        self.selects = {}  # (state, k_pos, k_neg) -> Dummy for e_x^k_pos if x > 0 else e_x^k_neg

    def _parts(self, arg):
        parts = {}
        for term in sp.Add.make_args(sp.expand(arg)):
            c, rest = term.as_coeff_Mul()
            if isinstance(rest, sp.Abs) and rest.args[0] in self.states:
                parts.setdefault(rest.args[0], [0, 0])[1] += c
            elif rest in self.states:
                parts.setdefault(rest, [0, 0])[0] += c
            else:
                return None
        return parts

    def _factor(self, e):
        parts = self._parts(e.args[0])
        if not parts:
            return e
        powers = []
        for x, (a, b) in parts.items():
            k_pos, k_neg = _power(-(a + b)), _power(a - b)
            if k_pos is None or k_neg is None:
                return e
            powers.append((x, k_pos, k_neg))
        out = sp.S.One
        for x, k_pos, k_neg in powers:
            u = self.exps.setdefault(x, sp.Dummy(f"e_{x}"))
            if k_pos == k_neg:
                out *= u ** k_pos
            else:
                out *= self.selects.setdefault((x, k_pos, k_neg), sp.Dummy(f"s_{x}"))
        return out

    def __call__(self, expr):
        return expr.replace(lambda e: isinstance(e, sp.exp), self._factor)

    def local_names(self) -> dict:
        index = {x: i for i, x in enumerate(self.states)}
        names = {u: f"_e{index[x]}" for x, u in self.exps.items()}
        names.update({s: f"_e{index[x]}_{kp}_{kn}" for (x, kp, kn), s in self.selects.items()})
        return names

    def definitions(self, used: set, indent: str, exp: str = "math.exp") -> str:
        """Assignments of the shared exponentials (by the function ``exp``) and selections among ``used``."""
        local = self.local_names()
        lines = ""
        for x in self.states:
            u = self.exps.get(x)
            if u is None or not (u in used or any(k[0] == x and s in used for k, s in self.selects.items())):
                continue
            lines += f"{indent}{local[u]} = {exp}(-abs({self.names[x]}))\n"
            for (y, kp, kn), s in sorted(self.selects.items(), key=lambda item: item[0][1:]):
                if y == x and s in used:
                    pos, neg = (_power_code(local[u], k) for k in (kp, kn))
                    lines += f"{indent}{local[s]} = {pos} if {self.names[x]} > 0.0 else {neg}\n"
        return lines


def _power_code(name: str, k: int) -> str:
    return "1.0" if k == 0 else name if k == 1 else f"{name}**{k}"


def _has_exp_of_states(expr, states) -> bool:
    return any(e.free_symbols & set(states) for e in expr.atoms(sp.exp))


def _cse_lines(exprs, targets, names: dict, indent: str, temps) -> str:
    """targets[i] = exprs[i] with the subexpressions they share printed once, as temps."""
    replacements, reduced = sp.cse([_rewrites(e) for e in exprs], symbols=temps)
    printer = _LanePrinter(names)
    lines = "".join(f"{indent}{printer.doprint(t)} = {printer.doprint(v)}\n" for t, v in replacements)
    for target, expr in zip(targets, reduced):
        code = repr(float(expr)) if expr.is_Number else printer.doprint(expr)
        lines += f"{indent}{target} = {code}\n"
    return lines


def lane_block(exprs, states, names: dict, indent: str, targets, exp: str = "math.exp") -> str:
    """Source lines that assign ``targets[i] = exprs[i]`` for one lane (one step of a lane kernel).

    Exponentials of a state x through x and |x| share one e^{-|x|} (``_SharedExp``).  Outputs whose
    remaining exponentials all involve a single state x are printed in the branches of
    ``stable_forms`` (``if x > 0.0: _u = exp(-x) ... else: _u = exp(x) ...``), sharing one branch per
    state; the others are printed as they are.  In every group common subexpressions are printed
    once (``sympy.cse``).  ``exp`` names the function that computes the shared e^{-|x|} (the CPU
    kernels pass their vectorisable ``_exp``; ``math.exp`` elsewhere); with any other than ``math.exp``
    a stable branch's e^{-|x|} is also computed once before it (``_u = exp(-abs(x)); if x > 0.0: ...``)."""
    shared = _SharedExp(states, names)
    rewritten = []
    for expr in map(sp.sympify, exprs):
        # where exponentials of a state remain, the stable forms work on them as before (decided before
        # expm1/log1p hide exponentials: e^x - 1 must not become expm1(x); e^{-|x|} - 1 becomes expm1(-|x|))
        trial = shared(expr)
        rewritten.append(shared(_rewrites(expr)) if not _has_exp_of_states(trial, states) else trial)
    local = dict(names)
    local.update(shared.local_names())
    temps = sp.numbered_symbols("_t")
    groups = {}  # pivot state (or None) -> [(target, expr)]
    for target, expr in zip(targets, rewritten):
        used = [x for x in states if any(x in e.free_symbols for e in expr.atoms(sp.exp))]
        groups.setdefault(used[0] if len(used) == 1 else None, []).append((target, expr))
    body = ""
    if None in groups:
        body += _cse_lines([e for _, e in groups[None]], [t for t, _ in groups[None]], local, indent, temps)
    for x in states:
        if x not in groups:
            continue
        aux = sp.Dummy("u", positive=True)
        forms = []
        for _, expr in groups[x]:
            positive, negative, own = stable_forms(expr, x)
            forms.append((positive.xreplace({own: aux}), negative.xreplace({own: aux})))
        branch = dict(local)
        branch[aux] = "_u"
        xs, inner = names[x], indent + "    "
        group_targets = [t for t, _ in groups[x]]
        positive = _cse_lines([f[0] for f in forms], group_targets, branch, inner, temps)
        negative = _cse_lines([f[1] for f in forms], group_targets, branch, inner, temps)
        if exp == "math.exp":
            body += (f"{indent}if {xs} > 0.0:\n{inner}_u = math.exp(-{xs})\n{positive}"
                     f"{indent}else:\n{inner}_u = math.exp({xs})\n{negative}")
        else:  # both branches take e^{-|x|}: computed once before them, the branch is a select LLVM vectorises
            body += f"{indent}_u = {exp}(-abs({xs}))\n{indent}if {xs} > 0.0:\n{positive}{indent}else:\n{negative}"
    used = set().union(*(e.free_symbols for e in rewritten)) if rewritten else set()
    return shared.definitions(used, indent, exp) + body


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
            fused = (self._fused_cross_entropy_gradient(f, factors[i + 1:])
                     or self._fused_cross_entropy_loss(f, factors[i + 1:]))
            if fused is not None:
                out.append(fused)
                break
            if isinstance(f, sp.DiagMatrix) and i + 1 < len(factors):
                # diag(p) X == p * X for a column p: no N x N matrix is formed
                out.append(f"({self._as_column(f.args[0])} * {self._product(factors[i + 1:])})")
                break
            if isinstance(f, sp.OneMatrix) and f.shape[1] == 1 and out:
                out[-1] = f"_row_sums({out[-1]})"
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
        parts = self._cross_entropy_gradient_parts(first, rest)
        return None if parts is None else f"_weighted_softmax_minus({', '.join(parts)})"

    def _cross_entropy_gradient_parts(self, first, rest):
        """(A, B, w) printed, when the product first rest[0] ... is diag(w) (RowSoftmax(A) - B); else None."""
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
        return self(softmax[0].args[0]), self(matrices[0]), self(first.args[0])

    def _fused_cross_entropy_loss(self, first, rest):
        """w^T (RowLogSumExp(A) - (B o A) 1) -> one fused pass (no temporaries; Numba also compiles it once,
        in support.py, instead of the array expressions for every model), for a column w."""
        if not (isinstance(first, sp.Transpose) and first.arg.shape[1] == 1 and len(rest) == 1
                and isinstance(rest[0], sp.MatAdd) and len(rest[0].args) == 2):
            return None
        lse = [a for a in rest[0].args if isinstance(a, RowLogSumExp)]
        other = [a for a in rest[0].args if not isinstance(a, RowLogSumExp)]
        if len(lse) != 1 or len(other) != 1 or not isinstance(other[0], sp.MatMul):
            return None
        coefficient, matrices = other[0].as_coeff_matrices()
        if (coefficient != -1 or len(matrices) != 2 or not isinstance(matrices[0], sp.HadamardProduct)
                or not isinstance(matrices[1], sp.OneMatrix)):
            return None
        logits, factors = lse[0].args[0], list(matrices[0].args)
        if len(factors) != 2 or logits not in factors:
            return None
        factors.remove(logits)
        return f"_weighted_cross_entropy({self(logits)}, {self(factors[0])}, {self(first.arg)})"

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


def cross_entropy_gradient_rows_code(expr, names: dict, out: str, first: str, last: str) -> str | None:
    """For ``expr`` = diag(w) (RowSoftmax(A) - B) (the softmax cross-entropy gradient): the statement that
    writes its rows first:last into ``out`` (a row depends on that row of A and B only, so threads can each
    fill theirs); None for any other expression."""
    if not isinstance(expr, sp.MatMul):
        return None
    coefficient, factors = expr.as_coeff_matrices()
    if coefficient != 1:
        return None
    parts = _MatrixPrinter(names)._cross_entropy_gradient_parts(factors[0], factors[1:])
    return None if parts is None else f"_weighted_softmax_minus_rows({', '.join(parts)}, {out}, {first}, {last})"
