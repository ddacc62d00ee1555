"""The CLI models ``am-orthogonal`` and ``am-random``: associative memories trained by GD, SGD or flow."""

from __future__ import annotations

import math

import numpy as np

from gradflow.derivations.associative_memory import parameters
from gradflow.derivations.associative_memory.instances import MemoryInstance, memory_instance
from gradflow.derivations.associative_memory.oracles import (logit_particles_numpy, margin_flow_numpy,
                                                             margin_loss_numpy, margin_map_numpy)
from gradflow.derivations.contract import ModelEntry
from gradflow.derivations.cost import BYTES_PER_NUMBER, JSON_BYTES_PER_NUMBER, Cost
from gradflow.derivations.output import simulation_result
from gradflow.numerics import log_times, record_steps


def _simulators():
    """The compiled simulators' module, imported on the first run that needs it: importing it imports Numba,
    which a NumPy run does without (see ``ModelEntry.backend_for_work``)."""
    from gradflow.derivations.associative_memory import simulators

    return simulators


def derivation():
    return _simulators().derivation()


def _orthogonal_zero_one(margins, p, labels):
    # from W_0 = 0 the wrong logits stay equal: ties (m = 0) go to class 0
    wrong = (margins < 0) | ((margins == 0) & (labels != 0))
    return wrong.astype(float) @ p


def _records(method: str, steps: int | None, t_end: float | None, default_steps: int, default_t_end: float) -> int:
    """How many records a run keeps (record_steps for GD/SGD, log_times or 101 times for the flow)."""
    if method == "flow":
        return 101 if default_t_end == 10.0 else len(log_times(default_t_end if t_end is None else t_end))
    n = default_steps if steps is None else steps
    return n + 1 if n <= 100_000 else int(200 * math.log10(n)) + 3


def _cost(work: float, arrays: dict, records: int, per_record: float, length: float, hint: str = "") -> Cost:
    """Memory = the named arrays (numbers, by the setting that drives each) + the records and their JSON."""
    recorded = records * per_record * (4 * BYTES_PER_NUMBER + JSON_BYTES_PER_NUMBER)
    name, largest = max(arrays.items(), key=lambda item: item[1])
    memory = BYTES_PER_NUMBER * sum(arrays.values()) + recorded
    return Cost(work, memory, name if largest * BYTES_PER_NUMBER >= recorded else "N", hint, length)


def _run_params(settings: dict, inst: MemoryInstance, method: str, backend: str) -> dict:
    zipf = None if settings["p"] is not None else settings["zipf"]  # given p, zipf plays no part
    return dict(settings, zipf=zipf, p=inst.p.tolist(), labels=inst.labels.tolist(), method=method, backend=backend)


class OrthogonalMemory(ModelEntry):
    name = "am-orthogonal"
    warm_start = True  # simulate imports no SymPy once its generated modules are cached
    summary = "associative memory, orthonormal embeddings, W_0 = 0: each input reduces to its scalar margin"
    parameters = parameters.ORTHOGONAL
    methods = ("gd", "flow", "sgd")
    default_length = {"gd": 1000, "sgd": 1000, "flow": 1e4}
    backends = ("cpu", "numpy", "cuda")
    auto_numpy_methods = ("gd",)  # the oracles' GD is the kernels' (SGD draws its batches another way)
    compare_methods = ("gd", "flow")
    compare_help = ("gd: the GD margin and loss bounds, the uniform approximation, m_T = log(eta M p T) + "
                    "O(log T/T), eta T L -> N(M-1)/M; flow: the Lambert solution, the flow bounds, "
                    "m = log(M p T) + O(log T/T)")

    def derivation(self):
        return derivation()

    def check_given(self, given: dict) -> None:
        parameters.check_given(given)

    def cost(self, settings, method, steps, t_end):
        N, M = settings["N"], settings["M"]
        d = max(N, M)  # orthonormal embeddings in d = max(N, M) dimensions
        arrays = {"N": 3.0 * N * d, "M": 3.0 * M * d}  # E, U and their QR
        records = _records(method, steps, t_end, 1000, 1e4)
        if method == "sgd":  # the logit particles: K, Gamma, S and its updates
            arrays = {"N": arrays["N"] + N * N + 4.0 * N * M, "M": arrays["M"] + M * M}
            work = (1000 if steps is None else steps) * 2.0 * (N * N * M + N * M * M)
        else:
            work = (1000 if steps is None else steps) * 30.0 * N if method == "gd" else N * 1e6
        return _cost(work, arrays, records, N, t_end if method == "flow" else (1000 if steps is None else steps))

    def instance(self, settings: dict) -> MemoryInstance:
        N, M = settings["N"], settings["M"]
        return memory_instance(N, M, max(N, M), parameters.probabilities(settings), settings["seed"], orthogonal=True)

    def run(self, settings, method, steps, t_end, backend, progress):
        inst = self.instance(settings)
        N, M, p, labels = settings["N"], settings["M"], inst.p, inst.labels
        params = _run_params(settings, inst, method, backend)
        if method == "flow":
            times = log_times(1e4 if t_end is None else t_end)
            if backend == "cpu":
                flow = _simulators().margin_flow_simulator()
                traj = flow.integrate(np.zeros((N, 1)), {"p": p, "M": M}, times, "logtime", rtol=1e-12, atol=1e-14)
                margins = traj.states[:, :, 0]
            else:
                margins = margin_flow_numpy(p, M, times)
            loss = margin_loss_numpy(margins, M) @ p
            return simulation_result(params, t=times, loss=loss, l01=_orthogonal_zero_one(margins, p, labels),
                                     margins=margins)
        steps = 1000 if steps is None else steps
        record = record_steps(steps)
        if method == "sgd":
            return _simulate_sgd(inst, settings, steps, record, backend, params, progress)
        if backend in ("cpu", "cuda"):
            simulators = _simulators()
            sim = simulators.margin_map_simulator() if backend == "cpu" else simulators.margin_map_cuda_simulator()
            traj = sim.iterate(np.zeros((N, 1)), {"p": p, "M": M, "eta": settings["eta"]}, steps, record, progress)
            margins = traj.states[:, :, 0]
            loss = traj.observables["loss"] @ p
        else:
            margins = margin_map_numpy(p, M, settings["eta"], steps, record)
            loss = margin_loss_numpy(margins, M) @ p
        return simulation_result(params, t=record, loss=loss, l01=_orthogonal_zero_one(margins, p, labels),
                                 margins=margins)

    def checks(self, quick=True):
        from gradflow.derivations.associative_memory import checks  # SymPy: not on the way of simulate

        return checks.orthogonal_checks(quick)

    def compare(self, settings, method, result):
        self.require_compare(method)
        from gradflow.derivations.associative_memory.run_comparison import orthogonal_comparison  # SymPy

        return orthogonal_comparison(self.derivation(), method, result)


