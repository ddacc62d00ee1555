"""Binary associative memory: two classes (M = 2), any input and output embeddings.

Everything is derived from the M = 2 cross-entropy ell = log(e^{s_0} + e^{s_1}) - s_{f*(x)} and the
logit-particle GD S <- S + eta K P (Y - Pi(S)) Gamma of :mod:`theory.models.associative_memory`:

* the loss of one input as a function of its margin m = eps (s_0 - s_1): log(1 + e^{-m});
* per input row, (y - pi) Gamma (1, -1)^T = eps kappa sigma(-m) after the change of variables
  s_0 = s_1 + eps m, free of the gauge s_1 (closure), with kappa = Gamma_00 - 2 Gamma_01 + Gamma_11
  = ||u_0 - u_1||^2; hence the binary margin map
  m(x) <- m(x) + eta kappa sum_x' Kt(x, x') p(x') sigma(-m(x')),  Kt(x, x') = eps_x eps_x' <e_x, e_x'>;
  for N = 2 (all label patterns, with :meth:`theory.flow.Map.reduce`) and N = 3 (all label patterns,
  term by term) the whole logit map is reduced explicitly and compared with that formula;
* the separable laws, from the ansatz m_x = log(eta t) + c_x matched at order 1/t, the hard-margin SVM
  (Lagrangian stationarity) and the loss limit;
* the non-separable case: the margin map is GD on v = W^T (u_0 - u_1) with step eta kappa, the Hessian
  of L(v), the W-space Hessian (u_0 - u_1)(u_0 - u_1)^T kron H_v and the linear stability threshold.

What is assumed (and only checked numerically) is stated in the derivation's text and in each Law.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from gradflow.theory.derivation import Derivation, Draft
from gradflow.theory.errors import ParameterError, require
from gradflow.theory.flow import ClosureError, Map
from gradflow.theory.laws import Law
from gradflow.theory.verify import Claim, vanishes

# --- symbols -------------------------------------------------------------------------------

eta = sp.Symbol("eta", positive=True)
kappa = sp.Symbol("kappa", positive=True)
m = sp.Symbol("m", real=True)
t = sp.Symbol("t", positive=True)
s0, s1 = sp.symbols("s_0 s_1", real=True)  # the two logits of one input
gamma00, gamma01, gamma11 = sp.symbols("Gamma_00 Gamma_01 Gamma_11", real=True)  # U U^T
GAMMA = sp.Matrix([[gamma00, gamma01], [gamma01, gamma11]])
KAPPA_OF_GAMMA = gamma00 - 2 * gamma01 + gamma11  # = ||u_0 - u_1||^2

# index notation: sizes stay symbols
N = sp.Symbol("N", integer=True, positive=True)
x, j = sp.symbols("x j", integer=True, nonnegative=True)
Kt = sp.IndexedBase("Kt", real=True)  # \tilde K(x, x') = eps_x eps_x' <e_x, e_x'>
K = sp.IndexedBase("K", real=True)  # <e_x, e_x'>
eps = sp.IndexedBase("epsilon", integer=True)
p = sp.IndexedBase("p", positive=True)
c = sp.IndexedBase("c", real=True)
lam = sp.IndexedBase("lambda", positive=True)
margins = sp.IndexedBase("m", real=True)
gamma_star = sp.Symbol("gamma_*", positive=True)
L_symbol = sp.Symbol("L", positive=True)
h_max = sp.Symbol("h_max", positive=True)  # top eigenvalue of the Hessian of L(v) at the minimizer

MAX_LANE_N = 8  # the explicit lane map is expanded in N; beyond this use the logit-particle kernel


# --- one input: loss, logit residual and closure in the margin ------------------------------


def _label_setup(label: int):
    """(eps, gauge substitution s_label = s_other + m, the gauge logit) for label 0 or 1."""
    require(label in (0, 1), "label", "0 or 1 (binary memory)", label)
    sign = 1 if label == 0 else -1
    return sign, ({s0: s1 + m} if label == 0 else {s1: s0 + m}), (s1 if label == 0 else s0)


def per_example_loss(label: int) -> sp.Expr:
    """ell = log(e^{s_0} + e^{s_1}) - s_label (the M = 2 cross-entropy)."""
    require(label in (0, 1), "label", "0 or 1 (binary memory)", label)
    return sp.log(sp.exp(s0) + sp.exp(s1)) - (s0, s1)[label]


def _closed(expr, gauge) -> sp.Expr:
    """Simplify after a change of variables; ClosureError if the gauge logit survives."""
    expr = sp.expand_power_exp(sp.expand(expr))
    expr = sp.Add(*[sp.cancel(term) for term in sp.Add.make_args(sp.expand(expr))])
    expr = sp.simplify(sp.cancel(sp.together(expr)))
    if gauge in expr.free_symbols:
        raise ClosureError(f"not closed in the margin: still depends on {gauge}")
    return expr


@dataclass(frozen=True)
class RowLemma:
    """One input row of the M = 2 memory, derived for both labels."""

    loss: sp.Expr  # ell in terms of m (the same for both labels)
    residuals: Mapping[int, sp.Expr]  # label -> (y - pi) Gamma (1, -1)^T, y - pi = -d ell/d s, in m and kappa
    sigma_minus: sp.Expr  # residual / (eps kappa): the factor sigma(-m) of the margin map
    claims: Mapping[str, Claim]  # the identities behind the three


@lru_cache(maxsize=None)
def row_lemma() -> RowLemma:
    """Per input row, derived for both labels: the loss in the margin, the routed residual and sigma(-m)."""
    losses, residuals = {}, {}
    for label in (0, 1):
        sign, ansatz, gauge = _label_setup(label)
        ell = per_example_loss(label)
        losses[label] = _closed(sp.expand_log(ell.subs(ansatz), force=True), gauge)
        y_minus_pi = sp.Matrix([[-sp.diff(ell, s0), -sp.diff(ell, s1)]])
        routed = (y_minus_pi * GAMMA * sp.Matrix([1, -1]))[0, 0]
        closed = _closed(routed.subs(ansatz, simultaneous=True), gauge)
        # Gamma enters only through kappa: eliminate Gamma_00 = kappa + 2 Gamma_01 - Gamma_11
        in_kappa = sp.factor(sp.expand(closed.subs(gamma00, kappa + 2 * gamma01 - gamma11)))
        if in_kappa.free_symbols & {gamma00, gamma01, gamma11}:
            raise ClosureError("the routed residual depends on U U^T beyond kappa = ||u_0 - u_1||^2")
        residuals[label] = in_kappa
    sigma_minus = sp.simplify(residuals[0] / kappa)
    loss = sp.simplify(losses[0])
    checks = {
        "loss(m) is the same for both labels": vanishes(losses[0] - losses[1], "loss labels"),
        "loss(m) = log(1 + e^{-m})": vanishes(loss - sp.log(1 + sp.exp(-m)), "loss form"),
        "residual = eps kappa sigma(-m) for label 1": vanishes(residuals[1] + kappa * sigma_minus, "label 1"),
        "sigma(-m) = -d loss/dm": vanishes(sigma_minus + sp.diff(loss, m), "sigma"),
    }
    return RowLemma(loss, residuals, sigma_minus, checks)


# --- explicit logit-particle GD for small N, reduced to margins --------------------------------


def _logit_gd_map(n: int, labels: tuple) -> tuple:
    """Logit-particle GD map for n inputs, M = 2 (explicit components), and its symbols."""
    S = [[sp.Symbol(f"s_{a}{y}", real=True) for y in range(2)] for a in range(n)]
    Ksym = {}
    for a in range(n):
        for b in range(a, n):
            Ksym[(a, b)] = Ksym[(b, a)] = sp.Symbol(f"K_{a}{b}", real=True)
    P = [sp.Symbol(f"p_{a}", positive=True) for a in range(n)]
    rows = []
    for a in range(n):
        ell = sp.log(sp.exp(S[a][0]) + sp.exp(S[a][1])) - S[a][labels[a]]
        rows.append([-sp.diff(ell, S[a][y]) for y in range(2)])  # y - pi, derived
    states, update = [], []
    for a in range(n):
        for y in range(2):
            drift = sum(Ksym[(a, b)] * P[b] * sum(rows[b][z] * GAMMA[z, y] for z in range(2)) for b in range(n))
            states.append(S[a][y])
            update.append(S[a][y] + eta * drift)
    params = (*sorted(set(Ksym.values()), key=str), *P, gamma00, gamma01, gamma11, eta)
    return Map(tuple(states), tuple(update), params, eta, f"logit-particle GD, N = {n}, M = 2"), S, Ksym, P


def _margin_symbols(n: int) -> list:
    return [sp.Symbol(f"m_{a}", real=True) for a in range(n)]


def _kt_symbols(n: int) -> dict:
    out = {}
    for a in range(n):
        for b in range(a, n):
            out[(a, b)] = out[(b, a)] = sp.Symbol(f"kt_{a}{b}", real=True)
    return out


def _canonical_increment(n: int, a: int, sigma_minus) -> sp.Expr:
    kt, ms = _kt_symbols(n), _margin_symbols(n)
    P = [sp.Symbol(f"p_{b}", positive=True) for b in range(n)]
    return eta * kappa * sum(kt[(a, b)] * P[b] * sigma_minus.subs(m, ms[b]) for b in range(n))


def reduce_logit_gd(n: int, labels: tuple, use_map_reduce: bool) -> list:
    """Increments of the margins m_x = eps_x (s_x0 - s_x1) under logit-particle GD, closure proved.

    ``use_map_reduce``: through :meth:`theory.flow.Map.reduce` (the shared closure proof; its
    simplifier handles N = 2), else term by term (each term involves one input's logits)."""
    lgd, S, _, _ = _logit_gd_map(n, labels)
    ms = _margin_symbols(n)
    signs = [1 if lab == 0 else -1 for lab in labels]
    definitions = {ms[a]: signs[a] * (S[a][0] - S[a][1]) for a in range(n)}
    ansatz = {S[a][0]: S[a][1] + signs[a] * ms[a] for a in range(n)}
    if use_map_reduce:
        reduced = lgd.reduce(definitions, ansatz, f"margins, labels {labels}")
        increments = [u - s for u, s in zip(reduced.update, reduced.states)]
    else:
        after = dict(zip(lgd.states, lgd.update))
        increments = []
        for a in range(n):
            stepped = definitions[ms[a]].subs(after, simultaneous=True) - definitions[ms[a]]
            terms = sp.Add.make_args(sp.expand(stepped))
            closed = sp.Add(*[sp.cancel(sp.expand_power_exp(term.subs(ansatz, simultaneous=True))) for term in terms])
            leftover = closed.free_symbols & {S[b][1] for b in range(n)}
            if leftover:
                raise ClosureError(f"margin m_{a} is not closed: depends on {sorted(map(str, leftover))}")
            increments.append(closed)
    return [sp.expand(inc.subs(gamma00, kappa + 2 * gamma01 - gamma11)) for inc in increments]


def _matches_canonical(n: int, labels: tuple, increments: list, sigma_minus) -> bool:
    """Increment for this label pattern == eta kappa sum Kt p sigma(-m) with Kt = eps eps' K."""
    signs = [1 if lab == 0 else -1 for lab in labels]
    kt = _kt_symbols(n)
    as_k = {kt[(a, b)]: signs[a] * signs[b] * sp.Symbol(f"K_{a}{b}", real=True) for a in range(n) for b in range(a, n)}
    weights = {sp.Symbol(f"p_{b}", positive=True) for b in range(n)}
    for a in range(n):
        target = _canonical_increment(n, a, sigma_minus).subs(as_k)
        terms = sp.Add.make_args(sp.expand(sp.expand_power_exp(increments[a] - target)))
        # every term comes from one input x' (it carries p_x' and only m_x'): cancel each input's group apart
        groups = {}
        for term in terms:
            owners = tuple(sorted(str(q) for q in term.free_symbols & weights))
            groups.setdefault(owners, []).append(term)
        if any(sp.cancel(sp.together(sp.Add(*group))) != 0 for group in groups.values()):
            return False
    return True


@lru_cache(maxsize=None)
def binary_margin_map(n: int) -> Map:
    """The binary margin map for n inputs as a lane Map (one lane = one instance).

    States m_0..m_{n-1}; parameters kt_ab (a <= b, the signed Gram matrix Kt), p_0..p_{n-1}, kappa,
    eta.  sigma(-m) is the factor derived in :func:`row_lemma`."""
    require(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and 1 <= n <= MAX_LANE_N, "n",
            f"an integer in 1..{MAX_LANE_N} (the lane map is expanded in n)", n)
    n = int(n)
    sigma_minus = row_lemma().sigma_minus
    ms = _margin_symbols(n)
    kt = _kt_symbols(n)
    params = (*[kt[(a, b)] for a in range(n) for b in range(a, n)],
              *[sp.Symbol(f"p_{a}", positive=True) for a in range(n)], kappa, eta)
    update = tuple(ms[a] + _canonical_increment(n, a, sigma_minus) for a in range(n))
    return Map(tuple(ms), update, params, eta, f"binary margin map, N = {n}")


def lane_parameters(Kt_matrix, p_vector, kappa_value: float, eta_value: float) -> np.ndarray:
    """One row of parameters in the order of :func:`binary_margin_map`'s ``params``."""
    Kt_matrix = np.asarray(Kt_matrix, dtype=float)
    p_vector = np.asarray(p_vector, dtype=float)
    require(Kt_matrix.ndim == 2 and Kt_matrix.shape[0] == Kt_matrix.shape[1], "Kt", "a square matrix", Kt_matrix.shape)
    n = Kt_matrix.shape[0]
    require(np.allclose(Kt_matrix, Kt_matrix.T, atol=1e-12), "Kt", "symmetric")
    require(p_vector.shape == (n,), "p", f"a vector of length {n}", p_vector.shape)
    require(bool(np.all(p_vector > 0)), "p", "positive in every entry", tuple(p_vector))
    require(np.isfinite(kappa_value) and kappa_value > 0, "kappa", "a finite number > 0", kappa_value)
    require(np.isfinite(eta_value) and eta_value > 0, "eta", "a finite number > 0", eta_value)
    upper = [Kt_matrix[a, b] for a in range(n) for b in range(a, n)]
    return np.array([*upper, *p_vector, kappa_value, eta_value], dtype=float)


# --- the derivation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TwoParticleConstants:
    """The separable laws for two inputs with opposite labels, e_2 = (alpha, sqrt(1 - alpha^2)), kappa = 2."""

    lam: sp.Matrix  # lambda = Kt^{-1} 1 with Kt = [[1, -alpha], [-alpha, 1]]
    rate: sp.Expr  # lim eta t L = 1^T lambda / kappa = 1 / (1 - alpha)
    c: sp.Expr  # c_1 = log(2 (1 - alpha) p_1), the first input's margin offset


@dataclass(frozen=True, eq=False)
class BinaryMemoryDerivation(Derivation):
    """What :func:`derive` derives, by name."""

    loss: sp.Expr  # ell(m) = log(1 + e^{-m}), the loss of one input in its margin
    sigma_minus: sp.Expr  # sigma(-m) = -d ell/dm, the factor of the margin map
    residuals: Mapping[int, sp.Expr]  # label -> (y - pi) Gamma (1, -1)^T = eps kappa sigma(-m)
    kappa_of_gamma: sp.Expr  # kappa = Gamma_00 - 2 Gamma_01 + Gamma_11 = ||u_0 - u_1||^2
    increment: sp.Expr  # Delta m(x) = eta kappa sum_j Kt(x, j) p_j sigma(-m_j), index notation
    # (method, label pattern) -> logit-particle GD reduces, closed, to the binary margin map
    reductions: Mapping[tuple[str, tuple[int, ...]], bool]
    stationarity: sp.Eq  # the ansatz m_x = log(eta t) + c_x at order 1/t: 1 = kappa sum_j Kt p_j e^{-c_j}
    c_limit: sp.Expr  # c_x = log(kappa p_x / lambda_x), in the symbols kappa, p[x], lambda[x]
    margin_law: Law  # lim m_x - log(eta t) = c_x (separable, all points support vectors)
    approach_drift: sp.Expr  # coefficient of delta_j in d delta_x / d log t: -Kt(x, j) lambda_j
    per_input_rate: sp.Expr  # lim eta t p_j ell_j = lambda_j / kappa
    loss_law: Law  # lim eta t L = 1 / (kappa gamma_*^2)
    two_particle: TwoParticleConstants  # the separable laws for two inputs with opposite labels
    hessian_v: sp.Matrix  # Hessian of L(v) for N = 3 points in d = 2, in the symbols z_ab, v_a, p_a
    stability_law: Law  # GD is linearly stable at the CE minimizer iff eta < 2 / (kappa h_max)
    claims: Mapping[str, Claim]  # the identities checked by simplification and at random points


SEPARABLE_ANSATZ = sp.log(eta * t) + c[j]  # m_j = log(eta t) + c_j


def _rational_in_exponentials(expr) -> sp.Expr:
    """Cancel as a rational function of the exponentials (exact, and much faster than simplify)."""
    return sp.cancel(sp.together(sp.expand_power_exp(sp.expand(expr))))


def _matrix_vanishes(matrix, statement: str, points: int = 3) -> Claim:
    """Every entry vanishes: cancellation in the exponentials and random points (``vanishes`` per entry)."""
    entries = [e for e in sp.Matrix(matrix) if e != 0]
    claims = [vanishes(e, statement, points, seed=i, simplifier=_rational_in_exponentials) for i, e in enumerate(entries)]
    return Claim(statement, all(cl.simplifies_to_zero for cl in claims),
                 max((cl.max_abs_at_random_points for cl in claims), default=0.0), points * max(1, len(claims)))


def _symmetric_matrix(name: str, n: int) -> sp.Matrix:
    entries = {}
    for a in range(n):
        for b in range(a, n):
            entries[(a, b)] = entries[(b, a)] = sp.Symbol(f"{name}_{a}{b}", real=True)
    return sp.Matrix(n, n, lambda a, b: entries[(a, b)])


@lru_cache(maxsize=None)
def _three_inputs() -> tuple[sp.Matrix, sp.Matrix]:
    """A symbolic symmetric 3 x 3 Kt and lambda = Kt^{-1} 1 (the separable stages share them)."""
    Kt3 = _symmetric_matrix("kt", 3)
    return Kt3, Kt3.inv() * sp.ones(3, 1)


@lru_cache(maxsize=None)
def derive() -> BinaryMemoryDerivation:
    doc = Draft("Binary associative memory (M = 2): margin map, separable laws, finite minimizer")
    one_input = _one_input(doc)
    margin_map = _margin_map(doc, one_input["sigma_minus"])
    separable = _separable_margins(doc, one_input["sigma_minus"])
    approach = _approach(doc, one_input["sigma_minus"])
    loss_rate = _separable_loss(doc, one_input["loss"], separable["c_limit"])
    two_particle = _two_particles(doc, separable["c_limit"])
    not_separable = _not_separable(doc, one_input["loss"], one_input["sigma_minus"])
    stages = (one_input, margin_map, separable, approach, loss_rate, two_particle, not_separable)
    claims = {name: claim for stage in stages for name, claim in stage.pop("claims").items()}
    return doc.finish(BinaryMemoryDerivation, **{k: v for stage in stages for k, v in stage.items()}, claims=claims)


def _one_input(doc: Draft) -> dict:
    """The loss of one input and its logit residual, both closed in the margin (the row lemma)."""
    lemma = row_lemma()
    doc.add("Cross-entropy of one input (M = 2)",
            rf"\ell = {sp.latex(per_example_loss(0))},\quad m = \epsilon_x (s_0 - s_1),\quad \ell = {sp.latex(lemma.loss)}",
            r"$\epsilon_x = +1$ if $f^*(x) = 0$ else $-1$. Substituting $s_{f^*(x)} = s_{\text{other}} + m$ leaves a "
            r"function of $m$ alone, the same for both labels. For every input $x$ and any real logits $s_0, s_1$.",
            checked_by="substitution; difference of the two labels simplifies to 0 and vanishes at random points")
    doc.add("Logit residual routed through U U^T, closed in the margin",
            rf"(y - \pi)\,\Gamma \begin{{pmatrix}}1\\-1\end{{pmatrix}} = \epsilon_x \kappa\, {sp.latex(lemma.sigma_minus)},"
            rf"\quad \kappa = {sp.latex(KAPPA_OF_GAMMA)} = \lVert u_0 - u_1 \rVert^2",
            r"$y - \pi = -\partial \ell / \partial s$ is differentiated from $\ell$; after $s_{f^*} = s_{\text{other}} + m$ "
            r"the gauge logit cancels (closure) and $\Gamma = UU^T$ enters only through $\kappa$. For every input $x$, any "
            r"real logits and any output embeddings $u_0, u_1$; $y$ is the one-hot label, $\pi$ the softmax.",
            checked_by="closure (gauge logit absent) and elimination of Gamma_00 for both labels")
    return dict(loss=lemma.loss, sigma_minus=lemma.sigma_minus, residuals=lemma.residuals,
                kappa_of_gamma=KAPPA_OF_GAMMA, claims=dict(lemma.claims))


def _margin_map(doc: Draft, sigma_minus) -> dict:
    """The binary margin map in index notation, and the explicit reductions of logit-particle GD to it."""
    summand = Kt[x, j] * p[j] * sigma_minus.subs(m, margins[j])
    increment = eta * kappa * sp.Sum(summand, (j, 0, N - 1))
    # Delta m(x) = eta eps_x sum_x' K(x,x') p(x') [row x' residual], the residual from the row lemma
    index_summand = eta * eps[x] * K[x, j] * p[j] * (eps[j] * kappa * sigma_minus.subs(m, margins[j]))
    claims = {"index form: eps_x eps_x' K = Kt": vanishes(
        index_summand - (eta * kappa * summand).subs(Kt[x, j], eps[x] * eps[j] * K[x, j]), "index form")}
    doc.add("Binary margin map (GD)",
            rf"{sp.latex(margins[x])} \leftarrow {sp.latex(margins[x])} + {sp.latex(increment)},\quad "
            rf"\tilde K(x, x') = \epsilon_x \epsilon_{{x'}} \langle e_x, e_{{x'}} \rangle",
            r"From $S \leftarrow S + \eta K P (Y - \Pi) \Gamma$: $\Delta m(x) = \eta \epsilon_x \sum_{x'} K(x,x') p(x') "
            r"[(y_{x'} - \pi_{x'}) \Gamma (1,-1)^T]$ and each bracket is $\epsilon_{x'} \kappa \sigma(-m(x'))$ by the "
            r"previous step. Interference is destructive where $\tilde K(x, x') < 0$. For every input $x = 0, \dots, N - 1$, "
            r"at every GD step from any $W_0$, any $\eta > 0$, any embeddings ($M = 2$), weights $p_x > 0$.",
            checked_by="row closure above; explicit reductions below")
    reductions = {("Map.reduce", (0, 1)): _matches_canonical(2, (0, 1), reduce_logit_gd(2, (0, 1), True), sigma_minus)}
    for n in (2, 3):
        for labels in itertools.product((0, 1), repeat=n):
            reductions[("term by term", labels)] = _matches_canonical(n, labels, reduce_logit_gd(n, labels, False),
                                                                      sigma_minus)
    doc.add("Explicit reductions of the logit-particle map",
            r"\text{all label patterns for } N = 2, 3 \ (\text{term by term}),\ N = 2,\ f^* = (0, 1) \ (\texttt{Map.reduce}): "
            + (r"\text{closed and equal to the binary margin map}" if all(reductions.values()) else r"\text{FAILED}"),
            "Every component s_{x y} is a state; the margins are the new variables, the second logit of each input "
            r"the gauge. One GD step from any logits, with symbolic $\eta$, weights $p_x$ and Gram matrices $K$, "
            r"$\Gamma$ ($M = 2$).", checked_by="closure in the margins and difference to the formula cancels to 0")
    return dict(increment=increment, reductions=reductions, claims=claims)


def _separable_margins(doc: Draft, sigma_minus) -> dict:
    """Separable case: the ansatz m_x = log(eta t) + c_x matched at order 1/t, solved for the c_x."""
    ansatz = SEPARABLE_ANSATZ
    lhs_rate = sp.limit(t * (sp.log(eta * (t + 1)) - sp.log(eta * t)), t, sp.oo)
    term_rate = sp.limit(t * eta * sigma_minus.subs(m, ansatz), t, sp.oo)
    stationarity = sp.Eq(lhs_rate, kappa * sp.Sum(Kt[x, j] * p[j] * term_rate, (j, 0, N - 1)))
    doc.add("Ansatz m_x = log(eta t) + c_x in the map, order 1/t",
            sp.latex(stationarity),
            r"$t\,\Delta\log(\eta t) \to 1$ and $t\,\eta\,\sigma(-\log(\eta t) - c) \to e^{-c}$ (SymPy limits; the limit of "
            r"the finite sum is the sum of the limits). For every input $x$, at fixed $\eta > 0$, as the step count "
            r"$t \to \infty$: the balance of the terms of order $1/t$ in the map.", checked_by="sympy.limit, term by term")
    # solve the linear system kappa Kt z = 1, z_j = p_j e^{-c_j}: explicit 3 x 3 symbolic Kt
    Kt3, lam3 = _three_inputs()
    z = sp.Matrix(sp.symbols("z_0:3"))
    (solution,) = sp.linsolve(list(kappa * Kt3 * z - sp.ones(3, 1)), list(z))
    claims = {"z = Kt^{-1} 1 / kappa (3 x 3)": vanishes(
        sp.Add(*[(solution[i] - lam3[i] / kappa) ** 2 for i in range(3)]), "linear solve", points=6,
        simplifier=lambda e: sp.simplify(sp.factor(e)))}
    c_solved = sp.solve(sp.Eq(p[x] * sp.exp(-c[x]), lam[x] / kappa), c[x])
    if len(c_solved) != 1:
        raise AssertionError(f"expected one real c_x, got {c_solved}")
    c_limit = sp.expand_log(c_solved[0], force=True)
    claims["c_x = log(kappa p / lambda)"] = vanishes(c_limit - sp.log(kappa * p[x] / lam[x]), "c_x",
                                                     simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True)))
    margin_law = Law("separable margin limit", margins[x] - sp.log(eta * t), sp.log(kappa * p[x] / lam[x]), t, "limit",
                     None, {"lambda": r"\tilde K^{-1} 1", "c_x": c_limit},
                     ("separable", "Kt invertible and lambda = Kt^{-1} 1 > 0 (all points support vectors)",
                      "ASSUMED: m_x - log(eta t) converges (checked numerically)", "W_0 = 0 or any finite start"))
    doc.add("Separable margins",
            margin_law.latex() + r",\quad \lambda = \tilde K^{-1} \mathbf{1} > 0",
            r"Derived: the only constants $c_x$ for which the ansatz solves the map at order $1/t$ are "
            r"$p_x e^{-c_x} = \lambda_x / \kappa$ (unique when $\tilde K$ is invertible), real iff $\lambda_x > 0$. "
            r"Assumed: that $m_x - \log(\eta t)$ converges at all (the implicit-bias limit), and that every point is a "
            r"support vector; the rate of the $o(1)$ term is derived only at linear order (next step). Checked "
            r"against long GD runs. For every input $x$, $p_x > 0$, $\kappa = \lVert u_0 - u_1 \rVert^2 > 0$, GD from "
            r"$W_0 = 0$ or any finite start at fixed $\eta > 0$, as the step count $t \to \infty$.",
            checked_by="linsolve of the 3 x 3 system equals Kt^{-1} 1 / kappa; solve for c_x")
    return dict(stationarity=stationarity, c_limit=c_limit, margin_law=margin_law, claims=claims)


