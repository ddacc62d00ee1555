"""The ``mlp`` model family: deep networks trained to convergence, teacher-student, Gaussian inputs."""

from gradflow.derivations.contract import Family
from gradflow.derivations.mlp.entry import MLPEntry

FAMILY = Family("mlp", entries=(MLPEntry(),))

__all__ = ["FAMILY", "MLPEntry"]
