"""Two-layer linear network y = W2 W1 x (Saxe, McClelland and Ganguli 2014).

Whitened inputs (E[x x^T] = I) and input-output correlation C = E[y x^T] = U diag(sigma) V^T
reduce the population loss to L = 1/2 ||C - W2 W1||_F^2 + const.  Every formula below is
produced by the derivation machinery from that model: the matrix gradients, the per-mode
lane L = 1/2 (sigma - a b)^2, its flow, conserved quantity, balanced reduction to the mode
strength s = a b, the logistic solution and the time-to-learn law.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from gradflow.theory.derivation import Derivation, Draft
from gradflow.theory.flow import Flow, Map
from gradflow.theory.laws import Law
from gradflow.theory.model import MatrixFlow, Model, SquaredError
from gradflow.theory.solve import Solution, solve_autonomous
from gradflow.theory.verify import backed, vanishes

# Sizes stay symbols; k is the number of modes (the rank of C).
n_in, hidden, n_out, k = sp.symbols("n_in h n_out k", integer=True, positive=True)
W1 = sp.MatrixSymbol("W_1", hidden, n_in)
W2 = sp.MatrixSymbol("W_2", n_out, hidden)
C = sp.MatrixSymbol("C", n_out, n_in)

# Mode form: C = U Sigma V^T, W1 = R A V^T, W2 = U B R^T with diagonal A, B, Sigma and
# orthonormal columns in U, V, R.
U = sp.MatrixSymbol("U", n_out, k)
V = sp.MatrixSymbol("V", n_in, k)
R = sp.MatrixSymbol("R", hidden, k)
A = sp.MatrixSymbol("A", k, k)
B = sp.MatrixSymbol("B", k, k)
Sigma = sp.MatrixSymbol("Sigma", k, k)

# One mode (a lane): its input-side weight a, output-side weight b, target strength sigma.
a, b = sp.symbols("a b", real=True)
sigma = sp.Symbol("sigma", positive=True)
s, s0 = sp.symbols("s s_0", positive=True)
eta = sp.Symbol("eta", positive=True)
rho = sp.Symbol("rho", positive=True)  # sigma / s0, the inverse initial scale
t_half = sp.Symbol("t_{1/2}", positive=True)


def model() -> Model:
    return Model(
        "two-layer linear network",
        parameters=(W1, W2),
        data=(C,),
        sizes=(n_in, hidden, n_out),
        prediction=W2 * W1,
        head=SquaredError(C),
        description="y = W2 W1 x, whitened inputs, population squared error against C = E[y x^T]",
    )


def mode_matrix(S) -> sp.MatrixExpr:
    """U^T S V: its diagonal holds the mode strengths u_alpha^T S v_alpha."""
    return U.T * S * V


def lane_loss() -> sp.Expr:
    """The loss restricted to one mode of the mode form."""
    return (sigma - a * b) ** 2 / 2


def lane_flow() -> Flow:
    """(da/dt, db/dt) = -grad of the lane loss, differentiated by SymPy."""
    loss = lane_loss()
    return Flow((a, b), (-sp.diff(loss, a), -sp.diff(loss, b)), (sigma,), name="mode lane")


def strength_flow(lanes: Flow) -> Flow:
    """Balanced reduction s = a b (a = b = sqrt s); closure proved by Flow.reduce."""
    return lanes.reduce({s: a * b}, {a: sp.sqrt(s), b: sp.sqrt(s)}, "mode strength")


# --- mode form of the matrix flow ----------------------------------------------------------

_ORTHONORMAL_AND_DIAGONAL = {U.T * U: sp.Identity(k), V.T * V: sp.Identity(k), R.T * R: sp.Identity(k),
                             A.T: A, B.T: B, Sigma.T: Sigma}
_MODE_ANSATZ = {W1: R * A * V.T, W2: U * B * R.T, C: U * Sigma * V.T}
# The constant frame (left, right) each parameter's velocity must keep: W1 = R (.) V^T, W2 = U (.) R^T.
_FRAMES = {W1: (R, V.T), W2: (U, R.T)}


def _diagonal_to_scalar(expr) -> sp.Expr:
    """A polynomial in the diagonal matrices A, B, Sigma as the scalar polynomial of one mode.

    Diagonal k x k matrices form a commutative algebra acting entrywise, so the alpha-th
    diagonal entry of the matrix polynomial is the scalar polynomial with A -> a, B -> b,
    Sigma -> sigma.  Any other matrix symbol is an error.
    """
    scalar = {A: a, B: b, Sigma: sigma}
    if isinstance(expr, sp.MatrixSymbol):
        if expr not in scalar:
            raise ValueError(f"{expr} is not one of the diagonal mode matrices")
        return scalar[expr]
    if isinstance(expr, sp.MatAdd):
        return sp.Add(*[_diagonal_to_scalar(term) for term in expr.args])
    if isinstance(expr, sp.MatMul):
        coefficient, factors = expr.as_coeff_matrices()
        return coefficient * sp.Mul(*[_diagonal_to_scalar(f) for f in factors])
    if isinstance(expr, sp.MatPow):
        return _diagonal_to_scalar(expr.base) ** expr.exp
    raise ValueError(f"cannot read {expr} as a polynomial in diagonal matrices")


def _core_between(expr, left, right) -> sp.MatrixExpr:
    """Write expr = left * core * right term by term; None if some term leaves the frame."""
    cores = []
    for term in sp.MatAdd.make_args(expr):
        coefficient, factors = term.as_coeff_matrices() if isinstance(term, sp.MatMul) else (1, [term])
        if len(factors) < 3 or factors[0] != left or factors[-1] != right:
            return None
        cores.append(coefficient * sp.MatMul(*factors[1:-1]))
    return sp.MatAdd(*cores).doit()


def mode_form_velocities(mdl: Model) -> dict:
    """Scalar velocity of each parameter's mode under the matrix flow with the mode ansatz.

    Substitutes W1 = R A V^T, W2 = U B R^T, C = U Sigma V^T into -grad L, applies
    U^T U = V^T V = R^T R = I and the symmetry of diagonal matrices, and checks every term
    is R (.) V^T for W1 and U (.) R^T for W2: then the flow stays in the mode form and the
    core, read entrywise, is the mode's velocity.  Returns {parameter: scalar rhs}.
    """
    velocities = {}
    for parameter, (left, right) in _FRAMES.items():
        rate = (-mdl.gradient(parameter)).xreplace(_MODE_ANSATZ).doit()
        rate = sp.expand(sp.expand(rate).doit().subs(_ORTHONORMAL_AND_DIAGONAL)).doit()
        core = _core_between(rate, left, right)
        if core is None:
            raise ValueError(f"d{parameter}/dt leaves the mode form: {rate}")
        velocities[parameter] = sp.expand(_diagonal_to_scalar(core))
    return velocities


def mode_form_numeric_error(mdl: Model, seed: int = 0, sizes=(5, 4, 3), modes: int = 2) -> float:
    """Second, numeric check of the mode form at random orthonormal frames.

    Evaluates the symbolic matrix gradient at W1 = R A V^T, W2 = U B R^T, C = U Sigma V^T
    with random orthonormal U, V, R and random diagonals; returns the largest deviation of
    the velocities from R diag(da) V^T and U diag(db) R^T, with (da, db) the lane flow.
    """
    rng = np.random.default_rng(seed)
    size_in, size_hidden, size_out = sizes

    def frame(rows):
        return np.linalg.qr(rng.standard_normal((rows, rows)))[0][:, :modes]

    Un, Vn, Rn = frame(size_out), frame(size_in), frame(size_hidden)
    an, bn, sn = (rng.uniform(0.1, 2.0, modes) for _ in range(3))
    W1n, W2n = Rn @ np.diag(an) @ Vn.T, Un @ np.diag(bn) @ Rn.T
    Cn = Un @ np.diag(sn) @ Vn.T
    lanes = lane_flow()
    worst = 0.0
    in_frame = {W1: lambda d: Rn @ np.diag(d) @ Vn.T, W2: lambda d: Un @ np.diag(d) @ Rn.T}
    for parameter, rate_lane in zip((W1, W2), lanes.rhs):
        velocity = sp.lambdify((W1, W2, C), -mdl.gradient(parameter), modules="numpy")(W1n, W2n, Cn)
        expected = in_frame[parameter](sp.lambdify((a, b, sigma), rate_lane, modules="numpy")(an, bn, sn))
        worst = max(worst, float(np.max(np.abs(velocity - expected))))
    return worst


# --- closed form and time-to-learn law ---------------------------------------------------------

def half_time(solution: Solution) -> sp.Expr:
    """Exact time for s to reach sigma/2 from s0: solve the implicit relation for t.

    The implicit relation carries log(s - sigma) and log(s0 - sigma), both logs of negatives
    for s, s0 < sigma; combining them first keeps the time real.
    """
    relation = sp.logcombine(solution.implicit.lhs, force=True)
    roots = sp.solve(sp.Eq(relation.subs(s, sigma / 2), solution.flow.time), solution.flow.time)
    if len(roots) != 1:
        raise ValueError(f"expected one half time, got {roots}")
    return sp.simplify(sp.expand_log(roots[0], force=True))


def time_to_learn_law(exact: sp.Expr) -> tuple[Law, sp.Expr]:
    """t_half = log(sigma/s0)/(2 sigma) + O(s0/sigma), as rho = sigma/s0 -> oo.

    The leading term is the exact half time with the -1 of sigma/s0 - 1 dropped; the limit of
    the difference as s0 -> 0+ (returned) must be 0, and the error order is read off the
    series of the difference in rho at infinity.
    """
    leading_in_s0 = sp.log(sigma / s0) / (2 * sigma)
    vanishing = sp.limit(exact - leading_in_s0, s0, 0, "+")
    remainder = sp.series(sp.simplify((exact - leading_in_s0).subs(s0, sigma / rho)), rho, sp.oo, n=2)
    correction = remainder.removeO()
    error = sp.Order(correction, (rho, sp.oo)).expr
    law = Law("time to learn", t_half, sp.log(rho) / (2 * sigma), rho, "asymptotic", error,
              {"exact": exact, "correction": correction, "rho": sigma / s0},
              ("balanced initialisation a = b = sqrt(s0)", "whitened inputs", "rho = sigma / s0 -> oo"))
    return law, vanishing


def map_latex(step_map: Map) -> str:
    """x_{t+1} = update(x_t) with every state subscripted (all at once, so b_t appears in a's line)."""
    at_t = {x: sp.Symbol(sp.latex(x) + "_t") for x in step_map.states}
    lines = [rf"{sp.latex(x)}_{{t+1}} &= {sp.latex(u.xreplace(at_t))}"
             for x, u in zip(step_map.states, step_map.update)]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


@dataclass(frozen=True, eq=False)
class DeepLinearDerivation(Derivation):
    """What :func:`derive` derives, by name."""

    model: Model
    gradients: Mapping[sp.MatrixSymbol, sp.MatrixExpr]  # dL/dW1 and dL/dW2 by the matrix chain rule
    gradient_flow: MatrixFlow  # dW1/dt, dW2/dt with G = dL/dS
    mode_matrix: sp.MatrixExpr  # U^T S V: its diagonal holds the mode strengths
    mode_velocities: Mapping[sp.MatrixSymbol, sp.Expr]  # W1 -> da/dt, W2 -> db/dt of one mode (mode form)
    mode_form_verified: bool  # those velocities equal the lane flow's
    mode_form_numeric_error: float  # the same at random orthonormal frames: largest deviation
    lane_loss: sp.Expr  # one mode: (sigma - a b)^2 / 2
    lane_flow: Flow  # (da/dt, db/dt) of one mode; states (a, b), params (sigma,)
    conserved: sp.Expr  # the imbalance a^2 - b^2
    conserved_rate: sp.Expr  # its derivative along lane_flow (0)
    strength_flow: Flow  # balanced reduction ds/dt = 2 s (sigma - s) of s = a b; params (sigma,)
    lane_map: Map  # one GD step of (a, b); params (sigma, eta)
    strength_map: Map  # one GD step of s = a b on the balanced line
    gd_imbalance: sp.Expr  # a^2 - b^2 after one GD step: a factor times the imbalance before
    solution: Solution  # the strength flow from s(0) = s0: implicit relation and closed form
    implicit_residual: sp.Expr  # implicit relation differentiated, minus the ODE (0)
    explicit_residual: sp.Expr  # closed form in the implicit relation (0)
    logistic: sp.Expr  # s(t) = the logistic closed form, in (t, sigma, s0)
    half_time: sp.Expr  # exact t_half: s(t_half) = sigma / 2, in (sigma, s0)
    time_to_learn: Law  # t_half = log(rho) / (2 sigma) + O(1/rho), rho = sigma / s0; constants exact, correction
    half_time_limit: sp.Expr  # lim_{s0 -> 0+} (t_half - log(sigma/s0) / (2 sigma)) (0)



def _decaying_form(expr: sp.Expr, t: sp.Symbol, rate: sp.Expr) -> sp.Expr:
    """``expr`` (a ratio growing like e^{rate t} above and below) with numerator and denominator divided by
    e^{rate t}: the same function, whose terms only decay for t >= 0."""
    numerator, denominator = sp.fraction(sp.together(expr))
    scale = sp.exp(-rate * t)
    return sp.powsimp(sp.expand(numerator * scale)) / sp.powsimp(sp.expand(denominator * scale))

@lru_cache(maxsize=None)
def derive() -> DeepLinearDerivation:
    doc = Draft("Two-layer linear network: learning the modes of C")
    mdl = model()

    gradients = {w: mdl.gradient(w) for w in mdl.parameters}
    doc.add("Model", rf"S = {sp.latex(mdl.prediction)},\quad L = {sp.latex(mdl.loss())}",
            r"Whitened inputs, $C = \mathbb{E}[y x^T]$; sizes stay symbolic: $" + mdl.sizes_latex() + "$. "
            r"With $\mathbb{E}[x x^T] = I$, $L$ is the population squared loss $\frac12 \mathbb{E}\lVert y - S x \rVert^2$ "
            r"up to a constant; any real $W_1$, $W_2$.")
    # derived by the matrix chain rule; no SymPy check here (the tests compare with finite differences)
    doc.add("Gradients (matrix chain rule)",
            r",\quad ".join(rf"\nabla_{{{sp.latex(w)}}} L = {sp.latex(g)}" for w, g in gradients.items()),
            r"At every $W_1$, $W_2$ and for any $C$ ($L$ is a polynomial in the weights).")
    flow_W = mdl.gradient_flow()
    doc.add("Gradient flow", flow_W.latex(),
            r"$\dot W_i = -\nabla_{W_i} L$ from any $W_1(0)$, $W_2(0)$, at every $t \ge 0$; $G = S - C$ is the residual.")

    velocities = mode_form_velocities(mdl)
    lanes = lane_flow()
    mode_form_ok = all(sp.expand(velocities[w] - rate) == 0 for w, rate in zip((W1, W2), lanes.rhs))
    numeric_error = mode_form_numeric_error(mdl)
    doc.add("Mode form is invariant",
            r"W_1 = R A V^T,\; W_2 = U B R^T,\; C = U \Sigma V^T \;\Rightarrow\; "
            rf"\dot a_\alpha = {sp.latex(velocities[W1])},\; \dot b_\alpha = {sp.latex(velocities[W2])}",
            r"With $U^T U = V^T V = R^T R = I$ and $A, B, \Sigma$ diagonal, every term of $\dot W_1$ is "
            r"$R(\cdot)V^T$ and of $\dot W_2$ is $U(\cdot)R^T$, so the frames stay fixed and each mode "
            r"moves on its own.  Diagonal matrices commute, so the cores are read entrywise.  Also checked "
            rf"numerically at random orthonormal frames (largest deviation {numeric_error:.1e}).  The same "
            r"algebra holds for a GD step, so W-space GD follows the lane GD map mode by mode.  For every mode $\alpha$ "
            r"(diagonal entry of $A$, $B$, $\Sigma$), $\sigma_\alpha \ge 0$, at every $t \ge 0$ of the gradient flow "
            r"from any start in the mode form.",
            checked_by=backed("substitution with orthonormality; cores equal the lane flow", mode_form_ok))

    loss = lane_loss()
    # no label: the lane flow is -grad l by construction, there is nothing to check
    doc.add("One mode (lane)", rf"\ell(a, b) = {sp.latex(loss)}\qquad " + lanes.latex(),
            r"Mode $\alpha$ in the invariant mode form: $a = a_\alpha$, $b = b_\alpha$, $\sigma = \sigma_\alpha$. Any "
            r"real $a$, $b$, $\sigma > 0$, at every $t \ge 0$ of the gradient flow.")
    conserved = a ** 2 - b ** 2
    conserved_rate = lanes.time_derivative(conserved)
    doc.add("Conservation", rf"\frac{{d}}{{dt}}\left({sp.latex(conserved)}\right) = {sp.latex(conserved_rate)}",
            "Balance a = b at initialisation is therefore kept for all time. "
            r"Along the lane flow of every mode, from any real $a(0)$, $b(0)$, at every $t \ge 0$.",
            checked_by=backed("derivative along the flow simplifies to 0", sp.simplify(conserved_rate) == 0))

    strength = strength_flow(lanes)
    doc.add("Balanced reduction to the strength s = ab", strength.latex(),
            r"A balanced mode, $a = b$ (kept by the flow), so $a^2 = b^2 = s$. Then $s \ge 0$; $\sigma > 0$, at every "
            r"$t \ge 0$.", checked_by="closure in s")
    lane_map: Map = lanes.gradient_descent_map(eta, "mode lane (GD)")
    strength_map: Map = lane_map.reduce({s: a * b}, {a: sp.sqrt(s), b: sp.sqrt(s)}, "mode strength (GD)")
    stepped = dict(zip(lane_map.states, lane_map.update))
    gd_imbalance = sp.factor(sp.expand(conserved.subs(stepped, simultaneous=True)))
    doc.add("GD map of one mode",
            map_latex(lane_map) + r"\qquad s_{t+1} = " + sp.latex(sp.factor(strength_map.update[0]))
            + r",\quad a_{t+1}^2 - b_{t+1}^2 = " + sp.latex(gd_imbalance),
            r"GD with step $\eta > 0$, any real $a_t$, $b_t$, $\sigma > 0$, at every step $t = 0, 1, 2, \dots$; the map "
            r"of $s$ holds for a balanced mode, $a_t = b_t$. GD is not exactly "
            r"conservative, but the imbalance is multiplied by a factor, so $a = b$ is kept.",
            checked_by="closure in s")

    solution = solve_autonomous(strength, s0)
    implicit_residual = solution.implicit_residual_of_ode()
    explicit_residual = solution.explicit_residual()
    # e^{2 sigma t} overflows a float once 2 sigma t > 709 (inf / inf): the consumers evaluate the same
    # function with numerator and denominator divided by it, which only decays
    logistic = _decaying_form(solution.explicit, strength.time, 2 * sigma)
    same_function = vanishes(logistic - solution.explicit, "decaying form = closed form")
    doc.add("Logistic solution", solution.latex() + r"\qquad s(t) = " + sp.latex(logistic),
            r"The balanced flow from $s(0) = s_0$ with $0 < s_0 < \sigma$; the second form divides numerator and "
            r"denominator by $e^{2 \sigma t}$ (finite in floating point for every $t \ge 0$). All three hold for every "
            r"$t \ge 0$, where $s_0 \le s(t) < \sigma$.",
            checked_by=backed("implicit differentiation gives the ODE; the closed form satisfies the relation; "
                              "both forms agree (simplification and random points)",
                              implicit_residual == 0, explicit_residual == 0, same_function))

    exact_half = half_time(solution)
    law, vanishing = time_to_learn_law(exact_half)
    doc.add("Time to learn", rf"t_{{1/2}} = {sp.latex(exact_half)},\qquad " + law.latex(),
            rf"From $0 < s_0 < \sigma / 2$; $t_{{1/2}}$ is the time at which $s = \sigma / 2$, and $\rho = \sigma / s_0$.  "
            rf"$\lim_{{s_0 \to 0^+}} \left(t_{{1/2}} - \frac{{\log(\sigma/s_0)}}{{2\sigma}}\right)"
            rf" = {sp.latex(vanishing)}$; the correction is ${sp.latex(law.constants['correction'])}$.  "
            r"The balanced flow; the law is asymptotic as $\rho \to \infty$ ($s_0 \to 0^+$ at fixed $\sigma > 0$), "
            r"with remainder $O(1/\rho)$.",
            checked_by=backed("solve at s = sigma/2, limit s0 -> 0+ (it is 0), series in rho", vanishing == 0))

    return doc.finish(
        DeepLinearDerivation,
        model=mdl, gradients=gradients, gradient_flow=flow_W, mode_matrix=mode_matrix(mdl.prediction_symbol),
        mode_velocities=velocities, mode_form_verified=mode_form_ok, mode_form_numeric_error=numeric_error,
        lane_loss=loss, lane_flow=lanes, conserved=conserved, conserved_rate=conserved_rate,
        strength_flow=strength, lane_map=lane_map, strength_map=strength_map, gd_imbalance=gd_imbalance,
        solution=solution, implicit_residual=implicit_residual, explicit_residual=explicit_residual,
        logistic=logistic, half_time=exact_half, time_to_learn=law, half_time_limit=vanishing,
    )
