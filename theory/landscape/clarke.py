"""Clarke stationarity, by the chain-rule estimate of the Clarke subdifferential.

The chain rule (Clarke, Optimization and Nonsmooth Analysis, Thm 2.6.6 with Prop 2.6.2(e)) puts
the Clarke subdifferential of L inside the set of vectors obtained by replacing each rho'(w_i . x_k)
with any xi_ik in the generalized derivative: rho'(z) for z != 0 and the interval
[min(a+, a-), max(a+, a-)] for z = 0.  The xi_ik of different neurons are independent, so 0 lies
in that estimate iff for every neuron i
  g_i = 0  and  there are xi_ik in [min(a+, a-), max(a+, a-)] (k in I0) with
  sum_{k not in I0} (h_i . e_k) rho'(w_i . x_k) x_k + sum_{k in I0} xi_ik (h_i . e_k) x_k = 0,
an LP feasibility problem.  This module reports exactly that estimate: it is necessary for Clarke
stationarity (d-stationary => Clarke-stationary => estimate holds), and it is what the paper's
example uses (one ReLU neuron, data (1, 1), (w, h) = (0, 1): Clarke-stationary, not d-stationary).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradflow.theory.landscape.arithmetic import magnitude
from gradflow.theory.landscape.linear_program import minimize
from gradflow.theory.landscape.partitions import neuron_partition, output_gradient, output_gradient_scale
from gradflow.theory.landscape.point import NetworkPoint, require_relu_like


@dataclass(frozen=True, eq=False)
class NeuronClarke:
    index: int
    s1: bool                          # g_i = 0
    multipliers: np.ndarray | None    # xi_ik for the kink inputs solving the balance (None: none exists)

    @property
    def holds(self) -> bool:
        return self.s1 and self.multipliers is not None


@dataclass(frozen=True, eq=False)
class ClarkeStationarity:
    neurons: tuple[NeuronClarke, ...]

    @property
    def holds(self) -> bool:
        return all(neuron.holds for neuron in self.neurons)


def clarke_stationarity(point: NetworkPoint) -> ClarkeStationarity:
    """The chain-rule estimate of Clarke stationarity, neuron by neuron (see module docstring)."""
    return ClarkeStationarity(tuple(neuron_clarke(point, i) for i in range(point.m)))


def neuron_clarke(point: NetworkPoint, i: int) -> NeuronClarke:
    activation = require_relu_like(point)
    arithmetic = point.arithmetic
    partition = neuron_partition(point, i)
    s1 = arithmetic.is_zero(output_gradient(point, i), output_gradient_scale(point, i))
    weights = point.residuals().dot(point.H[i])                     # h_i . e_k
    kink = partition.kink_inputs
    off = [k for k in range(point.n) if k not in set(partition.kink)]
    slopes = np.asarray(activation.prime(partition.preactivation))
    target = -sum((weights[k] * slopes[k] * point.X[k] for k in off), arithmetic.zeros(point.d))
    columns = [weights[k] * point.X[k] for k in kink]
    low, high = sorted((arithmetic.number(activation.a_plus), arithmetic.number(activation.a_minus)))
    scale = max(abs(float(activation.a_plus)), abs(float(activation.a_minus))) * float(
        sum(magnitude(weights[k]) * magnitude(point.X[k]).sum() for k in range(point.n)))
    return NeuronClarke(i, s1, _balance(point, columns, target, low, high, scale))


def _balance(point: NetworkPoint, columns, target, low, high, scale):
    """xi in [low, high]^K with sum_k xi_k columns_k = target, or None.

    LP: min sum(r+ + r-) s.t. A xi - r+ + r- = target, r+- >= 0; zero optimum <=> feasible.
    Start: xi = low, r = A low - target split into its positive and negative parts."""
    arithmetic = point.arithmetic
    size, d = len(columns), point.d
    if all(arithmetic.is_zero(column) for column in columns):  # nothing to balance with (e.g. h_i = 0)
        feasible = arithmetic.is_zero(target, scale)
        return np.array([low] * size, dtype=object if point.exact else float) if feasible else None
    zero, one = arithmetic.number(0), arithmetic.number(1)
    A = np.array([[columns[k][r] for k in range(size)] for r in range(d)],
                 dtype=object if point.exact else float).reshape(d, size)
    identity = [[one if r == c else zero for c in range(d)] for r in range(d)]
    A_eq = [list(A[r]) + [-v for v in identity[r]] + identity[r] for r in range(d)]
    residual = [sum((A[r, k] * low for k in range(size)), zero) - target[r] for r in range(d)]
    start = [low] * size + [max(v, zero) for v in residual] + [max(-v, zero) for v in residual]
    solution = minimize([zero] * size + [one] * (2 * d), A_eq=A_eq, b_eq=list(target),
                        lower=[low] * size + [zero] * (2 * d), upper=[high] * size + [None] * (2 * d),
                        start=start, exact=point.exact)
    if not arithmetic.is_zero(solution.value, scale):
        return None
    return solution.x[:size]
