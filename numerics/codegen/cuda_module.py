"""Generate a numba-cuda module for a lane Flow or Map: one GPU thread per lane (ensemble member).

The per-lane right-hand side and the observables are printed by the very code that prints the CPU
module (``lane_module``'s body printer over ``printer.lane_block``, conditions by
``printer.condition_code``, validated by ``lane_module.validate``); only the decorators and the loops
around them differ.  Kept deliberately thin: the CUDA package is in
maintenance mode and may be replaced, and everything CUDA-specific lives in this file and in
``numerics/drivers/cuda.py``.

Generated kernels (all arrays float64 except ``record``, ``status`` and ``hits``, which are int64):

- ``iterate_map(x, q, step0, n_steps, record, out, obs, status, hits)`` advances ``x[lane]`` in place
  from global step ``step0`` by ``n_steps`` GD steps; ``out[r, lane]`` / ``obs[j, r, lane]`` get the
  state / observable j after ``record[r]`` steps (``record`` sorted, global step numbers);
  ``status[lane] = (step, component)`` of the first non-finite value (the lane then stops);
  ``hits[c, lane]`` is the first step at which condition c holds (-1 until it does).
- ``integrate_rk4(x0, q, times, h, out, obs, status)``: the CPU ``integrate_rk4`` per thread.
"""

from __future__ import annotations

from gradflow.theory.flow import Flow, Map

from gradflow.numerics.codegen.cache import cached_module, canonical_srepr
from gradflow.numerics.codegen.lane_module import _body, _names, _unpack
from gradflow.numerics.codegen.lane_module import validate as _validate
from gradflow.numerics.codegen.printer import condition_code  # shared with the CPU kernel (lane_module)

CUDA_TEMPLATE_VERSION = "1"


def _device(name: str, doc: str, body: str, args: str = "x, q, out") -> str:
    return f"\n@cuda.jit(device=True)\ndef {name}({args}):\n    \"\"\"{doc}\"\"\"\n{body}"


_MAP_KERNEL = '''
@cuda.jit(cache=True)
def iterate_map(x, q, step0, n_steps, record, out, obs, status, hits):
    """One thread per lane: x[lane] <- lane_update^n_steps(x[lane]), steps step0 + 1 .. step0 + n_steps.
    out[r, lane], obs[j, r, lane] at global step record[r]; status[lane] = (step, component) of the first
    non-finite value; hits[c, lane] = first step where condition c holds (left alone once >= 0)."""
    lane = cuda.grid(1)
    if lane >= x.shape[0] or status[lane, 0] >= 0:
        return
    xl = cuda.local.array(_K, numba.float64)
    y = cuda.local.array(_K, numba.float64)
    ql = cuda.local.array(_P, numba.float64)
    buf = cuda.local.array(1, numba.float64)
    hit = cuda.local.array(_C, numba.int64)
    for i in range(_K):
        xl[i] = x[lane, i]
    for i in range(q.shape[1]):
        ql[i] = q[lane, i]
    for c in range(_C):
        hit[c] = hits[c, lane]
    R = record.shape[0]
    r = 0
    while r < R and record[r] < step0:
        r += 1
    while r < R and record[r] == step0:
        _record(xl, ql, out, obs, r, lane, buf)
        r += 1
    _check_hits(xl, ql, step0, hit)
    for s in range(1, n_steps + 1):
        step = step0 + s
        lane_update(xl, ql, y)
        bad = -1
        for i in range(_K):
            if not math.isfinite(y[i]):
                bad = i
        if bad >= 0:
            status[lane, 0] = step
            status[lane, 1] = bad
            break
        for i in range(_K):
            xl[i] = y[i]
        _check_hits(xl, ql, step, hit)
        while r < R and record[r] == step:
            _record(xl, ql, out, obs, r, lane, buf)
            r += 1
    for i in range(_K):
        x[lane, i] = xl[i]
    for c in range(_C):
        hits[c, lane] = hit[c]
'''

_RK4_KERNEL = '''
@cuda.jit(device=True)
def _rk4_step(x, q, h, k1, k2, k3, k4, tmp, y):
    lane_rhs(x, q, k1)
    for i in range(_K):
        tmp[i] = x[i] + 0.5 * h * k1[i]
    lane_rhs(tmp, q, k2)
    for i in range(_K):
        tmp[i] = x[i] + 0.5 * h * k2[i]
    lane_rhs(tmp, q, k3)
    for i in range(_K):
        tmp[i] = x[i] + h * k3[i]
    lane_rhs(tmp, q, k4)
    for i in range(_K):
        y[i] = x[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])


@cuda.jit(cache=True)
def integrate_rk4(x0, q, times, h, out, obs, status):
    """One thread per lane: fixed-step RK4, steps shortened to hit times[r]; out[r, lane], obs[j, r, lane]
    at times[r]; status[lane] = (step, component) of the first non-finite value."""
    lane = cuda.grid(1)
    if lane >= x0.shape[0]:
        return
    x = cuda.local.array(_K, numba.float64)
    y = cuda.local.array(_K, numba.float64)
    k1 = cuda.local.array(_K, numba.float64)
    k2 = cuda.local.array(_K, numba.float64)
    k3 = cuda.local.array(_K, numba.float64)
    k4 = cuda.local.array(_K, numba.float64)
    tmp = cuda.local.array(_K, numba.float64)
    ql = cuda.local.array(_P, numba.float64)
    buf = cuda.local.array(1, numba.float64)
    for i in range(_K):
        x[i] = x0[lane, i]
    for i in range(q.shape[1]):
        ql[i] = q[lane, i]
    t = 0.0
    step = 0
    for r in range(times.shape[0]):
        while t < times[r] and status[lane, 0] < 0:
            gap = times[r] - t
            dt = gap if gap < h else h  # min(h, gap) as on the CPU (builtin min is not typed for CUDA here)
            _rk4_step(x, ql, dt, k1, k2, k3, k4, tmp, y)
            step += 1
            for i in range(_K):
                if not math.isfinite(y[i]):
                    status[lane, 0] = step
                    status[lane, 1] = i
            for i in range(_K):
                x[i] = y[i]
            t = times[r] if dt < h else t + h
        _record(x, ql, out, obs, r, lane, buf)
'''