def _approach(doc: Draft, sigma_minus) -> dict:
    """Approach to the limit: delta_x = m_x - log(eta t) - c_x, linearised (first order in delta, order 1/t)."""
    delta = sp.IndexedBase("delta", real=True)
    shifted = sp.limit(t * eta * sigma_minus.subs(m, SEPARABLE_ANSATZ + delta[j]), t, sp.oo)  # e^{-c_j - delta_j}
    linear = sp.series(shifted, delta[j], 0, 2).removeO()
    drift_term = sp.expand(kappa * Kt[x, j] * p[j] * linear)
    # with p_j e^{-c_j} = lambda_j / kappa the order-0 part is the stationarity sum, the order-1 part:
    drift_linear = sp.simplify(drift_term.coeff(delta[j]).subs(sp.exp(-c[j]), lam[j] / (kappa * p[j])))
    claims = {"linearised drift = -Kt lambda_j delta_j": vanishes(drift_linear + Kt[x, j] * lam[j], "linearised drift")}
    doc.add("Approach to the separable limit (linearised)",
            r"\frac{d \delta_x}{d \log t} = -\sum_{x'} \tilde K(x, x') \lambda_{x'} \delta_{x'} + O(\delta^2) + O(1/t),"
            r"\quad \delta_x = m_x - \log(\eta t) - c_x",
            r"Derived at first order: $t\,\eta\,\sigma(-\log(\eta t) - c - \delta) \to e^{-c-\delta}$, expanded in "
            r"$\delta$. $\tilde K \operatorname{diag}(\lambda)$ has the eigenvector $\mathbf{1}$ (eigenvalue 1, as "
            r"$\tilde K \lambda = \mathbf{1}$) and positive spectrum; if its smallest eigenvalue $\mu$ is below 1, "
            r"$\delta$ decays only like $t^{-\mu}$ (e.g. two particles with cooperative interference, $\alpha < 0$: "
            r"$\mu = (1 + \alpha)/(1 - \alpha)$). Assumed: the linearisation governs the tail. For every input $x$, as "
            r"$t \to \infty$ with $\delta$ small, under the conditions of the previous step ($\tilde K$ invertible, "
            r"$\lambda > 0$).",
            checked_by="sympy.limit and series in delta; coefficient equals -Kt lambda")
    return dict(approach_drift=drift_linear, claims=claims)