class RandomMemory(ModelEntry):
    name = "am-random"
    warm_start = True  # simulate imports no SymPy once its generated modules are cached
    summary = "associative memory, random unit-norm (correlated) embeddings: logit-particle GD/SGD/flow"
    parameters = parameters.RANDOM
    methods = ("gd", "sgd", "flow")
    default_length = {"gd": 200, "sgd": 200, "flow": 10.0}
    backends = ("cpu", "numpy", "cuda")
    auto_numpy_methods = ("gd",)  # the oracles' GD is the kernels' (SGD draws its batches another way)

    def derivation(self):
        return derivation()

    def check_given(self, given: dict) -> None:
        parameters.check_given(given)

    def cost(self, settings, method, steps, t_end):
        N, M, d = settings["N"], settings["M"], settings["d"]
        # E, U, W_0, K = E E^T, Gamma = U U^T, the logits S and the GD kernel's temporaries
        arrays = {"N": N * d + N * N + 4.0 * N * M, "M": M * d + M * M, "d": 2.0 * d * d}
        per_step = 2.0 * (N * N * M + N * M * M) + 10.0 * N * M
        if method == "flow":
            t_end = 10.0 if t_end is None else t_end
            n_steps = t_end / 1e-2
            return _cost(4 * n_steps * per_step, arrays, 101, N, t_end,
                         "the logit flow takes fixed RK4 steps of 0.01: shorten --t-end (for orthonormal embeddings "
                         "am-orthogonal --method flow integrates in log-time out to t = 1e12)")
        n_steps = 200 if steps is None else steps
        return _cost(n_steps * per_step, arrays, _records(method, steps, t_end, 200, 10.0), N, n_steps)

    def instance(self, settings: dict) -> MemoryInstance:
        return memory_instance(settings["N"], settings["M"], settings["d"], parameters.probabilities(settings),
                               settings["seed"], orthogonal=False, W0=settings["W0"])

    def run(self, settings, method, steps, t_end, backend, progress):
        inst = self.instance(settings)
        params = _run_params(settings, inst, method, backend)
        if method == "flow":
            times = np.linspace(0, 10.0 if t_end is None else t_end, 101)
            sim = _simulators().logit_particle_simulator()
            traj = sim.flow(inst.initial_logits, inst.data, inst.labels, times, step=1e-2)
            return simulation_result(params, t=times, loss=traj.loss, l01=traj.l01, margins=traj.margins,
                                     norm=traj.norm)
        steps = 200 if steps is None else steps
        record = record_steps(steps)
        if method == "sgd":
            return _simulate_sgd(inst, settings, steps, record, backend, params, progress)
        if backend in ("cpu", "cuda"):
            simulators = _simulators()
            sim = (simulators.logit_particle_simulator() if backend == "cpu"
                   else simulators.logit_particle_cuda_simulator())
            traj = sim.gd(inst.initial_logits, inst.data, inst.labels, settings["eta"], steps, record,
                          progress=progress)
            loss, l01, margins, norm = traj.loss, traj.l01, traj.margins, traj.norm
        else:
            loss, l01, margins, norm, _ = logit_particles_numpy(inst.initial_logits, inst.data["K"], inst.data["Gamma"],
                                                                inst.p, inst.labels, settings["eta"], steps, record)
        return simulation_result(params, t=record, loss=loss, l01=l01, margins=margins, norm=norm)

    def backends_for(self, method: str) -> tuple[str, ...]:
        return ("cpu",) if method == "flow" else super().backends_for(method)  # the logit flow: the RK4 kernel

    def checks(self, quick=True):
        from gradflow.derivations.associative_memory import checks

        return checks.random_checks(quick)


def _simulate_sgd(inst: MemoryInstance, settings: dict, steps: int, record, backend: str, params: dict,
                  progress: bool = False) -> dict:
    eta, batch, seed = settings["eta"], settings["batch"], settings["seed"]
    if backend == "cpu":
        sim = _simulators().logit_particle_simulator()
        traj = sim.gd(inst.initial_logits, inst.data, inst.labels, eta, steps, record, batch, seed, progress)
        loss, l01, margins, norm = traj.loss, traj.l01, traj.margins, traj.norm
    else:
        loss, l01, margins, norm, _ = logit_particles_numpy(inst.initial_logits, inst.data["K"], inst.data["Gamma"],
                                                            inst.p, inst.labels, eta, steps, record, batch,
                                                            np.random.default_rng(seed))
    return simulation_result(params, t=record, loss=loss, l01=l01, margins=margins, norm=norm)
