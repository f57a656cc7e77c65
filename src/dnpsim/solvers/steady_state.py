"""Stationary states of linear generators (no physics): the one residual definition,
the one direct solve with a normalization row, and the drivers of the
block-tridiagonal Markov solvers.

Every stationary solver of the package reports :func:`stationary_residual` of its
answer: the Pauli and Hilbert rate equations (:func:`stationary_state`), the dense
and sparse Lindblad solves (:func:`stationary_direct`) and the matrix-free Krylov
solve (:func:`dnpsim.solvers.krylov.stationary_krylov`), so one threshold means the
same thing for every engine.

Markov generators Q (dp/dt = Q p, ``Q[m, n]`` the rate n -> m, columns summing to
zero) with block-tridiagonal structure (:mod:`dnpsim.solvers.block_tridiagonal`) are
solved by exact block elimination (:mod:`dnpsim.solvers.elimination`, cost
sum_k d_k^3-ish instead of (sum_k d_k)^3), by the same elimination done in float32
and refined in float64 (``"mixed"``, :mod:`dnpsim.solvers.mixed_precision`, twice
the flop rate for the large blocks where the elimination is all the work), or by a
dense solve for small systems; a solver that does not meet its tolerance raises
:class:`ConvergenceError`.  The float32 elimination can also be fed block by block by
a :class:`~dnpsim.solvers.mixed_precision.SplitGenerator`
(:func:`stationary_state_split`), so that a generator assembled per microwave
frequency never has to exist in float64.  (GMRES with a block-Jacobi preconditioner
was tried and needs ~10^4 iterations at N = 10: the large inter-sector microwave
rates are exactly what block Jacobi leaves out.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from dnpsim.errors import ConvergenceError
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal
from dnpsim.solvers.elimination import stationary_block_elimination
from dnpsim.solvers.mixed_precision import (AssembledGenerator, Float32Workspace, SplitGenerator,
                                            stationary_mixed_precision)
from dnpsim.solvers.null_vector import null_vector
from dnpsim.solvers.residual import stationary_residual
from dnpsim.solvers.threads import blas_threads_for


def generator_residual(generator: BlockTridiagonal, p: np.ndarray):
    """:func:`stationary_residual` of populations ``p`` (..., size) for a
    block-tridiagonal generator (or a batch of them): ||Q p||_1 / sum_n |Q_nn| p_n,
    computed blockwise.  A float, or an array of the batch shape for a batch."""
    return stationary_residual(generator.matvec, p, diagonal=generator.diagonal())


def stationary_direct(matrix, normalization: np.ndarray | None = None, *,
                      tol: float = 1e-8) -> tuple[np.ndarray, float]:
    """Stationary vector of dx/dt = L x by one direct solve: L x = 0 with the
    normalization u^T x = 1 replacing one equation
    (:func:`dnpsim.solvers.null_vector.null_vector`), then the check of
    :func:`stationary_residual`.

    matrix : L, dense (n, n) (LAPACK) or scipy sparse (n, n) (sparse LU); it must
        conserve the functional u (u^T L = 0)
    normalization : u, length n; default all ones (populations summing to 1); the
        trace of a density matrix in column-stacking vec is u = vec(1)
        (:func:`dnpsim.dynamics.gksl.trace_functional`)
    tol : largest acceptable residual
    Returns (x, residual), x of shape (n,).  Raises :class:`ConvergenceError` when the
    system is singular beyond the stationary direction (no unique stationary state)
    or the residual exceeds ``tol`` (or is not finite).
    """
    try:
        x = null_vector(matrix, normalization)
    except np.linalg.LinAlgError:
        raise _no_unique_state("direct") from None
    residual = stationary_residual(matrix, x)
    if not residual <= tol:
        raise ConvergenceError(f"stationary state (direct) did not reach tol={tol:g}", residual)
    return x, residual


@dataclass(frozen=True)
class StationaryResult:
    """Stationary populations with the solver's diagnostics (``residual``:
    :func:`stationary_residual`)."""

    populations: np.ndarray = field(repr=False)
    residual: float
    method: str
    iterations: int
    wall_time: float


#: "auto" uses the mixed-precision elimination when the largest block has at least
#: this many rows (below, LAPACK overheads and not flops dominate and float64 costs
#: the same).
MIXED_MIN_BLOCK = 384

#: Largest ||delta p||_1 of the last refinement step accepted from "mixed".
MIXED_ACCEPT = 1e-12



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
                p = null_vector(np.array([g.to_dense() for g in items])).reshape(*batch, generators.size)
            elif method == "elimination":
                p = stationary_block_elimination(generators)
            else:
                vectors = []
                for i, g in enumerate(items):
                    vector, methods[i], iterations[i] = _mixed_or_float64(AssembledGenerator(g), None)
                    vectors.append(vector)
                p = np.array(vectors).reshape(*batch, generators.size)
    except np.linalg.LinAlgError:
        raise _no_unique_state(method) from None
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
        raise _no_unique_state("mixed") from None
    _check_finite(p, method)
    p = _zero_roundoff_negatives(p)
    with blas_threads_for(max(source.dims)):
        # the residual of generator_residual, from the source's float64 product
        residual = stationary_residual(source.product, p, diagonal=source.escape_rates())
    return _checked_result(p, residual, method, steps, time.perf_counter() - start, tol)


def _no_unique_state(method: str) -> ConvergenceError:
    """The error of a solve that met an exactly singular system (LAPACK / SuperLU)."""
    return ConvergenceError(f"stationary state ({method}): the generator is singular beyond its stationary "
                            "direction, so it is reducible and has no unique stationary state", float("inf"))


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