def _separable_loss(doc: Draft, loss, c_limit) -> dict:
    """The loss rate of the separable case and the hard-margin SVM whose duals are lambda."""
    per_input = sp.limit(eta * t * p[j] * loss.subs(m, SEPARABLE_ANSATZ), t, sp.oo)
    per_input_lambda = sp.simplify(per_input.subs(c[j], c_limit.subs(x, j)))
    loss_sum = sp.Sum(per_input_lambda, (j, 0, N - 1))
    claims = {"eta t p ell -> lambda / kappa": vanishes(per_input_lambda - lam[j] / kappa, "per input")}
    # hard-margin SVM: min 1/2 ||v||^2 s.t. Z v >= 1, Z = rows eps_x e_x
    d = sp.Symbol("d", integer=True, positive=True)
    Zs, v, alpha = sp.MatrixSymbol("Z", N, d), sp.MatrixSymbol("v", d, 1), sp.MatrixSymbol("alpha", N, 1)
    lagrangian = (v.T * v) / 2 - alpha.T * (Zs * v - sp.OneMatrix(N, 1))
    stationary = lagrangian.diff(v)
    if sp.simplify(stationary - (v - Zs.T * alpha)) != sp.ZeroMatrix(d, 1):
        raise AssertionError(f"unexpected stationarity condition {stationary}")
    Kt3, lam3 = _three_inputs()
    claims["||v||^2 = 1^T Kt^{-1} 1 when all constraints are active (3 x 3)"] = vanishes(
        ((lam3.T * Kt3 * lam3)[0, 0] - sum(lam3)), "svm norm", points=6, simplifier=lambda e: sp.simplify(sp.factor(e)))
    doc.add("Hard-margin SVM with all points support vectors",
            r"\nabla_v \mathcal{L} = " + sp.latex(stationary) + r" = 0,\quad Z Z^T \alpha = \mathbf{1} \Rightarrow "
            r"\alpha = \tilde K^{-1}\mathbf{1} = \lambda,\quad \frac{1}{\gamma_*^2} = \lVert \hat v \rVert^2 = "
            r"\lambda^T \tilde K \lambda = \mathbf{1}^T \lambda",
            r"$\mathcal{L} = \tfrac12 \lVert v \rVert^2 - \alpha^T (Z v - 1)$ with rows of $Z$ the signed points "
            r"$\epsilon_x e_x$ (so $Z Z^T = \tilde K$); the duals of this normalisation are exactly $\lambda$. Assumes "
            r"$\tilde K$ invertible and $\lambda = \tilde K^{-1}\mathbf{1} > 0$, so every constraint is active "
            r"($Z \hat v = \mathbf{1}$); $\hat v$ is the SVM solution and $\gamma_*$ the max margin.",
            checked_by="matrix derivative of the Lagrangian; lambda^T Kt lambda - 1^T lambda simplifies to 0 (3 x 3)")
    loss_law = Law("separable loss rate", eta * t * L_symbol, 1 / (kappa * gamma_star ** 2), t, "limit", None,
                   {"1/gamma*^2": sp.Sum(lam[j], (j, 0, N - 1)), "per_input": per_input_lambda},
                   ("separable, all points support vectors", "ASSUMED: the margin limit above",
                    "independent of eta: large steps accelerate convergence linearly"))
    doc.add("Separable loss rate",
            loss_law.latex() + r",\quad \eta t L \to " + sp.latex(loss_sum) + r" = \frac{\mathbf{1}^T\lambda}{\kappa}",
            r"Each input contributes $\lim \eta t\, p_x \ell(\log(\eta t) + c_x) = p_x e^{-c_x} = \lambda_x/\kappa$; "
            r"the limit does not contain $\eta$. $L = \sum_x p_x \ell(m_x)$; GD at any fixed $\eta > 0$, as the step count "
            r"$t \to \infty$, under the separable margin limit (assumed above; $\lambda > 0$, $\kappa > 0$); the rate "
            r"of approach is not derived.", checked_by="sympy.limit per input, SVM identity")
    return dict(per_input_rate=per_input_lambda, loss_law=loss_law, claims=claims)


