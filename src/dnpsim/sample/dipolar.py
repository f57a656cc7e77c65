"""Dipolar couplings of electron spins at given positions, and the bulk mapping of a
radical concentration to the coupling scale U of the 2016 model.

Eq. (4) of the spin-temperature paper (De Luca et al. 2016) writes the secular dipolar
interaction of two electrons, field B0 along z, as

    H_ee = sum_{i<j} U_ij [4 S_z^i S_z^j - (S_+^i S_-^j + S_-^i S_+^j)],
    U_ij = mu_0 gamma_e^2 hbar (1 - 3 cos^2 theta_ij) / (16 pi r_ij^3)   (rad/s),

(the paper sets hbar = 1; gamma_e = g mu_B / hbar with the free-electron g).  The engine
(:class:`dnpsim.models.electrons.DipolarElectrons`) writes the flip-flop term as
``couplings`` x (S_+ S_- + S_- S_+) and the Ising term as ``ising`` x S_z S_z, so Eq. (4)
is ``couplings = -U_ij`` and ``ising = 4 U_ij = -4 couplings``: the same relation as
``model.ising = "dipolar"`` (J_ij = -4 U_ij of the 2021 paper's Eq. (2), whose U_ij is
the flip-flop coefficient).  :func:`eq4_couplings` returns U_ij of Eq. (4),
:func:`engine_couplings` the engine's flip-flop matrix.  Frequencies returned are cyclic
(Hz), the boundary convention.

**Bulk mapping.**  The 2016 model's all-to-all couplings U_ij ~ N(0, U^2 / N) stand for
a macroscopic glass.  We fix U so that each electron sees the same *local field* as in
an infinite dilute sample: the field F_i = sum_j U_ij eps_j of its partners in random
states eps_j = +-1.  In the Gaussian model (N -> infinity) F_i is normal with standard
deviation U.  In a sample of randomly placed spins (Poisson, number density n) the
statistical theory of dipolar broadening in dilute solids (Margenau 1935; Kittel and
Abrahams, Phys. Rev. 90, 238 (1953); Abragam, *The Principles of Nuclear Magnetism*,
ch. IV) gives a Lorentzian: with a = mu_0 gamma_e^2 hbar / (16 pi),

    ln <exp(i k F)> = -n int d^3r [1 - cos(k a (1 - 3 cos^2 theta) / r^3)]
                    = -|k| n a (pi / 6) 2 pi int_{-1}^{1} |1 - 3 x^2| dx
                    = -|k| Gamma,   Gamma = 8 pi^2 n a / (9 sqrt 3)

(substitute t = |k a (1 - 3 cos^2 theta)| / r^3, int_0^inf (1 - cos t) / t^2 dt = pi / 2,
int |1 - 3 x^2| dx = 8 / (3 sqrt 3)), so F is Cauchy with half-width Gamma, exactly
linear in n.  A Cauchy law has no variance; its median |F| is Gamma, the Gaussian's is
z U with z = Phi^-1(3/4) = 0.6745.  Matching the medians (equivalently the quartiles):

    U = Gamma / z = 8 pi^2 a n / (9 sqrt 3 z) = mu_0 gamma_e^2 hbar n pi / (18 sqrt 3 z).

:data:`BULK_COUPLING_HZ_PER_MM` is U / 2 pi per mM (about 58.84 kHz per mM; 40 mM gives
U / 2 pi = 2.35 MHz); :func:`bulk_coupling_scale` is U / 2 pi for a concentration.
The same Gamma is the half-width of the distribution of single-spin local fields, the
dilute-limit EPR dipolar broadening.
"""

from __future__ import annotations

import math

import numpy as np

from dnpsim.sample.positions import number_density, pair_displacements, minimum_image
from dnpsim.units import G_FREE_ELECTRON, HBAR, MU_0, MU_B, TWO_PI

