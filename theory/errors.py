"""Errors for bad input: each names the parameter and the constraint it broke."""

from __future__ import annotations

_SHOWN_ITEMS = 6  # a long sequence is shown by its first items


def printable(text) -> str:
    """``text`` with control characters and other unprintable ones escaped (a key typed on the command
    line may hold newlines or terminal escape sequences: they are shown, never sent to the terminal)."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def plain(value):
    """``value`` as the user wrote it: NumPy scalars and arrays as Python numbers and lists."""
    if isinstance(value, type):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        shown = [plain(v) for v in value[:_SHOWN_ITEMS]]
        if len(value) > _SHOWN_ITEMS:
            shown.append(...)
        return tuple(shown) if isinstance(value, tuple) else shown
    return value


def _shown(value) -> str:
    return printable(repr(plain(value)).replace("Ellipsis", "..."))


class ParameterError(ValueError):
    """A parameter value that breaks a stated constraint."""

    def __init__(self, parameter: str, constraint: str, value=None):
        self.parameter = printable(parameter)
        self.constraint = constraint
        self.value = value
        shown = "" if value is None else f" (got {_shown(value)})"
        super().__init__(f"{self.parameter}: must be {constraint}{shown}")


def require(condition: bool, parameter: str, constraint: str, value=None) -> None:
    if not condition:
        raise ParameterError(parameter, constraint, value)
