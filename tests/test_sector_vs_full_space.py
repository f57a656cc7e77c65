"""Sector-resolved engine == brute-force full-space diagonalization (N <= 5, 1e-10)."""

from dataclasses import replace

import numpy as np
import pytest

from dnpsim.dynamics.rates import Environment
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from dnpsim.models.electrons import ThermometerNucleus
from dnpsim.spin.operators import full_operator
from dnpsim.spin.sectors import sector
from dnpsim.units import inverse_temperature
from tests.brute_force import brute_force_stationary
from tests.conftest import ELECTRON_LARMOR, make_model


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("nucleus", [True, False])
@pytest.mark.parametrize("detuning_mhz", [-20.0, 3.0])
def test_stationary_state_matches_brute_force(n, nucleus, detuning_mhz):
    model = make_model(n, nucleus=nucleus, seed=10 + n, ising_mhz=3.0 if n == 4 else None)
    if nucleus:
        # P_n is fixed by nuclear-flip rates ~ (D / 2 omega_n)^2 of the electron rates, so
        # any solver resolves it only to ~eps (2 omega_n / D)^2: use D_i of order 1 MHz
        # (a random draw can give a few kHz and make the comparison ill-conditioned).
        hyperfine = 1e6 * np.linspace(1.0, -0.6, n)
        model = replace(model, nucleus=ThermometerNucleus(model.nucleus.larmor, hyperfine))
    beta = inverse_temperature(1.2)
    env = Environment(1.2, ELECTRON_LARMOR + detuning_mhz * 1e6, 25e3, 1.0, 1e-6)
    engine = SpinTemperatureEngine(model)
    point = engine.stationary_point(env)
    _, p_ref, pn_ref, pe_ref, _ = brute_force_stationary(model, beta, env.omega_mw, env.omega_1, 1.0, 1e-6)
    np.testing.assert_allclose(point.electron_polarization, pe_ref, rtol=0, atol=1e-10)
    if nucleus:
        assert point.nuclear_polarization == pytest.approx(pn_ref, abs=1e-10)
    assert point.residual < 1e-12
    # the plain dense solve loses ~cond(Q) eps (cond ~ 1e7 here), the GTH-stabilized
    # elimination does not; both must still agree to that level
    dense = engine.stationary_point(env, method="dense")
    np.testing.assert_allclose(dense.electron_polarization, pe_ref, rtol=0, atol=1e-8)


def test_generator_matches_brute_force_rates():
    """Every rate of Eqs. (12) and (16), compared entry by entry after matching states."""
    model = make_model(3, seed=5)
    beta = inverse_temperature(1.2)
    env = Environment(1.2, ELECTRON_LARMOR - 10e6, 50e3, 1.0, 1e-6)
    engine = SpinTemperatureEngine(model)
    q = engine.generator(env).to_dense()
    energies, _, _, _, q_ref = brute_force_stationary(model, beta, env.omega_mw, env.omega_1, 1.0, 1e-6)
    order = np.argsort(engine.basis.lab_energies())
    assert np.all(np.diff(energies) > 1e3)  # non-degenerate, so states match one to one
    np.testing.assert_allclose(q[np.ix_(order, order)], q_ref, rtol=1e-9, atol=1e-9 * np.abs(q_ref).max())


@pytest.mark.parametrize("n", [3, 5])
def test_sector_operators_match_kronecker_products(n):
    rng = np.random.default_rng(0)
    u = rng.normal(size=(n, n))
    u = u + u.T
    np.fill_diagonal(u, 0)
    full = sum(u[i, j] * (full_operator(n, i, "+") @ full_operator(n, j, "-") + full_operator(n, i, "-") @ full_operator(n, j, "+"))
               for i in range(n) for j in range(i + 1, n))
    for k in range(n + 1):
        sec = sector(n, k)
        np.testing.assert_allclose(sec.flip_flop(u), full[np.ix_(sec.states, sec.states)], atol=1e-14)
        for site in range(n):
            np.testing.assert_allclose(sec.spin_z[:, site], np.diag(full_operator(n, site, "z"))[sec.states])
            if k < n:
                src, dst = sec.raising(site)
                up = sector(n, k + 1)
                block = full_operator(n, site, "+")[np.ix_(up.states, sec.states)]
                dense = np.zeros_like(block)
                dense[dst, src] = 1.0
                np.testing.assert_array_equal(dense, block)
