"""Dipolar electron spins with an optional thermometer nucleus.

Hamiltonian of Eq. (9) of De Luca et al., PRB 94, 014203 (2016), with an optional
Ising term (the S_z S_z part of Eq. (4) that the paper drops):

    H_S = sum_i (omega_e + Delta_i) S_z^i + sum_{i<j} U_ij (S_+^i S_-^j + S_-^i S_+^j)
          + sum_{i<j} J_ij S_z^i S_z^j - omega_n I_z + sum_i D_i S_z^i I_x

All frequencies are angular (rad/s).  The total electron S_z is conserved, so H is
diagonalized per magnetization sector; with the nucleus a block has dimension
2 C(N, n_up) and the layout ``index = a + s * C(N, n_up)``, with ``a`` the electron
state in the sector and ``s`` = 1 for the nucleus up (I_z = +1/2), 0 for down.
The constant omega_e * M of a sector is kept out of the diagonalized block
(DESIGN.md, "Rotating frame") and added back by :meth:`DipolarElectrons.lab_energy_shift`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np

from dnpsim.errors import ModelError
from dnpsim.spin.operators import full_operator
from dnpsim.spin.sectors import Sector, sector


def _symmetric_matrix(name: str, value, n: int) -> np.ndarray:
    m = np.array(value, dtype=float)
    if m.shape != (n, n):
        raise ModelError(name, f"must be an {n} x {n} matrix, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ModelError(name, "has non-finite entries")
    if not np.allclose(m, m.T, rtol=1e-12, atol=0.0):
        i, j = np.unravel_index(np.argmax(np.abs(m - m.T)), m.shape)
        raise ModelError(name, f"must be symmetric: [{i}][{j}] = {m[i, j]!r} but [{j}][{i}] = {m[j, i]!r}")
    if np.any(np.diag(m) != 0.0):
        raise ModelError(name, "must have a zero diagonal")
    return m


@dataclass(frozen=True)
class ThermometerNucleus:
    """The single nuclear spin of the 2016 paper: Zeeman -omega_n I_z and hyperfine
    D_i S_z^i I_x (Eq. (9)).  ``larmor`` omega_n and ``hyperfine`` D_i (shape (N,))
    in rad/s."""

    larmor: float
    hyperfine: np.ndarray = field(repr=False)

    def __post_init__(self):
        object.__setattr__(self, "hyperfine", np.array(self.hyperfine, dtype=float).ravel())
        if not np.isfinite(self.larmor):
            raise ModelError("model.nucleus.larmor", "must be finite")
        if not np.all(np.isfinite(self.hyperfine)):
            raise ModelError("model.nucleus.hyperfine", "has non-finite entries")


@dataclass(frozen=True)
class DipolarElectrons:
    """N electron spins with Zeeman offsets and flip-flop couplings (Eq. (9), 2016).

    Parameters (all rad/s)
    ----------------------
    electron_larmor : omega_e
    offsets : (N,) Delta_i
    couplings : (N, N) symmetric U_ij, zero diagonal (flip-flop amplitude)
    ising : (N, N) symmetric J_ij or None (term J_ij S_z^i S_z^j)
    nucleus : ThermometerNucleus or None
    """

    electron_larmor: float
    offsets: np.ndarray = field(repr=False)
    couplings: np.ndarray = field(repr=False)
    ising: np.ndarray | None = field(default=None, repr=False)
    nucleus: ThermometerNucleus | None = None

    def __post_init__(self):
        offsets = np.array(self.offsets, dtype=float).ravel()
        n = offsets.size
        if n < 1:
            raise ModelError("model.offsets", "needs at least one electron")
        if not np.all(np.isfinite(offsets)):
            raise ModelError("model.offsets", "has non-finite entries")
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "couplings", _symmetric_matrix("model.couplings", self.couplings, n))
        if self.ising is not None:
            object.__setattr__(self, "ising", _symmetric_matrix("model.ising", self.ising, n))
        if not (np.isfinite(self.electron_larmor) and self.electron_larmor > 0):
            raise ModelError("model.electron_larmor", f"must be positive, got {self.electron_larmor}")
        if self.nucleus is not None and self.nucleus.hyperfine.size != n:
            raise ModelError("model.nucleus.hyperfine", f"needs {n} entries (one per electron), got {self.nucleus.hyperfine.size}")
        if self.nucleus is not None and not np.any(self.nucleus.hyperfine):
            # Eq. (9) has no nuclear bath: without D_i the nucleus never flips, the rate
            # equation is reducible and the stationary P_n depends on the initial state.
            raise ModelError("model.nucleus.hyperfine", "are all zero: the nucleus never flips, so its stationary "
                             "polarization is undefined (give a nonzero hyperfine or drop the nucleus)")

    @property
    def n_electrons(self) -> int:
        return int(self.offsets.size)

    @property
    def has_nucleus(self) -> bool:
        return self.nucleus is not None

    @property
    def passenger_dim(self) -> int:
        """2 with the nucleus, 1 without."""
        return 2 if self.has_nucleus else 1

    def sector(self, n_up: int) -> Sector:
        """Electron basis of the sector with ``n_up`` electrons up."""
        return sector(self.n_electrons, n_up)

    def block_dim(self, n_up: int) -> int:
        """Dimension of the diagonalized block of sector ``n_up``."""
        return comb(self.n_electrons, n_up) * self.passenger_dim

    def lab_energy_shift(self, n_up: int) -> float:
        """omega_e * M, the constant that turns block energies into lab-frame ones."""
        return self.electron_larmor * (n_up - 0.5 * self.n_electrons)

    def block_spin_z(self, n_up: int) -> np.ndarray:
        """(dim_block, N) S_z^i of every block basis state (nucleus layout included)."""
        return np.tile(self.sector(n_up).spin_z, (self.passenger_dim, 1))

    def block_nuclear_z(self, n_up: int) -> np.ndarray | None:
        """(dim_block,) I_z of every block basis state, or None without nucleus."""
        if not self.has_nucleus:
            return None
        d = comb(self.n_electrons, n_up)
        return np.repeat([-0.5, 0.5], d)

    def sector_hamiltonian(self, n_up: int) -> np.ndarray:
        """Real symmetric block of H_S in sector ``n_up`` without omega_e * M.

        Eq. (9) of the 2016 paper (plus the optional Ising term); shape
        (block_dim, block_dim), rad/s.
        """
        sec = self.sector(n_up)
        electronic = sec.flip_flop(self.couplings)
        diag = sec.spin_z @ self.offsets
        if self.ising is not None:
            diag = diag + sec.ising(self.ising)
        electronic[np.diag_indices_from(electronic)] += diag
        if not self.has_nucleus:
            return electronic
        d = sec.dim
        h = np.zeros((2 * d, 2 * d))
        omega_n = self.nucleus.larmor
        h[:d, :d] = electronic
        h[d:, d:] = electronic
        h[np.arange(d), np.arange(d)] += 0.5 * omega_n  # -omega_n I_z, I_z = -1/2
        h[np.arange(d, 2 * d), np.arange(d, 2 * d)] -= 0.5 * omega_n
        # D_i S_z^i I_x couples nucleus down <-> up with <up|I_x|down> = 1/2
        coupling = 0.5 * (sec.spin_z @ self.nucleus.hyperfine)
        h[np.arange(d), np.arange(d, 2 * d)] = coupling
        h[np.arange(d, 2 * d), np.arange(d)] = coupling
        return h

    # ---------------------------------------------------------------- brute force
    def full_hamiltonian(self, with_electron_larmor: bool = True) -> np.ndarray:
        """Dense lab-frame H_S on the full space (for brute-force checks, N <= 10).

        Electron ``i`` is bit ``i`` of the index; the nucleus (if any) is bit N.
        ``with_electron_larmor=False`` leaves out omega_e S^z (H_S - omega_e S^z), built
        without ever adding omega_e ~ 6e11 rad/s to the MHz-scale terms (no round-off).
        """
        n = self.n_electrons
        total = n + (1 if self.has_nucleus else 0)
        if total > 12:
            raise ValueError("full_hamiltonian is a brute-force reference for at most 12 spins")
        sz = [full_operator(total, i, "z") for i in range(n)]
        sp = [full_operator(total, i, "+") for i in range(n)]
        larmor = self.electron_larmor if with_electron_larmor else 0.0
        h = sum((larmor + self.offsets[i]) * sz[i] for i in range(n))
        for i in range(n):
            for j in range(i + 1, n):
                flip = sp[i] @ sp[j].T
                h = h + self.couplings[i, j] * (flip + flip.T)
                if self.ising is not None:
                    h = h + self.ising[i, j] * sz[i] @ sz[j]
        if self.has_nucleus:
            iz = full_operator(total, n, "z")
            ix = full_operator(total, n, "x")
            h = h - self.nucleus.larmor * iz
            h = h + sum(self.nucleus.hyperfine[i] * sz[i] @ ix for i in range(n))
        return h


def estimate_engine_memory(n_electrons: int, with_nucleus: bool) -> int:
    """Peak bytes the spin-temperature engine needs for ``n_electrons`` (rough upper
    bound): eigenvectors of one sector pair, the sector-pair transition strengths and
    the block-tridiagonal rate matrix with its factorization."""
    p = 2 if with_nucleus else 1
    dims = [comb(n_electrons, k) * p for k in range(n_electrons + 1)]
    sq = sum(d * d for d in dims)
    cross = sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    # strengths: 2 cross (raising, S_x) + 1 sq (S_z); rates: bath + total + factor
    return 8 * (3 * sq + 2 * cross + 3 * (sq + 2 * cross))
