"""GKSL generators of the 2021 open-system engine (Maimbourg et al., PRL 126, 120603).

Rotating frame at omega_MW (Eq. (S46)):

    drho/dt = -i [H, rho] + sum_alpha A_alpha rho A_alpha^+ - 1/2 {A_alpha^+ A_alpha, rho}
    H = H_S - omega_MW S^z + omega_1 S^x        (S^x -> S^x_j for one irradiated spin)

with the bath correlation gamma(omega) = h(omega) / T(|omega|), h(omega) =
(1 + e^{-beta omega})^{-1} (Eq. (5)), and either

* the nonsecular jump operators of Eqs. (7)-(8):
  A^x_i, A^y_i = sqrt(h(omega_e)/(2 T_1)) (S^-_i +- e^{-beta omega_e/2} S^+_i) (times i for y),
  A^z_i = S^z_i / sqrt(2 T*) + (1/sqrt(2 T(0)) - 1/sqrt(2 T*)) sum_n <n|S^z_i|n> |n><n|;
  the x and y cross terms cancel, so the pair acts as local amplitude damping with
  rates gamma_down = h(omega_e)/T_1 (S^-_i) and gamma_up = h(-omega_e)/T_1 (S^+_i);
* or the secular ones of Eq. (9) / (S17): sqrt(gamma(omega)) S^mu_i(omega) with
  S^mu_i(omega) = sum_{eps'-eps=omega} Pi(eps) S^mu_i Pi(eps') (Eq. (S10)), lab-frame gaps,
  T(|omega|) = T_1/2 near omega_e, T* for finite small gaps, T(0) at omega = 0.

Two implementations:

* :func:`dense_liouvillian`: the 4^N x 4^N superoperator from full-space operators
  (``spin.operators.full_operator``), column-stacking vec(rho); a brute-force
  reference for N <= 5, both jump choices.
* :class:`EigenbasisLiouvillian`: the nonsecular generator applied matrix-free to
  rho written in the eigenbasis of H_S, block by block over magnetization sectors
  (k, l).  Terms diagonal in the eigenbasis (Hamiltonian, anticommutators of
  functions of the magnetization, D_i rho D_i) are elementwise products; the local
  terms (S^z_i rho S^z_i, S^-_i rho S^+_i, the drive) are applied in the
  computational basis, reached by real GEMMs with the sector eigenvectors; the
  S^z_i rho D_i cross terms of Eq. (8) in the mixed (computational, eigen) basis.
  Memory ~ a few 4^N complex vectors; cost ~ 4-8 sum_{k,l} d_k d_l (d_k + d_l) real
  flops x 2 per application.

Steady state (:func:`nonsecular_steady_state`): L rho + w tr(rho) = w solved by
GMRES / BiCGSTAB (:mod:`dnpsim.solvers.krylov`; residual reported as in every engine,
:func:`dnpsim.solvers.steady_state.stationary_residual`) with one of two preconditioners built
from the secular/diagonal part: :class:`DressedPreconditioner` (secular approximation
in the eigenbasis of the full rotating-frame H, drive exact; default up to N = 11) or
:class:`SchurPreconditioner` (diagonal coherences + exact population block with the
drive eliminated, i.e. Hilbert rates S53 from the exact diagonal of L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from dnpsim.dynamics.eigenbasis import SectorEigensystem, diagonalize_sector, raising_strengths, dephasing_strength
from dnpsim.dynamics.gksl import gksl_superoperator, stationary_density_matrix
from dnpsim.dynamics.jumps import BathTimescales, total_raising_amplitude
from dnpsim.errors import ModelError
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.spin.operators import full_operator
from dnpsim.units import Angular, detailed_balance, inverse_temperature, parse_fields

#: Full-space references are for at most this many spins (4^N superoperator).
MAX_DENSE_SPINS = 5
#: Largest N for which "auto" picks the dense 2^N dressed-state preconditioner.
DRESSED_MAX_SPINS = 11
#: Largest N for which EigenbasisLiouvillian.matvec works on whole 2^N x 2^N matrices
#: (faster below it, where the blockwise path is dominated by per-block overhead;
#: the sandwich superoperators hold n 4^N / 2 nonzeros: 4 MiB at N = 8).
FULL_PATH_MAX_SPINS = 8


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
            raise ModelError("model.nucleus", "the open-system (2021) engine has no thermometer nucleus")
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


# --------------------------------------------------------------------------- dense
#: Dense 2^N x 2^N operators (Hamiltonian, jump operators) are built for at most this many spins.
MAX_OPERATOR_SPINS = 11


def _check_dense(model: DipolarElectrons, limit: int = MAX_DENSE_SPINS) -> None:
    if model.n_electrons > limit:
        raise ValueError(f"dense references are for N <= {limit} (got {model.n_electrons})")


def full_total_spin(n: int, component: str) -> np.ndarray:
    """Dense sum_j S^component_j on n spins."""
    return sum(full_operator(n, j, component) for j in range(n))


def zeeman_free_hamiltonian(model: DipolarElectrons) -> np.ndarray:
    """Dense H_S - omega_e S^z on the full space, built from the model's offsets,
    couplings and Ising matrix without ever adding omega_e (so no round-off of
    omega_e ~ 6e11 rad/s leaks into the MHz-scale terms)."""
    _check_dense(model, MAX_OPERATOR_SPINS)
    return np.asarray(model.full_hamiltonian(with_electron_larmor=False), dtype=float)


def rotating_hamiltonian(model: DipolarElectrons, env: OpenEnvironment) -> np.ndarray:
    """Dense H = H_S - omega_MW S^z + omega_1 S^x (Eq. (S46)) on the full 2^N space,
    as (H_S - omega_e S^z) + (omega_e - omega_MW) S^z + omega_1 S^x."""
    n = model.n_electrons
    h = zeeman_free_hamiltonian(model) + (model.omega_e - env.omega_mw) * full_total_spin(n, "z")
    sx = full_total_spin(n, "x") if env.irradiated is None else full_operator(n, env.irradiated, "x")
    return h + env.omega_1 * sx


def _full_eigensystem(model: DipolarElectrons):
    """Lab energies and eigenvectors of H_S on the full space, by dense eigh of each
    magnetization block of the full matrix (so eigenvectors never mix sectors, even
    when lab energies of different sectors coincide)."""
    n = model.n_electrons
    h = zeeman_free_hamiltonian(model)
    counts = np.bitwise_count(np.arange(2**n, dtype=np.uint64)).astype(int)
    energies = np.zeros(2**n)
    vecs = np.zeros((2**n, 2**n))
    for k in range(n + 1):
        idx = np.flatnonzero(counts == k)
        e, v = np.linalg.eigh(h[np.ix_(idx, idx)])
        energies[idx] = e + model.omega_e * (k - 0.5 * n)
        vecs[np.ix_(idx, idx)] = v
    return energies, vecs


def nonsecular_jump_operators(model: DipolarElectrons, env: OpenEnvironment) -> list[np.ndarray]:
    """Dense jump operators of Eqs. (7)-(8), written literally: A^x_i, A^y_i, A^z_i for
    every spin i (3N complex (2^N, 2^N) matrices).  D_i uses the eigenvectors of H_S
    (nondegenerate spectrum assumed, as in the paper)."""
    _check_dense(model, MAX_OPERATOR_SPINS)
    env.check_model(model)
    n = model.n_electrons
    beta = env.beta
    we = model.omega_e
    h = float(detailed_balance(we, beta))
    pref = math.sqrt(h / (2.0 * env.bath.t1))
    boltz = math.exp(-0.5 * beta * we)
    a, b = env.dephasing_coefficients()
    _, vecs = _full_eigensystem(model)
    ops = []
    for i in range(n):
        sm = full_operator(n, i, "-")
        spl = full_operator(n, i, "+")
        sz = full_operator(n, i, "z")
        ops.append(pref * (sm + boltz * spl).astype(complex))
        ops.append(1j * pref * (sm - boltz * spl))
        expect = np.einsum("sn,st,tn->n", vecs, sz, vecs)
        d_i = (vecs * expect) @ vecs.T
        ops.append((a * sz + b * d_i).astype(complex))
    return ops


def secular_jump_operators(model: DipolarElectrons, env: OpenEnvironment, gap_tolerance: float | None = None
                           ) -> list[np.ndarray]:
    """Dense secular jump operators sqrt(gamma(omega)) S^mu_i(omega) of Eq. (9) / (S17),
    with S^mu_i(omega) built literally from Eq. (S10) by grouping lab-frame gaps equal
    within ``gap_tolerance`` (rad/s; default 1e-9 of omega_e).  gamma(omega) =
    h(omega) / T(|omega|) with exact h, T from :meth:`BathTimescales.timescale`."""
    _check_dense(model)
    env.check_model(model)
    n = model.n_electrons
    tol = 1e-9 * model.omega_e if gap_tolerance is None else gap_tolerance
    energies, vecs = _full_eigensystem(model)
    gaps = energies[None, :] - energies[:, None]  # gaps[m, n] = eps_n - eps_m: |m><n| lowers by omega
    order = np.argsort(gaps, axis=None)
    flat = gaps.ravel()[order]
    # group sorted gaps into clusters of width <= tol
    starts = np.concatenate([[0], np.flatnonzero(np.diff(flat) > tol) + 1, [flat.size]])
    ops = []
    beta = env.beta
    for i in range(n):
        for comp in ("x", "y", "z"):
            s_eig = vecs.conj().T @ full_operator(n, i, comp) @ vecs  # <m|S|n>
            for g0, g1 in zip(starts[:-1], starts[1:]):
                idx = order[g0:g1]
                omega = float(np.mean(flat[g0:g1]))
                rows, cols = np.unravel_index(idx, gaps.shape)
                block = np.zeros((2**n, 2**n), dtype=complex)
                block[rows, cols] = s_eig[rows, cols]
                if not np.any(np.abs(block) > 1e-14):
                    continue
                gam = float(detailed_balance(omega, beta)) / float(env.bath.timescale(omega, model.omega_e, tol))
                ops.append(math.sqrt(gam) * (vecs @ block @ vecs.conj().T))
    return ops


def dense_liouvillian(model: DipolarElectrons, env: OpenEnvironment, jumps: str = "nonsecular") -> np.ndarray:
    """Dense GKSL superoperator (4^N, 4^N) of Eq. (S46), column-stacking convention
    vec(A rho B) = (B^T kron A) vec(rho) (:func:`dnpsim.dynamics.gksl.gksl_superoperator`),
    computational basis (bit i = spin i up).

    ``jumps``: "nonsecular" (Eqs. (7)-(8)) or "secular" (Eq. (9), S17).
    """
    _check_dense(model)
    env.check_model(model)
    if jumps == "nonsecular":
        ops = nonsecular_jump_operators(model, env)
    elif jumps == "secular":
        ops = secular_jump_operators(model, env)
    else:
        raise ValueError(f"jumps must be 'nonsecular' or 'secular', got {jumps!r}")
    return gksl_superoperator(rotating_hamiltonian(model, env).astype(complex), ops)


def dense_steady_state(liouvillian: np.ndarray, *, tol: float = 1e-8) -> np.ndarray:
    """Stationary density matrix (2^N, 2^N) of a dense superoperator (column stacking)
    by one direct solve with the trace replacing one equation
    (:func:`dnpsim.dynamics.gksl.stationary_density_matrix`).  Raises
    :class:`~dnpsim.errors.ConvergenceError` when the residual of
    :func:`dnpsim.solvers.steady_state.stationary_residual` exceeds ``tol``."""
    return stationary_density_matrix(liouvillian, tol=tol)[0]


def boltzmann_state(model: DipolarElectrons, beta: float) -> np.ndarray:
    """Dense e^{-beta H_S} / Z in the computational basis (lab frame)."""
    energies, vecs = _full_eigensystem(model)
    w = np.exp(-beta * (energies - energies.min()))
    w /= w.sum()
    return (vecs * w) @ vecs.T


# --------------------------------------------------------------------- matrix-free
def _lmul(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Real (p, q) @ complex C-contiguous (q, r) as one real GEMM."""
    q, r = x.shape
    return (v @ x.view(np.float64).reshape(q, 2 * r)).view(np.complex128)


