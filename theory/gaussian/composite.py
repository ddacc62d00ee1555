"""A kernel written as kappa(x) = prefactor(x) g(y(x)), with g's derivatives in y given in closed form:
generated code evaluates y, then g and its derivatives, then the chain rule (short expressions,
where differentiating the composed closed form would multiply Phi2 terms into pages)."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Composite:
    prefactor: sp.Expr  # in the kernel's variables x
    inner: tuple  # ((y_r symbol, y_r(x)), ...)
    value: sp.Expr  # g in the y symbols
    gradient: tuple  # dg/dy_r
    hessian: tuple  # d2g/dy_r dy_s, a full symmetric matrix

    @property
    def expression(self) -> sp.Expr:
        return self.prefactor * self.value.subs(dict(self.inner), simultaneous=True)

    def chain_rule(self, variables, placeholders) -> tuple:
        """(value, gradient, Hessian) of kappa in ``variables``, written in x, the y symbols and
        ``placeholders`` = (G, (G_r), ((G_rs))) standing for g and its derivatives at y(x).

        kappa's second-order Taylor polynomial in y around the point, prefactor x (G + sum G_r dy_r +
        sum G_rs dy_r dy_s / 2), has kappa's derivatives up to order 2 there (dy_r = y_r(x) - y_r)."""
        G, G1, G2 = placeholders
        dy = [expr - symbol for symbol, expr in self.inner]
        n = len(dy)
        taylor = self.prefactor * (G + sum(G1[r] * dy[r] for r in range(n))
                                   + sum(G2[r][s] * dy[r] * dy[s] for r in range(n) for s in range(n)) / 2)
        # at the point dy = 0: substitute y_r(x) for the y symbols
        at_point = {symbol: expr for symbol, expr in self.inner}

        def settle(e):
            return sp.expand(e).subs(at_point, simultaneous=True)

        gradient = [sp.diff(taylor, v) for v in variables]
        hessian = [[settle(sp.diff(g, w)) for w in variables] for g in gradient]
        return self.prefactor * G, [settle(g) for g in gradient], hessian
