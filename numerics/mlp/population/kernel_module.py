"""Numba code generated from a derived ``Kernel``: loops over arrays of pairs evaluating kappa, its
gradient and Hessian in (a, b, c, p, q), and the same for the diagonal (self kernel) and the mean,
both in (a, p).  Bias-free kernels get zero derivatives in p and q, so callers see one layout.
A kernel with a ``composite`` form (ReLU with biases: sqrt(ab) g(h, k, rho)) is printed as y, then g and
its proven derivatives, then the chain rule: differentiating the composed Phi2 form directly gives
pages of code that take minutes to generate.  Subexpressions shared by the outputs are printed once."""

from __future__ import annotations

import sympy as sp

from gradflow.numerics.codegen.cache import cached_module, canonical_srepr
from gradflow.numerics.codegen.printer import lane_code
from gradflow.theory.gaussian.kernels import Kernel, a, b, c, p, q
from gradflow.theory.gaussian.phi2 import Phi2

PAIR_VARIABLES = (a, b, c, p, q)
SINGLE_VARIABLES = (a, p)
_NAMES = {a: "a", b: "b", c: "c", p: "p", q: "q"}
DEFINES = ("pair_derivatives", "self_derivatives", "mean_derivatives")


def _cse_lines(exprs, targets, names: dict, indent: str, temps) -> str:
    """targets[i] = exprs[i], the subexpressions they share printed once as temps."""
    replacements, reduced = sp.cse(list(exprs), symbols=temps)
    names = dict(names)
    names.update({t: str(t) for t, _ in replacements})
    lines = "".join(f"{indent}{t} = {lane_code(v, names)}\n" for t, v in replacements)
    for target, expr in zip(targets, reduced):
        code = repr(float(expr)) if expr.is_Number else lane_code(expr, names)
        lines += f"{indent}{target} = {code}\n"
    return lines


def _derivatives(expr, variables):
    # simplify cancels ReLU's removable singularities at c^2 = ab; Phi2 forms are printed as they come
    tidy = sp.simplify if not expr.has(Phi2) else (lambda e: e)
    gradient = [tidy(sp.diff(expr, v)) for v in variables]
    hessian = [[tidy(sp.diff(g, w)) for w in variables] for g in gradient]
    return gradient, hessian


def _function(name: str, expr, variables) -> str:
    gradient, hessian = _derivatives(expr, variables)
    args = ", ".join(_NAMES[v].upper() for v in variables)
    lines = ["@numba.njit(cache=True)", f"def {name}({args}, value, gradient, hessian):",
             "    for n in range(value.shape[0]):"]
    lines += [f"        {_NAMES[v]} = {_NAMES[v].upper()}[n]" for v in variables]
    # the upper triangle of the Hessian, mirrored; subexpressions shared by all outputs printed once
    upper = [(i, j) for i in range(len(variables)) for j in range(i, len(variables))]
    exprs = [expr, *gradient, *(hessian[i][j] for i, j in upper)]
    targets = ["value[n]", *(f"gradient[n, {i}]" for i in range(len(variables))),
               *(f"hessian[n, {i}, {j}]" for i, j in upper)]
    body = _cse_lines(exprs, targets, _NAMES, " " * 8, sp.numbered_symbols("_t"))
    mirrored = [f"        hessian[n, {j}, {i}] = hessian[n, {i}, {j}]" for i, j in upper if i != j]
    return "\n".join(lines) + "\n" + body + "\n".join(mirrored) + "\n"


def _composite_function(name: str, composite, variables) -> str:
    """pair_derivatives of kappa = prefactor g(y(x)): y, then g and its derivatives, then the chain rule."""
    n = len(composite.inner)
    G = sp.Symbol("_G")
    G1 = [sp.Symbol(f"_G{r}") for r in range(n)]
    G2 = [[sp.Symbol(f"_G{min(r, s)}{max(r, s)}") for s in range(n)] for r in range(n)]
    value, gradient, hessian = composite.chain_rule(variables, (G, G1, G2))
    names = dict(_NAMES)
    names.update({symbol: f"_y{r}" for r, (symbol, _) in enumerate(composite.inner)})
    names.update({x: str(x) for x in [G, *G1, *(G2[r][s] for r in range(n) for s in range(r, n))]})
    args = ", ".join(_NAMES[v].upper() for v in variables)
    lines = ["@numba.njit(cache=True)", f"def {name}({args}, value, gradient, hessian):",
             "    for n in range(value.shape[0]):"]
    lines += [f"        {_NAMES[v]} = {_NAMES[v].upper()}[n]" for v in variables]
    temps = sp.numbered_symbols("_t")
    body = _cse_lines([e for _, e in composite.inner], [f"_y{r}" for r in range(n)], names, " " * 8, temps)
    upper3 = [(r, s) for r in range(n) for s in range(r, n)]
    body += _cse_lines([composite.value, *composite.gradient, *(composite.hessian[r][s] for r, s in upper3)],
                       ["_G", *(f"_G{r}" for r in range(n)), *(f"_G{r}{s}" for r, s in upper3)], names, " " * 8, temps)
    upper = [(i, j) for i in range(len(variables)) for j in range(i, len(variables))]
    body += _cse_lines([value, *gradient, *(hessian[i][j] for i, j in upper)],
                       ["value[n]", *(f"gradient[n, {i}]" for i in range(len(variables))),
                        *(f"hessian[n, {i}, {j}]" for i, j in upper)], names, " " * 8, temps)
    mirrored = [f"        hessian[n, {j}, {i}] = hessian[n, {i}, {j}]" for i, j in upper if i != j]
    return "\n".join(lines) + "\n" + body + "\n".join(mirrored) + "\n"


def kernel_module(kernel: Kernel):
    """The generated module of ``kernel`` (content-addressed cache)."""
    self_expr, mean_expr = kernel.self_kernel, kernel.mean

    def render() -> str:
        header = ("import math\nimport numba\n"
                  "from gradflow.numerics.mlp.population.owen import phi2 as Phi2\n\n\n")
        return header + "\n\n".join([
            (_composite_function("pair_derivatives", kernel.composite, PAIR_VARIABLES) if kernel.composite
             else _function("pair_derivatives", kernel.expression, PAIR_VARIABLES)),
            _function("self_derivatives", self_expr, SINGLE_VARIABLES),
            _function("mean_derivatives", mean_expr, SINGLE_VARIABLES),
        ])

    # v4: phi2's sign rule fixed (Numba's cache does not see changes in the functions a module calls)
    key = "population-kernel-v4|" + canonical_srepr((kernel.expression, self_expr, mean_expr))
    module, _, _ = cached_module(key, render, DEFINES)
    return module
