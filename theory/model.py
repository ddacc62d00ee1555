"""Models with matrix-shaped parameters whose sizes stay symbols.

A Model is: trainable parameters (MatrixSymbols), fixed data arrays (MatrixSymbols), a
prediction (a matrix expression in both) and a Head, the loss as a function of the
prediction.  The gradient is derived by SymPy's matrix calculus through the chain rule
grad_theta L = d/d theta tr(G^T prediction(theta)) with G = dL/dprediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from gradflow.theory.flow import ClosureError
from gradflow.theory.latex import latex
from gradflow.theory.matrix_functions import RowLogSumExp, RowSoftmax, RowSoftmaxJVP


class Head:
    """Loss as a function of the prediction S."""

    def loss(self, S):  # pragma: no cover - interface
        raise NotImplementedError

    def gradient(self, S):  # pragma: no cover - interface
        raise NotImplementedError

    def gradient_jvp(self, S, dS):  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class SoftmaxCrossEntropy(Head):
    """L(S) = sum_x p_x [logsumexp(S_x) - <Y_x, S_x>], p a column of weights, Y one-hot."""

    weights: sp.MatrixSymbol
    onehot: sp.MatrixSymbol

    def loss(self, S):
        ones = sp.OneMatrix(S.shape[1], 1)
        return (self.weights.T * (RowLogSumExp(S) - sp.HadamardProduct(self.onehot, S) * ones))

    def gradient(self, S):
        # Row x of dL/dS is p_x (softmax(S_x) - Y_x); the per-row identity is derived in
        # theory.cross_entropy.logit_gradient and checked in the tests.
        return sp.DiagMatrix(self.weights) * (RowSoftmax(S) - self.onehot)

    def gradient_jvp(self, S, dS):
        return sp.DiagMatrix(self.weights) * RowSoftmaxJVP(S, dS)


@dataclass(frozen=True)
class SquaredError(Head):
    """L(S) = 1/2 ||S - target||_F^2 (population loss for whitened inputs)."""

    target: sp.MatrixSymbol

    def loss(self, S):
        residual = S - self.target
        return sp.Trace(residual.T * residual) / 2

    def gradient(self, S):
        placeholder = sp.MatrixSymbol("S_", *S.shape)
        derived = self.loss(placeholder).diff(placeholder)
        return sp.expand(derived).subs(placeholder, S)

    def gradient_jvp(self, S, dS):
        return dS


@dataclass(frozen=True)
class MeanSquaredError(Head):
    """L(S) = ||S - target||_F^2 / (rows x columns): the mean over all entries."""

    target: sp.MatrixSymbol

    def _scale(self, S):
        return sp.Integer(2) / (S.shape[0] * S.shape[1])

    def loss(self, S):
        residual = S - self.target
        return sp.Trace(residual.T * residual) / (S.shape[0] * S.shape[1])

    def gradient(self, S):
        return self._scale(S) * (S - self.target)

    def gradient_jvp(self, S, dS):
        return self._scale(S) * dS


@dataclass(frozen=True)
class MatrixFlow:
    """d state/dt = rhs for matrix-valued states; ``knowns`` maps placeholders to meaning."""

    states: tuple
    rhs: tuple
    knowns: dict = field(default_factory=dict)
    name: str = "flow"

    def reduce(self, new_state: sp.MatrixSymbol, definition, substitutions=None, name=None) -> "MatrixFlow":
        """New variable new_state = definition (linear in the states); closure proved by SymPy.

        ``substitutions`` are the structural assumptions (e.g. U U^T = I) applied to the new
        right-hand side and to the definition inside placeholders' meaning.
        """
        subs = dict(substitutions or {})
        derivative = _linear_time_derivative(definition, self.states, self.rhs)
        derivative = sp.expand(derivative.subs(subs)).doit()
        # Placeholders (like G = dL/dS) depend on the states only through their argument;
        # rewrite each argument through the new state and check nothing old is left.
        knowns = {}
        for placeholder, (meaning, argument) in self.knowns.items():
            rewritten = sp.expand(argument.subs(subs)).subs(definition, new_state).doit()
            knowns[placeholder] = (meaning, rewritten)
        leftover = _free_matrix_symbols(derivative) & set(self.states)
        for _, argument in knowns.values():
            leftover |= _free_matrix_symbols(argument) & set(self.states)
        if leftover:
            raise ClosureError(
                f"reduction to {new_state} is not closed: still depends on {sorted(map(str, leftover))}"
            )
        return MatrixFlow((new_state,), (derivative,), knowns, name or f"{self.name} reduced")

    def verify_ansatz(self, ansatz: dict, proposed_rhs: dict, substitutions=None) -> bool:
        """Check that d/dt ansatz(new) with proposed d new/dt equals the old flow on the ansatz."""
        subs = dict(substitutions or {})
        for state, rhs in zip(self.states, self.rhs):
            image = ansatz[state]
            derivative = _linear_time_derivative(image, tuple(proposed_rhs), tuple(proposed_rhs.values()))
            difference = sp.expand((derivative - rhs).subs(subs)).doit()
            if difference != sp.ZeroMatrix(*difference.shape) and sp.simplify(difference) != 0:
                return False
        return True

    def latex(self) -> str:
        lines = [rf"\dot{{{latex(x)}}} &= {latex(f)}" for x, f in zip(self.states, self.rhs)]
        for placeholder, (meaning, argument) in self.knowns.items():
            lines.append(rf"{latex(placeholder)} &= {latex(meaning)}")
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def _free_matrix_symbols(expr):
    return {a for a in sp.sympify(expr).atoms(sp.MatrixSymbol)}


def _linear_time_derivative(definition, states, rates):
    """d definition/dt for a definition affine in the states: replace each state by its rate
    and drop the constant part.  Affinity is checked, not assumed."""
    zero = {x: sp.ZeroMatrix(*x.shape) for x in states}
    constant = definition.xreplace(zero).doit()
    doubled = definition.xreplace({x: 2 * x for x in states}).doit()
    if sp.expand(doubled - 2 * definition + constant).doit() != sp.ZeroMatrix(*definition.shape):
        raise ClosureError(f"definition {definition} is not affine in {states}")
    derivative = definition.xreplace(dict(zip(states, rates))).doit() - constant
    return sp.expand(derivative).doit()


@dataclass(frozen=True)
class Model:
    name: str
    parameters: tuple
    data: tuple
    sizes: tuple
    prediction: sp.MatrixExpr
    head: Head
    description: str = ""

    @property
    def prediction_symbol(self) -> sp.MatrixSymbol:
        return sp.MatrixSymbol("S", *self.prediction.shape)

    @property
    def loss_gradient_symbol(self) -> sp.MatrixSymbol:
        return sp.MatrixSymbol("G", *self.prediction.shape)

    def loss(self):
        return self.head.loss(self.prediction)

    def gradient(self, parameter, placeholder: bool = False):
        """dL/d parameter by the matrix chain rule; with placeholder=True G stands for dL/dS."""
        if parameter not in self.parameters:
            raise ValueError(f"parameter must be one of {[str(p) for p in self.parameters]}, got {parameter}")
        G = self.loss_gradient_symbol
        chain = sp.Trace(G.T * self.prediction).diff(parameter)
        chain = sp.expand(chain).doit()
        if placeholder:
            return chain
        return chain.subs(G, self.head.gradient(self.prediction))

    def gradient_flow(self) -> MatrixFlow:
        G = self.loss_gradient_symbol
        rhs = tuple(-self.gradient(w, placeholder=True) for w in self.parameters)
        meaning = self.head.gradient(self.prediction_symbol)
        return MatrixFlow(self.parameters, rhs, {G: (meaning, self.prediction)}, f"{self.name} gradient flow")

    def hessian_vector_product(self, parameter, direction: sp.MatrixSymbol):
        """d/d eps grad_parameter L(parameter + eps V) at eps = 0: the (parameter, parameter)
        block of the Hessian applied to V.  The prediction is affine in ``parameter`` alone
        (checked), so the chain rule has no second-derivative term of the prediction."""
        dS = _linear_time_derivative(self.prediction, (parameter,), (direction,))
        chain = self.gradient(parameter, placeholder=True)
        return chain.subs(self.loss_gradient_symbol, self.head.gradient_jvp(self.prediction, dS))

    def latex(self) -> str:
        return (rf"S = {latex(self.prediction)},\quad L = {latex(self.loss())},\quad "
                + self.sizes_latex())

    def sizes_latex(self) -> str:
        return ", ".join(f"{latex(p)} \\in \\mathbb{{R}}^{{{latex(p.shape[0])} \\times {latex(p.shape[1])}}}" for p in (*self.parameters, *self.data))
