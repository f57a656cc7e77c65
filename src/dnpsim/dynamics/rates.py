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

import numpy as np

from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.models.electrons import ModelError
from dnpsim.solvers.markov import BlockTridiagonal, complete_generator, diagonal_view
from dnpsim.units import detailed_balance, inverse_temperature


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


def _pair_gap(basis: Eigenbasis, k: int) -> np.ndarray:
    """Lab-frame eps_n - eps_n' for n in sector k+1, n' in sector k; (d_{k+1}, d_k)."""
    high, low = basis.sectors[k + 1], basis.sectors[k]
    return high.lab_energies[:, None] - low.lab_energies[None, :]


def bath_rates(basis: Eigenbasis, beta: float, t1e: float) -> BlockTridiagonal:
    """Off-diagonal bath rates of Eq. (12) as a block-tridiagonal matrix (diagonal of
    the diagonal blocks left at zero).  Entry [n, n'] is the rate n' -> n.

    Between sectors the x, y components give sum_j |<n|S_+^j|n'>|^2 / 2, within a
    sector the z component gives sum_j |<n|S_z^j|n'>|^2.
    """
    diag, lower, upper = [], [], []
    for k, system in enumerate(basis.sectors):
        e = system.energies  # the sector shift cancels inside a sector
        h = detailed_balance(e[None, :] - e[:, None], beta)  # h(eps_{n'} - eps_n)
        block = (2.0 / t1e) * h * basis.dephasing[k]
        diag.append(block)
    for k, strength in enumerate(basis.raising):
        gap = _pair_gap(basis, k)  # eps_high - eps_low
        # up: low (n') -> high (n): h(eps_low - eps_high); (2/T1)(1/2) = 1/T1
        lower.append(detailed_balance(-gap, beta) * strength / t1e)
        # down: high (n') -> low (n): h(eps_high - eps_low), transposed layout
        upper.append((detailed_balance(gap, beta) * strength).T / t1e)
    return BlockTridiagonal(diag, lower, upper)


def microwave_rates(basis: Eigenbasis, omega_mw, omega_1: float, t2e: float) -> list[np.ndarray]:
    """Microwave rates of Eq. (16) between sectors k and k+1, one (d_{k+1}, d_k) block
    per pair; the rates are symmetric (the same value for n -> n' and n' -> n).
    ``omega_mw`` (rad/s) may be an array of F frequencies: blocks (F, d_{k+1}, d_k).

    |<n|S_x|n'>|^2 = |<n|S_+|n'>|^2 / 4 between neighbouring sectors, hence
    4 omega_1^2 T_2e / 4 = omega_1^2 T_2e times the Lorentzian.
    """
    omega_mw = np.asarray(omega_mw, dtype=float)[..., None, None]
    blocks = []
    for k, total in enumerate(basis.raising_total):
        detuning = np.abs(_pair_gap(basis, k)) - omega_mw
        detuning *= t2e
        detuning *= detuning
        detuning += 1.0
        blocks.append((omega_1 * omega_1 * t2e) * total / detuning)
    return blocks


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
        mw = microwave_rates(self.basis, omega_mw, omega_1, t2e)
        for k, block in enumerate(mw):
            # escape by microwaves: k -> k+1 (column sums) and k+1 -> k (row sums)
            diagonal_view(diag[k])[...] -= block.sum(axis=-2)
            diagonal_view(diag[k + 1])[...] -= block.sum(axis=-1)
        lower = [b + m for b, m in zip(bath.lower, mw)]
        upper = [b + np.swapaxes(m, -1, -2) for b, m in zip(bath.upper, mw)]
        return BlockTridiagonal(diag, lower, upper)
