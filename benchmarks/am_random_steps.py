"""200 GD steps of am-random (logit particles) at N = M = d = 1024: generated kernel vs NumPy.

Also the cold start (derive + generate + compile, empty cache) and warm start (cached module)
of the same simulator, each measured in a fresh process.  Run:
    python benchmarks/am_random_steps.py [--size 1024] [--steps 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

START_SNIPPET = """
import time, json
t0 = time.perf_counter()
from gradflow.derivations.associative_memory.simulators import logit_particle_simulator
sim = logit_particle_simulator()
import numpy as np
from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities
inst = memory_instance(8, 8, 8, zipf_probabilities(8, 1.0), 0, orthogonal=False)
sim.gd(inst.initial_logits, inst.data, inst.labels, 0.5, 2)
print(json.dumps({"seconds": time.perf_counter() - t0, "hit": sim.cache_hit}))
"""


def start_time(cache: str) -> dict:
    env = dict(os.environ, GRADFLOW_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", START_SNIPPET], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cache:
        cold = start_time(cache)
        warm = start_time(cache)

    from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities
    from gradflow.derivations.associative_memory.simulators import logit_particle_simulator
    from gradflow.derivations.associative_memory.oracles import logit_particles_numpy

    n, T = args.size, args.steps
    inst = memory_instance(n, n, n, zipf_probabilities(n, 1.0), 0, orthogonal=False, W0="random")
    sim = logit_particle_simulator()
    record = np.array([T])
    sim.gd(inst.initial_logits, inst.data, inst.labels, 0.5, 1, [1])  # compile outside the timing
    kernel, numpy_loop = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        a = sim.gd(inst.initial_logits, inst.data, inst.labels, 0.5, T, record)
        kernel.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        b = logit_particles_numpy(inst.initial_logits, inst.data["K"], inst.data["Gamma"], inst.p, inst.labels, 0.5, T,
                                  record)
        numpy_loop.append(time.perf_counter() - t0)
    agree = float(np.max(np.abs(a.final_state - b[4])) / np.max(np.abs(b[4])))
    result = {"size": n, "steps": T, "kernel_median_s": float(np.median(kernel)),
              "numpy_median_s": float(np.median(numpy_loop)),
              "ratio_numpy_over_kernel": float(np.median(numpy_loop) / np.median(kernel)),
              "max_rel_diff": agree, "cold_start_s": cold["seconds"], "cold_hit": cold["hit"],
              "warm_start_s": warm["seconds"], "warm_hit": warm["hit"]}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
