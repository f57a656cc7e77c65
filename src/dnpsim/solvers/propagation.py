"""Time evolution x(t) = exp(M t) x0 of stiff linear equations (no physics): dense
propagators for up to a few thousand states, an implicit integrator above.

Spin generators are stiff (microwave rates ~1e4/s next to nuclear flips ~1e-3/s, or a
Liouvillian spanning GHz precession down to 1e-2/s relaxation), which rules out
explicit schemes and makes Krylov ``expm_multiply`` crawl.

Conservative generators (:func:`propagate_conserving`).  A generator that conserves a
linear functional u (u^T M = 0: total probability, the trace of a density matrix) has
a zero eigenvalue whose eigenvector is the stationary state.  A plain float64
eigendecomposition or ``expm`` of M puts that eigenvalue at ~eps ||M|| instead of 0
(backward errors are normwise), so u^T x drifts linearly in time and with it every
observable: ~1e-7 s^-1 for a Liouvillian with ||M|| ~ 1e9 rad/s.  The conservative
propagator removes both causes of error:

1. Null space split off exactly.  x(t) = (u^T x0) x_ss + delta(t), x_ss the
   stationary vector (one direct solve, u^T x_ss = 1) and delta(t) the deviation,
   which starts and stays in the invariant subspace u^T delta = 0.  delta is
   propagated there only (a Householder reflection maps u to a coordinate axis, the
   generator restricted to the complement has no zero eigenvalue), so u^T x(t) =
   u^T x0 to round-off at every t, and a stationary x0 stays put (delta(0) is
   round-off; a start stationary to round-off is returned unchanged).
2. Fast/slow block diagonalization.  When the diagonal of M splits into slow entries
   and fast ones (|M_ii| >= 100 times the slow ones and the off-diagonal coupling;
   a Liouvillian in the Zeeman basis: populations and near-resonant coherences vs
   coherences precessing at the nuclear Larmor frequency), the invariant subspaces
   are computed exactly to working precision (Riccati fixed point, below), and the
   slow generator M_s = A + B Z is formed from entries no larger than the slow rates
   and couplings.  Its eigenvalues are then accurate to ~eps ||M_s|| instead of
   ~eps ||M|| (1e-10/s instead of 1e-7/s for the cross-effect model).  The fast block
   only carries components that decay at its dephasing rates.

Riccati split.  With M = [[A, B], [C, F]] (slow, fast coordinates), range [1; Z] is
invariant when C + F Z = Z (A + B Z), and range [W; 1] when W F = A W + B - W C W;
both are fixed points iterated with the diagonal of F (contraction ~ (slow scale +
coupling) / fast scale, :func:`block_diagonalize`).  Then M [1, W; Z, 1] =
[1, W; Z, 1] diag(M_s, M_f) with M_s = A + B Z, M_f = F + C W, and x = [1; Z] a +
[W; 1] b.  The fast part [W; 1] exp(M_f t) b only matters until it has decayed
(bounded through the Hermitian part of M_f); later times skip it.

What remains is the float64 exponentiation of the slow block, with backward errors
~eps ||M_s|| (``expm``, scaling and squaring) or ~eps ||M_s|| cond(V) (an
eigendecomposition M_s = V diag(w) V^-1) acting over t on the slow modes; for the
cross-effect build-up that is ~1e-9 and a few 1e-9 relative in p_I(t)
(tests/test_evolution_accuracy.py), a thousand times below a plain propagator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from dnpsim.errors import ConvergenceError
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal
from dnpsim.units import time_grid

#: Largest generator evolved with dense matrix exponentials (O(n^3) once per step size).
DENSE_EVOLUTION_LIMIT = 4096


def _step_key(dt: float) -> float:
    """Steps equal to 12 significant digits share one propagator."""
    return float(np.round(dt, 12 - int(np.floor(np.log10(dt)))))


def distinct_steps(times: np.ndarray) -> int:
    """Number of distinct positive steps of a time grid (from t = 0), i.e. of the
    ``expm`` evaluations :func:`propagate_dense` makes."""
    steps = np.diff(np.concatenate([[0.0], np.asarray(times, float)]))
    return len({_step_key(dt) for dt in steps if dt > 0.0})


def propagate_dense(matrix: np.ndarray, x0: np.ndarray, times: np.ndarray) -> np.ndarray:
    """x(t) = exp(M t) x0 at increasing non-negative ``times`` (s) for a dense (n, n)
    ``matrix`` M (real or complex), shape (len(times), n): exp(M dt) is formed once per
    distinct step (scipy ``expm``, scaling and squaring; steps equal to 12 significant
    digits share it) and applied step after step.  For stiff generators, where
    explicit schemes and Krylov ``expm_multiply`` fail, up to a few thousand states.
    Its backward error is ~eps ||M dt||, so a conserved functional drifts by
    ~eps ||M|| t (:func:`propagate_conserving` keeps it exactly)."""
    times = np.asarray(time_grid(times, "times"))
    x = np.asarray(x0)
    out = np.empty((times.size, x.size), dtype=np.result_type(matrix, x))
    propagators: dict[float, np.ndarray] = {}
    for i, dt in enumerate(np.diff(np.concatenate([[0.0], times]))):
        if dt > 0.0:
            key = _step_key(dt)
            if key not in propagators:
                propagators[key] = sla.expm(matrix * dt)
            x = propagators[key] @ x
        out[i] = x
    return out


#: A fast/slow split is used when (largest slow |M_ii| + coupling) / (smallest fast
#: |M_ii| - coupling) is at most this ("coupling": the larger of the 1- and
#: inf-norms of the off-diagonal part); it bounds the contraction of the Riccati
#: iterations and the size of Z and W.
SPLIT_SEPARATION = 1e-2


def fast_slow_split(matrix) -> tuple[np.ndarray, np.ndarray] | None:
    """(slow, fast) coordinate indices (sorted) of a generator whose diagonal has a
    gap (module doc, :data:`SPLIT_SEPARATION`), cut where the separation is best;
    None when no cut separates the scales well enough (e.g. every rate matrix: its
    off-diagonal column sums equal the diagonal)."""
    m = sp.csr_matrix(matrix)
    diagonal = m.diagonal()
    scale = np.abs(diagonal)
    off = abs(m - sp.diags(diagonal))
    coupling = max(np.asarray(off.sum(axis=0)).max(initial=0.0), np.asarray(off.sum(axis=1)).max(initial=0.0))
    order = np.argsort(scale, kind="stable")
    ranked = scale[order]
    if ranked.size < 2:
        return None
    below, above = ranked[:-1] + coupling, ranked[1:] - coupling
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(above > 0, below / above, np.inf)
    cut = int(np.argmin(ratio))
    if not ratio[cut] <= SPLIT_SEPARATION:
        return None
    return np.sort(order[:cut + 1]), np.sort(order[cut + 1:])


@dataclass(frozen=True)
class BlockDiagonalization:
    """M [1, W; Z, 1] = [1, W; Z, 1] diag(M_s, M_f) in the (slow, fast) coordinates
    (module doc): ``Z`` (f, k), ``W`` (k, f), ``slow_generator`` M_s = A + B Z (k, k),
    ``fast_generator`` M_f = F + C W (f, f), ``iterations`` of the fixed points."""

    slow: np.ndarray
    fast: np.ndarray
    Z: np.ndarray
    W: np.ndarray
    slow_generator: np.ndarray
    fast_generator: np.ndarray
    iterations: int

    def coordinates(self, x0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) with x0 = [1; Z] a + [W; 1] b (x0 in the original ordering)."""
        xs, xf = x0[self.slow], x0[self.fast]
        k = self.slow.size
        a = np.linalg.solve(np.eye(k) - self.W @ self.Z, xs - self.W @ xf)
        return a, xf - self.Z @ a

    def assemble(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """x = [1; Z] a + [W; 1] b for rows a (T, k), b (T, f), original ordering."""
        out = np.empty((a.shape[0], self.slow.size + self.fast.size), dtype=np.result_type(a, b, self.Z))
        out[:, self.slow] = a + b @ self.W.T
        out[:, self.fast] = a @ self.Z.T + b
        return out


def _fixed_point(step, x, max_iterations: int):
    """Iterate x <- step(x) until the change reaches round-off; (x, iterations) or
    None when it does not converge."""
    previous = np.inf
    for iteration in range(1, max_iterations + 1):
        new = step(x)
        size = max(float(np.abs(new).max(initial=0.0)), np.finfo(float).tiny)
        change = float(np.abs(new - x).max(initial=0.0)) / size
        x = new
        if not np.isfinite(change):
            return None
        if change <= 8 * np.finfo(float).eps or (change <= 1e-12 and change > 0.5 * previous):
            return x, iteration
        previous = change
    return None


def block_diagonalize(matrix, slow: np.ndarray, fast: np.ndarray, *,
                      max_iterations: int = 60) -> BlockDiagonalization | None:
    """Exact block diagonalization of a generator into the invariant subspaces of its
    slow and fast coordinates (module doc).  With F = Delta + E (Delta its diagonal)
    the Riccati equations are iterated as
    Z <- Delta^-1 (Z (A + B Z) - C - E Z) and W <- (A W + B - (W C) W - W E) Delta^-1
    from Z = 0, W = 0 (contraction <~ :data:`SPLIT_SEPARATION`; sparse products and
    one dense (f, k) x (k, k) product per step).  None when they do not converge."""
    m = sp.csr_matrix(matrix)
    dtype = np.result_type(m.dtype, np.float64)
    A = m[slow][:, slow].tocsr()
    B = m[slow][:, fast].tocsr()
    C = m[fast][:, slow].tocsr()
    F = m[fast][:, fast].tocsr()
    delta = F.diagonal().astype(dtype)
    E = (F - sp.diags(F.diagonal())).tocsr()
    a_dense = A.toarray().astype(dtype)
    c_dense = C.toarray().astype(dtype)
    b_dense = B.toarray().astype(dtype)
    k, f = slow.size, fast.size

    def z_step(Z):
        return (Z @ (a_dense + B @ Z) - c_dense - E @ Z) / delta[:, None]

    z = _fixed_point(z_step, np.zeros((f, k), dtype), max_iterations)
    if z is None:
        return None

    def w_step(W):
        wc = (C.T @ W.T).T                                   # W C, (k, k)
        return (A @ W + b_dense - wc @ W - (E.T @ W.T).T) / delta[None, :]

    w = _fixed_point(w_step, np.zeros((k, f), dtype), max_iterations)
    if w is None:
        return None
    Z, W = z[0], w[0]
    slow_generator = a_dense + B @ Z
    fast_generator = F.toarray().astype(dtype) + C @ W
    return BlockDiagonalization(slow, fast, Z, W, slow_generator, fast_generator, z[1] + w[1])


#: A start whose stationary residual (:func:`dnpsim.solvers.residual.stationary_residual`)
#: is at most this is returned unchanged at every time.
STATIONARY_START = 1e-15
#: The stationary vector is split off only when its stationary residual is at most
#: this (otherwise the stationary state is not unique and x0 is propagated whole).
STATIONARY_ACCEPT = 1e-8
#: "eig" propagates a block by its eigendecomposition M = V diag(w) V^-1 only when
#: cond(V) is at most this (the coefficients V^-1 x0 lose ~eps cond(V)); above, near-
#: defective eigenvalues, it uses ``expm`` instead.
EIG_CONDITION_LIMIT = 1e6
#: "auto" exponentiates a block with ``expm`` per distinct step (the more accurate)
#: when there are at most :data:`AUTO_EXPM_STEPS` steps (one expm of a large block
#: costs about half an eigendecomposition), or at most :data:`AUTO_EXPM_SMALL_STEPS`
#: for a block of at most :data:`AUTO_EXPM_SIZE` rows (where each expm costs ~1 ms);
#: with one eigendecomposition otherwise.
AUTO_EXPM_STEPS = 3
AUTO_EXPM_SMALL_STEPS = 64
AUTO_EXPM_SIZE = 400
#: The fast block is propagated only at times t where its Gershgorin bound
#: exp(mu t) ||b0|| (1 + ||W||) exceeds this times ||x0|| (mu: the largest Gershgorin
#: bound of the Hermitian part of M_f, so that ||exp(M_f t)||_2 <= exp(mu t)).
FAST_NEGLIGIBLE = 1e-20


def _resolve_method(method: str, size: int, times: np.ndarray) -> str:
    if method != "auto":
        return method
    steps = distinct_steps(times)
    small = size <= AUTO_EXPM_SIZE and steps <= AUTO_EXPM_SMALL_STEPS
    return "expm" if steps <= AUTO_EXPM_STEPS or small else "eig"


def _propagate_block(matrix: np.ndarray, x0: np.ndarray, times: np.ndarray, method: str) -> np.ndarray:
    """exp(M t) x0 at ``times`` for a dense block: one eigendecomposition ("eig",
    unless its eigenvectors are ill-conditioned, :data:`EIG_CONDITION_LIMIT`) or one
    ``expm`` per distinct step ("expm", :func:`propagate_dense`); "auto" chooses
    (:data:`AUTO_EXPM_STEPS`)."""
    if matrix.shape[0] == 0 or times.size == 0:
        return np.zeros((times.size, matrix.shape[0]), dtype=np.result_type(matrix, x0))
    if _resolve_method(method, matrix.shape[0], times) == "eig":
        w, V = sla.eig(matrix)
        if np.linalg.cond(V) <= EIG_CONDITION_LIMIT:
            c = sla.solve(V, x0)
            return (np.exp(np.outer(times, w)) * c) @ V.T
    # expm, or ill-conditioned eigenvectors (near-defective eigenvalues)
    return propagate_dense(matrix, x0, times)


def _deflated(matrix: np.ndarray, x0: np.ndarray, times: np.ndarray, conserved: np.ndarray,
              method: str) -> np.ndarray:
    """exp(M t) x0 for a dense M with u^T M = 0 (u = ``conserved``, real): the
    stationary part (u^T x0) x_ss exactly, the deviation in the invariant subspace
    u^T delta = 0 (module doc, step 1).  Without a unique stationary state (e.g. no
    relaxation of some spin: the bordered system is singular) x0 is propagated as it
    is."""
    from dnpsim.solvers.null_vector import null_vector
    from dnpsim.solvers.residual import stationary_residual

    u = np.asarray(conserved, dtype=float)
    try:
        stationary = null_vector(matrix, u)
    except np.linalg.LinAlgError:
        stationary = None
    if stationary is None or not stationary_residual(matrix, stationary) <= STATIONARY_ACCEPT:
        return _propagate_block(matrix, x0, times, method)
    weight = u @ x0
    delta0 = x0 - weight * stationary
    # Householder reflection H = 1 - beta v v^T with H u ~ e_pivot: the complement
    # u^T x = 0 is mapped onto the coordinates other than ``pivot``
    unit = u / np.linalg.norm(u)
    pivot = int(np.argmax(np.abs(unit)))
    v = unit.copy()
    v[pivot] += np.copysign(1.0, unit[pivot])
    beta = 2.0 / (v @ v)

    def reflect(x):  # H x along the first axis
        return x - beta * np.multiply.outer(v, v @ x)

    keep = np.arange(u.size) != pivot
    reduced = reflect(reflect(matrix).T).T[np.ix_(keep, keep)]  # H M H restricted (H symmetric)
    y = _propagate_block(reduced, reflect(delta0)[keep], times, method)
    full = np.zeros((times.size, u.size), dtype=y.dtype)
    full[:, keep] = y
    return weight * stationary + reflect(full.T).T


def _fast_horizon(blocks: BlockDiagonalization, b0: np.ndarray, scale: float) -> float:
    """Time after which the fast part [W; 1] exp(M_f t) b0 is below
    :data:`FAST_NEGLIGIBLE` ``scale`` (inf when the Gershgorin bound does not decay)."""
    size = np.linalg.norm(b0) * (1.0 + np.linalg.norm(blocks.W))
    if size == 0.0:
        return 0.0
    M = blocks.fast_generator
    hermitian = 0.5 * (M + M.conj().T)
    mu = float(np.max(hermitian.diagonal().real + np.abs(hermitian).sum(axis=1) - np.abs(hermitian.diagonal())))
    if not mu < 0.0:
        return np.inf
    return max(0.0, np.log(size / (FAST_NEGLIGIBLE * scale)) / -mu)


def propagate_conserving(matrix, x0: np.ndarray, times, conserved: np.ndarray | None = None, *,
                         method: str = "auto", split: bool = True) -> np.ndarray:
    """x(t) = exp(M t) x0, shape (len(times), n), for a generator M (dense or scipy
    sparse, (n, n), n up to a few thousand) that conserves u = ``conserved`` (u^T M =
    0; default all ones, total probability): the stationary part exactly and the
    deviation in the complement of u, after the fast/slow block diagonalization when
    the diagonal of M has a gap (module doc).  u^T x(t) = u^T x0 to round-off, and a
    stationary x0 stays put (exactly when its stationary residual is at most
    :data:`STATIONARY_START`).

    method : how each block is exponentiated: "expm" (one scipy ``expm`` per distinct
        step; error ~eps per squaring relative to ||exp(M dt)||, the more accurate),
        "eig" (one eigendecomposition, every time point a product; error ~eps ||M_s|| t
        in the slow modes) or "auto" (expm for few distinct steps,
        :data:`AUTO_EXPM_STEPS`, eig otherwise).  The fast block is propagated only
        at times where it has not yet decayed (:data:`FAST_NEGLIGIBLE`), by eig
        unless ``method="expm"``.
    split : try the fast/slow split (:func:`fast_slow_split`); without it, or when
        the diagonal has no gap, the deviation is propagated with the whole generator
    """
    if method not in ("auto", "eig", "expm"):
        raise ValueError(f"method: must be 'auto', 'eig' or 'expm', got {method!r}")
    from dnpsim.solvers.residual import stationary_residual

    times = np.asarray(time_grid(times, "times"))
    x0 = np.asarray(x0)
    n = x0.size
    u = np.ones(n) if conserved is None else np.asarray(conserved, dtype=float)
    if stationary_residual(matrix, x0) <= STATIONARY_START:
        # a start stationary to round-off (thermal equilibrium without drive) stays
        # put exactly; the computed stationary vector may differ from it by
        # ~eps cond(M) (1e-14 for the cross-effect Liouvillian)
        return np.repeat(x0[None, :], times.size, axis=0)
    parts = fast_slow_split(matrix) if split else None
    # the split needs u on the slow coordinates only (the trace: populations)
    blocks = None if parts is None or np.any(u[parts[1]] != 0) else block_diagonalize(matrix, *parts)
    if blocks is None:
        dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)
        return _deflated(dense, x0, times, u, method)
    a0, b0 = blocks.coordinates(x0)
    a = _deflated(blocks.slow_generator, a0, times, u[blocks.slow], method)
    b = np.zeros((times.size, b0.size), dtype=np.result_type(blocks.fast_generator, b0))
    b[times == 0.0] = b0
    active = (times > 0.0) & (times < _fast_horizon(blocks, b0, max(np.linalg.norm(x0), np.finfo(float).tiny)))
    if active.any():
        b[active] = _propagate_block(blocks.fast_generator, b0, times[active], "expm" if method == "expm" else "eig")
    return blocks.assemble(a, b)