def render(system: Flow | Map, observables: dict, conditions: dict) -> str:
    names = _names(system)
    k, P, C = system.dimension, len(system.params), len(conditions)
    src = [f'"""Generated by gradflow (numba-cuda, one thread per lane) from {system.name!r}.\n\n'
           f"State order: {', '.join(map(str, system.states))}\n"
           f"Parameter order: {', '.join(map(str, system.params))}\n"
           f"Observables: {', '.join(observables) or '-'}\n"
           f"Conditions (first step recorded in hits[c]): "
           f"{'; '.join(f'{n}: {e}' for n, e in conditions.items()) or '-'}\n\"\"\"\n",
           f"import math\n\nimport numba\nfrom numba import cuda\n\n_K = {k}\n_P = {max(P, 1)}\n_C = {max(C, 1)}\n"]
    if isinstance(system, Flow):
        doc = f'd/dt ({", ".join(map(str, system.states))}) = {", ".join(map(str, system.rhs))}'
        src.append(_device("lane_rhs", doc, _unpack(system, names) + _body(system.rhs, system, names, "out")))
    else:
        doc = f'({", ".join(map(str, system.states))}) <- {", ".join(map(str, system.update))}'
        src.append(_device("lane_update", doc, _unpack(system, names) + _body(system.update, system, names, "out")))
    record = "    for i in range(_K):\n        out[r, lane, i] = x[i]\n"
    for j, (label, expr) in enumerate(observables.items()):
        src.append(_device(f"_observable_{label}", f"{label} = {expr}",
                           _unpack(system, names) + _body((expr,), system, names, "out")))
        record += f"    _observable_{label}(x, q, buf)\n    obs[{j}, r, lane] = buf[0]\n"
    src.append(_device("_record", "out[r, lane] = x; obs[j, r, lane] = observable j at x.", record,
                       "x, q, out, obs, r, lane, buf"))
    check = ""
    for c, (label, expr) in enumerate(conditions.items()):
        src.append(_device(f"_condition_{label}", f"{label}: {expr}",
                           _unpack(system, names) + f"    return {condition_code(expr, names)}\n", "x, q"))
        check += f"    if hit[{c}] < 0 and _condition_{label}(x, q):\n        hit[{c}] = step\n"
    src.append(_device("_check_hits", "hit[c] = step where condition c first holds.", check or "    return\n",
                       "x, q, step, hit"))
    src.append(_RK4_KERNEL if isinstance(system, Flow) else _MAP_KERNEL)
    return "\n".join(src)


def cuda_module(system: Flow | Map, observables: dict | None = None, conditions: dict | None = None):
    """Load (generating on a cache miss) the CUDA module for ``system``; returns (module, path, hit).

    Importing the module needs ``numba.cuda`` but no GPU: kernels compile at their first launch."""
    observables, conditions = dict(observables or {}), dict(conditions or {})
    _validate(system, observables, conditions)
    return cached_module(cuda_module_key(system, observables, conditions),
                         lambda: render(system, observables, conditions), defines(system, observables, conditions))


def cuda_module_key(system: Flow | Map, observables: dict, conditions: dict) -> str:
    """The symbolic input of the module: canonical (``cache.canonical_srepr``), one text in every process."""
    return canonical_srepr(("numba-cuda", CUDA_TEMPLATE_VERSION, type(system).__name__, system.states,
                            getattr(system, "rhs", None), getattr(system, "update", None), system.params,
                            tuple(observables.items()),  # order = obs index
                            tuple(conditions.items())))  # order = hits row


def defines(system: Flow | Map, observables: dict, conditions: dict) -> tuple:
    """The names the CUDA module of ``system`` defines."""
    kernels = ("lane_rhs", "integrate_rk4") if isinstance(system, Flow) else ("lane_update", "iterate_map")
    return (kernels + ("_record", "_check_hits") + tuple(f"_observable_{label}" for label in observables)
            + tuple(f"_condition_{label}" for label in conditions))
