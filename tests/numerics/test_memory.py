"""keep_freed_memory: applied once on glibc, off when asked, and by the particle driver."""

import subprocess
import sys

import pytest

from gradflow.numerics import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_it_applies_once_on_glibc():
    assert memory.keep_freed_memory() is True
    assert memory.keep_freed_memory.cache_info().currsize == 1


def test_the_environment_turns_it_off():
    code = "from gradflow.numerics.memory import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"GRADFLOW_KEEP_FREED_MEMORY": "0", "PATH": ""})
    assert out.stdout.strip() == "False"


def test_particle_runs_keep_freed_memory(monkeypatch):
    """Each step allocates its products afresh: the driver keeps freed pages in the process (glibc)."""
    from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities
    from gradflow.derivations.associative_memory.simulators import logit_particle_simulator
    from gradflow.numerics.drivers import particles

    calls = []
    monkeypatch.setattr(particles, "keep_freed_memory", lambda: calls.append(1) or True)
    inst = memory_instance(4, 3, 4, zipf_probabilities(4, 1.0), 0, orthogonal=False)
    sim = logit_particle_simulator()
    sim.gd(inst.initial_logits, inst.data, inst.labels, 0.5, 2)
    sim.flow(inst.initial_logits, inst.data, inst.labels, [0.0, 0.1])
    assert len(calls) == 2
