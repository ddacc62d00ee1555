"""Tests for the content-addressed cache of generated modules (numerics/codegen/cache.py).

Every test here points GRADFLOW_CACHE_DIR at a fresh temporary folder (monkeypatch), so the
user's real cache is never read or written.
"""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradflow.numerics.codegen import cache
from gradflow.numerics.codegen.cache import HEADER, cache_dir, cache_key, cached_module_path, load_module
from gradflow.numerics.drivers.lanes import LaneSimulator
from gradflow.theory.flow import Flow, Map

REPO = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def cdir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(folder))
    return folder


class Renderer:
    """render() callable that counts its calls."""

    def __init__(self, body: str):
        self.body = body
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.body


def body_for(tag: str) -> str:
    return textwrap.dedent(f'''\
        """Test module {tag!r}."""
        import math

        TAG = {tag!r}


        def double(x):
            return 2.0 * x + math.sin(0.0)
        ''')


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def leftovers(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ----------------------------------------------------------------------------- location


def test_cache_dir_respects_env(tmp_path, monkeypatch):
    target = tmp_path / "deep" / "nested" / "gf"
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(target))
    assert cache_dir() == target
    assert target.is_dir()  # created on demand
    path, hit = cached_module_path("env-respected", Renderer(body_for("env")))
    assert not hit
    assert path.parent == target and path.exists()


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG layout is the Linux/BSD default")
def test_cache_dir_default_is_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADFLOW_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "gradflow"
    assert (tmp_path / "xdg" / "gradflow").is_dir()
    # an empty GRADFLOW_CACHE_DIR means "not set"
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", "")
    assert cache_dir() == tmp_path / "xdg" / "gradflow"


# ---------------------------------------------------------------------------------- keys


def test_cache_key_is_a_stable_sha256_hex_that_tracks_versions(monkeypatch):
    key = cache_key("Flow(m, rhs)")
    assert len(key) == 64 and int(key, 16) >= 0
    assert cache_key("Flow(m, rhs)") == key
    assert cache_key("Flow(m, rhs) ") != key
    # a different code generator (printer version / template sources) must give a different key
    if hasattr(cache, "generator_fingerprint"):
        monkeypatch.setattr(cache, "generator_fingerprint", lambda: "another generator")
    else:
        monkeypatch.setattr(cache, "PRINTER_VERSION", "printer-version-under-test")
    bumped_printer = cache_key("Flow(m, rhs)")
    assert bumped_printer != key
    monkeypatch.setattr(numba, "__version__", "0.0.0-test")
    assert cache_key("Flow(m, rhs)") not in (key, bumped_printer)


@SETTINGS
@given(a=st.text(min_size=0, max_size=40), b=st.text(min_size=0, max_size=40))
def test_different_keys_give_different_files(cdir, a, b):
    if a == b:
        b = a + "!"
    pa, _ = cached_module_path(a, Renderer(body_for(a)))
    pb, _ = cached_module_path(b, Renderer(body_for(b)))
    assert pa != pb
    assert pa.parent == pb.parent == cdir
    assert load_text_body(pa) == body_for(a) and load_text_body(pb) == body_for(b)


def load_text_body(path: Path) -> str:
    first, _, body = path.read_text().partition("\n")
    assert first == HEADER + sha(body)
    return body


# --------------------------------------------------------------------------- miss / hit


def test_miss_then_hit(cdir):
    render = Renderer(body_for("one"))
    path, hit = cached_module_path("key-one", render)
    assert (hit, render.calls) == (False, 1)
    text = path.read_text()
    # a real, readable Python file: the header is a comment, the rest is the rendered source
    first, _, body = text.partition("\n")
    assert first.startswith("# gradflow-sha256: ")
    assert first == "# gradflow-sha256: " + sha(body)
    assert body == render.body
    ast.parse(text)
    compile(text, str(path), "exec")
    assert path.suffix == ".py" and path.name.isascii()

    again, hit = cached_module_path("key-one", render)
    assert (again, hit, render.calls) == (path, True, 1)  # render not called on a hit
    assert path.read_text() == text
    assert leftovers(cdir) == []


