"""The associative-memory law checks pass with the derived laws and FAIL when their named content is removed.

Trajectories come from the hand-written NumPy margin map (independent of the generated kernels); the
laws are the derived ones, doctored with ``dataclasses.replace`` to remove one named term at a time.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from gradflow.derivations.associative_memory.checks import weight_space_flow_verdict
from gradflow.derivations.associative_memory.instances import zipf_probabilities
from gradflow.derivations.associative_memory.law_checks import (expansion_remainder_verdict, loss_rate_verdict,
                                                                uniform_verdict)
from gradflow.derivations.associative_memory.oracles import margin_loss_numpy, margin_map_numpy
from gradflow.numerics import log_steps, numeric_function
from gradflow.theory.flow import Flow
from gradflow.theory.laws import Law
from gradflow.theory.models import associative_memory as am

N, M, T = 6, 4, 20_000
P = zipf_probabilities(N, 1.0)


@pytest.fixture(scope="module")
def doc():
    return am.derive()


@pytest.fixture(scope="module")
def runs():
    """eta -> (margins at t >= 1, t as a column, final loss), by the NumPy margin map."""
    record = log_steps(T, 40)
    out = {}
    for eta in (0.5, 5.0, 50.0):
        m = margin_map_numpy(P, M, eta, T, record)[1:]
        out[eta] = (m, record[1:, None].astype(float), float(margin_loss_numpy(m[-1], M) @ P))
    return out


def _expansion_with(doc, log_coefficient):
    law = doc.gd_expansion
    rate = law.constants["rate"]
    doctored = dataclasses.replace(law, leading=rate * am.t + log_coefficient * sp.log(am.t),
                                   constants={"rate": rate, "log_coefficient": log_coefficient})
    return dataclasses.replace(doc, gd_expansion=doctored)


@pytest.mark.parametrize("eta", [0.5, 5.0, 50.0])
def test_expansion_remainder_passes_with_the_derived_log_coefficient(doc, runs, eta):
    m, t, _ = runs[eta]
    verdict = expansion_remainder_verdict(doc, m, t, P, M, eta)
    assert verdict.passed, verdict
    assert verdict.error < 0.5 * verdict.tolerance  # measured 0.0098, 0.0011, 0.0024


@pytest.mark.parametrize("eta", [0.5, 5.0, 50.0])
def test_expansion_remainder_fails_without_the_log_term(doc, runs, eta):
    m, t, _ = runs[eta]
    verdict = expansion_remainder_verdict(_expansion_with(doc, sp.Integer(0)), m, t, P, M, eta)
    assert not verdict.passed
    assert verdict.error > 20 * verdict.tolerance  # ~ |c| / max(|c|, 1) >= 0.9 for this instance


def test_expansion_remainder_fails_with_the_flow_coefficient_in_place_of_the_gd_one(doc, runs):
    """The flow's log coefficient -(M - 1) misses GD's eta M p / 2: the check sees the difference."""
    m, t, _ = runs[0.5]
    verdict = expansion_remainder_verdict(_expansion_with(doc, -(am.M - 1)), m, t, P, M, 0.5)
    assert not verdict.passed


def test_uniform_approximation_passes_and_the_plain_log_law_fails_where_the_first_step_matters(doc, runs):
    plain = dataclasses.replace(doc, uniform=doc.gd_law)  # log(eta M p t): no e^{m_1}
    for eta, (m, t, _) in runs.items():
        verdict = uniform_verdict(doc, m, t, P, M, eta)
        assert verdict.passed and verdict.error < 0.5 * verdict.tolerance, verdict  # measured <= 0.94
    m, t, _ = runs[50.0]  # e^{m_1} = e^{eta p} up to e^20 dominates eta M p t for most of the run
    verdict = uniform_verdict(plain, m, t, P, M, 50.0)
    assert not verdict.passed and verdict.error > 1e6


def test_uniform_approximation_fails_without_the_first_step(doc, runs):
    rate = doc.gd_expansion.constants["rate"]
    no_first_step = dataclasses.replace(doc.uniform, leading=sp.log(1 + rate * (am.t - 1)))
    m, t, _ = runs[50.0]
    assert not uniform_verdict(dataclasses.replace(doc, uniform=no_first_step), m, t, P, M, 50.0).passed


@pytest.mark.parametrize("eta", [0.5, 5.0])
def test_loss_rate_reads_the_derived_limit_and_fails_with_another(doc, runs, eta):
    _, _, loss = runs[eta]
    assert loss_rate_verdict(doc, loss, N, M, eta, T).passed
    wrong = dataclasses.replace(doc.loss_law, leading=am.N)  # the limit without (M - 1) / M
    assert not loss_rate_verdict(dataclasses.replace(doc, loss_law=wrong), loss, N, M, eta, T).passed


def test_margin_flow_claim_is_an_independent_route(doc):
    assert am.margin_flow_from_lane_loss(doc.margin_flow, doc.lane_loss).holds
    flow = doc.margin_flow
    for wrong in (am.M * am.p / (sp.exp(am.m) + am.M),  # M - 1 wrong logits miscounted
                  am.p / (sp.exp(am.m) + am.M - 1)):  # the mobility M / (M - 1) forgotten
        claim = am.margin_flow_from_lane_loss(Flow(flow.states, (wrong,), flow.params, flow.time), doc.lane_loss)
        assert not claim.holds and claim.max_abs_at_random_points > 1e-3


def test_weight_space_flow_check_fails_for_a_wrong_margin_solution(doc):
    closed = numeric_function(doc.solution.explicit, (am.t, am.p, am.M))
    assert weight_space_flow_verdict(closed, P, M).passed
    wrong_M = weight_space_flow_verdict(lambda t, p, M_: closed(t, p, M_ + 1), P, M)  # the flow of M + 1 classes
    assert not wrong_M.passed and wrong_M.error > 1e-3
