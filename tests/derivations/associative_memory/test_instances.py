"""Associative-memory instances: the data products are computed once and handed out as the caller's own."""

import numpy as np

from gradflow.derivations.associative_memory.instances import memory_instance, zipf_probabilities


def test_instance_products_are_computed_once_and_handed_out_safely():
    inst = memory_instance(5, 4, 5, zipf_probabilities(5, 1.0), 0, orthogonal=False, W0="random")
    first, second = inst.data, inst.data
    assert first["K"] is second["K"] and first is not second  # one product, a fresh dict each time
    first["K"] = None  # a caller's dict is its own
    np.testing.assert_allclose(inst.data["K"], inst.E @ inst.E.T, rtol=1e-15)
    np.testing.assert_allclose(inst.data["Gamma"], inst.U @ inst.U.T, rtol=1e-15)
    S = inst.initial_logits
    S += 1.0  # and so is a caller's S_0
    np.testing.assert_allclose(inst.initial_logits, inst.E @ inst.W0.T @ inst.U.T, rtol=1e-15)