def _two_particles(doc: Draft, c_limit) -> dict:
    """The separable laws for two inputs with opposite labels: Kt = [[1, -alpha], [-alpha, 1]], kappa = 2."""
    a_sym = sp.Symbol("alpha", real=True)
    p1 = sp.Symbol("p_1", positive=True)
    Kt2 = sp.Matrix([[1, -a_sym], [-a_sym, 1]])
    lam2 = sp.simplify(Kt2.inv() * sp.ones(2, 1))
    two_rate = sp.simplify(sum(lam2) / 2)
    two_c = sp.simplify(c_limit.subs({kappa: 2, p[x]: p1, lam[x]: lam2[0]}))
    claims = {"two particles: eta t L -> 1/(1 - alpha)": vanishes(two_rate - 1 / (1 - a_sym), "two-particle rate"),
              "two particles: c = log(2 (1 - alpha) p)": vanishes(sp.exp(two_c) - 2 * (1 - a_sym) * p1,
                                                                   "two-particle c")}
    doc.add("Check against the two-particle model (opposite labels)",
            rf"\lambda = {sp.latex(lam2.T)},\quad \eta t L \to {sp.latex(two_rate)},\quad c_1 = {sp.latex(two_c)}",
            r"With $e_2 = (\alpha, \sqrt{1-\alpha^2})$, opposite labels, $\kappa = 2$: the two-particle model (am-two-particle). "
            r"For $|\alpha| < 1$ (then $\lambda > 0$) and $0 < p_1 < 1$; $c_1$ is the offset of the first input, of "
            r"weight $p_1$.",
            checked_by="simplifies to 1/(1 - alpha) and log(2 (1 - alpha) p_1)")
    return dict(two_particle=TwoParticleConstants(lam2, two_rate, two_c), claims=claims)


