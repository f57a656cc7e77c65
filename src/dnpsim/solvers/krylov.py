"""Krylov solvers for the null vector of a trace-preserving generator (no physics).

The stationary state of dx/dt = L x with a linear functional ``tr`` preserved by L
(tr(L x) = 0 for all x) and normalization tr(x) = 1 solves the nonsingular system

    A x = w,   A x = L x + w tr(x),

for any fixed w with tr(w) != 0: taking tr of both sides gives tr(x) = 1, hence
L x = 0 (A is nonsingular when the null space of L is one-dimensional).  A is never
formed: only ``L.matvec`` and the rank-one term are applied.  GMRES (restarted) or
BiCGSTAB with a user preconditioner M ~ A^{-1}.  The iteration stops on its own
criterion, ||A x - w||_2 / ||w||_2 <= ``tol``; the residual reported (in the result
and in the :class:`~dnpsim.errors.ConvergenceError` of a run that misses ``tol``) is
the one every stationary solver of the package reports,
:func:`dnpsim.solvers.residual.stationary_residual` = ||L x||_1 / sum_n |L_nn| |x_n|,
from the product A x of the last check and the exact diagonal of L.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse.linalg as spla

from dnpsim.errors import ConvergenceError
from dnpsim.solvers.residual import stationary_residual

KRYLOV_METHODS = ("gmres", "bicgstab")


@dataclass(frozen=True)
class KrylovResult:
    """Solution with diagnostics: ``residual`` = ||L x||_1 / sum_n |L_nn| |x_n|
    (:func:`dnpsim.solvers.residual.stationary_residual`), ``krylov_residual`` =
    ||A x - w||_2 / ||w||_2 (the stopping criterion), ``iterations`` = operator
    applications of the solver (inner iterations for GMRES; the residual costs none:
    it reuses the product of the last check)."""

    x: np.ndarray = field(repr=False)
    residual: float
    iterations: int
    method: str
    wall_time: float
    krylov_residual: float


def stationary_krylov(matvec: Callable[[np.ndarray], np.ndarray], size: int, trace: Callable[[np.ndarray], complex],
                      w: np.ndarray, *, diagonal: np.ndarray,
                      preconditioner: Callable[[np.ndarray], np.ndarray] | None = None,
                      x0: np.ndarray | None = None, method: str = "gmres", tol: float = 1e-10,
                      maxiter: int = 2000, restart: int = 60) -> KrylovResult:
    """Null vector of a trace-preserving generator, normalized to trace 1.

    Parameters
    ----------
    matvec : x -> L x on complex vectors of length ``size``
    trace : linear functional preserved by L (tr L x = 0)
    w : fixed vector with trace(w) != 0 (right-hand side and rank-one direction)
    diagonal : exact diagonal L_nn, length ``size`` (for the reported residual)
    preconditioner : r -> M r, an approximate inverse of A (optional)
    x0 : initial guess (default: M w, or w)
    method : "gmres" or "bicgstab"
    tol : the solver's own stopping criterion, ||A x - w||_2 / ||w||_2 <= tol (the
        norm the Krylov methods minimize / test; the reported residual,
        :func:`dnpsim.solvers.residual.stationary_residual`, is computed once at
        the end and may differ from it by a modest factor: driving it below ``tol`` as
        well cost 25 % more operator applications at N = 8, measured)
    maxiter : GMRES restarts cycles / BiCGSTAB iterations
    """
    if method not in KRYLOV_METHODS:
        raise ValueError(f"method must be one of {KRYLOV_METHODS}, got {method!r}")
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    w = np.asarray(w, dtype=complex)
    if abs(trace(w)) == 0:
        raise ValueError("w must have a nonzero trace")
    start = time.perf_counter()
    count = [0]

    def apply(x):
        count[0] += 1
        x = np.asarray(x, dtype=complex).ravel()
        return matvec(x) + w * trace(x)

    op = spla.LinearOperator((size, size), matvec=apply, dtype=complex)
    m_op = None
    if preconditioner is not None:
        m_op = spla.LinearOperator((size, size), matvec=lambda r: preconditioner(np.asarray(r, dtype=complex).ravel()),
                                   dtype=complex)
    if x0 is None:
        x0 = preconditioner(w) if preconditioner is not None else w.copy()
    norm_w = float(np.linalg.norm(w))
    info = 0
    for _ in range(3):
        # the solvers test the preconditioned residual; restart until the true one passes
        if method == "gmres":
            x, info = spla.gmres(op, w, x0=x0, rtol=tol, atol=0.0, restart=restart, maxiter=maxiter, M=m_op)
        else:
            x, info = spla.bicgstab(op, w, x0=x0, rtol=tol, atol=0.0, maxiter=maxiter, M=m_op)
        ax = apply(x)
        krylov_residual = float(np.linalg.norm(ax - w)) / norm_w
        if krylov_residual <= tol or info != 0:
            break
        x0 = x
    iterations = count[0]
    # the package's residual; L x = A x - w tr(x) reuses the last check's product
    lx = ax - w * trace(x)
    residual = stationary_residual(lambda _: lx, x, diagonal=diagonal)
    wall = time.perf_counter() - start
    if krylov_residual > tol:
        raise ConvergenceError(f"{method} did not reach tol={tol:g} (||A x - w|| / ||w|| = {krylov_residual:.3e}) "
                               f"in {iterations} operator applications", residual)
    x = x / trace(x)
    return KrylovResult(x, residual, iterations, method, wall, krylov_residual)