def _rmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Complex (p, q) @ real (q, r) as one real GEMM (through transposes)."""
    return _lmul(w.T, np.ascontiguousarray(x.T)).T


class EigenbasisLiouvillian:
    """Matrix-free nonsecular GKSL generator (Eqs. (S46), (7), (8)) acting on rho in
    the eigenbasis of H_S, stored as one complex vector of length 4^N: blocks
    rho[k, l] (sector n_up = k rows, n_up = l columns, shape (d_k, d_l)), k outer,
    l inner, each C-ordered.

    Build once per realization and environment; :meth:`matvec` applies L.
    :meth:`diagonal` is the exact diagonal of L in this basis, :meth:`population_block`
    the exact populations -> populations block (used by the preconditioner).
    """

    def __init__(self, model: DipolarElectrons, env: OpenEnvironment, sectors: list[SectorEigensystem] | None = None):
        env.check_model(model)
        self.model = model
        self.env = env
        n = model.n_electrons
        self.n = n
        if sectors is None:
            sectors = [diagonalize_sector(model, k, keep_vectors=True) for k in range(n + 1)]
        if any(s.vectors is None for s in sectors):
            raise ValueError("sectors must keep their eigenvectors")
        self.sectors = sectors
        self.dims = [s.dim for s in sectors]
        self.vectors = [s.vectors for s in sectors]
        self.states = [model.sector(k).states for k in range(n + 1)]
        self.basis_spins = [model.block_spin_z(k) for k in range(n + 1)]  # (d, N) +-1/2
        self.z = [s.spin_z for s in sectors]  # (d, N) <n|S^z_i|n>
        self.q = [np.sum(z * z, axis=1) for z in self.z]
        detuning = model.omega_e - env.omega_mw
        self.energies = [s.energies + detuning * s.magnetization for s in sectors]  # rotating frame
        self.gamma_down, self.gamma_up = env.flip_rates(model)
        self.a, self.b = env.dephasing_coefficients()
        self.omega1 = env.omega_1
        # K_k = sum_i {S^z_i, D_i} in the eigenbasis (cross term of A^z_i^2)
        self.cross = []
        for k in range(n + 1):
            v, y, z = self.vectors[k], self.basis_spins[k], self.z[k]
            c = v.T @ (v * (y @ z.T))
            self.cross.append(c + c.T)
        # block offsets of the flattened vector
        self.offsets = {}
        pos = 0
        for k in range(n + 1):
            for l in range(n + 1):
                self.offsets[k, l] = pos
                pos += self.dims[k] * self.dims[l]
        self.size = pos
        # local lowering maps: raising(site) of sector k -> (source in k, target in k+1)
        self.maps = [[model.sector(k).raising(j) for j in range(n)] for k in range(n)]
        sites = range(n) if env.irradiated is None else [env.irradiated]
        self.splus = []  # computational-basis S^+ (drive) from k to k+1, CSR (d_{k+1}, d_k)
        for k in range(n):
            rows, cols = [], []
            for j in sites:
                src, dst = self.maps[k][j]
                rows.append(dst)
                cols.append(src)
            rows = np.concatenate(rows)
            cols = np.concatenate(cols)
            self.splus.append(sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(self.dims[k + 1], self.dims[k])))
        self.sminus = [s.T.tocsr() for s in self.splus]  # (d_k, d_{k+1}), transposed once
        self._diag = None
        # Small systems: the blockwise matvec is dominated by Python overhead over the
        # (N + 1)^2 blocks, so it runs on whole 2^N x 2^N matrices instead (same terms;
        # block-diagonal V, full sparse site operators), see _build_full_path.
        self._full = self._build_full_path() if n <= FULL_PATH_MAX_SPINS else None

    # ---------------------------------------------------------------- layout
    def block(self, vec: np.ndarray, k: int, l: int) -> np.ndarray:
        """View of block (k, l) of a flattened vector, shape (d_k, d_l)."""
        o = self.offsets[k, l]
        return vec[o : o + self.dims[k] * self.dims[l]].reshape(self.dims[k], self.dims[l])

    def to_full(self, vec: np.ndarray) -> np.ndarray:
        """Dense (2^N, 2^N) matrix in the computational basis (small N; for checks)."""
        full = np.zeros((2**self.n, 2**self.n), dtype=complex)
        for k in range(self.n + 1):
            for l in range(self.n + 1):
                full[np.ix_(self.states[k], self.states[l])] = self.vectors[k] @ self.block(vec, k, l) @ self.vectors[l].T
        return full

    def from_full(self, rho: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_full`."""
        out = np.empty(self.size, dtype=complex)
        for k in range(self.n + 1):
            for l in range(self.n + 1):
                self.block(out, k, l)[...] = self.vectors[k].T @ rho[np.ix_(self.states[k], self.states[l])] @ self.vectors[l]
        return out

    def trace(self, vec: np.ndarray) -> complex:
        """Tr rho (basis independent)."""
        return sum(np.trace(self.block(vec, k, k)) for k in range(self.n + 1))

    def identity(self) -> np.ndarray:
        """The identity operator as a flattened vector."""
        out = np.zeros(self.size, dtype=complex)
        for k in range(self.n + 1):
            np.fill_diagonal(self.block(out, k, k), 1.0)
        return out

    # ---------------------------------------------------------------- apply
    def _flip_anticommutator(self, k: int, l: int) -> float:
        # sum_i S^+_i S^-_i = n_up, sum_i S^-_i S^+_i = N - n_up (functions of M)
        return -0.5 * (self.gamma_down * (k + l) + self.gamma_up * (2 * self.n - k - l))

    def _build_full_path(self) -> dict:
        """Whole-matrix form of every term of :meth:`_matvec_blocks` (small N): the
        block-diagonal eigenvector matrix V, the elementwise coefficient matrices, the
        mixed-basis factors, K = blockdiag(K_k), the Hamming factor, the drive operators
        and the amplitude-damping sandwiches as sparse superoperators on row-major
        vec(rho_comp) (vec(A X B^T) = kron(A, B) vec(X)), plus the index map between the
        block-flattened vector and the full matrix."""
        n, a, b = self.n, self.a, self.b
        dim = 2**n
        starts = np.concatenate([[0], np.cumsum(self.dims)])
        v = np.zeros((dim, dim))
        cross = np.zeros((dim, dim))
        for k in range(n + 1):
            v[starts[k] : starts[k + 1], starts[k] : starts[k + 1]] = self.vectors[k]
            cross[starts[k] : starts[k + 1], starts[k] : starts[k + 1]] = self.cross[k]
        sector = np.repeat(np.arange(n + 1), self.dims)
        energies, z = np.concatenate(self.energies), np.concatenate(self.z)
        y, q = np.concatenate(self.basis_spins), np.concatenate(self.q)
        states = np.concatenate(self.states).astype(np.uint64)
        coeff = (-1j * (energies[:, None] - energies[None, :])
                 + self._flip_anticommutator(sector[:, None], sector[None, :]) - 0.25 * a * a * n)
        if b != 0.0:
            coeff = coeff + b * b * (z @ z.T) - 0.5 * b * b * (q[:, None] + q[None, :])
        hamming = np.bitwise_count(states[:, None] ^ states[None, :]).astype(float)
        # site operators in the computational basis of the sector-ordered states
        index = {int(s_): i for i, s_ in enumerate(states)}
        lowering, raising_irr = [], sp.csr_matrix((dim, dim))
        irradiated = range(n) if self.env.irradiated is None else [self.env.irradiated]
        for j in range(n):
            up = np.nonzero(((states >> np.uint64(j)) & np.uint64(1)).astype(bool))[0]
            down = np.array([index[int(states[i] ^ np.uint64(1 << j))] for i in up], dtype=np.int64)
            op = sp.csr_matrix((np.ones(up.size), (down, up)), shape=(dim, dim))  # S^-_j
            lowering.append(op)
            if j in irradiated:
                raising_irr = raising_irr + op.T.tocsr()
        sandwich_down = sum(sp.kron(op, op, format="csr") for op in lowering)          # sum_j S^- rho S^+
        sandwich_up = sum(sp.kron(op.T, op.T, format="csr") for op in lowering)        # sum_j S^+ rho S^-
        rows = np.concatenate([np.repeat(np.arange(starts[k], starts[k + 1]), self.dims[l])
                               for k in range(n + 1) for l in range(n + 1)])
        cols = np.concatenate([np.tile(np.arange(starts[l], starts[l + 1]), self.dims[k])
                               for k in range(n + 1) for l in range(n + 1)])
        return {"v": v, "cross": cross, "coeff": coeff, "local": 0.25 * a * a * (n - 2.0 * hamming),
                "mixed_right": a * b * (y @ z.T), "mixed_left": a * b * (z @ y.T),
                "sx": 0.5 * (raising_irr + raising_irr.T).tocsr(),
                "down": self.gamma_down * sandwich_down, "up": self.gamma_up * sandwich_up,
                "flat": rows * dim + cols, "dim": dim}

    def _matvec_full(self, vec: np.ndarray) -> np.ndarray:
        """:meth:`matvec` (the GKSL generator of Eqs. (S46), (7), (8)) on whole
        2^N x 2^N matrices: the same terms as the blockwise path, see
        :meth:`_build_full_path`."""
        f = self._full
        dim, v = f["dim"], f["v"]
        x = np.zeros((dim, dim), dtype=complex)
        x.flat[f["flat"]] = vec
        o = f["coeff"] * x
        ce = v @ x                      # rows computational, columns eigen
        cc = ce @ v.T                   # computational basis
        if self.b != 0.0:
            o += (f["mixed_left"] * (x @ v.T)) @ v
            o -= 0.5 * self.a * self.b * (f["cross"] @ x + x @ f["cross"])
        r = f["local"] * cc + (f["down"] @ cc.ravel() + f["up"] @ cc.ravel()).reshape(dim, dim)
        if self.omega1:
            sx_cc = f["sx"] @ cc
            r += -1j * self.omega1 * (sx_cc - (f["sx"] @ cc.T).T)
        t = r @ v
        if self.b != 0.0:
            t += f["mixed_right"] * ce
        o += v.T @ t
        return o.flat[f["flat"]]

    def matvec(self, vec: np.ndarray) -> np.ndarray:
        """L rho for rho given as a flattened eigenbasis vector (complex, length 4^N)."""
        vec = np.asarray(vec, dtype=complex)
        if self._full is not None:
            return self._matvec_full(vec)
        return self._matvec_blocks(vec)

    def _matvec_blocks(self, vec: np.ndarray) -> np.ndarray:
        """Blockwise :meth:`matvec` over the (N + 1)^2 sector blocks (the path for large N)."""
        n, a, b = self.n, self.a, self.b
        out = np.empty_like(vec)
        cc = {}
        ce_terms = {}
        ab = a * b
        for k in range(n + 1):
            for l in range(n + 1):
                x = self.block(vec, k, l)
                o = self.block(out, k, l)
                ek, el = self.energies[k], self.energies[l]
                zk, zl = self.z[k], self.z[l]
                coeff = -1j * (ek[:, None] - el[None, :]) + (self._flip_anticommutator(k, l) - 0.25 * a * a * n)
                if b != 0.0:
                    coeff = coeff + b * b * (zk @ zl.T) - 0.5 * b * b * (self.q[k][:, None] + self.q[l][None, :])
                o[...] = coeff * x
                ce = _lmul(self.vectors[k], x)  # rows computational, columns eigen
                cc[k, l] = _rmul(ce, self.vectors[l].T)
                if b != 0.0:
                    # a b sum_i S^z_i rho D_i (mixed basis) and D_i rho S^z_i; -1/2 a b {K, rho}
                    ce_terms[k, l] = ab * (self.basis_spins[k] @ zl.T) * ce
                    ec = _rmul(x, self.vectors[l].T)
                    o += _rmul(ab * (zk @ self.basis_spins[l].T) * ec, self.vectors[l])
                    o -= 0.5 * ab * (_lmul(self.cross[k], x) + _rmul(x, self.cross[l]))
        # computational-basis terms
        for k in range(n + 1):
            for l in range(n + 1):
                r = self._local_terms(cc, k, l)
                t = _rmul(r, self.vectors[l])  # computational columns -> eigen columns
                if (k, l) in ce_terms:
                    t += ce_terms[k, l]
                self.block(out, k, l)[...] += _lmul(self.vectors[k].T, np.ascontiguousarray(t))
        return out

    def _local_terms(self, cc: dict, k: int, l: int) -> np.ndarray:
        """Local terms on block (k, l) in the computational basis: a^2 sum_i S^z_i rho
        S^z_i, amplitude damping sandwiches, and the drive commutator."""
        n = self.n
        x = cc[k, l]
        # sum_i s_i(a) s_i(b) = (N - 2 hamming(a, b)) / 4
        ham = np.bitwise_count((self.states[k][:, None] ^ self.states[l][None, :]).astype(np.uint64)).astype(float)
        r = (0.25 * self.a * self.a) * (n - 2.0 * ham) * x
        if k < n and l < n and self.gamma_down:
            src_up = cc[k + 1, l + 1]
            for j in range(n):
                sk, tk = self.maps[k][j]
                sl, tl = self.maps[l][j]
                r[np.ix_(sk, sl)] += self.gamma_down * src_up[np.ix_(tk, tl)]
        if k > 0 and l > 0 and self.gamma_up:
            src_dn = cc[k - 1, l - 1]
            for j in range(n):
                sk, tk = self.maps[k - 1][j]
                sl, tl = self.maps[l - 1][j]
                r[np.ix_(tk, tl)] += self.gamma_up * src_dn[np.ix_(sk, sl)]
        return self._drive_terms(r, cc, k, l)

    def _drive_terms(self, r: np.ndarray, cc: dict, k: int, l: int) -> np.ndarray:
        """Add the drive commutator -i omega_1 [S^x, rho] on block (k, l) to ``r``
        (computational basis) and return it."""
        n = self.n
        if self.omega1:
            w = -0.5j * self.omega1
            # -i omega_1 (S^x rho - rho S^x), S^x = (S^+ + S^-)/2
            if k > 0:
                r += w * (self.splus[k - 1] @ cc[k - 1, l])
            if k < n:
                r += w * (self.sminus[k] @ cc[k + 1, l])
            if l > 0:
                r -= w * (self.splus[l - 1] @ cc[k, l - 1].T).T
            if l < n:
                r -= w * (self.sminus[l] @ cc[k, l + 1].T).T
        return r

    # ---------------------------------------------------------------- structure
    def diagonal(self) -> np.ndarray:
        """Exact diagonal of L in the eigenbasis (flattened like the vectors).

        Entry (n, m): -i (E_n - E_m) + flip anticommutator - a^2 N/4
        - (b^2/2 + a b)(q_n + q_m) + (a + b)^2 z_n . z_m, with z_n = <n|S^z_i|n>
        and q_n = |z_n|^2 (the drive and the flips have no diagonal entry).
        """
        if self._diag is None:
            a, b, n = self.a, self.b, self.n
            out = np.empty(self.size, dtype=complex)
            for k in range(n + 1):
                for l in range(n + 1):
                    zk, zl = self.z[k], self.z[l]
                    self.block(out, k, l)[...] = (
                        -1j * (self.energies[k][:, None] - self.energies[l][None, :])
                        + self._flip_anticommutator(k, l) - 0.25 * a * a * n
                        - (0.5 * b * b + a * b) * (self.q[k][:, None] + self.q[l][None, :])
                        + (a + b) ** 2 * (zk @ zl.T))
            self._diag = out
        return self._diag

    def population_rates(self):
        """Exact populations -> populations part of L as off-diagonal rates
        (block-tridiagonal lists as in :mod:`dnpsim.solvers.block_tridiagonal`: ``diag[k]`` rates
        inside sector k, ``lower[k]`` k -> k+1, ``upper[k]`` k+1 -> k; entry [m, n] is
        the rate n -> m; diagonals zero).  Rates: |<m|A|n>|^2 summed over jumps:
        a^2 sum_i |<m|S^z_i|n>|^2 inside a sector, gamma_down/up sum_i |<m|S^-+_i|n>|^2
        across sectors."""
        n = self.n
        diag = [self.a ** 2 * dephasing_strength(self.model, s) for s in self.sectors]
        lower, upper = [], []
        for k in range(n):
            strength, _ = raising_strengths(self.model, self.sectors[k], self.sectors[k + 1])  # (d_{k+1}, d_k)
            lower.append(self.gamma_up * strength)
            upper.append(self.gamma_down * strength.T)
        return diag, lower, upper

    def raising_amplitudes(self) -> list[np.ndarray]:
        """Eigenbasis <n|S^+|m> (n in k+1, m in k) of the drive operator, per k."""
        return [total_raising_amplitude(self.model, self.sectors[k], self.sectors[k + 1], self.env.irradiated)
                for k in range(self.n)]


