"""Generate a Numba module for a lane Flow or Map (many independent small systems).

Generated functions (float64 arrays unless named otherwise):

- ``lane_update(x, q, out)`` (Map) / ``lane_rhs(x, q, out)`` (Flow): one lane, one step; the same
  printed body as the CUDA module's device functions (``printer.lane_block``).  ``lane_step(*states,
  *params)`` (Map): the same body on scalars, returning the new states (inlined into ``iterate_map``).
- ``iterate_map(x, q, step0, n_steps, record, out, status, hits, block)`` (Map): advances every lane
  ``x[lane]`` in place from global step ``step0`` by ``n_steps`` steps.  The lanes are cut into blocks
  of ``block`` lanes (at most ``BLOCK``; ``numba.prange`` over blocks); inside a block the step loop
  is outside and the lane loop inside, over the block's states stored by component (``X[i, lane]``),
  so that the lanes of a block are independent iterations LLVM can interleave and vectorise.  Each
  lane runs the very operations of ``lane_update`` (``lane_step``, no fast-math), so the states are
  bit-identical to iterating ``lane_update``.  ``out[r, lane]`` = the state after ``record[r]`` steps
  (global step numbers, sorted; rows outside ``step0 .. step0 + n_steps`` are left alone);
  ``status[lane] = (step, component)`` of the first non-finite value (the lane then stays at its last
  finite state; the highest non-finite component is named); ``hits[c, lane]`` = the first step at
  which condition c holds (-1 until it does; checked at ``step0`` and after every finite step).
  Divisions follow NumPy (x / 0 is inf or nan, reported as divergence, not ZeroDivisionError).
- ``integrate_rk4`` (Flow, one lane at a time through ``lane_rhs``, which keeps libm's exp) and
  ``integrate_dopri5`` (Flow, lanes in blocks with the lane loop inside, each lane with its own step
  size; numerics/integrators/dopri5.py) through ``_block_rhs``, which applies ``lane_derivative`` (the
  right-hand side on scalars, with ``_exp``) to a block's lanes stored by component.
- ``observable_<name>(states, q)``: ``result[r, lane]``, blocks of lanes with the lane loop inside
  (vectorised like ``iterate_map``), from the scalar ``_observable_<name>(*states, *params)``.
"""

from __future__ import annotations

import builtins
import keyword
import re

import sympy as sp

from gradflow.theory.errors import ParameterError
from gradflow.theory.flow import Flow, Map

from gradflow.numerics.integrators import SOURCES
from gradflow.numerics.codegen.cache import cached_module, canonical_srepr
from gradflow.numerics.codegen.layout import BLOCK
from gradflow.numerics.codegen.printer import condition_code, lane_block

LANE_TEMPLATE_VERSION = "2"
_BUILTINS = set(dir(builtins))
_RESERVED = {"x", "q", "out", "math", "np", "numba", "buf", "states", "result", "lane", "r", "R", "L", "lane_rhs",
             "lane_derivative", "lane_update", "lane_step"}


def _names(system):
    """Local names in generated code: the symbols' own names where they are plain identifiers."""
    names, used = {}, set(_RESERVED)
    for prefix, symbols in (("x", system.states), ("q", system.params)):
        for i, symbol in enumerate(symbols):
            name = str(symbol)
            if (not name.isidentifier() or keyword.iskeyword(name) or name in _BUILTINS or name in used
                    or name.startswith("_")):
                name = f"{prefix}{i}_"
            names[symbol] = name
            used.add(name)
    return names


def _body(exprs, system, names, target, indent: str = "    ", exp: str = "math.exp"):
    """Assign target[i] = exprs[i] (``target`` an array name, or a list of names), one lane.

    Printed by ``printer.lane_block``: shared exponentials (computed by ``exp``), stable branches,
    common subexpressions."""
    targets = [f"{target}[{i}]" for i in range(len(exprs))] if isinstance(target, str) else list(target)
    return lane_block(exprs, system.states, names, indent, targets, exp)


