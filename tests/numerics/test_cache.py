"""Tests for the content-addressed cache of generated modules (numerics/codegen/cache.py).

Every test here points GRADFLOW_CACHE_DIR at a fresh temporary folder (monkeypatch), so the
user's real cache is never read or written.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
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
from gradflow.numerics.codegen.cache import (HEADER, cache_dir, cache_key, cached_module, cached_module_path,
                                             canonical_srepr, load_module)
from gradflow.numerics.drivers.lanes import LaneSimulator
from gradflow.theory.errors import ParameterError
from gradflow.theory.flow import Flow, Map

from ..corrupt import flip_bytes, truncate

pytestmark = pytest.mark.long  # seconds per test (subprocesses, fresh caches, big runs): not in the quick subset

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


def bound_sha(symbolic_input: str, body: str) -> str:
    """The header's digest: SHA-256 of the entry's full cache key, a newline and the body."""
    return sha(cache_key(symbolic_input) + "\n" + body)


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
    assert load_text_body(pa, a) == body_for(a) and load_text_body(pb, b) == body_for(b)


def load_text_body(path: Path, symbolic_input: str) -> str:
    first, _, body = path.read_text().partition("\n")
    assert first == HEADER + bound_sha(symbolic_input, body)
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
    assert first == "# gradflow-sha256: " + bound_sha("key-one", body)
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
    ok = _valid(path, key) and path.read_text().partition("\\n")[2] == body
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
    assert path.read_text() == HEADER + bound_sha("same-key", body) + "\n" + body
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


# ------------------------------------------------------------------ a cache folder that cannot be used


def test_cache_dir_that_is_a_file_is_a_parameter_error(tmp_path, monkeypatch):
    target = tmp_path / "not-a-folder"
    target.write_text("x")
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(target))
    with pytest.raises(ParameterError) as info:
        cache_dir()
    assert info.value.parameter == "GRADFLOW_CACHE_DIR"
    assert str(info.value).startswith("GRADFLOW_CACHE_DIR: must be a folder gradflow can create and write")
    assert "this path is a file" in str(info.value) and str(target) in str(info.value)
    assert target.read_text() == "x"


def test_cache_dir_that_cannot_be_created_is_a_parameter_error(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(tmp_path / "file" / "cache"))
    with pytest.raises(ParameterError, match=r"^GRADFLOW_CACHE_DIR: must be .*cannot create it"):
        cache_dir()


def test_cache_dir_that_is_not_writable_is_a_parameter_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(tmp_path))
    real_access = os.access
    # os.access, not chmod: root may write a read-only folder, so a chmod test would not fail as root
    monkeypatch.setattr(cache.os, "access", lambda path, mode: False if Path(path) == tmp_path else real_access(path, mode))
    with pytest.raises(ParameterError, match=r"^GRADFLOW_CACHE_DIR: must be .*this folder is not writable"):
        cache_dir()


def test_a_bad_cache_dir_is_one_line_and_exit_code_2_in_the_cli(tmp_path):
    (tmp_path / "file").write_text("x")
    env = dict(os.environ, GRADFLOW_CACHE_DIR=str(tmp_path / "file"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    # --backend cpu: the kernels' cache is needed (a run this small would otherwise go to NumPy, cache-free)
    done = subprocess.run([sys.executable, "-m", "gradflow", "simulate", "am-orthogonal", "--steps", "3", "--backend",
                           "cpu"], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"gradflow: error: GRADFLOW_CACHE_DIR: must be a folder gradflow can create "
                                        f"and write; this path is a file (got '{tmp_path / 'file'}')"]


# ---------------------------------------------------------------------------- canonical keys


def test_canonical_srepr_numbers_dummies_by_first_appearance():
    x = sp.Symbol("x")
    d1, d2 = sp.Dummy("d"), sp.Dummy("d")
    one = canonical_srepr((sp.Lambda(d1, d1 ** 2), d2 + x))
    other = canonical_srepr((sp.Lambda(d2, d2 ** 2), d1 + x))
    assert one == other and "dummy_index" not in one
    # structure is kept: one Dummy twice is not two Dummies, a Dummy is not the Symbol of its name
    assert canonical_srepr((d1, d1)) != canonical_srepr((d1, d2))
    assert canonical_srepr(sp.Lambda(d1, d1 ** 2)) != canonical_srepr(sp.Lambda(d1, d2 ** 2))
    assert canonical_srepr(sp.Symbol("d")) != canonical_srepr(d1)
    assert canonical_srepr(sp.Dummy("d", positive=True)) != canonical_srepr(sp.Dummy("d"))
    # assumptions in a fixed order, whatever the order they were given in
    first = sp.Symbol("q", positive=True, integer=True)
    second = sp.Symbol("q", integer=True, positive=True)
    assert sp.srepr(first) != sp.srepr(second)  # SymPy's own text depends on it
    assert canonical_srepr(first) == canonical_srepr(second) == "Symbol('q', integer=True, positive=True)"
    # Python sets in a fixed order (their iteration order depends on PYTHONHASHSEED)
    assert canonical_srepr(frozenset({"b", "a", "c"})) == "frozenset({'a', 'b', 'c'})"
    # without Dummies it is SymPy's srepr
    expr = (sp.exp(x) / (1 + x), sp.MatrixSymbol("W", 2, 3).T, "name", 3)
    assert canonical_srepr(expr) == sp.srepr(expr)


_KEYS_SCRIPT = Path(__file__).with_name("cache_keys_script.py")
MODELS = ("am-orthogonal", "am-random", "am-two-particle", "deep-linear", "relu", "mlp")


def _run_keys_script(folder: Path, seed: int, models) -> dict:
    env = dict(os.environ, GRADFLOW_CACHE_DIR=str(folder / "cache"), XDG_CONFIG_HOME=str(folder / "config"),
               PYTHONHASHSEED=str(seed), NUMBA_ENABLE_CUDASIM="1")
    done = subprocess.run([sys.executable, str(_KEYS_SCRIPT), *models], env=env, capture_output=True, text=True,
                          cwd=folder, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)["keys"]


def _modules(folder: Path) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted((folder / "cache").glob("gf_*.py"))}


def _same_keys_in_two_processes(tmp_path, models, generators):
    """The models derived and run in two fresh processes: other hash seeds, the models in the opposite
    order, the derivations made again (new Dummies).  The keys of the generated modules are the same,
    and the second process regenerates none of them."""
    first = _run_keys_script(tmp_path, 1, models)
    modules = _modules(tmp_path)
    for entry in [*(tmp_path / "cache").glob("derivation_*"), *(tmp_path / "cache").glob("warm_*")]:
        entry.unlink()  # the second process derives again (its Dummies have other indices) and finds the
        # modules by their symbolic keys, not through the warm index
    second = _run_keys_script(tmp_path, 2, models[::-1])
    assert sorted(second) == sorted(first)
    assert second == first  # the same symbolic text for each key
    assert not [text for text in first.values() if "dummy_index" in text]
    assert _modules(tmp_path) == modules  # every module a hit: none rewritten, none added
    assert len(modules) == len(first)
    texts = "\n".join(first.values())
    for generator in generators:
        assert generator in texts, generator
    return first


def test_lane_and_network_models_have_the_same_module_keys_in_any_process(tmp_path):
    """Quick variant: a lane model (map, flow, CUDA lane) and the relu network kernels."""
    keys = _same_keys_in_two_processes(tmp_path, ("am-orthogonal", "relu"),
                                       ("'Map'", "'Flow'", "'numba-cuda'", "Function('rho')", "'squared'"))
    assert len(keys) >= 5


@pytest.mark.slow
def test_every_model_has_the_same_module_keys_in_any_process(tmp_path):
    """Each CLI model (every method, the CPU and CUDA backends), as above."""
    keys = _same_keys_in_two_processes(tmp_path, MODELS, ("'Map'", "'Flow'", "'numba-cuda'", "'numba-cuda-matrix'",
                                                          "Function('rho')", "'squared'"))
    assert len(keys) >= 10


# ----------------------------------------------------------------------- what the header binds


def test_edited_module_with_a_recomputed_body_hash_is_regenerated(cdir):
    """The header binds the body to its key: an edit with a fresh SHA-256 of the body alone is caught."""
    render = Renderer(body_for("bound"))
    path, _ = cached_module_path("key-bound", render)
    good = path.read_text()
    edited = body_for("bound").replace("2.0 * x", "3.0 * x")
    path.write_text(HEADER + sha(edited) + "\n" + edited)
    assert cached_module_path("key-bound", render) == (path, False)
    assert path.read_text() == good and render.calls == 2


def test_valid_module_copied_under_another_key_is_regenerated(cdir):
    pa, _ = cached_module_path("key-a", Renderer(body_for("a")))
    render_b = Renderer(body_for("b"))
    pb, _ = cached_module_path("key-b", render_b)
    pb.write_bytes(pa.read_bytes())  # a valid module, of another entry
    assert cached_module_path("key-b", render_b) == (pb, False) and render_b.calls == 2
    assert load_text_body(pb, "key-b") == body_for("b")


def test_module_that_lacks_a_promised_name_is_regenerated(cdir):
    module, path, hit = cached_module("key-promise", Renderer(body_for("p")), ("double", "TAG"))
    assert not hit and module.double(2.0) == 4.0
    sys.modules.pop(module.__name__)  # as in a new process
    lacking = "TAG = 'p'\n"  # verifies (the header is bound to the key), but defines no double
    path.write_text(HEADER + bound_sha("key-promise", lacking) + "\n" + lacking)
    render = Renderer(body_for("p"))
    module, again, hit = cached_module("key-promise", render, ("double", "TAG"))
    assert (again, hit, render.calls) == (path, False, 1) and module.double(2.0) == 4.0
    assert load_text_body(path, "key-promise") == body_for("p")
    assert cached_module("key-promise", render, ("double", "TAG")) == (module, path, True)


def test_module_that_fails_to_import_is_regenerated(cdir):
    module, path, _ = cached_module("key-import", Renderer(body_for("i")), ("double",))
    sys.modules.pop(module.__name__)
    broken = "import gradflow_no_such_module\n"
    path.write_text(HEADER + bound_sha("key-import", broken) + "\n" + broken)
    render = Renderer(body_for("i"))
    module, _, hit = cached_module("key-import", render, ("double",))
    assert not hit and render.calls == 1 and module.TAG == "i"


def test_a_generator_that_breaks_its_promise_is_an_error(cdir):
    with pytest.raises(RuntimeError, match="does not define missing_kernel"):
        cached_module("key-bug", Renderer(body_for("bug")), ("double", "missing_kernel"))


def test_modules_are_compiled_from_the_verified_bytes(cdir):
    module, path, _ = cached_module("key-bytes-run", Renderer(body_for("v")), ("double",))
    assert module.__file__ == str(path) and module.TAG == "v"
    assert not (cdir / "__pycache__").exists()  # no bytecode file of the module: what runs is what was checked


_REPLACED = textwrap.dedent('''
    import json, sys
    import sympy as sp
    from gradflow.numerics.drivers.lanes import LaneSimulator
    from gradflow.theory.flow import Flow, Map

    m = sp.Symbol("m", real=True)
    eta, M, p = sp.symbols("eta M p", positive=True)
    margin = Map((m,), (m + eta * M * p / (M + sp.exp(m) - 1),), (eta, M, p), eta, name="replaced margin map")
    other = Map((m,), (m - eta * M * p * m,), (eta, M, p), eta, name="replaced linear map")
    flow = Flow((m,), (M * p / (M + sp.exp(m) - 1),), (M, p), name="replaced margin flow")
    out = {}
    for label, system in (("margin", margin), ("other", other), ("flow", flow)):
        sim = LaneSimulator(system)
        out[label] = {"path": str(sim.path), "hit": sim.cache_hit}
        if isinstance(system, Map):
            out[label]["last"] = sim.iterate([[0.0], [1.0]], [[0.5, 3, 0.4], [0.2, 3, 0.7]], 20).states[-1].tolist()
    print(json.dumps(out))
''')


def test_a_module_replaced_by_another_valid_module_is_regenerated_in_a_new_process(tmp_path):
    """Before: a Flow module copied over a Map module's file made every later run fail (AttributeError:
    no iterate_map), and another Map's module silently ran the wrong update."""
    env = dict(os.environ, GRADFLOW_CACHE_DIR=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))

    def run():
        done = subprocess.run([sys.executable, "-c", _REPLACED], env=env, capture_output=True, text=True, cwd=tmp_path,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    cold = run()
    margin, other, flow = (Path(cold[k]["path"]) for k in ("margin", "other", "flow"))
    for replacement in (flow, other):
        margin.write_bytes(replacement.read_bytes())
        again = run()
        assert again["margin"]["hit"] is False and again["other"]["hit"] is True and again["flow"]["hit"] is True
        assert again["margin"]["last"] == cold["margin"]["last"] and again["other"]["last"] == cold["other"]["last"]
    assert run()["margin"]["hit"] is True


# ------------------------------------------------------------------------ Numba's cache files

_NUMBA_RUN = textwrap.dedent('''
    import json
    import sympy as sp
    from gradflow.numerics.drivers.lanes import LaneSimulator
    from gradflow.theory.flow import Map

    m = sp.Symbol("m", real=True)
    eta, M, p = sp.symbols("eta M p", positive=True)
    system = Map((m,), (m + eta * M * p / (M + sp.exp(m) - 1),), (eta, M, p), eta, name="numba cache test map")
    sim = LaneSimulator(system, {"loss": -m + sp.log(M - 1 + sp.exp(m))})
    run = sim.iterate([[0.0], [1.0], [2.0]], [[0.5, 3, 0.4], [0.2, 3, 0.7], [1.0, 5, 0.1]], 25)
    stats = [sim.module.iterate_map.stats, sim.module.observable_loss.stats]
    print(json.dumps({"last": run.states[-1].tolist(), "loss": run.observables["loss"][-1].tolist(),
                      "hits": sum(sum(s.cache_hits.values()) for s in stats),
                      "misses": sum(sum(s.cache_misses.values()) for s in stats)}))
''')


def _numba_run(folder: Path) -> tuple:
    env = dict(os.environ, GRADFLOW_CACHE_DIR=str(folder / "cache"), XDG_CONFIG_HOME=str(folder / "config"))
    done = subprocess.run([sys.executable, "-c", _NUMBA_RUN], env=env, capture_output=True, text=True, cwd=folder,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), done.stderr


@pytest.fixture(scope="module")
def numba_cache(tmp_path_factory):
    """A cache folder after one cold run (generated module + Numba's index and data files), and its result."""
    folder = tmp_path_factory.mktemp("numba-cache")
    result, _ = _numba_run(folder)
    assert result["misses"] >= 2 and result["hits"] == 0
    warm, err = _numba_run(folder)
    assert warm["hits"] >= 2 and warm["misses"] == 0 and "Numba's cache entry" not in err
    return folder, result


@pytest.mark.parametrize("damage", [truncate, flip_bytes], ids=["truncated", "bytes flipped"])
@pytest.mark.parametrize("kind", ["nbi", "nbc"], ids=["index", "data"])
def test_broken_numba_cache_files_are_recompiled_with_one_warning(numba_cache, tmp_path, kind, damage):
    """Before: EOFError, UnpicklingError or UnicodeDecodeError in every later run."""
    source, cold = numba_cache
    shutil.copytree(source, tmp_path / "copy")  # copy2: modification times kept, so Numba's entries stay fresh
    folder = tmp_path / "copy"
    files = sorted((folder / "cache" / "__pycache__").glob(f"*.{kind}"))
    assert len(files) >= 2
    for path in files:
        damage(path)
    result, err = _numba_run(folder)
    assert result["last"] == cold["last"] and result["loss"] == cold["loss"]
    assert result["misses"] >= 1
    warnings_shown = err.count("Numba's cache entry")
    assert warnings_shown == 1 or (warnings_shown == 0 and kind == "nbi" and damage is flip_bytes), err
    # repaired: the next process loads every function from Numba's cache again, silently
    again, err = _numba_run(folder)
    assert again["hits"] == cold["misses"] and again["misses"] == 0 and "Numba's cache entry" not in err
    assert again["last"] == cold["last"]


def test_a_numba_data_file_with_another_digest_is_not_loaded(numba_cache, tmp_path):
    """A data file that unpickles but is not the one written (here: another function's) is a miss, not a load."""
    source, cold = numba_cache
    shutil.copytree(source, tmp_path / "copy")
    data = sorted((tmp_path / "copy" / "cache" / "__pycache__").glob("*.nbc"))
    assert len(data) >= 2
    first, second = data[0].read_bytes(), data[1].read_bytes()
    data[0].write_bytes(second)
    data[1].write_bytes(first)
    result, err = _numba_run(tmp_path / "copy")
    assert result["last"] == cold["last"] and result["loss"] == cold["loss"]
    assert err.count("Numba's cache entry") == 1 and "does not match its recorded SHA-256" in err


def test_network_modules_list_their_constants_alike_in_every_process():
    """A module cached by one process serves every other: the order of ``consts`` may not depend on the
    process's string hashing (it did: a_plus and a_minus swapped between processes, and a size-specialised
    module read the generic module's constants the other way round)."""
    import os
    import subprocess
    import sys

    code = ("from gradflow.numerics.codegen.network_module import render, kernel_network\n"
            "from gradflow.theory.models.shallow_network import ShallowNetwork\n"
            "from gradflow.theory.activations import RELU\n"
            "net = kernel_network(ShallowNetwork(RELU))\n"
            "print(render(net)); print(render(net, {'n': 5, 'd': 2, 'm': 50, 'd_out': 1}))")
    texts = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env=dict(os.environ, PYTHONHASHSEED=str(seed))).stdout for seed in (1, 2, 3, 4)}
    assert len(texts) == 1
