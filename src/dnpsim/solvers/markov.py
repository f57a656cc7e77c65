"""Continuous-time Markov generators with block-tridiagonal structure (no physics).

A generator Q acts on populations as dp/dt = Q p: ``Q[m, n]`` (m != n) is the rate
n -> m and every column sums to zero.  Magnetization-conserving spin systems flipped
one spin at a time give a block-tridiagonal Q over sectors, stored as dense blocks:

    diag[k]  = Q[k, k]     (..., d_k, d_k)
    lower[k] = Q[k+1, k]   (..., d_{k+1}, d_k)   rates from block k to block k+1
    upper[k] = Q[k, k+1]   (..., d_k, d_{k+1})   rates from block k+1 to block k

The optional leading axes ``...`` hold a batch of generators with the same block
structure (e.g. one per microwave frequency): small systems are solved a whole batch
per LAPACK call instead of one Python-level elimination per generator.

Stationary states come from exact block elimination (Schur complements, cost
sum_k d_k^3-ish instead of (sum_k d_k)^3), from the same elimination done in float32
and refined in float64 (``"mixed"``, twice the flop rate for the large blocks where
the elimination is all the work), or a dense solve for small systems; every result
reports its residual and a solver that does not meet its tolerance raises
:class:`ConvergenceError`.  The float32 elimination can also be fed block by block by
a :class:`SplitGenerator` (:func:`stationary_state_split`), so that a generator
assembled per microwave frequency never has to exist in float64.  (GMRES with a
block-Jacobi preconditioner was tried and needs ~10^4 iterations at N = 10: the large
inter-sector microwave rates are exactly what block Jacobi leaves out.)
"""

from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import types
from numba.core.extending import intrinsic
import scipy.linalg as sla
import scipy.sparse as sp

from dnpsim.errors import ConvergenceError


#: Below this block size one BLAS thread is faster than several (thread start-up and
#: synchronization dominate small products; on a busy machine spinning threads are
#: an order of magnitude slower still).
SMALL_BLOCK = 600


def blas_threads_for(dim: int):
    """Context manager limiting BLAS to one thread for matrices smaller than
    :data:`SMALL_BLOCK`, a no-op otherwise."""
    return single_threaded_blas() if dim < SMALL_BLOCK else contextlib.nullcontext()


def single_threaded_blas():
    """Context manager running BLAS single-threaded (for callers that parallelize
    over independent problems themselves)."""
    return _threadpool_controller().limit(limits=1, user_api="blas")


def available_blas_threads() -> int:
    """Threads the loaded BLAS may use in this process (1 if none is found)."""
    info = [lib for lib in _threadpool_controller().info() if lib.get("user_api") == "blas"]
    return max([lib.get("num_threads", 1) for lib in info] or [1])


