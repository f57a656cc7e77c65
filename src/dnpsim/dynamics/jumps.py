"""Eigenbasis matrix elements of local spin operators, per site, and the bath
timescales of the 2021 open-system engine (Maimbourg et al., PRL 126, 120603).

:mod:`dnpsim.dynamics.eigenbasis` stores *squared* transition strengths summed over
sites (enough for rate equations).  The GKSL engine and the EPR spectrum with
coherences (Eq. (S63)) need the amplitudes themselves, site by site:

* ``lowering_amplitudes`` -> (N, d_k, d_{k+1}) array ``<n|S^-_j|m>`` for n in sector
  k, m in sector k+1 (real: the sector blocks are real symmetric);
* ``total_raising_amplitude`` -> (d_{k+1}, d_k) array ``<n|S^+|m>`` with S^+ = sum_j
  S^+_j (or one irradiated site);
* ``spin_z_matrices`` -> (N, d, d) array ``<n|S^z_j|m>`` inside one sector.

They are products of row subsets of the sector eigenvector matrices, using the
``raising(site)`` index maps of :mod:`dnpsim.spin.sectors` (no operator matrix is
formed).  Only models without the thermometer nucleus are supported (the 2021 paper
has none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dnpsim.dynamics.eigenbasis import SectorEigensystem
from dnpsim.errors import ModelError, shown
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.units import Angular, detailed_balance, inverse_temperature, parse_fields


def _require_vectors(*systems: SectorEigensystem) -> None:
    for s in systems:
        if s.vectors is None:
            raise ValueError(f"sector n_up={s.n_up} was diagonalized without keep_vectors")


def _require_no_nucleus(model: DipolarElectrons) -> None:
    if model.has_nucleus:
        raise ModelError("model.nuclei", "the open-system (2021) engine has no thermometer nucleus; drop [model.nuclei]")


def lowering_amplitudes(model: DipolarElectrons, low: SectorEigensystem, high: SectorEigensystem) -> np.ndarray:
    """<n|S^-_j|m> for n in ``low`` (n_up = k), m in ``high`` (k + 1), every site j.

    Returns a real (N, d_k, d_{k+1}) array.  <n|S^-_j|m> = <m|S^+_j|n> =
    sum_s V_high[s + 2^j, m] V_low[s, n] over basis states s of ``low`` with spin j
    down (the ``raising(j)`` map).
    """
    _require_no_nucleus(model)
    _require_vectors(low, high)
    sec = model.sector(low.n_up)
    out = np.zeros((model.n_electrons, low.dim, high.dim))
    for site in range(model.n_electrons):
        src, dst = sec.raising(site)
        if src.size:
            out[site] = low.vectors[src].T @ high.vectors[dst]
    return out


def total_raising_amplitude(model: DipolarElectrons, low: SectorEigensystem, high: SectorEigensystem,
                            site: int | None = None) -> np.ndarray:
    """<n|S^+|m> for n in ``high`` (k + 1), m in ``low`` (k), shape (d_{k+1}, d_k).

    S^+ = sum_j S^+_j, or S^+_site alone when ``site`` is given (single irradiated
    spin, note after Eq. (S46)).
    """
    _require_no_nucleus(model)
    _require_vectors(low, high)
    sec = model.sector(low.n_up)
    out = np.zeros((high.dim, low.dim))
    sites = range(model.n_electrons) if site is None else [site]
    for j in sites:
        src, dst = sec.raising(j)
        if src.size:
            out += high.vectors[dst].T @ low.vectors[src]
    return out


def spin_z_matrices(model: DipolarElectrons, system: SectorEigensystem) -> np.ndarray:
    """<n|S^z_j|m> inside one sector for every site j; real (N, d, d).

    Z^j = V^T diag(s^j) V with s^j = +-1/2 the basis-state values.
    """
    _require_no_nucleus(model)
    _require_vectors(system)
    s = model.block_spin_z(system.n_up)  # (d, N)
    v = system.vectors
    return np.einsum("sn,sj,sm->jnm", v, s, v, optimize=True)


@dataclass(frozen=True)
class BathTimescales:
    """Bath timescales T(|omega|) of Eq. (5) of the 2021 paper, in seconds.

    t1 : T_1, spin-flip relaxation time; T(omega_e) = T_1 / 2 (footnote 6 of the SM:
         the factor 2 makes N = 1 reproduce Bloch's solution with relaxation time T_1)
    t_star : T*, for S^z transitions at finite gaps |omega| << omega_e
    t_zero : T(0), for zero-energy (diagonal, pure-dephasing) S^z transitions
    """

    t1: float
    t_star: float
    t_zero: float

    def __post_init__(self):
        for name in ("t1", "t_star", "t_zero"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ModelError(f"environment.{name}", f"must be a positive time in seconds, got {shown(value)}")

    def timescale(self, gap, electron_larmor: float, zero_tolerance: float = 0.0):
        """T(|omega|) for gaps ``omega`` (rad/s, array): T_1/2 for |omega| > omega_e/2,
        T(0) for |omega| <= ``zero_tolerance``, T* otherwise (Eqs. (7)-(8), footnote 6)."""
        g = np.abs(np.asarray(gap, dtype=float))
        return np.where(g > 0.5 * electron_larmor, 0.5 * self.t1, np.where(g <= zero_tolerance, self.t_zero, self.t_star))


@dataclass(frozen=True)
class OpenEnvironment:
    """Bath and drive of the 2021 engine, in the units of the spec files (numbers or
    strings with units).

    temperature : K (> 0)
    mw_frequency : omega_MW / 2 pi, Hz (> 0)
    mw_amplitude : omega_1 / 2 pi, Hz (>= 0)
    bath : :class:`BathTimescales` (T_1, T*, T(0), seconds)
    irradiated : None (all spins, S^x) or the index j of the one irradiated spin (S^x_j)

    The Liouvillian uses :attr:`beta` (s/rad), :attr:`omega_mw`, :attr:`omega_1` (rad/s).
    """

    temperature: float
    mw_frequency: float
    mw_amplitude: float
    bath: BathTimescales
    irradiated: int | None = None

    #: omega_MW and omega_1, rad/s
    omega_mw = Angular("mw_frequency")
    omega_1 = Angular("mw_amplitude")

    def __post_init__(self):
        parse_fields(self, {"temperature": "temperature", "mw_frequency": "frequency", "mw_amplitude": "frequency"},
                     "environment")
        if not (np.isfinite(self.temperature) and self.temperature > 0):
            raise ModelError("environment.temperature", f"must be positive, got {self.temperature}")
        if not (np.isfinite(self.mw_amplitude) and self.mw_amplitude >= 0):
            raise ModelError("environment.mw_amplitude", f"must be non-negative, got {self.mw_amplitude}")
        if not np.isfinite(self.mw_frequency):
            raise ModelError("environment.mw_frequency", "must be finite")
        if not isinstance(self.bath, BathTimescales):
            raise ModelError("environment.bath", "must be a BathTimescales")

    @property
    def beta(self) -> float:
        """hbar / (k_B T), s/rad."""
        return inverse_temperature(self.temperature)

    def check_model(self, model: DipolarElectrons) -> None:
        """Raise ModelError if the environment does not fit ``model``."""
        if model.has_nucleus:
            raise ModelError("model.nuclei", "the open-system (2021) engine has no thermometer nucleus")
        if self.irradiated is not None and not 0 <= self.irradiated < model.n_electrons:
            raise ModelError("environment.irradiated", f"must be a spin index in 0..{model.n_electrons - 1}, got {self.irradiated}")

    def flip_rates(self, model: DipolarElectrons) -> tuple[float, float]:
        """(gamma_down, gamma_up) = (h(omega_e), h(-omega_e)) / T_1 of the amplitude
        damping equivalent to Eq. (7) (x and y cross terms cancel), 1/s."""
        h = float(detailed_balance(model.omega_e, self.beta))
        return h / self.bath.t1, (1.0 - h) / self.bath.t1

    def dephasing_coefficients(self) -> tuple[float, float]:
        """(a, b) of Eq. (8): A^z_i = a S^z_i + b D_i with D_i = sum_n <n|S^z_i|n> |n><n|."""
        a = 1.0 / math.sqrt(2.0 * self.bath.t_star)
        return a, 1.0 / math.sqrt(2.0 * self.bath.t_zero) - a
