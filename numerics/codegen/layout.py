"""Compile-time sizes shared by the lane-module generator and its driver (no SymPy: the driver
imports this on a warm start)."""

BLOCK = 256  # most lanes per block of iterate_map (a compile-time size: constant strides vectorise better)
