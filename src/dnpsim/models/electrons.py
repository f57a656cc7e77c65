"""Dipolar electron spins with an optional thermometer nucleus.

Hamiltonian of Eq. (9) of De Luca et al., PRB 94, 014203 (2016), with an optional
Ising term (the S_z S_z part of Eq. (4) that the paper drops):

    H_S = sum_i (omega_e + Delta_i) S_z^i + sum_{i<j} U_ij (S_+^i S_-^j + S_-^i S_+^j)
          + sum_{i<j} J_ij S_z^i S_z^j - omega_n I_z + sum_i D_i S_z^i I_x

Parameters are given as at every boundary of the package: cyclic frequencies in Hz
(numbers or strings with units); the Hamiltonian is built from their angular values
(rad/s, hbar = 1), the attributes named by the paper's symbols (``omega_e``, ``Delta``,
``U``, ``J``, ``omega_n``, ``D``).  The total electron S_z is conserved, so H is
diagonalized per magnetization sector; with the nucleus a block has dimension
2 C(N, n_up) and the layout ``index = a + s * C(N, n_up)``, with ``a`` the electron
state in the sector and ``s`` = 1 for the nucleus up (I_z = +1/2), 0 for down.
The constant omega_e * M of a sector is kept out of the diagonalized block
(docs/conventions.md, rotating frame) and added back by :meth:`DipolarElectrons.lab_energy_shift`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np

from dnpsim.errors import ModelError, shown
from dnpsim.spin.operators import full_operator
from dnpsim.spin.sectors import Sector, sector
from dnpsim.units import Angular, parse_array, parse_fields


def _symmetric_matrix(name: str, value, n: int) -> np.ndarray:
    m = parse_array(value, "frequency", name)
    if m.shape != (n, n):
        raise ModelError(name, f"must be a {n} x {n} matrix, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ModelError(name, "has non-finite entries")
    if not np.allclose(m, m.T, rtol=1e-12, atol=0.0):
        i, j = np.unravel_index(np.argmax(np.abs(m - m.T)), m.shape)
        raise ModelError(name, f"must be symmetric: [{i}][{j}] = {shown(m[i, j])} but [{j}][{i}] = {shown(m[j, i])}")
    if np.any(np.diag(m) != 0.0):
        raise ModelError(name, "must have a zero diagonal")
    return m


@dataclass(frozen=True)
class ThermometerNucleus:
    """The single nuclear spin of the 2016 paper: Zeeman -omega_n I_z and hyperfine
    D_i S_z^i I_x (Eq. (9)).

    Parameters (cyclic, Hz; numbers or strings with units)
    ------------------------------------------------------
    larmor : omega_n / 2 pi (> 0 for a positive-gamma nucleus)
    hyperfine : (N,) D_i / 2 pi

    The angular values the engine uses are :attr:`omega_n` and :attr:`D` (rad/s).
    """

    larmor: float
    hyperfine: np.ndarray = field(repr=False)

    #: omega_n and (N,) D_i, rad/s
    omega_n = Angular("larmor")
    D = Angular("hyperfine")

    def __post_init__(self):
        parse_fields(self, {"larmor": "frequency"}, "model.nuclei")
        object.__setattr__(self, "hyperfine", parse_array(self.hyperfine, "frequency", "model.nuclei.hyperfine").ravel())


@dataclass(frozen=True)
class DipolarElectrons:
    """N electron spins with Zeeman offsets and flip-flop couplings (Eq. (9), 2016).

    Parameters (cyclic, Hz, as in the spec files; numbers or strings with units)
    ------------------------------------------------------------------------
    electron_larmor : omega_e / 2 pi (> 0)
    offsets : (N,) Delta_i / 2 pi
    couplings : (N, N) symmetric U_ij / 2 pi, zero diagonal (flip-flop amplitude)
    ising : (N, N) symmetric J_ij / 2 pi or None (term J_ij S_z^i S_z^j)
    nucleus : ThermometerNucleus or None

    The engines work with the angular values (rad/s) :attr:`omega_e`, :attr:`Delta`,
    :attr:`U`, :attr:`J`.
    """

    electron_larmor: float
    offsets: np.ndarray = field(repr=False)
    couplings: np.ndarray = field(repr=False)
    ising: np.ndarray | None = field(default=None, repr=False)
    nucleus: ThermometerNucleus | None = None

    #: omega_e, (N,) Delta_i, (N, N) U_ij and J_ij (or None), rad/s
    omega_e = Angular("electron_larmor")
    Delta = Angular("offsets")
    U = Angular("couplings")
    J = Angular("ising")

    def __post_init__(self):
        offsets = parse_array(self.offsets, "frequency", "model.offsets").ravel()
        n = offsets.size
        if n < 1:
            raise ModelError("model.offsets", "needs at least one electron")
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "couplings", _symmetric_matrix("model.couplings", self.couplings, n))
        if self.ising is not None:
            object.__setattr__(self, "ising", _symmetric_matrix("model.ising", self.ising, n))
        parse_fields(self, {"electron_larmor": "frequency"}, "model")
        if not self.electron_larmor > 0:
            raise ModelError("model.electron_larmor", f"must be positive, got {self.electron_larmor}")
        if self.nucleus is not None and not isinstance(self.nucleus, ThermometerNucleus):
            raise ModelError("model.nuclei", f"must be a ThermometerNucleus or None, got {type(self.nucleus).__name__}")
        if self.nucleus is not None and self.nucleus.hyperfine.size != n:
            raise ModelError("model.nuclei.hyperfine", f"needs {n} entries (one per electron), got {self.nucleus.hyperfine.size}")
        if self.nucleus is not None and not np.any(self.nucleus.hyperfine):
            # Eq. (9) has no nuclear bath: without D_i the nucleus never flips, the rate
            # equation is reducible and the stationary P_n depends on the initial state.
            raise ModelError("model.nuclei.hyperfine", "are all zero: the nucleus never flips, so its stationary "
                             "polarization is undefined (give a nonzero hyperfine or drop the nucleus)")

    def to_table(self) -> dict:
        """The spec's ``[model]`` table of this model (Hz, arrays written out)."""
        out = {"kind": "dipolar_electrons", "electron_larmor": self.electron_larmor, "n_electrons": self.n_electrons,
               "offsets": self.offsets.tolist(), "couplings": self.couplings.tolist()}
        if self.ising is not None:
            out["ising"] = self.ising.tolist()
        if self.nucleus is not None:
            out["nuclei"] = {"larmor": self.nucleus.larmor, "hyperfine": self.nucleus.hyperfine.tolist()}
        return out

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
        return self.omega_e * (n_up - 0.5 * self.n_electrons)

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
        electronic = sec.flip_flop(self.U)
        diag = sec.spin_z @ self.Delta
        if self.J is not None:
            diag = diag + sec.ising(self.J)
        electronic[np.diag_indices_from(electronic)] += diag
        if not self.has_nucleus:
            return electronic
        d = sec.dim
        h = np.zeros((2 * d, 2 * d))
        omega_n = self.nucleus.omega_n
        h[:d, :d] = electronic
        h[d:, d:] = electronic
        h[np.arange(d), np.arange(d)] += 0.5 * omega_n  # -omega_n I_z, I_z = -1/2
        h[np.arange(d, 2 * d), np.arange(d, 2 * d)] -= 0.5 * omega_n
        # D_i S_z^i I_x couples nucleus down <-> up with <up|I_x|down> = 1/2
        coupling = 0.5 * (sec.spin_z @ self.nucleus.D)
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
        larmor = self.omega_e if with_electron_larmor else 0.0
        h = sum((larmor + self.Delta[i]) * sz[i] for i in range(n))
        for i in range(n):
            for j in range(i + 1, n):
                flip = sp[i] @ sp[j].T
                h = h + self.U[i, j] * (flip + flip.T)
                if self.J is not None:
                    h = h + self.J[i, j] * sz[i] @ sz[j]
        if self.has_nucleus:
            iz = full_operator(total, n, "z")
            ix = full_operator(total, n, "x")
            h = h - self.nucleus.omega_n * iz
            h = h + sum(self.nucleus.D[i] * sz[i] @ ix for i in range(n))
        return h
