"""Shared small systems for the 2021 open-system engine tests (nonsecular, Hilbert)."""

from __future__ import annotations

import numpy as np

from dnpsim.dynamics.jumps import BathTimescales
from dnpsim.dynamics.jumps import OpenEnvironment
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.units import TWO_PI

ELECTRON_LARMOR = 93.9e9  # Hz
MW_FREQUENCY = 93.8988e9  # Hz
MW_AMPLITUDE = 0.628e6  # Hz
OMEGA_E = TWO_PI * ELECTRON_LARMOR  # rad/s
#: Table I of the 2021 paper (T_1, T*, T(0) in s) and a variant with T(0) != T*.
BATH_12K = BathTimescales(1.6e-6, 0.16e-6, 0.16e-6)
BATH_1K2 = BathTimescales(160e-6, 80e-6, 1.6e-6)
BATH_MIXED = BathTimescales(1.6e-6, 0.5e-6, 0.1e-6)


def random_model(n: int, seed: int, width: float = 5e6, coupling: float = 0.75e6, ising: bool = True) -> DipolarElectrons:
    """Uniform offsets in [-w/2, w/2], Gaussian U_ij with variance U^2/N, and the
    -4 U_ij S^z S^z term of Eq. (2) (all given in Hz)."""
    rng = np.random.default_rng(seed)
    u = np.triu(rng.normal(scale=coupling / np.sqrt(n), size=(n, n)), 1)
    u = u + u.T
    offsets = rng.uniform(-width / 2, width / 2, n)
    return DipolarElectrons(ELECTRON_LARMOR, offsets, u, -4.0 * u if ising else None)


def environment(temperature=12.0, bath=BATH_12K, mw_frequency=MW_FREQUENCY, amplitude=MW_AMPLITUDE, irradiated=None):
    """The Table I environment (Hz)."""
    return OpenEnvironment(temperature, mw_frequency, amplitude, bath, irradiated)


def polarization_of(rho: np.ndarray, n: int) -> np.ndarray:
    """2 Tr(S^z_i rho) of a dense computational-basis density matrix."""
    idx = np.arange(2**n)
    diag = np.real(np.diag(rho))
    return np.array([2.0 * diag @ (((idx >> i) & 1) - 0.5) for i in range(n)])
