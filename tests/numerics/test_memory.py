"""keep_freed_memory: applied once on glibc, and off when asked."""

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
