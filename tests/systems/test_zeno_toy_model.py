"""Three-level Zeno toy model (2021 SM Sec. IV): S101 closed form vs the exact 3-level
GKSL steady state vs the generic N = 2 nonsecular engine."""

from __future__ import annotations

import numpy as np
import pytest

from dnpsim.dynamics.lindblad import EigenbasisLiouvillian
from dnpsim.dynamics.lindblad_steady_state import nonsecular_steady_state
from dnpsim.theory.zeno_three_level import as_spin_model, linear_response_populations, three_level_steady_state

MHZ = 2 * np.pi * 1e6
# good mixing, Anderson, Zeno, weak incoherent (caption of Fig. S11)
REGIMES = [(0.1 * MHZ, 1.0 * MHZ, 0.05 * MHZ), (2.0 * MHZ, 0.3 * MHZ, 0.05 * MHZ),
           (0.2 * MHZ, 1.0 * MHZ, 5.0 * MHZ), (1.0 * MHZ, 0.05 * MHZ, 1.0 * MHZ)]


@pytest.mark.parametrize("delta,coupling,gamma", REGIMES)
@pytest.mark.parametrize("detuning", [-1.5 * MHZ, -0.2 * MHZ, 0.0, 0.7 * MHZ])
def test_s101_is_the_linear_response_of_the_toy_model(delta, coupling, gamma, detuning):
    v = 1e-4 * min(delta, coupling, gamma)
    rho = three_level_steady_state(detuning, delta, coupling, gamma, v)
    r11, r22 = linear_response_populations(detuning, delta, coupling, gamma, v)
    assert rho[1, 1].real == pytest.approx(r11, rel=1e-6)
    assert rho[2, 2].real == pytest.approx(r22, rel=1e-6)


@pytest.mark.parametrize("delta,coupling,gamma", REGIMES)
def test_generic_engine_reproduces_the_toy_model(delta, coupling, gamma):
    v = 1e-3 * min(delta, coupling, gamma)
    detuning = -0.4 * MHZ
    model, env = as_spin_model(delta, coupling, gamma, v, detuning)
    state = nonsecular_steady_state(EigenbasisLiouvillian(model, env), tol=1e-13, maxiter=2000)
    pol = state.electron_polarization()
    rho = three_level_steady_state(detuning, delta, coupling, gamma, v)
    scale = max(rho[1, 1].real, rho[2, 2].real)
    assert (1 + pol[0]) / 2 == pytest.approx(rho[1, 1].real, abs=1e-4 * scale)
    assert (1 + pol[1]) / 2 == pytest.approx(rho[2, 2].real, abs=1e-4 * scale)