#: |gamma_e| = g mu_B / hbar of the free electron, rad/(s T).
GAMMA_ELECTRON: float = G_FREE_ELECTRON * MU_B / HBAR
#: a = mu_0 gamma_e^2 hbar / (16 pi): U_ij of Eq. (4) is a (1 - 3 cos^2 theta) / r^3, rad/s m^3.
DIPOLAR_PREFACTOR: float = MU_0 * GAMMA_ELECTRON**2 * HBAR / (16.0 * math.pi)
#: z = Phi^-1(3/4), the median of |X| for a standard normal X.
MEDIAN_ABS_NORMAL: float = 0.6744897501960817
#: Gamma / (n a): the Cauchy half-width of the dilute local field in units of n a.
LOCAL_FIELD_FACTOR: float = 8.0 * math.pi**2 / (9.0 * math.sqrt(3.0))


def eq4_couplings(positions: np.ndarray, box: float | None = None) -> np.ndarray:
    """U_ij of Eq. (4) in Hz, (N, N) symmetric with zero diagonal, for positions (N, 3)
    in m (minimum image in a periodic cube of side ``box`` m, or open when None)."""
    r = pair_displacements(positions, box)
    d2 = np.einsum("ijk,ijk->ij", r, r)
    n = d2.shape[0]
    out = np.zeros((n, n))
    off = ~np.eye(n, dtype=bool)
    if np.any(d2[off] == 0.0):
        raise ValueError("two electrons at the same position")
    cos2 = r[..., 2][off] ** 2 / d2[off]
    out[off] = DIPOLAR_PREFACTOR * (1.0 - 3.0 * cos2) / d2[off] ** 1.5 / TWO_PI
    return out


def engine_couplings(positions: np.ndarray, box: float | None = None) -> np.ndarray:
    """The engine's flip-flop matrix (``model.couplings``, Hz) of Eq. (4): -U_ij; its
    ``ising = "dipolar"`` is then 4 U_ij, the Ising part of Eq. (4)."""
    return 0.0 - eq4_couplings(positions, box)   # 0.0 - : no -0.0 on the diagonal


def local_field_halfwidth(concentration: float) -> float:
    """Gamma / 2 pi (Hz): the Cauchy half-width of F_i = sum_j U_ij eps_j in an infinite
    Poisson sample at concentration c (mol/m^3 = mM); see the module docstring."""
    return LOCAL_FIELD_FACTOR * number_density(concentration) * DIPOLAR_PREFACTOR / TWO_PI


def bulk_coupling_scale(concentration: float) -> float:
    """U / 2 pi (Hz) of the 2016 Gaussian model for a radical concentration c in
    mol/m^3 (= mM): the scale whose local field has the median of the infinite dilute
    sample's, U = Gamma / Phi^-1(3/4).  Linear in c (:data:`BULK_COUPLING_HZ_PER_MM`)."""
    if not concentration >= 0:
        raise ValueError(f"concentration must be non-negative, got {concentration}")
    return local_field_halfwidth(concentration) / MEDIAN_ABS_NORMAL


#: U / 2 pi of the bulk mapping per mM of radicals, Hz (about 5.884e4).
BULK_COUPLING_HZ_PER_MM: float = bulk_coupling_scale(1.0)


def nuclear_hyperfine(electron_positions: np.ndarray, nucleus_position, nuclear_gamma_hz_per_t: float,
                      box: float | None = None) -> np.ndarray:
    """D_i (Hz) of the thermometer nucleus: the S_z^i I_x coefficient D_i^(x) of Eq. (5)
    for the point-dipole electron-nucleus interaction, field along z,

        D_i = mu_0 |gamma_e| gamma_n hbar (-3 cos theta_i sin theta_i cos phi_i) / (4 pi r_i^3)

    (rad/s; returned / 2 pi), r_i = nucleus - electron i in minimum image, theta_i, phi_i
    its polar angles.  ``nuclear_gamma_hz_per_t`` is gamma_n / 2 pi in Hz/T (signed)."""
    r = minimum_image(np.asarray(nucleus_position, dtype=float)[None, :] - np.asarray(electron_positions, dtype=float), box)
    dist = np.linalg.norm(r, axis=1)
    if np.any(dist == 0.0):
        raise ValueError("the nucleus sits on an electron")
    prefactor = MU_0 * GAMMA_ELECTRON * (TWO_PI * nuclear_gamma_hz_per_t) * HBAR / (4.0 * math.pi)
    return prefactor * (-3.0 * r[:, 2] * r[:, 0] / dist**2) / dist**3 / TWO_PI