def _not_separable(doc: Draft, loss, sigma_minus) -> dict:
    """Not separable: the margin map is GD on v with step eta kappa; its Hessian, the W-space Hessian and the
    linear stability threshold at the finite minimizer."""
    hess_v, claims = _v_space(loss, sigma_minus)
    claims["W-space Hessian = (a a^T) kron H_v"] = _w_space_hessian()
    stability_law = Law("GD stability at the CE minimizer", eta, 2 / (kappa * h_max), t, "upper bound", None,
                        {"h_max": "top eigenvalue of the Hessian of L(v) at the minimizer",
                         "sharpness": kappa * h_max},
                        ("not separable: a finite CE minimizer v* exists (rows of Z not in a closed half-space)",
                         "DERIVED: linear stability of the fixed point v* of v <- v - eta kappa grad L(v)",
                         "ASSUMED/OBSERVED: above the threshold GD settles into a persistent cycle"))
    doc.add("Not separable: finite minimizer and its stability",
            r"v \leftarrow v - \eta\kappa \nabla L(v),\quad \nabla^2 L(v) = Z^T \operatorname{diag}(p\,\sigma(m)\sigma(-m)) Z,"
            r"\quad \nabla^2_W L = (u_0 - u_1)(u_0 - u_1)^T \otimes \nabla^2_v L,\quad "
            + stability_law.latex(),
            r"The margin map is GD on $v = W^T(u_0 - u_1)$ with step $\eta\kappa$ (applying $Z$ to the $v$ step gives the "
            r"margin map). The $W$-space sharpness at $W^*$ is $\kappa h_{\max}$; the Jacobian $I - \eta\kappa H$ has "
            r"spectral radius $< 1$ iff $\eta < 2/(\kappa h_{\max})$. That GD converges from $W_0 = 0$ below the "
            r"threshold (global convergence) and cycles above it is not derived here: it is checked numerically. "
            r"The map and the Hessians hold at every $v$ (every $W$); the threshold assumes the data not separable (the "
            r"rows of $Z$ in no closed half-space through 0), so that a finite minimizer $v^*$ exists, $h_{\max}$ the top "
            r"eigenvalue of $\nabla^2 L(v^*)$, and $u_0 \ne u_1$ ($\kappa > 0$).",
            checked_by="gradient, Hessian and v-map identities vanish at random points; Kronecker identity; inequality")
    return dict(hessian_v=hess_v, stability_law=stability_law, claims=claims)


