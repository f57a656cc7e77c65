"""Polarizations read from eigenstate populations (P = 2<S_z>, DESIGN.md "Signs")."""

from __future__ import annotations

import numpy as np


def nuclear_polarization(populations: np.ndarray, nuclear_z: np.ndarray) -> float:
    """P_n = 2 sum_m p_m <m|I_z|m>, Eq. (26) of the 2016 paper (with P = 2<I_z>).

    populations, nuclear_z : (n_states,) in the same eigenstate order.
    """
    return float(2.0 * np.dot(populations, nuclear_z))


def electron_polarizations(populations: np.ndarray, spin_z: np.ndarray) -> np.ndarray:
    """Per-electron polarization 2 sum_m p_m <m|S_z^i|m>; spin_z is (n_states, N),
    the result (N,) in input order."""
    return 2.0 * populations @ spin_z
