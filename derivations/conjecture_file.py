"""A conjecture from a TOML file: the family, a law of its derivation or a named claim, the domain, the
run settings, the tolerance and the search budget.  Parsed with tomllib and validated field by field;
nothing in the file is evaluated.  A malformed file raises ParameterError naming the field::

    name = "orthogonal-margins"
    statement = "the orthogonal margins follow log(eta M p t)"
    family = "associative_memory"
    law = "gd_law"                 # or: claim = "loss_never_increases"
    tolerance = "derived"          # or a number >= 0
    [domain]                       # [low, high] (integers for an integer parameter), {low, high, scale = "log"},
    N = [2, 20]                    # ["a", "b"] (choices) or one value (fixed)
    eta = [0.01, 5.0]
    [run]                          # the claim's run settings
    steps = 20000
    [search]
    budget = 64                    # instances
    seed = 0
    max_time = 120                 # seconds (optional)
    batch = 16                     # instances per launch (optional; the claim's own by default)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gradflow.derivations.registry import get_claim
from gradflow.numerics.conjecture import Conjecture, domain_from_mapping
from gradflow.theory.errors import ParameterError, require

try:
    import tomllib
except ImportError:  # Python 3.10: no TOML reader in the standard library
    tomllib = None

TOP_KEYS = ("name", "statement", "family", "law", "claim", "tolerance", "domain", "run", "search")
SEARCH_KEYS = ("budget", "seed", "max_time", "batch")


@dataclass(frozen=True)
class Search:
    budget: int = 64
    seed: int = 0
    max_time: float | None = None


@dataclass(frozen=True)
class ConjectureFile:
    conjecture: Conjecture
    search: Search
    path: str


def _table(data: dict, key: str) -> dict:
    value = data.get(key, {})
    require(isinstance(value, dict), key, "a table ([" + key + "])", type(value).__name__)
    return value


def _text(data: dict, key: str, default: str = "") -> str:
    value = data.get(key, default)
    require(isinstance(value, str), key, "a string", value)
    return value


def _search(table: dict) -> tuple[Search, int | None]:
    for key in table:
        require(key in SEARCH_KEYS, f"search.{key}", f"one of {', '.join(SEARCH_KEYS)}", key)

    def integer(key, default, low):
        value = table.get(key, default)
        require(value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= low),
                f"search.{key}", f"an integer >= {low}", value)
        return value

    max_time = table.get("max_time")
    require(max_time is None or (isinstance(max_time, (int, float)) and not isinstance(max_time, bool)
                                 and max_time > 0), "search.max_time", "a number of seconds > 0", max_time)
    return (Search(integer("budget", 64, 1), integer("seed", 0, 0), None if max_time is None else float(max_time)),
            integer("batch", None, 1))


def parse(data: dict, source: str = "", stem: str = "conjecture") -> ConjectureFile:
    """The conjecture a parsed TOML document declares (see the module docstring)."""
    for key in data:
        require(key in TOP_KEYS, key, f"one of the keys {', '.join(TOP_KEYS)}", key)
    family = _text(data, "family")
    require(bool(family), "family", "given: the model family the conjecture is about")
    require(("law" in data) != ("claim" in data), "law", "given, or claim, but one of them")
    is_law = "law" in data
    claim = get_claim(family, _text(data, "law" if is_law else "claim"), is_law)
    domain = domain_from_mapping(_table(data, "domain"))
    search, batch = _search(_table(data, "search"))
    conj = claim.conjecture(domain, _table(data, "run"), data.get("tolerance"), name=_text(data, "name", stem),
                            statement=_text(data, "statement"), source=source, batch=batch)
    return ConjectureFile(conj, search, source)


def load(path) -> ConjectureFile:
    """Read and parse a TOML conjecture file (errors name the field, or the file)."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ParameterError("FILE", f"a readable TOML file ({getattr(error, 'strerror', None) or error})",
                             str(path)) from None
    return loads(text, str(path), path.stem)


def loads(text: str, source: str = "<string>", stem: str = "conjecture") -> ConjectureFile:
    require(tomllib is not None, "FILE", "read with Python >= 3.11 (tomllib); from Python 3.10 declare the "
            "conjecture in Python", source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ParameterError("FILE", f"valid TOML ({error})", source) from None
    return parse(data, source, stem)


__all__ = ["ConjectureFile", "Search", "load", "loads", "parse"]