def _v_space(loss, sigma_minus) -> tuple[sp.Matrix, dict]:
    """L(v) for N = 3 signed points z_x in d = 2: its gradient and Hessian, the margin map as GD on v with step
    eta kappa, and the linear stability of that GD at a fixed point.  Returns the Hessian and the claims."""
    n3, d2 = 3, 2
    Zm = sp.Matrix(n3, d2, lambda a, b: sp.Symbol(f"z_{a}{b}", real=True))
    vv = sp.Matrix(sp.symbols("v_0:2", real=True))
    P3 = [sp.Symbol(f"p_{a}", positive=True) for a in range(n3)]
    mv = Zm * vv
    Lv = sum(P3[a] * loss.subs(m, mv[a]) for a in range(n3))
    grad_v = sp.Matrix([sp.diff(Lv, vi) for vi in vv])
    sig = sp.Matrix([sigma_minus.subs(m, mv[a]) for a in range(n3)])
    claims = {"grad L(v) = -Z^T P sigma(-Z v)": _matrix_vanishes(grad_v + Zm.T * sp.diag(*P3) * sig, "gradient")}
    hess_v = sp.hessian(Lv, list(vv))
    weights = [P3[a] * sigma_minus.subs(m, mv[a]) * sigma_minus.subs(m, -mv[a]) for a in range(n3)]
    claims["Hessian = Z^T diag(p sigma(m) sigma(-m)) Z"] = _matrix_vanishes(hess_v - Zm.T * sp.diag(*weights) * Zm,
                                                                           "hessian")
    v_next = vv - eta * kappa * grad_v
    margin_next = sp.Matrix([mv[a] + eta * kappa * sum((Zm * Zm.T)[a, b] * P3[b] * sig[b] for b in range(n3))
                             for a in range(n3)])
    claims["margin map = GD on v with step eta kappa"] = _matrix_vanishes(Zm * v_next - margin_next, "v map")
    h = sp.Symbol("h", positive=True)
    stable = sp.reduce_inequalities([sp.Abs(1 - eta * kappa * h) < 1], eta)
    threshold = 2 / (kappa * h)
    stable_ok = stable == (eta < threshold) or stable == sp.And(eta > 0, eta < threshold)
    claims["|1 - eta kappa h| < 1 iff eta < 2/(kappa h)"] = vanishes(sp.Integer(0 if stable_ok else 1), "stability")
    return hess_v, claims


