"""The falsification search: minimal counterexamples, batches, budgets, seeds, the failure database."""

import time

import pytest

from gradflow.numerics.conjecture import Outcome, conjecture, falsify
from gradflow.theory.errors import ParameterError


@conjecture({"n": [1, 1000]})
def below_37(instance):
    """n < 37"""
    return Outcome(instance["n"], 36, 0.0, "<=", "n")


def test_integer_counterexample_is_shrunk_to_the_minimum():
    verdict = falsify(below_37, budget=200, seed=0)
    assert verdict.falsified and verdict.counterexample == {"n": 37}
    assert verdict.outcome.measured == 37 and not verdict.outcome.holds
    assert "minimal counterexample: n=37" in str(verdict)


def test_progress_bar_counts_the_search_then_the_shrinking(capsys):
    verdict = falsify(below_37, budget=200, seed=0, progress=True)
    err = capsys.readouterr().err
    assert verdict.counterexample == {"n": 37}
    assert f"{below_37.name}: searching" in err and "counterexample found, shrinking" in err
    quiet = falsify(below_37, budget=200, seed=0)
    assert capsys.readouterr().err == "" and quiet.counterexample == verdict.counterexample


def test_float_counterexample_is_minimal_and_fails():
    @conjecture({"x": [0.0, 10.0], "k": [1, 5]})
    def square_small(instance):
        return instance["x"] ** 2 <= 50

    verdict = falsify(square_small, budget=200, seed=1)
    assert verdict.falsified and verdict.counterexample["k"] == 1  # the irrelevant parameter shrinks to its low end
    assert 50 ** 0.5 < verdict.counterexample["x"] <= 8.0 and verdict.outcome.holds is False


def test_true_claim_tries_the_whole_budget_in_batches():
    launches = []

    @conjecture({"x": [-3.0, 3.0]}, vectorised=True, batch=8)
    def square_nonnegative(instances):
        launches.append(len(instances))
        return [Outcome(i["x"] ** 2, 0.0, 0.0, ">=") for i in instances]

    verdict = falsify(square_nonnegative, budget=100, seed=0)
    assert not verdict.falsified and verdict.instances == 104 and verdict.examples == 13
    assert set(launches) == {8}  # every launch evaluates a whole batch
    assert "no counterexample in 104 instances" in str(verdict)


def test_same_seed_same_search_other_seed_other_draws():
    seen = {}

    def record(seed):
        draws = []

        @conjecture({"x": [0.0, 1.0]})
        def anything(instance):
            draws.append(instance["x"])
            return True

        falsify(anything, budget=20, seed=seed)
        return draws

    assert record(3) == record(3)
    assert record(3) != record(4)
    a, b = falsify(below_37, 200, seed=5), falsify(below_37, 200, seed=5)
    assert (a.counterexample, a.instances) == (b.counterexample, b.instances)


def test_failure_database_replays_the_counterexample(tmp_path):
    first = falsify(below_37, budget=300, seed=2, database=tmp_path / "db")
    again = falsify(below_37, budget=300, seed=9, database=tmp_path / "db")
    assert first.counterexample == again.counterexample == {"n": 37}
    assert again.replayed and again.examples == 0  # the stored failure is evaluated before any new draw
    assert "replayed from the failure database" in str(again)
    assert any((tmp_path / "db").iterdir())


def test_untested_instances_are_neither_for_nor_against():
    @conjecture({"x": [0.0, 1.0]})
    def half_tested(instance):
        return Outcome.untested("outside") if instance["x"] > 0.5 else Outcome(0.0, 0.0, 0.0)

    verdict = falsify(half_tested, budget=40, seed=0)
    assert not verdict.falsified and verdict.instances + verdict.untested == 40 and verdict.untested > 0


def test_time_budget_ends_the_search():
    @conjecture({"x": [0.0, 1.0]})
    def slow(instance):
        time.sleep(0.05)
        return True

    verdict = falsify(slow, budget=10_000, seed=0, max_time=0.3)
    assert verdict.timed_out and not verdict.falsified and verdict.instances < 20


def test_outcome_relations_and_non_finite_measurements():
    assert Outcome(1.05, 1.0, 0.1).holds and not Outcome(1.2, 1.0, 0.1).holds
    assert Outcome(1.05, 1.0, 0.1, "<=").holds and not Outcome(1.2, 1.0, 0.1, "<=").holds
    assert Outcome(0.95, 1.0, 0.1, ">=").holds and not Outcome(0.8, 1.0, 0.1, ">=").holds
    assert Outcome(float("nan"), 1.0, 1e9).holds is False and Outcome(float("inf"), 1.0, 0, ">=").holds is False
    assert Outcome.untested("why").holds is None


@pytest.mark.parametrize("kwargs, name", [({"budget": 0}, "budget"), ({"seed": -1}, "seed"),
                                          ({"max_time": 0}, "max_time")])
def test_bad_search_settings(kwargs, name):
    with pytest.raises(ParameterError) as error:
        falsify(below_37, **kwargs)
    assert error.value.parameter == name


def test_small_launches_run_on_one_thread_and_restore_the_count():
    import numba

    from gradflow.numerics.conjecture.threads import threads_for

    before = numba.get_num_threads()
    with threads_for(10):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with threads_for(10**9):
        assert numba.get_num_threads() == before
