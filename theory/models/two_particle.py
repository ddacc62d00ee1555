"""Two interacting particles: the loss-spike model of the associative memory.

N = M = d = 2, U = I, e_1 = (1, 0), e_2 = (alpha, sqrt(1 - alpha^2)), p = (p1, 1 - p1), W_0 = 0.
Labels f*(x) = x ("opposite") or f* = 0 ("same").  Everything below is derived by SymPy from the
general logit flow dS/dt = K P (Y - Pi(S)) Gamma of ``associative_memory`` instantiated with these
concrete matrices; the closed forms are never typed in (the tests type them in as oracles).

What is derived and how (also written into the Derivation's steps):

- the 4-logit flow (instantiation), its reduction to the two margins m1, m2 (closure proved by
  ``Flow.reduce``) and the GD map (``Map.reduce`` of the Euler map of the logit flow);
- the binary-margin form m_x' = kappa sum_x' Kt(x, x') p(x') sigma(-m_x') of two-class memories, with
  kappa = ||u_0 - u_1||^2 and Kt = eps eps^T o E E^T computed from U, E and the labels;
- stabilised (overflow-free) forms of the map, the loss and the sharpness, proved equal to the
  derived ones on every sign pattern of the margins (case split m = +r, m = -r with r > 0);
- the first GD step (map at m = 0) and the dip condition (sign of the rare margin's first step,
  solved for alpha);
- the Hessian of L(W) in W-space (4 x 4, sp.hessian), its top eigenvalue at W = 0 (eigenvals)
  and the stability threshold 2 / sharpness; the Gauss-Newton identity H = J^T diag(p l'') J
  (exact: margins are linear in W) verified, giving the sharpness as a function of the margins;
- the asymptotic constants from the ansatz m_x = log(eta t) + c_x: lim t * (m_{t+1} - m_t) = 1
  is a linear system for e^{-c_x}, solved; lim eta t L follows by a limit; cross-checked against
  the max-margin (hard-margin SVM) route 1 / (kappa gamma*^2) and the max-margin direction.

``derive()`` returns a :class:`TwoParticleDerivation`: the objects of both labellings in a
:class:`LabelCase` each (``doc.cases[labels]``, or ``doc.opposite`` / ``doc.same``), the rest as
typed fields.  One helper per stage writes its steps and claims, in the order of the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import log1p

from gradflow.theory.derivation import Derivation, Draft
from gradflow.theory.errors import require
from gradflow.theory.flow import Flow, Map
from gradflow.theory.laws import Law
from gradflow.theory.matrix_functions import RowSoftmax
from gradflow.theory.verify import Claim, backed, vanishes
from gradflow.theory.models import associative_memory as am

p1 = sp.Symbol("p1", positive=True)
alpha = sp.Symbol("alpha", real=True)
eta = sp.Symbol("eta", positive=True)
m1, m2 = sp.symbols("m1 m2", real=True)
MARGINS = (m1, m2)
ZERO = {m1: 0, m2: 0}  # W_0 = 0: both margins 0
m_lane = sp.Symbol("m", real=True)  # the margin of one input, in the per-input loss l(m)
t = sp.Symbol("t", positive=True)  # the time symbol of Flow and Law
lam = sp.Symbol("lambda")
LABELS = {"opposite": (0, 1), "same": (0, 0)}  # f*(x) for x = 0, 1 (0-indexed inputs)
LOGITS = sp.Matrix(2, 2, [sp.Symbol(f"s{x}{y}", real=True) for x in range(2) for y in range(2)])
WEIGHTS = sp.Matrix(2, 2, [sp.Symbol(f"w{i}{j}", real=True) for i in range(2) for j in range(2)])


# --- parameters ---------------------------------------------------------------------------


def validate(p1_value=None, alpha_value=None, eta_value=None, labels=None) -> None:
    """ParameterError naming the parameter for values outside the model's domain."""
    if p1_value is not None:
        value = np.asarray(p1_value, dtype=float)
        require(bool(np.all(np.isfinite(value)) and np.all((value > 0) & (value < 1))), "p1",
                "in the open interval (0, 1)", p1_value)
    if alpha_value is not None:
        value = np.asarray(alpha_value, dtype=float)
        require(bool(np.all(np.isfinite(value)) and np.all(np.abs(value) <= 1)), "alpha", "in [-1, 1]", alpha_value)
    if eta_value is not None:
        value = np.asarray(eta_value, dtype=float)
        require(bool(np.all(np.isfinite(value)) and np.all(value > 0)), "eta", "a finite number > 0", eta_value)
    if labels is not None:
        require(labels in LABELS, "labels", f"one of {', '.join(LABELS)}", labels)


def embeddings():
    """E (rows e_1, e_2) and U = I as SymPy matrices."""
    return sp.Matrix([[1, 0], [alpha, sp.sqrt(1 - alpha**2)]]), sp.eye(2)


def frequencies() -> sp.Matrix:
    return sp.Matrix([p1, 1 - p1])


def signs(labels: str) -> tuple:
    """eps_x = +1 for label 0, -1 for label 1 (the signs of the binary-margin form)."""
    validate(labels=labels)
    return tuple(1 if y == 0 else -1 for y in LABELS[labels])


def _softmax_rows(S: sp.Matrix) -> sp.Matrix:
    out = sp.zeros(*S.shape)
    for i in range(S.shape[0]):
        total = sum(sp.exp(S[i, j]) for j in range(S.shape[1]))
        for j in range(S.shape[1]):
            out[i, j] = sp.exp(S[i, j]) / total
    return out


