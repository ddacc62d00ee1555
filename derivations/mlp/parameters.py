"""The declared parameters of the ``mlp`` model (``--set KEY=VALUE``)."""

from __future__ import annotations

import math

from gradflow.derivations.contract import Parameter
from gradflow.derivations.mlp.layers import parse_layers
from gradflow.theory.errors import ParameterError

POLISHES = ("auto", "newton", "newton-bfgs", "gauss-newton", "bfgs", "bfgs-hessian", "scipy-bfgs", "lbfgs", "none")
DATA_KINDS = ("teacher", "hermite", "population")
# activations whose population kernel is derived in closed form (with hidden biases: the second list)
POPULATION_ACTIVATIONS = ("erf2", "erf", "normal_cdf", "relu")
POPULATION_BIASED = ("erf2", "normal_cdf", "relu")
MAX_SAMPLES = 10 ** 8


def _layers(key: str):
    def canonical(text: str) -> str:
        return str(parse_layers(text, key))
    return canonical


def _positive(value) -> bool:
    return value > 0


def _optional_positive(value) -> bool:
    return value is None or value > 0


PARAMETERS = (
    Parameter("layers", "grammar", "2,8:softplus,1",
              "D0,WIDTH[:ACT][:nobias],... e.g. 2,4:softplus,1 or 3,6:relu*3+tanh*3:nobias,2:softmax",
              "the student network: input dimension, then each layer's width, activation(s) and bias",
              grammar=_layers("layers")),
    Parameter("teacher", "grammar", "2,4:softplus,1", "the layers= grammar",
              "the teacher network that labels the inputs",
              grammar=_layers("teacher")),
    Parameter("data", "choice", "teacher", "one of teacher, hermite, population",
              "teacher: n Gaussian inputs labelled by the teacher; hermite: Gauss-Hermite nodes for Gaussian "
              "inputs (D0 <= 2), labelled by the teacher; population: the exact expected loss over Gaussian "
              "inputs (one hidden layer of erf2, erf, normal_cdf or relu)", choices=DATA_KINDS),
    Parameter("n", "int", 10_000, f"an integer in [1, {MAX_SAMPLES:.0e}]", "number of samples (data=teacher)",
              check=lambda v: 1 <= v <= MAX_SAMPLES),
    Parameter("nodes", "int", 600, "an integer in [1, 10000]", "Gauss-Hermite nodes per input dimension "
              "(data=hermite)", check=lambda v: 1 <= v <= 10_000),
    Parameter("seed", "int", 1, "an integer >= 0", "seed of the student's initial weights",
              check=lambda v: v >= 0),
    Parameter("teacher_seed", "int", 0, "an integer >= 0", "seed of the teacher's weights and of the inputs",
              check=lambda v: v >= 0),
    Parameter("lr", "float", 0.1, "a number > 0", "step size of gd, sgd and adam", check=_positive),
    Parameter("batch", "int", None, "an integer >= 1 (at most the number of samples)",
              "minibatch size of sgd and adam (default: all samples)", check=lambda v: v >= 1),
    Parameter("shuffle", "int", 0, "0 or 1", "reshuffle the samples every epoch (sgd, adam)",
              check=lambda v: v in (0, 1)),
    Parameter("tauinv", "float", 1.0, "a number > 0", "inverse time constant of the flow", check=_positive),
    Parameter("maxnorm", "float", None, "a number > 0", "barrier (nu - c)^3/3 beyond nu = |theta|^2/(2P) > c",
              check=_optional_positive),
    Parameter("min_gnorm", "float", 1e-13, "a number >= 0", "stop when |grad L|_inf <= this",
              check=lambda v: v >= 0),
    Parameter("minloss", "float", 1e-30, "a number >= 0", "stop when the loss <= this", check=lambda v: v >= 0),
    Parameter("patience", "int", 10 ** 6, "an integer >= 1", "stop after this many loss evaluations without "
              "a new best loss", check=lambda v: v >= 1),
    Parameter("maxtime_ode", "float", 180.0, "a number > 0", "wall-time limit of the flow phase (seconds)",
              check=_positive),
    Parameter("maxtime_optim", "float", 120.0, "a number > 0", "wall-time limit of the polish phase (seconds)",
              check=_positive),
    Parameter("polish", "choice", "auto", "one of " + ", ".join(POLISHES),
              "second phase: auto = bfgs-hessian after a flow and newton-bfgs (Newton, then BFGS once Newton stalls) "
              "after descent (P <= 1024), bfgs (P <= 2e4), "
              "lbfgs above; bfgs-hessian: BFGS restarted from the exact Hessian every 20 iterations; "
              "scipy-bfgs: SciPy's BFGS; "
              "gauss-newton: Levenberg-Marquardt (mse only)", choices=POLISHES),
    Parameter("points", "int", 100, "an integer in [2, 100000]", "trajectory points, log-spaced in time",
              check=lambda v: 2 <= v <= 100_000),
    Parameter("force", "int", 0, "0 or 1", "allow data=hermite with D0 > 2 (nodes^D0 points)",
              check=lambda v: v in (0, 1)),
)


