"""The CLI as a newcomer meets it: usage without arguments, help on every option, ``list NAME``
generated from the declarations, default run lengths, a readable ``simulate``."""

import argparse
import json

import pytest

from gradflow.derivations.cli import COMMANDS, _parser, main
from gradflow.derivations.contract import ModelEntry
from gradflow.derivations.registry import experiments, get_model, models


def test_no_arguments_prints_the_usage_and_every_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gradflow")
    for command in COMMANDS:
        assert f"\n    {command}" in out, command


def _parsers(parser, path=("gradflow",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, (*path, name))


def test_every_option_and_command_has_help():
    missing = []
    for path, parser in _parsers(_parser()):
        for action in parser._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{' '.join(path)} {c.dest}" for c in action._choices_actions if not c.help]
    assert not missing, missing
    assert len(list(_parsers(_parser()))) >= 12  # the walk reaches the sub-commands, sweep's included


@pytest.mark.parametrize("name", sorted(models()))
def test_list_model_shows_each_declaration(capsys, name):
    assert main(["list", name]) == 0
    out = capsys.readouterr().out
    entry = models()[name]
    for parameter in entry.parameters:
        assert f"  {parameter.name} " in out and parameter.constraint in out and parameter.help in out
    for method in entry.methods:
        assert f"  {method:12s} {entry.length_text(method)}" in out


def test_list_experiment_shows_its_parameters(capsys):
    assert main(["list", "am-margins"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("experiment am-margins:")
    assert all(p.name in out and p.constraint in out for p in experiments()["am-margins"].parameters)


def test_list_json_is_the_declarations(capsys):
    assert main(["list", "am-random", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    entry = get_model("am-random")
    assert out["name"] == "am-random" and "experiment" not in out
    assert out["model"]["parameters"] == [p.describe() for p in entry.parameters]
    assert out["model"]["default_length"] == {"gd": 200, "sgd": 200, "flow": 10.0}


def test_list_unknown_name_is_bad_input(capsys):
    assert main(["list", "no-such-model"]) == 2
    assert "NAME: must be a model or experiment" in capsys.readouterr().err


def _simulate_json(capsys, *argv):
    assert main(["simulate", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


LONG_DEFAULTS = {("am-two-particle", "gd"), ("am-two-particle", "flow")}  # a minute from an empty cache
NUMBERS = [pytest.param(name, method, marks=[pytest.mark.long] if (name, method) in LONG_DEFAULTS else [])
           for name, entry in sorted(models().items())
           for method, declared in entry.default_length.items() if not isinstance(declared, str)]


class _Probe(ModelEntry):
    """Reports the length run() was given."""
    name, summary, methods = "probe", "the length run() receives", ("gd", "flow", "newton")
    default_length = {"gd": 7, "flow": 2.5, "newton": "until converged"}

    def derivation(self):
        return None

    def checks(self, quick=True):
        return []

    def run(self, settings, method, steps, t_end, backend, progress):
        return {"steps": steps, "t_end": t_end}


def test_simulate_fills_in_a_declared_number_and_nothing_else():
    probe = _Probe()
    assert probe.simulate() == {"steps": 7, "t_end": None}
    assert probe.simulate(method="flow") == {"steps": None, "t_end": 2.5}
    assert probe.simulate(steps=3) == {"steps": 3, "t_end": None}
    assert probe.simulate(method="newton") == {"steps": None, "t_end": None}  # a text is only shown
    assert "  flow         --t-end 2.5" in probe.help_text() and "until converged" in probe.help_text()


def test_the_cli_runs_the_listed_default_length(capsys):
    result = _simulate_json(capsys, "am-random", "--method", "flow")
    assert result["t"][-1] == get_model("am-random").default_length["flow"] == 10.0


@pytest.mark.parametrize("name, method", NUMBERS)
def test_a_declared_default_length_is_the_models_own(name, method):
    """run() without a length (bypassing the declaration) runs as long as `gradflow list` says."""
    entry = get_model(name)
    own = entry.run(entry.settings(), method, None, None, "cpu", False)
    length = own["t"][-1] if "t" in own else own["params"]["steps"]
    assert length == pytest.approx(entry.default_length[method])


def test_every_model_declares_a_default_length_for_each_method():
    for entry in models().values():
        assert set(entry.default_length) == set(entry.methods), entry.name
        for method, declared in entry.default_length.items():
            assert isinstance(declared, (int, float, str)) and not isinstance(declared, bool), (entry.name, method)
            assert entry.length_text(method)


def test_simulate_prints_a_short_table_and_json_has_everything(capsys):
    argv = ["simulate", "am-orthogonal", "--set", "N=40", "--steps", "20"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 100 and len(lines) <= 12, lines
    assert any(line.startswith("margins ") and "40 values: min" in line for line in lines)
    assert any(line.startswith("loss ") for line in lines) and "p=[" in lines[0] and "(40 values)" in lines[0]
    full = _simulate_json(capsys, *argv[1:])
    assert len(full["margins"][-1]) == 40 and len(full["params"]["p"]) == 40 and len(full["t"]) == 21
