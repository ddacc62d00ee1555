"""Dominance of critical subspaces over zero-loss ones: R(r*, h) = G(r* - 1, r* + h) / T(r*, r* + h).

Three laws, derived by SymPy from two inputs it checks first:
* Stirling polynomials: S(n + q, n) is a polynomial in n of degree 2q with leading coefficient
  1/(2^q q!) (interpolated from exact values, checked beyond the interpolation points, q <= 6);
  so S(n + q, n) ~ n^{2q} / (2^q q!) for fixed q.
* the inclusion-exclusion forms T(r*, m) = sum_j (-1)^j binom(r*, j) (r* + 1 - j)^m and
  G(r, m) = sum_j (-1)^j binom(r, j) (r - j)^m, whose leading terms give the growth in m.

(i)  R(r*, 0) = (r* - 1)/2 exactly (S(r, r - 1) = binom(r, 2), T(r, r) = r!); the sum_below variant
     R = a(r*)/r*! - 1 (a: ordered Bell numbers, EGF 1/(2 - e^x)) ~ 1/(2 (ln 2)^{r*+1}) - 1 from the
     simple pole of the EGF at ln 2.
(ii) fixed h, r* -> oo: R ~ c_h r*, c_h = 1/(2(h + 1)) (default and with_zero_neurons).
(iii) fixed r*, m -> oo: T(r*, m) ~ (r* + 1)^m, G(r* - 1, m) ~ (r* - 1)^m, hence
     R ~ ((r* - 1)/(r* + 1))^m (the sum_below numerator grows at the same rate r* - 1).
"""

from __future__ import annotations

from fractions import Fraction
from math import comb, factorial

import sympy as sp
from sympy.functions.combinatorial.numbers import stirling

from gradflow.theory.laws import Law
from gradflow.theory.symmetry.claims import exact_claim
from gradflow.theory.symmetry.counts import (crossover, dominance_ratio, expansion_count,
                                             critical_count_sum_below)
from gradflow.theory.verify import Claim

r = sp.Symbol("r^*", integer=True, positive=True)
h = sp.Symbol("h", integer=True, nonnegative=True)
n = sp.Symbol("n", integer=True, positive=True)
m = sp.Symbol("m", integer=True, positive=True)
x = sp.Symbol("x")
R = sp.Function("R")
R_below = sp.Function(r"R_{\mathrm{below}}")  # the sum_below variant
T = sp.Function("T")
G = sp.Function("G")

STIRLING_ORDERS = range(0, 7)
CROSSOVER_TEACHERS = (2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50)


def stirling_polynomial(q: int) -> sp.Expr:
    """S(n + q, n) as a polynomial in n, interpolated from the exact values at n = 0..2q."""
    return sp.factor(sp.interpolate([(k, stirling(k + q, k)) for k in range(2 * q + 1)], n))


def stirling_polynomial_claim(orders=STIRLING_ORDERS, beyond: int = 25) -> Claim:
    """The interpolated polynomials reproduce S(n + q, n) up to n = 2q + beyond and lead with
    n^{2q} / (2^q q!)."""
    bad = cases = 0
    for q in orders:
        poly = stirling_polynomial(q)
        bad += sp.Poly(poly, n).LC() != sp.Rational(1, 2 ** q * factorial(q)) or sp.degree(poly, n) != 2 * q
        for k in range(2 * q + 1, 2 * q + 1 + beyond):
            cases += 1
            bad += poly.subs(n, k) != stirling(k + q, k)
    return exact_claim("S(n + q, n) is a polynomial of degree 2q leading with 1/(2^q q!) (q <= 6)", True, bad, cases)


