"""Thermal equilibrium without microwaves (tests/README.md, system 1).

Without microwaves the bath rates of Eq. (12) obey detailed balance, so the stationary
state is the Boltzmann distribution of the full lab-frame Hamiltonian; the nucleus
then shows P_n -> tanh(beta omega_n / 2) as the hyperfine coupling D -> 0.
"""

import numpy as np
import pytest

from dnpsim.dynamics.rates import Environment
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from dnpsim.units import angular, inverse_temperature, thermal_electron_polarization, thermal_nuclear_polarization
from tests.conftest import ELECTRON_LARMOR, OMEGA_E, OMEGA_N, make_model


def environment(temperature=1.2, amplitude=0.0):
    return Environment(temperature, ELECTRON_LARMOR - 20e6, amplitude, 1.0, 1e-6)


@pytest.mark.parametrize("n,ising", [(3, None), (4, 5.0), (5, None)])
def test_boltzmann_populations_of_full_hamiltonian(n, ising):
    model = make_model(n, ising_mhz=ising)
    engine = SpinTemperatureEngine(model)
    point = engine.stationary_point(environment(), method="dense")
    # Boltzmann weights from a brute-force diagonalization of the full 2^(N+1) space
    energies = np.linalg.eigvalsh(model.full_hamiltonian())
    beta = inverse_temperature(1.2)
    boltzmann = np.exp(-beta * (energies - energies.min()))
    boltzmann /= boltzmann.sum()
    order = np.argsort(engine.basis.lab_energies(), kind="stable")
    # the brute force carries omega_e inside a 2^(N+1) matrix: its absolute accuracy is ~eps ||H||
    np.testing.assert_allclose(np.sort(engine.basis.lab_energies()), energies, rtol=0, atol=1e-13 * np.abs(energies).max())
    np.testing.assert_allclose(point.populations[order], boltzmann, rtol=0, atol=1e-10)
    np.testing.assert_allclose(point.populations, engine.thermal_populations(1.2), rtol=1e-9, atol=1e-14)


def test_nuclear_polarization_is_thermal_for_weak_hyperfine():
    """P_n = tanh(beta omega_n / 2) up to O((beta D)^2) ~ 1e-8 relative corrections; the
    solver keeps that accuracy down to D = 10 kHz, where nuclear flip rates are ~1e-7
    of the electron rates."""
    beta = inverse_temperature(1.2)
    target = thermal_nuclear_polarization(OMEGA_N, beta)
    for d_mhz in (1.0, 0.1, 0.01):
        engine = SpinTemperatureEngine(make_model(4, hyperfine_mhz=d_mhz))
        pn = engine.stationary(environment()).nuclear_polarization
        assert pn == pytest.approx(target, rel=1e-6)


def test_noninteracting_electrons_have_thermal_polarization():
    model = make_model(4, coupling_mhz=0.0, nucleus=False)
    engine = SpinTemperatureEngine(model)
    point = engine.stationary(environment(temperature=2.0))
    expected = thermal_electron_polarization(OMEGA_E + model.Delta, inverse_temperature(2.0))
    np.testing.assert_allclose(point.electron_polarization, expected, rtol=1e-12)


def test_units_reference_numbers():
    """docs/conventions.md: at 1.2 K and 93.9 GHz, beta omega_e = 3.755 and P_e = -0.954."""
    beta = inverse_temperature(1.2)
    assert beta * angular(93.9e9) == pytest.approx(3.755, abs=5e-4)
    assert thermal_electron_polarization(angular(93.9e9), beta) == pytest.approx(-0.954, abs=5e-4)
