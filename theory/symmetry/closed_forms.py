"""The closed form of T(r*, m), derived through exponential generating functions (EGFs).

Definition (labellings {1..m} -> {0..r*} onto {1..r*}, k of them zero-type):

    T(r*, m) = sum_{k=0}^{m} binom(m, k) r*! S(m - k, r*).

Derivation, for every r* at once:
1. EGF of the Stirling numbers: sum_n S(n, r) x^n / n! = (e^x - 1)^r / r!.
2. A binomial convolution sum_k binom(m, k) a_{m-k} b_k has EGF A(x) B(x); with b_k = 1 (one way
   to label k neurons zero-type), B = e^x, so  EGF_m T(r*, m) = e^x (e^x - 1)^{r*}.
3. A shift c_{m+1} has EGF d/dx C(x); and d/dx [r*! (e^x - 1)^{r*+1} / (r*+1)!] = e^x (e^x - 1)^{r*}
   (SymPy, r* symbolic).  Hence T(r*, m) = r*! S(m + 1, r* + 1): the binomial recurrence of the
   Stirling numbers of the second kind, S(n + 1, k + 1) = sum_j binom(n, j) S(j, k).
4. Expanding e^x (e^x - 1)^{r*} by the binomial theorem gives the Stirling-free inclusion-exclusion
   form T(r*, m) = sum_{j=0}^{r*} (-1)^j binom(r*, j) (r* + 1 - j)^m.
The EGF correspondences of steps 1, 2 and 4 are checked coefficient by coefficient (series), and the
three forms agree exactly for all 1 <= r* <= m <= 30.
"""

from __future__ import annotations

from math import comb, factorial

import sympy as sp
from sympy.functions.combinatorial.numbers import stirling

from gradflow.theory.symmetry.claims import exact_claim
from gradflow.theory.symmetry.counts import expansion_count, expansion_count_alternating, expansion_count_sum
from gradflow.theory.verify import Claim

x = sp.Symbol("x")
r_star = sp.Symbol("r^*", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)

DEFINITION = sp.Sum(sp.binomial(m, sp.Symbol("k")) * sp.factorial(r_star)
                    * sp.Function("S")(m - sp.Symbol("k"), r_star), (sp.Symbol("k"), 0, m))
CLOSED_FORM = sp.factorial(r_star) * sp.Function("S")(m + 1, r_star + 1)
ALTERNATING_FORM = sp.Sum((-1) ** sp.Symbol("j") * sp.binomial(r_star, sp.Symbol("j"))
                          * (r_star + 1 - sp.Symbol("j")) ** m, (sp.Symbol("j"), 0, r_star))
IDENTITY = "binomial recurrence of the Stirling numbers of the second kind, S(n+1, k+1) = sum_j binom(n, j) S(j, k)"

_SERIES_ORDER = 12  # coefficients checked per EGF
_SERIES_WIDTHS = range(1, 7)
TABLE_MAX = 30


def _coefficients(egf: sp.Expr, order: int = _SERIES_ORDER) -> list[sp.Expr]:
    """c_0..c_{order-1} of an EGF that is a polynomial in e^x, sum_k a_k e^{kx}: the n-th derivative at
    0 of e^{kx} is k^n, so c_n = sum_k a_k k^n."""
    E = sp.Symbol("E")
    terms = sp.Poly(sp.expand(egf.subs(sp.exp(x), E)), E).terms()
    return [sum((a * sp.Integer(power) ** n for (power,), a in terms), sp.Integer(0)) for n in range(order)]


def egf_claims() -> dict[str, Claim]:
    """Steps 1-4 as claims: symbolic where SymPy proves them for every r*, coefficientwise else."""
    r = r_star
    shift = sp.diff(sp.factorial(r) * (sp.exp(x) - 1) ** (r + 1) / sp.factorial(r + 1), x) \
        - sp.exp(x) * (sp.exp(x) - 1) ** r
    shift_proved = sp.simplify(sp.gammasimp(shift)) == 0
    stirling_bad = convolution_bad = alternating_bad = cases = 0
    for width in _SERIES_WIDTHS:
        stirling_egf = _coefficients((sp.exp(x) - 1) ** width / sp.factorial(width))
        t_egf = _coefficients(sp.exp(x) * (sp.exp(x) - 1) ** width)
        expanded = sum((-1) ** j * comb(width, j) * sp.exp((width + 1 - j) * x) for j in range(width + 1))
        binomial_ok = sp.expand(expanded - sp.exp(x) * (sp.exp(x) - 1) ** width) == 0
        alternating_bad += not binomial_ok
        for n in range(_SERIES_ORDER):
            cases += 1
            stirling_bad += stirling_egf[n] != stirling(n, width)
            definition = sum(comb(n, k) * factorial(width) * int(stirling(n - k, width)) for k in range(n + 1))
            convolution_bad += t_egf[n] != definition
    return {
        "EGF of S(n, r) is (e^x - 1)^r / r!": exact_claim(
            "EGF of S(n, r) is (e^x - 1)^r / r! (coefficients, r <= 6, n < 12)", True, stirling_bad, cases),
        "EGF of T(r*, m) in m is e^x (e^x - 1)^r*": exact_claim(
            "binomial convolution with b_k = 1: EGF of the definitional sum is e^x (e^x - 1)^r*", True,
            convolution_bad, cases),
        "shift: d/dx r*! (e^x - 1)^(r*+1) / (r*+1)! = e^x (e^x - 1)^r*": exact_claim(
            "derivative of the EGF of r*! S(n, r*+1) is e^x (e^x - 1)^r* (r* symbolic)", shift_proved, 0, 1),
        "binomial theorem: e^x (e^x - 1)^r* = sum_j (-1)^j binom(r*, j) e^((r*+1-j) x)": exact_claim(
            "binomial expansion of the EGF (r* <= 6, expanded)", alternating_bad == 0, 0, len(_SERIES_WIDTHS)),
    }


def table_claims(max_m: int = TABLE_MAX) -> dict[str, Claim]:
    """The definitional sum, the closed form and the alternating form agree exactly, 1 <= r* <= m <= max_m."""
    pairs = [(r, n) for n in range(1, max_m + 1) for r in range(1, n + 1)]
    closed_bad = sum(expansion_count_sum(r, n) != expansion_count(r, n) for r, n in pairs)
    alternating_bad = sum(expansion_count_alternating(r, n) != expansion_count(r, n) for r, n in pairs)
    return {
        "T sum = r*! S(m+1, r*+1)": exact_claim(
            f"definitional sum = closed form for 1 <= r* <= m <= {max_m}", True, closed_bad, len(pairs)),
        "T alternating = r*! S(m+1, r*+1)": exact_claim(
            f"inclusion-exclusion form = closed form for 1 <= r* <= m <= {max_m}", True, alternating_bad, len(pairs)),
    }
