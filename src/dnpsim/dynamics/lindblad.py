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

Implementations:

* :mod:`dnpsim.dynamics.lindblad_dense`: the 4^N x 4^N superoperator from full-space
  operators, column-stacking vec(rho); a brute-force reference for N <= 5, both jump
  choices.
* :class:`EigenbasisLiouvillian` (this module): the nonsecular generator applied
  matrix-free to rho written in the eigenbasis of H_S, block by block over
  magnetization sectors (k, l).  Terms diagonal in the eigenbasis (Hamiltonian,
  anticommutators of functions of the magnetization, D_i rho D_i) are elementwise
  products; the local terms (S^z_i rho S^z_i, S^-_i rho S^+_i, the drive) are applied
  in the computational basis, reached by real GEMMs with the sector eigenvectors; the
  S^z_i rho D_i cross terms of Eq. (8) in the mixed (computational, eigen) basis.
  Memory ~ a few 4^N complex vectors; cost ~ 4-8 sum_{k,l} d_k d_l (d_k + d_l) real
  flops x 2 per application.
* :mod:`dnpsim.dynamics.lindblad_steady_state`: its steady state by preconditioned
  Krylov methods.

The bath and drive (:class:`~dnpsim.dynamics.jumps.OpenEnvironment`, Hz) and the jump
amplitudes live in :mod:`dnpsim.dynamics.jumps`.
"""

from __future__ import annotations


import numpy as np
import scipy.sparse as sp

from dnpsim.dynamics.eigenbasis import SectorEigensystem, diagonalize_sector, raising_strengths, dephasing_strength
from dnpsim.dynamics.jumps import OpenEnvironment, total_raising_amplitude
from dnpsim.models.electrons import DipolarElectrons

#: Largest N for which EigenbasisLiouvillian.matvec works on whole 2^N x 2^N matrices
#: (faster below it, where the blockwise path is dominated by per-block overhead;
#: the sandwich superoperators hold n 4^N / 2 nonzeros: 4 MiB at N = 8).
FULL_PATH_MAX_SPINS = 8


def real_left_product(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Real (p, q) @ complex C-contiguous (q, r) as one real GEMM."""
    q, r = x.shape
    return (v @ x.view(np.float64).reshape(q, 2 * r)).view(np.complex128)


def real_right_product(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Complex (p, q) @ real (q, r) as one real GEMM (through transposes)."""
    return real_left_product(w.T, np.ascontiguousarray(x.T)).T


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
                ce = real_left_product(self.vectors[k], x)  # rows computational, columns eigen
                cc[k, l] = real_right_product(ce, self.vectors[l].T)
                if b != 0.0:
                    # a b sum_i S^z_i rho D_i (mixed basis) and D_i rho S^z_i; -1/2 a b {K, rho}
                    ce_terms[k, l] = ab * (self.basis_spins[k] @ zl.T) * ce
                    ec = real_right_product(x, self.vectors[l].T)
                    o += real_right_product(ab * (zk @ self.basis_spins[l].T) * ec, self.vectors[l])
                    o -= 0.5 * ab * (real_left_product(self.cross[k], x) + real_right_product(x, self.cross[l]))
        # computational-basis terms
        for k in range(n + 1):
            for l in range(n + 1):
                r = self._local_terms(cc, k, l)
                t = real_right_product(r, self.vectors[l])  # computational columns -> eigen columns
                if (k, l) in ce_terms:
                    t += ce_terms[k, l]
                self.block(out, k, l)[...] += real_left_product(self.vectors[k].T, np.ascontiguousarray(t))
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
