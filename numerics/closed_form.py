"""NumPy evaluation of closed forms and laws, stable where SymPy's forms overflow.

LambertW(e^A / B) with A in the hundreds overflows if e^A is formed; it is evaluated as the
root of w + log w = A - log B instead (Newton from the asymptote).  Differences such as
A - W(e^A) lose all digits at large A and are rewritten first with W = log z - log W.
"""

from __future__ import annotations

import numpy as np
import sympy as sp


class LambertWExp(sp.Function):
    """W(e^y) for real y, principal branch."""

    nargs = 1


def lambertw_exp(y):
    y = np.asarray(y, dtype=float)
    small = y < 20.0
    w = np.empty_like(y)
    from scipy.special import lambertw  # imported when needed: scipy.special costs 0.2 s at start

    w[small] = np.real(lambertw(np.exp(y[small])))
    large = ~small
    if np.any(large):
        z = y[large]
        v = z - np.log(z)
        for _ in range(50):  # Newton on v + log v = z; converges in a few steps
            step = (v + np.log(v) - z) / (1.0 + 1.0 / v)
            v = v - step
            if np.all(np.abs(step) <= 1e-16 * np.abs(v)):
                break
        w[large] = v
    return w


def _rewrite_lambert(expr):
    # W = log z - log W removes the cancellation in c/(M-1) - W(e^{c/(M-1)}/(M-1)) at large c.
    for lw in expr.atoms(sp.LambertW):
        log_z = sp.expand_log(sp.log(lw.args[0]), force=True)
        candidate = sp.simplify(sp.expand(expr.subs(lw, log_z - sp.log(lw))))
        if sp.count_ops(candidate) <= sp.count_ops(expr):
            expr = candidate

    def rewrite(e):
        log_arg = sp.expand_log(sp.log(e.args[0]), force=True)
        return LambertWExp(sp.simplify(log_arg))

    return expr.replace(lambda e: isinstance(e, sp.LambertW), rewrite)


def numeric_function(expr, args):
    """A NumPy function of ``args`` for ``expr``; LambertW handled in log space."""
    return sp.lambdify(args, _rewrite_lambert(sp.sympify(expr)), modules=[{"LambertWExp": lambertw_exp}, "numpy"])
