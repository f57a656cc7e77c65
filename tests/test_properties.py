"""Property tests (hypothesis): probabilities in [0, 1], polarizations in [-1, 1],
detailed balance without drive."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dnpsim.dynamics.rates import Environment
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from tests.conftest import ELECTRON_LARMOR, make_model

params = st.fixed_dictionaries({
    "n": st.integers(1, 5),
    "seed": st.integers(0, 10_000),
    "coupling": st.floats(0.0, 60.0),
    "hyperfine": st.floats(0.01, 3.0),
    "detuning": st.floats(-80.0, 80.0),
    "amplitude": st.floats(0.0, 300.0),
    "temperature": st.floats(0.05, 300.0),
})


@settings(max_examples=40, deadline=None)
@given(params)
def test_populations_and_polarizations_are_physical(p):
    model = make_model(p["n"], coupling_mhz=p["coupling"], hyperfine_mhz=p["hyperfine"], seed=p["seed"])
    env = Environment(p["temperature"], ELECTRON_LARMOR + p["detuning"] * 1e6, p["amplitude"] * 1e3, 1.0, 1e-6)
    point = SpinTemperatureEngine(model).stationary_point(env)
    assert np.all(point.populations >= 0) and np.all(point.populations <= 1)
    assert abs(point.populations.sum() - 1) < 1e-12
    assert np.all(np.abs(point.electron_polarization) <= 1 + 1e-12)
    assert abs(point.nuclear_polarization) <= 1 + 1e-12


@settings(max_examples=25, deadline=None)
@given(params)
def test_detailed_balance_without_microwaves(p):
    """W_{n->m} e^{-beta eps_n} = W_{m->n} e^{-beta eps_m} for every pair of states."""
    model = make_model(p["n"], coupling_mhz=p["coupling"], hyperfine_mhz=p["hyperfine"], seed=p["seed"])
    env = Environment(p["temperature"], ELECTRON_LARMOR, 0.0, 1.0, 1e-6)
    engine = SpinTemperatureEngine(model)
    q = engine.generator(env).to_dense()
    thermal = engine.thermal_populations(p["temperature"])
    flux = q * thermal[None, :]  # flux[m, n] = W_{n->m} p_n
    np.fill_diagonal(flux, 0.0)
    scale = max(np.abs(flux).max(), 1e-300)
    assert np.abs(flux - flux.T).max() <= 1e-10 * scale
