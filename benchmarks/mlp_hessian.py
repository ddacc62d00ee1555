"""Cell ``mlp-hessian``: gradient and Hessian of a one-hidden-layer softplus MLP, gradflow vs autograd.

The work: float64, D0 = 2 Gaussian inputs, a softplus hidden layer of width k and an identity output,
both with biases (P = 4k + 1), mean squared error against the outputs of a 4-neuron softplus teacher;
k in {10, 50, 100}, N in {10, ..., 1e5}.  One timing is floor(sqrt(1e10 / (3 N k))) gradients or
floor(sqrt(1e8 / (N k)) / 3) Hessians (at least one), so that small problems are timed over many calls.
Peers differentiate the same loss in the same flat layout (benchmarks/mlp_peers.py): PyTorch
(``backward``; ``torch.autograd.functional.hessian``) with one thread and with all threads, and JAX
(``jit(grad)``, ``jit(hessian)``, x64).  All agree: gradient 1e-10, Hessian 1e-8 relative.

Each peer family runs in a process of its own, one after the other, and gradflow after them in this
one: the thread pools of PyTorch (OpenMP) and XLA spin after their work, and in one process they took
the cores from whoever ran next (measured: a gradflow Hessian 500x slower right after PyTorch's).

The machine ceiling is the same-run BLAS rate, counting 6 N P flops per gradient and N P (P + 1) per
Hessian.  A peer reaching 50 % of it is BLAS-bound: there the target is gradflow >= 85 % of the
ceiling; elsewhere gradflow >= 2x (gradient) and >= 5x (Hessian) the best peer.  A peer whose timing
would take longer than ``PEER_BUDGET_S`` (estimated from its time at N / 10, linear in N) is skipped
with that estimate as the reason.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gradflow.bench.harness import CellResult, relative_difference

WIDTHS = (10, 50, 100)
SAMPLES = (10, 100, 1_000, 10_000, 100_000)
QUICK = ((10, 10), (10, 1_000))
KINDS = ("gradient", "hessian")
PEER_BUDGET_S = 120.0  # one implementation's timing (all repeats) at one size
TOLERANCE = {"gradient": 1e-10, "hessian": 1e-8}
TARGET_RATIO = {"gradient": 2.0, "hessian": 5.0}
TEACHER_WIDTH = 4
FAMILIES = ("torch", "jax")
JAX_HESSIAN_BYTES_PER_ENTRY = 8 * 4  # float64 tangents of N k hidden units per parameter, a few held at once


def calls_per_timing(kind: str, n: int, k: int) -> int:
    if kind == "gradient":
        return max(1, math.isqrt(int(1e10 // (3 * n * k))))
    return max(1, int(math.sqrt(1e8 / (n * k)) / 3))


def flops_per_call(kind: str, n: int, p: int) -> float:
    return 6.0 * n * p if kind == "gradient" else float(n) * p * (p + 1)


def sizes(quick: bool) -> tuple:
    return QUICK if quick else tuple((k, n) for k in WIDTHS for n in SAMPLES)


def problem(n: int, k: int, seed: int = 0):
    """(network, X, Y, theta): Gaussian inputs, the teacher's outputs, a random student point."""
    from gradflow.theory.mlp import Layer, Network, random_params

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    teacher = Network(2, (Layer(TEACHER_WIDTH, "softplus"), Layer(1)))
    Y = teacher.forward(random_params(teacher, seed=seed + 1), X)
    student = Network(2, (Layer(k, "softplus"), Layer(1)))
    return student, X, Y, random_params(student, seed=seed + 2)


# --- measuring one implementation family (in its own process for the peers) ------------------------


def _gradflow_functions(X, Y, k: int) -> dict:
    from gradflow.numerics.mlp import MLPObjective
    from gradflow.theory.mlp import Layer, Network

    objective = MLPObjective.create(Network(2, (Layer(k, "softplus"), Layer(1))), X, Y)
    return {"gradflow": ((lambda t: objective.loss_and_gradient(t)[1]), objective.hessian)}


