"""Null vector of a singular generator by one direct solve with a normalization row
(no physics).

A generator L of dx/dt = L x that conserves a linear functional u (u^T L = 0: the
total probability of a rate equation, u = (1, ..., 1); the trace of a Lindblad
equation in column-stacking vec, u = vec(1)) has linearly dependent equations: for
any row r with u_r != 0, (L x)_r = -(1/u_r) sum_{i != r} u_i (L x)_i.  Replacing that
equation by the normalization u^T x = 1 leaves a nonsingular system when the
stationary state is unique, and its solution is the normalized stationary vector.

This module is the one place that builds that bordered system: dense (with leading
batch axes) or scipy-sparse.  It checks nothing: near-decoupled chains give tiny
pivots by design (e.g. the last censored block of the block elimination), so the
caller judges the final vector by its residual
(:func:`dnpsim.solvers.steady_state.stationary_direct` does both).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def _replaced_row(diagonal: np.ndarray, normalization: np.ndarray | None = None) -> np.ndarray:
    """Index of the equation replaced by the normalization, per matrix of a batch:
    the largest |L_nn| (last axis of ``diagonal``) among the rows the conserved
    functional weighs (u_n != 0; only those are implied by the other equations).
    Any such row is exact in exact arithmetic; the largest diagonal is the choice the
    block elimination was validated with."""
    weight = np.abs(diagonal)
    if normalization is not None:
        weight = np.where(np.asarray(normalization) != 0, weight, -1.0)
    return np.argmax(weight, axis=-1)


def bordered_system(matrix: np.ndarray, normalization: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(A, row): a copy of the dense ``matrix`` L, shape (..., n, n), with equation
    ``row`` (shape (...), see :func:`_replaced_row`) replaced by ``normalization`` u
    (length n; default all ones, sum x = 1).  A x = e_row gives the normalized null
    vector; for r with u^T r = 0, A delta = r with entry ``row`` of r set to 0 gives
    L delta = r with u^T delta = 0 (the corrections of the mixed-precision refinement)."""
    n = matrix.shape[-1]
    dtype = np.result_type(matrix, np.float64 if normalization is None else normalization)
    bordered = np.array(matrix, dtype=dtype).reshape(-1, n, n)
    row = _replaced_row(np.einsum("...ii->...i", bordered), normalization)
    bordered[np.arange(bordered.shape[0]), row, :] = 1.0 if normalization is None else normalization
    return bordered.reshape(matrix.shape), row.reshape(matrix.shape[:-2])


def null_vector(matrix, normalization: np.ndarray | None = None) -> np.ndarray:
    """Solution x of L x = 0 with u^T x = 1 by one direct solve of the bordered system
    (module doc); no residual check.

    matrix : dense (..., n, n) (every matrix of a batch solved by one LAPACK call) or
        a scipy sparse (n, n) matrix (sparse LU, ``spsolve``)
    normalization : u, length n (default all ones)
    Returns x, shape (..., n).  Raises ``numpy.linalg.LinAlgError`` for an exactly
    singular system.
    """
    if sp.issparse(matrix):
        return _sparse_null_vector(matrix, normalization)
    bordered, row = bordered_system(matrix, normalization)
    n = matrix.shape[-1]
    rhs = np.zeros((row.size, n), dtype=bordered.dtype)
    rhs[np.arange(row.size), row.reshape(-1)] = 1.0
    solution = np.linalg.solve(bordered.reshape(-1, n, n), rhs[..., None])[..., 0]
    return solution.reshape(matrix.shape[:-1])


def _sparse_null_vector(matrix, normalization: np.ndarray | None) -> np.ndarray:
    """:func:`null_vector` of a scipy sparse matrix: the same bordered system,
    assembled sparse."""
    n = matrix.shape[0]
    weights = np.ones(n) if normalization is None else np.asarray(normalization)
    row = int(_replaced_row(matrix.diagonal(), normalization))
    keep = np.ones(n)
    keep[row] = 0.0
    columns = np.flatnonzero(weights)
    border = sp.csr_matrix((weights[columns], (np.full(columns.size, row), columns)), shape=(n, n))
    bordered = (sp.diags(keep) @ sp.csr_matrix(matrix) + border).tocsc()
    rhs = np.zeros(n, dtype=bordered.dtype)
    rhs[row] = 1.0
    with warnings.catch_warnings():
        # SuperLU only warns about an exactly singular matrix (and returns NaN)
        warnings.simplefilter("error", spla.MatrixRankWarning)
        try:
            return np.asarray(spla.spsolve(bordered, rhs))
        except spla.MatrixRankWarning:
            raise np.linalg.LinAlgError("singular bordered system") from None
