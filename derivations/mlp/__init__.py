"""The ``mlp`` model family: deep networks trained to convergence, teacher-student, Gaussian inputs."""

from gradflow.derivations.contract import Family
from gradflow.derivations.mlp.conjectures import CLAIMS
from gradflow.derivations.mlp.entry import MLPEntry
from gradflow.derivations.mlp.experiments import EXPERIMENTS, TeacherStudent

FAMILY = Family("mlp", entries=(MLPEntry(),), experiments=EXPERIMENTS, claims=CLAIMS)

__all__ = ["FAMILY", "MLPEntry", "TeacherStudent"]