def logit_flow(labels: str = "opposite") -> Flow:
    """The general logit flow of ``associative_memory`` with the concrete 2 x 2 data."""
    validate(labels=labels)
    general = am.derive().logit_flow
    (state,) = general.states
    ((placeholder, (meaning, _)),) = general.knowns.items()
    E, U = embeddings()
    y = LABELS[labels]
    concrete = {
        am.K: sp.ImmutableMatrix(sp.simplify(E * E.T)), am.Gram_out: sp.ImmutableMatrix(sp.simplify(U * U.T)),
        am.p_vec: sp.ImmutableMatrix(frequencies()), am.Y: sp.ImmutableMatrix(2, 2, lambda x, k: int(k == y[x])),
        state: sp.ImmutableMatrix(LOGITS),
    }
    rhs = general.rhs[0].xreplace({placeholder: meaning}).xreplace(concrete)
    rhs = rhs.replace(lambda e: isinstance(e, RowSoftmax), lambda e: sp.ImmutableMatrix(_softmax_rows(sp.Matrix(e.args[0]))))
    rhs = sp.Matrix(rhs.doit())
    return Flow(tuple(LOGITS), tuple(rhs), (p1, alpha), name=f"two-particle logit flow ({labels} labels)")


def _margin_change_of_variables(labels: str):
    y = LABELS[labels]
    S = LOGITS
    definitions = {m: S[x, y[x]] - S[x, 1 - y[x]] for x, m in enumerate(MARGINS)}
    ansatz = {S[x, y[x]]: m + S[x, 1 - y[x]] for x, m in enumerate(MARGINS)}
    return definitions, ansatz


def _sigma_bar(m):
    """sigma(-m) = 1 / (1 + e^m), as the derivation writes it."""
    return 1 / (1 + sp.exp(m))


# Overflow-free forms: every exponential has a non-positive argument whatever the sign of m.
def stable_sigma_bar(m):
    """sigma(-m) = e^{-(m + |m|)/2} / (1 + e^{-|m|})."""
    return sp.exp(-(m + sp.Abs(m)) / 2) / (1 + sp.exp(-sp.Abs(m)))


def stable_softplus(m):
    """log(1 + e^{-m}) = (|m| - m)/2 + log1p(e^{-|m|}).

    log1p is written explicitly: SymPy's log1p_opt (used by the lane printer) would turn
    log(1 + e^{-|m|}) into -|m| + log1p(e^{|m|}), which overflows."""
    return (sp.Abs(m) - m) / 2 + log1p(sp.exp(-sp.Abs(m)))


def stable_curvature(m):
    """sigma(m) sigma(-m) = e^{-|m|} / (1 + e^{-|m|})^2."""
    return sp.exp(-sp.Abs(m)) / (1 + sp.exp(-sp.Abs(m))) ** 2


def equal_on_sign_patterns(a, b, variables, statement):
    """Claims that a == b for every sign pattern of ``variables`` (each = +r or -r, r > 0)."""
    claims = []
    radii = [sp.Symbol(f"r_{i}", positive=True) for i in range(len(variables))]
    for pattern in product((1, -1), repeat=len(variables)):
        subs = {v: s * r for v, s, r in zip(variables, pattern, radii)}
        diff = sp.sympify(a).subs(subs) - sp.sympify(b).subs(subs)
        claims.append(_zero(diff, f"{statement} (signs {pattern})", points=4))
    return claims


def _zero(expr, statement, **kwargs):
    """vanishes() for a scalar, or for every entry of a matrix (one combined Claim).

    log1p(x) is rewritten as log(1 + x) first (an identity) so that simplification sees it."""
    expr = expr.replace(lambda e: isinstance(e, log1p), lambda e: sp.log(1 + e.args[0]))
    if isinstance(expr, sp.MatrixBase):  # every entry: simplification and 6 random points each
        kwargs.setdefault("points", 6)
        return _combine([vanishes(e, f"{statement} [{i}]", **kwargs) for i, e in enumerate(expr)], statement)
    return vanishes(expr, statement, **kwargs)


def _worst(claims):
    return max((c.max_abs_at_random_points for c in claims), default=0.0)


@dataclass(frozen=True, eq=False)
class Asymptotics:
    """The separable regime of one labelling, from the ansatz m_x = log(eta t) + c_x."""

    laws: tuple[Law, Law, Law]  # lim eta t L, then the offsets of m_1 and m_2, as Laws in t
    eta_t_loss: sp.Expr  # lim eta t L = 1 / (kappa gamma*^2); a function of alpha
    offsets: tuple[sp.Expr, sp.Expr]  # c_x = lim (m_x - log(eta t)); functions of (p1, alpha)
    support_weights: sp.Matrix  # lambda = Kt^{-1} 1, the max-margin route
    max_margin_direction: sp.Matrix  # v_hat = E^T (lambda o eps), the direction of v = W^T (u_0 - u_1)


@dataclass(frozen=True, eq=False)
class LabelCase:
    """What is derived for one labelling f*: ``opposite`` (f*(x) = x) or ``same`` (f*(x) = 0)."""

    logit_flow: Flow  # the four logits s_xy under the general logit flow with the concrete data; params (p1, alpha)
    margin_flow: Flow  # the logit flow reduced to the margins (m1, m2); params (p1, alpha)
    margin_map: Map  # one GD step of the margins; params (p1, alpha, eta)
    Kt: sp.Matrix  # eps eps^T o E E^T, the kernel of the binary-margin form
    lane_flow: Flow  # margin_flow in overflow-free form (what the generated code runs)
    lane_map: Map  # margin_map in overflow-free form (what the generated code runs)
    first_step: tuple[sp.Expr, sp.Expr]  # (m_1, m_2) after one GD step from m = 0
    asymptotics: Asymptotics  # eta t L and the margin offsets as t -> infinity


