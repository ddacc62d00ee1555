"""The contracts of the ``gradflow`` command: a model entry, an experiment, and a family of them.

Each entry and experiment declares its parameters (name, kind, default, constraint, help), its
methods and its backends.  The CLI's help, its validation of ``--set KEY=VALUE`` and ``gradflow
list --json`` are generated from these declarations, and validation happens here, once: a
simulator or experiment receives settings that are complete and valid.  A model family is one
folder of ``derivations/`` exporting a :class:`Family`, plus one line in ``registry.py``.

No user text reaches eval or sympify: values are parsed as numbers, comma lists of numbers or
members of a fixed set of names.
"""

from __future__ import annotations

import dataclasses
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from gradflow.derivations.cost import Cost, refuse_if_too_costly
from gradflow.derivations.figure_style import figure_style
from gradflow.theory.errors import ParameterError, require

KINDS = {"int": "an integer", "float": "a finite number", "floats": "a comma list of finite numbers",
         "ints": "a comma list of integers", "choice": "one of the listed names",
         "grammar": "a text in the parameter's own grammar"}


_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


MAX_STEPS = 10 ** 15  # a step count far beyond any run that ends; above it step counters would overflow


def _anything(value) -> bool:
    return True


def _number(text: str, pattern: re.Pattern, kind: type):
    """``kind(text)`` if ``text`` is a plain ASCII number (Python alone would also take '1_0', '\uff15',
    'inf' and 'nan'), a finite one."""
    if not pattern.fullmatch(text):
        raise ValueError
    value = kind(text)
    if kind is float and not math.isfinite(value):  # 1e999
        raise ValueError
    return value


@dataclass(frozen=True)
class Parameter:
    """One declared parameter: ``--set NAME=VALUE`` on the command line, ``{NAME: value}`` from Python.

    ``constraint`` says in words what ``check`` accepts ("an integer >= 1"); it is the text of the
    error a bad value gets.  ``default`` None means "not set" (e.g. ``p``, which overrides ``zipf``)."""

    name: str
    kind: str  # "int", "float", "floats" (tuple of floats), "ints" (tuple of ints), "choice" or "grammar"
    default: Any
    constraint: str
    help: str = ""
    check: Callable[[Any], bool] = _anything
    choices: tuple = ()
    # kind "grammar": text -> its canonical text, raising ParameterError (naming the token) on bad text
    grammar: Callable[[str], str] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Parameter {self.name}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"Parameter {self.name}: a choice needs its choices")
        if (self.kind == "grammar") != (self.grammar is not None):
            raise ValueError(f"Parameter {self.name}: kind grammar goes with a grammar function, and only it")

    def parse(self, text: str):
        """The value of command-line text, validated.  Numbers are plain ASCII decimals (no digit
        separators, no other scripts' digits): what is not written as a number is not a number."""
        text = text.strip()
        if self.kind == "grammar":
            return self.validate(text)
        try:
            if self.kind == "int":
                value = _number(text, _INT, int)
            elif self.kind == "float":
                value = _number(text, _FLOAT, float)
            elif self.kind == "floats":
                value = tuple(_number(v.strip(), _FLOAT, float) for v in text.split(","))
            elif self.kind == "ints":
                value = tuple(_number(v.strip(), _INT, int) for v in text.split(","))
            else:
                if text not in self.choices:
                    raise ValueError
                value = text
        except ValueError:
            expected = f"one of {', '.join(self.choices)}" if self.kind == "choice" else KINDS[self.kind]
            raise ParameterError(self.name, expected, text) from None
        return self.validate(value)

    def validate(self, value):
        """``value`` (None stays None: not set) if it has the declared kind and meets the constraint."""
        if value is None:
            return None
        if self.kind == "int":
            require(isinstance(value, int) and not isinstance(value, bool) or _integral(value), self.name,
                    "an integer", value)
            value = int(value)
        elif self.kind == "float":
            require(_real(value) and math.isfinite(float(value)), self.name, "a finite number", value)
            value = float(value)
        elif self.kind == "floats":
            values = tuple(value) if isinstance(value, (tuple, list)) else None
            require(values is not None and all(_real(v) and math.isfinite(float(v)) for v in values), self.name,
                    "a list of finite numbers", value)
            value = tuple(float(v) for v in values)
        elif self.kind == "ints":
            values = tuple(value) if isinstance(value, (tuple, list)) else None
            require(values is not None and all(isinstance(v, int) and not isinstance(v, bool) or _integral(v)
                                               for v in values), self.name, "a list of integers", value)
            value = tuple(int(v) for v in values)
        elif self.kind == "grammar":
            value = self.grammar(value)
        else:
            require(value in self.choices, self.name, f"one of {', '.join(self.choices)}", value)
        if not self.check(value):
            raise ParameterError(self.name, self.constraint, value)
        return value

    def describe(self) -> dict:
        """JSON-ready declaration (``gradflow list --json``)."""
        default = list(self.default) if isinstance(self.default, tuple) else self.default
        out = {"name": self.name, "kind": self.kind, "default": default, "constraint": self.constraint,
               "help": self.help}
        if self.choices:
            out["choices"] = list(self.choices)
        return out


