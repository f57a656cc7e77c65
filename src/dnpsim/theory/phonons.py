"""Phonon bath timescales (Maimbourg et al. 2021, SM Sec. V B): 1/T(|omega|) for
the direct one-phonon process (Eq. (S105)) and two-phonon processes (Eq. (S106)),
and the bath timescales T_1 = 2 T(omega_e), T*, T(0) they imply.

Units: omega in rad/s, temperature in K, theta = k_B T / hbar in rad/s.  The
material constants (g^(1)/g_e)^2 omega_e^2 / (rho_0 v^5) and
(g^(2)/g_e)^2 omega_e^2 / (rho_0 v^5)^2 are unknown (the paper says so); they enter as
``direct_prefactor`` (s^2, so that prefactor * omega^3 is a rate) and
``two_phonon_prefactor`` (s^6, prefactor * theta^7 is a rate).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from dnpsim.units import HBAR, K_B


def _theta(temperature: float) -> float:
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return K_B * temperature / HBAR


def direct_rate(omega, temperature: float, direct_prefactor: float):
    """Eq. (S105): 1/T(|omega|) = (1/2pi) A omega^3 coth(beta omega / 2), 1/s, with
    A = ``direct_prefactor``; at omega -> 0 the limit (1/2pi) A 2 omega^2 theta -> 0."""
    w = np.abs(np.asarray(omega, dtype=float))
    x = 0.5 * w / _theta(temperature)
    with np.errstate(divide="ignore", invalid="ignore"):
        coth = np.where(x > 0, 1.0 / np.tanh(np.where(x > 0, x, 1.0)), 0.0)
    return direct_prefactor / (2 * math.pi) * w**3 * coth


def _two_phonon_integrals(b: float) -> tuple[float, float]:
    """Absorption and Raman integrals of Eq. (S106) for b = beta |omega| / 2."""
    def absorption(y):
        return 0.0 if y <= 0 or y >= b else y**3 * (b - y) ** 3 / (math.sinh(y) * math.sinh(b - y))

    def raman(y):
        if y <= 0:
            return 0.0 if b > 0 else 0.0
        if y > 350:
            return 0.0
        return y**3 * (b + y) ** 3 / (math.sinh(y) * math.sinh(b + y))

    i_abs = integrate.quad(absorption, 0.0, b, limit=200)[0] if b > 0 else 0.0
    i_ram = integrate.quad(raman, 0.0, np.inf, limit=400)[0]
    return i_abs, i_ram


def two_phonon_rate(omega, temperature: float, two_phonon_prefactor: float):
    """Eq. (S106): 1/T(|omega|) = (16/pi^3) B theta^7 cosh(beta omega/2) [I_abs + 2 I_Raman],
    1/s, with B = ``two_phonon_prefactor`` (s^6)."""
    theta = _theta(temperature)
    w = np.abs(np.atleast_1d(np.asarray(omega, dtype=float)))
    out = np.empty_like(w)
    for i, wi in enumerate(w):
        b = 0.5 * wi / theta
        i_abs, i_ram = _two_phonon_integrals(b)
        out[i] = 16 / math.pi**3 * two_phonon_prefactor * theta**7 * math.cosh(b) * (i_abs + 2 * i_ram)
    return out if np.ndim(omega) else float(out[0])


def bath_timescales(temperature: float, electron_larmor: float, small_gap: float, direct_prefactor: float,
                    two_phonon_prefactor: float):
    """(T_1, T*, T(0)) in s from the phonon rates: T_1 = 2 T(omega_e) (footnote 6),
    T* = T(small_gap) (a typical flip-flop gap, rad/s), T(0) = T(omega -> 0); the
    direct and two-phonon rates add."""
    from dnpsim.dynamics.jumps import BathTimescales

    def t_of(omega):
        return 1.0 / (direct_rate(omega, temperature, direct_prefactor)
                      + two_phonon_rate(omega, temperature, two_phonon_prefactor))

    return BathTimescales(2.0 * float(t_of(electron_larmor)), float(t_of(small_gap)), float(t_of(0.0)))