@functools.lru_cache(maxsize=1)
def _threadpool_controller():
    # inspecting the loaded BLAS libraries costs ~0.3 ms; do it once per process
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@dataclass
class BlockTridiagonal:
    """Block-tridiagonal square matrix, or a batch of them with the same block sizes
    (see the module docstring for the layout)."""

    diag: list[np.ndarray]
    lower: list[np.ndarray]
    upper: list[np.ndarray]

    def __post_init__(self):
        k = len(self.diag)
        if len(self.lower) != k - 1 or len(self.upper) != k - 1:
            raise ValueError("need len(lower) == len(upper) == len(diag) - 1")

    @property
    def dims(self) -> list[int]:
        return [b.shape[-1] for b in self.diag]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch axes (``()`` for a single matrix)."""
        return self.diag[0].shape[:-2]

    @property
    def offsets(self) -> np.ndarray:
        """Start index of every block in the concatenated vector, length n_blocks + 1."""
        return np.concatenate([[0], np.cumsum(self.dims)])

    @property
    def size(self) -> int:
        return int(sum(self.dims))

    def split(self, vector: np.ndarray) -> list[np.ndarray]:
        """Cut concatenated vectors (last axis) into per-block views."""
        o = self.offsets
        return [vector[..., o[k] : o[k + 1]] for k in range(len(self.diag))]

    def matvec(self, vector: np.ndarray) -> np.ndarray:
        """Q @ vector, blockwise; ``vector`` has shape (..., size) matching the batch."""
        x = [part[..., None] for part in self.split(np.asarray(vector))]
        out = [self.diag[k] @ x[k] for k in range(len(x))]
        for k in range(len(x) - 1):
            out[k + 1] += self.lower[k] @ x[k]
            out[k] += self.upper[k] @ x[k + 1]
        return np.concatenate(out, axis=-2)[..., 0]

    def item(self, index) -> "BlockTridiagonal":
        """One generator of a batch (views, no copy)."""
        return BlockTridiagonal([b[index] for b in self.diag], [b[index] for b in self.lower],
                                [b[index] for b in self.upper])

    def _single(self) -> None:
        if self.batch_shape:
            raise ValueError("assemble one generator of the batch at a time (use .item(i))")

    def to_sparse(self) -> sp.csr_matrix:
        """Assemble as a CSR matrix (for time evolution and direct sparse checks)."""
        self._single()
        n = len(self.diag)
        grid = [[None] * n for _ in range(n)]
        for k in range(n):
            grid[k][k] = sp.csr_matrix(self.diag[k])
        for k in range(n - 1):
            grid[k + 1][k] = sp.csr_matrix(self.lower[k])
            grid[k][k + 1] = sp.csr_matrix(self.upper[k])
        return sp.bmat(grid, format="csr")

    def to_dense(self) -> np.ndarray:
        return self.to_sparse().toarray()

    def nbytes(self) -> int:
        return sum(b.nbytes for b in (*self.diag, *self.lower, *self.upper))


def diagonal_view(block: np.ndarray) -> np.ndarray:
    """Writable view of the diagonal of a square block (or of each in a batch),
    shape (..., d)."""
    return np.einsum("...ii->...i", block)


def complete_generator(matrix: BlockTridiagonal) -> BlockTridiagonal:
    """Set every diagonal entry to minus the sum of the other rates in its column, in
    place, so columns sum to zero (conservation of probability).  The diagonal entries
    given on input are ignored.  Works on batches."""
    for k, d in enumerate(matrix.diag):
        diagonal_view(d)[...] = 0.0
        out = d.sum(axis=-2)
        if k < len(matrix.lower):
            out += matrix.lower[k].sum(axis=-2)
        if k > 0:
            out += matrix.upper[k - 1].sum(axis=-2)
        diagonal_view(d)[...] = -out
    return matrix


def generator_residual(generator: BlockTridiagonal, p: np.ndarray):
    """Relative stationarity residual ||Q p||_1 / sum_n |Q_nn| p_n: the net probability
    flux left over, as a fraction of the total flux out of all states (0 for an exact
    stationary state).  A float, or an array of the batch shape for a batch."""
    escape = np.concatenate([np.abs(diagonal_view(d)) for d in generator.diag], axis=-1)
    flux = np.sum(escape * np.abs(p), axis=-1)
    left = np.abs(generator.matvec(p)).sum(axis=-1)
    out = np.where(flux > 0.0, left / np.where(flux > 0.0, flux, 1.0), 0.0)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class StationaryResult:
    """Stationary populations with the solver's diagnostics."""

    populations: np.ndarray = field(repr=False)
    residual: float
    method: str
    iterations: int
    wall_time: float


def _null_vector(generator_block: np.ndarray) -> np.ndarray:
    """Null vector of a small generator-like block (columns sum to ~0), or of each
    block of a batch (..., d, d) -> (..., d)."""
    d = generator_block.shape[-1]
    if d == 1:
        return np.ones(generator_block.shape[:-1])
    a = generator_block.reshape(-1, d, d).copy()
    batch = np.arange(a.shape[0])
    # replace the equation with the largest diagonal by the normalization sum(p) = 1
    row = np.argmax(np.abs(diagonal_view(a)), axis=-1)
    a[batch, row, :] = 1.0
    rhs = np.zeros(a.shape[:-1])
    rhs[batch, row] = 1.0
    # near-decoupled chains give tiny pivots here by design; the caller checks the
    # residual of the final vector
    return np.linalg.solve(a, rhs[..., None])[..., 0].reshape(generator_block.shape[:-1])