@dataclass(frozen=True, eq=False)
class TwoParticleDerivation(Derivation):
    """What :func:`derive` derives, by name."""

    cases: Mapping[str, LabelCase]  # by labelling: "opposite", "same" (the keys of LABELS)
    kappa: sp.Expr  # ||u_0 - u_1||^2 (= 2)
    loss: sp.Expr  # L(m1, m2) = sum_x p_x log(1 + e^{-m_x}); params p1
    lane_loss: sp.Expr  # the loss in overflow-free form (a lane observable)
    dip_threshold: sp.Expr  # p2 / p1: the rare margin first decreases iff alpha exceeds it (opposite labels)
    dip_condition: sp.Rel  # alpha > dip_threshold
    dip_set: sp.Interval  # the alphas of a dip: (dip_threshold, oo)
    hessian: sp.Matrix  # Hessian of L(W) in vec(W) = (w00, w01, w10, w11), 4 x 4 (opposite labels)
    hessian_at_zero: sp.Matrix  # the Hessian at W = 0 (the same for both labellings)
    hessian_eigenvalues_at_zero: Mapping[sp.Expr, int]  # eigenvalue of H(0) -> multiplicity
    sharpness_at_zero: sp.Expr  # lambda_max(H(0)); a function of (p1, alpha)
    stability_threshold: sp.Expr  # 2 / sharpness_at_zero: GD is stable at the start for eta below it
    sharpness: sp.Expr  # lambda_max(H) as a function of the margins (m1, m2); params (p1, alpha)
    sharpness_in_weights: sp.Expr  # lambda_max(D J J^T) in the weights a_x = p_x l''(m_x) (symbols a1, a2)
    lane_sharpness: sp.Expr  # the sharpness in overflow-free form (a lane observable)
    claims: Mapping[str, Claim]  # the identities checked by simplification and at random points

    @property
    def opposite(self) -> LabelCase:
        return self.cases["opposite"]

    @property
    def same(self) -> LabelCase:
        return self.cases["same"]


@lru_cache(maxsize=None)
def derive() -> TwoParticleDerivation:
    """The two-particle derivation, stage by stage (each helper adds its steps and claims in order)."""
    doc = Draft("Two interacting particles: the loss-spike model")
    E, U = embeddings()
    p = frequencies()
    claims: dict[str, Claim] = {}
    flows, margin_flows, maps = _margin_dynamics(doc, claims, E, U, p)
    kappa, Kt = _binary_form(doc, claims, margin_flows, E, U, p)
    ell, loss_margins, loss_logits = _losses(doc, claims, p)
    lane_flows, lane_maps, lane_loss, curvature = _stable_forms(doc, claims, kappa, Kt, maps, ell, p)
    first_step, dip_threshold, dip_condition, dip_set = _first_step_and_dip(doc, claims, maps, margin_flows)
    H, H0, margins_W = _hessian_at_zero(claims, E, U, p, ell, loss_logits)
    eigen, sharpness_zero, stability = _sharpness_at_zero(doc, claims, H0)
    top, top_a, lane_sharpness = _sharpness_along_run(doc, claims, H, margins_W, ell, curvature, p, kappa,
                                                      Kt["opposite"], sharpness_zero)
    asymptotics = {labels: _asymptotics(doc, claims, labels, maps[labels], loss_margins, Kt[labels], kappa, E, p)
                   for labels in LABELS}
    doc.add("Loss spikes (numerical statement, checked by simulation)",
            r"\eta > \frac{2}{\lambda_{\max}(H(0))}",
            "Above the threshold GD bounces across the narrow valley (period 2 across it): margins change sign, "
            "the loss spikes, the sharpness hovers near 2/eta then drops as the margins grow; the run then follows "
            "the valley at the 1/(eta t) rate, so the spikes are benign. With cooperative interference (alpha < 0, "
            "opposite labels) no loss increase appears. These are checked by `gradflow check am-two-particle`. "
            r"GD from $W_0 = 0$, $0 < p_1 < 1$, $|\alpha| \le 1$: observed on the checked settings (e.g. $p_1 = 0.75$, "
            r"$\alpha = 0.95$, opposite labels), not derived.")
    cases = {labels: LabelCase(flows[labels], margin_flows[labels], maps[labels], Kt[labels], lane_flows[labels],
                               lane_maps[labels], first_step[labels], asymptotics[labels]) for labels in LABELS}
    return doc.finish(
        TwoParticleDerivation,
        cases=cases, kappa=kappa, loss=loss_margins, lane_loss=lane_loss, dip_threshold=dip_threshold,
        dip_condition=dip_condition, dip_set=dip_set, hessian=H, hessian_at_zero=H0, hessian_eigenvalues_at_zero=eigen,
        sharpness_at_zero=sharpness_zero, stability_threshold=stability, sharpness=top, sharpness_in_weights=top_a,
        lane_sharpness=lane_sharpness, claims=claims,
    )


