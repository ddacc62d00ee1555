"""The CLI as a newcomer meets it: usage without arguments, help on every option, ``list NAME``
generated from the declarations, default run lengths, a readable ``simulate``."""

import argparse
import json

import pytest

from gradflow.derivations.cli import COMMANDS, _parser, main
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


@pytest.mark.parametrize("name, method", [("am-orthogonal", "gd"), ("am-random", "gd"), ("am-random", "flow"),
                                          ("am-two-particle", "gd"), ("am-two-particle", "flow")])
def test_a_run_without_a_length_has_the_listed_default(capsys, name, method):
    entry = get_model(name)
    listed = entry.default_length[method]
    assert _simulate_json(capsys, name, "--method", method)["t"][-1] == pytest.approx(listed)
    # the declaration agrees with the model's own default (run() called without a length)
    own = entry.run(entry.settings(), method, None, None, "cpu", False)
    assert own["t"][-1] == pytest.approx(listed)


@pytest.mark.parametrize("name", ["confusion", "deep-linear"])
def test_declared_default_steps_are_the_models_own(name):
    entry = get_model(name)
    own = entry.run(entry.settings(), "gd", None, None, "cpu", False)
    assert own["params"]["steps"] == entry.default_length["gd"]


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
