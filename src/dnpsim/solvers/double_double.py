"""Double-double ("twice working precision") arithmetic kernels for generator
products (no physics).

Error-free transformations: the product a x = p + e exactly with e = fma(a, x, -p),
the sum s + v = t + c exactly (TwoSum).  Accumulating the rounding errors in a second
float64 (Ogita, Rump and Oishi's Dot2) gives dot products and column sums as accurate
as if computed in quadruple precision and rounded.  The mixed-precision refinement
(:mod:`dnpsim.solvers.mixed_precision`) needs them for its residual Q p, which in
float64 carries an error ~eps times the gross probability flux through each state.
Blocks follow :mod:`dnpsim.solvers.block_tridiagonal`; a "low-major" block is one
stored as its C-ordered transpose (Fortran order, see
:func:`dnpsim.dynamics.rates.low_major`), and every kernel reads a block in its own
memory order.  The kernels are compiled with numba and release the GIL.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.core.extending import intrinsic

from dnpsim import jit  # noqa: F401  (says so on stderr while kernels compile)
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal


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


def accurate_product2(generator: BlockTridiagonal, p: np.ndarray, escape) -> np.ndarray:
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

