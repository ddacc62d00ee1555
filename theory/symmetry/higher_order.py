"""Higher-order permutation points: how their count grows with the layer width.

A K-th order point merges K pairs of neurons of one hidden layer: binom(n - K, K) n! / 2^K
embeddings, i.e. the factor binom(n - K, K) / 2^K per point of the orbit of n! permutations.  For
fixed K, binom(n - K, K) = (n - K)(n - K - 1)...(n - 2K + 1) / K! is a polynomial in n of degree K
with leading coefficient 1/K!, so the factor grows like n^K / (2^K K!): polynomially in the width.
"""

from __future__ import annotations

import sympy as sp

from gradflow.theory.laws import Law
from gradflow.theory.symmetry.claims import exact_claim
from gradflow.theory.verify import Claim

n = sp.Symbol("n", integer=True, positive=True)
K = sp.Symbol("K", integer=True, positive=True)
ORDERS = range(1, 7)


def factor_polynomial(order: int) -> sp.Poly:
    """binom(n - K, K) / 2^K for an explicit K, as a polynomial in n."""
    return sp.Poly(sp.expand(sp.expand_func(sp.binomial(n - order, order))) / 2 ** order, n)


def factor_law(orders=ORDERS) -> tuple[Law, Claim]:
    """The growth law and its check: degree K and leading coefficient 1/(2^K K!) for K in ``orders``,
    and the polynomial equal to binom(n - K, K)/2^K at n = 2K..2K+20."""
    bad = cases = 0
    for order in orders:
        poly = factor_polynomial(order)
        cases += 1
        bad += poly.degree() != order or poly.LC() != sp.Rational(1, 2 ** order * sp.factorial(order))
        for value in range(2 * order, 2 * order + 21):
            cases += 1
            bad += poly.eval(value) != sp.Rational(sp.binomial(value - order, order), 2 ** order)
    law = Law("K-th order points per orbit point", sp.binomial(n - K, K) / 2 ** K,
              n ** K / (2 ** K * sp.factorial(K)), n, "asymptotic", 1 / n,
              {"degree": K}, ("fixed K", "relative error O(1/n)", "one hidden layer of width n"))
    statement = f"binom(n - K, K)/2^K is a polynomial of degree K leading with 1/(2^K K!) (K <= {max(orders)})"
    return law, exact_claim(statement, True, bad, cases)
