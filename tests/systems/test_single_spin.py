"""A single driven electron (tests/README.md, system 2).

For N = 1 without nucleus the rate equation with Eqs. (12) and (16) of the 2016 paper
has the Bloch steady state of Eq. (11) of the 2018 paper,
    P = -tanh(beta w / 2) (1 + T2^2 d^2) / (1 + T2^2 d^2 + 2 w1^2 T1 T2),  d = w - w_MW.
"""

import numpy as np
import pytest

from dnpsim.dynamics.rates import Environment
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.units import TWO_PI, inverse_temperature


@pytest.mark.parametrize("detuning_khz", [-500.0, -100.0, 0.0, 37.0, 400.0, 5000.0])
@pytest.mark.parametrize("amplitude_khz", [5.0, 25.0, 100.0])
def test_bloch_steady_state(detuning_khz, amplitude_khz):
    omega = TWO_PI * 93.9e9 + TWO_PI * 3e6
    model = DipolarElectrons(93.9e9, [3e6], [[0.0]])
    t1, t2 = 0.5, 2e-6
    env = Environment(1.2, 93.9e9 + 3e6 - detuning_khz * 1e3, amplitude_khz * 1e3, t1, t2)
    point = SpinTemperatureEngine(model).stationary_point(env)
    beta = inverse_temperature(1.2)
    d = TWO_PI * detuning_khz * 1e3
    w1 = TWO_PI * amplitude_khz * 1e3
    lorentz = 1.0 + (t2 * d) ** 2
    expected = -np.tanh(beta * omega / 2) * lorentz / (lorentz + 2 * w1**2 * t1 * t2)
    assert point.electron_polarization[0] == pytest.approx(expected, rel=1e-12)


def test_build_up_relaxes_with_t1():
    """Without microwaves an inverted single spin relaxes as P(t) = P0 + (P(0)-P0) e^{-t/T1}."""
    model = DipolarElectrons("93.9 GHz", [0.0], [[0.0]])
    engine = SpinTemperatureEngine(model)
    env = Environment("1.2 K", "93.9 GHz", 0.0, "0.3 s", "1 us")
    p0 = engine.thermal_populations(1.2)[::-1].copy()  # swap up and down
    times = np.linspace(0, 1.0, 6)
    out = engine.evolve(env, times, p0)
    peq = -np.tanh(inverse_temperature(1.2) * TWO_PI * 93.9e9 / 2)
    expected = peq + (-peq - peq) * np.exp(-times / 0.3)
    np.testing.assert_allclose(out.electron_polarization_t[:, 0], expected, rtol=1e-9)
