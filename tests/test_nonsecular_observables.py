"""Observables of the 2021 engine: EPR spectrum (S63, S64, S66), spectral /
entanglement diagnostics (Fig. 3), phonon timescales (S105, S106)."""

from __future__ import annotations

import numpy as np
import pytest

from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.dynamics.hilbert import hilbert_steady_state
from dnpsim.dynamics.lindblad import EigenbasisLiouvillian
from dnpsim.dynamics.lindblad_steady_state import nonsecular_steady_state
from dnpsim.observables.entanglement import entanglement_entropy, stationary_spectrum
from dnpsim.observables.epr import diagonal_blocks_from_populations, epr_spectrum
from dnpsim.theory.phonons import bath_timescales, direct_rate, two_phonon_rate
from dnpsim.units import TWO_PI

from tests.open_system_helpers import BATH_12K, BATH_MIXED, OMEGA_E, environment, random_model


def _edges(model, width=0.05e6):
    lo = OMEGA_E - TWO_PI * 20e6
    hi = OMEGA_E + TWO_PI * 20e6
    return np.arange(lo, hi, TWO_PI * width)


@pytest.mark.parametrize("coherent", [True, False])
def test_epr_integral_is_total_polarization_nonsecular(coherent):
    """Eq. (S66): the EPR spectrum integrates to P^z = 2<S^z>/N.  For the nonsecular
    state (coherences inside sectors) only the general formula (S63) obeys it."""
    model = random_model(4, seed=31)
    liou = EigenbasisLiouvillian(model, environment(12.0, BATH_MIXED))
    state = nonsecular_steady_state(liou, tol=1e-12)
    blocks = [liou.block(state.rho, k, k) for k in range(5)]
    edges = _edges(model)
    f = epr_spectrum(model, liou.sectors, blocks, edges, coherent=coherent, principal_value=False)
    total = np.sum(f * np.diff(edges))
    p_z = state.electron_polarization().mean()
    if coherent:
        assert total == pytest.approx(p_z, abs=1e-12)
    else:
        # S64 keeps only populations; the sum then is the polarization of diag(rho)
        pops = np.concatenate([np.real(np.diagonal(b)) for b in blocks])
        p_diag = 2 * pops @ np.concatenate([s.spin_z for s in liou.sectors]) / 4
        assert total == pytest.approx(p_diag.sum(), abs=1e-12)


def test_s63_reduces_to_s64_for_diagonal_states():
    model = random_model(4, seed=32)
    basis = Eigenbasis.build(model, keep_vectors=True)
    state = hilbert_steady_state(basis, environment(12.0, BATH_12K))
    blocks = diagonal_blocks_from_populations(basis.sectors, state.populations)
    edges = _edges(model)
    f63 = epr_spectrum(model, basis.sectors, blocks, edges, coherent=True)
    f64 = epr_spectrum(model, basis.sectors, blocks, edges, coherent=False)
    np.testing.assert_allclose(f63, f64, atol=1e-12 * np.abs(f64).max())
    assert np.sum(f64 * np.diff(edges)) == pytest.approx(state.electron_polarization().mean(), abs=1e-12)


def test_noninteracting_epr_is_the_polarization_profile():
    """Eq. (S67): without couplings f(omega) = (1/N) sum_i P_i delta(omega - omega_i)."""
    from dnpsim.models.electrons import DipolarElectrons

    offsets = TWO_PI * np.array([-3e6, 1e6, 4e6])  # rad/s
    model = DipolarElectrons(OMEGA_E / TWO_PI, offsets / TWO_PI, np.zeros((3, 3)))
    basis = Eigenbasis.build(model, keep_vectors=True)
    state = hilbert_steady_state(basis, environment(12.0, BATH_12K))
    blocks = diagonal_blocks_from_populations(basis.sectors, state.populations)
    edges = _edges(model)
    f = epr_spectrum(model, basis.sectors, blocks, edges) * np.diff(edges)
    pol = state.electron_polarization()
    for i, w in enumerate(OMEGA_E + offsets):
        j = np.searchsorted(edges, w) - 1
        assert f[j] == pytest.approx(pol[i] / 3, abs=1e-12)
    assert np.sum(np.abs(f)) == pytest.approx(np.sum(np.abs(pol)) / 3, abs=1e-12)


def test_entanglement_entropy_limits():
    n = 4
    product = np.zeros(2**n)
    product[0b0101] = 1.0
    assert entanglement_entropy(product, n, 2) == pytest.approx(0.0, abs=1e-14)
    bell = np.zeros(2**n)
    bell[0b0001] = bell[0b0100] = 1 / np.sqrt(2)  # spin 0 entangled with spin 2 across the cut
    assert entanglement_entropy(bell, n, 2) == pytest.approx(np.log(2), abs=1e-14)
    rho = np.diag(np.full(2**n, 1 / 2**n))
    spec = stationary_spectrum(rho, n)
    assert spec.eigenvalues.sum() == pytest.approx(1.0)
    assert np.all(spec.local_z.shape == (2**n, n))


def test_phonon_rates_limits():
    t = 4.0
    theta = 1.380649e-23 * t / 1.054571817e-34
    w = 1e3  # << theta: coth(x) ~ 1/x
    assert direct_rate(w, t, 1.0) == pytest.approx(w**2 * 2 * theta / (2 * np.pi), rel=1e-6)
    # two-phonon rate: T^7 scaling at fixed small omega (Raman dominated)
    r1 = two_phonon_rate(1e3, 2.0, 1e-80)
    r2 = two_phonon_rate(1e3, 4.0, 1e-80)
    assert r2 / r1 == pytest.approx(2**7, rel=1e-3)
    bath = bath_timescales(4.0, OMEGA_E, TWO_PI * 1e6, 1e-30, 1e-80)
    assert bath.t1 > 0 and bath.t_star > 0 and bath.t_zero > 0
    # hotter -> faster bath (the essential feature for Zeno localization)
    hot = bath_timescales(12.0, OMEGA_E, TWO_PI * 1e6, 1e-30, 1e-80)
    assert hot.t1 < bath.t1 and hot.t_star < bath.t_star
