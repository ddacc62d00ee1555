"""One-hidden-layer network f(x) = sum_i h_i rho(w_i . x), symbolic in its sizes.

Data X (n x d) and targets Y (n x d_out); parameters W (m x d, rows w_i) and H (m x d_out,
rows h_i).  The prediction on the whole data set is S = rho.(X W^T) H, rho applied element-wise.
rho stays an undefined function while SymPy derives the gradient by the matrix chain rule, so
one derivation serves every activation; ``bind`` substitutes the activation afterwards (and its
derivative with rho'(0) := a_minus for ReLU-like ones).  A bias is a constant-1 input column.

Derived here: the gradients (H G^T o rho'.(W X^T)) X and rho.(W X^T) G with G = dL/dS, the
Hessian-vector product for smooth activations (by the differential rules of
``theory.matrix_calculus``) and the conservation of ||w_i||^2 - ||h_i||^2 under gradient flow
for positively homogeneous rho (Euler's identity z rho'(z) = rho(z)).  ``derivation()`` returns
them as a :class:`ShallowNetworkDerivation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.latex import LatexPrinter

from gradflow.theory.activations import RELU, Activation, ReluLike
from gradflow.theory.derivation import Derivation, Draft
from gradflow.theory.errors import ParameterError, require
from gradflow.theory.matrix_calculus import directional_derivative
from gradflow.theory.model import MeanSquaredError, Model, SoftmaxCrossEntropy
from gradflow.theory.verify import Claim, vanishes

n, m, d, d_out = sp.symbols("n m d d_out", integer=True, positive=True)
X = sp.MatrixSymbol("X", n, d)
Y = sp.MatrixSymbol("Y", n, d_out)
W = sp.MatrixSymbol("W", m, d)
H = sp.MatrixSymbol("H", m, d_out)
example_weights = sp.MatrixSymbol("p", n, 1)  # per-example weights of the cross-entropy (1/n each)
V = sp.MatrixSymbol("V", m, d)  # directions for Hessian-vector products
U = sp.MatrixSymbol("U", m, d_out)
rho = sp.Function("rho")
_z = sp.Symbol("z", real=True)

LOSSES = ("squared", "cross_entropy")


def _is_rho(function) -> bool:
    return function == rho or (isinstance(function, sp.Lambda) and function.expr == rho(*function.variables))


def _rho_derivative_order(function) -> int:
    """1 for Lambda(z, rho'(z)), 2 for rho''(z), 0 otherwise."""
    if isinstance(function, sp.Lambda) and isinstance(function.expr, sp.Derivative):
        derivative = function.expr
        if derivative.expr.func == rho:
            return derivative.derivative_count
    return 0


class _NetworkLatexPrinter(LatexPrinter):
    """rho.(A) prints as rho(A), rho'.(A) as rho'(A): SymPy's default shows a lambda whose dummy
    variable reads like the size d."""

    def _print_ElementwiseApplyFunction(self, expr):
        order = _rho_derivative_order(expr.function)
        name = r"\rho" if _is_rho(expr.function) else r"\rho" + "'" * order if order else None
        if name is None:
            return super()._print_ElementwiseApplyFunction(expr)
        return rf"{name}\left({self._print(expr.expr)}\right)"


def latex(expr) -> str:
    return _NetworkLatexPrinter().doprint(expr)


@dataclass(frozen=True)
class ShallowNetwork:
    """The model plus what is derived from it; ``activation`` is bound only when evaluating."""

    activation: Activation = RELU
    loss: str = "squared"

    def __post_init__(self):
        require(isinstance(self.activation, Activation), "activation", "a theory.activations.Activation",
                self.activation)
        require(self.loss in LOSSES, "loss", f"one of {LOSSES}", self.loss)

    @property
    def preactivation(self):
        return X * W.T

    @property
    def hidden(self):
        return ElementwiseApplyFunction(rho, self.preactivation)

    @property
    def model(self) -> Model:
        if self.loss == "squared":
            head, data = MeanSquaredError(Y), (X, Y)
        else:
            head, data = SoftmaxCrossEntropy(example_weights, Y), (X, Y, example_weights)
        return Model(f"shallow network ({self.activation.name}, {self.loss} loss)", parameters=(W, H), data=data,
                     sizes=(n, m, d, d_out), prediction=self.hidden * H, head=head,
                     description="f(x) = sum_i h_i rho(w_i . x); S = rho.(X W^T) H")

    def gradients(self, placeholder: bool = True) -> dict:
        """{W: dL/dW, H: dL/dH}; with placeholder=True in terms of G = dL/dS (``model.loss_gradient_symbol``)."""
        return dict(_gradients(self, placeholder))

    def loss_gradient(self):
        """G = dL/dS as a matrix expression of the prediction."""
        model = self.model
        return model.head.gradient(model.prediction)

    def hessian_vector_product(self) -> dict:
        """{W: d grad_W [V, U], H: d grad_H [V, U]}: the Hessian applied to the direction (V, U).
        Only for smooth activations: a ReLU-like rho has a Dirac second derivative at its kink."""
        if isinstance(self.activation, ReluLike):
            raise ParameterError("activation", "smooth (tanh, softplus, erf, sigmoid) for a Hessian",
                                 self.activation.name)
        require(self.loss == "squared", "loss", "squared for the Hessian-vector product", self.loss)
        gradient = {p: g.subs(self.model.loss_gradient_symbol, self.loss_gradient())
                    for p, g in self.gradients().items()}
        return {p: directional_derivative(g, {W: V, H: U}) for p, g in gradient.items()}

    def bind(self, expr):
        """Substitute the activation for rho (and its derivatives) inside element-wise functions."""
        def concrete(function):
            order = _rho_derivative_order(function)
            if _is_rho(function):
                return self.activation.as_lambda()
            if order == 1:
                return self.activation.derivative_lambda()
            if order == 2:
                return sp.Lambda(_z, self.activation.second_derivative(_z))
            return function

        return expr.replace(lambda e: isinstance(e, ElementwiseApplyFunction),
                            lambda e: ElementwiseApplyFunction(concrete(e.function), e.expr))

    def euler_identity(self):
        """z rho'(z) - rho(z): zero for positively homogeneous rho, the reason for conservation."""
        return _z * self.activation.derivative(_z) - self.activation.expr(_z)

    def conservation_rate(self):
        """d/dt diag(W W^T - H H^T) under gradient flow, as 2 diag of a matrix expression.

        d/dt (W W^T - H H^T) = -(W gW^T + gW W^T) + (H gH^T + gH H^T); its diagonal is
        2 diag(H gH^T - W gW^T), and entry i of that is 2 sum_k (H G^T)_ik (rho(z_ki) - z_ki rho'(z_ki)),
        which vanishes exactly when the Euler identity holds."""
        grads = self.gradients()
        return H * grads[H].T - W * grads[W].T

    def derivation(self) -> ShallowNetworkDerivation:
        model = self.model
        grads = self.gradients()
        loss_gradient = self.loss_gradient()
        doc = Draft(f"Shallow network, {self.activation.name} activation, {self.loss} loss")
        doc.add("Model", rf"S = {latex(model.prediction)},\quad L = {latex(model.loss())},\quad " + model.sizes_latex(),
                "One hidden layer; rho acts element-wise; a bias is a constant-1 input. "
                r"Any real $W$ and $H$; the $n$ samples are the rows of $X$ and $Y$.")
        doc.add("Activation", rf"\rho(z) = {sp.latex(self.activation.expr(_z))},\quad "
                rf"\rho'(z) = {sp.latex(self.activation.derivative(_z))}",
                "Bound only when evaluating or generating code; the derivation holds for any rho. "
                r"For every real $z$; at a kink ($z = 0$ for a ReLU-like $\rho$) $\rho'(0)$ is the convention $a_-$ "
                r"(the $z \le 0$ branch), not a derivative.")
        doc.add("Loss gradient in the prediction", rf"G = \frac{{\partial L}}{{\partial S}} = {latex(loss_gradient)}",
                r"At every prediction $S$ (the loss is smooth in $S$), hence at every $W$, $H$.")
        doc.add("Gradients (matrix chain rule)",
                rf"\nabla_W L = {latex(grads[W])},\quad \nabla_H L = {latex(grads[H])}",
                r"With $\rho'(0) := a_-$ for ReLU-like activations, so dead neurons stay frozen. The gradient at every $W$, "
                r"$H$ where no pre-activation $z_{ki} = w_i \cdot x_k$ sits at a kink of $\rho$ (everywhere for smooth "
                r"$\rho$); at a kink it is the value of this convention.",
                "the matrix chain rule grad = d/dtheta tr(G^T S(theta)), checked entry by entry")
        euler = vanishes(self.euler_identity(), "z rho'(z) = rho(z)")
        if euler.holds:
            doc.add("Conservation", r"\frac{d}{dt}\left(\|w_i\|^2 - \|h_i\|^2\right) = 0",
                    r"Entry $i$ of $\frac{d}{dt}\operatorname{diag}(W W^T - H H^T)$ is "
                    r"$2\sum_k (H G^T)_{ik}(\rho(z_{ki}) - z_{ki}\rho'(z_{ki}))$, zero by Euler's identity. For every hidden "
                    r"neuron $i$, at every $t \ge 0$ of the gradient flow from any start (not for GD steps); it needs "
                    r"$z \rho'(z) = \rho(z)$ for every real $z$, which holds for positively homogeneous $\rho$, the kink "
                    r"included.",
                    "Euler's identity simplifies to 0")
        return doc.finish(ShallowNetworkDerivation, network=self, loss_gradient=loss_gradient,
                          gradient_W=grads[W], gradient_H=grads[H], euler_identity=euler)


@dataclass(frozen=True, eq=False)
class ShallowNetworkDerivation(Derivation):
    """The derived objects of a one-hidden-layer network; the activation stays rho in the gradients
    (``network.bind`` substitutes it)."""

    network: ShallowNetwork  # the model derived: activation and loss
    loss_gradient: sp.MatrixExpr  # G = dL/dS as a matrix expression of the prediction S = rho.(X W^T) H
    gradient_W: sp.MatrixExpr  # dL/dW by the matrix chain rule, in terms of the placeholder G
    gradient_H: sp.MatrixExpr  # dL/dH by the matrix chain rule, in terms of the placeholder G
    euler_identity: Claim  # z rho'(z) = rho(z): holds for positively homogeneous rho

    @property
    def conserves_balance(self) -> bool:
        """Is ||w_i||^2 - ||h_i||^2 conserved under gradient flow?  Exactly when the Euler identity holds."""
        return self.euler_identity.holds


@lru_cache(maxsize=None)
def _gradients(network: ShallowNetwork, placeholder: bool) -> tuple:
    model = network.model
    return tuple((p, model.gradient(p, placeholder=placeholder)) for p in (W, H))


def explicit(expr, sizes: dict, network: ShallowNetwork | None = None):
    """``expr`` with every matrix symbol replaced by an explicit matrix of scalar symbols at the
    given sizes ({n: 3, m: 2, ...}), the activation bound: for checking against scalar calculus.
    Returns (explicit expression, {original MatrixSymbol: its matrix of entry symbols})."""
    for size, value in sizes.items():
        require(int(value) >= 1, str(size), "a positive integer", value)
    symbolic = {s.name: s for s in sp.sympify(expr).atoms(sp.MatrixSymbol)}
    expr = (network or ShallowNetwork()).bind(expr).subs(sizes)
    replacements, by_original = {}, {}
    for symbol in expr.atoms(sp.MatrixSymbol):
        rows, cols = (int(s) for s in symbol.shape)
        entries = sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{symbol.name}_{i}{j}", real=True))
        replacements[symbol] = entries
        by_original[symbolic[symbol.name]] = entries
    return expr.subs(replacements).doit(), by_original
