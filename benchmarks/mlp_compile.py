"""First use of every MLP kernel from empty caches: the compile time a new machine pays once.

In a fresh process with an empty kernel cache and an empty Numba cache, a softplus network (D0 = 2, width
5, 100 samples; 10^5 for the call split over threads) calls, in this order: the loss, the gradient, the
gradient split over threads, the Hessian, a Hessian-vector product, and the loss and gradient ensembles.
Each line is the seconds that call took, compilation included (later calls reuse what earlier ones
compiled).  Run:
    python benchmarks/mlp_compile.py [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

SNIPPET = """
import json, time
import numpy as np
from gradflow.bench.mlp_hessian import problem
from gradflow.numerics.mlp import MLPObjective

net, X, Y, theta = problem(100, 5)
objective = MLPObjective.create(net, X, Y)
net_large, X_large, Y_large, theta_large = problem(100_000, 5)
large = MLPObjective.create(net_large, X_large, Y_large)
steps = [("loss", lambda: objective.loss(theta)),
         ("gradient", lambda: objective.loss_and_gradient(theta)),
         ("gradient in threads", lambda: large.loss_and_gradient(theta_large)),
         ("Hessian", lambda: objective.hessian(theta)),
         ("Hessian-vector", lambda: objective.hessian_vector(theta, theta)),
         ("loss ensemble", lambda: objective.loss_ensemble(np.stack([theta, theta]))),
         ("gradient ensemble", lambda: objective.gradient_ensemble(np.stack([theta, theta])))]
seconds = {}
for name, call in steps:
    start = time.perf_counter()
    call()
    seconds[name] = time.perf_counter() - start
print(json.dumps(seconds))
"""


def cold_run() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, GRADFLOW_CACHE_DIR=os.path.join(folder, "kernels"),
                   NUMBA_CACHE_DIR=os.path.join(folder, "numba"))
        done = subprocess.run([sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(done.stderr[-2000:])
        return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    for _ in range(args.repeats):
        seconds = cold_run()
        print(", ".join(f"{name} {value:.1f} s" for name, value in seconds.items())
              + f" | total {sum(seconds.values()):.1f} s")


if __name__ == "__main__":
    main()
