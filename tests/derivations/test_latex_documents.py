"""Every .tex gradflow writes is a complete document that the strict checker accepts.

A reproduction writes its family's derivation (or a short document of its own) as derivation.tex;
`gradflow derive MODEL --latex` prints a model's derivation.  The derivations come from the disk
cache, so this stays fast once the cache is warm.
"""

from types import SimpleNamespace

import pytest

from gradflow.derivations.registry import models
from tests.latex_checker import problems


def _extra_documents():
    """The .tex of reproductions that is not a registered model's derivation."""
    from gradflow.derivations.am_transformer.experiments import DERIVATION_LATEX
    from gradflow.derivations.binary_memory.simulators import derivation as binary_memory
    from gradflow.derivations.conjecture_report import _latex as conjecture_latex
    from gradflow.derivations.mlp.experiments import cached, layer_recursions
    from gradflow.derivations.mlp.gaussian_experiment import gaussian_derivation_latex

    conjecture = SimpleNamespace(name="margin_above_log", statement="m(t) >= log(1 + p*t) & x_1^2 < 100% # $")
    return {"binary-memory": lambda: binary_memory().to_latex(),
            "mlp-layer-recursions": lambda: cached("mlp_layer_recursions", layer_recursions).to_latex(),
            "mlp-gaussian": gaussian_derivation_latex,
            "am-transformer": lambda: DERIVATION_LATEX,
            "conjecture-report": lambda: conjecture_latex(conjecture)}


def _sources():
    """name -> a function returning the LaTeX source of every document gradflow writes."""
    derivations = {name: (lambda entry=entry: entry.derivation().to_latex()) for name, entry in models().items()}
    return {**derivations, **_extra_documents()}


def all_documents():
    """(name, LaTeX source) of every document gradflow writes."""
    return [(name, make()) for name, make in _sources().items()]


@pytest.mark.parametrize("name", list(_sources()))
def test_every_written_document_passes_the_strict_checker(name):
    source = _sources()[name]()
    assert problems(source) == [], f"{name}:\n" + "\n".join(problems(source))
