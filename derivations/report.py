"""Writing a reproduction folder: report, derivation, figures, data, metadata, generated code."""

from __future__ import annotations

import json
import platform
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (reproductions never open windows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def versions() -> dict:
    import matplotlib
    import numba
    import scipy
    import sympy

    return {"python": sys.version.split()[0], "platform": platform.platform(), "numpy": np.__version__,
            "scipy": scipy.__version__, "sympy": sympy.__version__, "numba": numba.__version__,
            "matplotlib": matplotlib.__version__}


@dataclass
class Reproduction:
    """What an experiment produced; ``write`` lays it out as a folder."""

    name: str
    parameters: dict
    arrays: dict  # name -> np.ndarray, saved to data.npz and (as lists) to JSON
    figures: dict  # file stem -> matplotlib Figure
    report_markdown: str
    derivation_latex: str
    generated_code: list  # paths of generated modules used
    timings: dict = field(default_factory=dict)
    seeds: list = field(default_factory=list)
    results: dict = field(default_factory=dict)  # JSON-ready summary, written to results.json

    def metadata(self) -> dict:
        return {"experiment": self.name, "parameters": self.parameters, "seeds": self.seeds, "timings_s": self.timings,
                "versions": versions(), "arrays": {k: list(np.shape(v)) for k, v in self.arrays.items()}}

    def write(self, out_dir: Path) -> Path:
        folder = Path(out_dir) / self.name
        (folder / "figures").mkdir(parents=True, exist_ok=True)
        (folder / "code").mkdir(exist_ok=True)
        (folder / "report.md").write_text(self.report_markdown)
        (folder / "derivation.tex").write_text(self.derivation_latex)
        np.savez(folder / "data.npz", **{k: np.asarray(v) for k, v in self.arrays.items()})
        (folder / "metadata.json").write_text(json.dumps(self.metadata(), indent=2, default=float))
        if self.results:
            (folder / "results.json").write_text(json.dumps(self.results, indent=1, default=float))
        for stem, fig in self.figures.items():
            fig.savefig(folder / "figures" / f"{stem}.png", dpi=150, bbox_inches="tight")
            fig.savefig(folder / "figures" / f"{stem}.pdf", bbox_inches="tight")
        for path in self.generated_code:
            shutil.copyfile(path, folder / "code" / Path(path).name)
        return folder

    def to_json(self) -> dict:
        if self.results:  # a summary was made for JSON: the bulky arrays stay in data.npz
            return {"experiment": self.name, "parameters": self.parameters, **self.results}
        return {"experiment": self.name, "parameters": self.parameters,
                **{k: np.asarray(v).tolist() for k, v in self.arrays.items()}}
