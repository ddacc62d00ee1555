"""Run every CLI model (each method; the CUDA backend too, in numba's simulator) and print the cache key of
every generated module, as JSON: {cache_key: [generator's symbolic input, hit]}.

Run by tests/numerics/test_cache_keys.py in fresh processes (different PYTHONHASHSEED, models in a different
order): canonical keys give the same set of keys, and the second process hits every module.

    python cache_keys_script.py MODEL [MODEL ...]
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")  # the CUDA modules too, without a GPU

from gradflow.numerics.codegen import cache  # noqa: E402

SEEN: dict = {}
_cache_key = cache.cache_key


def _recording_cache_key(symbolic_input: str) -> str:
    key = _cache_key(symbolic_input)
    SEEN.setdefault(key, symbolic_input)
    return key


cache.cache_key = _recording_cache_key  # cached_module_path looks cache_key up at each call

from gradflow.derivations.registry import get_model  # noqa: E402

# the smallest settings that still run every path; the keys do not depend on sizes (except the relu
# kernels specialised to fixed sizes, which these runs generate too)
SETTINGS = {
    "am-orthogonal": {"N": 3, "M": 3},
    "am-random": {"N": 4, "M": 3, "d": 4, "batch": 2},
    "am-two-particle": {},
    "deep-linear": {"n_in": 3, "hidden": 2, "n_out": 2, "sigma": (2.0, 1.0)},
    "relu": {"width": 2},
    "mlp": {"layers": "2,2:tanh,1", "teacher": "2,1:tanh,1", "n": 20, "batch": 5},
}


def run(name: str) -> None:
    entry = get_model(name)
    entry.derivation()
    for method in entry.methods:
        for backend in entry.backends_for(method):
            if backend == "numpy":
                continue
            length = {"t_end": 0.01} if method == "flow" else {"steps": 3}
            entry.simulate(SETTINGS[name], method=method, backend=backend, **length)


if __name__ == "__main__":
    for model in sys.argv[1:]:
        run(model)
    paths = {key: str(cache.cache_dir() / f"gf_{key[:24]}.py") for key in SEEN}
    json.dump({"keys": SEEN, "paths": paths}, sys.stdout)
