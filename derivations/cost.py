"""What a run will take, estimated before it starts, and the refusal of what cannot end well.

An entry's :meth:`ModelEntry.cost` estimates the work (floating-point operations, roughly) and the
peak memory (bytes) of a run from its settings alone.  Memory beyond what the machine has left is
refused (the run would end in a MemoryError or in swap); work beyond ``WORK_LIMIT`` is refused
unless forced (``--force``), with the estimate and, where there is one, a cheaper way to the same
answer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from gradflow.theory.errors import ParameterError

WORK_LIMIT = 1e13  # operations: hours of work on a laptop; above it a run must be forced
BYTES_PER_NUMBER = 8
JSON_BYTES_PER_NUMBER = 48  # a recorded float as a Python float in a list, then as JSON text


@dataclass(frozen=True)
class Cost:
    work: float = 0.0  # floating-point operations, roughly
    memory: float = 0.0  # bytes held at the peak, roughly
    memory_parameter: str = ""  # the setting that makes the memory large (named when it is refused)
    hint: str = ""  # a cheaper way to the same answer, when the work is refused
    length: float | None = None  # the run length the estimate is for (steps or t_end, defaults resolved)


def available_memory() -> float | None:
    """Bytes the machine can still give this process (MemAvailable), or None if it cannot tell."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def size_text(nbytes: float) -> str:
    for unit, scale in (("TiB", 2.0 ** 40), ("GiB", 2.0 ** 30), ("MiB", 2.0 ** 20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes / 2 ** 10:.3g} KiB"


def refuse_if_too_costly(cost: Cost, settings: dict, option: str, force: bool = False) -> None:
    """ParameterError naming the setting that makes the memory too large, or the run length (``option``,
    --steps or --t-end) that makes the work too large (unless ``force``)."""
    available = available_memory()
    if available is not None and cost.memory > 0.9 * available:
        name = cost.memory_parameter or option
        raise ParameterError(name, f"small enough for the memory: the run needs about {size_text(cost.memory)}, "
                                   f"{size_text(available)} are available", settings.get(name, cost.length))
    if cost.work > WORK_LIMIT and not force:
        value = cost.length
        largest = f"at most about {value * WORK_LIMIT / cost.work:.3g} here" if value else "shorter"
        hint = f"; {cost.hint}" if cost.hint else ""
        raise ParameterError(option, f"{largest}: the run needs about {cost.work:.2g} operations, over the limit of "
                                     f"{WORK_LIMIT:.0e} (hours of work){hint}; --force runs it anyway", value)