def _reset_diagonal(block: np.ndarray, leak: np.ndarray | None) -> None:
    """Recompute the diagonal of a censored generator from its off-diagonal entries
    (in place; batches too): its columns must sum to minus the rates leaking to the
    next block (``leak`` is that block of rates, or already its column sums: a vector
    of the block's size).

    This is the block analogue of the Grassmann-Taksar-Heyman trick: the off-diagonal
    Schur-complement entries are sums of non-negative terms, the diagonal would be a
    difference of large numbers, so taking it from the column sums removes the
    cancellation that otherwise costs ~cond(Q) eps in the stationary vector.
    """
    diagonal_view(block)[...] = 0.0
    # entries that should be >= 0 but came out slightly negative are round-off
    np.maximum(block, 0.0, out=block)
    total = block.sum(axis=-2)
    if leak is not None:
        total += leak if leak.ndim == block.ndim - 1 else leak.sum(axis=-2)
    diagonal_view(block)[...] = -total


def stationary_block_elimination(generator: BlockTridiagonal, *, from_last: bool = True) -> np.ndarray:
    """Exact stationary vector of a block-tridiagonal generator by block Gaussian
    elimination.

    Eliminating blocks one after the other leaves Schur complements
    S = D - L S_prev^{-1} U, the generators of the chain watched only on the remaining
    blocks (censored chains); the last one's null vector starts the back substitution
    p_k = -S_k^{-1} U_k p_{next}.  Following the Grassmann-Taksar-Heyman idea, the
    diagonals are recomputed from the column sums (no cancellation) and the blocks
    that leak strongly are eliminated first: ``from_last`` (default) starts at the
    last block, which for spin sectors ordered by magnetization is the least
    populated one, whose downward (energy-releasing) rates are large.  The other
    order fails at low temperature, where the upward leak ~ e^{-beta omega_e} drops
    below round-off and the censored chain becomes numerically closed.
    Cost ~ sum_k (d_k^3 + d_k d_{k+1} (d_k + d_{k+1})) flops.  A batch of
    generators is eliminated together (one LAPACK call per block for the whole batch).
    """
    if from_last:
        flipped = BlockTridiagonal(generator.diag[::-1], generator.upper[::-1], generator.lower[::-1])
        return np.concatenate(flipped.split(stationary_block_elimination(flipped, from_last=False))[::-1], axis=-1)
    n = len(generator.diag)
    schur = generator.diag[0].copy()
    _reset_diagonal(schur, generator.lower[0] if n > 1 else None)
    solved_upper: list[np.ndarray] = []
    for k in range(n - 1):
        # one LU per block (per batch member); gesv through numpy broadcasts batches
        y = np.linalg.solve(schur, generator.upper[k])
        solved_upper.append(y)
        schur = generator.diag[k + 1] - generator.lower[k] @ y
        _reset_diagonal(schur, generator.lower[k + 1] if k + 1 < n - 1 else None)
    last = _null_vector(schur)
    pieces = [last]
    for k in range(n - 2, -1, -1):
        pieces.append(-(solved_upper[k] @ pieces[-1][..., None])[..., 0])
    p = np.concatenate(pieces[::-1], axis=-1)
    return p / p.sum(axis=-1, keepdims=True)


#: "auto" uses the mixed-precision elimination when the largest block has at least
#: this many rows (below, LAPACK overheads and not flops dominate and float64 costs
#: the same).
MIXED_MIN_BLOCK = 384


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
        (:func:`_accurate_residual`)."""
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
        return _accurate_residual(self.generator, p, self._escape2)

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
            _reset_diagonal(schur, leak.astype(f32))
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
        _reset_diagonal(schur, None)
        if not all(np.all(np.isfinite(f[0])) for f in factors[1:]) or not np.all(np.isfinite(schur)):
            raise np.linalg.LinAlgError("float32 elimination overflowed")
        return cls(factors, solved, coupling, schur.astype(np.float64))

    def null_vector(self) -> np.ndarray:
        """Approximate stationary vector (back substitution of the last block's null
        vector), float64, normalized."""
        pieces = [_null_vector(self.last)]
        for y in self.solved[1:]:
            pieces.append(-(y @ pieces[-1].astype(np.float32)).astype(np.float64))
        p = np.concatenate(pieces)
        return p / p.sum()

    @functools.cached_property
    def _bordered(self) -> tuple[np.ndarray, int]:
        # the singular last block with its largest-diagonal equation replaced by
        # sum(delta_last) = 0, formed once for all refinement steps
        row = int(np.argmax(np.abs(np.diag(self.last))))
        bordered = self.last.copy()
        bordered[row, :] = 1.0
        return bordered, row

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


@intrinsic
def fma(typingctx, a, b, c):  # pragma: no cover - compiled
    """a * b + c with one rounding (LLVM's fma intrinsic)."""
    signature = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, sig, args):
        return builder.fma(*args)

    return signature, codegen


