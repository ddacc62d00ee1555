"""Damage files the way disks, crashes and editors do (shared by the cache tests)."""

from __future__ import annotations

from pathlib import Path


def truncate(path: Path, keep: float = 0.5) -> None:
    """Keep the first ``keep`` fraction of the file (an interrupted write)."""
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * keep)])


def flip_bytes(path: Path, count: int = 8, start: float = 0.25) -> None:
    """Invert ``count`` bytes spread evenly over the file from the ``start`` fraction on (bit rot)."""
    data = bytearray(Path(path).read_bytes())
    first = int(len(data) * start)
    stride = max(1, (len(data) - first) // count)
    for i in range(first, len(data), stride)[:count]:
        data[i] ^= 0xFF
    Path(path).write_bytes(bytes(data))
