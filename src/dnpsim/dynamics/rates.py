"""Pauli master equation rates between many-body eigenstates (the one rate builder).

Eq. (11) of De Luca et al., PRB 94, 014203 (2016):
    dp_n/dt = sum_{n'} W_{n'->n} p_{n'} - W_{n->n'} p_n
with the bath rates of Eq. (12),
    W^bath_{n'->n} = (2 h_beta(eps_{n'} - eps_n) / T_1e) sum_j sum_{a=x,y,z} |<n|S_a^j|n'>|^2,
and the microwave rates of Eq. (16),
    W^MW_{n,n'} = 4 omega_1^2 T_2e |<n|S_x|n'>|^2 / (1 + T_2e^2 (|eps_n - eps_n'| - omega_MW)^2).

eps are lab-frame energies; h_beta(x) = e^{beta x} / (1 + e^{beta x}) so downhill
transitions (eps_{n'} > eps_n) are favoured and detailed balance holds without
microwaves.  Normalization check: for one spin (N = 1) these rates give the Bloch
steady state P = P_0 (1 + T_2e^2 d^2) / (1 + T_2e^2 d^2 + 2 omega_1^2 T_1e T_2e), the
form of Eq. (11) of the 2018 paper (the "2" comes from Eq. (16)'s prefactor 4).

The bath part does not depend on the microwave parameters, so a DNP profile builds it
once (:class:`PauliRates`) and adds the microwave part per frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.models.electrons import ModelError
from dnpsim.solvers.markov import BlockTridiagonal, complete_generator, diagonal_view
from dnpsim.units import inverse_temperature


@dataclass(frozen=True)
class Environment:
    """Bath and microwave parameters of the rate equation (internal units).

    temperature : K (> 0)
    mw_frequency : omega_MW, rad/s
    mw_amplitude : omega_1, rad/s (>= 0)
    t1e, t2e : s (> 0)
    """

    temperature: float
    mw_frequency: float
    mw_amplitude: float
    t1e: float
    t2e: float

    def __post_init__(self):
        if not self.temperature > 0:
            raise ModelError("environment.temperature", f"must be positive, got {self.temperature}")
        if not self.mw_amplitude >= 0:
            raise ModelError("environment.mw_amplitude", f"must be non-negative, got {self.mw_amplitude}")
        for name in ("t1e", "t2e"):
            if not getattr(self, name) > 0:
                raise ModelError(f"environment.{name}", f"must be a positive time, got {getattr(self, name)}")
        if not np.isfinite(self.mw_frequency):
            raise ModelError("environment.mw_frequency", "must be finite")

    @property
    def beta(self) -> float:
        """hbar / (k_B T) in s/rad."""
        return inverse_temperature(self.temperature)


#: Tile edge of the transposed writes of the compiled rate kernels (cache-sized).
_TILE = 64


def bath_rates(basis: Eigenbasis, beta: float, t1e: float) -> BlockTridiagonal:
    """Off-diagonal bath rates of Eq. (12) as a block-tridiagonal matrix (diagonal of
    the diagonal blocks left at zero).  Entry [n, n'] is the rate n' -> n.

    Between sectors the x, y components give sum_j |<n|S_+^j|n'>|^2 / 2, within a
    sector the z component gives sum_j |<n|S_z^j|n'>|^2.  Assembled by compiled
    kernels in one pass per block (the plain-numpy form they are tested against is
    ``tests/brute_force.py::sector_bath_rates``).
    """
    diag, lower, upper = [], [], []
    for k, system in enumerate(basis.sectors):
        # the sector shift cancels inside a sector
        block = np.empty_like(basis.dephasing[k])
        _sector_bath_rates(system.energies, basis.dephasing[k], beta, 2.0 / t1e, block)
        diag.append(block)
    for k, strength in enumerate(basis.raising):
        up = np.empty_like(strength)
        down = np.empty(strength.shape[::-1])
        _pair_bath_rates(basis.sectors[k + 1].lab_energies, basis.sectors[k].lab_energies, strength, beta,
                         1.0 / t1e, up, down)
        lower.append(up)
        upper.append(down)
    return BlockTridiagonal(diag, lower, upper)


@numba.njit(cache=True, nogil=True, inline="always")
def _logistic(z):  # pragma: no cover - compiled
    """h = e^z / (1 + e^z) without overflow: :func:`dnpsim.units.detailed_balance`
    (h_beta of Eq. (12)) at z = beta x, for compiled loops; equal to it to 1e-14
    (tests/test_mixed_precision.py)."""
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@numba.njit(cache=True, nogil=True)
def _sector_bath_rates(energies, dephasing, beta, prefactor, out):  # pragma: no cover - compiled
    """out[n, n'] = prefactor h_beta(E_n' - E_n) dephasing[n, n'] (Eq. (12), S_z part)."""
    d = energies.size
    for i in range(d):
        for j in range(d):
            out[i, j] = prefactor * _logistic(beta * (energies[j] - energies[i])) * dephasing[i, j]


@numba.njit(cache=True, nogil=True)
def _pair_bath_rates(high_energy, low_energy, strength, beta, prefactor, up, down):  # pragma: no cover
    """Eq. (12) between neighbouring sectors: up[i, j] (low j -> high i) =
    prefactor h_beta(E_j - E_i) strength[i, j], down[j, i] (high i -> low j) =
    prefactor h_beta(E_i - E_j) strength[i, j]; transposed writes tile by tile."""
    n_high, n_low = strength.shape
    for i0 in range(0, n_high, _TILE):
        i1 = min(i0 + _TILE, n_high)
        for j0 in range(0, n_low, _TILE):
            j1 = min(j0 + _TILE, n_low)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    up[i, j] = prefactor * _logistic(beta * (low_energy[j] - high_energy[i])) * strength[i, j]
            for j in range(j0, j1):
                for i in range(i0, i1):
                    down[j, i] = prefactor * _logistic(beta * (high_energy[i] - low_energy[j])) * strength[i, j]


@numba.njit(cache=True, nogil=True)
def _add_microwaves(high_energy, low_energy, total, bath_lower, bath_upper, omega_mw, prefactor, t2e,
                    lower, upper, escape_low, escape_high):  # pragma: no cover - compiled
    """One sector pair of the generator at one frequency, in one pass (Eq. (16)):
    m[i, j] = prefactor total[i, j] / (1 + T_2e^2 (|E_i - E_j| - omega_MW)^2) with
    E lab energies of the high (i) and low (j) sector; lower = bath_lower + m,
    upper = bath_upper + m^T (written tile by tile so both stay cache-friendly), and
    the microwave escape rates added to escape_low[j] (sum over i) and
    escape_high[i] (sum over j).  |<n|S_x|n'>|^2 = |<n|S_+|n'>|^2 / 4 between
    neighbouring sectors, so prefactor = 4 omega_1^2 T_2e / 4 = omega_1^2 T_2e.  A numpy
    form (``tests/brute_force.py::sector_microwave_rates``, the test reference) made ~10
    memory passes per block, as long as a float32 N = 12 solve; this makes one and
    releases the GIL so threads assemble frequencies in parallel."""
    n_high, n_low = total.shape
    tile = np.empty((_TILE, _TILE))
    for i0 in range(0, n_high, _TILE):
        i1 = min(i0 + _TILE, n_high)
        for j0 in range(0, n_low, _TILE):
            j1 = min(j0 + _TILE, n_low)
            for i in range(i0, i1):
                energy = high_energy[i]
                row_sum = 0.0
                for j in range(j0, j1):
                    detuning = (abs(energy - low_energy[j]) - omega_mw) * t2e
                    m = prefactor * total[i, j] / (1.0 + detuning * detuning)
                    tile[i - i0, j - j0] = m
                    lower[i, j] = bath_lower[i, j] + m
                    row_sum += m
                    escape_low[j] += m
                escape_high[i] += row_sum
            for j in range(j0, j1):
                for i in range(i0, i1):
                    upper[j, i] = bath_upper[j, i] + tile[i - i0, j - j0]


class PauliRates:
    """Rate equation of one realization: bath rates cached, microwaves per call.

    >>> rates = PauliRates(basis, beta, t1e)          # doctest: +SKIP
    >>> q = rates.generator(omega_mw, omega_1, t2e)   # doctest: +SKIP
    """

    def __init__(self, basis: Eigenbasis, beta: float, t1e: float):
        self.basis = basis
        self.beta = beta
        self.t1e = t1e
        # complete_generator puts the bath escape rates on the diagonals; they do not
        # depend on the microwaves, so each frequency only adds its own escape rates
        self.bath = complete_generator(bath_rates(basis, beta, t1e))

    def generator(self, omega_mw, omega_1: float, t2e: float) -> BlockTridiagonal:
        """Full generator Q (columns sum to zero) with bath and microwave rates.

        ``omega_mw`` (rad/s) may be a 1-d array of F frequencies: the result is then a
        batch of F generators (blocks with a leading axis F) for batched solvers.
        """
        bath = self.bath
        batch = np.shape(omega_mw)
        diag = [np.array(np.broadcast_to(b, batch + b.shape)) for b in bath.diag]
        if omega_1 == 0.0:
            return BlockTridiagonal(diag, [np.array(np.broadcast_to(b, batch + b.shape)) for b in bath.lower],
                                    [np.array(np.broadcast_to(b, batch + b.shape)) for b in bath.upper])
        omegas = np.atleast_1d(np.asarray(omega_mw, dtype=float))
        sectors = self.basis.sectors
        lower = [np.empty(batch + b.shape) for b in bath.lower]
        upper = [np.empty(batch + b.shape) for b in bath.upper]
        for k, total in enumerate(self.basis.raising_total):
            high, low = sectors[k + 1].lab_energies, sectors[k].lab_energies
            for f, omega in enumerate(omegas):
                index = (f,) if batch else ()
                escape_low = np.zeros(low.size)
                escape_high = np.zeros(high.size)
                _add_microwaves(high, low, total, bath.lower[k], bath.upper[k], float(omega),
                                omega_1 * omega_1 * t2e, t2e, lower[k][index], upper[k][index],
                                escape_low, escape_high)
                # escape by microwaves: k -> k+1 and k+1 -> k
                diagonal_view(diag[k][index])[...] -= escape_low
                diagonal_view(diag[k + 1][index])[...] -= escape_high
        return BlockTridiagonal(diag, lower, upper)