@numba.njit(cache=True, inline="always")
def accumulate2(s, c, a, x):  # pragma: no cover - compiled
    """(s, c) -> (s + a x, c + the rounding errors of the product and of the sum):
    one step of a compensated dot product (error-free product by fma, TwoSum)."""
    p = a * x
    e = fma(a, x, -p)
    t = s + p
    z = t - s
    return t, c + (((s - (t - z)) + (p - z)) + e)


@numba.njit(cache=True, nogil=True)
def _dot2_rows(a, x, hi, lo, skip_diagonal):  # pragma: no cover - compiled
    """hi + lo += a @ x in double-double arithmetic (compensated dot products of Ogita,
    Rump and Oishi), as accurate as if computed in quadruple precision and rounded.
    Four independent accumulators per row hide the add latency.  ``skip_diagonal``
    leaves out a[i, i]."""
    m, n = a.shape
    n4 = n - n % 4
    for i in range(m):
        s0 = s1 = s2 = s3 = 0.0
        c0 = c1 = c2 = c3 = 0.0
        for j in range(0, n4, 4):
            s0, c0 = accumulate2(s0, c0, a[i, j], x[j])
            s1, c1 = accumulate2(s1, c1, a[i, j + 1], x[j + 1])
            s2, c2 = accumulate2(s2, c2, a[i, j + 2], x[j + 2])
            s3, c3 = accumulate2(s3, c3, a[i, j + 3], x[j + 3])
        total, compensation = hi[i], lo[i] + ((c0 + c1) + (c2 + c3))
        for v in (s0, s1, s2, s3):
            total, compensation = accumulate2(total, compensation, v, 1.0)
        for j in range(n4, n):
            total, compensation = accumulate2(total, compensation, a[i, j], x[j])
        if skip_diagonal:
            # take the diagonal term back out exactly
            total, compensation = accumulate2(total, compensation, -a[i, i], x[i])
        hi[i] = total
        lo[i] = compensation


@numba.njit(cache=True, nogil=True)
def _dot2_columns(transposed, x, hi, lo):  # pragma: no cover - compiled
    """hi + lo += transposed.T @ x in double-double arithmetic, for a block stored as
    its C-ordered transpose (a low-major block, see
    :func:`dnpsim.dynamics.rates.low_major`): every output element is its own
    accumulator (error-free product by fma, TwoSum into hi, errors into lo), so the
    inner loop runs along memory with no dependence between its iterations."""
    n, m = transposed.shape
    for j in range(n):
        xj = x[j]
        for i in range(m):
            a = transposed[j, i]
            p = a * xj
            e = fma(a, xj, -p)
            s = hi[i]
            t = s + p
            z = t - s
            lo[i] += ((s - (t - z)) + (p - z)) + e
            hi[i] = t


def _is_low_major(a: np.ndarray) -> bool:
    """True for a 2-d block stored in Fortran order only (a low-major block)."""
    return a.flags.f_contiguous and not a.flags.c_contiguous


