"""Fitting method (Eq. (18)) and Kullback-Leibler divergence (Eq. (27))."""

import numpy as np
import pytest

from dnpsim.dynamics.rates import Environment
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from dnpsim.observables.spin_temperature import ansatz_populations, fit_spin_temperature, kl_divergence
from dnpsim.units import TWO_PI, inverse_temperature
from tests.conftest import ELECTRON_LARMOR, OMEGA_E, OMEGA_N, make_model


def test_fit_recovers_lattice_temperature_without_microwaves():
    engine = SpinTemperatureEngine(make_model(5))
    point = engine.stationary_point(Environment(1.2, ELECTRON_LARMOR, 0.0, 1.0, 1e-6))
    fit = engine.spin_temperature(point)
    assert fit.beta_s == pytest.approx(inverse_temperature(1.2), rel=1e-9)
    assert abs(fit.h) < 1e-6 * TWO_PI * 1e6  # h = 0 within a micro-MHz
    assert engine.kl_divergence(point, fit) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("beta_ratio,field_mhz", [(30.0, -3.0), (400.0, 0.5), (2000.0, 12.0)])
def test_fit_recovers_ansatz_parameters(beta_ratio, field_mhz):
    """Populations drawn from the ansatz (Eq. 17) with known beta_s, h are fitted back."""
    engine = SpinTemperatureEngine(make_model(6))
    beta_s = beta_ratio * inverse_temperature(1.2)
    h = -OMEGA_E + TWO_PI * field_mhz * 1e6  # lab-frame h, close to -omega_e
    energies, mags = engine.block_energies(), engine.magnetizations()
    p = ansatz_populations(energies, mags, beta_s, beta_s * (OMEGA_E + h))
    fit = fit_spin_temperature(energies, mags, p, OMEGA_E)
    assert fit.beta_s == pytest.approx(beta_s, rel=1e-8)
    assert fit.h + OMEGA_E == pytest.approx(h + OMEGA_E, rel=1e-6)
    assert fit.nuclear_polarization(OMEGA_N) == pytest.approx(np.tanh(beta_s * OMEGA_N / 2), rel=1e-8)


def test_fit_over_realizations_matches_summed_averages():
    """Eq. (18) with overlines: one (beta_s, h) matches the realization-summed <H>, <S_z>."""
    engines = [SpinTemperatureEngine(make_model(5, seed=s)) for s in range(3)]
    env = Environment(1.2, ELECTRON_LARMOR - 20e6, 25e3, 1.0, 1e-6)
    points = [e.stationary_point(env) for e in engines]
    fit = fit_spin_temperature([e.block_energies() for e in engines], [e.magnetizations() for e in engines],
                               [p.populations for p in points], OMEGA_E)
    stat_e = sum(p.populations @ e.block_energies() for e, p in zip(engines, points))
    stat_m = sum(p.populations @ e.magnetizations() for e, p in zip(engines, points))
    ans = [fit.populations(e.block_energies(), e.magnetizations()) for e in engines]
    assert sum(a @ e.block_energies() for a, e in zip(ans, engines)) == pytest.approx(stat_e, rel=1e-9)
    assert sum(a @ e.magnetizations() for a, e in zip(ans, engines)) == pytest.approx(stat_m, rel=1e-9, abs=1e-12)


def test_kl_divergence_properties():
    rng = np.random.default_rng(0)
    p = rng.random(50)
    p /= p.sum()
    q = rng.random(50)
    q /= q.sum()
    assert kl_divergence(p, p) == 0.0
    assert kl_divergence(p, q) > 0.0
    expected = sum(a * np.log(a / b) for a, b in zip(p, q))
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-12)
    p0 = p.copy()
    p0[:5] = 0.0
    p0 /= p0.sum()
    assert np.isfinite(kl_divergence(p0, q))


def test_driven_state_is_cooled():
    """Microwaves below omega_e in the ergodic regime cool the spin system:
    beta_s >> beta and P_n from Eq. (1) is far above the thermal tanh(beta omega_n / 2)."""
    engine = SpinTemperatureEngine(make_model(6, coupling_mhz=30.0))
    point = engine.stationary_point(Environment(1.2, ELECTRON_LARMOR - 20e6, 25e3, 1.0, 1e-6))
    fit = engine.spin_temperature(point)
    beta = inverse_temperature(1.2)
    assert fit.beta_s > 10 * beta
    assert point.nuclear_polarization > 10 * np.tanh(beta * OMEGA_N / 2)


def test_fit_converges_in_localized_regime():
    """Regression: at U = 2 MHz (N = 10) the Newton iteration used to stall at a relative
    mismatch of 1e-8 because the line search rejected round-off-sized decreases."""
    from dnpsim.experiments.figures.spin_temperature_figs import base_spec
    from dnpsim.experiments.sweep import realization_seeds
    from dnpsim.spec import resolve_spec

    setup = resolve_spec(base_spec(10, 2e6), seed=realization_seeds(2016, 100)[53])
    engine = SpinTemperatureEngine(setup.model())
    point = engine.stationary_point(setup.environment(dict(setup.environment_values, mw_frequency=93.864e9)))
    fit = engine.spin_temperature(point)
    assert fit.residual < 1e-12
    ansatz = fit.populations(engine.block_energies(), engine.magnetizations())
    assert ansatz @ engine.magnetizations() == pytest.approx(point.populations @ engine.magnetizations(), rel=1e-12)