# ------------------------------------------------------------------ steady state
class SchurPreconditioner:
    """Approximate inverse of A = L + w tr(.) built from the secular/diagonal part of
    the nonsecular Liouvillian in the eigenbasis.

    Coherences are approximated by the exact diagonal of L (dephasing -i Delta_nm and
    decay); populations keep their exact rate block plus the rank-one trace term.
    The drive couples populations to the (k, k+-1) coherences; eliminating those
    through the diagonal gives the Schur complement P + W^MW with
    W^MW_nm = -(omega_1^2 / 2) |<n|S^+|m>|^2 Re(1 / L_{nm,nm}), which is Eq. (S53)
    with 1/T_nm = -Re L_{nm,nm}: the preconditioner is a Hilbert-approximation solve
    (block LU of the 2 x 2 system populations / coherences).  Dense LU of size 2^N.
    """

    def __init__(self, liouvillian: EigenbasisLiouvillian, w: np.ndarray):
        import scipy.linalg as sla

        from dnpsim.solvers.block_tridiagonal import BlockTridiagonal, complete_generator

        self.L = L = liouvillian
        n = L.n
        self.diag = L.diagonal()
        self.pop_index = np.concatenate([L.offsets[k, k] + np.arange(L.dims[k]) * (L.dims[k] + 1) for k in range(n + 1)])
        self.x_amp = L.raising_amplitudes() if L.omega1 else [None] * n
        diag, lower, upper = L.population_rates()
        diag = [d.copy() for d in diag]
        lower = [x.copy() for x in lower]
        upper = [x.copy() for x in upper]
        if L.omega1:
            for k in range(n):
                dk = L.block(self.diag, k + 1, k)  # (d_{k+1}, d_k), n in k+1, m in k
                rate = -(0.5 * L.omega1 ** 2) * self.x_amp[k] ** 2 * np.real(np.divide(1.0, dk, out=np.zeros_like(dk), where=dk != 0))
                lower[k] += rate
                upper[k] += rate.T
        q = complete_generator(BlockTridiagonal(diag, lower, upper)).to_dense()
        q += np.outer(np.real(w[self.pop_index]), np.ones(q.shape[0]))
        self.lu = sla.lu_factor(q)
        # population entries are solved exactly below; their diagonal (possibly 0 at T -> 0) is never used
        safe = self.diag.copy()
        safe[self.pop_index] = 1.0
        safe[safe == 0] = 1.0
        self._safe_diag = safe
        self._lu_solve = sla.lu_solve

    def _drive_to_populations(self, y: np.ndarray) -> np.ndarray:
        """Population part of -i omega_1 [S^x, y] from the (k, k+-1) blocks of y."""
        L = self.L
        out = np.zeros(self.pop_index.size, dtype=complex)
        starts = np.concatenate([[0], np.cumsum(L.dims)])
        c = -0.5j * L.omega1
        for k in range(L.n):
            x = self.x_amp[k]
            up = L.block(y, k + 1, k)  # (d_{k+1}, d_k)
            dn = L.block(y, k, k + 1).T
            out[starts[k + 1] : starts[k + 2]] += c * ((x * dn).sum(axis=1) - (x * up).sum(axis=1))
            out[starts[k] : starts[k + 1]] += c * ((x * up).sum(axis=0) - (x * dn).sum(axis=0))
        return out

    def __call__(self, r: np.ndarray) -> np.ndarray:
        L = self.L
        y = r / self._safe_diag
        rp = r[self.pop_index]
        if L.omega1:
            rp = rp - self._drive_to_populations(y)
        xp = self._lu_solve(self.lu, rp.real) + 1j * self._lu_solve(self.lu, rp.imag)
        if L.omega1:
            starts = np.concatenate([[0], np.cumsum(L.dims)])
            c = -0.5j * L.omega1
            for k in range(L.n):
                x = self.x_amp[k]
                p_hi = xp[starts[k + 1] : starts[k + 2]]
                p_lo = xp[starts[k] : starts[k + 1]]
                coupling = c * x * (p_lo[None, :] - p_hi[:, None])  # block (k+1, k)
                L.block(y, k + 1, k)[...] -= coupling / L.block(self._safe_diag, k + 1, k)
                L.block(y, k, k + 1)[...] += coupling.T / L.block(self._safe_diag, k, k + 1)
        y[self.pop_index] = xp
        return y


