"""Time evolution x(t) = exp(M t) x0 of stiff linear equations (no physics): dense
propagators for up to a few thousand states, an implicit integrator above.

Spin generators are stiff (microwave rates ~1e4/s next to nuclear flips ~1e-3/s, or a
Liouvillian spanning GHz precession down to 1e-2/s relaxation), which rules out
explicit schemes and makes Krylov ``expm_multiply`` crawl.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from dnpsim.errors import ConvergenceError
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal
from dnpsim.units import time_grid


#: Largest generator evolved with dense matrix exponentials (O(n^3) once per step size).
DENSE_EVOLUTION_LIMIT = 4096


def propagate_dense(matrix: np.ndarray, x0: np.ndarray, times: np.ndarray) -> np.ndarray:
    """x(t) = exp(M t) x0 at increasing non-negative ``times`` (s) for a dense (n, n)
    ``matrix`` M (real or complex), shape (len(times), n): exp(M dt) is formed once per
    distinct step (scipy ``expm``, scaling and squaring; steps equal to 12 significant
    digits share it) and applied step after step.  For stiff generators, where
    explicit schemes and Krylov ``expm_multiply`` fail, up to a few thousand states."""
    times = np.asarray(time_grid(times, "times"))
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
    times = np.asarray(time_grid(times, "times"))
    if generator.size <= DENSE_EVOLUTION_LIMIT:
        return propagate_dense(generator.to_dense(), p0, times)
    from scipy.integrate import solve_ivp

    q = generator.to_sparse()
    solution = solve_ivp(lambda _t, y: q @ y, (0.0, times[-1]), p0, method="BDF", t_eval=times, jac=q,
                         rtol=rtol, atol=rtol * 1e-6)
    if not solution.success:
        raise ConvergenceError(f"time evolution failed: {solution.message}", float("nan"))
    return solution.y.T
