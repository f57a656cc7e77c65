"""Stationary vector of a block-tridiagonal Markov generator by the block elimination
done in float32 and refined in float64 (no physics).

For the large blocks where the elimination is all the work, float32 runs at twice the
flop rate of float64 and holds half the memory; iterative refinement on residuals
computed in float64, then in double-double arithmetic
(:mod:`dnpsim.solvers.double_double`), brings the vector to the accuracy of the
float64 elimination (:mod:`dnpsim.solvers.elimination`, same order, same GTH
diagonals).  The elimination is fed block by block by a :class:`SplitGenerator`, so
a generator assembled per microwave frequency never has to exist in float64
(:class:`AssembledGenerator` wraps a stored one).  The driver that checks the result
and falls back to float64 is :func:`dnpsim.solvers.steady_state.stationary_state`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from dnpsim.solvers.block_tridiagonal import BlockTridiagonal, diagonal_view
from dnpsim.solvers.double_double import accurate_product2, escape_rates2
from dnpsim.solvers.elimination import reset_diagonal, stationary_block_elimination
from dnpsim.solvers.null_vector import bordered_system, null_vector


def _factor_transposed(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LU factors (LAPACK getrf, partial pivoting) of block^T, computed in place on a
    C-ordered ``block`` (its memory is the Fortran layout of block^T, so nothing is
    copied).  Returns (lu, piv) in scipy's ``lu_factor`` convention."""
    getrf = sla.get_lapack_funcs("getrf", (block,))
    lu, piv, info = getrf(block.T, overwrite_a=True)
    if info > 0:
        raise np.linalg.LinAlgError("singular censored generator")
    return lu, piv


class SplitGenerator:
    """A block-tridiagonal generator handed to the float32 elimination block by block,
    so that it never has to exist in float64 (see :class:`AssembledGenerator` for a
    stored one; :class:`dnpsim.dynamics.rates.MicrowaveGenerator` computes the
    microwave part of a DNP profile on the fly from the transition strengths).

    Subclasses provide ``dims`` (block sizes) and the methods below; blocks use the
    layout of :class:`BlockTridiagonal` (``lower[k] = Q[k+1, k]``,
    ``upper[k] = Q[k, k+1]``).
    """

    dims: list[int]

    @property
    def size(self) -> int:
        """Number of states."""
        return int(sum(self.dims))

    def split(self, vector: np.ndarray) -> list[np.ndarray]:
        """Cut a concatenated vector into per-block views."""
        return np.split(vector, np.cumsum(self.dims)[:-1])

    def diagonal_block32(self, k: int) -> np.ndarray:
        """Off-diagonal rates of Q[k, k] in float32, (d_k, d_k) (the diagonal is not
        used: the elimination recomputes it from column sums).  Read only."""
        raise NotImplementedError

    def coupling_blocks32(self, k: int, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """Write Q[k+1, k] into ``lower`` (float32, (d_{k+1}, d_k)) and Q[k, k+1] into
        ``upper`` (float32, (d_k, d_{k+1})); return the column sums of Q[k, k+1] in
        float64, (d_{k+1},): the rates out of every state of block k+1 into block k."""
        raise NotImplementedError

    def product(self, p: np.ndarray) -> np.ndarray:
        """Q p in float64."""
        raise NotImplementedError

    def accurate_product(self, p: np.ndarray) -> np.ndarray:
        """Q p in double-double arithmetic with the diagonal equal to minus the exact
        column sums of the off-diagonal rates, rounded to float64
        (:func:`accurate_product2`)."""
        raise NotImplementedError

    def escape_rates(self) -> np.ndarray:
        """-Q[n, n] for every state, float64, (size,)."""
        raise NotImplementedError

    def assemble(self) -> BlockTridiagonal:
        """The generator as float64 blocks (for the float64 fallback)."""
        raise NotImplementedError


class AssembledGenerator(SplitGenerator):
    """:class:`SplitGenerator` view of a stored float64 :class:`BlockTridiagonal`."""

    def __init__(self, generator: BlockTridiagonal):
        generator._single()
        self.generator = generator
        self.dims = generator.dims
        self._escape2 = None

    def diagonal_block32(self, k):
        return self.generator.diag[k].astype(np.float32)

    def coupling_blocks32(self, k, lower, upper):
        np.copyto(lower, self.generator.lower[k], casting="same_kind")
        np.copyto(upper, self.generator.upper[k], casting="same_kind")
        return self.generator.upper[k].sum(axis=0)

    def product(self, p):
        return self.generator.matvec(p)

    def accurate_product(self, p):
        if self._escape2 is None:
            self._escape2 = escape_rates2(self.generator)
        return accurate_product2(self.generator, p, self._escape2)

    def escape_rates(self):
        return np.concatenate([-diagonal_view(d) for d in self.generator.diag])

    def assemble(self):
        return self.generator


class Float32Workspace:
    """Reusable float32 buffers of the elimination of generators with block sizes
    ``dims``: one LU buffer per block, Y_k (Fortran-ordered, LAPACK solves it in
    place) and the coupling block per block pair, and one square scratch block.
    Reusing them across the frequencies of a profile avoids allocating (and
    page-faulting) ~100 MB per solve at N = 12; one workspace per thread, a solve's
    factors live until the next solve in the same workspace."""

    def __init__(self, dims):
        self.dims = [int(d) for d in dims]
        f32 = np.float32
        self.lu = [np.empty((d, d), f32) for d in self.dims]
        pairs = list(zip(self.dims[:-1], self.dims[1:]))
        self.solved = [np.empty((high, low), f32, order="F") for low, high in pairs]
        self.coupling = [np.empty((low, high), f32) for low, high in pairs]
        self.scratch = np.empty(max(self.dims) ** 2, f32)

    def square_scratch(self, d: int) -> np.ndarray:
        """A (d, d) float32 view of the scratch buffer (overwritten by the next call)."""
        return self.scratch[: d * d].reshape(d, d)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (*self.lu, *self.solved, *self.coupling, self.scratch))