def dot2(a: np.ndarray, x: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> None:
    """hi + lo += a @ x in double-double arithmetic, in a's memory order."""
    if _is_low_major(a):
        _dot2_columns(a.T, x, hi, lo)
    else:
        _dot2_rows(a, x, hi, lo, False)


def column_sums2(a: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> None:
    """hi + lo += column sums of a (error-free additions), in a's memory order."""
    if _is_low_major(a):
        # column sums of a = row sums of its C-ordered transpose; products by 1 are exact
        _dot2_rows(a.T, np.ones(a.shape[0]), hi, lo, False)
    else:
        _column_sums2(a, hi, lo, False)


@numba.njit(cache=True, nogil=True)
def _column_sums2(a, hi, lo, skip_diagonal):  # pragma: no cover - compiled
    """hi + lo += column sums of a (a[i, i] left out if ``skip_diagonal``), with
    error-free additions; every column is its own accumulator, so the loop over
    columns vectorizes."""
    m, n = a.shape
    for i in range(m):
        for j in range(n):
            v = a[i, j]
            if skip_diagonal and i == j:
                v = 0.0
            s = hi[j]
            t = s + v
            z = t - s
            lo[j] += (s - (t - z)) + (v - z)
            hi[j] = t


def escape_rates2(generator: BlockTridiagonal) -> list[tuple[np.ndarray, np.ndarray]]:
    """Escape rate of every state, the column sum of its off-diagonal rates, as
    double-double (hi, lo) pairs per block: the diagonal of the chain defined by the
    off-diagonal entries alone (which is what the GTH elimination solves)."""
    out = []
    for k, block in enumerate(generator.diag):
        hi, lo = np.zeros(block.shape[1]), np.zeros(block.shape[1])
        _column_sums2(block, hi, lo, True)
        if k < len(generator.lower):
            column_sums2(generator.lower[k], hi, lo)
        if k > 0:
            column_sums2(generator.upper[k - 1], hi, lo)
        out.append((hi, lo))
    return out


def offdiagonal_product2(generator: BlockTridiagonal, x: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(hi, lo) double-double sums of the off-diagonal part of Q x, per block (``x``
    split into blocks)."""
    out = []
    for k in range(len(x)):
        hi, lo = np.zeros(x[k].size), np.zeros(x[k].size)
        _dot2_rows(generator.diag[k], x[k], hi, lo, True)
        if k > 0:
            dot2(generator.lower[k - 1], x[k - 1], hi, lo)
        if k < len(x) - 1:
            dot2(generator.upper[k], x[k + 1], hi, lo)
        out.append((hi, lo))
    return out


def finish_residual2(sums, x: list[np.ndarray], escape) -> np.ndarray:
    """sum - escape * x per block in double-double, rounded to float64: the
    diagonal term of an accurate Q x (``sums``: off-diagonal (hi, lo) sums per
    block, ``escape``: (hi, lo) escape rates per block)."""
    out = []
    for (hi, lo), xk, (escape_hi, escape_lo) in zip(sums, x, escape):
        product = escape_hi * xk
        error = _product_error(escape_hi, xk, product)
        out.append((hi - product) + (lo - error - escape_lo * xk))
    return np.concatenate(out)


def _accurate_residual(generator: BlockTridiagonal, p: np.ndarray, escape) -> np.ndarray:
    """Q p in double-double arithmetic, rounded to float64, with the diagonal taken
    from ``escape`` (:func:`escape_rates2`).  A float64 product Q p carries an
    error ~eps times the gross probability flux through each state, which the slow
    (nuclear, localized) directions of the chain amplify: refinement on it stalls at
    ||delta p||_1 ~ 1e-11 .. 1e-10 in localized N = 12 systems.  This one does not."""
    x = generator.split(p)
    return finish_residual2(offdiagonal_product2(generator, x), x, escape)


@numba.njit(cache=True)
def _product_error_kernel(a, b, product, out):  # pragma: no cover - compiled
    for i in range(a.size):
        out[i] = fma(a[i], b[i], -product[i])


def _product_error(a: np.ndarray, b: np.ndarray, product: np.ndarray) -> np.ndarray:
    """a * b - product exactly (product = fl(a * b)), elementwise."""
    out = np.empty_like(product)
    _product_error_kernel(np.ascontiguousarray(a), np.ascontiguousarray(b), np.ascontiguousarray(product), out)
    return out


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
    (:func:`_accurate_residual`) once ||delta||_1 is below
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
    (:func:`stationary_states` falls back to the float64 elimination above
    :data:`MIXED_ACCEPT`).
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


def _mixed_or_float64(source: SplitGenerator, workspace: Float32Workspace | None) -> tuple[np.ndarray, str, int]:
    """(p, method, refinement steps) from "mixed", or from the float64 elimination
    when the refinement does not reach :data:`MIXED_ACCEPT`."""
    try:
        vector, steps, error = stationary_mixed_precision(source, workspace=workspace)
    except np.linalg.LinAlgError:
        steps, error = 0, float("inf")
    if error <= MIXED_ACCEPT:
        return vector, "mixed", steps
    # float32 could not resolve this chain (e.g. rates below its range)
    return stationary_block_elimination(source.assemble()), "elimination (mixed did not converge)", steps


def stationary_dense(generator: BlockTridiagonal) -> np.ndarray:
    """Stationary vector by one dense solve of the assembled generator (small systems)."""
    p = _null_vector(generator.to_dense())
    return p / p.sum()


def stationary_state(generator: BlockTridiagonal, *, method: str = "auto", tol: float = 1e-8) -> StationaryResult:
    """Stationary populations of dp/dt = Q p.

    Parameters
    ----------
    generator : BlockTridiagonal with columns summing to zero (a single generator)
    method : "auto", "elimination", "mixed" or "dense"
        "elimination" is the exact GTH-stabilized block elimination in float64;
        "mixed" the same elimination in float32 refined in float64 to
        ||delta p||_1 <= 1e-12 (it falls back to "elimination" when the refinement
        does not get there, and says so in ``method``); "auto" is "mixed" when the
        largest block has at least :data:`MIXED_MIN_BLOCK` rows and "elimination"
        otherwise; "dense" is one plain dense solve of the assembled matrix, kept as
        an independent reference.
    tol : float
        Largest acceptable :func:`generator_residual`; above it ConvergenceError.
    """
    generator._single()
    return stationary_states(generator, method=method, tol=tol)[0]


#: Largest ||delta p||_1 of the last refinement step accepted from "mixed".
MIXED_ACCEPT = 1e-12


def stationary_states(generators: BlockTridiagonal, *, method: str = "auto", tol: float = 1e-8) -> list[StationaryResult]:
    """Stationary populations of every generator of a batch (leading axes of the
    blocks flattened, C order); see :func:`stationary_state` for ``method`` and
    ``tol``.  "elimination" eliminates the whole batch together, "mixed" one
    generator after the other.  A single generator gives a list of one.  The first
    generator that misses ``tol`` raises ConvergenceError."""
    start = time.perf_counter()
    if method == "auto":
        method = "mixed" if max(generators.dims) >= MIXED_MIN_BLOCK else "elimination"
    if method not in ("dense", "elimination", "mixed"):
        raise ValueError(f"unknown stationary method {method!r}")
    batch = generators.batch_shape
    count = int(np.prod(batch)) if batch else 1
    items = [generators.item(np.unravel_index(i, batch)) if batch else generators for i in range(count)]
    methods = [method] * count
    iterations = [0] * count
    try:
        with blas_threads_for(max(generators.dims)):
            if method == "dense":
                p = np.array([stationary_dense(g) for g in items]).reshape(*batch, generators.size)
            elif method == "elimination":
                p = stationary_block_elimination(generators)
            else:
                vectors = []
                for i, g in enumerate(items):
                    vector, methods[i], iterations[i] = _mixed_or_float64(AssembledGenerator(g), None)
                    vectors.append(vector)
                p = np.array(vectors).reshape(*batch, generators.size)
    except np.linalg.LinAlgError:
        raise ConvergenceError(f"stationary state ({method}): the generator is singular beyond its stationary "
                               "direction, so the chain is reducible and has no unique stationary state",
                               float("inf")) from None
    _check_finite(p, method)
    p = _zero_roundoff_negatives(p)
    residuals = np.atleast_1d(generator_residual(generators, p)).reshape(-1)
    p = p.reshape(count, generators.size)
    wall = (time.perf_counter() - start) / count
    return [_checked_result(p[i], float(residuals[i]), methods[i], iterations[i], wall, tol) for i in range(count)]


def stationary_state_split(source: SplitGenerator, *, tol: float = 1e-8,
                           workspace: Float32Workspace | None = None) -> StationaryResult:
    """Stationary populations of a :class:`SplitGenerator` by the "mixed" method of
    :func:`stationary_state` (float32 elimination fed block by block, refinement on
    products computed from the source, float64 elimination of ``source.assemble()``
    as fallback).  The residual is that of :func:`generator_residual`.  ``workspace``
    keeps the float32 buffers between calls of one thread."""
    start = time.perf_counter()
    try:
        with blas_threads_for(max(source.dims)):
            p, method, steps = _mixed_or_float64(source, workspace)
    except np.linalg.LinAlgError:
        raise ConvergenceError("stationary state (mixed): the generator is singular beyond its stationary "
                               "direction, so the chain is reducible and has no unique stationary state",
                               float("inf")) from None
    _check_finite(p, method)
    p = _zero_roundoff_negatives(p)
    # the relative flux residual of generator_residual (float64 product)
    flux = float(np.sum(source.escape_rates() * np.abs(p)))
    with blas_threads_for(max(source.dims)):
        residual = float(np.abs(source.product(p)).sum() / flux) if flux > 0.0 else 0.0
    return _checked_result(p, residual, method, steps, time.perf_counter() - start, tol)


def _check_finite(p: np.ndarray, method: str) -> None:
    if not np.all(np.isfinite(p)):
        raise ConvergenceError(f"stationary state ({method}) is not finite (reducible or ill-conditioned chain)",
                               float("inf"))


def _zero_roundoff_negatives(p: np.ndarray) -> np.ndarray:
    """Negative entries down to round-off of the largest population are zero
    populations (last axis)."""
    largest = np.abs(p).max(axis=-1, keepdims=True)
    return np.where((p < 0.0) & (p > -1e-12 * largest), 0.0, p)


def _checked_result(p: np.ndarray, residual: float, method: str, iterations: int, wall: float,
                    tol: float) -> StationaryResult:
    """StationaryResult after the checks every solver passes: residual within ``tol``,
    no negative population."""
    if residual > tol:
        raise ConvergenceError(f"stationary state ({method}) did not reach tol={tol:g}", residual)
    if np.any(p < 0.0):
        raise ConvergenceError(f"stationary state ({method}) has negative populations down to "
                               f"{p.min():.3e} (ill-conditioned chain)", residual)
    return StationaryResult(p / p.sum(), residual, method, iterations, wall)


#: Largest generator evolved with dense matrix exponentials (O(n^3) once per step size).
DENSE_EVOLUTION_LIMIT = 4096


def propagate_dense(matrix: np.ndarray, x0: np.ndarray, times: np.ndarray) -> np.ndarray:
    """x(t) = exp(M t) x0 at increasing non-negative ``times`` (s) for a dense (n, n)
    ``matrix`` M (real or complex), shape (len(times), n): exp(M dt) is formed once per
    distinct step (scipy ``expm``, scaling and squaring; steps equal to 12 significant
    digits share it) and applied step after step.  For stiff generators, where
    explicit schemes and Krylov ``expm_multiply`` fail, up to a few thousand states."""
    times = np.asarray(times, dtype=float)
    if np.any(np.diff(times) < 0) or np.any(times < 0):
        raise ValueError("times must be non-negative and increasing")
    x = np.asarray(x0)
    out = np.empty((times.size, x.size), dtype=np.result_type(matrix, x))
    propagators: dict[float, np.ndarray] = {}
    for i, dt in enumerate(np.diff(np.concatenate([[0.0], times]))):
        if dt > 0.0:
            key = float(np.round(dt, 12 - int(np.floor(np.log10(dt)))))
            if key not in propagators:
                propagators[key] = sla.expm(matrix * dt)
            x = propagators[key] @ x
        out[i] = x
    return out


def evolve_populations(generator: BlockTridiagonal, p0: np.ndarray, times: np.ndarray, *,
                       rtol: float = 1e-10) -> np.ndarray:
    """Populations p(t) = exp(Q t) p0 at the given times (s), shape (len(times), n).

    Spin generators are stiff (microwave rates ~1e4/s next to nuclear flips ~1e-3/s),
    which rules out explicit schemes and makes Krylov ``expm_multiply`` crawl.  Up to
    :data:`DENSE_EVOLUTION_LIMIT` states, exp(Q dt) is formed densely once per
    distinct step (scaling and squaring) and applied step after step; above, an
    implicit BDF integrator with the sparse Jacobian Q is used (relative tolerance
    ``rtol``).
    """
    times = np.asarray(times, dtype=float)
    p0 = np.asarray(p0, dtype=float)
    if times.size == 0:
        return np.empty((0, p0.size))
    if np.any(np.diff(times) < 0) or np.any(times < 0):
        raise ValueError("times must be non-negative and increasing")
    if generator.size <= DENSE_EVOLUTION_LIMIT:
        return propagate_dense(generator.to_dense(), p0, times)
    from scipy.integrate import solve_ivp

    q = generator.to_sparse()
    solution = solve_ivp(lambda _t, y: q @ y, (0.0, times[-1]), p0, method="BDF", t_eval=times, jac=q,
                         rtol=rtol, atol=rtol * 1e-6)
    if not solution.success:
        raise ConvergenceError(f"time evolution failed: {solution.message}", float("nan"))
    return solution.y.T