def check_consistent(settings: dict, n_samples: int | None = None) -> None:
    """Constraints between parameters (each error names the key that has to change)."""
    student, teacher = parse_layers(settings["layers"]), parse_layers(settings["teacher"], "teacher")
    if teacher.input_dim != student.input_dim:
        raise ParameterError("teacher", f"a network with the student's input dimension {student.input_dim}",
                             settings["teacher"])
    if student.loss == "mse" and teacher.output_dim != student.output_dim:
        raise ParameterError("teacher", f"a network with the student's output width {student.output_dim}",
                             settings["teacher"])
    if student.loss == "nll" and teacher.output_dim != student.output_dim:
        raise ParameterError("teacher", f"{student.output_dim} outputs (one logit per class of the student)",
                             settings["teacher"])
    if settings["data"] == "population":
        _check_population(settings, student, teacher)
    if settings["data"] == "hermite" and student.input_dim > 2 and not settings["force"]:
        raise ParameterError("data", f"teacher for D0 = {student.input_dim} > 2 (hermite needs "
                             f"nodes^D0 = {settings['nodes']}^{student.input_dim} points; force=1 to insist)",
                             "hermite")
    if settings["data"] == "hermite":
        points = float(settings["nodes"]) ** student.input_dim
        if points > MAX_SAMPLES:
            raise ParameterError("nodes", f"at most {math.floor(MAX_SAMPLES ** (1 / student.input_dim))} per "
                                 f"dimension for D0 = {student.input_dim}", settings["nodes"])
    samples = n_samples if n_samples is not None else (settings["n"] if settings["data"] == "teacher" else None)
    if settings["batch"] is not None and samples is not None and settings["batch"] > samples:
        raise ParameterError("batch", f"an integer in [1, {samples}] (the number of samples)", settings["batch"])


def _check_population(settings: dict, student, teacher) -> None:
    for key, spec in (("layers", student), ("teacher", teacher)):
        hidden = spec.layers[0]
        if (len(spec.layers) != 2 or len(set(hidden.activations)) != 1 or spec.output_dim != 1
                or spec.layers[-1].activations[0].name != "identity"):
            raise ParameterError(key, "one hidden layer with one activation and a scalar identity output "
                                 "with data=population", settings[key])
    name = student.layers[0].activations[0].name
    if name not in POPULATION_ACTIVATIONS:
        raise ParameterError("layers", f"a hidden activation among {', '.join(POPULATION_ACTIVATIONS)} with "
                             "data=population (their kernels are derived in closed form)", settings["layers"])
    if teacher.layers[0].activations[0].name != name:
        raise ParameterError("teacher", f"the student's hidden activation {name} with data=population",
                             settings["teacher"])
    if student.layers[0].bias and name not in POPULATION_BIASED:
        raise ParameterError("layers", f"hidden neurons without biases (:nobias) for {name} with data=population "
                             f"(biased kernels: {', '.join(POPULATION_BIASED)})", settings["layers"])
    for key in ("batch", "maxnorm"):
        if settings[key] is not None:
            raise ParameterError(key, "left out with data=population (an expectation has no samples or "
                                 "penalty terms here)", settings[key])