# The shared e^{-|x|} of the CPU kernels is ``support._exp`` (libm's exp is a scalar call LLVM cannot
# vectorise; ``_exp`` is plain arithmetic that it vectorises across the lanes of a block, within 1 ulp).
# Used only in bodies that vectorise (``_cpu_body``); one lane at a time libm's exp is faster.  The CUDA
# kernels keep the device's math.exp.
EXP = "_exp"
_EXP_IMPORT = "\nfrom gradflow.numerics.codegen.support import _double_from_bits, _exp  # e^t within 1 ulp, vectorisable\n"


# math functions LLVM vectorises without a vector library
_VECTOR_MATH = {"sqrt", "fabs", "floor", "ceil", "trunc", "copysign", "isfinite", "isnan", "isinf"}


def _cpu_body(exprs, system, names, target, indent: str = "    "):
    """``_body`` with the shared exponentials by ``_exp`` where nothing else in the body is a libm call
    (then LLVM can vectorise the whole body across lanes), else by ``math.exp`` (faster one at a time)."""
    code = _body(exprs, system, names, target, indent, EXP)
    if set(re.findall(r"math\.(\w+)\(", code)) <= _VECTOR_MATH:
        return code
    return _body(exprs, system, names, target, indent)


def _unpack(system, names, indent: str = "    ", x: str = "x[{i}]", q: str = "q[{i}]"):
    lines = "".join(f"{indent}{names[s]} = {x.format(i=i)}\n" for i, s in enumerate(system.states))
    lines += "".join(f"{indent}{names[s]} = {q.format(i=i)}\n" for i, s in enumerate(system.params))
    return lines


def validate(system, observables: dict, conditions: dict) -> None:
    """ParameterError for labels that are not identifiers and for conditions that cannot be printed."""
    for kind, table in (("observable", observables), ("condition", conditions)):
        for label in table:
            if not (isinstance(label, str) and label.isidentifier()):
                raise ParameterError(f"{kind}s", "named by Python identifiers", label)
    allowed = set(system.states) | set(system.params)
    for label, expr in conditions.items():
        extra = sp.sympify(expr).free_symbols - allowed
        if extra:
            raise ParameterError("conditions", f"in the states and params of the system ({label!r} uses "
                                 f"{', '.join(sorted(map(str, extra)))})")
        condition_code(expr, {})  # rejects anything but relations joined by And/Or/Not
    if conditions and not isinstance(system, Map):
        raise ParameterError("conditions", "given for Map systems only (the first GD step where they hold)")


