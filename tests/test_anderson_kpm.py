"""Kernel polynomial path for K(omega) against exact diagonalization (L = 8, 10)."""

import numpy as np
import pytest

from dnpsim.experiments.anderson import ExactAnderson, kpm_overlap
from dnpsim.models.anderson import AndersonLattice, box_offsets
from dnpsim.solvers import kpm

TP = 2 * np.pi


def lattice(L, t_mhz=6.6, seed=1):
    rng = np.random.default_rng(seed)
    return AndersonLattice(L, t_mhz * 1e6, box_offsets(L, 108e6, rng), 93.9e9)


def test_recursion_moments_equal_exact_moments():
    lat = lattice(6)
    ex = ExactAnderson(lat)
    scale = kpm.Rescaling.from_bounds(*lat.spectral_bounds())
    for m in (64, 65):
        mu = kpm.local_moments(lat.hamiltonian(), np.arange(lat.n_sites), m, scale, chunk=50)
        ref = kpm.exact_moments(ex.weights, ex.energies, m, scale)
        assert np.max(np.abs(mu - ref)) < 1e-11


def test_kpm_ldos_integrates_to_one():
    lat = lattice(6)
    scale = kpm.Rescaling.from_bounds(*lat.spectral_bounds())
    mu = kpm.local_moments(lat.hamiltonian(), np.arange(10), 128, scale)
    lo, hi = lat.spectral_bounds()
    e = np.linspace(lo, hi, 4001)
    rho = kpm.density_from_moments(mu, e, scale)
    assert np.allclose(np.trapezoid(rho, e, axis=1), 1.0, atol=2e-3)
    assert np.all(rho > -1e-3 * rho.max())  # Jackson kernel keeps the density positive


@pytest.mark.parametrize("L,moments", [(8, 256), (10, 512)])
def test_kpm_k_matches_exact_within_resolution(L, moments):
    lat = lattice(L)
    ex = ExactAnderson(lat)
    res = kpm_overlap(lat, moments, None, None, omega_max=TP * 60e6, n_omega=61)
    # exact K(omega) smeared with the stated resolution (Gaussian, sqrt(2) sigma: two LDOS)
    o = ex.weights.T @ ex.weights
    d = ex.energies[None, :] - ex.energies[:, None]
    s = np.sqrt(2) * res.resolution
    ref = np.array([np.sum(o * np.exp(-(d - w) ** 2 / (2 * s * s))) for w in res.omega]) / (
        np.sqrt(2 * np.pi) * s * ex.n)
    far = res.omega > 4 * s  # away from the alpha = beta peak, where the kernel shape matters
    assert np.max(np.abs(res.k[far] / ref[far] - 1)) < 0.02
    # sampled sites: unbiased within the stated standard error
    sampled = kpm_overlap(lat, moments, 64, np.random.default_rng(0), omega_max=TP * 60e6, n_omega=61)
    assert sampled.n_sites == 64
    z = (sampled.k - res.k) / sampled.k_error
    assert np.max(np.abs(z)) < 4.5
    assert np.all(res.k_error == 0)