def ratio_at_zero_law() -> Law:
    """(i) R(r*, 0) = (r* - 1)/2, derived from S(r, r - 1) = binom(r, 2)."""
    s_pair = stirling_polynomial(1).subs(n, r - 1)  # S(r, r - 1)
    derived = sp.simplify(sp.factorial(r - 1) * s_pair / sp.factorial(r))
    return Law("ratio without extra neurons", R(r, 0), sp.factor(derived), r, "asymptotic", None,
               {"exact": True}, ("exact for every r* >= 2", "G(r*-1, r*) = (r*-1)! S(r*, r*-1)", "T(r*, r*) = r*!"))


def ordered_bell_pole() -> tuple[sp.Expr, sp.Expr]:
    """The ordered Bell numbers' EGF 1/(2 - e^x): its residue at the pole ln 2, and the leading
    a(n)/n! it implies (the pole's geometric series)."""
    residue = sp.limit((x - sp.log(2)) / (2 - sp.exp(x)), x, sp.log(2))  # -1/2
    # residue/(x - ln 2) = -residue / ln 2 * sum_n (x / ln 2)^n
    leading = sp.simplify(-residue / sp.log(2) ** (r + 1))
    return residue, leading


def ratio_at_zero_sum_below_law() -> Law:
    """(i, sum_below) R(r*, 0) = a(r*)/r*! - 1 ~ 1/(2 (ln 2)^{r*+1}) - 1."""
    residue, leading = ordered_bell_pole()
    return Law("ratio without extra neurons, all smaller widths", R_below(r, 0), leading - 1, r, "asymptotic",
               (sp.log(2) / sp.sqrt(sp.log(2) ** 2 + 4 * sp.pi ** 2)) ** r,
               {"residue": residue, "ordered_bell_egf": 1 / (2 - sp.exp(x))},
               ("sum_below variant", "relative error from the next poles ln 2 +- 2 pi i"))


def linear_growth_law() -> Law:
    """(ii) fixed h, r* -> oo: R ~ c_h r*, from S(n + q, n) ~ n^{2q} / (2^q q!)."""
    asymptotic = lambda base, order: base ** (2 * order) / (2 ** order * sp.factorial(order))  # noqa: E731
    critical = sp.factorial(r - 1) * asymptotic(r - 1, h + 1)  # (r-1)! S((r-1) + (h+1), r-1)
    minima = sp.factorial(r) * asymptotic(r + 1, h)  # r! S((r+1) + h, r+1)
    # (r-1)!/r! first: the limit of the unsimplified factorial ratio is mis-evaluated
    c_h = sp.simplify(sp.limit(sp.gammasimp(critical / minima / r), r, sp.oo))
    return Law("ratio at fixed extra width", R(r, h), c_h * r, r, "asymptotic", sp.Integer(1),
               {"c_h": c_h}, ("fixed h >= 0", "r* -> infinity", "default and with_zero_neurons variants"))


def linear_growth_sum_below_law() -> Law:
    """(ii, sum_below) fixed h, r* -> oo: the numerator is the ordered Bell number a(r* + h) up to the
    terms of widths >= r* (relatively O(poly(r*) (ln 2)^{r*})), a(n) ~ n!/(2 (ln 2)^{n+1}), and
    (r* + h)!/r*! ~ r*^h; so R ~ 2^{h-1} h! / (r*^h (ln 2)^{r*+h+1})."""
    _, bell = ordered_bell_pole()  # a(n)/n! ~ bell(n)
    critical = sp.factorial(r) * r ** h * bell.subs(r, r + h)  # a(r+h), with (r+h)! ~ r! r^h
    minima = sp.factorial(r) * r ** (2 * h) / (2 ** h * sp.factorial(h))  # r! S(r+1+h, r+1), (r+1)^{2h} ~ r^{2h}
    leading = sp.powsimp(sp.simplify(critical / minima), force=True)
    return Law("ratio at fixed extra width, all smaller widths", R_below(r, h), leading, r, "asymptotic", 1 / r,
               {"ordered_bell_leading": bell}, ("sum_below variant", "fixed h >= 0", "r* -> infinity",
                                                "relative error O(1/r*)"))


