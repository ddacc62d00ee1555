"""The deep linear network's derivation, its laws and its compiled simulators, each built once per
process (and cached on disk across processes: the derivation as data, the generated modules as
files); and the two runs the entry and the checks share."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from gradflow.derivations.deep_linear.instances import mode_problem
from gradflow.derivations.deep_linear.laws import ModeLaws
from gradflow.derivations.deep_linear.oracles import numpy_gd
from gradflow.derivations.deep_linear.weight_space import SquaredLossSimulator
from gradflow.derivations.derivation_cache import cached
from gradflow.numerics import LaneSimulator
from gradflow.theory.models import deep_linear as dl


@lru_cache(maxsize=None)
def derivation() -> dl.DeepLinearDerivation:
    """dl.derive() through the disk cache."""
    return cached("deep_linear", dl.derive)


@lru_cache(maxsize=None)
def laws() -> ModeLaws:
    return ModeLaws(derivation())


@lru_cache(maxsize=None)
def lane_flow_simulator() -> LaneSimulator:
    """The flow of one mode's (a, b); parameter sigma, observables s = a b and a^2 - b^2."""
    return LaneSimulator(derivation().lane_flow, {"s": dl.a * dl.b, "imbalance": dl.a ** 2 - dl.b ** 2})


@lru_cache(maxsize=None)
def lane_map_simulator() -> LaneSimulator:
    """One GD step of one mode's (a, b); parameters (sigma, eta), observable s = a b."""
    return LaneSimulator(derivation().lane_map, {"s": dl.a * dl.b})


@lru_cache(maxsize=None)
def weight_space_simulator() -> SquaredLossSimulator:
    """GD and RK4 on (W1, W2) through the generated squared-loss kernel."""
    return SquaredLossSimulator()


def weight_space_gd(settings: dict, n_steps: int, record, backend: str = "cpu", progress: bool = False,
                    imbalance: float = 1.0):
    """(problem, trajectory) of W-space GD from the balanced (or unbalanced) start, recorded after the
    steps in ``record``: the generated kernel (backend "cpu") or the NumPy oracle ("numpy")."""
    problem = mode_problem(settings["n_in"], settings["hidden"], settings["n_out"], settings["sigma"],
                           settings["s0"], settings["seed"], imbalance)
    if backend == "cpu":
        run = weight_space_simulator().gd(problem.initial, problem.data, settings["eta"], n_steps, record, progress)
    else:
        run = numpy_gd(problem.initial, problem.data, settings["eta"], n_steps, record)
    return problem, run


def lane_flow(sigma, a0, b0, times, backend: str = "cpu", rtol: float = 1e-11, atol: float = 1e-13) -> np.ndarray:
    """states[r, lane, (a, b)] of the per-mode flow, one lane per sigma: the generated dopri5
    (backend "cpu") or SciPy's DOP853 on the derived velocity ("numpy")."""
    sigma = np.asarray(sigma, float)
    initial = np.column_stack([np.broadcast_to(a0, sigma.shape), np.broadcast_to(b0, sigma.shape)])
    if backend == "cpu":
        return lane_flow_simulator().integrate(initial, {"sigma": sigma}, times, "dopri5", rtol=rtol, atol=atol).states
    from scipy.integrate import solve_ivp  # imported when needed: saves 0.4 s at start

    velocity = laws().lane_velocity
    states = np.empty((len(times), sigma.size, 2))
    for lane, (x0, q) in enumerate(zip(initial, sigma)):
        solved = solve_ivp(lambda _, x: np.asarray(velocity(x[0], x[1], q), float), (0.0, float(times[-1])), x0,
                           method="DOP853", t_eval=times, rtol=rtol, atol=atol)
        states[:, lane, :] = solved.y.T
    return states