def _map_kernel(system: Map, names: dict, conditions: dict) -> str:
    """The blocked ``iterate_map`` (see the module docstring), the lane body printed inline."""
    k, P, C = system.dimension, len(system.params), len(conditions)
    ys = [f"_y{i}" for i in range(k)]
    after = dict(names)
    after.update({s: ys[i] for i, s in enumerate(system.states)})
    I3, I4 = " " * 12, " " * 16
    unpack = _unpack(system, names, I4, "_X[{i}, _j]", "_Q[{i}, _j]")
    step_hits = _unpack(system, names, I3, "_X[{i}, _j]", "_Q[{i}, _j]") + "".join(
        f"{I3}if _H[{c}, _j] < 0 and {condition_code(e, names)}:\n{I3}    _H[{c}, _j] = _step0\n"
        for c, e in enumerate(conditions.values()))
    bad = "".join(f"{I4}if not math.isfinite({y}):\n{I4}    _bad = {i}\n" for i, y in enumerate(ys))
    keep = "".join(f"{I4}_X[{i}, _j] = {y} if _ok else {names[s]}\n"
                   for i, (y, s) in enumerate(zip(ys, system.states)))
    hits = "".join(f"{I4}_H[{c}, _j] = _step if _ok and _H[{c}, _j] < 0 and {condition_code(e, after)} "
                   f"else _H[{c}, _j]\n" for c, e in enumerate(conditions.values()))
    doc = f'({", ".join(map(str, system.states))}) <- lane_update'
    return f'''
@numba.njit(parallel=True, cache=True, error_model="numpy")
def iterate_map(_x, _q, _step0, _n_steps, _record, _out, _status, _hits, _block):
    """{doc}, blocks of _block <= {BLOCK} lanes; see the module docstring."""
    _L = _x.shape[0]
    _R = _record.shape[0]
    _block = max(1, min(_block, {BLOCK}))
    for _b in numba.prange((_L + _block - 1) // _block):
        _lo = _b * _block
        _n = min(_block, _L - _lo)
        _X = np.empty(({k}, {BLOCK}))
        _Q = np.empty(({P}, {BLOCK}))
        _H = np.empty(({max(C, 1)}, {BLOCK}), dtype=np.int64)
        _S = np.empty((2, {BLOCK}), dtype=np.int64)
        for _j in range(_n):
            for _i in range({k}):
                _X[_i, _j] = _x[_lo + _j, _i]
            for _i in range({P}):
                _Q[_i, _j] = _q[_lo + _j, _i]
            for _c in range({C}):
                _H[_c, _j] = _hits[_c, _lo + _j]
            _S[0, _j] = _status[_lo + _j, 0]
            _S[1, _j] = _status[_lo + _j, 1]
        _r = 0
        while _r < _R and _record[_r] < _step0:
            _r += 1
        while _r < _R and _record[_r] == _step0:
            for _j in range(_n):
                for _i in range({k}):
                    _out[_r, _lo + _j, _i] = _X[_i, _j]
            _r += 1
''' + (f"        for _j in range(_n):\n{step_hits}" if C else "") + f'''        for _s in range(1, _n_steps + 1):
            _step = _step0 + _s
            for _j in range(_n):
{unpack}{I4}{", ".join(ys)}, = lane_step({", ".join(names[v] for v in system.states + system.params)})
{I4}_bad = -1
{bad}{I4}_ok = _bad < 0
{keep}{I4}_first = (not _ok) and _S[0, _j] < 0
{I4}_S[1, _j] = _bad if _first else _S[1, _j]
{I4}_S[0, _j] = _step if _first else _S[0, _j]
{hits}            while _r < _R and _record[_r] == _step:
                for _j in range(_n):
                    for _i in range({k}):
                        _out[_r, _lo + _j, _i] = _X[_i, _j]
                _r += 1
        for _j in range(_n):
            for _i in range({k}):
                _x[_lo + _j, _i] = _X[_i, _j]
            for _c in range({C}):
                _hits[_c, _lo + _j] = _H[_c, _j]
            _status[_lo + _j, 0] = _S[0, _j]
            _status[_lo + _j, 1] = _S[1, _j]
'''


def _block_rhs(system, names, args: str) -> str:
    """``lane_derivative`` (the right-hand side on scalars, vectorisable ``_exp``) and ``_block_rhs``, which
    applies it to the lanes of a block stored by component, for the block integrators (dopri5)."""
    ys = [f"_y{i}" for i in range(system.dimension)]
    unpack = _unpack(system, names, " " * 8, "_X[{i}, _j]", "_Q[{i}, _j]")
    stores = "".join(f"        _out[{i}, _j] = {y} * _scale\n" for i, y in enumerate(ys))
    return ('\n@numba.njit(cache=True, inline="always")\n'
            f"def lane_derivative({args}):\n"
            '    """lane_rhs on scalars: the derivatives as a tuple (inlined into _block_rhs)."""\n'
            + _cpu_body(system.rhs, system, names, ys) + f"    return ({', '.join(ys)},)\n"
            '\n\n@numba.njit(cache=True, error_model="numpy")\n'
            "def _block_rhs(_log_time, _T, _X, _Q, _n, _out):\n"
            '    """_out[:, j] = f(_X[:, j]) for the lanes j < _n of a block, times e^_T[j] in log-time\n'
            '    (dx/dtau = e^tau f(x)); the lane loop is vectorised by LLVM."""\n'
            "    for _j in range(_n):\n"
            f"        _scale = {EXP}(_T[_j]) if _log_time else 1.0\n"
            + unpack + f"        {', '.join(ys)}, = lane_derivative({args})\n" + stores)


