"""Batched generators (one per microwave frequency) against one-at-a-time solves."""

import numpy as np
import pytest

from dnpsim.dynamics.rates import Environment
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from dnpsim.errors import ConvergenceError
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal, complete_generator
from dnpsim.solvers.steady_state import stationary_state, stationary_states
from dnpsim.units import TWO_PI

from .conftest import make_model


def _environment(ghz):
    return Environment(1.2, ghz * 1e9, 25e3, 1.0, 1e-6)


@pytest.mark.parametrize("n", [3, 6])
def test_batched_generator_equals_single_generators(n):
    engine = SpinTemperatureEngine(make_model(n))
    rates = engine.rates(_environment(93.9))
    omegas = TWO_PI * np.array([93.85e9, 93.9e9, 93.93e9])
    batch = rates.generator(omegas, TWO_PI * 25e3, 1e-6)
    assert batch.batch_shape == (3,)
    for i, omega in enumerate(omegas):
        single = rates.generator(omega, TWO_PI * 25e3, 1e-6)
        np.testing.assert_array_equal(batch.item(i).to_dense(), single.to_dense())


@pytest.mark.parametrize("n", [4, 7])
def test_batched_elimination_equals_single_solves(n):
    engine = SpinTemperatureEngine(make_model(n, seed=11))
    environments = [_environment(ghz) for ghz in np.linspace(93.84, 93.96, 7)]
    batched = engine.stationary_many(environments, workers=1)
    for environment, point in zip(environments, batched):
        single = stationary_state(engine.generator(environment))
        np.testing.assert_allclose(point.populations, single.populations, rtol=0, atol=1e-14)
        assert point.environment == environment
        assert point.residual < 1e-12


def test_many_keeps_order_across_baths_and_threads():
    """Mixed temperatures / amplitudes are grouped internally but returned in input order."""
    engine = SpinTemperatureEngine(make_model(5, seed=2))
    environments = [Environment(t, f * 1e9, a, 1.0, 1e-6)
                    for t, f, a in [(1.2, 93.87, 25e3), (2.0, 93.9, 25e3), (1.2, 93.92, 0.0), (1.2, 93.95, 25e3)]]
    points = engine.stationary_many(environments, workers=2)
    for environment, point in zip(environments, points):
        assert point.environment == environment
        np.testing.assert_allclose(point.populations, engine.stationary_point(environment).populations, atol=1e-14)


def test_batched_solver_reports_the_failing_member():
    """A reducible member of a batch (two closed classes) raises instead of returning junk."""
    rng = np.random.default_rng(0)
    dims = [2, 3]
    good = BlockTridiagonal([rng.random((d, d)) for d in dims], [rng.random((3, 2))], [rng.random((2, 3))])
    bad = BlockTridiagonal([np.zeros((d, d)) for d in dims], [np.zeros((3, 2))], [np.zeros((2, 3))])
    bad.diag[1][:] = rng.random((3, 3))  # block 0 is closed and disconnected
    stacked = BlockTridiagonal(*[[np.stack([g, b]) for g, b in zip(gl, bl)]
                                 for gl, bl in [(good.diag, bad.diag), (good.lower, bad.lower),
                                                (good.upper, bad.upper)]])
    complete_generator(stacked)
    assert stationary_states(stacked.item(slice(0, 1)))[0].residual < 1e-12
    with pytest.raises(ConvergenceError):
        stationary_states(stacked)
