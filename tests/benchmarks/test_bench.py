"""`gradflow bench --quick` runs and every implementation agrees (no timing assertions here)."""

import json

from derivations.cli import main


def test_quick_bench_agrees(capsys):
    code = main(["bench", "--quick", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["machine"]["blas_gflops"] > 0
    names = [c["name"] for c in report["cells"]]
    assert any(n.startswith("am-particles") for n in names) and any(n.startswith("am-flow") for n in names)
    for cell in report["cells"]:
        assert set(cell) >= {"name", "skipped", "agree", "max_rel_diff", "times", "ratios", "fraction_of_ceiling"}
        assert cell["agree"], cell
        assert "gradflow" in cell["times"] or cell["name"].startswith("codegen")


def test_unknown_cell_is_a_clear_error(capsys):
    assert main(["bench", "--cell", "warp-drive"]) == 2
    assert "--cell: must be one of am-particles" in capsys.readouterr().err