def _w_space_hessian() -> Claim:
    """The loss depends on W only through w = W^T a, a = u_0 - u_1 (row lemma).  The Hessian of a composition
    with a linear map only involves the second derivatives of the outer function at the point, so a general
    quadratic outer function proves the identity for every f."""
    Wm = sp.Matrix(2, 2, lambda a, b: sp.Symbol(f"W_{a}{b}", real=True))
    avec = sp.Matrix(sp.symbols("a_0:2", real=True))
    Q = _symmetric_matrix("q", 2)
    bvec = sp.Matrix(sp.symbols("b_0:2", real=True))
    w = Wm.T * avec
    outer = ((w.T * Q * w) / 2 + bvec.T * w)[0, 0]
    Hw = sp.hessian(outer, list(Wm))  # row-major vec(W)
    return _matrix_vanishes(Hw - sp.kronecker_product(avec * avec.T, Q), "kron")


# --- numeric evaluation of the separable laws ------------------------------------------------------


@dataclass(frozen=True)
class SeparableConstants:
    """The separable laws of one instance, evaluated."""

    lam: np.ndarray  # lambda = Kt^{-1} 1 (the SVM duals)
    c: np.ndarray  # margin offsets c_x = log(kappa p_x / lambda_x)
    approach_exponent: float  # mu: delta ~ t^{-mu}, the smallest eigenvalue of Kt diag(lambda)
    eta_t_loss: float  # lim eta t L = 1^T lambda / kappa
    gamma_star: float  # max margin 1 / sqrt(1^T lambda)


