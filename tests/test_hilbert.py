"""Hilbert approximation (S52, S19 re-derived from S17, S53) against the dense
secular Lindblad equation (Eq. (9), S17)."""

from __future__ import annotations

import numpy as np
import pytest

from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.dynamics.hilbert import bath_generator, decoherence_rates, hilbert_steady_state
from dnpsim.dynamics.lindblad_dense import _full_eigensystem, boltzmann_state, dense_liouvillian, dense_steady_state

from tests.open_system_helpers import BATH_MIXED, BATH_12K, MW_FREQUENCY, environment, polarization_of, random_model


def _eigen_populations(model, rho):
    """Populations <n|rho|n> in the sector order of Eigenbasis (ascending within sectors)."""
    energies, vecs = _full_eigensystem(model)
    n = model.n_electrons
    counts = np.bitwise_count(np.arange(2**n, dtype=np.uint64)).astype(int)
    out = []
    for k in range(n + 1):
        idx = np.flatnonzero(counts == k)
        v = vecs[:, idx]
        out.append(np.real(np.einsum("sn,st,tn->n", v, rho, v)))
    return np.concatenate(out)


def test_decoherence_rates_match_secular_dissipator():
    """1/T_nm derived from S17 (module doc of dynamics.hilbert; the printed S19 has an
    extra factor h) equals minus the real diagonal of the dense secular Liouvillian on
    every coherence |n><m|; the imaginary part is -omega_nm (rotating frame)."""
    n = 3
    model = random_model(n, seed=5)
    env = environment(4.0, BATH_MIXED, amplitude=0.0)
    dense = dense_liouvillian(model, env, "secular")
    energies, vecs = _full_eigensystem(model)
    basis = Eigenbasis.build(model, keep_vectors=False)
    gen = bath_generator(basis, env)
    counts = np.bitwise_count(np.arange(2**n, dtype=np.uint64)).astype(int)
    dim = 2**n
    checked = 0
    for k in range(n + 1):
        for l in range(n + 1):
            ik, il = np.flatnonzero(counts == k), np.flatnonzero(counts == l)
            rates = decoherence_rates(basis, gen, env, k, l)
            for a, na in enumerate(ik):
                for b, nb in enumerate(il):
                    if na == nb:
                        continue
                    x = np.outer(vecs[:, na], vecs[:, nb])
                    lx = (dense @ x.ravel(order="F")).reshape(dim, dim, order="F")
                    diag = vecs[:, na] @ lx @ vecs[:, nb]
                    assert -diag.real == pytest.approx(rates[a, b], rel=1e-9)
                    checked += 1
    assert checked == dim * dim - dim


def test_hilbert_without_drive_is_boltzmann():
    model = random_model(4, seed=6)
    env = environment(1.2, BATH_12K, amplitude=0.0)
    basis = Eigenbasis.build(model)
    state = hilbert_steady_state(basis, env)
    rho_b = boltzmann_state(model, env.beta)
    np.testing.assert_allclose(state.populations, _eigen_populations(model, rho_b), atol=1e-13)
    np.testing.assert_allclose(state.electron_polarization(), polarization_of(rho_b, 4), atol=1e-12)


def test_secular_lindblad_without_drive_is_boltzmann():
    model = random_model(3, seed=7)
    env = environment(1.2, BATH_MIXED, amplitude=0.0)
    rho = dense_steady_state(dense_liouvillian(model, env, "secular"))
    assert np.abs(rho - boltzmann_state(model, env.beta)).max() < 1e-10


def test_secular_populations_equal_hilbert_in_weak_drive():
    """Hilbert rates are the O(omega_1^2) elimination of the coherences: the departure
    from equilibrium of the secular Lindblad populations and of the Hilbert populations
    agree, and their relative difference shrinks like omega_1^2."""
    n = 3
    model = random_model(n, seed=8)
    basis = Eigenbasis.build(model)
    errors = []
    for amp in (2e4, 1e4):
        env = environment(12.0, BATH_12K, mw_frequency=MW_FREQUENCY, amplitude=amp)
        rho = dense_steady_state(dense_liouvillian(model, env, "secular"))
        p_lind = _eigen_populations(model, rho)
        p_hil = hilbert_steady_state(basis, env, tol=1e-12).populations
        p_eq = _eigen_populations(model, boltzmann_state(model, env.beta))
        dev = p_lind - p_eq
        assert np.abs(dev).max() > 1e-9  # the drive does something
        errors.append(np.abs(p_hil - p_lind).max() / np.abs(dev).max())
    assert errors[0] < 1e-3
    # ratio 4 for an O(omega_1^2) relative error (halved amplitude)
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.1)
