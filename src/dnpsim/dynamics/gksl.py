"""The GKSL (Lindblad) generator as a matrix on Liouville space: the one builder.

    drho/dt = -i [H, rho] + sum_k gamma_k (A_k rho A_k^+ - 1/2 {A_k^+ A_k, rho})

is Eq. (1) of Karabanov et al. 2018 (the cross-effect paper) and Eq. (S46) of
Maimbourg et al. 2021 (the Zeno paper; there the rates are inside the jump operators).

Convention: **column stacking**.  A density matrix rho (d x d) is the vector
vec(rho)[i + d j] = rho[i, j] (``rho.reshape(-1, order="F")``), and
vec(A rho B) = (B^T kron A) vec(rho).  Hence

    -i [H, rho]                               ->  -i (1 kron H - H^T kron 1)
    A rho A^+ - (A^+A rho + rho A^+A) / 2     ->  conj(A) kron A - (1 kron A^+A + (A^+A)^T kron 1) / 2

and the trace is the linear functional Tr rho = vec(1)^T vec(rho)
(:func:`trace_functional`), which every GKSL generator conserves.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from dnpsim.solvers.steady_state import stationary_direct


def gksl_superoperator(hamiltonian, jump_operators: Sequence, rates: Sequence[float] | None = None, *,
                       sparse: bool = False):
    """Liouvillian L (d^2, d^2) with d/dt vec(rho) = L vec(rho), column stacking (module doc).

    hamiltonian : (d, d) H in rad/s (dense or scipy sparse)
    jump_operators : the A_k, each (d, d) (dense or scipy sparse)
    rates : gamma_k in 1/s, one per jump operator; None means 1 (rates folded into the
        A_k, as in Eqs. (7)-(8) and (S46) of the Zeno paper)
    sparse : build with ``scipy.sparse.kron`` and return CSR (the cross-effect engine,
        up to d^2 = 16384) instead of a dense complex array (references for d <= 32)
    """
    dim = hamiltonian.shape[0]
    if sparse:
        kron, convert = functools.partial(sp.kron, format="csr"), sp.csr_matrix
        identity = sp.identity(dim, format="csr", dtype=complex)
    else:
        kron, convert = np.kron, np.asarray
        identity = np.eye(dim)
    h = convert(hamiltonian)
    out = -1j * (kron(identity, h) - kron(h.T, identity))
    for k, jump in enumerate(jump_operators):
        a = convert(jump)
        ada = a.conj().T @ a
        term = kron(a.conj(), a) - 0.5 * kron(identity, ada) - 0.5 * kron(ada.T, identity)
        out = out + (term if rates is None else rates[k] * term)
    return sp.csr_matrix(out) if sparse else out


def vec(rho: np.ndarray) -> np.ndarray:
    """Column-stacked vector of a density matrix, (d, d) -> (d^2,)."""
    return np.asarray(rho).reshape(-1, order="F")


def unvec(v: np.ndarray) -> np.ndarray:
    """Inverse of :func:`vec`, (d^2,) -> (d, d)."""
    d = int(round(np.sqrt(v.size)))
    return np.asarray(v).reshape(d, d, order="F")


def trace_functional(dim: int) -> np.ndarray:
    """u = vec(1) with Tr rho = u^T vec(rho) for a (dim, dim) rho, shape (dim^2,)."""
    return vec(np.eye(dim))


def stationary_density_matrix(liouvillian, *, tol: float = 1e-8) -> tuple[np.ndarray, float]:
    """Stationary rho of d/dt vec(rho) = L vec(rho) with Tr rho = 1 by one direct solve
    (dense or sparse L, :func:`dnpsim.solvers.steady_state.stationary_direct` with the
    trace as normalization).  Returns (rho (d, d), residual of
    :func:`dnpsim.solvers.residual.stationary_residual`); raises
    :class:`~dnpsim.errors.ConvergenceError` above ``tol``."""
    dim = int(round(np.sqrt(liouvillian.shape[0])))
    x, residual = stationary_direct(liouvillian, trace_functional(dim), tol=tol)
    return unvec(x), residual