def _margin_dynamics(doc: Draft, claims: dict, E, U, p):
    """Logit flows of both labellings, their reduction to the two margins and the GD maps."""
    flows, maps, margin_flows = {}, {}, {}
    for labels in LABELS:
        flow = logit_flow(labels)
        definitions, ansatz = _margin_change_of_variables(labels)
        margin_flows[labels] = flow.reduce(definitions, ansatz, f"two-particle margin flow ({labels} labels)")
        maps[labels] = flow.gradient_descent_map(eta).reduce(definitions, ansatz,
                                                             f"two-particle margin map ({labels} labels)")
        flows[labels] = flow
        # a second route to the instantiated flow: sp.diff of the concrete log-sum-exp loss, mapped by K and Gamma
        dL_dS = sp.Matrix(2, 2, lambda x, k: sp.diff(_logit_loss(labels), LOGITS[x, k]))
        claims[f"logit flow = -K dL/dS Gamma ({labels})"] = _zero(
            sp.Matrix(flow.rhs) - sp.Matrix(list(-(E * E.T) * dL_dS * (U * U.T))), f"logit flow ({labels})")
    doc.add("Data", rf"E = {sp.latex(E)},\ U = I,\ p = {sp.latex(p.T)},\ K = E E^T = {sp.latex(sp.simplify(E * E.T))}",
            "Opposite labels f*(x) = x; same labels f*(x) = 0. "
            r"$N = M = d = 2$, $0 < p_1 < 1$, $p_2 = 1 - p_1$, $-1 \le \alpha \le 1$ (so $e_2$ has unit norm).")
    doc.add("Logit flow (opposite labels)", flows["opposite"].latex(),
            r"The general flow $\dot S = K P (Y - \Pi(S)) \Gamma$ of the associative memory with the concrete matrices: "
            r"gradient flow from any $W_0$, at every $t \ge 0$, $0 < p_1 < 1$, $|\alpha| \le 1$; $s_{xy}$ is the logit of "
            r"class $y$ at input $x$.",
            checked_by=backed("instantiation of the derived logit-particle flow; equals -K dL/dS Gamma by sp.diff",
                              *(claims[f"logit flow = -K dL/dS Gamma ({labels})"] for labels in LABELS)))
    for labels in LABELS:
        doc.add(f"Margin flow ({labels} labels)", margin_flows[labels].latex(),
                "m_x = s_{x, f*(x)} - s_{x, other}: the four logits reduce to two margins. "
                r"For both inputs $x = 1, 2$, from any $W_0$, at every $t \ge 0$; $0 < p_1 < 1$, $|\alpha| \le 1$.",
                checked_by="closure in (m1, m2) (Flow.reduce)")
        doc.add(f"Margin GD map ({labels} labels)", maps[labels].latex(),
                r"One GD step of size $\eta > 0$ on $W$ (the data above), written in the two margins: for both inputs, "
                r"from any $W_0$, at every step $t = 0, 1, 2, \dots$; $0 < p_1 < 1$, $|\alpha| \le 1$.",
                checked_by="closure in (m1, m2) (Map.reduce)")
    claims["GD map is the Euler map of the margin flow"] = _zero(
        sp.Matrix(maps["opposite"].update) - sp.Matrix(MARGINS) - eta * sp.Matrix(margin_flows["opposite"].rhs),
        "GD increment = eta * flow")
    claims["same-label map = opposite-label map with alpha -> -alpha"] = _zero(
        sp.Matrix(maps["same"].update) - sp.Matrix(maps["opposite"].update).subs(alpha, -alpha), "same vs opposite")
    return flows, margin_flows, maps


def _binary_form(doc: Draft, claims: dict, margin_flows, E, U, p):
    """kappa and Kt of the binary-margin form m_x' = kappa sum_x' Kt(x, x') p(x') sigma(-m_x')."""
    kappa = sp.simplify(((U[0, :] - U[1, :]) * (U[0, :] - U[1, :]).T)[0, 0])
    Kt, binary = {}, {}
    for labels in LABELS:
        eps = sp.Matrix(signs(labels))
        Kt[labels] = sp.simplify(sp.matrix_multiply_elementwise(eps * eps.T, E * E.T))
        binary[labels] = tuple(kappa * sum(Kt[labels][x, z] * p[z] * _sigma_bar(MARGINS[z]) for z in range(2))
                               for x in range(2))
        claims[f"binary-margin form ({labels})"] = _zero(
            sp.Matrix(margin_flows[labels].rhs) - sp.Matrix(binary[labels]), f"binary form ({labels})")
    doc.add("Binary-margin form",
            rf"\dot m_x = \kappa \sum_{{x'}} \tilde K(x,x') p(x') \sigma(-m_{{x'}}),\ \kappa = {sp.latex(kappa)},\ "
            rf"\tilde K_{{\mathrm{{opposite}}}} = {sp.latex(Kt['opposite'])},\ \tilde K_{{\mathrm{{same}}}} = {sp.latex(Kt['same'])}",
            r"$\kappa = \|u_0 - u_1\|^2$, $\tilde K = \epsilon\epsilon^T \circ E E^T$; interference is destructive where "
            r"$\tilde K < 0$: for opposite labels when $\alpha > 0$. For $x = 1, 2$ and both labellings, from any $W_0$, at "
            r"every $t \ge 0$; $\sigma$ is the logistic function, $\epsilon_x = +1$ if $f^*(x) = 0$ else $-1$.",
            checked_by=backed("difference to the reduced flow simplifies to 0",
                              *(claims[f"binary-margin form ({labels})"] for labels in LABELS)))
    return kappa, Kt


