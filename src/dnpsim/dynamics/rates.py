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
once (:class:`PauliRates`) and adds the microwave part per frequency, either into a
stored generator (:meth:`PauliRates.generator`) or, for the float32 elimination of
large systems, block by block on the fly (:class:`MicrowaveGenerator`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numba
import numpy as np

from dnpsim import jit  # noqa: F401  (says so on stderr while kernels compile)
from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.errors import ModelError
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal, complete_generator, diagonal_view
from dnpsim.solvers.double_double import column_sums2, dot2, escape_rates2, finish_residual2, offdiagonal_product2
from dnpsim.solvers.mixed_precision import SplitGenerator
from dnpsim.solvers.threads import SMALL_BLOCK, available_blas_threads
from dnpsim.units import Angular, inverse_temperature, parse_fields


@dataclass(frozen=True)
class Environment:
    """Bath and microwaves of the 2016 rate equation (Eqs. (12), (16)), in the units of
    the spec files (numbers or strings with units).

    temperature : K (> 0)
    mw_frequency : omega_MW / 2 pi, Hz (> 0)
    mw_amplitude : omega_1 / 2 pi, Hz (>= 0)
    t1e, t2e : electron relaxation times, s (> 0, T2e <= 2 T1e)

    The rates use :attr:`beta` (s/rad), :attr:`omega_mw` and :attr:`omega_1` (rad/s).
    """

    temperature: float
    mw_frequency: float
    mw_amplitude: float
    t1e: float = 1.0
    t2e: float = 1e-6

    #: omega_MW and omega_1, rad/s
    omega_mw = Angular("mw_frequency")
    omega_1 = Angular("mw_amplitude")

    def __post_init__(self):
        parse_fields(self, {"temperature": "temperature", "mw_frequency": "frequency", "mw_amplitude": "frequency",
                            "t1e": "time", "t2e": "time"}, "environment")
        if not self.temperature > 0:
            raise ModelError("environment.temperature", f"must be positive, got {self.temperature}")
        if not self.mw_frequency > 0:
            raise ModelError("environment.mw_frequency", f"must be positive, got {self.mw_frequency}")
        if not self.mw_amplitude >= 0:
            raise ModelError("environment.mw_amplitude", f"must be non-negative, got {self.mw_amplitude}")
        for name in ("t1e", "t2e"):
            if not getattr(self, name) > 0:
                raise ModelError(f"environment.{name}", f"must be a positive time, got {getattr(self, name)}")
        check_relaxation_times(self.t1e, self.t2e, "environment.t2e")

    @property
    def beta(self) -> float:
        """hbar / (k_B T) in s/rad."""
        return inverse_temperature(self.temperature)

    def to_table(self) -> dict:
        """The spec's ``[environment]`` table (K, Hz, s)."""
        return {"temperature": self.temperature, "mw_frequency": self.mw_frequency,
                "mw_amplitude": self.mw_amplitude, "t1e": self.t1e, "t2e": self.t2e}



def check_relaxation_times(t1: float, t2: float, field: str) -> None:
    """Refuse T2 > 2 T1: the transverse decay rate 1/T2 is at least half the
    longitudinal one 1/T1 for any completely positive relaxation (ModelError naming
    ``field``)."""
    if t2 > 2.0 * t1:
        raise ModelError(field, f"T2 = {t2:g} s exceeds 2 T1 = {2 * t1:g} s, which no physical relaxation allows "
                         "(did you swap T1 and T2?)")


def low_major(shape) -> np.ndarray:
    """An uninitialized float64 array of ``shape`` (..., d_{k+1}, d_k) stored low-major
    (the last two axes in Fortran order), the layout of every cross-sector block here:
    the strengths (:mod:`dnpsim.dynamics.eigenbasis`), the bath's ``lower`` blocks and
    the microwave rates are then all read and written in the same order as the
    (d_k, d_{k+1}) C-ordered ``upper`` blocks and the float32 elimination's solved
    blocks, so the compiled kernels below stream through memory instead of
    transposing (N = 12, largest pair: 35 ms -> 9 ms per frequency)."""
    shape = tuple(shape)
    return np.empty(shape[:-2] + shape[:-3:-1]).swapaxes(-1, -2)


def bath_rates(basis: Eigenbasis, beta: float, t1e: float) -> BlockTridiagonal:
    """Off-diagonal bath rates of Eq. (12) as a block-tridiagonal matrix (diagonal of
    the diagonal blocks left at zero).  Entry [n, n'] is the rate n' -> n.

    Between sectors the x, y components give sum_j |<n|S_+^j|n'>|^2 / 2, within a
    sector the z component gives sum_j |<n|S_z^j|n'>|^2.  Assembled by compiled
    kernels in one pass per block (the plain-numpy form they are tested against is
    ``tests/brute_force.py::sector_bath_rates``).
    """
    diag = [np.empty_like(d) for d in basis.dephasing]
    lower = [np.empty_like(strength) for strength in basis.raising]
    upper = [np.empty(strength.shape[::-1]) for strength in basis.raising]

    def sector(k: int) -> None:
        # the sector shift cancels inside a sector
        _sector_bath_rates(basis.sectors[k].energies, basis.dephasing[k], beta, 2.0 / t1e, diag[k])

    def pair(k: int) -> None:
        _pair_bath_rates(basis.sectors[k + 1].lab_energies, basis.sectors[k].lab_energies, basis.raising[k], beta,
                         1.0 / t1e, lower[k], upper[k])

    tasks = [functools.partial(sector, k) for k in range(len(diag))] + [functools.partial(pair, k)
                                                                        for k in range(len(lower))]
    workers = available_blas_threads() if max(basis.dims) >= SMALL_BLOCK else 1
    if workers > 1:
        # the kernels release the GIL; blocks are independent
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda task: task(), tasks))
    else:
        for task in tasks:
            task()
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
    prefactor h_beta(E_i - E_j) strength[i, j]; one pass, streaming when strength and
    up are low-major (:func:`low_major`) and down is C-ordered."""
    n_high, n_low = strength.shape
    for j in range(n_low):
        for i in range(n_high):
            s = strength[i, j]
            up[i, j] = prefactor * _logistic(beta * (low_energy[j] - high_energy[i])) * s
            down[j, i] = prefactor * _logistic(beta * (high_energy[i] - low_energy[j])) * s


@numba.njit(cache=True, nogil=True, inline="always")
def _microwave_rate(prefactor, strength, high_energy, low_energy, omega_mw, t2e):  # pragma: no cover
    """prefactor strength / (1 + T_2e^2 (|E_high - E_low| - omega_MW)^2), Eq. (16),
    as :func:`_microwave_pair` evaluates it for both the stored and the split
    generator (so the two agree to the last bit)."""
    detuning = (abs(high_energy - low_energy) - omega_mw) * t2e
    return prefactor * strength / (1.0 + detuning * detuning)


def microwave_prefactor(omega_1: float, t2e: float) -> float:
    """Prefactor of Eq. (16) for the raising strengths |<n|S_+|n'>|^2 (1/s):
    |<n|S_x|n'>|^2 = |<n|S_+|n'>|^2 / 4 between neighbouring sectors, so
    4 omega_1^2 T_2e |<n|S_x|n'>|^2 = omega_1^2 T_2e |<n|S_+|n'>|^2."""
    return omega_1 * omega_1 * t2e


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _microwave_pair(high_energy, low_energy, total, bath_lower, bath_upper, omega_mw, prefactor, t2e,
                    microwave, lower, upper, leak_high):  # pragma: no cover - compiled
    """One sector pair of the generator at one frequency, in one pass (Eq. (16)):
    m[i, j] = prefactor total[i, j] / (1 + T_2e^2 (|E_i - E_j| - omega_MW)^2)
    (:func:`_microwave_rate`, prefactor :func:`microwave_prefactor`) with E the lab
    energies of the high (i) and low (j) sector, written to ``microwave``;
    lower = bath_lower + m and upper = bath_upper + m^T in the dtype of the given
    arrays (float64 for the stored generator, float32 straight into the float32
    elimination); the column sums of upper added to leak_high (rates out of every
    high state into the low sector).  One streaming pass when total, bath_lower,
    microwave and lower are low-major (:func:`low_major`) and bath_upper, upper
    C-ordered (any layout gives the same numbers, slower).  The rate builder of both
    :meth:`PauliRates.generator` and :class:`MicrowaveGenerator`; a numpy form
    (``tests/brute_force.py::sector_microwave_rates``, the test reference) made ~10
    memory passes per block.  Releases the GIL, so threads assemble frequencies in
    parallel.  (``error_model="numpy"`` lets the division vectorize; its
    denominator is >= 1.)"""
    n_high, n_low = total.shape
    for j in range(n_low):
        energy = low_energy[j]
        for i in range(n_high):
            m = _microwave_rate(prefactor, total[i, j], high_energy[i], energy, omega_mw, t2e)
            microwave[i, j] = m
            lower[i, j] = bath_lower[i, j] + m
            rate = bath_upper[j, i] + m
            upper[j, i] = rate
            leak_high[i] += rate


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _microwave_product(microwave, x_low, x_high, out_high, out_low):  # pragma: no cover - compiled
    """out_high += m @ x_low and out_low += m^T @ x_high for the microwave rates m
    (d_high, d_low, low-major) of one sector pair, in one pass over m.  A plain float64
    product (the refinement's coarse residual), so the sum may be reassociated and
    vectorized; the accurate residual is :meth:`MicrowaveGenerator.accurate_product`."""
    n_high, n_low = microwave.shape
    for j in range(n_low):
        xj = x_low[j]
        acc = 0.0
        for i in range(n_high):
            m = microwave[i, j]
            acc += m * x_high[i]
            out_high[i] += m * xj
        out_low[j] += acc


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

    @functools.cached_property
    def bath_diagonal32(self) -> list[np.ndarray]:
        """The bath's diagonal blocks in float32 (the microwaves add only escape
        rates there), for :class:`MicrowaveGenerator`."""
        return [block.astype(np.float32) for block in self.bath.diag]

    @functools.cached_property
    def bath_escape2(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Bath escape rates per sector in double-double (:func:`escape_rates2`)."""
        return escape_rates2(self.bath)

    def split_generator(self, omega_mw: float, omega_1: float, t2e: float, *,
                        microwave_buffers: list[np.ndarray] | None = None) -> "MicrowaveGenerator":
        """The generator of :meth:`generator` at one frequency as a
        :class:`MicrowaveGenerator` (never stored in float64); see there for
        ``microwave_buffers``."""
        return MicrowaveGenerator(self, float(omega_mw), omega_1, t2e, microwave_buffers=microwave_buffers)

    def microwave_buffers(self) -> list[np.ndarray]:
        """Fresh float64 buffers for the microwave rates of every sector pair
        (d_{k+1}, d_k), low-major, to be reused by one thread across frequencies."""
        return [low_major(b.shape) for b in self.bath.lower]

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
        prefactor = microwave_prefactor(omega_1, t2e)
        lower = [low_major(batch + b.shape) for b in bath.lower]
        upper = [np.empty(batch + b.shape) for b in bath.upper]
        for k, total in enumerate(self.basis.raising_total):
            high, low = sectors[k + 1].lab_energies, sectors[k].lab_energies
            microwave = low_major(batch + total.shape)
            leak = np.zeros(high.size)  # not needed here: the diagonal is set below
            for f, omega in enumerate(omegas):
                index = (f,) if batch else ()
                _microwave_pair(high, low, total, bath.lower[k], bath.upper[k], float(omega), prefactor, t2e,
                                microwave[index], lower[k][index], upper[k][index], leak)
            # escape by microwaves, k -> k+1 and k+1 -> k, all frequencies at once
            diagonal_view(diag[k])[...] -= microwave.sum(axis=-2)
            diagonal_view(diag[k + 1])[...] -= microwave.sum(axis=-1)
        return BlockTridiagonal(diag, lower, upper)


