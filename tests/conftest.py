"""Shared fixtures: small realizations of the 2016 model.  Models take Hz (the public
units); ``OMEGA_E`` / ``OMEGA_N`` are the angular values (rad/s) for internal calls."""

import os

import numpy as np
import pytest
from hypothesis import settings

from dnpsim.models import disorder
from dnpsim.models.electrons import DipolarElectrons, ThermometerNucleus
from dnpsim.units import TWO_PI

# CI is reproducible: property tests draw the same examples on every run there
# (derandomize); locally they keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ELECTRON_LARMOR = 93.9e9  # Hz
HALF_WIDTH = 54e6  # Hz
NUCLEAR_LARMOR = 20e6  # Hz
OMEGA_E = TWO_PI * ELECTRON_LARMOR  # rad/s
OMEGA_N = TWO_PI * NUCLEAR_LARMOR  # rad/s


def make_model(n, coupling_mhz=15.0, hyperfine_mhz=1.0, seed=3, nucleus=True, ising_mhz=None):
    """A realization with equally spaced offsets and Gaussian couplings (Table I)."""
    rng = np.random.default_rng(seed)
    couplings = disorder.gaussian_couplings(n, coupling_mhz * 1e6, rng)
    ising = None if ising_mhz is None else disorder.gaussian_couplings(n, ising_mhz * 1e6, rng)
    nuc = None
    if nucleus:
        nuc = ThermometerNucleus(NUCLEAR_LARMOR, disorder.gaussian_hyperfine(n, hyperfine_mhz * 1e6, rng))
    return DipolarElectrons(ELECTRON_LARMOR, disorder.equally_spaced_offsets(n, HALF_WIDTH), couplings, ising, nuc)


@pytest.fixture
def model_factory():
    return make_model