def evolve_populations(generator: BlockTridiagonal, p0: np.ndarray, times: np.ndarray, *,
                       rtol: float = 1e-10) -> np.ndarray:
    """Populations p(t) = exp(Q t) p0 at the given times (s), shape (len(times), n).

    Spin generators are stiff (microwave rates ~1e4/s next to nuclear flips ~1e-3/s),
    which rules out explicit schemes and makes Krylov ``expm_multiply`` crawl.  Up to
    :data:`DENSE_EVOLUTION_LIMIT` states, the conservative dense propagator
    (:func:`propagate_conserving`: stationary state split off, deviation propagated by
    one ``expm`` per distinct step; total probability conserved to round-off, a
    stationary p0 stays put); above, an implicit BDF integrator with the sparse Jacobian Q
    (relative tolerance ``rtol``; the total probability is then conserved only to
    about ``rtol``).
    """
    times = np.asarray(times, dtype=float)
    p0 = np.asarray(p0, dtype=float)
    if times.size == 0:
        return np.empty((0, p0.size))
    times = np.asarray(time_grid(times, "times"))
    if generator.size <= DENSE_EVOLUTION_LIMIT:
        return np.real(propagate_conserving(generator.to_dense(), p0, times, method="expm"))
    from scipy.integrate import solve_ivp

    q = generator.to_sparse()
    solution = solve_ivp(lambda _t, y: q @ y, (0.0, times[-1]), p0, method="BDF", t_eval=times, jac=q,
                         rtol=rtol, atol=rtol * 1e-6)
    if not solution.success:
        raise ConvergenceError(f"time evolution failed: {solution.message}", float("nan"))
    return solution.y.T
