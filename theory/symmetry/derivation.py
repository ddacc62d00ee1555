"""The permutation-symmetry derivation: equivariance, plateaus, critical lines and the counts.

``derive()`` runs every proof and returns a :class:`SymmetryDerivation` whose fields are the derived
objects (claims, closed forms, laws, tables), for reports, figures and checks to read by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from gradflow.theory.derivation import Derivation, Draft
from gradflow.theory.laws import Law
from gradflow.theory.symmetry import closed_forms, dominance
from gradflow.theory.symmetry.counts import critical_count, dominance_ratio, expansion_count
from gradflow.theory.symmetry.critical_line import critical_line_claims, quadratic_form
from gradflow.theory.symmetry.equivariance import (PROOF_NETWORKS, collision_claims, entrywise_claims,
                                                   explicit_network_claims, matrix_form_claims)
from gradflow.theory.symmetry.higher_order import factor_law
from gradflow.theory.symmetry.plateau import plateau_claims
from gradflow.theory.verify import Claim

TABLE_M = 10  # T and G tables: 1 <= r <= m <= TABLE_M
RATIO_TEACHERS = (2, 3, 5, 10, 20, 50)
RATIO_EXTRA = range(0, 8)


@dataclass(frozen=True, eq=False)
class SymmetryDerivation(Derivation):
    """What :func:`derive` derives, by name."""

    equivariance: Mapping[str, Claim]  # grad L(P theta) = P grad L(theta), H(P theta) = P H P^T
    plateau: Mapping[str, Claim]  # loss and gradient on the plateau of a duplicated neuron; H_ee = 0, H_eq = B
    critical_line: Mapping[str, Claim]  # split of a critical neuron; v^T H v = beta (1 - beta) xi^T M xi
    plateau_matrix: sp.Expr  # B[o, :] = (1/N) sum_mu delta_o sigma'(w-bar . h~) h~
    fukumizu_amari_form: sp.Expr  # beta (1 - beta) xi^T M xi
    expansion_definition: sp.Expr  # T(r*, m) as the sum over zero-type neurons
    expansion_closed_form: sp.Expr  # r*! S(m + 1, r* + 1)
    expansion_alternating_form: sp.Expr  # sum_j (-1)^j binom(r*, j) (r* + 1 - j)^m
    identity: str  # the name of the summation identity behind the closed form
    counting: Mapping[str, Claim]  # the closed form (EGF steps, exact tables), Stirling polynomials, R(r*, 0)
    ratio_at_zero: Law  # R(r*, 0) = (r* - 1)/2
    ratio_at_zero_sum_below: Law  # ~ 1/(2 (ln 2)^{r*+1}) - 1
    linear_growth: Law  # fixed h: R ~ c_h r*
    linear_growth_sum_below: Law  # fixed h: R ~ 2^{h-1} h! / (r*^h (ln 2)^{r*+h+1})
    expansion_growth: Law  # T(r*, m) ~ (r* + 1)^m
    critical_growth: Law  # G(r* - 1, m) ~ (r* - 1)^m
    ratio_growth: Law  # R ~ ((r* - 1)/(r* + 1))^m
    higher_order_growth: Law  # binom(n - K, K)/2^K ~ n^K / (2^K K!)
    c_h: sp.Expr  # 1/(2 (h + 1))
    expansion_table: Mapping[tuple[int, int], int]  # (r*, m) -> T, m <= TABLE_M
    critical_table: Mapping[tuple[int, int], int]  # (r, m) -> G, m <= TABLE_M
    ratio_table: Mapping[tuple[int, int], Fraction]  # (r*, h) -> R, RATIO_TEACHERS x RATIO_EXTRA
    crossovers: Mapping[str, Mapping[int, int | None]]  # variant -> r* -> h_c (None: R(r*, 0) <= 1)

    @property
    def claims(self) -> dict[str, Claim]:
        return {**self.equivariance, **self.plateau, **self.critical_line, **self.counting}


def _checked(claims: Mapping[str, Claim]) -> str:
    ok = all(c.holds for c in claims.values())
    return ("every difference simplifies to 0 and vanishes at random numbers" if ok
            else "FAILED: " + "; ".join(name for name, c in claims.items() if not c.holds))


@lru_cache(maxsize=None)
def derive(quick: bool = False) -> SymmetryDerivation:
    """Run every proof.  ``quick`` proves the explicit-network lemma on [1, 2, 1] only (the
    [2, 2, 2, 1] Hessian takes most of the time)."""
    doc = Draft("Permutation symmetry of multilayer perceptrons")
    geometry = _geometry(doc, quick)
    counts = _counts(doc)
    laws = _laws(doc)
    counts["counting"] = {**counts["counting"], **laws.pop("law_claims")}
    return doc.finish(SymmetryDerivation, **geometry, **counts, **laws)


def _geometry(doc: Draft, quick: bool) -> dict:
    networks = PROOF_NETWORKS[:1] if quick else PROOF_NETWORKS
    equivariance = {**entrywise_claims(), **matrix_form_claims(), **explicit_network_claims(networks),
                    **collision_claims(networks)}
    doc.add("Equivariance",
            r"L(P\theta) = L(\theta),\quad \nabla L(P\theta) = P\,\nabla L(\theta),\quad H(P\theta) = P H(\theta) P^T",
            r"$P$ permutes the neurons of one hidden layer: $(W^{(k)}, b^{(k)}, W^{(k+1)}) \mapsto "
            r"(\Pi W^{(k)}, \Pi b^{(k)}, W^{(k+1)} \Pi^T)$. Entrywise maps commute with row permutations, "
            r"$\sigma.(\Pi Z) = \Pi \sigma.(Z)$, and $\Pi^T \Pi = I$. Explicit networks: "
            + ", ".join(str(list(w)) for w in networks) + r", with $\sigma$ and the loss undefined. Hence the "
            r"collision subspace $\{w_i = w_j, u_i = u_j\} = \mathrm{Fix}(P_{ij})$ is invariant under the flow: "
            r"there $\nabla L = P_{ij} \nabla L$. For every parameter vector $\theta$, every hidden layer $k$ and every "
            r"permutation matrix $\Pi$ of its neurons; the gradient and Hessian identities wherever $L$ is once and "
            r"twice differentiable.",
            _checked(equivariance))
    plateau = plateau_claims()
    o, c, mu, N = sp.symbols("o c mu N", integer=True)
    delta, slope, h_tilde = sp.Function(r"\delta_o"), sp.Function(r"\sigma'"), sp.Function(r"\tilde{h}_c")
    w_dot_h = sp.Symbol(r"\bar{w} \cdot \tilde{h}(x_\mu)")
    B = sp.Sum(delta(mu) * slope(w_dot_h) * h_tilde(mu), (mu, 1, N)) / N
    doc.add("Plateau of a duplicated neuron",
            r"B_{oc} = " + sp.latex(B) + r",\quad \nabla_{w_i} L = B^T(\bar u/2 + e),\quad "
            r"\nabla_{w_j} L = B^T(\bar u/2 - e),\quad \nabla_{\bar w} L_{\mathrm{red}} = B^T \bar u",
            r"$w_i = w_j = \bar w$, $u_{i,j} = \bar u/2 \pm e$: the loss equals the reduced loss for every $e$; "
            r"at a reduced critical point the gradient on the plateau is $(B^T e, -B^T e)$. Second order in "
            r"$(e, q)$, $w_{i,j} = \bar w \pm q/2$: $H_{ee} = 0$, $H_{eq} = B$, and the Hessian at the "
            r"permutation point is block diagonal (symmetric, antisymmetric). $N$ samples $x_\mu$; $o$ runs over the "
            r"next layer's neurons, $c$ over the entries of the layer input $\tilde h$ (bias included); "
            r"$\delta_o(\mu)$ is the back-propagated error at neuron $o$ of the next layer. For every $\bar w$, "
            r"$\bar u$ and $e$ on the plateau ($q = 0$), where $\sigma$ and the loss are differentiable (twice for the "
            r"Hessian).", _checked(plateau))
    line = critical_line_claims()
    form = quadratic_form()
    doc.add("Critical line and the Fukumizu-Amari form",
            r"v^T H v = " + sp.latex(form) + r",\quad M = \frac{1}{N}\sum_\mu \ell'_\mu\, a\, \sigma''(w\cdot x_\mu)"
            r"\, x_\mu x_\mu^T",
            r"A critical neuron $(w, a)$ split into $(w, \beta a)$ and $(w, (1-\beta) a)$ stays critical for every "
            r"$\beta$; along $v(\xi) = ((1-\beta)\xi, -\beta\xi)$ the output is unchanged to first order. For every real "
            r"$\beta$ and every direction $\xi$ of the incoming weights; $(w, a)$ critical for the narrower network, "
            r"$\sigma$ twice differentiable at every $w \cdot x_\mu$, $\ell'_\mu$ the derivative of the loss of "
            r"sample $\mu$ in the output, $N$ samples.",
            _checked(line))
    return dict(equivariance=equivariance, plateau=plateau, critical_line=line, plateau_matrix=B,
                fukumizu_amari_form=form)


def _counts(doc: Draft) -> dict:
    counting = {**closed_forms.egf_claims(), **closed_forms.table_claims(),
                "Stirling polynomials": dominance.stirling_polynomial_claim()}
    doc.add("Zero-loss subspaces: the closed form of T",
            r"T(r^*, m) = " + sp.latex(closed_forms.DEFINITION) + " = " + sp.latex(closed_forms.CLOSED_FORM)
            + " = " + sp.latex(closed_forms.ALTERNATING_FORM),
            "Labellings {1..m} -> {0..r*} onto {1..r*}. Exponential generating functions: the definitional sum "
            "has EGF e^x (e^x - 1)^{r*}, the derivative of the EGF of r*! S(n, r*+1); this is the "
            + closed_forms.IDENTITY + ". The three forms agree exactly for 1 <= r* <= m <= 30. "
            r"The identities hold for all integers $1 \le r^* \le m$ (student width $m$, teacher width $r^*$); "
            r"$S$ is the Stirling number of the second kind.",
            _checked({k: v for k, v in counting.items() if k != "Stirling polynomials"}))
    tables = dict(
        expansion_table={(r, m): expansion_count(r, m) for m in range(1, TABLE_M + 1) for r in range(1, m + 1)},
        critical_table={(r, m): critical_count(r, m) for m in range(1, TABLE_M + 1) for r in range(1, m + 1)},
        ratio_table={(r, h): dominance_ratio(r, h) for r in RATIO_TEACHERS for h in RATIO_EXTRA},
    )
    growth, growth_claim = factor_law()
    counting["higher-order factor is polynomial"] = growth_claim
    doc.add("Higher-order permutation points",
            r"N_K \ge N_{\min} \sum_k \binom{n_k - K}{K} 2^{-K},\quad " + growth.latex(),
            "K pairs of neurons of one layer merged: binom(n - K, K) n!/2^K embeddings per layer; "
            "brute-force enumeration of the maps agrees for widths <= 7. "
            r"For every integer $K \ge 1$, the sum over the hidden layers $k$ of widths $n_k$, "
            r"$N_{\min} = \prod_k n_k!$; the expansion for one layer of width $n \to \infty$ at fixed $K$, with "
            r"relative error $O(1/n)$.", "polynomial in n, leading coefficient")
    doc.add("Critical subspaces", r"G(r, m) = r!\, S(m, r)",
            "One affine subspace of symmetry-induced critical points per surjection {1..m} -> {1..r} "
            "(weights beta summing to 1 in each fibre). "
            r"For integers $1 \le r \le m$: a network of width $r$ embedded in width $m$.")
    return dict(counting=counting, higher_order_growth=growth, expansion_definition=closed_forms.DEFINITION,
                expansion_closed_form=closed_forms.CLOSED_FORM,
                expansion_alternating_form=closed_forms.ALTERNATING_FORM, identity=closed_forms.IDENTITY, **tables)


# the limit of each asymptotic law in words, beside its own assumptions (which stay as they are)
_LIMITS = {
    "ratio without extra neurons, all smaller widths": r"; as the teacher width $r^* \to \infty$ (integers $r^* \ge 2$)",
    "ratio at fixed extra width": r"; the remainder is bounded as $r^* \to \infty$ (integers $r^* \ge 2$)",
    "ratio at fixed extra width, all smaller widths": r"; integers $r^* \ge 2$",
    "zero-loss subspaces at large width": r"; as the student width $m \to \infty$, integers $r^* \ge 1$",
    "critical subspaces at large width": r"; as the student width $m \to \infty$",
    "ratio at large width": r"; as the student width $m \to \infty$",
}


def _laws(doc: Draft) -> dict:
    at_zero = dominance.ratio_at_zero_law()
    at_zero_below = dominance.ratio_at_zero_sum_below_law()
    linear, linear_below = dominance.linear_growth_law(), dominance.linear_growth_sum_below_law()
    t_law, g_law, ratio_law, growth_check = dominance.growth_rate_laws()
    exact_zero = dominance.ratio_at_zero_claim(at_zero)
    doc.add("Dominance ratio", r"R(r^*, h) = \frac{G(r^* - 1, r^* + h)}{T(r^*, r^* + h)}",
            "sum_below: all widths r < r* in the numerator. "
            r"For integers $r^* \ge 2$ (teacher width) and $h \ge 0$ (extra student neurons).")
    for law, how in ((at_zero, "S(r, r - 1) = binom(r, 2), from the Stirling polynomial"),
                     (at_zero_below, "simple pole of the ordered Bell EGF 1/(2 - e^x) at ln 2"),
                     (linear, "S(n + q, n) ~ n^{2q} / (2^q q!), limit in r*"),
                     (linear_below, "ordered Bell asymptotic of the numerator, Stirling polynomial of T"),
                     (t_law, "leading term of the inclusion-exclusion form"),
                     (g_law, "leading term of the inclusion-exclusion form"),
                     (ratio_law, "quotient of the two")):
        doc.add(law.name[0].upper() + law.name[1:], law.latex(), "; ".join(law.assumptions) + _LIMITS.get(law.name, ""),
                how)
    crossovers = dominance.crossovers()
    doc.add("Crossover", r"h_c(r^*) = \max\{h : R(r^*, h) > 1\}",
            "default: " + ", ".join(f"{k}: {v}" for k, v in crossovers["default"].items())
            + "; sum_below: " + ", ".join(f"{k}: {v}" for k, v in crossovers["sum_below"].items())
            + r". For integers $r^* \ge 2$ and $h \ge 0$; None when $R(r^*, 0) \le 1$.")
    return dict(ratio_at_zero=at_zero, ratio_at_zero_sum_below=at_zero_below, linear_growth=linear,
                linear_growth_sum_below=linear_below, expansion_growth=t_law, critical_growth=g_law,
                ratio_growth=ratio_law, c_h=linear.constants["c_h"], crossovers=crossovers,
                law_claims={"R(r*, 0) exact": exact_zero, "growth rates": growth_check})
