"""3D Anderson lattice of the free-fermion DNP model (Rodriguez-Arias et al., PRB 98,
224202 (2018), "the 2018 paper").

Eq. (6)-(7): M_ij = omega_i delta_ij - t [i, j nearest neighbours] with
omega_i = omega_e + delta omega_i and box disorder delta omega_i in [-w/2, w/2].
The lattice's parameters are cyclic frequencies in Hz (as in the spec files); M is
built from their angular values (rad/s).  The constant omega_e is kept out of the
matrix (it shifts every single-particle energy equally); lab-frame energies are
omega_e + eigenvalues.

Sites are numbered i = (x L + y) L + z, so an L x L x L array ``a[x][y][z]`` of
on-site offsets maps to ``a.reshape(-1)`` (C order), as the spec's nested list does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from dnpsim.errors import ModelError, shown
from dnpsim.units import Angular, parse_array, parse_fields

BOUNDARIES = ("periodic", "open")
#: Critical disorder of the 3D Anderson model with box disorder, w_c / t = 16.536
#: (quoted in the 2018 paper, Sec. III A); the paper uses t_c = w / 16.5.
CRITICAL_RATIO = 16.5


@dataclass(frozen=True)
class AndersonLattice:
    """The single-particle problem of Eq. (7) on an L x L x L cubic lattice.

    Parameters (cyclic, Hz; numbers or strings with units)
    ----------
    L : linear size (N_e = L^3 sites), >= 1
    hopping : t / 2 pi (>= 0)
    offsets : delta omega_j / 2 pi, array of shape (L, L, L), index [x][y][z]
    electron_larmor : omega_e / 2 pi (> 0)
    boundary : "periodic" or "open"

    The angular values (rad/s) are :attr:`t`, :attr:`delta_omega`, :attr:`omega_e`.
    """

    L: int
    hopping: float
    offsets: np.ndarray = field(repr=False)
    electron_larmor: float
    boundary: str = "periodic"

    #: hopping t, (L, L, L) offsets delta omega_j and omega_e, rad/s
    t = Angular("hopping")
    delta_omega = Angular("offsets")
    omega_e = Angular("electron_larmor")

    def __post_init__(self):
        if isinstance(self.L, bool) or not isinstance(self.L, (int, np.integer)) or self.L < 1:
            raise ModelError("model.L", f"must be an integer >= 1, got {shown(self.L)}")
        if self.boundary not in BOUNDARIES:
            raise ModelError("model.boundary", f"must be one of {BOUNDARIES}, got {shown(self.boundary)}")
        parse_fields(self, {"hopping": "frequency", "electron_larmor": "frequency"}, "model")
        if not (np.isfinite(self.hopping) and self.hopping >= 0):
            raise ModelError("model.hopping", f"must be a non-negative frequency, got {shown(self.hopping)}")
        if not (np.isfinite(self.electron_larmor) and self.electron_larmor > 0):
            raise ModelError("model.electron_larmor", f"must be positive, got {shown(self.electron_larmor)}")
        offsets = parse_array(self.offsets, "frequency", "model.onsite")
        if offsets.shape != (self.L,) * 3:
            raise ModelError("model.onsite", f"must have shape {(self.L,) * 3}, got {offsets.shape}")
        offsets = offsets.copy()
        offsets.setflags(write=False)
        object.__setattr__(self, "offsets", offsets)

    def to_table(self) -> dict:
        """The spec's ``[model]`` table of this lattice (Hz, offsets written out)."""
        return {"kind": "anderson", "L": int(self.L), "boundary": self.boundary, "hopping": self.hopping,
                "electron_larmor": self.electron_larmor, "onsite": self.offsets.tolist()}

    @property
    def n_sites(self) -> int:
        """N_e = L^3."""
        return int(self.L) ** 3

    def hamiltonian(self, fmt: str = "csr") -> sp.spmatrix:
        """Sparse N x N matrix M of Eq. (7) without omega_e (rad/s), real symmetric.

        Periodic boundaries with L = 2 connect a site to the same neighbour twice
        (hopping -2t), which keeps the clean spectrum -2t sum_a cos k_a exact.
        """
        L, t = int(self.L), float(self.t)
        idx = np.arange(self.n_sites).reshape(L, L, L)
        rows, cols = [], []
        for axis in range(3):
            if self.boundary == "periodic":
                if L == 1:
                    src = idx.reshape(-1)
                    dst = src
                else:
                    src = idx.reshape(-1)
                    dst = np.roll(idx, -1, axis=axis).reshape(-1)
            else:
                sl_a = [slice(None)] * 3
                sl_b = [slice(None)] * 3
                sl_a[axis] = slice(0, L - 1)
                sl_b[axis] = slice(1, L)
                src = idx[tuple(sl_a)].reshape(-1)
                dst = idx[tuple(sl_b)].reshape(-1)
            rows += [src, dst]
            cols += [dst, src]
        rows = np.concatenate(rows) if rows else np.zeros(0, int)
        cols = np.concatenate(cols) if cols else np.zeros(0, int)
        hop = sp.coo_matrix((np.full(rows.size, -t), (rows, cols)), shape=(self.n_sites,) * 2)
        m = hop + sp.diags(self.delta_omega.reshape(-1))
        return m.asformat(fmt)  # duplicates are summed on conversion

    def dense(self) -> np.ndarray:
        """Dense version of :meth:`hamiltonian` (rad/s), shape (N, N)."""
        return self.hamiltonian().toarray()

    def spectral_bounds(self) -> tuple[float, float]:
        """Rigorous bounds on the spectrum of M (Gershgorin: offsets +- 6t), rad/s."""
        return (float(self.delta_omega.min()) - 6.0 * self.t, float(self.delta_omega.max()) + 6.0 * self.t)


def box_offsets(L: int, width: float, rng: np.random.Generator) -> np.ndarray:
    """Box disorder of Eq. (6): delta omega_j uniform in [-w/2, w/2], shape (L, L, L).

    ``width`` in the caller's units (Hz at the boundary, rad/s inside)."""
    if not (np.isfinite(width) and width >= 0):
        raise ModelError("model.onsite.width", f"must be non-negative, got {shown(width)}")
    return rng.uniform(-0.5 * width, 0.5 * width, size=(L, L, L))


def clean_spectrum(L: int, hopping: float, boundary: str = "periodic") -> np.ndarray:
    """Sorted clean-lattice (w = 0) eigenvalues: -2t (cos kx + cos ky + cos kz) with
    k = 2 pi n / L (periodic) or k = pi n / (L + 1), n = 1..L (open)."""
    if boundary == "periodic":
        k = 2 * np.pi * np.arange(L) / L
    else:
        k = np.pi * np.arange(1, L + 1) / (L + 1)
    c = -2.0 * hopping * np.cos(k)
    return np.sort((c[:, None, None] + c[None, :, None] + c[None, None, :]).reshape(-1))


def critical_hopping(width: float) -> float:
    """t_c = w / 16.5 (2018 paper, Sec. III B), same units as ``width``."""
    return width / CRITICAL_RATIO