@dataclass
class _Float32Elimination:
    """Block elimination of one generator in float32 from the last block down (the
    order of :func:`stationary_block_elimination`): LU factors of every censored
    generator S_k (k = n-1 .. 1, factors of S_k^T), Y_k = S_k^{-1} Q[k, k-1], the
    coupling blocks Q[k-1, k], and the last censored generator S_0 (float64 copy; it
    is singular, with the stationary direction).  Index k of ``factors``,
    ``solved`` and ``coupling`` is block k (entry 0 unused)."""

    factors: list
    solved: list
    coupling: list
    last: np.ndarray

    @classmethod
    def build(cls, source: SplitGenerator, workspace: Float32Workspace | None = None) -> "_Float32Elimination":
        n = len(source.dims)
        reusable = workspace is not None and workspace.dims == list(source.dims)
        ws = workspace if reusable else Float32Workspace(source.dims)
        # only LAPACK (scipy's flapack) and numpy release the GIL here, scipy's fblas
        # (trsm, gemm) do not: with them two threads solving two frequencies ran at
        # 1.3x instead of 1.9x
        getrs = sla.get_lapack_funcs("getrs", (ws.lu[0],))
        f32 = np.float32
        factors, solved, coupling = [None] * n, [None] * n, [None] * n
        schur = ws.lu[n - 1]
        np.copyto(schur, source.diagonal_block32(n - 1))
        for k in range(n - 1, 0, -1):
            # Q[k, k-1] (into block k) is solved against S_k, Q[k-1, k] couples back
            into = ws.solved[k - 1]
            back = ws.coupling[k - 1]
            leak = source.coupling_blocks32(k - 1, into, back)
            reset_diagonal(schur, leak.astype(f32))
            lu, piv = _factor_transposed(schur)
            factors[k] = (lu, piv)
            # the factors are those of S^T: trans=1 solves S Y = Q[k, k-1] in place
            y, info = getrs(lu, piv, into, trans=1, overwrite_b=True)
            if info != 0 or not np.shares_memory(y, into):  # pragma: no cover - LAPACK argument error
                raise np.linalg.LinAlgError(f"getrs failed (info {info})")
            solved[k] = into
            coupling[k] = back
            product = ws.square_scratch(source.dims[k - 1])
            np.matmul(back, into, out=product)
            schur = ws.lu[k - 1]
            np.subtract(source.diagonal_block32(k - 1), product, out=schur)
        reset_diagonal(schur, None)
        if not all(np.all(np.isfinite(f[0])) for f in factors[1:]) or not np.all(np.isfinite(schur)):
            raise np.linalg.LinAlgError("float32 elimination overflowed")
        return cls(factors, solved, coupling, schur.astype(np.float64))

    def null_vector(self) -> np.ndarray:
        """Approximate stationary vector (back substitution of the last block's null
        vector), float64, normalized."""
        pieces = [null_vector(self.last)]
        for y in self.solved[1:]:
            pieces.append(-(y @ pieces[-1].astype(np.float32)).astype(np.float64))
        p = np.concatenate(pieces)
        return p / p.sum()

    @functools.cached_property
    def _bordered(self) -> tuple[np.ndarray, int]:
        # the singular last block with the equation null_vector replaces taken by
        # sum(delta_last) = 0, formed once for all refinement steps
        bordered, row = bordered_system(self.last)
        return bordered, int(row)

    def solve(self, residual: np.ndarray) -> np.ndarray:
        """An approximate solution delta of Q delta = residual (sum(residual) = 0),
        through the float32 factors: forward elimination of the right-hand side from
        the last block down, the singular block 0 solved with sum(delta_0) = 0, back
        substitution.  The right-hand side is scaled to unit maximum before the cast
        so small components do not underflow."""
        scale = float(np.abs(residual).max())
        if scale == 0.0:
            return np.zeros_like(residual)
        n = len(self.factors)
        dims = [self.last.shape[0]] + [f[0].shape[0] for f in self.factors[1:]]
        rhs = np.split((residual / scale).astype(np.float32), np.cumsum(dims)[:-1])
        w = [None] * n
        z = rhs[n - 1]
        for k in range(n - 1, 0, -1):
            # the factors are those of S^T (see _factor_transposed): trans=1 solves S w = z
            w[k] = sla.lu_solve(self.factors[k], z, trans=1, check_finite=False)
            z = rhs[k - 1] - self.coupling[k] @ w[k]
        bordered, row = self._bordered
        z = z.astype(np.float64)
        z[row] = 0.0
        delta = [np.linalg.solve(bordered, z).astype(np.float32)]
        for k in range(1, n):
            delta.append(w[k] - self.solved[k] @ delta[-1])
        return scale * np.concatenate(delta).astype(np.float64)


