"""ETH / many-body-localization diagnostics of the electron spins (Fig. 4 of De Luca
et al., PRB 94, 014203 (2016), Sec. V).

The system is the electron part of Eq. (9) of the 2016 paper, without the nucleus::

    H = sum_i Delta_i S_z^i + sum_{i<j} U_ij (S_+^i S_-^j + S_-^i S_+^j)

(the constant omega_e M of a sector is left out, :mod:`dnpsim.models.electrons`),
with Delta_i equally spaced in [-Delta omega_e, Delta omega_e] (footnote 37) and
U_ij Gaussian with zero mean and variance U^2 / N (Sec. II B).

Fig. 4 looks at one spin, "S^1", in every eigenstate |n> of the sector of vanishing
total magnetization (n_up = N/2):

* Fig. 4(a): the diagonal matrix elements <n|S_z^1|n>, ordered by energy.  In the
  thermal (ETH) phase they all lie close to the microcanonical value 0; in the
  many-body-localized phase they scatter over [-1/2, 1/2].
* Fig. 4(b): delta M_n^1 = <n+1|S_z^1|n+1> - <n|S_z^1|n> between consecutive
  eigenstates, averaged over the eigenstates of the sector and over disorder
  realizations, vs N.  The paper does not say how the signed difference is averaged
  (its plain mean telescopes to (last - first)/(d - 1) ~ 0); here it is the **mean
  of the absolute value**, |delta M_n^1|.  Exponential decay with N means ETH,
  saturation means MBL.

Which spin is "spin 1"
----------------------
The paper does not say.  With equally spaced offsets, site 0 has the most negative
offset (Delta_0 = -Delta omega_e (N - 1)/N) and the last site the most positive: edge
spins are far from resonance with the others and look more localized than a typical
spin.  The default here is a **middle spin, site N // 2** (offset +Delta omega_e / N,
next to the centre of the line); every function takes the site as a parameter
(``site=0`` gives the lowest-offset spin).

Units: model energies in rad/s (docs/conventions.md).  This module only reads
eigenstates; the disorder realizations of Fig. 4 and the scaling sweep over N, U and
realizations are :mod:`dnpsim.experiments.eth`.

Public API
----------
sector_spin_z(model, site, n_up=None) -> (energies, values)
check_site(site, n_electrons) -> int
consecutive_spin_z_difference(values) -> float
default_site(n_electrons) -> int
"""

from __future__ import annotations

import numpy as np

from dnpsim.dynamics.eigenbasis import diagonalize_sector
from dnpsim.models.electrons import DipolarElectrons

__all__ = ["default_site", "check_site", "sector_spin_z", "consecutive_spin_z_difference"]


def default_site(n_electrons: int) -> int:
    """The spin used as "S^1" of Fig. 4 by default: site N // 2, a middle spin
    (see the module docstring for why not site 0)."""
    return int(n_electrons) // 2


def check_site(site, n_electrons: int, name: str = "site") -> int:
    """``site`` as an int in 0..N-1 (TypeError for a non-integer, ValueError outside)."""
    if isinstance(site, bool) or not isinstance(site, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {site!r}")
    if not 0 <= int(site) < n_electrons:
        raise ValueError(f"{name}={site} outside 0..{n_electrons - 1} for N = {n_electrons} electrons")
    return int(site)


def sector_spin_z(model: DipolarElectrons, site: int, n_up: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-energies and <n|S_z^site|n> for every eigenstate of one magnetization
    sector (the data of Fig. 4(a) of the 2016 paper).

    Parameters
    ----------
    model : DipolarElectrons
        Usually without nucleus, as in Fig. 4.  With a nucleus the block also carries
        the nuclear state (dimension 2 C(N, n_up)) and the values are those of the
        joint eigenstates.
    site : int
        The spin ("S^1" of the paper), 0 <= site < N.  :func:`default_site` gives the
        middle spin N // 2 used by default elsewhere in this module.
    n_up : int, optional
        Number of up spins of the sector; default N // 2, i.e. vanishing total
        magnetization M = n_up - N/2 for even N (M = -1/2 for odd N).

    Returns
    -------
    energies : (d,) float
        Block energies in rad/s, ascending (the constant omega_e M is not included;
        it is zero for M = 0).  d = C(N, n_up) without nucleus.
    values : (d,) float
        <n|S_z^site|n> in the same order, each in [-1/2, 1/2].
    """
    n = model.n_electrons
    site = check_site(site, n)
    if n_up is None:
        n_up = n // 2
    if not 0 <= int(n_up) <= n:
        raise ValueError(f"n_up={n_up} outside 0..{n}")
    system = diagonalize_sector(model, int(n_up), keep_vectors=False)
    return system.energies, np.ascontiguousarray(system.spin_z[:, site])


def consecutive_spin_z_difference(values) -> float:
    """Mean over n of |delta M_n| = |values[n+1] - values[n]| (Fig. 4(b) of the 2016
    paper, averaged over the eigenstates of one sector).

    ``values`` is a 1D array of <n|S_z^1|n> **ordered by increasing energy** (as
    returned by :func:`sector_spin_z`), length d >= 2.  The absolute value is taken
    before averaging: the plain mean of the signed differences telescopes to
    (values[-1] - values[0]) / (d - 1) and carries no information.  Dimensionless,
    in [0, 1].
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {v.shape}")
    if v.size < 2:
        raise ValueError("values needs at least two eigenstates to form a difference")
    return float(np.mean(np.abs(np.diff(v))))