# --------------------------------------------------------------------------- corruption


def _truncate(text):
    return text[: len(text) // 2]


def _drop_last_char(text):
    return text[:-1]


def _append(text):
    return text + "\nprint('tampered')\n"


def _header_digest(text):
    first, _, body = text.partition("\n")
    digest = first[len(HEADER):]
    flipped = ("0" if digest[0] != "0" else "1") + digest[1:]
    return HEADER + flipped + "\n" + body


def _no_header(text):
    return text.partition("\n")[2]


def _empty(text):
    return ""


CORRUPTIONS = {"truncate": _truncate, "drop last char": _drop_last_char, "append": _append,
               "header digest": _header_digest, "no header": _no_header, "empty": _empty}


@pytest.mark.parametrize("how", sorted(CORRUPTIONS))
def test_corrupted_entry_is_regenerated(cdir, how):
    render = Renderer(body_for("corrupt"))
    path, _ = cached_module_path("key-corrupt", render)
    good = path.read_text()
    path.write_text(CORRUPTIONS[how](good))
    assert path.read_text() != good
    again, hit = cached_module_path("key-corrupt", render)
    assert again == path
    assert hit is False and render.calls == 2
    assert path.read_text() == good
    # and it is valid again
    assert cached_module_path("key-corrupt", render) == (path, True) and render.calls == 2
    assert leftovers(cdir) == []


def test_invalid_utf8_and_deleted_entries_are_regenerated(cdir):
    render = Renderer(body_for("bytes"))
    path, _ = cached_module_path("key-bytes", render)
    good = path.read_bytes()
    path.write_bytes(good[:40] + b"\xff\xfe\x80" + good[43:])
    assert cached_module_path("key-bytes", render) == (path, False)
    assert path.read_bytes() == good
    path.unlink()
    assert cached_module_path("key-bytes", render) == (path, False)
    assert path.read_bytes() == good and render.calls == 3


@SETTINGS
@given(position=st.integers(min_value=0, max_value=10**6), replacement=st.characters(codec="ascii", exclude_characters="\r"))
def test_any_single_character_edit_of_the_body_is_detected(cdir, position, replacement):
    render = Renderer(body_for("one-char"))
    path, _ = cached_module_path("key-one-char", render)
    text = path.read_text()
    header_len = text.index("\n") + 1
    i = header_len + position % (len(text) - header_len)
    if text[i] == replacement:
        replacement = "#" if replacement != "#" else "$"
    path.write_text(text[:i] + replacement + text[i + 1:])
    calls = render.calls
    again, hit = cached_module_path("key-one-char", render)
    assert (again, hit) == (path, False)
    assert render.calls == calls + 1
    assert path.read_text() == text


def test_failed_render_leaves_no_file_and_no_temporary(cdir):
    def broken():
        raise RuntimeError("printer exploded")

    with pytest.raises(RuntimeError, match="printer exploded"):
        cached_module_path("key-broken", broken)
    assert not any(cdir.iterdir())


def test_write_failure_cleans_up_the_temporary(cdir, monkeypatch):
    def refuse(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(cache.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        cached_module_path("key-replace-fails", Renderer(body_for("x")))
    assert not any(cdir.iterdir())


# ------------------------------------------------------------------------ concurrency

_WRITER = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from gradflow.numerics.codegen.cache import _valid, cached_module_path

    go, key = Path(sys.argv[1]), sys.argv[2]
    body = "".join(f"value_{i} = {i} * 2  # padding so that a write takes a while\\n" for i in range(20000))

    def render():
        time.sleep(1.0)  # widen the window: every writer sees the miss before anyone writes
        return body

    print("ready", flush=True)
    deadline = time.time() + 60
    while not go.exists() and time.time() < deadline:
        time.sleep(0.002)
    path, hit = cached_module_path(key, render)
    ok = _valid(path) and path.read_text().partition("\\n")[2] == body
    print(path, hit, ok, flush=True)
''')


def test_concurrent_writers_end_with_one_valid_file(tmp_path):
    folder = tmp_path / "shared-cache"
    go = tmp_path / "go"
    env = dict(os.environ, GRADFLOW_CACHE_DIR=str(folder),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(go), "same-key"], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        for proc in writers:
            line = proc.stdout.readline()
            assert line.strip() == "ready", proc.stderr.read()
        go.touch()
        results = []
        for proc in writers:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            path, hit, ok = out.split()
            results.append((path, hit, ok))
    finally:
        for proc in writers:
            if proc.poll() is None:
                proc.kill()
    paths = {r[0] for r in results}
    assert len(paths) == 1
    assert all(r[2] == "True" for r in results)  # each writer saw a complete, valid file
    assert sum(r[1] == "False" for r in results) >= 2  # the race really happened
    path = Path(paths.pop())
    body = "".join(f"value_{i} = {i} * 2  # padding so that a write takes a while\n" for i in range(20000))
    assert path.read_text() == HEADER + sha(body) + "\n" + body
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # no .tmp leftovers, one entry


# ----------------------------------------------------------------------------- loading


def test_load_module_runs_generated_functions(cdir):
    body = textwrap.dedent('''\
        """Generated-like module."""
        import numba
        import numpy as np


        @numba.njit
        def axpy(a, x, y):
            return a * x + y


        def norm(v):
            return float(np.sqrt((np.asarray(v) ** 2).sum()))
        ''')
    path, hit = cached_module_path("key-load", Renderer(body))
    module = load_module(path)
    assert module.__file__ == str(path)
    x, y = np.arange(4.0), np.ones(4)
    np.testing.assert_array_equal(module.axpy(3.0, x, y), 3.0 * x + y)
    assert module.norm([3.0, 4.0]) == 5.0
    assert load_module(path) is module  # imported once per process
    assert sys.modules[module.__name__] is module


def test_lane_simulator_built_twice_hits_the_cache(cdir):
    m = sp.Symbol("m", real=True)
    eta, M, p = sp.symbols("eta M p", positive=True)
    system = Map((m,), (m + eta * M * p / (M + sp.exp(m) - 1),), (eta, M, p), eta, name="cache test margin map")
    first = LaneSimulator(system, {"loss": -m + sp.log(M - 1 + sp.exp(m))})
    assert first.cache_hit is False
    assert first.path.parent == cdir
    second = LaneSimulator(system, {"loss": -m + sp.log(M - 1 + sp.exp(m))})
    assert second.cache_hit is True
    assert second.path == first.path
    assert second.module is first.module
    source = second.source
    assert source.startswith(HEADER)
    ast.parse(source)
    assert "State order: m" in source and "Parameter order: eta, M, p" in source
    assert "def lane_update(x, q, out):" in source and "def observable_loss(states, q):" in source
    # a different observable set is a different entry
    third = LaneSimulator(system, {"sigmoid": 1 / (1 + sp.exp(-m))})
    assert third.cache_hit is False and third.path != first.path


def test_flow_and_its_map_are_different_entries(cdir):
    x = sp.Symbol("x", real=True)
    a, eta = sp.symbols("a eta", positive=True)
    flow = Flow((x,), (-a * x,), (a,), name="decay")
    flow_sim = LaneSimulator(flow)
    map_sim = LaneSimulator(flow.gradient_descent_map(eta))
    assert not flow_sim.cache_hit and not map_sim.cache_hit
    assert flow_sim.path != map_sim.path
    assert "def integrate_rk4" in flow_sim.source and "def iterate_map" in map_sim.source
