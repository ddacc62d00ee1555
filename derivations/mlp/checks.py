"""``gradflow check mlp``: the derived recursions, the generated kernels against independent
oracles, and training against what theory says it must find."""

from __future__ import annotations

import numpy as np

from gradflow.derivations.mlp.kernel_errors import generated_values, random_points, relu_by_quad
from gradflow.numerics.compare import Verdict, compare
from gradflow.numerics.mlp import MLPKernels, MLPObjective, prepare_samples
from gradflow.numerics.mlp.population import PopulationNetwork
from gradflow.numerics.mlp.teacher import aligned_distance
from gradflow.numerics.mlp.training import train
from gradflow.theory.gaussian.proofs import (erf2_biased_residuals, relu_biased_residuals,
                                             relu_standardized_derivative_residuals)
from gradflow.theory.mlp import Layer, Network, random_params
from gradflow.theory.mlp.recursions import numeric_residuals, symbolic_residuals

KERNEL_NET = Network(2, (Layer(3, ("tanh", "softplus", "gelu")), Layer(2, "sigmoid", bias=False), Layer(2)))


def _central(f, theta, eps=1e-6):
    return np.array([(f(theta + eps * e) - f(theta - eps * e)) / (2 * eps) for e in np.eye(theta.size)])


def _scaled(name: str, got, want, tolerance: float, regime: str) -> Verdict:
    """max |got - want| relative to the largest |want| (entries near 0 would make a ratio meaningless)."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    error = float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), np.finfo(float).tiny))
    return Verdict(name, bool(error <= tolerance), error, tolerance, regime, "max abs / max |reference|")


def recursion_verdicts() -> list:
    symbolic = symbolic_residuals()
    numbers = numeric_residuals()
    return [Verdict(f"recursion {name}", all(r == 0 for r in symbolic[name]) and numbers[name] <= 1e-12,
                    numbers[name], 1e-12, "a layer of symbols (simplified) and random numbers", "symbolic + numeric")
            for name in symbolic]


def kernel_verdicts(quick: bool) -> list:
    rng = np.random.default_rng(0)
    net = KERNEL_NET
    X, Y, w = rng.normal(size=(64, 2)), rng.normal(size=(64, 2)), rng.uniform(0.5, 2.0, 64)
    theta = random_params(net, 1) + 0.5 * rng.normal(size=net.n_params)
    kernels = MLPKernels(net, chunk=7)
    worst = 0.0
    for n in range(1, 65):
        got = kernels.loss(theta, prepare_samples(net, X[:n], Y[:n], w[:n]))
        out = net.forward(theta, X[:n])
        want = np.mean(w[:n] * np.sum((out - Y[:n]) ** 2, axis=1))
        worst = max(worst, abs(got - want) / abs(want))
    verdicts = [Verdict("loss kernel = NumPy forward, N = 1..64 (chunks of 7)", worst <= 1e-13, worst, 1e-13,
                        "every N in 1..64", "max rel")]
    objective = MLPObjective.create(net, X, Y, w)
    loss, grad, H = objective.loss_gradient_hessian(theta)
    fd = _central(objective.loss, theta)
    verdicts.append(_scaled("gradient = central differences of the generated loss", grad, fd, 1e-6,
                            "one random point"))
    fd_H = _central(lambda t: objective.loss_and_gradient(t)[1], theta)
    verdicts.append(_scaled("Hessian = central differences of the generated gradient", H, fd_H, 1e-6,
                            "one random point"))
    asym = float(np.max(np.abs(H - H.T)) / np.max(np.abs(H)))
    verdicts.append(Verdict("Hessian symmetric", asym <= 1e-14, asym, 1e-14, "one random point", "max rel"))
    v = rng.normal(size=net.n_params)
    verdicts.append(_scaled("Hessian-vector product = H v", objective.hessian_vector(theta, v), H @ v, 1e-12,
                            "one random direction"))
    Theta = np.stack([theta, theta + 0.1, theta - 0.2])
    losses, grads = objective.gradient_ensemble(Theta)
    singles = np.stack([objective.loss_and_gradient(t)[1] for t in Theta])
    verdicts.append(compare("ensemble member = single run", grads, singles, 1e-13, "3 members", relative=True))
    return verdicts


def teacher_student_verdicts(quick: bool) -> list:
    """A realisable teacher (tanh, no hidden biases): a student of the same width trained to L <= 1e-25
    equals the teacher up to a permutation and the signs of odd neurons."""
    net = Network(2, (Layer(3, "tanh", bias=False), Layer(1)))
    rng = np.random.default_rng(3)
    teacher = 1.5 * random_params(net, 3) + np.r_[np.zeros(6), rng.normal(size=4)]
    n = 400 if quick else 10_000
    X = rng.normal(size=(n, 2))
    objective = MLPObjective.create(net, X, net.forward(teacher, X))
    start = teacher + 0.3 * rng.normal(size=net.n_params)
    result = train(objective, start, maxtime_ode=60, maxtime_optim=30, minloss=1e-25, min_gnorm=0.0)
    distance = aligned_distance(result.x, teacher, net)
    return [Verdict("teacher-student: the trained student reaches loss <= 1e-25", result.loss <= 1e-25, result.loss,
                    1e-25, f"N = {n}, flow then Newton", "loss"),
            Verdict("teacher-student: student = teacher up to permutation and sign", distance <= 1e-6, distance, 1e-6,
                    f"N = {n}", "max abs")]


def time_scale_verdicts(quick: bool) -> list:
    """A scalar tauinv = c runs the flow c times faster: theta_c(t) = theta_1(c t)."""
    net = Network(1, (Layer(2, "tanh"), Layer(1)))
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 1))
    objective = MLPObjective.create(net, X, np.sin(2 * X))
    start = random_params(net, 2)
    options = {"polish": "none", "spectrum": False, "rtol": 1e-10, "atol": 1e-10}
    reference = train(objective, start, maxT=4.0, **options)
    fast = train(objective, start, maxT=2.0, tauinv=2.0, **options)
    return [compare("scalar tauinv = 2 to t = 2 equals tauinv = 1 to t = 4", fast.ode_x, reference.ode_x, 1e-7,
                    "Radau, rtol = atol = 1e-10", relative=True)]


def relu_biased_verdicts(quick: bool) -> list:
    """ReLU's Gaussian kernel with biases: the closed form proven by Price's theorem (SymPy), the generated
    kernel against nested quad and Monte Carlo, the population loss's derivatives against differences."""
    residuals = {**relu_biased_residuals(), **relu_standardized_derivative_residuals(), **erf2_biased_residuals()}
    nonzero = [name for name, r in residuals.items() if r != 0]
    verdicts = [Verdict("biased kernels (relu, erf2, normal_cdf): Price's theorem proofs simplify to 0", not nonzero,
                        float(len(nonzero)), 0.0, f"{len(residuals)} residuals: dkappa/dc, kappa(c = 0), g's derivatives",
                        "nonzero residuals")]
    points = random_points(3, 41, biased=True)
    values = generated_values("relu", True, points)
    quad = np.array([relu_by_quad(*point) for point in points])
    verdicts.append(_scaled("relu kernel with biases = nested quad", values, quad, 1e-10, "3 random (a, b, c, p, q)"))
    samples = 100_000 if quick else 1_000_000
    worst = 0.0
    for i, (a, b, c, p, q) in enumerate(points):
        X = np.random.default_rng(50 + i).multivariate_normal([p, q], [[a, c], [c, b]], size=samples)
        f = np.maximum(X[:, 0], 0) * np.maximum(X[:, 1], 0)
        worst = max(worst, abs(values[i] - f.mean()) / (f.std() / np.sqrt(samples)))
    verdicts.append(Verdict("relu kernel with biases = Monte Carlo", worst <= 5.0, worst, 5.0,
                            f"{samples} samples at 3 points", "standard errors"))
    rng = np.random.default_rng(6)
    net = PopulationNetwork("relu", 2, 3, rng.normal(size=(2, 2)), rng.normal(size=2), hidden_bias=True,
                            output_bias=True, teacher_biases=rng.normal(size=2), teacher_output_bias=0.2)
    theta = rng.normal(size=net.n_params)
    _, grad = net.loss_and_gradient(theta)
    verdicts.append(_scaled("relu population gradient (biases) = central differences", grad,
                            _central(net.loss, theta), 1e-7, "one random point"))
    verdicts.append(_scaled("relu population Hessian (biases) = central differences", net.hessian(theta),
                            _central(lambda t: net.loss_and_gradient(t)[1], theta), 1e-6, "one random point"))
    return verdicts


def mlp_checks(quick: bool = True) -> list:
    return [*recursion_verdicts(), *kernel_verdicts(quick), *teacher_student_verdicts(quick),
            *time_scale_verdicts(quick), *relu_biased_verdicts(quick)]