@dataclass(frozen=True)
class NonsecularSteadyState:
    """Stationary state of the nonsecular GKSL equation (eigenbasis vector) with the
    solver diagnostics: ``residual`` = ||L rho||_1 / sum_n |L_nn| |rho_n| (eigenbasis
    entries, :func:`dnpsim.solvers.steady_state.stationary_residual`),
    ``krylov_residual`` = ||A x - w|| / ||w|| (the stopping criterion, see
    :mod:`dnpsim.solvers.krylov`)."""

    liouvillian: EigenbasisLiouvillian
    rho: np.ndarray
    residual: float
    iterations: int
    method: str
    wall_time: float
    krylov_residual: float

    def electron_polarization(self) -> np.ndarray:
        """P_i = 2 Tr(S^z_i rho) per spin, shape (N,) (coherences inside a sector count)."""
        return electron_polarization(self.liouvillian, self.rho)


def electron_polarization(liouvillian: EigenbasisLiouvillian, rho: np.ndarray) -> np.ndarray:
    """2 Tr(S^z_i rho) for rho a flattened eigenbasis vector; shape (N,), real."""
    L = liouvillian
    out = np.zeros(L.n)
    for k in range(L.n + 1):
        v = L.vectors[k]
        diag_cc = np.einsum("sn,nm,sm->s", v, L.block(rho, k, k), v).real
        out += 2.0 * diag_cc @ L.basis_spins[k]
    return out


