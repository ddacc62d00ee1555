"""Multilayer perceptrons, symbolically: activations with derived derivatives, the network and its
loss, and one layer's forward, backward and second-order recursions derived by SymPy."""
