"""Numba code generated from a derived ``Kernel``: loops over arrays of pairs evaluating kappa, its
gradient and Hessian in (a, b, c, p, q), and the same for the diagonal (self kernel) and the mean,
both in (a, p).  Bias-free kernels get zero derivatives in p and q, so callers see one layout."""

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
    lines.append(f"        value[n] = {lane_code(expr, _NAMES)}")
    for i, g in enumerate(gradient):
        lines.append(f"        gradient[n, {i}] = {lane_code(g, _NAMES)}")
    for i, row in enumerate(hessian):
        for j, h in enumerate(row):
            lines.append(f"        hessian[n, {i}, {j}] = {lane_code(h, _NAMES)}")
    return "\n".join(lines) + "\n"


def kernel_module(kernel: Kernel):
    """The generated module of ``kernel`` (content-addressed cache)."""
    self_expr, mean_expr = kernel.self_kernel, kernel.mean

    def render() -> str:
        header = ("import math\nimport numba\n"
                  "from gradflow.numerics.mlp.population.owen import phi2 as Phi2\n\n\n")
        return header + "\n\n".join([
            _function("pair_derivatives", kernel.expression, PAIR_VARIABLES),
            _function("self_derivatives", self_expr, SINGLE_VARIABLES),
            _function("mean_derivatives", mean_expr, SINGLE_VARIABLES),
        ])

    key = "population-kernel-v1|" + canonical_srepr((kernel.expression, self_expr, mean_expr))
    module, _, _ = cached_module(key, render, DEFINES)
    return module