def nonsecular_steady_state(liouvillian: EigenbasisLiouvillian, *, method: str = "gmres", tol: float = 1e-10,
                            maxiter: int = 500, restart: int = 40, x0: np.ndarray | None = None,
                            preconditioner: str | None = "auto") -> NonsecularSteadyState:
    """Steady state of the matrix-free nonsecular Liouvillian: Krylov solve of
    L rho + w tr(rho) = w (:func:`dnpsim.solvers.krylov.stationary_krylov`) with w the
    normalized identity.  ``preconditioner``: "schur" (:class:`SchurPreconditioner`,
    Hilbert-like, good when decoherence dominates the drive), "dressed"
    (:class:`DressedPreconditioner`, exact drive, dense 2^N), "auto" (dressed for
    N <= DRESSED_MAX_SPINS, else schur) or None.  Measured (N = 4, Table I): dressed
    needs 10 (1.2 K) / 21 (12 K) GMRES applications for 1e-8, schur > 2000 / 40.

    ``tol`` is Krylov's own stopping criterion ||A x - w||_2 / ||w||_2 (the norm the
    methods minimize); the reported ``residual`` is the package-wide
    ||L rho||_1 / sum_n |L_nn| |rho_n| of
    :func:`dnpsim.solvers.steady_state.stationary_residual`, from one extra
    application of L and its exact :meth:`EigenbasisLiouvillian.diagonal` per pass,
    and is brought below ``tol`` as well where a bounded extra effort can (see
    :func:`dnpsim.solvers.krylov.stationary_krylov`; it cannot always, e.g. at zero
    temperature where the populations carry almost no flux).  Raises
    ConvergenceError with that residual when the stopping criterion is not met."""
    from dnpsim.solvers.krylov import stationary_krylov

    L = liouvillian
    # the rank-one direction is scaled to the typical decay rate, so A is as well
    # conditioned as L restricted to trace-zero matrices (tr(rho) = 1 for any scale)
    w = L.identity() * (np.mean(np.abs(L.diagonal().real)) / 2**L.n)
    if preconditioner == "auto":
        preconditioner = "dressed" if L.n <= DRESSED_MAX_SPINS else "schur"
    if preconditioner not in (None, "schur", "dressed"):
        raise ValueError(f"preconditioner must be 'auto', 'schur', 'dressed' or None, got {preconditioner!r}")
    pre = None if preconditioner is None else (SchurPreconditioner if preconditioner == "schur" else DressedPreconditioner)(L, w)
    res = stationary_krylov(L.matvec, L.size, L.trace, w, diagonal=L.diagonal(), preconditioner=pre, x0=x0,
                            method=method, tol=tol, maxiter=maxiter, restart=restart)
    return NonsecularSteadyState(L, res.x, res.residual, res.iterations, res.method, res.wall_time,
                                 res.krylov_residual)


