"""The five neuron-symmetry classes of an activation, by name, validated."""

from __future__ import annotations

from gradflow.theory.errors import require

# odd: sigma(-z) = -sigma(z); odd_constant: sigma(-z) = 1 - sigma(z); even_linear: sigma(z) - sigma(-z) is
# linear; even_linear_positive_scaling: also sigma(kz) = k sigma(z) for k > 0; none: permutations only.
_NAMES = ("odd", "odd_constant", "even_linear", "even_linear_positive_scaling", "none")


def activation_class(name) -> str:
    """``name`` if it is one of the five class names, else a ParameterError naming ``activation_class``."""
    require(isinstance(name, str) and name in _NAMES, "activation_class", f"one of {', '.join(_NAMES)}", name)
    return name
