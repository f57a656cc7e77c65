"""Random positions of N electron spins at a given radical concentration.

Geometry: a **periodic cubic box** of side L = (N / n)^(1/3), n = c N_A the number
density (c in mol/m^3, numerically mM), with N points drawn uniformly in [0, L)^3 and
displacements taken by the **minimum-image** convention (each pair at the shortest of
its periodic copies).  The static field B0 is along z.

Finite-size bias.  Each electron sees only its N - 1 minimum images, all within a cube
of side L around it: the dipolar 1/r^3 sum is truncated at distances ~ L / 2 and holds
N - 1 terms instead of the infinite sample's unbounded number.  The nearest-neighbour
distances are those of N - 1 uniform points in volume N / n, which is the Poisson law
P(r) = 4 pi n r^2 exp(-4 pi n r^3 / 3) up to corrections O(1/N); the far part of the
local-field distribution (couplings from r > L / 2) is missing, a relative bias of the
local-field width ~ 1 / N in the dilute (Lorentzian) limit but much larger in the
spread of *which* couplings dominate: with N = 10-12 every electron has only a handful
of partners (see :mod:`dnpsim.sample.dipolar` for the bulk mapping).
"""

from __future__ import annotations

import numpy as np

from dnpsim.units import N_A


def number_density(concentration: float) -> float:
    """n = c N_A in 1/m^3, for a concentration c in mol/m^3 (= mM)."""
    return float(concentration) * N_A


def box_side(n_points: int, concentration: float) -> float:
    """Side L = (N / n)^(1/3) in m of the cube that holds N spins at concentration c."""
    return (n_points / number_density(concentration)) ** (1.0 / 3.0)


def random_positions(n_points: int, concentration: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """N points uniform in the periodic cube at concentration c (mol/m^3).

    Returns (positions (N, 3) in m, box side L in m).  The draw is ``rng.random((N, 3))``
    times L, so a fixed seed gives one configuration whose scale follows c^(-1/3).
    """
    side = box_side(n_points, concentration)
    return rng.random((n_points, 3)) * side, side


def minimum_image(displacement: np.ndarray, box: float | None) -> np.ndarray:
    """Displacements (..., 3) folded to the nearest periodic image (``box`` None: unchanged)."""
    d = np.asarray(displacement, dtype=float)
    if box is None:
        return d
    return d - box * np.round(d / box)


def pair_displacements(positions: np.ndarray, box: float | None) -> np.ndarray:
    """r_ij = r_j - r_i (N, N, 3) in the minimum-image convention."""
    p = np.asarray(positions, dtype=float)
    return minimum_image(p[None, :, :] - p[:, None, :], box)


def nearest_neighbour_distances(positions: np.ndarray, box: float | None) -> np.ndarray:
    """Distance of each point to its nearest neighbour (minimum image), shape (N,)."""
    from scipy.spatial import cKDTree

    p = np.asarray(positions, dtype=float)
    if box is not None:
        p = np.mod(p, box)
        # cKDTree wants points strictly inside [0, box)
        p[p >= box] = 0.0
    tree = cKDTree(p, boxsize=box)
    distances, _ = tree.query(p, k=2)
    return distances[:, 1]


def poisson_nearest_neighbour_cdf(r, concentration: float):
    """P(nearest neighbour < r) = 1 - exp(-4 pi n r^3 / 3) of a Poisson sample (r in m)."""
    n = number_density(concentration)
    return 1.0 - np.exp(-4.0 * np.pi * n * np.asarray(r, dtype=float) ** 3 / 3.0)
