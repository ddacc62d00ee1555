"""``gradflow simulate MODEL --compare``: verdicts after the table, under "compare" in --json, exit 1 on a
failed law, and a clear error for a model (or method) without derived laws to compare."""

from __future__ import annotations

import json

import pytest

from gradflow.derivations.cli import main
from gradflow.derivations.contract import comparable_models
from gradflow.derivations.registry import get_model, models


def test_compare_prints_the_verdicts_after_the_table(capsys):
    assert main(["simulate", "am-orthogonal", "--compare"]) == 0
    out = capsys.readouterr().out
    table, _, verdicts = out.partition("compared with the derived laws:")
    assert "margins" in table and "[PASS] GD law m_T" in verdicts and "measured" in verdicts
    assert verdicts.rstrip().endswith("5 passed, 0 failed")


def test_compare_json_and_exit_1_when_a_law_fails(capsys):
    assert main(["simulate", "deep-linear", "--steps", "100", "--compare", "--json"]) == 1  # too short to learn
    result = json.loads(capsys.readouterr().out)
    assert result["compare"]["passed"] is False and "modes" in result
    failed = [v for v in result["compare"]["verdicts"] if not v["passed"]]
    assert len(failed) == 1 and "too short" in failed[0]["regime"] and failed[0]["error"] is None  # inf -> null


def test_compare_json_passes_on_the_default_flow(capsys):
    assert main(["simulate", "am-two-particle", "--method", "flow", "--compare", "--json"]) == 0
    verdicts = json.loads(capsys.readouterr().out)["compare"]["verdicts"]
    assert verdicts and all(v["passed"] and "predicted" in v and "regime" in v for v in verdicts)


@pytest.mark.parametrize("argv, needle", [
    (["simulate", "mlp", "--compare"], "one of am-orthogonal, am-two-particle, deep-linear (got 'mlp')"),
    (["simulate", "am-orthogonal", "--method", "sgd", "--compare"], "--method gd or flow for am-orthogonal"),
])
def test_compare_without_laws_is_bad_input_before_the_run(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--compare" in err and needle in err


def test_the_base_compare_raises_naming_the_models_that_support_it():
    entry = get_model("mlp")
    with pytest.raises(Exception) as caught:
        entry.compare(entry.settings({}), "gd", {})
    assert caught.value.parameter == "--compare" and "deep-linear" in str(caught.value)
    assert comparable_models() == sorted(n for n, m in models().items() if m.compare_methods)


def test_help_mentions_compare(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    assert "--compare" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["simulate", "deep-linear", "--help"])
    assert "--compare (with --method gd or flow): " in capsys.readouterr().out
