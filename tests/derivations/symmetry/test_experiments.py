"""The counting reproductions of the symmetry family: sym-counts and sym-dominance."""

from fractions import Fraction

import pytest

from gradflow.derivations.registry import get_experiment


@pytest.fixture(scope="module")
def counts():
    return get_experiment("sym-counts").reproduce({}, quick=True)


@pytest.fixture(scope="module")
def dominance():
    return get_experiment("sym-dominance").reproduce({}, quick=True)


@pytest.mark.long  # the quick sym-counts reproduction (brute-force counts): not in the quick subset
def test_the_bound_is_what_brute_force_counts(counts):
    rows = counts.results["rows"]
    assert counts.results["agree"] and len(rows) == 9
    assert all(r["bound"] == r["brute_force_pairs"] <= r["brute_force_all"] for r in rows)
    by_key = {(tuple(r["widths"]), r["K"]): r for r in rows}
    assert by_key[((2, 3), 1)]["bound"] == 18 and by_key[((2, 3), 1)]["N_min"] == 12  # 12 (1/2 + 1)
    assert by_key[((2, 3), 2)]["bound"] == 0  # every width < 2K: no such points


def test_ratio_table_and_crossovers(dominance):
    r = dominance.results
    assert Fraction(r["R"]["2,0"]["exact"]) == Fraction(1, 2) and Fraction(r["R"]["3,0"]["exact"]) == 1
    assert Fraction(r["R"]["2,1"]["exact"]) == Fraction(1, 12)  # G(1, 3) / T(2, 3) = 1 / 12
    assert r["T"]["2,3"] == 12 and r["G"]["1,3"] == 1
    assert r["h_c"]["default"]["2"] is None and r["h_c"]["default"]["4"] == 0 and r["h_c"]["default"]["20"] == 4
    assert r["h_c"]["sum_below"]["3"] == 0
    for teacher in (2, 3, 5, 10, 20, 50):  # R decreases in h
        row = [r["R"][f"{teacher},{h}"]["float"] for h in range(8)]
        assert all(a > b for a, b in zip(row, row[1:]))
    assert all(0.9 < v < 1.0 for v in r["normalised_ratio"].values())
    assert set(r["laws"]) >= {"ratio_at_zero", "linear_growth", "ratio_growth"}


def test_depth_counts_multiply_over_layers(dominance):
    from math import factorial, prod

    from gradflow.theory.symmetry import critical_count, expansion_count

    rows = dominance.results["depth"]
    assert len(rows) == 9
    for row in rows:
        pairs = list(zip(row["r_stars"], row["ms"]))
        assert row["T"] == prod(expansion_count(r, m) for r, m in pairs)
        assert row["G"] == prod(critical_count(r - 1, m) for r, m in pairs)
        assert Fraction(row["R"]["exact"]) == Fraction(row["G"], row["T"])
        assert row["isolated_minima"] == prod(factorial(r) for r in row["r_stars"])
        if row["ms"] == row["r_stars"]:
            assert row["T"] == row["isolated_minima"]  # no extra neuron: only the permutations
    by_key = {(tuple(row["r_stars"]), row["ms"][0] - row["r_stars"][0]): row for row in rows}
    assert by_key[((2, 2), 1)]["T"] == 144 and by_key[((2, 2), 1)]["G"] == 1  # T(2, 3)^2 = 12^2, G(1, 3)^2 = 1


def test_permutation_points_count_the_kernel_and_show_where_the_old_bound_fails():
    rep = get_experiment("sym-permutation-points").reproduce({}, quick=True)
    cases = {tuple(c["sizes"]): c for c in rep.results["cases"]}
    assert set(cases) == {(2, 3, 1), (3, 3, 2)}
    assert rep.results["every_case_has_a_zero"] and rep.results["counts_as_predicted"]
    assert cases[(2, 3, 1)]["rank_B"] == 0 and cases[(2, 3, 1)]["paper_claim_holds"]  # one output: B = 0
    assert cases[(3, 3, 2)]["zero_count"] == 2 - cases[(3, 3, 2)]["rank_B"] >= 1
    assert all(c["grad_norm"] <= 1e-12 and c["plateau_max_dev"] <= 1e-12 for c in cases.values())


def test_simulate_symmetry_reports_the_permutation_point():
    from gradflow.derivations.registry import get_model

    out = get_model("symmetry").simulate({"sizes": (2, 3, 1), "n": 100})
    report = out["report"]
    assert report["zero_count"] == report["predicted_zero_count"] == 1 and report["grad_norm"] <= 1e-12


def test_bad_sizes_name_the_parameter():
    from gradflow.derivations.registry import get_model
    from gradflow.theory.errors import ParameterError

    with pytest.raises(ParameterError, match="sizes"):
        get_model("symmetry").simulate({"sizes": (2, 1, 1)})


def test_critical_lines_are_critical_with_the_derived_curvature():
    rep = get_experiment("sym-critical-lines").reproduce({"n": 120}, quick=True)
    r = rep.results
    assert r["max_scaled_eig_error"] <= 1e-8 and r["nonparallel_grad_norm"] > 1e-3
    assert r["nonparallel_loss_change"] <= 1e-12
    zeros = {row["beta"]: row["inertia"][1] for row in r["betas"]}
    for row in r["betas"]:
        assert row["grad_norm"] <= 1e-12 and abs(row["loss"] - row["loss_r"]) <= 1e-13 * row["loss_r"]
    assert zeros[0.0] == zeros[1.0] == zeros[0.5] + 2  # d = 2 more zero eigenvalues where a neuron is free


@pytest.mark.long  # trains and embeds networks for seconds: not in the quick subset
def test_expansion_manifold_pieces_have_zero_loss_and_the_derived_nullity():
    rep = get_experiment("sym-expansion-manifold").reproduce({"n": 100}, quick=True)
    r = rep.results
    assert r["all_zero_loss"] and r["nullity_as_derived"]
    for case in r["cases"]:
        assert case["T_sum"] == case["T_closed_form"] == case["T_enumerated"]
        assert case["connected"] == (case["m"] > case["r_star"])
        assert all(row["max_grad"] <= 1e-12 for row in case["labellings"])
    assert r["T_table"]["1,2"] == 3 and r["T_table"]["3,3"] == 6
    assert 0 <= r["swap_path_max_loss"] <= 1e-25
    assert all(c["swap_path_ends_swapped"] and c["swap_path_points"] >= 2 * 21 for c in r["cases"])
    assert "intersection_graph" in rep.figures


def test_paths_reach_a_permutation_point_or_say_why_not():
    rep = get_experiment("sym-paths").reproduce({}, quick=True)
    r = rep.results
    assert r["reached"] + r["refused"] == 2 and r["reached"] >= 1
    for pair in r["pairs"]:
        if "refused" in pair:
            assert "critical point" in pair["refused"]
        else:
            assert pair["grad_norm_P"] <= 1e-12 and pair["loss_P"] > r["loss_star"]
            assert pair["path_max"] >= pair["loss_P"] and pair["zero_count"] >= 1
            profile = r["profiles"][f"{pair['i']},{pair['j']}"]
            assert profile == profile[::-1] or abs(profile[0] - profile[-1]) <= 1e-12  # mirror-symmetric ends
            assert pair["plateau_path_max_dev"] <= 1e-12 and pair["plateau_paths"] == 3
    assert r["plateau_path_max_dev"] <= 1e-12 and r["plateau_paths_end_permuted"]
