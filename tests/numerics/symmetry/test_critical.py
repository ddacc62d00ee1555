import numpy as np
import pytest

from gradflow.numerics.mlp import MLPObjective
from gradflow.numerics.symmetry import (CriticalPointError, clean_reduced_point, critical_point, is_clean, mlp,
                                        teacher_data)


class Saddle:
    """L = (x^2 - 1)^2 + y^2 + xy/10 + (z - 2)^2/2 in plain NumPy: minima near x = +-1, a saddle at 0."""

    n_params, n_samples, penalties = 3, 1, ()

    def loss_and_gradient(self, t):
        x, y, z = t
        loss = (x * x - 1) ** 2 + y * y + 0.5 * (z - 2) ** 2 + 0.1 * x * y
        return loss, np.array([4 * x * (x * x - 1) + 0.1 * y, 2 * y + 0.1 * x, z - 2])

    def loss(self, t):
        return self.loss_and_gradient(t)[0]

    def hessian(self, t):
        x = t[0]
        return np.array([[12 * x * x - 4, 0.1, 0], [0.1, 2, 0], [0, 0, 1.0]])


class Sloped(Saddle):
    """A loss with no critical point at all."""

    def loss_and_gradient(self, t):
        return float(t[0] + t[1] ** 2), np.array([1.0, 2 * t[1], 0.0])

    def hessian(self, t):
        return np.diag([0.0, 2.0, 0.0])


def test_minimum_and_saddle_of_a_plain_numpy_loss():
    point = critical_point(Saddle(), [0.7, 0.3, 0.0])
    assert point.grad_norm < 1e-15  # Newton goes on to rounding level, not just under gtol
    assert np.linalg.norm(Saddle().loss_and_gradient(point.theta)[1]) == pytest.approx(point.grad_norm)
    assert abs(abs(point.theta[0]) - 1) < 0.01
    # Newton alone, from near the saddle, converges to it (no descent)
    saddle = critical_point(Saddle(), [0.05, -0.02, 2.1], descend=False)
    assert abs(saddle.theta[0]) < 1e-10 and saddle.grad_norm < 1e-12
    assert np.linalg.eigvalsh(Saddle().hessian(saddle.theta))[0] < 0


def test_refuses_when_there_is_no_critical_point():
    with pytest.raises(CriticalPointError, match="no critical point"):
        critical_point(Sloped(), [0.0, 1.0, 0.0], descend=False)


def test_refuses_bad_input():
    with pytest.raises(ValueError, match="theta0"):
        critical_point(Saddle(), [0.0, 1.0])
    with pytest.raises(ValueError, match="gtol"):
        critical_point(Saddle(), [0.0, 1.0, 0.0], gtol=0.0)


def test_clean_reduced_point_is_a_strict_minimum_with_positive_loss():
    net = mlp([2, 2, 1])
    X, Y, _ = teacher_data(mlp([2, 3, 1]), 0, 80)
    objective = MLPObjective.create(net, X, Y)
    point = clean_reduced_point(objective, restarts=4, seed=0)
    loss, grad, H = objective.loss_gradient_hessian(point.theta)
    eigenvalues = np.linalg.eigvalsh(H)
    assert np.linalg.norm(grad) < 1e-12 and loss > 1e-4 and loss == pytest.approx(point.loss, rel=1e-13)
    assert eigenvalues[0] > 1e-9 * eigenvalues[-1] > 0
    assert 1 <= point.n_clean <= 4


def test_is_clean_rules():
    assert is_clean([1e-3, 1.0], 0.1)
    assert not is_clean([1e-12, 1.0], 0.1)  # nearly singular
    assert not is_clean([-1e-3, 1.0], 0.1)  # a saddle
    assert not is_clean([1e-3, 1.0], 1e-6)  # zero loss


def test_no_clean_point_at_zero_loss_raises():
    # the student is as wide as its teacher: every restart that finds the teacher has zero loss
    net = mlp([1, 1, 1])
    X, Y, _ = teacher_data(net, 1, 40)
    with pytest.raises(CriticalPointError, match="no clean critical point"):
        clean_reduced_point(MLPObjective.create(net, X, Y), restarts=2, seed=0, min_loss=1e3)
