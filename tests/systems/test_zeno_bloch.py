"""N = 1 reproduces Bloch's steady state (footnote 6 of the 2021 SM) in every
representation: nonsecular (matrix-free and dense), secular dense, Hilbert."""

from __future__ import annotations

import numpy as np
import pytest

from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.dynamics.hilbert import hilbert_steady_state
from dnpsim.dynamics.lindblad import EigenbasisLiouvillian
from dnpsim.dynamics.lindblad_dense import dense_liouvillian, dense_steady_state
from dnpsim.dynamics.lindblad_steady_state import nonsecular_steady_state
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.units import TWO_PI

from tests.open_system_helpers import BATH_1K2, BATH_MIXED, OMEGA_E, environment, polarization_of


def bloch_polarization(beta, omega_e, omega_mw, omega_1, t1, t_zero):
    """Footnote 6: Tr(S^z rho) = M0 / (1 + T1/T_MW), T_MW = (1 + (omega_e - omega_MW)^2
    T2^2) / (T2 omega_1^2), 1/T2 = 1/(4 T(0)) + 1/(4 T(omega_e)), T(omega_e) = T1/2;
    returned as P = 2 Tr(S^z rho)."""
    t2 = 1.0 / (1.0 / (4 * t_zero) + 1.0 / (2 * t1))
    t_mw = (1 + ((omega_e - omega_mw) * t2) ** 2) / (t2 * omega_1**2)
    m0 = -0.5 * np.tanh(0.5 * beta * omega_e)
    return 2 * m0 / (1 + t1 / t_mw)


@pytest.mark.parametrize("temperature,bath", [(1.2, BATH_1K2), (8.0, BATH_MIXED)])
@pytest.mark.parametrize("detuning", [0.0, 0.3e6, -1.0e6])
def test_single_spin_bloch(temperature, bath, detuning):
    model = DipolarElectrons(OMEGA_E / TWO_PI, [0.0], [[0.0]])
    env = environment(temperature, bath, mw_frequency=OMEGA_E / TWO_PI - detuning, amplitude=0.2e6)
    expected = bloch_polarization(env.beta, OMEGA_E, env.omega_mw, env.omega_1, bath.t1, bath.t_zero)
    liou = EigenbasisLiouvillian(model, env)
    p_free = nonsecular_steady_state(liou, tol=1e-13).electron_polarization()[0]
    p_nonsec = polarization_of(dense_steady_state(dense_liouvillian(model, env, "nonsecular")), 1)[0]
    p_sec = polarization_of(dense_steady_state(dense_liouvillian(model, env, "secular")), 1)[0]
    p_hil = hilbert_steady_state(Eigenbasis.build(model), env, tol=1e-12).electron_polarization()[0]
    for p in (p_free, p_nonsec, p_sec, p_hil):
        assert p == pytest.approx(expected, rel=1e-10, abs=1e-13)