def _torch_functions(X, Y, k: int) -> dict:
    import torch

    from gradflow.bench.mlp_peers import torch_functions

    gradient, hessian = torch_functions(X, Y, k)

    def threaded(fn, threads):
        def run(theta):
            torch.set_num_threads(threads)
            return fn(theta)
        return run

    cores = os.cpu_count() or 1
    # one thread first: the OpenMP pool of the all-threads runs spins after them
    return {"torch-1-thread": (threaded(gradient, 1), threaded(hessian, 1)),
            f"torch-{cores}-threads": (threaded(gradient, cores), threaded(hessian, cores))}


def _jax_functions(X, Y, k: int) -> dict:
    from gradflow.bench.mlp_peers import jax_functions

    return {"jax": jax_functions(X, Y, k)}


_BUILDERS = {"gradflow": _gradflow_functions, "torch": _torch_functions, "jax": _jax_functions}


def _time(fn, theta, count: int, repeats: int) -> tuple:
    """(first call's seconds (compilation included), median seconds of ``count`` calls, result)."""
    start = time.perf_counter()
    result = fn(theta)
    first = time.perf_counter() - start
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(count):
            fn(theta)
        samples.append(time.perf_counter() - start)
    return first, statistics.median(samples), np.asarray(result, dtype=float)


