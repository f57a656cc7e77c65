"""Steady state of the nonsecular GKSL equation of the 2021 paper (Eqs. (7)-(8), S46),
matrix-free: L rho + w tr(rho) = w solved by GMRES / BiCGSTAB
(:mod:`dnpsim.solvers.krylov`; the residual reported is the package's
:func:`dnpsim.solvers.residual.stationary_residual`) with one of two
preconditioners built from the secular/diagonal part: :class:`DressedPreconditioner`
(secular approximation in the eigenbasis of the full rotating-frame H, drive exact;
default up to N = 11) or :class:`SchurPreconditioner` (diagonal coherences + exact
population block with the drive eliminated, i.e. Hilbert rates S53 from the exact
diagonal of L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dnpsim.dynamics.lindblad import EigenbasisLiouvillian, real_left_product, real_right_product

#: Largest N for which "auto" picks the dense 2^N dressed-state preconditioner.
DRESSED_MAX_SPINS = 11


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
    entries, :func:`dnpsim.solvers.residual.stationary_residual`),
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


def nonsecular_steady_state(liouvillian: EigenbasisLiouvillian, *, method: str = "gmres", tol: float = 1e-8,
                            maxiter: int = 500, restart: int = 30, x0: np.ndarray | None = None,
                            preconditioner: str | None = "auto") -> NonsecularSteadyState:
    """Steady state of the matrix-free nonsecular Liouvillian: Krylov solve of
    L rho + w tr(rho) = w (:func:`dnpsim.solvers.krylov.stationary_krylov`) with w the
    normalized identity.  ``preconditioner``: "schur" (:class:`SchurPreconditioner`,
    Hilbert-like, good when decoherence dominates the drive), "dressed"
    (:class:`DressedPreconditioner`, exact drive, dense 2^N), "auto" (dressed for
    N <= DRESSED_MAX_SPINS, else schur) or None.  Measured (N = 4, Table I): dressed
    needs 10 (1.2 K) / 21 (12 K) GMRES applications for 1e-8, schur > 2000 / 40.
    ``method``, ``tol``, ``maxiter``, ``restart`` default to those of
    :class:`dnpsim.methods.Nonsecular` (the spec files' defaults).

    ``tol`` is Krylov's own stopping criterion ||A x - w||_2 / ||w||_2 (the norm the
    methods minimize); the reported ``residual`` is the package-wide
    ||L rho||_1 / sum_n |L_nn| |rho_n| of
    :func:`dnpsim.solvers.residual.stationary_residual`, from the last product of
    the solver and the exact :meth:`EigenbasisLiouvillian.diagonal` (a few times
    ``tol`` at Table I parameters).  Raises ConvergenceError with that residual
    when the stopping criterion is not met."""
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
        rt = real_right_product(real_left_product(v.T, self._to_full(r)), v)  # real eigenvectors: real GEMMs on (re, im)
        x = rt / self.safe
        d = np.diagonal(rt)
        xp = self._lu_solve(self.lu, d.real) + 1j * self._lu_solve(self.lu, d.imag)
        x[np.diag_indices_from(x)] = xp
        full = np.ascontiguousarray(real_right_product(real_left_product(v, np.ascontiguousarray(x)), v.T))
        out = np.empty_like(r)
        for k in range(L.n + 1):
            for l in range(L.n + 1):
                L.block(out, k, l)[...] = full[st[k] : st[k + 1], st[l] : st[l + 1]]
        return out