def _real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or _is_numpy_real(value)


def _is_numpy_real(value) -> bool:
    return isinstance(value, (np.integer, np.floating))


def _integral(value) -> bool:
    return _is_numpy_real(value) and float(value).is_integer()


class Declared:
    """What entries and experiments share: a name, a summary, declared parameters and backends."""

    name: ClassVar[str]
    summary: ClassVar[str]
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    backends: ClassVar[tuple[str, ...]] = ("cpu",)

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise ParameterError(name, f"a parameter of {self.name}: one of {', '.join(p.name for p in self.parameters)}")

    def settings(self, given: Mapping[str, Any] | None = None) -> dict:
        """The declared defaults overridden by ``given``, each value validated; unknown names are errors."""
        given = dict(given or {})
        for name in given:
            self.parameter(name)
        return {p.name: p.validate(given[p.name]) if p.name in given else p.default for p in self.parameters}

    def parse_settings(self, pairs: list[str]) -> dict:
        """Settings from ``KEY=VALUE`` strings (the command line): each key at most once."""
        given: dict[str, Any] = {}
        names = {p.name for p in self.parameters}
        for pair in pairs:
            name, sep, text = pair.partition("=")
            if not sep:
                raise ParameterError("--set", "of the form KEY=VALUE", pair)
            name = name.strip()
            if name not in names:
                raise ParameterError(name, f"a known key: one of {', '.join(p.name for p in self.parameters)}")
            if name in given:
                raise ParameterError(name, "given once (it is set twice)", text)
            given[name] = self.parameter(name).parse(text)
        self.check_given(given)
        return self.settings(given)

    def check_given(self, given: dict) -> None:
        """Constraints on which parameters are given together (e.g. two ways to say the same thing)."""

    def require_backend(self, backend: str) -> None:
        """``backend`` is declared; for cuda, a GPU (or numba's simulator) must also be there."""
        require(backend in self.backends, "--backend", f"one of {', '.join(self.backends)} for {self.name}", backend)
        if backend == "cuda":
            from gradflow.numerics.drivers.cuda import require_cuda

            require_cuda()

    def describe(self) -> dict:
        return {"summary": self.summary, "parameters": [p.describe() for p in self.parameters],
                "backends": list(self.backends)}

    def help_text(self) -> str:
        """The generated ``--help`` of this entry or experiment."""
        lines = [f"{self.name}: {self.summary}", ""]
        if self.parameters:
            lines.append("parameters (--set NAME=VALUE):")
            for p in self.parameters:
                default = "not set" if p.default is None else (
                    ",".join(f"{v:g}" for v in p.default) if p.kind in ("floats", "ints") else str(p.default))
                lines.append(f"  {p.name:12s} {p.kind:6s} default {default}; {p.constraint}")
                if p.help:
                    lines.append(f"  {'':12s} {p.help}")
        extra = self._help_extra()
        lines += extra + [f"backends: {', '.join(self.backends)}"]
        return "\n".join(lines)

    def _help_extra(self) -> list[str]:
        return []


AUTO = "auto"  # --backend auto: chosen from the estimated work (ModelEntry.backend_for_work)
SMALL_WORK = 1e6  # operations: below this a NumPy run ends before compiled kernels would have loaded


