"""What every reproduction folder records about itself: provenance in metadata.json, a quick notice first."""

import json

import numpy as np

from gradflow import __version__
from gradflow.derivations.report import QUICK_NOTICE, Reproduction, git_commit, provenance


def _reproduction(**fields) -> Reproduction:
    return Reproduction("toy", {"n": 3}, {"x": np.arange(3.0)}, {}, "# toy\n\nbody\n",
                        "\\documentclass{article}\n\\begin{document}\nx\n\\end{document}\n", [], seeds=[7], **fields)


def test_metadata_records_version_commit_command_platform_and_seeds(tmp_path):
    folder = _reproduction(command="gradflow reproduce toy --quick").write(tmp_path)
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["gradflow"] == __version__ and meta["seeds"] == [7]
    assert meta["command"] == "gradflow reproduce toy --quick" and meta["platform"]
    assert meta["git_commit"] == git_commit()
    assert meta["git_commit"] is None or len(meta["git_commit"]) == 40


def test_without_a_command_the_process_command_line_is_recorded():
    assert provenance()["command"]  # this process (pytest) as one shell line


def test_a_quick_report_says_so_in_its_first_line(tmp_path):
    quick = _reproduction(quick=True).write(tmp_path / "q")
    assert (quick / "report.md").read_text().splitlines()[0] == QUICK_NOTICE
    assert json.loads((quick / "metadata.json").read_text())["quick"] is True
    full = _reproduction().write(tmp_path / "f")
    assert (full / "report.md").read_text().startswith("# toy")