class MicrowaveGenerator(SplitGenerator):
    """Q = bath + microwaves(omega_MW) of one realization at one frequency, for the
    float32 elimination (:func:`dnpsim.solvers.steady_state.stationary_state_split`): its
    float32 blocks are written straight from the cached bath rates and the transition
    strengths, and the refinement products add the microwave rates of Eq. (16)
    (stored once, ~40 MB at N = 12) to the cached bath, so a DNP profile never writes
    (and rereads) a ~250 MB float64 generator per frequency at N = 12.  Same generator
    as :meth:`PauliRates.generator` (tests/test_mixed_precision.py).

    ``microwave_buffers`` (from :meth:`PauliRates.microwave_buffers`) receive the
    microwave rates; a thread solving frequency after frequency passes the same ones
    each time instead of allocating them anew.
    """

    def __init__(self, rates: PauliRates, omega_mw: float, omega_1: float, t2e: float, *,
                 microwave_buffers: list[np.ndarray] | None = None):
        self.rates = rates
        self.omega_mw = omega_mw
        self.omega_1 = omega_1
        self.t2e = t2e
        self.prefactor = microwave_prefactor(omega_1, t2e)
        self.dims = rates.bath.dims
        self._microwave = microwave_buffers if microwave_buffers is not None else rates.microwave_buffers()
        self._done: set[int] = set()  # pairs whose microwave rates are in the buffers
        self._escape: list | None = None

    def _pair(self, k: int):
        sectors = self.rates.basis.sectors
        return sectors[k + 1].lab_energies, sectors[k].lab_energies, self.rates.basis.raising_total[k]

    def diagonal_block32(self, k):
        return self.rates.bath_diagonal32[k]

    def coupling_blocks32(self, k, lower, upper):
        high, low, total = self._pair(k)
        leak = np.zeros(high.size)
        _microwave_pair(high, low, total, self.rates.bath.lower[k], self.rates.bath.upper[k], self.omega_mw,
                        self.prefactor, self.t2e, self._microwave[k], lower, upper, leak)
        self._done.add(k)
        return leak

    def _microwave_rates(self) -> list[np.ndarray]:
        """Microwave rates of every pair, (d_{k+1}, d_k), computing missing ones."""
        for k in range(len(self.dims) - 1):
            if k not in self._done:
                d_low, d_high = self.dims[k], self.dims[k + 1]
                self.coupling_blocks32(k, np.empty((d_high, d_low), np.float32, order="F"),
                                       np.empty((d_low, d_high), np.float32))
        return self._microwave

    def _escape2(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Bath plus microwave escape rates per sector, double-double (computed once)."""
        if self._escape is None:
            escape = [(hi.copy(), lo.copy()) for hi, lo in self.rates.bath_escape2]
            for k, microwave in enumerate(self._microwave_rates()):
                # rates k -> k+1 are the columns of m, k+1 -> k its rows
                column_sums2(microwave, *escape[k])
                column_sums2(microwave.T, *escape[k + 1])
            self._escape = escape
        return self._escape

    def escape_rates(self):
        return np.concatenate([hi + lo for hi, lo in self._escape2()])

    def product(self, p):
        x = self.split(np.asarray(p, dtype=float))
        out = [-np.asarray(hi) * xk for (hi, _), xk in zip(self._escape2(), x)]
        bath = self.rates.bath
        for k in range(len(x)):
            # the bath's off-diagonal rates (its diagonal is in the escape rates)
            out[k] += bath.diag[k] @ x[k] - diagonal_view(bath.diag[k]) * x[k]
            if k > 0:
                out[k] += bath.lower[k - 1] @ x[k - 1]
            if k < len(x) - 1:
                out[k] += bath.upper[k] @ x[k + 1]
        for k, microwave in enumerate(self._microwave_rates()):
            _microwave_product(microwave, x[k], x[k + 1], out[k + 1], out[k])
        return np.concatenate(out)

    def accurate_product(self, p):
        x = self.split(np.asarray(p, dtype=float))
        sums = offdiagonal_product2(self.rates.bath, x)
        for k, microwave in enumerate(self._microwave_rates()):
            dot2(microwave, x[k], *sums[k + 1])
            dot2(microwave.T, x[k + 1], *sums[k])
        return finish_residual2(sums, x, self._escape2())

    def assemble(self):
        return self.rates.generator(self.omega_mw, self.omega_1, self.t2e)
