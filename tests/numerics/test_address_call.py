"""Calling a compiled Numba function at its address (``support.native_address``, ``support.address_caller``):
the same numbers as a direct call, the callee's exceptions, a typing error for arguments of another type, and
callers that load from Numba's cache in a new process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
from numba.core.errors import TypingError

from gradflow.numerics.codegen.support import address_caller, native_address

_VECTOR = numba.types.float64[::1]
SIGNATURE = numba.types.float64(numba.types.int64, _VECTOR, _VECTOR)


@numba.njit
def _scaled_sum(code, x, out):
    if code < 0:
        raise ValueError("code must be >= 0")
    total = 0.0
    for i in range(x.shape[0]):
        out[i] = code * x[i]
        total += out[i]
    return total


_call = address_caller(SIGNATURE)


@numba.njit
def _through_address(address, code, x):
    out = np.empty_like(x)
    return _call(address, (code, x, out)), out


def test_a_call_at_the_address_equals_the_direct_call():
    x = np.linspace(-1.0, 2.0, 7)
    address = native_address(_scaled_sum, SIGNATURE)
    assert isinstance(address, int) and address != 0
    for code in (0, 1, 3):
        direct_out = np.empty_like(x)
        total, out = _through_address(address, code, x)
        assert total == _scaled_sum(code, x, direct_out) and np.array_equal(out, direct_out)
        assert np.array_equal(out, code * x)


def test_the_callees_exception_reaches_the_caller():
    with pytest.raises(ValueError, match="code must be >= 0"):
        _through_address(native_address(_scaled_sum, SIGNATURE), -1, np.ones(3))


def test_arguments_of_another_type_are_a_typing_error_not_a_call():
    # a strided view has another layout than the signature's contiguous arrays: its data would be misread
    with pytest.raises(TypingError, match="address_caller"):
        _through_address(native_address(_scaled_sum, SIGNATURE), 2, np.ones(6)[::2])
    with pytest.raises(TypingError, match="address_caller"):
        _through_address(native_address(_scaled_sum, SIGNATURE), 2.0, np.ones(3))



_MATRIX = numba.types.float64[:, ::1]
PIECES = numba.types.Tuple((numba.types.ListType(_MATRIX), _MATRIX))(_MATRIX, numba.types.int64)


@numba.njit
def _pieces(A, count):
    out = numba.typed.List()
    for i in range(count):
        out.append(A * (i + 1.0))
    return out, A + 1.0


_call_pieces = address_caller(PIECES)


@numba.njit
def _pieces_through_address(address, A, count):
    parts, shifted = _call_pieces(address, (A, count))
    total = 0.0
    for part in parts:
        total += part.sum()
    return total, shifted


def test_results_that_own_memory_come_back_whole_and_are_freed():
    # lists and arrays made by the callee: the caller owns them (Numba's reference counts stay balanced)
    from numba.core.runtime import _nrt_python, rtsys

    A = np.arange(6.0).reshape(2, 3)
    address = native_address(_pieces, PIECES)
    _pieces_through_address(address, A, 3)  # compiled before counting
    was_on = _nrt_python.memsys_stats_enabled()
    _nrt_python.memsys_enable_stats()
    try:
        before = rtsys.get_allocation_stats()
        for _ in range(5):
            total, shifted = _pieces_through_address(address, A, 3)
            assert total == 6 * A.sum() and np.array_equal(shifted, A + 1.0)
        del shifted
        after = rtsys.get_allocation_stats()
    finally:
        if not was_on:
            _nrt_python.memsys_disable_stats()
    assert after.alloc - before.alloc == after.free - before.free > 0


def test_an_address_for_another_return_type_is_refused():
    # the caller would read the callee's result with the declared layout: a float read as a list is garbage
    wrong = numba.types.Tuple((numba.types.float64, _MATRIX))(_MATRIX, numba.types.int64)
    with pytest.raises(TypeError, match="_pieces returns"):
        native_address(_pieces, wrong)

_MODULE = textwrap.dedent('''
    import numba
    import numpy as np

    from gradflow.numerics.codegen.support import address_caller, native_address

    SIGNATURE = numba.types.float64(numba.types.float64[::1])
    _call = address_caller(SIGNATURE)


    @numba.njit(cache=True)
    def callee(x):
        return float(np.sum(x * x))


    @numba.njit(cache=True)
    def caller(address, x):
        return _call(address, (x,)) + 1.0
''')


@pytest.mark.long  # two subprocesses that compile
def test_callers_load_from_numbas_cache_in_a_new_process(tmp_path):
    (tmp_path / "address_module.py").write_text(_MODULE)
    snippet = ("import numpy as np, address_module as m\n"
               "value = m.caller(m.native_address(m.callee, m.SIGNATURE), np.arange(4.0))\n"
               "print(value, sum(m.caller.stats.cache_hits.values()), sum(m.caller.stats.cache_misses.values()))\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), PYTHONPATH=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True, text=True, cwd=tmp_path)
            for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr[-2000:]
    cold, warm = (r.stdout.split() for r in runs)
    assert cold == ["15.0", "0", "1"] and warm == ["15.0", "1", "0"], (cold, warm)  # 0 + 1 + 4 + 9, plus 1
