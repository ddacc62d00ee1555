"""The Expand-and-Cluster derivation: the class of each activation, its neuron symmetries, and why the
zero-loss students of an overparameterised network hold duplicates and zero-type neurons.

``derive()`` classifies the activations (SymPy), proves each class's symmetries, and writes the
argument as steps; the frozen :class:`ExpandClusterDerivation` carries the results by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from gradflow.theory.derivation import Derivation, Draft
from gradflow.theory.expand_cluster.activation_class import ActivationClass, _as_activation, derive_class
from gradflow.theory.expand_cluster.symmetries import symmetry_claims
from gradflow.theory.latex import latex
from gradflow.theory.verify import Claim, vanishes

# the activations of the class table, in its order; g(z) = sigmoid(4z) + softplus(z) is the 'none' example
TABLE_ACTIVATIONS = ("tanh", "erf", "identity", "sigmoid", "softplus", "gelu", "silu", "relu", "leaky_relu", "g")
EXPECTED_CLASSES = {"tanh": "odd", "erf": "odd", "identity": "odd", "sigmoid": "odd_constant",
                    "softplus": "even_linear", "gelu": "even_linear", "silu": "even_linear",
                    "relu": "even_linear_positive_scaling", "leaky_relu": "even_linear_positive_scaling",
                    "g": "none"}

WHY_DUPLICATES = (
    "Let a teacher f*(x) = sum_j a*_j sigma(v*_j . x~) + c* be irreducible (every a*_j and w*_j nonzero, no two "
    "v*_j equal up to the class symmetry) with an activation identifiable in the classical sense (Sussmann "
    "1992; Albertini and Sontag 1993; Fefferman 1994): for such sigma, functions sigma(v . x~) with distinct "
    "v (modulo the symmetry) are linearly independent together with the affine functions the class allows. A "
    "student f = sum_i a_i sigma(v_i . x~) + c of width r > r* at zero loss on rich data equals f*, so grouping "
    "its neurons by v_i (modulo the symmetry) and collecting coefficients, every group's summed coefficient must "
    "match the teacher's: (i) duplicates, neurons with v_i = v*_j (up to the symmetry) whose outgoing weights "
    "sum (sign-corrected for odd classes) to a*_j; (ii) zero-type neurons, groups whose weights sum to zero "
    "(a_i = 0, any v_i) or constant neurons (w_i = 0, absorbed in the bias); (iii) for even_linear classes only, "
    "covert linear pairs (v, a), (-v, -a) whose sum 2 alpha a v . x~ is affine. Across independent students only "
    "the teacher's vectors recur; the zero-type and covert vectors depend on the initialisation and scatter. "
    "Hence large, tight clusters of canonical incoming vectors are teacher neurons, and summing a student's "
    "outgoing weights within a cluster merges its duplicates exactly.")

WHY_EXPAND = (
    "Every critical point of a narrower network embeds (by duplication or zero-type neurons) as an affine "
    "subspace of critical points of a wider one. At r = r* these saddles and minima trap gradient training; as "
    "r grows, the zero-loss subspaces outnumber and outsize them and training reaches zero loss from most "
    "initialisations: overparameterising first, then clustering, recovers the minimal network.")


WHY_ABLATION = (
    "In a deep student a neuron of layer l reaches the output only through the layers above, so its outgoing "
    "weights no longer tell what it carries: a layer-1 neuron that is nearly constant on the data (small |w| "
    "against its bias) feeds layer 2 an almost constant input that the layer-2 biases absorb, whatever its "
    "outgoing weights, and zero-loss students keep such neurons, with large weights, tight enough across some "
    "of the students to pass the size and angle tests. The mean-ablation effect of a set S of neurons, the RMS "
    "change of the output when their outputs h_i are replaced by their means over the data, relative to the "
    "output's own spread, measures it directly: in the last hidden layer it is the RMS of "
    "the sum of a_i (h_i - m_i) over S, m_i the mean of h_i, zero for zero-type and constant neurons and for duplicates whose "
    "weights cancel; in any layer it is zero for a constant neuron. Variant f drops the clusters whose median "
    "effect over their students is below 1e-2.")


WHY_MASK = (
    "The data pin a neuron's weight on an input only as far as that input varies. Moving w_ik by delta and b_i by "
    "-delta times the input's mean m_k changes the pre-activation by delta (x_k - m_k); at a zero-loss point the "
    "Hessian is the Gauss-Newton matrix, so the loss's curvature along that move is at most 2 |a_i|^2 "
    "max(sigma')^2 Var(x_k) for the squared error summed over outputs (averaged over outputs it is smaller). A "
    "constant input leaves the weight free (mask it); "
    "a nearly constant one, a pixel lit in a handful of images, leaves it nearly free: students that agree with "
    "the teacher to a small loss still carry their own values there, and the comparison of incoming vectors "
    "masks such inputs as well.")

WHY_SPLIT = (
    "Two neurons at (1 + e) v and (1 - e) v with outgoing weight a each differ from one neuron at v with "
    "weight 2a only at second order in e: the loss is flat along this split to second order, so a zero-loss "
    "student can keep it, and finite training leaves e small but not zero (about 1e-4 on EC-Toy-150). "
    "Across the students that hold it, each half is tight, and a clustering that cuts below the distance 2e|v| "
    "keeps both halves as clusters, one neuron too many. Distinct neurons of an irreducible teacher are far apart "
    "on this scale, so variant g merges kept clusters closer than 1e-2 of their length; their summed outgoing "
    "weights then add both halves.")
SPLIT_ACTIVATIONS = ("tanh", "sigmoid", "g")  # the EC-Toy-150 activations
_u, _e = sp.symbols("u e", real=True)


def split_claim(name: str) -> Claim:
    """sigma((1 + e) u) + sigma((1 - e) u) - 2 sigma(u) = e^2 u^2 sigma''(u) + O(e^4), through e^3."""
    sigma = _as_activation(name).expr
    series = sp.series(sigma((1 + _e) * _u) + sigma((1 - _e) * _u) - 2 * sigma(_u), _e, 0, 4).removeO()
    return vanishes(series - _e ** 2 * _u ** 2 * sp.diff(sigma(_u), _u, 2),
                    f"{name}: sigma((1+e)u) + sigma((1-e)u) - 2 sigma(u) = e^2 u^2 sigma''(u) + O(e^4)")


@dataclass(frozen=True, eq=False)
class ExpandClusterDerivation(Derivation):
    """What :func:`derive` derives, by name."""

    classes: Mapping[str, ActivationClass]  # activation -> its derived class
    symmetries: Mapping[str, Claim]  # "activation: transformation" -> its proof
    table_matches: bool  # the derived classes equal EXPECTED_CLASSES
    splits: Mapping[str, Claim]  # activation -> the split identity through third order in e

    @property
    def claims(self) -> dict[str, Claim]:
        return {**self.symmetries, **{f"{name}: split (1 +- e) v": c for name, c in self.splits.items()}}


def derive(activations=TABLE_ACTIVATIONS) -> ExpandClusterDerivation:
    draft = Draft("Expand-and-Cluster: activation classes and the structure of zero-loss students")
    classes = {name: derive_class(name) for name in activations}
    draft.add("Two combinations decide the class",
              r"e(z) = \sigma(z) + \sigma(-z), \qquad d(z) = \sigma(z) - \sigma(-z)",
              "e constant (e' = 0): odd (e = 0) or odd_constant; otherwise d linear (d'' = 0, d(0) = 0, "
              "d = 2 alpha z): even_linear, with positive scaling if sigma(k z) = k sigma(z) for k > 0; "
              "otherwise none. "
              r"Both for every real $z$, for any scalar activation $\sigma$; the class tests need $e$, $d$ "
              r"differentiable off $z = 0$.", "e' and d - 2 alpha z simplify to 0 for z > 0 and z < 0")
    rows = " \\\\ ".join(rf"\text{{{n.replace('_', ' ')}}} & \text{{{c.kind.replace('_', ' ')}}} & "
                         rf"{'-' if c.alpha is None else latex(c.alpha)} & "
                         rf"{'-' if c.sum_constant is None else latex(c.sum_constant)}"
                         for n, c in classes.items())
    draft.add("Derived classes", r"\begin{array}{llll} \sigma & \text{class} & \alpha & C \\ " + rows
              + r"\end{array}", "Each row derived from sigma's SymPy expression. "
              r"$\alpha$ is the constant of $d(z) = 2 \alpha z$ and $C$ that of $e(z) = C$ (for every real $z$); $s$ is the "
              r"leaky ReLU's slope for $z < 0$.", "classification")
    symmetries = {}
    for name in activations:
        for label, claim in symmetry_claims(name).items():
            symmetries[f"{name}: {label}"] = claim
    draft.add("Neuron symmetries",
              r"a\sigma(u) = -a\sigma(-u);\quad a\sigma(u) + c = -a\sigma(-u) + c + Ca;\quad "
              r"a\sigma(u) = a\sigma(-u) + 2\alpha a u;\quad a\sigma(u) = \tfrac{a}{k}\sigma(ku)",
              "For each activation, the identities of its class. "
              r"In order: odd, odd constant, even linear, positive scaling; each for every real $u$, $a$, $c$, the "
              r"last for every $k > 0$.", "simplifies to 0 and random points")
    draft.add("Why zero-loss students hold duplicates and zero-type neurons",
              r"f = \sum_i a_i \sigma(v_i\cdot\tilde x) + c = f^* \Rightarrow \sum_{i \in S_j} s_i a_i = a^*_j",
              WHY_DUPLICATES + r" In the formula: for every teacher neuron $j$, $S_j$ is the set of student neurons "
              r"with $v_i = v^*_j$ up to the class symmetry and $s_i = \pm 1$ the sign of that symmetry.")
    draft.add("What a neuron carries in a deep student",
              r"e(S) = \frac{\lVert f - f|_{h_S \to \bar h_S} \rVert}{\lVert f - \bar f \rVert}",
              WHY_ABLATION + r" In the formula: $f|_{h_S \to \bar h_S}$ is the student with the outputs of the neurons "
              r"in $S$ replaced by their means $\bar h_S$ over the data, $\bar f$ the mean output, and the norms are "
              r"root mean squares over the data.")
    draft.add("Which inputs pin a neuron's weights",
              r"\partial_\delta^2 L\,\big|_{w_{ik} + \delta,\; b_i - \delta m_k} \le 2\,\lVert a_i \rVert^2 "
              r"\max(\sigma')^2\, \mathrm{Var}(x_k)",
              WHY_MASK + r" In the formula: at a zero-loss point, $a_i$ the outgoing weights of neuron $i$, $m_k$ and "
              r"$\mathrm{Var}(x_k)$ the mean and variance of input $k$ over the data.")
    splits = {name: split_claim(name) for name in SPLIT_ACTIVATIONS}
    draft.add("Why a neuron can split in two",
              r"a\sigma((1+e)u) + a\sigma((1-e)u) = 2a\sigma(u) + a e^2 u^2 \sigma''(u) + O(e^4)",
              WHY_SPLIT + r" In the formula: $u = v\cdot\tilde x$ and $e$ the relative split; proved for "
              + ", ".join(SPLIT_ACTIVATIONS) + " by the series in $e$.", "simplifies to 0 and random points")
    draft.add("Why expand first", r"r > r^*",
              WHY_EXPAND + r" Here $r$ is the student width and $r^*$ the teacher's (minimal) width; the embedding is "
              r"exact, the statement about training is observed, not derived.")
    matches = all(EXPECTED_CLASSES.get(n, c.kind) == c.kind for n, c in classes.items())
    return draft.finish(ExpandClusterDerivation, classes=classes, symmetries=symmetries, table_matches=matches,
                        splits=splits)