def _logit_loss(labels: str):
    """sum_x p_x [log(e^{s_x0} + e^{s_x1}) - s_{x, f*(x)}] in the logit symbols."""
    p, S, y = frequencies(), LOGITS, LABELS[labels]
    return sum(p[x] * (sp.log(sp.exp(S[x, 0]) + sp.exp(S[x, 1])) - S[x, y[x]]) for x in range(2))


def _losses(doc: Draft, claims: dict, p):
    """The per-input loss l(m), the loss in the margins, and that it closes (both labellings)."""
    ell = sp.simplify(am.lane_loss().subs(am.M, 2).subs(am.m, m_lane))
    loss_margins = sum(p[x] * ell.subs(m_lane, MARGINS[x]) for x in range(2))
    for labels in LABELS:
        loss_logits = _logit_loss(labels)
        _, ansatz = _margin_change_of_variables(labels)
        reduced = sp.simplify(sp.expand_log(sp.powsimp(sp.expand(loss_logits.subs(ansatz))), force=True))
        claims[f"loss closes in the margins ({labels})"] = vanishes(reduced - loss_margins,
                                                                   f"loss of the logits = sum p l(m) ({labels})")
    # the W-space computations use opposite labels (the Hessian does not depend on the labels)
    loss_logits = _logit_loss("opposite")
    doc.add("Loss in the margins", rf"L = {sp.latex(loss_margins)}",
            "Per input l(m) = log(1 + e^{-m}) (the M = 2 lane loss of the associative memory). "
            r"At every $W$ (any real margins), both labellings, $0 < p_1 < 1$.",
            checked_by=backed("substituting the margin ansatz into the logit loss gives it",
                              *(claims[f"loss closes in the margins ({labels})"] for labels in LABELS)))
    return ell, loss_margins, loss_logits


def _stable_forms(doc: Draft, claims: dict, kappa, Kt, maps, ell, p):
    """Overflow-free map, flow and loss for generated code, proved equal on every sign pattern; and l''(m)."""
    stable_claims = equal_on_sign_patterns(stable_sigma_bar(m_lane), _sigma_bar(m_lane), (m_lane,), "stable sigma(-m)")
    stable_claims += equal_on_sign_patterns(stable_softplus(m_lane), ell, (m_lane,), "stable log(1 + e^{-m})")
    curvature = sp.factor(sp.together(sp.diff(ell, m_lane, 2)))  # l''(m) = sigma(m) sigma(-m)
    stable_claims += equal_on_sign_patterns(stable_curvature(m_lane), curvature, (m_lane,), "stable l''(m)")
    lane_maps, lane_flows = {}, {}
    for labels in LABELS:
        stable_rhs = [kappa * sum(Kt[labels][x, z] * p[z] * stable_sigma_bar(MARGINS[z]) for z in range(2))
                      for x in range(2)]
        lane_flows[labels] = Flow(MARGINS, tuple(stable_rhs), (p1, alpha), name=f"two-particle margin flow, stable ({labels})")
        lane_maps[labels] = Map(MARGINS, tuple(MARGINS[x] + eta * stable_rhs[x] for x in range(2)), (p1, alpha, eta),
                                eta, f"two-particle margin map, stable ({labels})")
        stable_claims += equal_on_sign_patterns(sp.Matrix(lane_maps[labels].update), sp.Matrix(maps[labels].update),
                                              MARGINS, f"stable map = derived map ({labels})")
    lane_loss = sum(p[x] * stable_softplus(MARGINS[x]) for x in range(2))
    claims["stabilised forms equal the derived ones on every sign pattern"] = _combine(stable_claims, "stable forms")
    doc.add("Overflow-free forms for generated code",
            rf"\sigma(-m) = {sp.latex(stable_sigma_bar(m_lane))},\quad \log(1 + e^{{-m}}) = {sp.latex(stable_softplus(m_lane))}",
            "Every exponential has a non-positive argument, so margins of any size (steps of 1e3) stay finite. "
            r"Both identities hold for every real $m$; $\sigma$ is the logistic function.",
            checked_by=backed("equal to the derived forms for m = r and m = -r (r > 0): simplification and random points",
                              claims["stabilised forms equal the derived ones on every sign pattern"]))
    return lane_flows, lane_maps, lane_loss, curvature


