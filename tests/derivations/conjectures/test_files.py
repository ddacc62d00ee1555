"""Conjecture files: validated field by field (exit 2 naming the field), nothing evaluated; the claims'
numbers against independent oracles, and claims that can fail do fail."""

import numpy as np
import pytest

from gradflow.derivations.associative_memory.instances import zipf_probabilities
from gradflow.derivations.associative_memory.oracles import margin_map_numpy
from gradflow.derivations.cli import main
from gradflow.derivations.conjecture_file import loads
from gradflow.derivations.registry import get_claim
from gradflow.derivations.mlp import conjectures as mlp_claims
from gradflow.derivations.associative_memory.conjectures import derived_tolerance
from gradflow.numerics.conjecture import falsify

GOOD = """
family = "two_particle"
claim = "loss_never_increases"
[domain]
p1 = [0.5, 0.9]
eta = [0.1, 1.0]
labels = "opposite"
[run]
steps = 20
"""


def cli_error(tmp_path, capsys, text, *extra):
    path = tmp_path / "c.toml"
    path.write_text(text)
    code = main(["conjecture", str(path), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("text, field", [
    ('family = "two_particle"\nclaim = "loss_never_increases"\ncolour = 1\n', "colour"),
    ('claim = "loss_never_increases"\n', "family"),
    ('family = "nope"\nclaim = "x"\n', "family"),
    ('family = "two_particle"\nclaim = "gd_law"\n', "claim"),
    ('family = "associative_memory"\nlaw = "flow_law_typo"\n', "law"),
    ('family = "two_particle"\n', "law"),
    ('family = "two_particle"\nclaim = "loss_never_increases"\n[domain]\neta = [0.0, 5000.0]\n', "domain.eta"),
    ('family = "two_particle"\nclaim = "loss_never_increases"\n[domain]\nq = [0.0, 1.0]\n', "domain.q"),
    ('family = "two_particle"\nclaim = "loss_never_increases"\n[domain]\nlabels = ["up"]\n', "domain.labels"),
    ('family = "associative_memory"\nlaw = "gd_law"\n[domain]\nN = [2.0, 5.0]\n', "domain.N"),
    ('family = "two_particle"\nclaim = "loss_never_increases"\n[run]\nsteps = 0\n', "run.steps"),
    ('family = "two_particle"\nclaim = "loss_never_increases"\n[run]\nstep = 5\n', "run.step"),
    ('family = "two_particle"\nclaim = "loss_never_increases"\ntolerance = "derived"\n', "tolerance"),
    ('family = "two_particle"\nclaim = "loss_never_increases"\n[search]\nbudget = -3\n', "search.budget"),
    ('family = "two_particle"\nclaim = "loss_never_increases"\nrun = 3\n', "run"),
    ('family = "two_particle"\nclaim = = "x"\n', "FILE"),
])
def test_malformed_file_exits_2_naming_the_field(tmp_path, capsys, text, field):
    err = cli_error(tmp_path, capsys, text)
    assert err.startswith(f"gradflow: error: {field}: must be"), err


def test_missing_file_and_bad_options(tmp_path, capsys):
    assert main(["conjecture", str(tmp_path / "absent.toml")]) == 2
    assert "FILE: must be a readable TOML file" in capsys.readouterr().err
    assert "--budget: must be" in cli_error(tmp_path, capsys, GOOD, "--budget", "0")
    assert "--at eta: must be in [0.1, 1]" in cli_error(tmp_path, capsys, GOOD, "--at", "p1=0.6", "--at", "eta=7")
    assert "--at labels: must be not set" in cli_error(tmp_path, capsys, GOOD, "--at", "labels=same")
    assert "--at eta: must be a finite number" in cli_error(tmp_path, capsys, GOOD, "--at", "p1=0.6", "--at", "eta=__import__")
    assert main(["conjecture", "--example", "nope"]) == 2
    assert "--example: must be one of" in capsys.readouterr().err


def test_text_is_never_evaluated(tmp_path, capsys):
    err = cli_error(tmp_path, capsys, 'family = "two_particle"\nclaim = "__import__(\'os\').system(\'false\')"\n')
    assert err.startswith("gradflow: error: claim: must be one of the claims of two_particle")


@pytest.mark.long  # about 10-20 s from an empty cache: not in the quick subset
def test_file_defaults_fill_the_domain_and_settings():
    spec = loads(GOOD, stem="mine")
    conj = spec.conjecture
    assert conj.name == "mine" and conj.settings["steps"] == 20 and spec.search.budget == 64
    assert conj.domain["alpha"].low == -1.0 and conj.domain.fixed == {"labels": "opposite"}
    assert loads(GOOD.replace("eta = [0.1, 1.0]", "eta = [1, 3]")).conjecture.domain["eta"].kind == "float"
    verdict = falsify(conj, budget=16, seed=0)  # eta <= 1 < 2 / sharpness(0): stable, the loss decreases
    assert not verdict.falsified and verdict.instances == 16


def test_derived_tolerance_against_the_numpy_margin_map():
    """The gd_law claim at one instance, recomputed with the NumPy oracle of the margin map."""
    T, M, eta = 5000, 7, 0.8
    p = zipf_probabilities(5, 1.3)
    m = margin_map_numpy(p, M, eta, T, [T])[-1]
    tol, in_regime = derived_tolerance(T, p, np.full(5, float(M)), np.full(5, eta))
    assert in_regime.all() and np.all(np.abs(m - np.log(eta * M * p * T)) <= tol)
    conj = get_claim("associative_memory", "gd_law", True).conjecture(run={"steps": T})
    outcome = conj.check({"N": 5, "M": M, "eta": eta, "zipf": 1.3})
    assert outcome.holds and np.isclose(outcome.measured, m[outcome.detail["input"]], rtol=1e-12)


def test_a_too_tight_law_tolerance_is_falsified():
    conj = get_claim("associative_memory", "gd_law", True).conjecture(run={"steps": 200}, tolerance=1e-3)
    verdict = falsify(conj, budget=32, seed=0)
    assert verdict.falsified and abs(verdict.outcome.measured - verdict.outcome.claimed) > 1e-3


@pytest.mark.long  # about 10-20 s from an empty cache: not in the quick subset
def test_duplication_claim_detects_a_non_critical_split(monkeypatch):
    """The claim measures the split point's gradient: a split that moves the copy off the critical point fails."""
    split = mlp_claims.split_neuron

    def off_by_a_bit(net, theta, layer, i, gamma):
        wide, th = split(net, theta, layer, i, gamma)
        return wide, th + 1e-3

    conj = get_claim("mlp", "duplication_is_critical", False).conjecture()
    instance = {"n0": 1, "depth": 1, "width": 2, "n_out": 1, "activation": "softplus", "layer": 1, "neuron": 0,
                "gamma": 0.3, "seed": 4}
    assert conj.check(instance).holds
    monkeypatch.setattr(mlp_claims, "split_neuron", off_by_a_bit)
    assert conj.check(instance).holds is False
