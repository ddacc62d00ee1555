"""Experiments ``relu-exp-a``, ``relu-exp-b``, ``relu-exp-c`` and ``relu-sigma-sweep``: saddle-to-saddle
dynamics of a width-50 ReLU network.

Each of relu-exp-a/b/c trains the network by full-batch GD from a vanishing initialisation with the
generated kernel (float64 and float32), detects the plateaus of the loss curve, idealises the point
on each plateau into an embedded stationary point of a narrower network, computes its exact loss (a
rational for scalar outputs) and classifies it with the landscape tools, then compares the first
escape time with ln(1/sigma)/(2 lambda*).  relu-sigma-sweep measures that first escape time over
several sigma and seeds in one ensemble launch, or with ``store`` through the sweep runner (sigma_store).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gradflow.derivations.contract import Experiment, Parameter
from gradflow.derivations.report import Reproduction
from gradflow.derivations.shallow_relu import figures
from gradflow.derivations.shallow_relu.analysis import KINK_TOL, analyse_plateau, plateaus
from gradflow.derivations.shallow_relu.datasets import DATASETS, SEED, STOP_LOSS, SWEEP_MUS, WIDTH, ReluDataset
from gradflow.derivations.shallow_relu.reports import ESCAPE_DROP, sweep_report, training_report
from gradflow.derivations.shallow_relu.sigma_store import escape_times_from_store, store_sentence, store_text
from gradflow.derivations.shallow_relu.simulators import derivation, simulator
from gradflow.derivations.shallow_relu.training import downsample, train
from gradflow.numerics.drivers.shallow_network import initial_parameters
from gradflow.numerics.saddle.escape_time import (first_escape_rate, fit_escape_times, measured_escape_time,
                                                  predicted_escape_time)
from gradflow.numerics.saddle.neuron_observables import max_conservation_drift, neuron_observables
from gradflow.numerics.saddle.perturbation import perturbation_certificate
from gradflow.theory.activations import RELU

SEED_PARAMETER = Parameter("seed", "int", SEED, "an integer >= 0",
                           "seed of the initialisation (and of the perturbation certificate)", lambda v: v >= 0)


def _summary(dataset: ReluDataset) -> str:
    return (f"width-{WIDTH} ReLU network, GD lr = {dataset.lr:g}, sigma = {WIDTH}^{dataset.mu:g}, "
            f"{dataset.iterations:.0e} iterations (stop at loss <= {STOP_LOSS:g}): plateaus, their exact losses and "
            "classification, first escape time")


def _parameters(dataset: ReluDataset) -> tuple[Parameter, ...]:
    return (
        Parameter("mu", "float", dataset.mu, "a number in [-20, 0) (sigma = 50^mu between 1e-34 and 1)",
                  "initial scale: W, H entries i.i.d. N(0, sigma^2), sigma = 50^mu", lambda v: -20 <= v < 0),
        Parameter("lr", "float", dataset.lr, "a number > 0", "GD learning rate", lambda v: v > 0),
        Parameter("iterations", "int", dataset.iterations, "an integer >= 1",
                  f"GD iterations (GD stops earlier once the loss is <= {STOP_LOSS:g})", lambda v: v >= 1),
        SEED_PARAMETER,
    )


@dataclass(frozen=True)
class SaddleToSaddle(Experiment):
    """relu-exp-a/b/c: train on the data set named by the experiment, analyse every plateau."""

    mu: float
    lr: float
    iterations: int
    seed: int

    @property
    def dataset(self) -> ReluDataset:
        """The experiment's data with this configuration's training set-up."""
        return DATASETS[self.name].with_training(self.mu, self.lr, self.iterations)

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        dataset = self.dataset
        timings = {}
        start = time.perf_counter()
        simulator()
        timings["codegen_or_load"] = time.perf_counter() - start
        start = time.perf_counter()
        run = train(dataset, seed=self.seed, progress=progress)
        timings["gd_float64"] = time.perf_counter() - start
        start = time.perf_counter()
        analysed = [analyse_plateau(p, run, dataset) for p in plateaus(run)]
        timings["plateau_analysis"] = time.perf_counter() - start
        results = {**self._training_results(run, analysed, dataset, quick),
                   "float32": self._float32(quick, timings, progress)}
        observables = neuron_observables(run.W_snapshots, run.H_snapshots)
        plots = figures.training(self.name, run, analysed, observables, dataset)
        arrays = {"loss_iterations": run.loss_iterations, "loss": run.loss,
                  "snapshot_iterations": run.snapshot_iterations, "W": run.W_snapshots, "H": run.H_snapshots}
        parameters = {"width": WIDTH, "lr": dataset.lr, "sigma": dataset.sigma, "mu": dataset.mu,
                      "iterations": dataset.iterations, "stop_loss": STOP_LOSS, "seed": self.seed,
                      "init": "numpy default_rng", "quick": quick, "kink_tol": KINK_TOL,
                      "X": [list(r) for r in dataset.inputs], "Y": [list(r) for r in dataset.targets]}
        return Reproduction(self.name, parameters, arrays, plots, training_report(self.name, results, timings),
                            derivation().to_latex(), [simulator().path], timings, [self.seed], results=results)

    def _training_results(self, run, analysed: list, dataset: ReluDataset, quick: bool) -> dict:
        """The JSON summary of the float64 run: loss curve, plateaus, escape time, certificate, drift."""
        rate = first_escape_rate(dataset.X, dataset.Y, RELU)
        measured = measured_escape_time(run.loss_iterations, run.loss, dataset.lr, drop=ESCAPE_DROP)
        predicted = predicted_escape_time(dataset.sigma, rate.lambda_star)
        certificate = perturbation_certificate(run.W, run.H, dataset.X, dataset.Y, RELU, samples=500 if quick else 5000,
                                               seed=self.seed)
        drift = max_conservation_drift(run.W_snapshots, run.H_snapshots)
        iterations, loss = downsample(run)
        return {
            "iterations": iterations.tolist(), "loss": loss.tolist(),
            "plateaus": analysed, "final_loss": run.final_loss, "last_iteration": int(run.last_iteration),
            "status": run.status,
            "escape_time_measured": measured, "escape_time_predicted": predicted, "escape_drop": ESCAPE_DROP,
            "lambda_star": float(rate.lambda_star), "u_star": np.asarray(rate.u_star).tolist(),
            "perturbation_min_delta": float(certificate.min_delta),
            "perturbation_amplitude": float(certificate.amplitude),
            "perturbation_decreases": int(certificate.decreasing),
            "conservation_drift_max": float(drift),
        }

    def _float32(self, quick: bool, timings: dict, progress: bool = False) -> dict | None:
        """The same training in float32 (not with --quick): final loss and plateau values."""
        if quick:
            return None
        start = time.perf_counter()
        run32 = train(self.dataset, dtype=np.float32, seed=self.seed, progress=progress)
        timings["gd_float32"] = time.perf_counter() - start
        return {"final_loss": run32.final_loss, "plateaus": [float(p.loss) for p in plateaus(run32)],
                "last_iteration": int(run32.last_iteration)}


@dataclass(frozen=True)
class ReluExpA(SaddleToSaddle):
    name = "relu-exp-a"
    summary = _summary(DATASETS["relu-exp-a"])
    parameters = _parameters(DATASETS["relu-exp-a"])

    mu: float = DATASETS["relu-exp-a"].mu
    lr: float = DATASETS["relu-exp-a"].lr
    iterations: int = DATASETS["relu-exp-a"].iterations
    seed: int = SEED


@dataclass(frozen=True)
class ReluExpB(SaddleToSaddle):
    name = "relu-exp-b"
    summary = _summary(DATASETS["relu-exp-b"])
    parameters = _parameters(DATASETS["relu-exp-b"])

    mu: float = DATASETS["relu-exp-b"].mu
    lr: float = DATASETS["relu-exp-b"].lr
    iterations: int = DATASETS["relu-exp-b"].iterations
    seed: int = SEED


@dataclass(frozen=True)
class ReluExpC(SaddleToSaddle):
    name = "relu-exp-c"
    summary = _summary(DATASETS["relu-exp-c"])
    parameters = _parameters(DATASETS["relu-exp-c"])

    mu: float = DATASETS["relu-exp-c"].mu
    lr: float = DATASETS["relu-exp-c"].lr
    iterations: int = DATASETS["relu-exp-c"].iterations
    seed: int = SEED


@dataclass(frozen=True)
class ReluSigmaSweep(Experiment):
    name = "relu-sigma-sweep"
    summary = ("relu-exp-a at sigma = 50^mu, mu in {-1.8, -2.5, -3}, several seeds in one ensemble launch: "
               "first escape time against ln(1/sigma)/(2 lambda*)")
    parameters = (
        Parameter("mus", "floats", SWEEP_MUS, "a comma list of numbers in [-20, 0), at least two different",
                  "the initial scales sigma = 50^mu, one run per mu and seed",
                  lambda v: all(-20 <= mu < 0 for mu in v) and len(set(v)) >= 2),
        Parameter("seeds", "int", 5, "an integer >= 1",
                  "runs per mu, seeds seed, seed + 1, ... (at most 2 with --quick)", lambda v: v >= 1),
        Parameter("iterations", "int", 150_000, "an integer >= 1", "GD iterations of every run", lambda v: v >= 1),
        Parameter("seed", "int", SEED, "an integer >= 0", "the first seed of the initialisations", lambda v: v >= 0),
        Parameter("store", "grammar", None, "a folder path or fsspec URL",
                  "run through the sweep runner into this Zarr store (an existing one is resumed) and report from "
                  "it; not set: one ensemble launch in process", grammar=store_text),
    )

    mus: tuple = SWEEP_MUS
    seeds: int = 5
    iterations: int = 150_000
    seed: int = SEED
    store: str | None = None

    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu") -> Reproduction:
        base = DATASETS["relu-exp-a"]
        seeds = range(min(2, self.seeds) if quick else self.seeds)
        members = [(mu, seed) for mu in self.mus for seed in seeds]
        start = time.perf_counter()
        if self.store is None:
            measured, labels = self._in_process(base, members, progress), [self.seed + s for _, s in members]
        else:  # the sweep runner's store: seed s is member s of SeedSequence(self.seed, ...)
            stored, info = escape_times_from_store(self.store, self.mus, len(seeds), self.iterations, self.seed, quick,
                                                   progress)
            measured, labels = stored.reshape(-1), [s for _, s in members]
        timings = {"ensemble" if self.store is None else "sweep": time.perf_counter() - start}
        rate = first_escape_rate(base.X, base.Y, RELU)
        sigmas = np.array([WIDTH ** mu for mu, _ in members])
        predicted = np.array([predicted_escape_time(s, rate.lambda_star) for s in sigmas])
        fit = fit_escape_times(sigmas, measured, rate.lambda_star)
        results = {"mu": [mu for mu, _ in members], "seed": labels,
                   "sigma": sigmas.tolist(), "escape_time_measured": measured.tolist(),
                   "escape_time_predicted": predicted.tolist(), "escape_drop": ESCAPE_DROP,
                   "lambda_star": float(rate.lambda_star), "fit": {k: float(v) for k, v in vars(fit).items()}}
        report = sweep_report(self.name, self.summary, members, results, fit)
        if self.store is not None:
            results["store"] = {"path": self.store, **info}
            report += "\n" + store_sentence(self.store, info, len(members)) + "\n"
        return Reproduction(self.name, {"mus": list(self.mus), "seeds": len(seeds), "iterations": self.iterations,
                                        "lr": base.lr, "width": WIDTH, "quick": quick, "store": self.store},
                            {"sigma": sigmas, "measured": measured, "predicted": predicted},
                            {"escape_times": figures.escape_times(sigmas, measured, fit)},
                            report, derivation().to_latex(), [simulator().path], timings,
                            [self.seed + s for s in seeds] if self.store is None else [self.seed], results=results)

    def _in_process(self, base, members, progress: bool = False) -> np.ndarray:
        """The first escape time of every (mu, seed) member: one ensemble launch, seeds self.seed + s."""
        inits = [initial_parameters(WIDTH, base.X.shape[1], base.Y.shape[1], WIDTH ** mu, seed=self.seed + seed)
                 for mu, seed in members]
        runs = simulator().gd_ensemble(base.X, base.Y, np.stack([w for w, _ in inits]), np.stack([h for _, h in inits]),
                                       [base.lr] * len(members), self.iterations, snapshots=10, stop_loss=STOP_LOSS,
                                       progress=progress)
        return np.array([measured_escape_time(r.loss_iterations, r.loss, base.lr, drop=ESCAPE_DROP) for r in runs])