def render(system: Flow | Map, observables: dict, conditions: dict | None = None) -> str:
    conditions = dict(conditions or {})
    names = _names(system)
    order = (
        f"State order: {', '.join(map(str, system.states))}\n"
        f"Parameter order: {', '.join(map(str, system.params))}\n"
    )
    if conditions:
        order += f"Conditions (first step in hits[c]): {'; '.join(f'{n}: {e}' for n, e in conditions.items())}\n"
    args = ", ".join(names[v] for v in system.states + system.params)  # of lane_step and _observable_*
    src = [f'"""Generated by gradflow from {system.name!r}.\n\n{order}"""\n',
           "import math\n\nimport numba\nimport numpy as np\n"]
    if isinstance(system, Flow):
        doc = f'    """d/dt ({", ".join(map(str, system.states))}) = {", ".join(map(str, system.rhs))}"""\n'
        src.append("\n@numba.njit(cache=True)\ndef lane_rhs(x, q, out):\n" + doc + _unpack(system, names)
                   + _body(system.rhs, system, names, "out"))
        src.append(_block_rhs(system, names, args))
        src += [SOURCES["rk4"], SOURCES["dopri5"]]
    else:
        doc = f'    """({", ".join(map(str, system.states))}) <- {", ".join(map(str, system.update))}"""\n'
        src.append("\n@numba.njit(cache=True)\ndef lane_update(x, q, out):\n" + doc + _unpack(system, names)
                   + _cpu_body(system.update, system, names, "out"))
        ys = [f"_y{i}" for i in range(system.dimension)]
        src.append('\n@numba.njit(cache=True, inline="always")\n'
                   f"def lane_step({args}):\n"
                   '    """lane_update on scalars: the new states as a tuple (inlined into iterate_map)."""\n'
                   + _cpu_body(system.update, system, names, ys) + f"    return ({', '.join(ys)},)\n")
        src.append(_map_kernel(system, names, conditions))
    for label, expr in observables.items():
        src.append(
            f'\n@numba.njit(cache=True, inline="always")\ndef _observable_{label}({args}):\n'
            f'    """{label} = {expr}"""\n' + _cpu_body((expr,), system, names, ["_v"]) + "    return _v\n"
        )
        unpack = _unpack(system, names, " " * 16, "states[r, lane, {i}]", "q[lane, {i}]")
        src.append(
            f'\n@numba.njit(parallel=True, cache=True, error_model="numpy")\ndef observable_{label}(states, q):\n'
            f'    """result[r, lane] = {label} at states[r, lane]; blocks of {BLOCK} lanes, the lane loop inside."""\n'
            f"    R, L, _ = states.shape\n    result = np.empty((R, L))\n"
            f"    for _b in numba.prange((L + {BLOCK - 1}) // {BLOCK}):\n"
            f"        for r in range(R):\n"
            f"            for lane in range(_b * {BLOCK}, min(L, _b * {BLOCK} + {BLOCK})):\n"
            f"{unpack}                result[r, lane] = _observable_{label}({args})\n    return result\n"
        )
    if any(f"{EXP}(" in part for part in src[2:]):
        src[1] = "import math\n\nimport llvmlite.ir\nimport numba\nimport numba.extending\nimport numpy as np\n"
        src.insert(2, _EXP_IMPORT)
    return "\n".join(src)


def lane_module(system: Flow | Map, observables: dict | None = None, conditions: dict | None = None):
    """Load (generating on a cache miss) the module for ``system``; returns (module, path, hit).

    ``conditions`` (Map only): name -> SymPy relation(s) of states and params, checked by iterate_map."""
    observables, conditions = dict(observables or {}), dict(conditions or {})
    validate(system, observables, conditions)
    return cached_module(lane_module_key(system, observables, conditions),
                         lambda: render(system, observables, conditions), defines(system, observables))


def lane_module_key(system: Flow | Map, observables: dict, conditions: dict) -> str:
    """The symbolic input of the module: canonical (``cache.canonical_srepr``), one text in every process."""
    return canonical_srepr((LANE_TEMPLATE_VERSION, type(system).__name__, system.states,
                            getattr(system, "rhs", None), getattr(system, "update", None), system.params,
                            tuple(sorted(observables.items(), key=lambda item: item[0])),
                            tuple(conditions.items())))  # order = hits row


def defines(system: Flow | Map, observables: dict) -> tuple:
    """The names the module of ``system`` defines (see the module docstring)."""
    kernels = (("lane_rhs", "lane_derivative", "_block_rhs", "integrate_rk4", "integrate_dopri5")
               if isinstance(system, Flow) else ("lane_update", "lane_step", "iterate_map"))
    return kernels + tuple(f"observable_{label}" for label in observables)