class DressedPreconditioner:
    """Approximate inverse of A = L + w tr(.) from the secular approximation in the
    eigenbasis of the full rotating-frame Hamiltonian H = H_S - omega_MW S^z + omega_1 S^x
    ("dressed" states |a>, dense 2^N diagonalization).

    In that basis the unitary part is diagonal; the dissipator keeps its exact
    populations block (rates sum_alpha |<b|A_alpha|a>|^2, a dense 2^N generator plus
    the rank-one trace term, LU-factored) and the exact diagonal on coherences.  Unlike
    :class:`SchurPreconditioner`, the drive is treated exactly, so it stays accurate when
    omega_1 exceeds the decoherence rates (Table I at 1.2 K, where the drive mixes many
    eigenstates of H_S).  Cost per application: two dense (2^N)^3 similarity transforms;
    set-up: 4N of them.  Meant for N <= 10.
    """

    def __init__(self, liouvillian: EigenbasisLiouvillian, w: np.ndarray):
        import scipy.linalg as sla

        from dnpsim.dynamics.jumps import lowering_amplitudes, spin_z_matrices

        self.L = L = liouvillian
        n = L.n
        dim = 2**n
        self.starts = np.concatenate([[0], np.cumsum(L.dims)])
        st = self.starts
        h = np.zeros((dim, dim))
        h[np.arange(dim), np.arange(dim)] = np.concatenate(L.energies)
        x_amp = L.raising_amplitudes() if L.omega1 else []
        for k, x in enumerate(x_amp):
            h[st[k + 1] : st[k + 2], st[k] : st[k + 1]] = 0.5 * L.omega1 * x
            h[st[k] : st[k + 1], st[k + 1] : st[k + 2]] = 0.5 * L.omega1 * x.T
        lam, vec = np.linalg.eigh(h)
        self.vec = vec
        rates = np.zeros((dim, dim))  # [b, a] = sum |<b|A|a>|^2
        keep = np.zeros((dim, dim))   # sum_alpha A_aa A_bb^* (real: all jumps real here)

        def add(op_ee):
            op = vec.T @ op_ee @ vec
            sq = op * op
            rates[...] += sq
            d = np.diagonal(op)
            keep[...] += np.outer(d, d)

        lowering = [lowering_amplitudes(L.model, L.sectors[k], L.sectors[k + 1]) for k in range(n)]
        zmats = [spin_z_matrices(L.model, L.sectors[k]) for k in range(n + 1)]
        for i in range(n):
            for scale, lower in ((math.sqrt(L.gamma_down), True), (math.sqrt(L.gamma_up), False)):
                if scale == 0.0:
                    continue
                op = np.zeros((dim, dim))
                for k in range(n):
                    amp = lowering[k][i]
                    if lower:
                        op[st[k] : st[k + 1], st[k + 1] : st[k + 2]] = scale * amp
                    else:
                        op[st[k + 1] : st[k + 2], st[k] : st[k + 1]] = scale * amp.T
                add(op)
            op = np.zeros((dim, dim))
            for k in range(n + 1):
                blk = L.a * zmats[k][i]
                blk[np.diag_indices_from(blk)] += L.b * L.z[k][:, i]
                op[st[k] : st[k + 1], st[k] : st[k + 1]] = blk
            add(op)
        out_rate = rates.sum(axis=0)  # (A^+A)_aa = sum_c |A_ca|^2
        self.coh = -1j * (lam[:, None] - lam[None, :]) + keep - 0.5 * (out_rate[:, None] + out_rate[None, :])
        gen = rates.copy()
        np.fill_diagonal(gen, 0.0)
        gen[np.diag_indices(dim)] = -gen.sum(axis=0)
        wmat = self._to_full(w)
        gen += np.outer(np.real(np.diagonal(vec.T @ wmat @ vec)), np.ones(dim))
        self.lu = sla.lu_factor(gen)
        self._lu_solve = sla.lu_solve
        safe = self.coh.copy()
        safe[np.diag_indices(dim)] = 1.0
        safe[safe == 0] = 1.0
        self.safe = safe

    def _to_full(self, vec_blocks: np.ndarray) -> np.ndarray:
        L, st = self.L, self.starts
        full = np.empty((st[-1], st[-1]), dtype=complex)
        for k in range(L.n + 1):
            for l in range(L.n + 1):
                full[st[k] : st[k + 1], st[l] : st[l + 1]] = L.block(vec_blocks, k, l)
        return full

    def __call__(self, r: np.ndarray) -> np.ndarray:
        L, st, v = self.L, self.starts, self.vec
        rt = _rmul(_lmul(v.T, self._to_full(r)), v)  # real eigenvectors: real GEMMs on (re, im)
        x = rt / self.safe
        d = np.diagonal(rt)
        xp = self._lu_solve(self.lu, d.real) + 1j * self._lu_solve(self.lu, d.imag)
        x[np.diag_indices_from(x)] = xp
        full = np.ascontiguousarray(_rmul(_lmul(v, np.ascontiguousarray(x)), v.T))
        out = np.empty_like(r)
        for k in range(L.n + 1):
            for l in range(L.n + 1):
                L.block(out, k, l)[...] = full[st[k] : st[k + 1], st[l] : st[l + 1]]
        return out
