"""Associative memory W in R^{d x d} trained by cross-entropy.

Every formula below is produced by the derivation machinery from the model definition:
logits S = E W^T U^T, loss sum_x p_x [logsumexp(S_x) - S_{x, f*(x)}].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from gradflow.theory.cross_entropy import (M, label_logit_gradient, logit_gradient, logits, per_example_loss,
                                           symmetric_logit_flow)
from gradflow.theory.derivation import Derivation, Draft
from gradflow.theory.flow import Flow, Map
from gradflow.theory.latex import latex
from gradflow.theory.laws import Law, exponential_expansion_law, logarithmic_growth_law, rate_limit
from gradflow.theory.model import MatrixFlow, Model, SoftmaxCrossEntropy
from gradflow.theory.solve import Solution, simplify_lambert, solve_autonomous
from gradflow.theory.verify import Claim, backed, vanishes

N, d = sp.symbols("N d", integer=True, positive=True)
W = sp.MatrixSymbol("W", d, d)
E = sp.MatrixSymbol("E", N, d)
U = sp.MatrixSymbol("U", M, d)
p_vec = sp.MatrixSymbol("p", N, 1)
Y = sp.MatrixSymbol("Y", N, M)
S = sp.MatrixSymbol("S", N, M)
K = sp.MatrixSymbol("K", N, N)
Gram_out = sp.MatrixSymbol("Gamma", M, M)  # U U^T (often written G; here G is dL/dS)
Omega = sp.MatrixSymbol("Omega", d, M)  # output particles w_y as columns
Q = sp.MatrixSymbol("Q", N, M)
W0 = sp.MatrixSymbol("W_0", d, d)

# one input (a lane): its weight, margin, correct and (common) wrong logit
p = sp.Symbol("p", positive=True)
eta = sp.Symbol("eta", positive=True)
m = sp.Symbol("m", real=True)
correct, wrong = sp.symbols("a b", real=True)
t = sp.Symbol("t", positive=True)


def model() -> Model:
    return Model(
        "associative memory",
        parameters=(W,),
        data=(E, U, p_vec, Y),
        sizes=(N, M, d),
        prediction=E * W.T * U.T,
        head=SoftmaxCrossEntropy(p_vec, Y),
        description="logits S = E W^T U^T, population cross-entropy weighted by p",
    )


def lane_loss() -> sp.Expr:
    """Loss of one input in terms of its margin, on the symmetric subspace (derived)."""
    ell = sp.log(sp.exp(correct) + (M - 1) * sp.exp(wrong)) - correct
    return sp.simplify(sp.expand_log(ell.subs(correct, m + wrong), force=True))


@dataclass(frozen=True, eq=False)
class AssociativeMemoryDerivation(Derivation):
    """What :func:`derive` derives, by name."""

    model: Model
    gradient: sp.MatrixExpr  # dL/dW by the matrix chain rule
    logit_flow: MatrixFlow  # reduction 1: dS/dt in the logits S = E W^T U^T
    output_flow: MatrixFlow  # reduction 2: the output particles (U U^T = I)
    stored_products_verified: bool  # reduction 3: W_t = W_0 + U^T Q_t^T E reproduces the W flow
    symmetric_flow: Flow  # one input of an orthogonal memory: its correct logit a and common wrong logit b
    conserved_rate: sp.Expr  # d/dt sum_y s_y(x) along symmetric_flow (0)
    margin_flow: Flow  # dm/dt = M p / (e^m + M - 1); params (p, M)
    margin_map: Map  # one GD step of the margin; params (p, M, eta)
    solution: Solution  # the margin flow from m(0) = 0: implicit relation and Lambert form
    implicit: sp.Eq  # the implicit solution in the form (M - 1) m + e^m = M p t + 1
    flow_law: Law  # m(t) = log(M p t) + O(log t / t)
    gd_law: Law  # GD: m_t = log(eta M p t) + O(log t / t)
    gd_expansion: Law  # GD: e^{m_t} = eta M p t + (eta M p / 2 - (M - 1)) log t + O(1)
    uniform: Law  # m_t ~ log(e^{eta p} + eta M p (t - 1))
    lane_loss: sp.Expr  # loss of one input in terms of its margin
    loss_law: Law  # eta t L -> N (M - 1) / M
    bounds: tuple[Law, ...]  # flow lower and upper, GD lower, GD loss upper
    first_step: sp.Expr  # m_1 = eta p
    claims: Mapping[str, Claim]  # the identities checked by simplification and at random points


@lru_cache(maxsize=None)
def derive() -> AssociativeMemoryDerivation:
    doc = Draft("Associative memory trained by gradient descent")
    general = _general_reductions(doc)
    orthogonal = _orthogonal_margins(doc)
    solution = _solution(doc, orthogonal)
    laws = _laws(doc, orthogonal)
    return doc.finish(AssociativeMemoryDerivation, **general, **orthogonal, **solution, **laws)


@dataclass(frozen=True, eq=False)
class MarginSystems(Derivation):
    """The margin flow and map and the loss of one input in its margin, derived alone (the same steps as
    in :func:`derive`, without the rest): a cold ``simulate`` does not wait for the other derivations."""

    margin_flow: Flow
    margin_map: Map
    lane_loss: sp.Expr


@lru_cache(maxsize=None)
def derive_margin_systems() -> MarginSystems:
    doc = Draft("Associative memory: the margin systems")
    orthogonal = _orthogonal_margins(doc)
    return doc.finish(MarginSystems, margin_flow=orthogonal["margin_flow"], margin_map=orthogonal["margin_map"],
                      lane_loss=lane_loss())


@dataclass(frozen=True, eq=False)
class LogitParticles(Derivation):
    """The model and its logit-particle flow, derived alone (as :class:`MarginSystems`)."""

    model: Model
    logit_flow: MatrixFlow


@lru_cache(maxsize=None)
def derive_logit_particles() -> LogitParticles:
    doc = Draft("Associative memory: the logit particles")
    general = _general_reductions(doc)
    return doc.finish(LogitParticles, model=general["model"], logit_flow=general["logit_flow"])


def _general_reductions(doc: Draft) -> dict:
    """Model, gradient, and the three reductions of the W flow (any embeddings)."""
    mdl = model()
    G = mdl.loss_gradient_symbol
    grad = mdl.gradient(W)
    doc.add("Model", mdl.latex(), r"Sizes stay symbolic: $N$ inputs $x$ with weights $p_x > 0$, $\sum_x p_x = 1$, "
            r"$M \ge 2$ classes, row $x$ of $Y$ the one-hot label $f^*(x)$, rows of $E$ and $U$ the input and output "
            r"embeddings; any $W$.")
    # derived by the matrix chain rule; no SymPy check here (the checks compare with finite differences)
    doc.add("Gradient (matrix chain rule)", rf"\nabla_W L = {latex(grad)}",
            r"At every $W \in \mathbb{R}^{d \times d}$ (the loss is smooth), for any $E$, $U$, $p$; softmax acts on "
            r"each row of $S$.")

    doc.add(*_logit_gradient_step())

    flow_W = mdl.gradient_flow()
    logit_flow = flow_W.reduce(S, mdl.prediction, {E * E.T: K, U * U.T: Gram_out}, "logit particles")
    doc.add("Reduction 1: logit particles", logit_flow.latex(),
            r"Gradient flow $\dot W = -\nabla_W L$ from any $W_0$, any embeddings and weights $p$, at every $t \ge 0$: "
            r"$K = E E^T$ and $\Gamma = U U^T$; $W$ is needed only for $S_0$.", checked_by="closure in S")
    output_flow = flow_W.reduce(Omega, W.T * U.T, {U * U.T: sp.Identity(M)}, "output particles")
    doc.add(r"Reduction 2: output particles ($U U^T = I$)", output_flow.latex(),
            r"Gradient flow from any $W_0$, any $E$ and $p$, at every $t \ge 0$; only the output embeddings must be "
            r"orthonormal, $U U^T = I$ (so $M \le d$). Columns of $\Omega$ are $w_y = W^T u_y$; $\sum_y w_y$ is conserved.", checked_by="closure in Omega")
    stored_ok = flow_W.verify_ansatz({W: W0 + U.T * Q.T * E}, {Q: -G})
    doc.add("Reduction 3: stored outer products",
            rf"W_t = W_0 + U^T Q_t^T E,\quad \dot Q = -{latex(G)}", r"Gradient flow, at every $t \ge 0$: any $W_0$, embeddings and weights $p$, $Q_0 = 0$, with $G$ evaluated at $S_t$.",
            checked_by=backed("ansatz reproduces the W flow", stored_ok))
    return dict(model=mdl, gradient=grad, logit_flow=logit_flow, output_flow=output_flow,
                stored_products_verified=stored_ok)


def _logit_gradient_step() -> tuple[str, str, str, str]:
    """d ell / d s_j for both kinds of class, each derived: softmax minus one at the label, softmax elsewhere."""
    wrong, wrong_softmax = logit_gradient()
    right, right_softmax = label_logit_gradient()
    label = sp.Symbol("y")
    right = right.xreplace({logits[0]: logits[label]})  # class 0 was the label
    checked = sp.simplify(wrong - wrong_softmax) == 0 and sp.simplify(right - right_softmax.xreplace(
        {logits[0]: logits[label]})) == 0
    equation = (rf"\frac{{\partial \ell}}{{\partial s_j}} = \begin{{cases}} {latex(right)} & \text{{if }} j = y, \\ "
                rf"{latex(wrong)} & \text{{if }} j \ne y, \end{{cases}}"
                rf"\qquad \ell = {latex(per_example_loss(label))}")
    return ("Logit gradient of one input", equation,
            "Input $x$ with label $y$ and any real logits $s_0, \\dots, s_{M-1}$, $M \\ge 2$: softmax minus the "
            "one-hot label.",
            backed("both cases are the derivative of the loss; their differences to softmax (minus 1 at the label) "
                   "simplify to 0", checked))


def _orthogonal_margins(doc: Draft) -> dict:
    """Orthonormal embeddings (K = I, Gamma = I): each input follows its own logit flow, then its margin."""
    lanes = symmetric_logit_flow(p, correct, wrong)
    doc.add("Orthogonal embeddings: one input, wrong logits equal", lanes.latex(),
            r"Orthonormal $E$ and $U$, one input of weight $p$ and label $y$: $a = s_y$, $b = s_j$ for every "
            r"$j \ne y$. From $W_0 = 0$ the wrong logits start equal and stay equal. Gradient flow, $p > 0$, $M \ge 2$, "
            r"every $t \ge 0$ (orthonormal rows need $N, M \le d$).", checked_by="invariant subspace")
    conserved = lanes.time_derivative(correct + (M - 1) * wrong)
    doc.add("Conservation", rf"\frac{{d}}{{dt}}\sum_y s_y(x) = {latex(conserved)}",
            r"For every input $x$ under the logit flow with orthonormal embeddings ($K = \Gamma = I$), on the lanes "
            r"above (wrong logits equal, as from $W_0 = 0$), at every $t \ge 0$.",
            checked_by=backed("derivative along the flow simplifies to 0", sp.simplify(conserved) == 0))

    margin_flow: Flow = lanes.reduce({m: correct - wrong}, {correct: m + wrong}, "margin flow")
    margin_map: Map = lanes.gradient_descent_map(eta).reduce({m: correct - wrong}, {correct: m + wrong}, "margin map")
    margin_conditions = (r"Orthonormal $E$ and $U$, $W_0 = 0$: for an input of weight $p = p(x)$ and label $y$, "
                         r"$m = s_y - s_j$ for any $j \ne y$ (all wrong logits are equal); every input $x$, $p > 0$, $M \ge 2$.")
    doc.add("Margin flow", margin_flow.latex(), margin_conditions + r" At every $t \ge 0$.", checked_by="closure in m")
    doc.add("Margin map (GD)", margin_map.latex(),
            margin_conditions + r" Any step size $\eta > 0$, at every step $t = 0, 1, 2, \dots$.",
            checked_by="closure in m")
    return dict(symmetric_flow=lanes, conserved_rate=conserved, margin_flow=margin_flow, margin_map=margin_map)


def margin_flow_from_lane_loss(margin_flow: Flow, loss: sp.Expr) -> Claim:
    """dm/dt = -(p M / (M - 1)) dl/dm, with l(m) the loss of one input in its margin form.

    A second route to the margin ODE, independent of the reduction that produced ``margin_flow``:
    l depends on a - b only, and the wrong logit b is shared by M - 1 classes, so
    dm/dt = -p (dl/da - (1/(M-1)) dl/db) = -p (1 + 1/(M-1)) dl/dm."""
    return vanishes(margin_flow.rhs[0] + p * M / (M - 1) * sp.diff(loss, m), "margin flow = lane-loss gradient flow")


def _solution(doc: Draft, orthogonal: dict) -> dict:
    """The margin flow solved from m(0) = 0: implicit relation, Lambert form, and the claims behind them."""
    lanes, margin_flow, margin_map = orthogonal["symmetric_flow"], orthogonal["margin_flow"], orthogonal["margin_map"]
    solution = solve_autonomous(margin_flow, 0)
    claims = {
        "implicit solution solves the margin ODE": vanishes(solution.implicit_residual_of_ode(False), "implicit"),
        "Lambert form satisfies the implicit solution": vanishes(solution.explicit_residual(False), "Lambert",
                                                                  simplifier=simplify_lambert),
        "sum of logits is conserved": vanishes(lanes.rhs[0] + (M - 1) * lanes.rhs[1], "conservation"),
        "m_1 = eta p": vanishes(margin_map.update[0].subs(m, 0) - eta * p, "first step"),
        "margin flow is the lane loss's gradient flow": margin_flow_from_lane_loss(margin_flow, lane_loss()),
    }
    c = 1 + M * p * t
    implicit = sp.Eq(sp.expand(solution.implicit.lhs * M * p) + 1, c)
    doc.add("Implicit solution", latex(implicit), r"The margin flow from $m(0) = 0$ ($W_0 = 0$, orthonormal $E$ and $U$), for $t \ge 0$; $p > 0$, $M \ge 2$.",
            checked_by=backed("implicit differentiation gives the ODE; simplifies to 0 and vanishes at random points",
                              claims["implicit solution solves the margin ODE"]))
    c_symbol = sp.Symbol("c", positive=True)
    compact = c_symbol / (M - 1) - sp.LambertW(sp.exp(c_symbol / (M - 1)) / (M - 1))
    if sp.simplify(sp.expand(compact.subs(c_symbol, c) - solution.explicit)) != 0:
        raise AssertionError("compact Lambert form differs from the solver's")
    doc.add("Closed form (Lambert W)",
            rf"m(t) = {latex(compact)},\quad c = {latex(c)}",
            r"From $m(0) = 0$ ($W_0 = 0$, orthonormal $E$ and $U$), for $t \ge 0$, $p > 0$, $M \ge 2$; $W$ is the principal branch of Lambert's function. For $M = 2$ this"
            r" is $m = c - W(e^c)$.",
            checked_by="satisfies the implicit relation (W e^W = z) and equals the solver's form")
    return dict(solution=solution, implicit=implicit, claims=claims)


def _laws(doc: Draft, orthogonal: dict) -> dict:
    """Asymptotic laws of the margins and the loss, and the bounds checked along trajectories."""
    margin_flow, margin_map = orthogonal["margin_flow"], orthogonal["margin_map"]
    flow_law = logarithmic_growth_law(margin_flow, "flow margin growth", ("W_0 = 0", "orthonormal E, U"))
    gd_law = logarithmic_growth_law(margin_map, "GD margin growth", ("W_0 = 0", "orthonormal E, U", "any eta > 0"))
    gd_expansion = exponential_expansion_law(margin_map, "GD second-order expansion", ("W_0 = 0", "orthonormal E, U"))
    first_step = sp.simplify(margin_map.update[0].subs(m, 0))
    uniform = Law("uniform approximation", m, sp.log(sp.exp(first_step) + gd_expansion.constants["rate"] * (t - 1)),
                  t, "asymptotic", None, {"m_1": first_step}, ("W_0 = 0",))
    # the conditions in words, beside the laws' own assumptions (which stay as they are)
    regime = [
        (flow_law, r": the margin flow of one input from $m(0) = 0$, $p > 0$, $M \ge 2$ fixed, as $t \to \infty$; "
                  r"the remainder is $O(\log t / t)$."),
        (gd_law, r": the margin map of one input from $m_0 = 0$, $p > 0$, $M \ge 2$ and $\eta$ fixed, as the step "
                r"count $t \to \infty$; the remainder is $O(\log t / t)$."),
        (gd_expansion, r"; any $\eta > 0$: the margin map from $m_0 = 0$, $p > 0$, $M \ge 2$ and $\eta$ fixed, as "
                      r"$t \to \infty$; the remainder is bounded in $t$."),
        (uniform, r"; orthonormal $E$ and $U$, any $\eta > 0$, $p > 0$, $M \ge 2$: an approximation to the margin map, "
                 r"not an identity, for steps $t \ge 1$; exact at $t = 1$ ($m_1 = \eta p$) and off by "
                 r"$O(\log t / t)$ as $t \to \infty$ (it keeps the leading term of the second-order expansion)."),
    ]
    for law, conditions in regime:
        doc.add(law.name[0].upper() + law.name[1:], law.latex(),
                "; ".join(law.assumptions) + conditions, checked_by="series of e^m at infinity" if law is not uniform else "first step m_1 and the rate of the expansion")

    loss = lane_loss()
    per_input = rate_limit(loss, m, gd_law, eta * p)
    if per_input.free_symbols & {p}:
        raise AssertionError("per-input loss rate should not depend on p")
    loss_law = Law("GD loss rate", eta * t * sp.Symbol("L"), N * per_input, t, "limit", None,
                   {"per_input": per_input}, ("W_0 = 0", "orthonormal E, U"))
    doc.add("Loss law", loss_law.latex(), r"GD from $W_0 = 0$ with orthonormal $E$ and $U$, any $\eta > 0$; $\ell_x = "
            + latex(loss) + r"$, $L = \sum_x p_x \ell_x$ over the $N$ inputs, each $p_x > 0$, $M \ge 2$; the limit is "
            r"over GD steps $t \to \infty$ at fixed $\eta$, with remainder $O(\log t / t)$ (from the second-order "
            r"expansion); the limit per input does not depend on $p$.",
            checked_by="limit of eta t p ell(log(eta M p t))")

    bounds = (
        Law("flow lower bound", m, sp.log(1 + p * t), t, "lower bound", assumptions=("flow",)),
        Law("flow upper bound", m, sp.log(1 + M * p * t), t, "upper bound", assumptions=("flow",)),
        Law("GD lower bound", m, sp.log(1 + eta * p * t), t, "lower bound", assumptions=("GD, any eta > 0",)),
        Law("GD loss bound", sp.Symbol("L"), sp.Symbol("sum_x") * p * (M - 1) / (1 + eta * p * t), t, "upper bound",
            assumptions=("GD",)),
    )
    doc.add("Bounds", r"\begin{gathered}" + r" \\ ".join(b.latex() for b in bounds[:3]) + r"\end{gathered}",
            "Checked numerically along simulated trajectories (tests and `gradflow check`). "
            r"For every input $x$ ($p = p(x) > 0$, $M \ge 2$), orthonormal $E$ and $U$, $W_0 = 0$ ($m(0) = 0$): the "
            r"first two along the flow at every $t \ge 0$, the third for GD with any $\eta > 0$ at every step $t \ge 0$.")
    return dict(flow_law=flow_law, gd_law=gd_law, gd_expansion=gd_expansion, uniform=uniform, lane_loss=loss,
                loss_law=loss_law, bounds=bounds, first_step=first_step)
