"""Shared fixtures: small realizations of the 2016 model in internal units (rad/s)."""

import numpy as np
import pytest

from dnpsim.models import disorder
from dnpsim.models.electrons import DipolarElectrons, ThermometerNucleus
from dnpsim.units import TWO_PI

OMEGA_E = TWO_PI * 93.9e9
HALF_WIDTH = TWO_PI * 54e6
OMEGA_N = TWO_PI * 20e6


def make_model(n, coupling_mhz=15.0, hyperfine_mhz=1.0, seed=3, nucleus=True, ising_mhz=None):
    """A realization with equally spaced offsets and Gaussian couplings (Table I)."""
    rng = np.random.default_rng(seed)
    couplings = disorder.gaussian_couplings(n, TWO_PI * coupling_mhz * 1e6, rng)
    ising = None if ising_mhz is None else disorder.gaussian_couplings(n, TWO_PI * ising_mhz * 1e6, rng)
    nuc = None
    if nucleus:
        nuc = ThermometerNucleus(OMEGA_N, disorder.gaussian_hyperfine(n, TWO_PI * hyperfine_mhz * 1e6, rng))
    return DipolarElectrons(OMEGA_E, disorder.equally_spaced_offsets(n, HALF_WIDTH), couplings, ising, nuc)


@pytest.fixture
def model_factory():
    return make_model
