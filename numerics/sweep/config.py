"""A sweep given as a TOML file (read with tomllib, never evaluated):

    target = "am-phase"
    seeds = 4
    base_seed = 0
    members_per_task = 65536
    [axes]
    eta = "0.1:10:log25"        # or a list of numbers: eta = [0.1, 1.0]
    p1 = [0.6, 0.7]
    [settings]
    steps = 1000
"""

from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

from gradflow.theory.errors import ParameterError, require

KEYS = {"target", "seeds", "base_seed", "members_per_task", "axes", "settings", "store"}


def load_config(path) -> dict:
    """The file's keys (target, axes, seeds, base_seed, members_per_task, settings, store), checked for
    unknown keys; values are checked later, with the target."""
    require(tomllib is not None, "--config", "used with Python >= 3.11 (tomllib)")
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ParameterError("--config", "a readable TOML file", str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError("--config", f"valid TOML ({' '.join(str(exc).split())})", str(path)) from exc
    unknown = sorted(set(data) - KEYS)
    require(not unknown, "--config", f"keys among {', '.join(sorted(KEYS))}", unknown)
    for key in ("axes", "settings"):
        require(isinstance(data.get(key, {}), dict), f"--config {key}", "a table")
    for name, value in data.get("axes", {}).items():
        ok = isinstance(value, str) or (isinstance(value, list) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))
        require(ok, f"axis {name}", "a text a:b:n, a:b:logn or v1,v2 or a list of numbers", value)
    return data