def measure(family: str, quick: bool, save: Path | None = None) -> dict:
    """{(name, kind, k, n): {"seconds", "compile_s", "result"} or {"skipped": reason}} for one family;
    with ``save``, written there after every size (a process that dies keeps what it measured)."""
    repeats = 2 if quick else 3
    out, per_call = {}, {}
    for k, n in sizes(quick):
        if save is not None and out:
            _save(out, save)
        net, X, Y, theta = problem(n, k)
        for name, functions in _BUILDERS[family](X, Y, k).items():
            for kind, fn in zip(KINDS, functions):
                count = calls_per_timing(kind, n, k)
                estimate = per_call.get((name, kind, k, n // 10))
                if name == "jax" and kind == "hessian" and JAX_HESSIAN_BYTES_PER_ENTRY * n * k * (4 * k + 1) > _memory():
                    out[(name, kind, k, n)] = {"skipped": (
                        f"jax.hessian (forward over reverse) would hold about "
                        f"{JAX_HESSIAN_BYTES_PER_ENTRY * n * k * (4 * k + 1) / 2**30:.0f} GiB of tangents, over "
                        f"half this machine's memory")}
                    continue
                if estimate is not None and 10 * estimate * count * (repeats + 1) > PEER_BUDGET_S:
                    per_call[(name, kind, k, n)] = 10 * estimate
                    out[(name, kind, k, n)] = {"skipped": (
                        f"estimated {10 * estimate * count * (repeats + 1):.0f} s for this timing (10x its time "
                        f"per call at N = {n // 10}), over the budget of {PEER_BUDGET_S:.0f} s per size")}
                    continue
                first, seconds, result = _time(fn, theta, count, repeats)
                per_call[(name, kind, k, n)] = seconds / count
                out[(name, kind, k, n)] = {"seconds": seconds, "compile_s": first, "result": result}
    if save is not None:
        _save(out, save)
    return out


def _memory() -> float:
    """Half the machine's physical memory, in bytes."""
    return 0.5 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _save(measured: dict, path: Path) -> None:
    arrays, meta = {}, []
    for index, (key, value) in enumerate(measured.items()):
        entry = {"key": list(key), **{k: v for k, v in value.items() if k != "result"}}
        if "result" in value:
            arrays[f"r{index}"] = value["result"]
            entry["array"] = f"r{index}"
        meta.append(entry)
    np.savez(path.with_suffix(".npz"), **arrays)
    path.with_suffix(".json").write_text(json.dumps(meta))


def _load(path: Path) -> dict:
    arrays = np.load(path.with_suffix(".npz"))
    out = {}
    for entry in json.loads(path.with_suffix(".json").read_text()):
        key = tuple(entry.pop("key"))
        if "array" in entry:
            entry["result"] = arrays[entry.pop("array")]
        out[key] = entry
    return out


def _measure_in_a_process(family: str, quick: bool) -> dict | str:
    """The family's measurements from a fresh process, or why it could not run."""
    import importlib.util

    if importlib.util.find_spec(family) is None:
        return f"{family} not installed (pip install 'gradflow[bench]')"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / family
        command = [sys.executable, "-m", "gradflow.bench.mlp_hessian", family, str(path)] + (["--quick"] if quick else [])
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode == 0:
            return _load(path)
        reason = f"{family}'s process ended with code {done.returncode}: " + (
            next((line for line in reversed(done.stderr.strip().splitlines()) if "Warning" not in line), "")[-300:])
        if not path.with_suffix(".json").exists():
            return reason
        measured = _load(path)  # the sizes before the one it died at
        for k, n in sizes(quick):
            for kind in KINDS:
                if not any(key[1:] == (kind, k, n) for key in measured):
                    measured[(family, kind, k, n)] = {"skipped": reason}
        return measured


# --- assembling the cells ------------------------------------------------------------------------


def _cell(kind: str, k: int, n: int, measured: dict, skipped_families: dict, ceilings: dict) -> CellResult:
    p = 4 * k + 1
    count = calls_per_timing(kind, n, k)
    ours = measured[("gradflow", kind, k, n)]
    times, compile_s, diffs, skipped = {"gradflow": ours["seconds"]}, {"gradflow": ours["compile_s"]}, {}, {}
    for (name, kind_, k_, n_), value in measured.items():
        if (kind_, k_, n_) != (kind, k, n) or name == "gradflow":
            continue
        if "skipped" in value:
            skipped[name] = value["skipped"]
            continue
        times[name], compile_s[name] = value["seconds"], value["compile_s"]
        diffs[name] = relative_difference(value["result"], ours["result"])
    skipped.update(skipped_families)
    flops = flops_per_call(kind, n, p) * count
    ceiling = ceilings["blas_gflops"] * 1e9
    worst = max(diffs.values(), default=0.0)
    cell = CellResult(f"mlp-hessian[{kind} k={k} N={n}]", False, worst <= TOLERANCE[kind], worst, times, compile_s,
                      {name: t / times["gradflow"] for name, t in times.items() if name != "gradflow"},
                      flops / times["gradflow"] / ceiling,
                      {"k": k, "N": n, "P": p, "kind": kind, "calls_per_timing": count,
                       "flops_per_call": flops_per_call(kind, n, p), "max_rel_diff_by_impl": diffs,
                       "tolerance": TOLERANCE[kind]},
                      skipped, {}, "blas")
    _judge(cell, flops, ceiling)
    return cell


def _judge(cell: CellResult, flops: float, ceiling: float) -> None:
    """The target at this size: ratio to the best peer, or the fraction of the ceiling where it is BLAS-bound."""
    peers = {name: t for name, t in cell.times.items() if name != "gradflow"}
    notes = cell.notes
    notes["peer_fraction_of_ceiling"] = {name: flops / t / ceiling for name, t in peers.items()}
    if not peers:
        notes["target"], notes["target_met"] = "no peer ran", None
        return
    best = min(peers, key=peers.get)
    notes["best_peer"] = best
    notes["ratio_to_best_peer"] = peers[best] / cell.times["gradflow"]
    if notes["peer_fraction_of_ceiling"][best] >= 0.5:
        notes["target"] = "gradflow >= 85% of the BLAS ceiling (the best peer is BLAS-bound)"
        notes["target_met"] = cell.fraction_of_ceiling >= 0.85
    else:
        notes["target"] = f"gradflow >= {TARGET_RATIO[notes['kind']]:g}x the best peer"
        notes["target_met"] = notes["ratio_to_best_peer"] >= TARGET_RATIO[notes["kind"]]


def mlp_hessian(quick: bool, ceilings: dict) -> list:
    measured, skipped_families = {}, {}
    for family in FAMILIES:  # one after the other, each in its own process, before gradflow
        got = _measure_in_a_process(family, quick)
        if isinstance(got, str):
            skipped_families[family] = got
        else:
            measured.update(got)
    measured.update(measure("gradflow", quick))
    return [_cell(kind, k, n, measured, skipped_families, ceilings) for k, n in sizes(quick) for kind in KINDS]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="measure one implementation family of the mlp-hessian cell")
    parser.add_argument("family", choices=FAMILIES)
    parser.add_argument("out", type=Path)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    measure(args.family, args.quick, save=args.out)


if __name__ == "__main__":
    main()