def separable_constants(Kt_matrix, p_vector, kappa_value: float,
                        doc: BinaryMemoryDerivation | None = None) -> SeparableConstants:
    """lambda = Kt^{-1} 1, the margin offsets c_x = log(kappa p_x / lambda_x) and lim eta t L = 1^T lambda / kappa.

    The closed forms are the derived ones (``c_limit``, ``per_input_rate``), evaluated with NumPy; ``doc`` is
    :func:`derive`'s derivation (pass a cached copy to skip the SymPy work)."""
    Kt_matrix = np.asarray(Kt_matrix, dtype=float)
    p_vector = np.asarray(p_vector, dtype=float)
    require(Kt_matrix.ndim == 2 and Kt_matrix.shape[0] == Kt_matrix.shape[1] and Kt_matrix.size > 0, "Kt",
            "a non-empty square matrix", Kt_matrix.shape)
    n = Kt_matrix.shape[0]
    require(bool(np.all(np.isfinite(Kt_matrix))) and np.allclose(Kt_matrix, Kt_matrix.T, atol=1e-12), "Kt",
            "finite and symmetric")
    require(p_vector.shape == (n,), "p", f"a vector of length {n}", p_vector.shape)
    require(bool(np.all(p_vector > 0)) and abs(p_vector.sum() - 1) <= 1e-9, "p", "positive and summing to 1",
            tuple(p_vector))
    require(np.isfinite(kappa_value) and kappa_value > 0, "kappa", "a finite number > 0", kappa_value)
    if np.linalg.cond(Kt_matrix) > 1e12:
        raise ParameterError("Kt", "invertible (the embeddings must be linearly independent)")
    lam_value = np.linalg.solve(Kt_matrix, np.ones(n))
    require(bool(np.all(lam_value > 0)), "lambda",
            "positive in every entry (all points support vectors; lambda = Kt^{-1} 1)", tuple(lam_value))
    doc = derive() if doc is None else doc
    c_of = sp.lambdify((kappa, p[x], lam[x]), doc.c_limit, "numpy")
    rate_of = sp.lambdify((kappa, lam[j]), doc.per_input_rate, "numpy")
    # rate of approach: delta ~ t^{-mu}, mu the smallest eigenvalue of Kt diag(lambda) (capped at 1 by the
    # O(1/t) forcing); the spectrum is that of the symmetric diag(lambda)^{1/2} Kt diag(lambda)^{1/2}
    root = np.sqrt(lam_value)
    mu = float(np.linalg.eigvalsh(root[:, None] * Kt_matrix * root[None, :])[0])
    return SeparableConstants(lam_value, np.asarray(c_of(kappa_value, p_vector, lam_value), dtype=float), mu,
                              float(np.sum(rate_of(kappa_value, lam_value))), float(1.0 / np.sqrt(lam_value.sum())))