def _first_step_and_dip(doc: Draft, claims: dict, maps, margin_flows):
    """The first GD step (the map at m = 0) and the dip condition, solved for alpha."""
    first_step = {labels: tuple(sp.factor(sp.simplify(u.subs(ZERO))) for u in maps[labels].update) for labels in LABELS}
    flow_at_zero = tuple(sp.simplify(f.subs(ZERO)) for f in margin_flows["opposite"].rhs)
    claims["first GD step = eta * flow at 0"] = _zero(
        sp.Matrix(first_step["opposite"]) - eta * sp.Matrix(flow_at_zero), "first step")
    doc.add("First GD step (opposite labels)",
            rf"m_1 = {sp.latex(first_step['opposite'][0])},\quad m_2 = {sp.latex(first_step['opposite'][1])}",
            "The map at m = 0, from W_0 = 0. "
            r"The margins after the first step ($t = 1$), any $\eta > 0$, $0 < p_1 < 1$, $|\alpha| \le 1$.",
            checked_by=backed("substitution into the derived map; equals eta times the flow at 0",
                              claims["first GD step = eta * flow at 0"]))
    p2 = 1 - p1
    rare_drift = flow_at_zero[1]
    # the drift is affine in alpha with a negative slope: it is < 0 exactly above its root
    slope = sp.simplify(sp.diff(rare_drift, alpha))
    if sp.diff(rare_drift, alpha, 2) != 0 or slope.is_negative is not True:
        raise AssertionError(f"rare drift at 0 is not affine and decreasing in alpha: {rare_drift}")
    (root,) = sp.solve(rare_drift, alpha)
    dip_threshold = sp.simplify(root)
    dip_set = sp.Interval.open(dip_threshold, sp.oo)
    claims["dip threshold = p2 / p1"] = vanishes(dip_threshold - p2 / p1, "dip threshold")
    dip_condition = sp.Gt(alpha, dip_threshold)
    doc.add("Dip condition",
            rf"\dot m_2(0) = {sp.latex(rare_drift)} < 0 \iff \alpha \in {sp.latex(dip_set)},\ "
            rf"\text{{i.e. }} \alpha > {sp.latex(dip_threshold)} = p_2/p_1",
            "The rare token's margin first decreases (under the flow, and in the first GD step, which is eta times "
            "the flow at 0) iff alpha exceeds p2/p1; for alpha = p2/p1 the first step leaves it at 0. "
            r"Opposite labels, from $W_0 = 0$ (both margins 0), $0 < p_1 < 1$, $p_2 = 1 - p_1$, any $\eta > 0$; within "
            r"$|\alpha| \le 1$ the dip set is nonempty only when $p_1 > 1/2$.",
            checked_by=backed("the derived drift at m = 0 is affine in alpha with slope -p1 < 0; solved for its root",
                              claims["dip threshold = p2 / p1"]))
    return first_step, dip_threshold, dip_condition, dip_set


def _hessian_at_zero(claims: dict, E, U, p, ell, loss_logits):
    """The Hessian of L(W) (opposite labels), from the margin form, and H(0) two ways.

    L(W) is the logit loss at S = E W^T U^T.  "loss closes in the margins" proved
    L(S) = sum_x p_x l(m_x(S)) for every S, so L(W) = sum_x p_x l(m_x(W)) with m(W) linear."""
    W = WEIGHTS
    w = list(W)
    S_W = E * W.T * U.T
    L_W = loss_logits.xreplace(dict(zip(LOGITS, S_W)))
    y = LABELS["opposite"]
    margins_W = sp.Matrix([S_W[x, y[x]] - S_W[x, 1 - y[x]] for x in range(2)])
    L_margins_W = sum(p[x] * ell.subs(m_lane, margins_W[x]) for x in range(2))
    H = sp.hessian(L_margins_W, w)
    H0_logits = sp.simplify(sp.hessian(L_W, w).subs({v: 0 for v in w}))
    H0 = sp.simplify(H.subs({v: 0 for v in w}))
    claims["Hessian at 0: logit form = margin form"] = _zero(H0_logits - H0, "H(0) two ways")
    return H, H0, margins_W


def _sharpness_at_zero(doc: Draft, claims: dict, H0):
    """The eigenvalues of H(0), the top one (the sharpness at 0) and the stability threshold 2 / sharpness."""
    p2 = 1 - p1
    eigen = H0.eigenvals()
    point = {p1: sp.Rational(7, 10), alpha: sp.Rational(3, 10)}
    sharpness_zero = sp.simplify(max(eigen, key=lambda e: float(e.subs(point))))
    others = [e for e in eigen if e != sharpness_zero]
    doc.add("Hessian at W = 0 (4 x 4, vec(W) = (w00, w01, w10, w11))", rf"H(0) = {sp.latex(H0)}",
            r"The Hessian of $L(W)$ at $W = 0$ only, for $0 < p_1 < 1$, $|\alpha| \le 1$; derived for opposite labels, "
            r"and the same for both labellings (for $M = 2$ the Hessian of the loss in the logits does not depend on "
            r"the label).",
            checked_by=backed("sp.hessian of L(W) at W = 0, from the log-sum-exp form and from the margin form",
                              claims["Hessian at 0: logit form = margin form"]))
    # ordering: the gaps to the other eigenvalues are sqrt(disc)/2 and the top itself, with
    # disc = (2 p1 - 1)^2 + 4 alpha^2 p1 p2 >= 0 on the domain: the chosen root is the largest.
    disc = sp.expand((4 * sharpness_zero - 1) ** 2)
    claims["discriminant = (2 p1 - 1)^2 + 4 alpha^2 p1 p2 (>= 0)"] = vanishes(
        disc - ((2 * p1 - 1) ** 2 + 4 * alpha**2 * p1 * p2), "discriminant")
    claims["gaps to the other eigenvalues of H(0) are sqrt(disc)/2 or the top itself"] = vanishes(
        sp.Add(*[sp.expand((sharpness_zero - e) - ((4 * sharpness_zero - 1) / 2 if e != 0 else sharpness_zero))
                 for e in others]), "eigenvalue gaps")
    stability = sp.simplify(2 / sharpness_zero)
    # compact form for display, checked equal (like the compact Lambert form of the associative memory)
    p2_ = sp.Symbol("p_2", positive=True)
    compact = (1 + sp.sqrt(1 - 4 * p1 * p2_ * (1 - alpha**2))) / 4
    claims["compact form (1 + sqrt(1 - 4 p1 p2 (1 - alpha^2)))/4"] = vanishes(
        sharpness_zero - compact.subs(p2_, p2), "compact sharpness at 0")
    doc.add("Sharpness at W = 0 and stability threshold",
            rf"\lambda_{{\max}}(H(0)) = {sp.latex(sharpness_zero)} = {sp.latex(compact)},\quad "
            rf"\eta < \frac{{2}}{{\lambda_{{\max}}}} = {sp.latex(sp.simplify(2 / compact))}",
            f"Eigenvalues of $H(0)$: {', '.join('$' + sp.latex(e) + '$' for e in eigen)}; the top one is the + root (its "
            r"gaps to the others are a square root and itself, both $\ge 0$). GD is stable at the start when $\eta$ is "
            r"below the threshold. For $0 < p_1 < 1$, $p_2 = 1 - p_1$, $|\alpha| \le 1$ (so the discriminant "
            r"$(2 p_1 - 1)^2 + 4 \alpha^2 p_1 p_2 \ge 0$); the threshold is the linear stability of GD at $W = 0$ only.",
            checked_by=backed("eigenvals of the symbolic Hessian; the ordering and the compact form simplify to 0",
                              *(claims[k] for k in ("discriminant = (2 p1 - 1)^2 + 4 alpha^2 p1 p2 (>= 0)",
                                                    "gaps to the other eigenvalues of H(0) are sqrt(disc)/2 or the top itself",
                                                    "compact form (1 + sqrt(1 - 4 p1 p2 (1 - alpha^2)))/4"))))
    return eigen, sharpness_zero, stability


