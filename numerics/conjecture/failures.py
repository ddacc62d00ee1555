"""The failure database: each conjecture's minimal counterexamples as JSON in a folder, replayed before
a new search (Hypothesis's own database is switched off for seeded runs, so gradflow keeps its own:
plain files a user can read, keyed by the conjecture's name, domain, settings and tolerance)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from gradflow.theory.errors import ParameterError


class FailureDatabase:
    def __init__(self, folder):
        self.folder = Path(folder)

    def _file(self, key: bytes) -> Path:
        return self.folder / f"{key.hex()}.json"

    def load(self, key: bytes) -> list[dict]:
        path = self._file(key)
        if not path.exists():
            return []
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            return []  # an unreadable entry is ignored (the search re-finds what it held)
        return [i for i in stored.get("counterexamples", []) if isinstance(i, dict)]

    def save(self, key: bytes, name: str, instance: dict) -> None:
        known = self.load(key)
        if instance in known:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".partial")
            with os.fdopen(fd, "w") as out:
                json.dump({"conjecture": name, "counterexamples": known + [instance]}, out, indent=1)
            os.replace(tmp, self._file(key))  # atomic: a reader sees the old list or the new one
        except OSError as error:
            raise ParameterError("database", f"a folder gradflow can write ({error.strerror})",
                                 str(self.folder)) from None


__all__ = ["FailureDatabase"]
