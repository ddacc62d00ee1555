"""The contracts of the command: declared parameters, entries, experiments, families and the registry."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from gradflow.derivations import registry
from gradflow.derivations.cli import main
from gradflow.derivations.contract import Experiment, ModelEntry, Parameter
from gradflow.derivations.cost import Cost
from gradflow.theory.errors import ParameterError

ROOT = Path(__file__).resolve().parents[2]
SIZE = Parameter("N", "int", 6, "an integer >= 1", "number of inputs", lambda v: v >= 1)
RATES = Parameter("etas", "floats", (0.5, 5.0), "numbers > 0", "step sizes", lambda v: all(e > 0 for e in v))
KIND = Parameter("W0", "choice", "zero", "zero or random", "initial weights", choices=("zero", "random"))


@pytest.mark.parametrize("parameter, text, value", [
    (SIZE, "12", 12), (SIZE, " 3 ", 3), (RATES, "1,2.5", (1.0, 2.5)), (KIND, "random", "random"),
])
def test_parse(parameter, text, value):
    assert parameter.parse(text) == value


@pytest.mark.parametrize("parameter, text, needle", [
    (SIZE, "0", "N: must be an integer >= 1 (got 0)"),
    (SIZE, "1.5", "N: must be an integer"),
    (SIZE, "__import__('os')", "N: must be an integer"),
    (RATES, "1,nan", "etas: must be a comma list of finite numbers"),
    (RATES, "1,-2", "etas: must be numbers > 0"),
    (KIND, "ones", "W0: must be one of zero, random"),
])
def test_parse_errors_name_the_parameter(parameter, text, needle):
    with pytest.raises(ParameterError) as error:
        parameter.parse(text)
    assert needle in str(error.value)


@pytest.mark.parametrize("value, needle", [(True, "an integer"), ("6", "an integer"), (0, "an integer >= 1")])
def test_python_values_are_validated_too(value, needle):
    with pytest.raises(ParameterError, match=needle):
        SIZE.validate(value)


def test_numpy_scalars_are_accepted():
    assert SIZE.validate(np.int64(4)) == 4 and type(SIZE.validate(np.int64(4))) is int
    assert RATES.validate(np.array([1.0, 2.0]).tolist()) == (1.0, 2.0)


def test_a_bad_declaration_is_refused():
    with pytest.raises(ValueError, match="kind"):
        Parameter("x", "complex", 0, "")
    with pytest.raises(ValueError, match="choices"):
        Parameter("x", "choice", "a", "")


ENTRIES = list(registry.models().values())
EXPERIMENTS = list(registry.experiments().values())


@pytest.mark.parametrize("declared", ENTRIES + EXPERIMENTS, ids=lambda d: d.name)
def test_declarations_are_complete_and_defaults_valid(declared):
    assert declared.name and declared.summary and declared.backends
    names = [p.name for p in declared.parameters]
    assert len(names) == len(set(names)), names
    assert declared.settings() == {p.name: p.default for p in declared.parameters}
    for parameter in declared.parameters:
        assert parameter.validate(parameter.default) == parameter.default
    if isinstance(declared, ModelEntry):
        assert declared.methods and set(declared.cuda_methods) <= set(declared.methods)


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda e: e.name)
def test_experiment_parameters_are_its_fields(experiment):
    assert isinstance(experiment, Experiment)
    if not experiment.parameters:
        return
    fields = {f.name: f for f in dataclasses.fields(experiment)}
    for parameter in experiment.parameters:
        assert parameter.name in fields, parameter.name
        assert fields[parameter.name].default == parameter.default, parameter.name


def test_unknown_settings_are_errors():
    entry = registry.get_model("am-orthogonal")
    with pytest.raises(ParameterError, match="colour: must be a parameter of am-orthogonal"):
        entry.settings({"colour": 1})
    with pytest.raises(ParameterError, match="N: must be an integer >= 1"):
        entry.simulate({"N": 0})


def test_configured_experiment_takes_the_settings():
    experiment = registry.get_experiment("am-margins")
    configured = experiment.configured({"etas": (1.0, 2.0), "seed": 3})
    assert configured.etas == (1.0, 2.0) and configured.seed == 3 and configured.N == experiment.N
    with pytest.raises(ParameterError, match="etas"):
        experiment.configured({"etas": (0.0,)})


def test_every_family_folder_is_registered():
    folders = {p.parent.name for p in (ROOT / "derivations").glob("*/__init__.py") if not p.parent.name.startswith("_")}
    assert folders <= {family.name for family in registry.families()}


def test_list_json_is_generated_from_the_declarations(capsys):
    assert main(["list", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    entry = table["models"]["am-orthogonal"]
    assert entry["methods"] == ["gd", "flow", "sgd"] and entry["backends"] == ["cpu", "numpy", "cuda"]
    n = next(p for p in entry["parameters"] if p["name"] == "N")
    assert n == {"name": "N", "kind": "int", "default": 6, "constraint": "an integer >= 1", "help": "number of inputs x"}
    assert {p["name"] for p in table["experiments"]["am-margins"]["parameters"]} == {"N", "M", "zipf", "etas", "seed"}


def test_help_of_a_model_lists_its_parameters(capsys):
    with pytest.raises(SystemExit) as done:
        main(["simulate", "am-random", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for needle in ("am-random:", "W0", "zero or random", "methods (--method): gd, sgd, flow", "backends: cpu, numpy, cuda"):
        assert needle in text
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    assert "am-orthogonal" in capsys.readouterr().out


def test_help_of_an_experiment(capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "am-margins", "--help"])
    assert "etas" in capsys.readouterr().out


def test_undeclared_backend_is_refused(capsys):
    assert main(["simulate", "deep-linear", "--backend", "cuda"]) == 2
    assert "--backend: must be one of auto, cpu, numpy for deep-linear" in capsys.readouterr().err


class _Probe(ModelEntry):
    """Records the backend each run was given; its work is 10 operations per step."""
    name, summary, parameters = "probe", "a probe", (SIZE,)
    methods, backends, auto_numpy_methods = ("gd", "sgd"), ("cpu", "numpy"), ("gd",)
    default_length = {"gd": 10, "sgd": 10}

    def derivation(self):
        return None

    def checks(self, quick=True):
        return []

    def cost(self, settings, method, steps, t_end):
        return Cost(work=10.0 * steps)

    def run(self, settings, method, steps, t_end, backend, progress):
        return {"params": {"backend": backend}}


@pytest.mark.parametrize("method, steps, chosen, why", [
    ("gd", 10, "numpy", "auto: numpy, the estimated work (1e+02) is at most 1e+06"),
    ("gd", 10 ** 5, "numpy", "auto: numpy, the estimated work (1e+06) is at most 1e+06"),
    ("gd", 10 ** 5 + 1, "cpu", "auto: cpu, the estimated work (1e+06) is above 1e+06"),
    ("sgd", 10, "cpu", "auto: cpu, no NumPy run of sgd equal to the kernels'"),
])
def test_the_auto_backend_runs_small_work_in_numpy_where_numpy_runs_the_kernels_steps(method, steps, chosen, why):
    params = _Probe().simulate(method=method, steps=steps, backend="auto")["params"]
    assert params == {"backend": chosen, "backend_choice": why}
    assert _Probe().simulate(method=method, steps=steps)["params"] == {"backend": "cpu"}  # the API's default


def test_the_auto_backend_needs_a_work_estimate():
    class Unestimated(_Probe):
        cost = ModelEntry.cost

    assert Unestimated().simulate(backend="auto")["params"]["backend"] == "cpu"


def test_reproduce_takes_settings(capsys, tmp_path):
    assert main(["reproduce", "am-margins", "--set", "etas=0", "--out", str(tmp_path)]) == 2
    assert "etas: must be a comma list of numbers > 0" in capsys.readouterr().err
