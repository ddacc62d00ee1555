"""derivations.am_transformer: the optional PyTorch check that W_O^2 of a Transformer is an associative memory.

The no-torch path is always tested (torch is hidden even where it is installed); the data, mask and
margin helpers are numpy only; the quick run needs torch and is skipped without it."""

import importlib.util

import numpy as np
import pytest

from gradflow.derivations.am_transformer import FAMILY, AmTransformer
from gradflow.derivations.am_transformer import observables, task as bigram
from gradflow.derivations.am_transformer.figures import run_key
from gradflow.theory.errors import ParameterError

AM_TRANSFORMER = AmTransformer()

# torch is an optional extra and CI does not install it: the quick run is skipped there, visibly, with the
# way to run it (pytest prints the reason with -rs, which the project's addopts turn on)
requires_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="torch not installed: the am-transformer quick run needs the [torch] extra; to run it: "
           "pip install torch --index-url https://download.pytorch.org/whl/cpu && "
           "pytest tests/derivations/am_transformer -rs")


@pytest.fixture
def no_torch(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            return None
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_without_torch_run_raises_one_line_parameter_error(no_torch):
    assert FAMILY.experiments == (AM_TRANSFORMER,) and AM_TRANSFORMER.name == "am-transformer"
    with pytest.raises(ParameterError) as info:
        AM_TRANSFORMER.run(quick=True)
    message = str(info.value)
    assert "gradflow[torch]" in message and "am-transformer" in message and "\n" not in message


def test_without_torch_the_cli_exits_2_with_one_line(no_torch, tmp_path, capsys):
    from gradflow.derivations import registry
    from gradflow.derivations.cli import main

    if "am-transformer" not in registry.experiments():
        pytest.skip("am-transformer is not registered in derivations/registry.py yet")
    assert main(["reproduce", "am-transformer", "--quick", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "gradflow[torch]" in err and err.count("\n") == 1


def test_task_and_batches_are_deterministic_for_a_seed():
    a, b, c = bigram.make_task(seed=3), bigram.make_task(seed=3), bigram.make_task(seed=4)
    assert a.N == 65 and a.triggers.shape == (5,)
    np.testing.assert_array_equal(a.transition, b.transition)
    assert not np.array_equal(a.transition, c.transition)
    np.testing.assert_allclose(a.transition.sum(1), 1.0)
    np.testing.assert_allclose(a.marginal @ a.transition, a.marginal, atol=1e-12)  # stationary
    assert set(a.triggers) == set(np.argsort(-a.marginal)[:5])
    z1, o1 = bigram.sample_batch(a, 4, 256, np.random.default_rng(7))
    z2, o2 = bigram.sample_batch(a, 4, 256, np.random.default_rng(7))
    np.testing.assert_array_equal(z1, z2)
    np.testing.assert_array_equal(o1, o2)
    assert z1.shape == (4, 256) and o1.shape == (4, 5) and z1.min() >= 0 and z1.max() < 65


def test_triggers_are_always_followed_by_their_sequence_output_and_copy_mask():
    task = bigram.make_task(seed=0)
    z, outputs = bigram.sample_batch(task, 6, 256, np.random.default_rng(1))
    for b in range(6):
        for j, q in enumerate(task.triggers):
            after = z[b, 1:][z[b, :-1] == q]
            assert np.all(after == outputs[b, j])
    mask = bigram.copy_mask(task, z)
    assert mask.shape == (6, 255) and mask.any()
    # hand check on one row: position t is a copy position iff z_t is a trigger seen before t
    row = z[0]
    expect = [row[t] in task.triggers and row[t] in row[:t] for t in range(255)]
    np.testing.assert_array_equal(mask[0], expect)


def test_memory_margins_on_a_hand_built_case():
    # d = N = 3, identity embeddings/values; W_O2 chosen so that scores[y] = row y of S
    S = np.array([[2.0, 1.0, -1.0],
                  [0.5, 0.0, 3.0],
                  [1.0, 1.0, 1.0]])
    eye = np.eye(3)
    # scores = E W_V2^T W_O2^T W_U^T = W_O2^T with E = W_V2 = W_U = I, so W_O2 = S^T
    m = observables.memory_margins(eye, S.T, eye, eye)
    np.testing.assert_allclose(m, [2.0 - 1.0, 0.0 - 3.0, 1.0 - 1.0])
    # and through non-trivial orthogonal maps: the margin only sees the composed map
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    np.testing.assert_allclose(observables.memory_margins(eye @ Q.T, Q @ S.T, eye, eye), m, atol=1e-12)


def test_loss_helpers():
    v = np.array([3.0, 2.0, 2.5, 1.0, 0.4, 0.6, 0.3])
    assert observables.first_below(v, 0.5) == 4 and observables.first_below(v, 0.1) == -1
    assert observables.count_increases(v) == 2
    assert observables.oscillations(v) == 4


@requires_torch
def test_quick_run_shapes_and_finiteness(tmp_path):
    exp = AmTransformer(quick_steps=12, quick_batch=4, quick_wo2_etas=(20.0, 200.0), quick_all_etas=(5.0,))
    result = exp.run(quick=True)
    steps = 12
    params = result.parameters
    assert params["quick"] and params["steps"] == steps and params["dtype"] == "float32"
    assert len(params["summary"]) == 3 and result.seeds[0] == exp.seed
    for mode, d, eta in exp.configs(quick=True):
        key = run_key(mode, d, eta)
        for name in ("loss", "copy_loss", "train_loss"):
            assert result.arrays[f"{name}_{key}"].shape == (steps + 1,)
        assert np.all(np.isfinite(result.arrays[f"loss_{key}"]))
        assert np.all(np.isfinite(result.arrays[f"copy_loss_{key}"]))
        margins = result.arrays[f"margins_{key}"]
        assert margins.shape == (steps + 1, 65) and np.all(np.isfinite(margins))
        np.testing.assert_array_equal(margins[0], 0.0)  # W_O2 starts at zero
        assert result.arrays[f"loss_{key}"][0] == pytest.approx(np.log(65), abs=0.6)
    assert {"loss", "margins"} <= set(result.figures)
    folder = result.write(tmp_path)
    assert (folder / "report.md").read_text().count("| wo2 |") == 2
    assert (folder / "data.npz").exists() and (folder / "figures" / "loss.png").exists()
    # same seed, same numbers
    again = exp.run(quick=True)
    key = run_key("wo2", 64, 200.0)
    np.testing.assert_array_equal(again.arrays[f"loss_{key}"], result.arrays[f"loss_{key}"])


def test_without_torch_cli_path_via_patched_lookup(no_torch, tmp_path, capsys, monkeypatch):
    # the CLI's ParameterError handling, independent of whether the registry lists the experiment yet
    from gradflow.derivations import cli

    monkeypatch.setattr(cli, "get_experiment", lambda name: AM_TRANSFORMER)
    assert cli.main(["reproduce", "am-transformer", "--quick", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradflow: error: am-transformer") and "gradflow[torch]" in err and err.count("\n") == 1
    assert not (tmp_path / "am-transformer").exists()