class ModelEntry(Declared, ABC):
    """A model of ``gradflow derive | simulate | check``.

    Subclasses declare ``name``, ``summary``, ``parameters``, ``methods`` (the first is the default)
    and ``backends``, and implement :meth:`derivation`, :meth:`run` and :meth:`checks`."""

    methods: ClassVar[tuple[str, ...]] = ("gd",)
    backends: ClassVar[tuple[str, ...]] = ("cpu", "numpy")
    cuda_methods: ClassVar[tuple[str, ...]] = ("gd",)  # methods the cuda backend runs, when it is declared
    # method -> the length of a run given neither --steps nor --t-end: a number is the steps (for
    # flow, the t-end) passed to run(); a text describes a length the model computes from its settings
    default_length: ClassVar[Mapping[str, int | float | str]] = {}
    # the methods whose runs compare() holds against the derived laws (``simulate --compare``); an
    # entry that declares some overrides compare() and says in compare_help what it compares
    compare_methods: ClassVar[tuple[str, ...]] = ()
    compare_help: ClassVar[str] = ""
    # methods whose numpy backend runs the same steps as the compiled kernels (equal to rounding): the ones
    # --backend auto may run in NumPy (not SGD, whose minibatches each backend draws its own way)
    auto_numpy_methods: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def derivation(self):
        """The model's derivation (a gradflow.theory.Derivation with typed fields)."""

    @abstractmethod
    def run(self, settings: dict, method: str, steps: int | None, t_end: float | None, backend: str,
            progress: bool) -> dict:
        """JSON-ready dict: 'params', 't', one list per observable.  ``settings`` are complete and valid."""

    @abstractmethod
    def checks(self, quick: bool = True) -> list:
        """gradflow.numerics.Verdict list: theory against simulation."""

    def require_compare(self, method: str | None) -> None:
        """Before the run: ``--compare`` has derived laws to hold this model's ``method`` run against."""
        if not self.compare_methods:
            raise ParameterError("--compare", "used with a model whose derived laws it compares: one of "
                                 + ", ".join(comparable_models()), self.name)
        method = self.methods[0] if method is None else method
        require(method in self.compare_methods, "--compare",
                f"used with --method {' or '.join(self.compare_methods)} for {self.name}", method)

    def compare(self, settings: Mapping[str, Any], method: str, result: dict) -> list:
        """gradflow.numerics.Verdict list: every derived law that applies to ``method`` and ``settings``
        against the observables ``result`` (what :meth:`simulate` returned) recorded.  Each verdict
        holds the measured and predicted values, the error, a tolerance the run can fail (from the
        law's error term at the run's length) and the regime, or why the run is outside it.
        Entries that declare ``compare_methods`` implement it; here it raises a ParameterError."""
        self.require_compare(method)
        raise NotImplementedError(f"{self.name} declares compare_methods but does not implement compare")

    def backends_for(self, method: str) -> tuple[str, ...]:
        """The backends that run ``method``: every declared one, cuda only for ``cuda_methods``."""
        return tuple(b for b in self.backends if b != "cuda" or method in self.cuda_methods)

    def cost(self, settings: dict, method: str, steps: int | None, t_end: float | None) -> Cost:
        """What the run will take, estimated from the settings before it starts (work, peak memory).
        The default, no estimate, refuses nothing; entries whose runs can grow large override it."""
        return Cost()

    def simulate(self, settings: Mapping[str, Any] | None = None, method: str | None = None, steps: int | None = None,
                 t_end: float | None = None, backend: str = "cpu", progress: bool = False, force: bool = False) -> dict:
        """Validate once (declared parameters, method, backend, length), refuse what cannot end well
        (memory beyond what is available; work beyond the limit unless ``force``), then :meth:`run`.
        ``backend="auto"`` (the command line's default) chooses from the estimated work
        (:meth:`backend_for_work`) and says why in ``params["backend_choice"]``.

        NumPy's floating-point warnings are silenced inside the run: its result is checked instead (a
        non-finite recorded value is a DivergenceError naming the step and the quantity)."""
        settings = self.settings(settings)
        method = self.methods[0] if method is None else method
        require(method in self.methods, "--method", f"one of {', '.join(self.methods)} for {self.name}", method)
        require(backend == AUTO or backend in self.backends, "--backend",
                f"one of {', '.join((AUTO,) + self.backends)} for {self.name}", backend)
        allowed = self.backends_for(method)
        if backend != AUTO and backend not in allowed:
            why = f" (cuda runs {', '.join(self.cuda_methods)})" if "cuda" in self.backends else ""
            raise ParameterError("--backend", f"{' or '.join(allowed)} with --method {method}{why}", backend)
        if steps is not None:
            require(not isinstance(steps, bool) and int(steps) == steps and 0 <= steps <= MAX_STEPS, "--steps",
                    f"an integer in [0, {MAX_STEPS:.0e}]", steps)
            steps = int(steps)
        if t_end is not None:
            require(math.isfinite(t_end) and t_end > 0, "--t-end", "a number > 0", t_end)
        if method == "flow":
            require(steps is None, "--steps", "not used with --method flow (give --t-end)")
        else:
            require(t_end is None, "--t-end", "used only with --method flow (give --steps)")
        steps, t_end = self._length(method, steps, t_end)
        cost = self.cost(settings, method, steps, t_end)
        refuse_if_too_costly(cost, settings, "--t-end" if method == "flow" else "--steps", force)
        choice = None
        if backend == AUTO:
            backend, choice = self.backend_for_work(method, cost)
        self.require_backend(backend)
        with np.errstate(all="ignore"):
            result = self.run(settings, method, steps, t_end, backend, progress)
        if choice is not None:
            result["params"]["backend_choice"] = choice
        return result

    def backend_for_work(self, method: str, cost: Cost) -> tuple[str, str]:
        """``--backend auto``: (the backend, why).  NumPy for ``auto_numpy_methods`` where the estimated work is
        at most ``SMALL_WORK``: such a run takes less time in NumPy than loading the compiled kernels from their
        cache (about 0.3 s, most of it Numba's own start); otherwise the compiled CPU kernels."""
        if method not in self.auto_numpy_methods or "numpy" not in self.backends_for(method):
            return "cpu", f"auto: cpu, no NumPy run of {method} equal to the kernels'"
        if not cost.work > 0:
            return "cpu", "auto: cpu, no work estimate"
        if cost.work > SMALL_WORK:
            return "cpu", f"auto: cpu, the estimated work ({cost.work:.2g}) is above {SMALL_WORK:.0e}"
        return "numpy", f"auto: numpy, the estimated work ({cost.work:.2g}) is at most {SMALL_WORK:.0e}"

    def _length(self, method: str, steps: int | None, t_end: float | None) -> tuple:
        """``(steps, t_end)`` with the declared default length filled in when neither is given."""
        declared = self.default_length.get(method)
        if steps is None and t_end is None and isinstance(declared, (int, float)):
            return (None, float(declared)) if method == "flow" else (int(declared), None)
        return steps, t_end

    def length_text(self, method: str) -> str:
        """The length of a ``method`` run given neither --steps nor --t-end, in words."""
        declared = self.default_length.get(method)
        if isinstance(declared, str):
            return declared
        if declared is None:
            return "chosen by the model from its settings"
        return f"--t-end {declared:g}" if method == "flow" else f"--steps {declared}"

    def describe(self) -> dict:
        return {**super().describe(), "methods": list(self.methods),
                "default_length": {m: self.default_length.get(m) for m in self.methods}}

    def _help_extra(self) -> list[str]:
        lengths = [f"  {m:12s} {self.length_text(m)}" for m in self.methods]
        compared = ([f"--compare (with --method {' or '.join(self.compare_methods)}): {self.compare_help}"]
                    if self.compare_methods else [])
        return [f"methods (--method): {', '.join(self.methods)} (default {self.methods[0]})",
                "default length (without --steps or --t-end):"] + lengths + compared