def normalised_ratios(teachers=(200, 400, 800), extra=range(4)) -> dict[tuple[int, int], float]:
    """R(r*, h) / (c_h r*) along large r*: increases towards 1."""
    c_h = linear_growth_law().constants["c_h"]
    return {(k, e): float(dominance_ratio(k, e) / (Fraction(str(c_h.subs(h, e))) * k))
            for k in teachers for e in extra}


def growth_rate_laws(widths=range(2, 6)) -> tuple[Law, Law, Law, Claim]:
    """(iii) fixed r*, m -> oo: the leading terms of the inclusion-exclusion forms, and a check by
    SymPy limits for explicit r* (T / (r*+1)^m -> 1, G(r*-1, m) / (r*-1)^m -> 1)."""
    j = sp.Symbol("j", integer=True, nonnegative=True)
    t_form = sp.Sum((-1) ** j * sp.binomial(r, j) * (r + 1 - j) ** m, (j, 0, r))
    g_form = sp.Sum((-1) ** j * sp.binomial(r - 1, j) * (r - 1 - j) ** m, (j, 0, r - 1))
    t_lead, g_lead = t_form.function.subs(j, 0), g_form.function.subs(j, 0)
    bad = 0
    for width in widths:
        t_exact = sum((-1) ** i * comb(width, i) * sp.Integer(width + 1 - i) ** m for i in range(width + 1))
        g_exact = sum((-1) ** i * comb(width - 1, i) * sp.Integer(width - 1 - i) ** m for i in range(width))
        bad += sp.limit(t_exact / t_lead.subs(r, width), m, sp.oo) != 1
        bad += sp.limit(g_exact / g_lead.subs(r, width), m, sp.oo) != 1
    statement = f"T ~ (r*+1)^m and G(r*-1, m) ~ (r*-1)^m (SymPy limits, r* = {min(widths)}..{max(widths)})"
    check = exact_claim(statement, True, bad, 2 * len(widths))
    t_law = Law("zero-loss subspaces at large width", T(r, m), t_lead, m, "asymptotic",
                r * (r / (r + 1)) ** m, {"rate": r + 1}, ("fixed r*", "relative error (the j = 1 term)"))
    g_law = Law("critical subspaces at large width", G(r - 1, m), g_lead, m, "asymptotic",
                (r - 1) * ((r - 2) / (r - 1)) ** m, {"rate": r - 1},
                ("fixed r* >= 2", "relative error (the j = 1 term)", "also for the sum_below numerator"))
    ratio = Law("ratio at large width", R(r, m - r), (g_lead / t_lead), m, "asymptotic",
                (r - 1) * ((r - 2) / (r - 1)) ** m + r * (r / (r + 1)) ** m, {"rate": (r - 1) / (r + 1)},
                ("fixed r* >= 2", "relative error"))
    return t_law, g_law, ratio, check


def ratio_at_zero_claim(laws: Law, max_r: int = 30) -> Claim:
    """The derived R(r*, 0) against the exact ratio, r* = 2..max_r."""
    bad = sum(laws.leading.subs(r, k) != sp.Rational(dominance_ratio(k, 0)) for k in range(2, max_r + 1))
    return exact_claim(f"R(r*, 0) = (r* - 1)/2 for r* = 2..{max_r}", True, bad, max_r - 1)


def sum_below_table(max_r: int = 30) -> list[tuple[int, float, float]]:
    """(r*, exact sum_below R(r*, 0), the ordered-Bell asymptotic): the law's numbers."""
    _, leading = ordered_bell_pole()
    rows = []
    for k in range(2, max_r + 1):
        exact = critical_count_sum_below(k, k) / expansion_count(k, k)
        rows.append((k, exact, float((leading - 1).subs(r, k))))
    return rows


def crossovers(teachers=CROSSOVER_TEACHERS) -> dict[str, dict[int, int | None]]:
    """h_c(r*) for the default and sum_below variants."""
    return {variant: {k: crossover(k, variant) for k in teachers} for variant in ("default", "sum_below")}
