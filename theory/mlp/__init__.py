"""Multilayer perceptrons, symbolically: activations with derived derivatives, the network and its
loss, and one layer's forward, backward and second-order recursions derived by SymPy."""

from gradflow.theory.mlp.activations import ACTIVATION_NAMES, MLPActivation, activation
from gradflow.theory.mlp.network import Layer, Network, random_params

__all__ = ["ACTIVATION_NAMES", "Layer", "MLPActivation", "Network", "activation", "random_params"]
