"""Nonsecular GKSL engine (2021 paper, Eqs. (7)-(8), (S46)): matrix-free vs dense,
steady states, equilibrium, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dnpsim.dynamics.lindblad import EigenbasisLiouvillian
from dnpsim.dynamics.lindblad_dense import boltzmann_state, dense_liouvillian, dense_steady_state
from dnpsim.dynamics.lindblad_steady_state import electron_polarization, nonsecular_steady_state
from dnpsim.errors import ConvergenceError, ModelError
from dnpsim.units import inverse_temperature

from tests.open_system_helpers import (BATH_1K2, BATH_12K, BATH_MIXED, OMEGA_E, environment, polarization_of,
                                       random_model)


def _apply_dense(liou, rho):
    d = rho.shape[0]
    return (liou @ rho.ravel(order="F")).reshape(d, d, order="F")


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("bath,temperature,irradiated", [(BATH_12K, 12.0, None), (BATH_1K2, 1.2, None),
                                                         (BATH_MIXED, 4.0, 0)])
@pytest.mark.parametrize("path", ["full", "blocks"])
def test_matrix_free_equals_dense(n, bath, temperature, irradiated, path):
    """The eigenbasis Liouvillian (amplitude damping, mixed-basis S^z D terms), both its
    whole-matrix path (small N, the default here) and its blockwise path (large N),
    equals the dense superoperator built literally from Eqs. (7)-(8) to 1e-12."""
    model = random_model(n, seed=10 + n)
    env = environment(temperature, bath, irradiated=irradiated)
    liou = EigenbasisLiouvillian(model, env)
    if path == "blocks":
        liou._full = None
    dense = dense_liouvillian(model, env, "nonsecular")
    rng = np.random.default_rng(n)
    x = rng.normal(size=liou.size) + 1j * rng.normal(size=liou.size)
    ref = _apply_dense(dense, liou.to_full(x))
    got = liou.to_full(liou.matvec(x))
    assert np.abs(got - ref).max() <= 1e-12 * np.abs(ref).max()
    # the diagonal used by the preconditioner is the exact diagonal of L
    probe = np.zeros(liou.size, complex)
    idx = rng.choice(liou.size, size=min(20, liou.size), replace=False)
    for i in idx:
        probe[:] = 0
        probe[i] = 1
        assert abs(liou.matvec(probe)[i] - liou.diagonal()[i]) <= 1e-12 * np.abs(liou.diagonal()).max()


@pytest.mark.parametrize("n,temperature,bath,method", [(2, 12.0, BATH_12K, "gmres"), (3, 12.0, BATH_MIXED, "bicgstab"),
                                                        (4, 12.0, BATH_12K, "gmres"), (3, 1.2, BATH_1K2, "bicgstab")])
def test_steady_state_equals_dense_solve(n, temperature, bath, method):
    model = random_model(n, seed=20 + n)
    env = environment(temperature, bath)
    liou = EigenbasisLiouvillian(model, env)
    state = nonsecular_steady_state(liou, method=method, tol=1e-12, maxiter=2000)
    rho_ref = dense_steady_state(dense_liouvillian(model, env, "nonsecular"))
    assert np.abs(liou.to_full(state.rho) - rho_ref).max() <= 1e-10
    assert state.krylov_residual <= 1e-12  # the solver's stopping criterion
    np.testing.assert_allclose(state.electron_polarization(), polarization_of(rho_ref, n), atol=1e-10)


def test_no_drive_is_thermal_product_state():
    """Without microwaves Eqs. (7)-(8) relax to the product of single-spin Boltzmann
    states at omega_e exactly (local amplitude damping with h(omega_e), Hermitian
    dephasing operators commuting with functions of S^z), which is within ~beta Delta
    of the Boltzmann state of H_S."""
    n = 3
    model = random_model(n, seed=3)
    env = environment(1.2, BATH_1K2, amplitude=0.0)
    liou = EigenbasisLiouvillian(model, env)
    state = nonsecular_steady_state(liou, tol=1e-12)
    beta = inverse_temperature(1.2)
    p = -np.tanh(0.5 * beta * OMEGA_E)
    np.testing.assert_allclose(state.electron_polarization(), p, atol=1e-11)
    rho = liou.to_full(state.rho)
    single = np.array([1.0 - (1 + p) / 2, (1 + p) / 2])  # (down, up) populations
    product = np.diag([np.prod([single[(s >> i) & 1] for i in range(n)]) for s in range(2**n)])
    assert np.abs(rho - product).max() < 1e-11
    boltz = boltzmann_state(model, beta)
    assert np.abs(rho - boltz).max() < 1e-3
    assert np.abs(polarization_of(boltz, n) - p).max() < 1e-3


def test_thermal_polarization_number():
    """docs/conventions.md (units): at 1.2 K and 93.9 GHz the thermal electron polarization is -0.954."""
    assert -np.tanh(0.5 * inverse_temperature(1.2) * OMEGA_E) == pytest.approx(-0.954, abs=5e-4)


def test_bad_inputs():
    model = random_model(2, seed=1)
    with pytest.raises(ModelError, match="environment.irradiated"):
        EigenbasisLiouvillian(model, environment(irradiated=5))
    with pytest.raises(ModelError, match="environment.t_star"):
        from dnpsim.dynamics.jumps import BathTimescales

        BathTimescales(1e-6, -1.0, 1e-6)
    with pytest.raises(ModelError, match="environment.temperature"):
        environment(temperature=0.0)
    with pytest.raises(ModelError, match="environment.mw_amplitude"):
        environment(amplitude=-1.0)


def test_non_convergence_raises_with_residual():
    model = random_model(4, seed=4)
    liou = EigenbasisLiouvillian(model, environment(1.2, BATH_1K2))
    with pytest.raises(ConvergenceError) as err:
        nonsecular_steady_state(liou, method="bicgstab", tol=1e-14, maxiter=2)
    assert err.value.residual > 1e-14


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 3), seed=st.integers(0, 10_000), temperature=st.floats(1.0, 20.0),
       detuning=st.floats(-5e6, 5e6), amplitude=st.floats(0.0, 2e6), zero=st.floats(0.05, 2.0))
def test_steady_state_is_a_density_matrix(n, seed, temperature, detuning, amplitude, zero):
    """Trace 1, Hermitian, positive semidefinite (to the solver tolerance)."""
    from dnpsim.dynamics.jumps import BathTimescales
    from dnpsim.units import TWO_PI

    model = random_model(n, seed)
    bath = BathTimescales(1.6e-6, 0.16e-6, zero * 1e-6)
    env = environment(temperature, bath, mw_frequency=OMEGA_E / TWO_PI + detuning, amplitude=amplitude)
    liou = EigenbasisLiouvillian(model, env)
    state = nonsecular_steady_state(liou, tol=1e-12, maxiter=2000)
    rho = liou.to_full(state.rho)
    assert abs(np.trace(rho) - 1) < 1e-12
    assert np.abs(rho - rho.conj().T).max() < 1e-10
    assert np.linalg.eigvalsh(0.5 * (rho + rho.conj().T)).min() > -1e-10
    assert np.all(np.abs(electron_polarization(liou, state.rho)) <= 1 + 1e-10)


@pytest.mark.parametrize("n,temperature,bath,irradiated", [(6, 12.0, BATH_12K, None), (5, 1.2, BATH_1K2, 2)])
def test_full_matrix_path_equals_blockwise_path(n, temperature, bath, irradiated):
    """Above the dense-reference sizes the two matvec paths agree to 1e-13 (relative)."""
    liou = EigenbasisLiouvillian(random_model(n, seed=3), environment(temperature, bath, irradiated=irradiated))
    assert liou._full is not None
    rng = np.random.default_rng(7)
    x = rng.normal(size=liou.size) + 1j * rng.normal(size=liou.size)
    ref = liou._matvec_blocks(x)
    assert np.abs(liou.matvec(x) - ref).max() <= 1e-13 * np.abs(ref).max()
