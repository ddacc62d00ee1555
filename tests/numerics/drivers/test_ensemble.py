import numpy as np
import pytest

from gradflow.derivations.associative_memory.simulators import margin_map_simulator
from gradflow.numerics.drivers.ensemble import parameter_grid
from gradflow.derivations.associative_memory.oracles import margin_map_numpy
from gradflow.theory.errors import ParameterError
from gradflow.theory.models import associative_memory as am


def test_grid_runs_every_combination_in_one_call():
    system = am.derive().margin_map
    etas, ps = np.array([0.5, 5.0, 50.0]), np.array([0.1, 0.4])
    grid = parameter_grid(system, {"eta": etas, "p": ps, "M": 4})
    assert grid.axes == ("p", "eta") and grid.shape == (2, 3) and grid.lanes.shape == (6, 3)
    run = margin_map_simulator().iterate(np.zeros((6, 1)), grid.lanes, 100, [100])
    margins = grid.reshape(run.states[..., 0])  # (records, p, eta, per_point)
    for i, p in enumerate(ps):
        for j, eta in enumerate(etas):
            assert margins[0, i, j, 0] == pytest.approx(margin_map_numpy([p], 4, eta, 100, [100])[0, 0], rel=1e-12)


def test_grid_errors_name_the_parameter():
    system = am.derive().margin_map
    with pytest.raises(ParameterError, match="eta"):
        parameter_grid(system, {"p": 0.1, "M": 4})
    with pytest.raises(ParameterError, match="sigma"):
        parameter_grid(system, {"p": 0.1, "M": 4, "eta": 1.0, "sigma": 2})
