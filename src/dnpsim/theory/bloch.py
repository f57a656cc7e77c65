"""Bloch saturation of a driven electron and the cross-effect efficiency conditions
(Eqs. (2) and (3) of Karabanov et al. 2018).  Internal units: rad/s and s^-1.

For rho = 1/2 - pbar (X S_x + Y S_y + Z S_z), Eq. (2):
    dX/dt = -Delta Y - R_2 X,  dY/dt = Delta X - omega_1 Z - R_2 Y,
    dZ/dt = omega_1 Y + R_1 (1 - Z),
with steady state X = Delta Z / (omega_1 eta'), Y = -R_2 Z / (omega_1 eta'),
Z = (1 + eta / eta')^-1, eta' = (R_2^2 + Delta^2) / omega_1^2, eta = R_2 / R_1.

The Lindblad single-spin dissipator of Eq. (1) damps the transverse components at
R_2 + R_1 / 2 (the T_1 jumps dephase too); Eq. (2) is written for R_2 >> R_1.  The
full master equation of one driven electron therefore equals Eq. (2) exactly with
R_2 -> R_2 + R_1 / 2 (checked in tests/systems/test_cross_effect_bloch.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def bloch_saturation(detuning, omega_1: float, t1: float, t2: float, drive: float = 2.0):
    """The Bloch saturation law, the one home of it in the package: the stationary
    longitudinal polarization of a driven spin relative to its undriven value,

        s = (1 + T2^2 d^2) / (1 + T2^2 d^2 + drive omega_1^2 T1 T2),

    ``d`` the detuning (rad/s, array allowed), omega_1 in rad/s, T1, T2 in s.  With a
    drive omega_1 S_x and the rates of Eq. (16) of the 2016 paper (Eq. (11) of the 2018
    paper) ``drive = 2``; Eq. (2) of the cross-effect paper (Rabi frequency omega_1 of
    its relative components) has ``drive = 1``: Z = s with T1 = 1/R_1, T2 = 1/R_2."""
    q = 1.0 + (t2 * np.asarray(detuning, dtype=float)) ** 2
    return q / (q + drive * omega_1**2 * t1 * t2)


def bloch_rhs(xyz, delta: float, omega1: float, R1: float, R2: float) -> np.ndarray:
    """Right-hand side of Eq. (2) for the relative components (X, Y, Z)."""
    X, Y, Z = xyz
    return np.array([-delta * Y - R2 * X, delta * X - omega1 * Z - R2 * Y, omega1 * Y + R1 * (1 - Z)])


def bloch_steady_state(delta, omega1: float, R1: float, R2: float):
    """Steady state (X, Y, Z) of Eq. (2); ``delta`` (rad/s) may be an array.

    Z = 1 / (1 + eta/eta') with eta = R_2/R_1, eta' = (R_2^2 + delta^2)/omega_1^2;
    without drive (omega_1 = 0) X = Y = 0, Z = 1."""
    delta = np.asarray(delta, float)
    if omega1 == 0:
        z = np.ones_like(delta)
        return np.zeros_like(delta), np.zeros_like(delta), z
    Z = bloch_saturation(delta, omega1, 1.0 / R1, 1.0 / R2, drive=1.0) if R1 > 0 else np.zeros_like(delta)
    # Z / (omega_1 eta') = omega_1 Z / (R_2^2 + delta^2): no overflow for tiny omega_1
    transverse = omega1 * Z / (R2**2 + delta**2)
    return delta * transverse, -R2 * transverse, Z


def saturation_ratio(delta, omega1: float, R1: float, R2: float):
    """epsilon = eta / eta' = omega_1^2 R_2 / (R_1 (R_2^2 + delta^2)) (text after Eq. (2)):
    >> 1 full saturation, << 1 none."""
    delta = np.asarray(delta, float)
    return omega1**2 * R2 / (R1 * (R2**2 + delta**2))


def effective_offsets(model, nuclear_states=None):
    """Discrete values of the operator-valued offsets of the text before Eq. (2):
    Delta_1bar = Delta_1 + 2 D S_2z + sum_k A_1k I_kz, Delta_2bar = Delta_2 + 2 D S_1z +
    sum_k A_2k I_kz, over every state of the other electron and of the nuclei
    (2^N of them; ``nuclear_states`` restricts to given integer nuclear configurations).
    Returns two arrays (rad/s).  (The paper writes them at Delta_1 = 0, Delta_2 = omega_I.)"""
    n = model.n_nuclei
    states = np.arange(2**n) if nuclear_states is None else np.asarray(nuclear_states)
    s = ((states[:, None] >> np.arange(n)[None, :]) & 1) - 0.5 if n else np.zeros((states.size, 0))
    out = []
    for j in range(2):
        field = s @ model.A[j]
        out.append(np.concatenate([model.offsets[j] + sign * model.D + field for sign in (-1.0, 1.0)]))
    return out[0], out[1]


@dataclass(frozen=True)
class Efficiency:
    """Eq. (3): eta_1 << eta << eta_2 over all discrete offsets.  ``eta1_max`` is the
    largest eta_1, ``eta2_min`` the smallest eta_2; ``margin`` = min(eta/eta1_max,
    eta2_min/eta) (>> 1 when the condition holds); ``incoherent`` tells eta_1 >> 1
    (no Rabi oscillations; the Zeeman projection of Eq. (4) applies)."""

    eta: float
    eta1_min: float
    eta1_max: float
    eta2_min: float
    margin: float
    incoherent_margin: float

    def holds(self, factor: float = 10.0) -> bool:
        """True when both inequalities of Eq. (3) hold by at least ``factor``."""
        return self.margin >= factor

    def incoherent(self, factor: float = 10.0) -> bool:
        """True when eta_1 >= factor (incoherent saturation of electron 1)."""
        return self.incoherent_margin >= factor


def efficiency(model) -> Efficiency:
    """Check Eq. (3), eta_j = (R_2^2 + Delta_jbar^2)/omega_1^2, eta = R_2/R_1, for a
    :class:`~dnpsim.models.cross_effect.CrossEffectModel` (all discrete Delta_jbar of
    :func:`effective_offsets`; N <= 20 nuclei)."""
    if model.n_nuclei > 20:
        raise ValueError("model: efficiency() enumerates 2^N nuclear states; N <= 20")
    d1, d2 = effective_offsets(model)
    if model.omega1 > 0:
        # (sqrt(R_2^2 + Delta^2) / omega_1)^2: a very weak drive gives inf, without warnings
        with np.errstate(over="ignore"):
            eta1 = (np.hypot(model.R2, d1) / model.omega1) ** 2
            eta2 = (np.hypot(model.R2, d2) / model.omega1) ** 2
    else:  # no drive: no saturation, eta_j is infinite (None in a Result's JSON)
        eta1 = eta2 = np.array([np.inf])
    eta = model.R2 / model.R1 if model.R1 > 0 else np.inf
    with np.errstate(invalid="ignore"):  # inf / inf (no drive and no T_1): margin NaN
        margin = float(min(eta / eta1.max(), eta2.min() / eta))
    return Efficiency(float(eta), float(eta1.min()), float(eta1.max()), float(eta2.min()), margin,
                      float(eta1.min()))
