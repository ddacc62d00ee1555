"""The disk cache of derivations (derivations/derivation_cache.py): signed pickles, verified before loading.

Every test points GRADFLOW_CACHE_DIR and the signing key's folder at temporary folders, so the user's
real cache and key are never read or written.
"""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sympy as sp

from gradflow.derivations import derivation_cache as dc
from gradflow.derivations.derivation_cache import MAGIC, cached
from gradflow.theory.derivation import Derivation, Draft

from ..corrupt import flip_bytes, truncate

pytestmark = pytest.mark.long  # whole reproductions or subprocesses: not in the quick subset

REPO = Path(__file__).resolve().parents[2]
x = sp.Symbol("x", positive=True)


@dataclass(frozen=True, eq=False)
class ToyDerivation(Derivation):
    value: sp.Expr
    shifted: sp.Lambda


class Derive:
    """derive() that counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self) -> ToyDerivation:
        self.calls += 1
        z = sp.Dummy("z")
        doc = Draft("toy")
        doc.add("Value", r"e^{x} / 2", "a step", "by hand")
        return doc.finish(ToyDerivation, value=sp.exp(x) / 2, shifted=sp.Lambda(z, z + x))


def derive_toy() -> ToyDerivation:
    return Derive()()


@pytest.fixture
def places(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(dc, "config_dir", lambda: tmp_path / "config" / "gradflow")
    monkeypatch.setattr(dc, "_keys", {})
    monkeypatch.setattr(dc, "_warned", False)
    return tmp_path


def entry(places) -> Path:
    (path,) = (places / "cache").glob("derivation_toy_*.pickle")
    return path


def same(a: ToyDerivation, b: ToyDerivation) -> bool:
    return (type(a) is type(b) and a.steps == b.steps and a.value == b.value
            and a.shifted(sp.Integer(2)) == b.shifted(sp.Integer(2)))


# ----------------------------------------------------------------------------- the normal path


def test_miss_then_hit_a_signed_entry_and_a_private_key(places):
    derive = Derive()
    first = cached("toy", derive)
    second = cached("toy", derive)
    assert derive.calls == 1 and isinstance(second, ToyDerivation) and same(first, second)
    data = entry(places).read_bytes()
    assert data.startswith(MAGIC)
    key_file = places / "config" / "gradflow" / dc.KEY_FILE
    assert key_file.is_file() and not list((places / "cache").glob("*.key"))  # the key lives outside the cache
    if os.name == "posix":
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert len(bytes.fromhex(key_file.read_text().strip())) == 32
    assert sorted(p.name for p in (places / "cache").iterdir()) == [entry(places).name]  # no temporaries


def test_the_expected_class_is_read_from_the_annotation():
    assert dc._expected_kind(derive_toy) is ToyDerivation
    assert dc._expected_kind(lambda: None) is Derivation


def test_another_installation_keeps_its_own_entry(places, monkeypatch):
    cached("toy", Derive())
    ours = entry(places)
    monkeypatch.setattr(dc, "config_dir", lambda: places / "other-config" / "gradflow")
    monkeypatch.setattr(dc, "_keys", {})
    derive = Derive()
    cached("toy", derive)  # another key: another file name (the key's id), derived once
    assert derive.calls == 1
    theirs = next(p for p in (places / "cache").glob("derivation_toy_*.pickle") if p != ours)
    theirs.replace(ours)  # an entry signed with the other key, under our name
    monkeypatch.setattr(dc, "config_dir", lambda: places / "config" / "gradflow")
    monkeypatch.setattr(dc, "_keys", {})
    derive = Derive()
    assert isinstance(cached("toy", derive), ToyDerivation) and derive.calls == 1


# ------------------------------------------------------------------------- foreign entries

_EVIL = textwrap.dedent('''
    class Evil:
        def __reduce__(self):
            return (exec, ("open({marker!r}, 'w').write('ran')",))
''')


def evil_pickle(marker: Path) -> bytes:
    scope: dict = {}
    exec(_EVIL.format(marker=str(marker)), scope)
    return pickle.dumps(scope["Evil"]())


def test_a_crafted_pickle_is_never_unpickled(places):
    marker = places / "marker"
    assert pickle.loads(evil_pickle(marker)) is None and marker.exists()  # the payload does run code ...
    marker.unlink()
    cached("toy", Derive())
    path = entry(places)
    signature = path.read_bytes()[len(MAGIC):].partition(b"\n")[0]
    for data in (evil_pickle(marker),  # a plain pickle
                 MAGIC + b"0" * 64 + b"\n" + evil_pickle(marker),  # a forged signature
                 MAGIC + signature + b"\n" + evil_pickle(marker)):  # a real signature, of another payload
        path.write_bytes(data)
        derive = Derive()
        assert isinstance(cached("toy", derive), ToyDerivation) and derive.calls == 1
        assert not marker.exists()  # ... but not from the cache
        assert entry(places).read_bytes().startswith(MAGIC)


_DERIVE_DEEP_LINEAR = textwrap.dedent('''
    from gradflow.derivations.deep_linear.simulators import derivation
    print(type(derivation()).__name__)
''')


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the key's folder is set by XDG_CONFIG_HOME")
def test_a_crafted_pickle_does_not_run_in_a_new_process(tmp_path):
    """Before: a pickle dropped into the cache folder under the entry's name ran its code at the next start."""
    env = dict(os.environ, GRADFLOW_CACHE_DIR=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", _DERIVE_DEEP_LINEAR], env=env, capture_output=True, text=True,
                              cwd=tmp_path, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip()

    assert run() == "DeepLinearDerivation"
    (path,) = (tmp_path / "cache").glob("derivation_deep_linear_*.pickle")
    marker = tmp_path / "marker"
    # the entry itself, and the name the unsigned cache used (derivation_<name>_<fingerprint>.pickle)
    old_name = path.with_name("_".join(path.stem.split("_")[:-1]) + ".pickle")
    for target in (path, old_name):
        target.write_bytes(evil_pickle(marker))
    assert run() == "DeepLinearDerivation"
    assert not marker.exists()
    assert path.read_bytes().startswith(MAGIC)  # rewritten, signed
    assert run() == "DeepLinearDerivation" and not marker.exists()


def test_a_valid_pickle_of_the_wrong_object_is_derived_again(places):
    """Before: a valid pickle of another object was returned as the derivation, and every later run failed."""
    cached("toy", Derive())
    path = entry(places)
    unsigned = pickle.dumps({"not": "a derivation"})
    payload = pickle.dumps(Draft("another").finish(Derivation))
    signed = MAGIC + dc._signature(dc.signing_key(), "toy", ToyDerivation, payload) + b"\n" + payload
    for data in (unsigned, signed):  # signed: by this installation, but of another class
        path.write_bytes(data)
        derive = Derive()
        assert isinstance(cached("toy", derive), ToyDerivation) and derive.calls == 1
        derive = Derive()
        assert isinstance(cached("toy", derive), ToyDerivation) and derive.calls == 0  # and stored again


def test_an_entry_signed_for_another_name_is_derived_again(places):
    cached("toy", Derive())
    cached("other_toy", Derive())
    other = next((places / "cache").glob("derivation_other_toy_*.pickle"))
    other.replace(entry(places))  # a valid entry of this installation, under another entry's name
    derive = Derive()
    assert isinstance(cached("toy", derive), ToyDerivation) and derive.calls == 1


@pytest.mark.parametrize("damage", [
    lambda p: truncate(p, 0.5), lambda p: truncate(p, 0.99), lambda p: truncate(p, 0.0),
    lambda p: p.write_bytes(p.read_bytes()[:len(MAGIC) + 10]), lambda p: p.write_bytes(p.read_bytes()[:-1]),
    flip_bytes, lambda p: flip_bytes(p, count=1, start=0.9), lambda p: p.write_bytes(b"\xff" * 100),
], ids=["half", "all but 1%", "empty", "header only", "last byte lost", "bytes flipped", "one byte flipped",
        "garbage"])
def test_a_truncated_or_damaged_entry_is_derived_again(places, damage):
    cached("toy", Derive())
    good = entry(places).read_bytes()
    damage(entry(places))
    assert entry(places).read_bytes() != good
    derive = Derive()
    result = cached("toy", derive)
    assert isinstance(result, ToyDerivation) and derive.calls == 1 and same(result, derive_toy())
    assert cached("toy", Derive()).steps == result.steps
    assert entry(places).read_bytes().startswith(MAGIC)


# --------------------------------------------------------------------------------- writing


def test_a_failed_write_leaves_no_entry_and_no_temporary(places, monkeypatch):
    def refuse(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(dc.os, "replace", refuse)
    derive = Derive()
    assert isinstance(cached("toy", derive), ToyDerivation)  # a cache that cannot be written is only slower
    assert list((places / "cache").iterdir()) == []


_WRITER = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from gradflow.derivations.derivation_cache import cached
    from gradflow.theory.derivation import Derivation, Draft

    go, rounds = Path(sys.argv[1]), int(sys.argv[2])

    def derive():
        doc = Draft("big")
        for i in range(400):
            doc.add(f"step {i}", "x" * 5000)  # a few MB: a write takes a while
        return doc.finish(Derivation)

    print("ready", flush=True)
    deadline = time.time() + 60
    while not go.exists() and time.time() < deadline:
        time.sleep(0.002)
    for _ in range(rounds):
        for entry in Path(sys.argv[3]).glob("derivation_big_*.pickle"):
            entry.unlink(missing_ok=True)  # every round writes again
        assert len(cached("big", derive, Derivation).steps) == 400
    print("done", flush=True)
''')


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the key's folder is set by XDG_CONFIG_HOME")
def test_concurrent_writers_never_expose_a_partial_entry(tmp_path, monkeypatch):
    folder, go = tmp_path / "cache", tmp_path / "go"
    env = dict(os.environ, GRADFLOW_CACHE_DIR=str(folder), XDG_CONFIG_HOME=str(tmp_path / "config"))
    monkeypatch.setenv("GRADFLOW_CACHE_DIR", str(folder))
    monkeypatch.setattr(dc, "config_dir", lambda: tmp_path / "config" / "gradflow")
    monkeypatch.setattr(dc, "_keys", {})
    key = dc.signing_key()  # made here first: the writers share it
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(go), "4", str(folder)], env=env, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    complete = 0
    try:
        for proc in writers:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        go.touch()
        while any(proc.poll() is None for proc in writers):
            for path in folder.glob("derivation_big_*.pickle"):
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue  # between a writer's unlink and its replace
                # what a reader sees is a whole, verified entry
                assert data.startswith(MAGIC)
                signature, _, payload = data[len(MAGIC):].partition(b"\n")
                assert signature == dc._signature(key, "big", Derivation, payload)
                complete += 1
            time.sleep(0.001)
        for proc in writers:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0 and out.strip() == "done", err
    finally:
        for proc in writers:
            if proc.poll() is None:
                proc.kill()
    assert complete >= 1
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


# ------------------------------------------------------------------------------- the key


def test_no_usable_key_means_no_disk_cache_and_one_warning(places, monkeypatch):
    (places / "not-a-folder").write_text("x")
    monkeypatch.setattr(dc, "config_dir", lambda: places / "not-a-folder" / "gradflow")
    derive = Derive()
    with pytest.warns(RuntimeWarning, match="cannot use the derivation cache key") as caught:
        cached("toy", derive)
        cached("toy", derive)
    assert len(caught) == 1 and derive.calls == 2
    assert not list((places / "cache").glob("derivation_*"))


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_key_file_others_can_read_is_refused(places):
    cached("toy", Derive())
    key_file = places / "config" / "gradflow" / dc.KEY_FILE
    key_file.chmod(0o644)
    dc._keys.clear()
    derive = Derive()
    with pytest.warns(RuntimeWarning, match="mode 0600"):
        assert isinstance(cached("toy", derive), ToyDerivation)
    assert derive.calls == 1  # not read from the cache with a key others may know