def _sharpness_along_run(doc: Draft, claims: dict, H, margins_W, ell, curvature, p, kappa, Kt_opposite,
                         sharpness_zero):
    """The Gauss-Newton identity (exact: margins are linear in W) and the sharpness as a function of the margins."""
    w = list(WEIGHTS)
    J = margins_W.jacobian(w)
    claims["margins are linear in W"] = _zero(sp.Matrix([sp.hessian(mx, w) for mx in margins_W]), "d^2 m / dW^2")
    curvature_raw = sp.diff(ell, m_lane, 2)
    D_W = sp.diag(*[p[x] * curvature_raw.subs(m_lane, margins_W[x]) for x in range(2)])
    claims["Hessian = J^T diag(p l''(m)) J"] = _zero(H - J.T * D_W * J, "Gauss-Newton identity", simplifier=sp.expand)
    gram = sp.simplify(J * J.T)
    claims["J J^T = kappa Kt"] = _zero(gram - kappa * Kt_opposite, "J J^T")
    # with a_x = p_x l''(m_x) > 0 the nonzero eigenvalues are those of diag(a) J J^T (2 x 2)
    a = sp.symbols("a1 a2", positive=True)
    B = sp.diag(*a) * gram
    tr, det = sp.factor(B.trace()), sp.factor(B.det())
    # tr^2/4 - det written as ((B11 - B22)/2)^2 + B12 B21: a sum of non-negative terms, so no cancellation
    # when the two eigenvalues are close (the expanded form loses half the digits there)
    top_a = tr / 2 + sp.sqrt(((B[0, 0] - B[1, 1]) / 2) ** 2 + B[0, 1] * B[1, 0])
    claims["discriminant of D J J^T = tr^2/4 - det"] = vanishes(
        ((B[0, 0] - B[1, 1]) / 2) ** 2 + B[0, 1] * B[1, 0] - (tr**2 / 4 - det), "discriminant form")
    charpoly = (lam * sp.eye(2) - B).det()
    claims["top eigenvalue is a root of det(lambda - D J J^T)"] = vanishes(charpoly.subs(lam, top_a), "charpoly root")
    claims["the other root is tr - top <= top"] = vanishes(charpoly.subs(lam, tr - top_a), "second root")
    weights = {a[x]: p[x] * curvature.subs(m_lane, MARGINS[x]) for x in range(2)}
    top = top_a.subs(weights)
    lane_sharpness = top_a.subs({a[x]: p[x] * stable_curvature(MARGINS[x]) for x in range(2)})
    stable_claims_sharpness = equal_on_sign_patterns(lane_sharpness, top, MARGINS, "stable sharpness")
    claims["stable sharpness equals the derived one"] = _combine(stable_claims_sharpness, "stable sharpness")
    claims["sharpness(margins) at 0 = top eigenvalue of H(0)"] = vanishes(top.subs(ZERO) - sharpness_zero,
                                                                         "sharpness at 0")
    doc.add("Sharpness along the run",
            rf"H = J^T \operatorname{{diag}}(p_x \ell''(m_x)) J,\ \ \lambda_{{\max}}(H) = \lambda_{{\max}}(D J J^T) = "
            rf"{sp.latex(top_a)},\ a_x = p_x \ell''(m_x) = {sp.latex(weights[a[0]])}, \dots,\ J J^T = {sp.latex(gram)}",
            "The margins are linear in W, so the Hessian is exactly of Gauss-Newton form; its nonzero eigenvalues are "
            "those of the 2 x 2 matrix D J J^T (D = diag(p_x l''(m_x))). "
            r"At every $W$ (opposite labels, as derived), $0 < p_1 < 1$, $|\alpha| \le 1$; $a_x > 0$ at every real "
            r"margin $m_x$.",
            checked_by=backed("identity by expansion and at random points; charpoly root",
                              *(claims[k] for k in ("margins are linear in W", "Hessian = J^T diag(p l''(m)) J",
                                                    "J J^T = kappa Kt", "top eigenvalue is a root of det(lambda - D J J^T)",
                                                    "sharpness(margins) at 0 = top eigenvalue of H(0)"))))
    return top, top_a, lane_sharpness


