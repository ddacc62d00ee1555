"""Writing a reproduction folder: report, derivation, figures, data, metadata, generated code."""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gradflow.derivations.figure_style import figure_size, figure_style
from gradflow.derivations.output import dumps
from gradflow.theory.errors import ParameterError


class _Figures:
    """The part of pyplot the figure modules use, making figures outside pyplot's registry: a
    reproduction's figures live as long as its result and never open a window."""

    def __init__(self):
        import matplotlib

        self.cm = matplotlib.cm

    @staticmethod
    def subplots(nrows: int = 1, ncols: int = 1, *, columns: int = 1, height: float | None = None,
                 aspect: float | None = None, **grid):
        """A Figure ``columns`` (1: single, 2: double) columns wide (figure_style.figure_size) and its Axes."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=figure_size(columns, height, aspect))
        return fig, fig.subplots(nrows, ncols, **grid)


def pyplot() -> _Figures:
    """``subplots`` (sized by columns, see gradflow.derivations.figure_style) and ``cm`` as in
    matplotlib.pyplot, for figures that are saved, not shown."""
    return _Figures()


def prepare_output(out_dir: Path) -> Path:
    """``out_dir`` as a writable directory (created if missing), or a ParameterError naming --out."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError("--out", "a directory (it exists and is not one)", str(out_dir))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.TemporaryFile(dir=out_dir)
        probe.close()
    except OSError as error:
        raise ParameterError("--out", f"a directory gradflow can create and write ({error.strerror})",
                             str(out_dir)) from None
    return out_dir


def _folder_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _remove_leftovers(out_dir: Path, name: str) -> None:
    """Hidden partial or old copies of ``name`` that an earlier, killed write left behind."""
    for pattern in (f".{name}.*.partial", f".{name}.*.old"):
        for path in out_dir.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)


def versions() -> dict:
    import matplotlib
    import numba
    import scipy
    import sympy

    return {"python": sys.version.split()[0], "platform": platform.platform(), "numpy": np.__version__,
            "scipy": scipy.__version__, "sympy": sympy.__version__, "numba": numba.__version__,
            "matplotlib": matplotlib.__version__}


def git_commit() -> str | None:
    """The commit of the gradflow source tree when it is a git checkout (an editable install), else None."""
    source = Path(__file__).resolve().parent
    if "site-packages" in source.parts:  # an installed copy: a repository around it is not its source
        return None
    try:
        done = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and len(commit) == 40 else None


def command_line() -> str:
    """How this process was started, as one shell line (``gradflow reproduce ...`` from the command)."""
    argv = list(sys.argv)
    if argv and Path(argv[0]).name in ("gradflow", "__main__.py"):
        argv[0] = "gradflow"
    return shlex.join(argv)


def provenance(command: str | None = None) -> dict:
    """What a reader needs to redo a result: gradflow's version and commit, the command line, the platform."""
    from gradflow import __version__

    return {"gradflow": __version__, "git_commit": git_commit(), "command": command or command_line(),
            "platform": platform.platform(), "python": sys.version.split()[0]}


SAVE_PNG = {"dpi": 150, "bbox_inches": "tight"}  # how write() saves a figure's PNG

QUICK_NOTICE = ("**Quick run (`--quick`)**: smaller sizes and shorter runs than the full reproduction; "
                "its numbers show the method, not the paper's values.")


@dataclass
class Reproduction:
    """What an experiment produced; ``write`` lays it out as a folder."""

    name: str
    parameters: dict
    arrays: dict  # name -> np.ndarray, saved to data.npz and (as lists) to JSON
    figures: dict  # file stem -> matplotlib Figure
    report_markdown: str
    derivation_latex: str
    generated_code: list  # paths of generated modules used (or (name, path) for a module without a docstring)
    timings: dict = field(default_factory=dict)
    seeds: list = field(default_factory=list)
    results: dict = field(default_factory=dict)  # JSON-ready summary, written to results.json
    quick: bool = False  # made with --quick: the report says so in its first line
    command: str | None = None  # the command line that made it (default: this process's)

    def metadata(self) -> dict:
        return {"experiment": self.name, "quick": self.quick, **provenance(self.command), "parameters": self.parameters,
                "seeds": self.seeds, "timings_s": self.timings, "versions": versions(),
                "arrays": {k: list(np.shape(v)) for k, v in self.arrays.items()}}

    def report(self) -> str:
        """The Markdown report; a quick run's first line says that it is one."""
        if self.quick and not self.report_markdown.startswith(QUICK_NOTICE):
            return QUICK_NOTICE + "\n\n" + self.report_markdown
        return self.report_markdown

    def write(self, out_dir: Path) -> Path:
        """Write the folder ``out_dir/name`` as a whole: into a hidden sibling first, renamed into place
        only when complete.  An existing result is replaced whole (never mixed with the new one, no stale
        generated modules); an interrupted write leaves the old result as it was."""
        out_dir = prepare_output(Path(out_dir))
        folder = out_dir / self.name
        _remove_leftovers(out_dir, self.name)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.name}.", suffix=".partial", dir=out_dir))
        try:
            staging.chmod(_folder_mode())  # mkdtemp's 0700, as a plain mkdir would have made it
            self._write_into(staging)
            if folder.exists() or folder.is_symlink():
                old = Path(tempfile.mkdtemp(prefix=f".{self.name}.", suffix=".old", dir=out_dir))
                os.replace(folder, old / self.name)
                os.replace(staging, folder)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return folder

    def _write_into(self, folder: Path) -> None:
        (folder / "figures").mkdir()
        (folder / "code").mkdir()
        (folder / "report.md").write_text(self.report())
        (folder / "derivation.tex").write_text(self.derivation_latex)
        np.savez(folder / "data.npz", **{k: np.asarray(v) for k, v in self.arrays.items()})
        (folder / "metadata.json").write_text(dumps(self.metadata(), indent=2))
        if self.results:
            (folder / "results.json").write_text(dumps(self.results, indent=1))
        with figure_style():  # saved in the style they were built in
            for stem, fig in self.figures.items():
                fig.savefig(folder / "figures" / f"{stem}.png", **SAVE_PNG)
                fig.savefig(folder / "figures" / f"{stem}.pdf", bbox_inches="tight")
        from gradflow.numerics.codegen.export import export_modules  # numba: only when writing

        # standalone modules named by what they compute, with index.json mapping names to cache keys
        export_modules(self.generated_code, folder / "code")

    def to_json(self) -> dict:
        if self.results:  # a summary was made for JSON: the bulky arrays stay in data.npz
            return {"experiment": self.name, "parameters": self.parameters, **self.results}
        return {"experiment": self.name, "parameters": self.parameters,
                **{k: np.asarray(v).tolist() for k, v in self.arrays.items()}}
