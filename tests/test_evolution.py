"""Time evolution of Eq. (11): dense propagators vs the implicit BDF path, and the
long-time limit equals the stationary state."""

import numpy as np

from dnpsim.dynamics.rates import Environment
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from dnpsim.solvers import propagation
from tests.conftest import ELECTRON_LARMOR, make_model


def test_dense_and_bdf_evolution_agree_and_reach_the_stationary_state(monkeypatch):
    engine = SpinTemperatureEngine(make_model(4, hyperfine_mhz=3.0))
    env = Environment(1.2, ELECTRON_LARMOR - 20e6, 25e3, 1.0, 1e-6)
    times = np.array([0.0, 0.01, 0.5, 3.0, 50.0, 400.0, 5000.0])
    dense = engine.evolve(env, times)
    monkeypatch.setattr(propagation, "DENSE_EVOLUTION_LIMIT", 0)
    implicit = engine.evolve(env, times)
    assert dense.solution == "time_resolved" and dense.residual is None
    np.testing.assert_array_equal(dense.times, times)
    np.testing.assert_allclose(implicit.nuclear_polarization_t, dense.nuclear_polarization_t, rtol=0, atol=1e-6)
    np.testing.assert_allclose(dense.state.sum(axis=1), 1.0, atol=1e-12)
    stationary = engine.stationary(env)
    assert abs(dense.nuclear_polarization_t[-1] - stationary.nuclear_polarization) < 1e-9
    # starts thermal: P_n(0) = tanh(beta omega_n / 2) up to the hyperfine admixture
    assert abs(dense.nuclear_polarization_t[0] - 4.0e-4) < 1e-5


def test_threaded_profile_equals_serial():
    """stationary_many solves environments in threads with single-threaded BLAS; the
    numbers must not depend on it."""
    engine = SpinTemperatureEngine(make_model(6))
    frequencies = ELECTRON_LARMOR + np.linspace(-50e6, 50e6, 9)
    environments = [Environment(1.2, f, 25e3, 1.0, 1e-6) for f in frequencies]
    serial = engine.stationary_many(environments, workers=1)
    threaded = engine.stationary_many(environments, workers=2)
    for a, b in zip(serial, threaded):
        assert a.environment == b.environment
        np.testing.assert_allclose(b.populations, a.populations, rtol=0, atol=1e-15)