def _asymptotics(doc: Draft, claims: dict, labels: str, margin_map: Map, loss_margins, Kt, kappa, E, p) -> Asymptotics:
    """The ansatz m_x = log(eta t) + c_x: lim t (m_{t+1} - m_t) = 1 is a linear system for e^{-c_x}, solved;
    lim eta t L follows; cross-checked against the max-margin (hard-margin SVM) route."""
    c = sp.symbols("c1 c2", real=True)
    z = sp.symbols("z1 z2", positive=True)  # z_x = e^{-c_x}
    ansatz_m = {MARGINS[x]: sp.log(eta * t) + c[x] for x in range(2)}
    increments = [u - MARGINS[x] for x, u in enumerate(margin_map.update)]
    rates = [sp.simplify(sp.limit(sp.simplify(t * inc.subs(ansatz_m)), t, sp.oo)) for inc in increments]
    rates = [sp.expand(r.subs({sp.exp(-c[x]): z[x] for x in range(2)})) for r in rates]
    # log(eta (t+1)) - log(eta t) = 1/t + O(1/t^2): the ansatz needs t * increment -> 1
    solution = sp.solve([r - 1 for r in rates], z, dict=True)
    if len(solution) != 1:
        raise AssertionError(f"asymptotic ansatz: expected one solution, got {solution}")
    zs = [sp.factor(solution[0][z[x]]) for x in range(2)]
    offsets = tuple(sp.log(sp.factor(1 / zx)) for zx in zs)  # c_x = -log z_x
    # eta t L along the ansatz (z kept as positive symbols for the limit, then solved)
    loss_ansatz = loss_margins.subs({MARGINS[x]: sp.log(eta * t) - sp.log(z[x]) for x in range(2)})
    limit = sp.factor(sp.limit(eta * t * loss_ansatz, t, sp.oo).subs({z[x]: zs[x] for x in range(2)}))
    # max-margin route: v_hat = sum lambda_x eps_x e_x with Kt lambda = 1, 1/(kappa gamma*^2) = 1^T lambda / kappa
    lam_vec = sp.simplify(Kt.inv() * sp.ones(2, 1))
    svm = sp.simplify((sp.ones(1, 2) * lam_vec)[0, 0] / kappa)
    claims[f"eta t L limit = 1/(kappa gamma*^2) ({labels})"] = vanishes(limit - svm, f"SVM route ({labels})")
    claims[f"offsets = log(kappa p / lambda) ({labels})"] = _zero(
        sp.Matrix([sp.exp(o) for o in offsets]) - sp.Matrix([kappa * p[x] / lam_vec[x] for x in range(2)]),
        f"offsets ({labels})")
    eps = sp.Matrix(signs(labels))
    v_hat = sp.simplify(E.T * sp.matrix_multiply_elementwise(lam_vec, eps))
    direction = E[0, :].T - E[1, :].T if labels == "opposite" else E[0, :].T + E[1, :].T
    claims[f"max-margin direction ({labels})"] = vanishes(v_hat[0] * direction[1] - v_hat[1] * direction[0],
                                                         f"v_hat parallel to e_1 {'-' if labels == 'opposite' else '+'} e_2")
    assumptions = ("W_0 = 0", "|alpha| < 1 (separable, every input a support vector: Kt^{-1} 1 > 0)", "GD, any eta > 0"
                   " for which the run enters the separable regime")
    laws = (
        Law(f"loss rate ({labels} labels)", eta * t * sp.Symbol("L"), limit, t, "limit", None, {"lambda": lam_vec},
            assumptions),
        *(Law(f"margin offset m_{x + 1} ({labels} labels)", MARGINS[x] - sp.log(eta * t), offsets[x], t, "limit",
              None, {}, assumptions) for x in range(2)),
    )
    doc.add(f"Asymptotics ({labels} labels)",
            r"\begin{gathered}" + r" \\ ".join(law.latex() for law in laws) + r"\end{gathered}",
            rf"Ansatz $m_x = \log(\eta t) + c_x$: $\lim t\,(m_{{t+1}} - m_t) = 1$ gives "
            rf"$e^{{-c}} = ({sp.latex(zs[0])}, {sp.latex(zs[1])})$; the loss limit follows. "
            rf"Max-margin route: $\lambda = \tilde K^{{-1}} 1 = {sp.latex(lam_vec.T)}$, "
            rf"$1/(\kappa \gamma_*^2) = {sp.latex(svm)}$, direction $\hat v \propto {sp.latex(v_hat.T)}$. "
            r"Conditions: GD from $W_0 = 0$, $0 < p_1 < 1$, $|\alpha| < 1$ (then $\lambda > 0$: separable, both inputs "
            r"support vectors), any $\eta > 0$ for which the run enters the separable regime; limits as the step count "
            r"$t \to \infty$. Assumed: that $m_x - \log(\eta t)$ converges; the rate of approach is not derived here.",
            checked_by=backed("sp.limit and sp.solve on the derived map; equal to the SVM route",
                              claims[f"eta t L limit = 1/(kappa gamma*^2) ({labels})"],
                              claims[f"offsets = log(kappa p / lambda) ({labels})"]))
    return Asymptotics(laws, limit, offsets, lam_vec, v_hat)


def _combine(claims, statement):
    """One Claim summarising several (all must hold)."""
    return Claim(f"{statement} ({len(claims)} claims)", _all_hold_symbolic(claims), _worst(claims),
                 sum(c.points for c in claims))


def _all_hold_symbolic(claims) -> bool:
    return all(c.simplifies_to_zero for c in claims)
