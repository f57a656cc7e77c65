"""Disorder draws of the spin-temperature model (De Luca et al. 2016, Sec. II B).

Every draw takes a :class:`numpy.random.Generator` (docs/conventions.md).  Scales
are in any frequency unit; the result has the same unit.  Gaussian draws are a
standard-normal stream times the scale, so a sweep over the scale with a fixed seed
rescales one and the same disorder realization (common random numbers).
"""

from __future__ import annotations

import numpy as np


def equally_spaced_offsets(n: int, half_width: float) -> np.ndarray:
    """Delta_i = half_width (2i - N - 1)/N, i = 1..N (footnote 37 of the 2016 paper).

    Shape (n,).  Symmetric about zero, spacing 2 half_width / N.
    """
    i = np.arange(1, n + 1)
    return half_width * (2.0 * i - n - 1.0) / n


def uniform_offsets(n: int, width: float, rng: np.random.Generator) -> np.ndarray:
    """Delta_i uniform in [-width/2, width/2] (the 2021 paper's disorder). Shape (n,)."""
    return width * (rng.random(n) - 0.5)


def gaussian_couplings(n: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Symmetric (n, n) matrix with U_ij ~ N(0, scale^2/N) for i < j and zero diagonal
    (Sec. II B of the 2016 paper: "Gaussian random variables with zero mean and
    variance U^2/N")."""
    upper = np.triu_indices(n, k=1)
    values = rng.standard_normal(upper[0].size) * (scale / np.sqrt(n))
    out = np.zeros((n, n))
    out[upper] = values
    return out + out.T


def gaussian_hyperfine(n: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """D_i ~ N(0, scale^2/N), shape (n,) (text after Eq. (9) of the 2016 paper)."""
    return rng.standard_normal(n) * (scale / np.sqrt(n))
