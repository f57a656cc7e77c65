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
sum_k d_k^3-ish instead of (sum_k d_k)^3) or a dense solve for small systems; every
result reports its residual and a solver that does not meet its tolerance raises
:class:`ConvergenceError`.  (GMRES with a block-Jacobi preconditioner was tried and
needs ~10^4 iterations at N = 10: the large inter-sector microwave rates are exactly
what block Jacobi leaves out.  A float32 elimination refined in float64 was tried
too: its refinement stalls at corrections ~1e-11, the round-off of the float64 flux
residual relative to the slow nuclear rates, so P_n came out 1e-8 off where the
GTH-stabilized float64 elimination is within 1e-13 of a 40-digit reference; the
1.2-1.6x speed-up did not pay for that.)
"""

from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp


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


class ConvergenceError(RuntimeError):
    """A solver did not reach its tolerance; ``residual`` says how far it got."""

    def __init__(self, message: str, residual: float):
        self.message = message
        self.residual = residual
        super().__init__(f"{message} (residual {residual:.3e})")

    def __reduce__(self):  # picklable, so worker processes can report it
        return (type(self), (self.message, self.residual))


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
    next block.

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
        total += leak.sum(axis=-2)
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


def stationary_dense(generator: BlockTridiagonal) -> np.ndarray:
    """Stationary vector by one dense solve of the assembled generator (small systems)."""
    p = _null_vector(generator.to_dense())
    return p / p.sum()


def stationary_state(generator: BlockTridiagonal, *, method: str = "auto", tol: float = 1e-8) -> StationaryResult:
    """Stationary populations of dp/dt = Q p.

    Parameters
    ----------
    generator : BlockTridiagonal with columns summing to zero (a single generator)
    method : "auto", "elimination" or "dense"
        "auto" is "elimination" (exact, GTH-stabilized); "dense" is one plain dense
        solve of the assembled matrix, kept as an independent reference.
    tol : float
        Largest acceptable :func:`generator_residual`; above it ConvergenceError.
    """
    generator._single()
    return stationary_states(generator, method=method, tol=tol)[0]


def stationary_states(generators: BlockTridiagonal, *, method: str = "auto", tol: float = 1e-8) -> list[StationaryResult]:
    """Stationary populations of every generator of a batch (leading axes of the
    blocks flattened, C order), by one batched block elimination; see
    :func:`stationary_state` for ``method`` and ``tol``.  A single generator gives a
    list of one.  The first generator that misses ``tol`` raises ConvergenceError."""
    start = time.perf_counter()
    if method == "auto":
        method = "elimination"
    if method not in ("dense", "elimination"):
        raise ValueError(f"unknown stationary method {method!r}")
    batch = generators.batch_shape
    count = int(np.prod(batch)) if batch else 1
    try:
        with blas_threads_for(max(generators.dims)):
            if method == "dense":
                items = [generators.item(np.unravel_index(i, batch)) if batch else generators for i in range(count)]
                p = np.array([stationary_dense(g) for g in items]).reshape(*batch, generators.size)
            else:
                p = stationary_block_elimination(generators)
    except np.linalg.LinAlgError:
        raise ConvergenceError(f"stationary state ({method}): the generator is singular beyond its stationary "
                               "direction, so the chain is reducible and has no unique stationary state",
                               float("inf")) from None
    if not np.all(np.isfinite(p)):
        raise ConvergenceError(f"stationary state ({method}) is not finite (reducible or ill-conditioned chain)",
                               float("inf"))
    # negative entries down to round-off of the largest population are zero populations
    largest = np.abs(p).max(axis=-1, keepdims=True)
    p = np.where((p < 0.0) & (p > -1e-12 * largest), 0.0, p)
    residuals = np.atleast_1d(generator_residual(generators, p)).reshape(-1)
    p = p.reshape(count, generators.size)
    wall = (time.perf_counter() - start) / count
    out = []
    for i in range(count):
        if residuals[i] > tol:
            raise ConvergenceError(f"stationary state ({method}) did not reach tol={tol:g}", float(residuals[i]))
        if np.any(p[i] < 0.0):
            raise ConvergenceError(f"stationary state ({method}) has negative populations down to "
                                   f"{p[i].min():.3e} (ill-conditioned chain)", float(residuals[i]))
        out.append(StationaryResult(p[i] / p[i].sum(), float(residuals[i]), method, 0, wall))
    return out


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
