"""The polarization readout of the package: P = 2<S_z> along B0 (docs: "Conventions")."""

from __future__ import annotations

import numpy as np


def polarization(populations, z_diagonal):
    """P = 2 sum_m p_m <m|S_z|m>: the polarization of one spin, or of several, from the
    populations of states that diagonalize S_z in the sense of the rate equation
    (eigenstates or Zeeman product states), e.g. Eq. (26) of the 2016 paper (P = 2<I_z>).

    populations : (..., n_states), e.g. (n_states,) or (n_times, n_states).
    z_diagonal : (n_states,) <m|S_z|m> of one spin, or (n_states, n_spins) of several.
    Returns (...) or (..., n_spins); a float for one spin and one population vector.
    """
    out = 2.0 * (np.asarray(populations) @ np.asarray(z_diagonal))
    return float(out) if np.ndim(out) == 0 else out
