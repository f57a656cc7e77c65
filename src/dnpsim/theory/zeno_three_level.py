"""Three-level toy model of Zeno localization (Maimbourg et al. 2021, SM Sec. IV).

Levels |0>, |1>, |2> with energies 0, omega_e - Delta, omega_e + Delta, coupling J
between |1> and |2>, drive V e^{-i omega_MW t} |1><0| + h.c., and zero-temperature
decay |alpha> -> |0> with rate 2 gamma (jump sqrt(2 gamma) |0><alpha|, Eq. (S89) with
n_alpha = 0, no Lamb shift).

* :func:`linear_response_populations`: Eq. (S101), rho_11 and rho_22 to O(V^2).
* :func:`three_level_steady_state`: exact steady state of the 3 x 3 GKSL equation in
  the frame rotating at omega_MW (dense 9 x 9 solve, column-stacking superoperator of
  :mod:`dnpsim.dynamics.gksl`).

Level order: the caption of Fig. S11 says "energies 0, omega_e +- Delta"; the equations
of motion (S92)-(S94) (rho_01 oscillating with -i Delta, rho_02 with +i Delta) put
|1> at omega_e - Delta and |2> at omega_e + Delta, and only that order gives the
numerator (Delta omega + Delta)^2 + gamma^2 of Eq. (S101): in linear response the
excited amplitudes solve [[Dw - Delta - i gamma, J], [J, Dw + Delta - i gamma]] c = -V e_1
and rho_ab = c_a c_b^* (tests/systems/test_zeno_toy_model.py checks this against the
exact steady state).
* :func:`as_spin_model`: the same physics through the generic N = 2 DNP engine:
  offsets Delta_1 = -Delta, Delta_2 = +Delta, U_12 = J (flip-flop), only spin 1
  irradiated with omega_1 = 2 V (so <+-|omega_1 S^x_1|--> = V), T_1 = 1/(2 gamma) at a
  temperature with e^{-beta omega_e} ~ 0, and T*, T(0) so long that S^z dephasing
  is negligible.  rho_11 = (1 + P_1)/2 and rho_22 = (1 + P_2)/2 up to O(V^4) (the
  |++> level the toy model truncates is populated at O(V^4)).
"""

from __future__ import annotations

import numpy as np


def linear_response_populations(detuning, delta: float, coupling: float, gamma: float, drive: float):
    """Eq. (S101): (rho_11, rho_22) for Delta omega = omega_e - omega_MW = ``detuning``
    (array, rad/s), Delta, J, gamma, V (rad/s)."""
    dw = np.asarray(detuning, dtype=float)
    den = (dw**2 - delta**2 - coupling**2 - gamma**2) ** 2 + 4 * gamma**2 * dw**2
    rho11 = drive**2 * ((dw + delta) ** 2 + gamma**2) / den
    rho22 = drive**2 * coupling**2 / den
    return rho11, rho22


def three_level_steady_state(detuning: float, delta: float, coupling: float, gamma: float, drive: float,
                             *, tol: float = 1e-8) -> np.ndarray:
    """Exact stationary 3 x 3 density matrix (rotating frame) of the toy model: the
    GKSL equation (S46) with the jumps sqrt(2 gamma) |0><alpha| of Eq. (S89)
    (:func:`dnpsim.dynamics.gksl.gksl_superoperator`), solved directly with the trace
    as normalization (:func:`dnpsim.dynamics.gksl.stationary_density_matrix`;
    ConvergenceError above ``tol``).  Frequencies in rad/s."""
    from dnpsim.dynamics.gksl import gksl_superoperator, stationary_density_matrix

    # rotating frame at omega_MW: level energies minus omega_MW, Delta omega = omega_e - omega_MW
    h = np.array([[0.0, drive, 0.0],
                  [drive, detuning - delta, coupling],
                  [0.0, coupling, detuning + delta]], dtype=complex)
    jumps = []
    for a in (1, 2):
        op = np.zeros((3, 3), dtype=complex)
        op[0, a] = np.sqrt(2 * gamma)
        jumps.append(op)
    return stationary_density_matrix(gksl_superoperator(h, jumps), tol=tol)[0]


def as_spin_model(delta: float, coupling: float, gamma: float, drive: float, mw_detuning: float,
                  electron_larmor: float = 2 * np.pi * 93.9e9):
    """(model, environment) of the N = 2 DNP engine equivalent to the toy model (see
    module doc).  ``mw_detuning`` = omega_e - omega_MW (rad/s)."""
    from dnpsim.dynamics.jumps import BathTimescales
    from dnpsim.dynamics.jumps import OpenEnvironment
    from dnpsim.models.electrons import DipolarElectrons

    from dnpsim.units import TWO_PI

    # the engine's public inputs are cyclic (Hz); this toy model is written in rad/s
    model = DipolarElectrons(electron_larmor / TWO_PI, [-delta / TWO_PI, delta / TWO_PI],
                             [[0.0, coupling / TWO_PI], [coupling / TWO_PI, 0.0]])
    bath = BathTimescales(t1=1.0 / (2 * gamma), t_star=1e9, t_zero=1e9)
    # 0.05 K at 94 GHz: e^{-beta omega_e} ~ 1e-39, the bath is effectively at zero temperature
    env = OpenEnvironment(0.05, (electron_larmor - mw_detuning) / TWO_PI, 2.0 * drive / TWO_PI, bath, irradiated=0)
    return model, env
