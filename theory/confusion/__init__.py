"""The OOD accuracy estimate from confusion-score bins, symbolically: its exact identities
(:mod:`~gradflow.theory.confusion.identities`)."""

from gradflow.theory.confusion.identities import ConfusionDerivation, derive

__all__ = ["ConfusionDerivation", "derive"]