#: Refinement switches from float64 to double-double residuals below this ||delta||_1.
ACCURATE_RESIDUAL_BELOW = 1e-6


def stationary_mixed_precision(generator: BlockTridiagonal | SplitGenerator, *, max_iterations: int = 12,
                               correction_tol: float = 1e-12, error_tol: float = 1e-14,
                               workspace: Float32Workspace | None = None) -> tuple[np.ndarray, int, float]:
    """Stationary vector of one generator by the block elimination of
    :func:`stationary_block_elimination` done in float32 (same order, same GTH
    diagonals), then iterative refinement: p <- p - delta with Q delta = Q p solved
    through the float32 factors.

    ``generator`` is a stored :class:`BlockTridiagonal` or a :class:`SplitGenerator`
    that produces its float32 blocks on demand (``workspace``, optional, holds the
    float32 buffers between calls).  The residual Q p is computed in float64 while
    the corrections are large, then in double-double arithmetic
    (:func:`accurate_product2`) once ||delta||_1 is below
    :data:`ACCURATE_RESIDUAL_BELOW`: with a float64 residual the refinement stalls
    at the round-off of the flux balance amplified by the slow directions (1e-10 in
    localized N = 12 systems), with the accurate one it converges to the stationary
    vector of the chain defined by the off-diagonal rates, the one the GTH
    elimination computes (agreement ~1e-13 at N = 12, U = 2 and 15 MHz).  Each step
    contracts the error by a factor rho ~1e-4 (ergodic) to ~1e-2 (localized).  After
    an accurate step with correction c_k the refinement stops when
    ||delta||_1 = c_k <= ``correction_tol``, when the error left after it, estimated
    as c_k r / (1 - r) with the measured ratio r = c_k / c_{k-1} of the last two
    corrections, is below ``error_tol`` (the a-posteriori bound of a linearly
    converging iteration; r >= rho, since a float64 step can only leave more error
    than rho times its correction, so the estimate errs on the safe side; this saves
    the step that used to confirm what the ratio already showed: 4 -> 3 steps at
    N = 12), or when the corrections stop shrinking.  Returns (p, steps, error): the
    estimated L1 error left in p (c_k r / (1 - r) when r < 1/2, else the last
    correction c_k itself); the caller decides whether that is good enough
    (:func:`dnpsim.solvers.steady_state.stationary_states` falls back to the float64
    elimination above :data:`dnpsim.solvers.steady_state.MIXED_ACCEPT`).
    """
    source = AssembledGenerator(generator) if isinstance(generator, BlockTridiagonal) else generator
    if len(source.dims) == 1:
        return stationary_block_elimination(source.assemble()), 0, 0.0
    elimination = _Float32Elimination.build(source, workspace)
    p = elimination.null_vector()
    correction = left = float("inf")
    previous_accurate = float("inf")
    steps = 0
    for steps in range(1, max_iterations + 1):
        accurate = correction <= ACCURATE_RESIDUAL_BELOW
        residual = source.accurate_product(p) if accurate else source.product(p)
        delta = elimination.solve(residual)
        previous, correction = correction, float(np.abs(delta).sum())
        p -= delta
        p /= p.sum()
        if accurate:
            # (the first accurate step may well be larger than the last float64 one:
            # it sees the error the float64 residual could not; then r is large and
            # the estimate below does not stop the refinement)
            ratio = correction / previous if previous > 0.0 else 0.0
            left = correction * ratio / (1.0 - ratio) if ratio < 0.5 else correction
            if correction <= correction_tol or left <= error_tol or correction > 0.5 * previous_accurate:
                break
            previous_accurate = correction
    return p, steps, min(left, correction)

