"""The worked conjectures shipped with gradflow (package data: ``conjecture_examples/*.toml`` beside this module)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from gradflow.theory.errors import ParameterError


def _folder():
    return resources.files("gradflow.derivations") / "conjecture_examples"


def example_names() -> list[str]:
    return sorted(p.name[:-5] for p in _folder().iterdir() if p.name.endswith(".toml"))


def example_path(name: str) -> Path:
    """The path of the shipped example ``name`` (without .toml)."""
    names = example_names()
    if name not in names:
        raise ParameterError("--example", f"one of {', '.join(names)}", name)
    return Path(str(_folder() / f"{name}.toml"))


def example_summary(name: str) -> str:
    """The example's leading comment (what it claims and the expected verdict), as one line."""
    lines = []
    for line in example_path(name).read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(lines)


__all__ = ["example_names", "example_path", "example_summary"]