def comparable_models() -> list[str]:
    """The names of the model entries (of the families imported so far) that ``--compare`` runs against
    their derived laws."""
    found, pending = [], list(ModelEntry.__subclasses__())
    while pending:
        cls = pending.pop(0)
        pending += cls.__subclasses__()
        if cls.compare_methods and getattr(cls, "name", None) and cls.name not in found:
            found.append(cls.name)
    return sorted(found)


class Experiment(Declared, ABC):
    """A reproduction of ``gradflow reproduce``: a frozen dataclass whose fields are its parameters.

    Subclasses declare ``name``, ``summary``, ``parameters`` (each one a dataclass field with the
    same default) and ``backends``, and implement :meth:`run`."""

    @abstractmethod
    def run(self, quick: bool = False, progress: bool = False, backend: str = "cpu"):
        """A gradflow.derivations.report.Reproduction, from this experiment's fields."""

    def configured(self, settings: Mapping[str, Any] | None = None):
        """A copy with the (validated) settings as its fields."""
        return dataclasses.replace(self, **self.settings(settings)) if self.parameters else self

    def reproduce(self, settings: Mapping[str, Any] | None = None, quick: bool = False, progress: bool = False,
                  backend: str = "cpu"):
        """Validate once, then :meth:`run` the configured copy; its figures are built in gradflow's
        figure style (gradflow.derivations.figure_style)."""
        self.require_backend(backend)
        with figure_style():
            result = self.configured(settings).run(quick=quick, progress=progress, backend=backend)
        if quick and hasattr(result, "quick"):  # a Reproduction: its report's first line says it is quick
            result.quick = True
        return result


@dataclass(frozen=True)
class Family:
    """What a folder of derivations/ offers the command: its entries, its experiments and the check
    suites it adds to other families' models (name -> callable(quick) -> verdicts), its sweep
    targets (``gradflow sweep run``: numerics.sweep.SweepTarget objects) and the claims a conjecture
    may state about it (``gradflow conjecture``: gradflow.derivations.claim.Claim objects)."""

    name: str
    entries: tuple = ()
    experiments: tuple = ()
    contributed_checks: Mapping[str, Callable[[bool], list]] = field(default_factory=dict)
    sweep_targets: tuple = ()
    claims: tuple = ()
