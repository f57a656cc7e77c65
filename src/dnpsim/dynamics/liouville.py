"""Full Lindblad master equation of the cross-effect model in Liouville space (Eq. (1)
of Karabanov et al. 2018), for a few spins (two electrons + up to ~4 nuclei).

The Liouvillian is assembled sparse (CSR) by :func:`dnpsim.dynamics.gksl.gksl_superoperator`
(column stacking, vec(rho)[i + d j] = rho[i, j], d = 2^n).  Steady state: sparse LU of
the Liouvillian with one equation replaced by the trace condition
(:func:`dnpsim.dynamics.gksl.stationary_density_matrix`), with the residual of
:func:`dnpsim.solvers.residual.stationary_residual` reported and checked.

Time evolution (:func:`evolve`): exact propagation up to 6 spins (d^2 <= 4096) by
:func:`dnpsim.solvers.propagation.propagate_conserving`.  The spectrum spans omega_I ~
1e9 rad/s down to r_1 ~ 1e-2 s^-1, so Krylov ``expm_multiply`` would need ~||L|| t ~
1e11 products and explicit ODE solvers as many steps; and a plain float64
eigendecomposition or ``expm`` of L misplaces every eigenvalue by ~eps ||L|| ~ 1e-7
s^-1, the zero one included, so that Tr rho drifts linearly and the build-up p_I(t)
errs by ~eps ||L|| t.  The propagator therefore (i) splits off the stationary state
and propagates the traceless deviation rho - Tr(rho) rho_ss only (Tr rho conserved
to round-off; rho_th without microwaves stays rho_th), and (ii) block-diagonalizes L
exactly into its slow coordinates (populations and coherences near resonance in the
rotating frame) and its fast ones (precessing at ~omega_I), so that the slow
dynamics comes from a generator of norm ~max(D, B, R_2) instead of omega_I.  What
remains is float64 exponentiation of that slow block: p_I(t) is accurate to ~1e-9
relative over the build-up with "expm" (and "auto" for few distinct time steps), a
few 1e-9 with "eig" (tests/test_evolution_accuracy.py checks both against a 320-bit
reference).  A Liouvillian without a scale gap in its diagonal gets (i) only, with
errors ~eps ||L|| t in the transients.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from dnpsim.dynamics.gksl import gksl_superoperator, stationary_density_matrix, vec
from dnpsim.models.cross_effect import CrossEffectModel
from dnpsim.spin.operators import full_operator
from dnpsim.units import time_grid

#: Largest number of spins the full Liouville space is built for (4^7 = 16384).
MAX_LIOUVILLE_SPINS = 7
#: Largest Liouville dimension propagated densely (6 spins).
MAX_DENSE_EVOLVE = 4096


def hamiltonian(model: CrossEffectModel) -> np.ndarray:
    """Dense H of Eq. (1) (rad/s), (2^n, 2^n) complex, n = 2 + N; spins 0, 1 electrons."""
    n = model.n_spins
    if n > MAX_LIOUVILLE_SPINS:
        raise ValueError(f"n_spins: the full master equation is for at most {MAX_LIOUVILLE_SPINS} spins, got {n}")
    op = {(i, c): full_operator(n, i, c) for i in range(n) for c in "xyz+-"}
    H = np.zeros((2**n, 2**n), complex)
    for j in range(2):
        H += model.offsets[j] * op[j, "z"] + model.omega1 * op[j, "x"]
    for k in range(model.n_nuclei):
        H += model.omega_I * op[2 + k, "z"]
    S1, S2 = 0, 1
    H += model.D * (3 * op[S1, "z"] @ op[S2, "z"] - sum(op[S1, c] @ op[S2, c] for c in "xyz"))
    for k in range(model.n_nuclei):
        for l in range(k + 1, model.n_nuclei):
            a, b = 2 + k, 2 + l
            H += model.d[k, l] * (3 * op[a, "z"] @ op[b, "z"] - sum(op[a, c] @ op[b, c] for c in "xyz"))
        for j in range(2):
            I = 2 + k
            H += op[j, "z"] @ (model.A[j, k] * op[I, "z"] + 0.5 * model.B[j, k] * op[I, "+"]
                               + 0.5 * np.conj(model.B[j, k]) * op[I, "-"])
    return H


def jump_operators(model: CrossEffectModel) -> list[tuple[float, np.ndarray]]:
    """(rate, X) pairs of the dissipator of Eq. (1): Gamma_1+- = (1 -+ p) R_1/2 on S_j+-,
    Gamma_2 = 2 R_2 on S_jz, gamma_1 = r_1/2 on I_k+ and I_k-, gamma_2 = 2 r_2 on I_kz."""
    n = model.n_spins
    out = []
    for j in range(2):
        out += [((1 - model.p) * model.R1 / 2, full_operator(n, j, "+")),
                ((1 + model.p) * model.R1 / 2, full_operator(n, j, "-")),
                (2 * model.R2, full_operator(n, j, "z"))]
    for k in range(model.n_nuclei):
        out += [(model.r1 / 2, full_operator(n, 2 + k, "+")), (model.r1 / 2, full_operator(n, 2 + k, "-")),
                (2 * model.r2, full_operator(n, 2 + k, "z"))]
    return [(g, X) for g, X in out if g > 0]


def liouvillian(model: CrossEffectModel) -> sp.csr_matrix:
    """Sparse Liouvillian (d^2, d^2) of Eq. (1), column-stacking convention
    (:func:`dnpsim.dynamics.gksl.gksl_superoperator`)."""
    jumps = jump_operators(model)
    return gksl_superoperator(hamiltonian(model), [X for _, X in jumps], [rate for rate, _ in jumps], sparse=True)


def thermal_state(model: CrossEffectModel, nuclear_polarization: float = 0.0) -> np.ndarray:
    """rho_th = prod_j (1 - 2 p S_jz)/2 x prod_k (1 - 2 P I_kz)/2 (diagonal, d x d): the
    paper's initial state (electrons thermal, 2<S_jz> = -p; nuclei at
    ``nuclear_polarization`` in the package convention, default 0 as in the paper)."""
    from dnpsim.models.cross_effect import spin_values

    n = model.n_spins
    s = spin_values(np.arange(2**n), n)
    weights = np.prod((1 - 2 * model.p * s[:, :2]), axis=1) / 4
    # package convention P_I = -2<I_z>_paper, so the paper-frame factor is (1 - 2 P s)
    weights = weights * np.prod(1 - 2 * nuclear_polarization * s[:, 2:], axis=1) / 2 ** model.n_nuclei
    return np.diag(weights).astype(complex)


def polarizations(model: CrossEffectModel, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(electron 2<S_jz> (2,), nuclear P_I,k = -2<I_kz>_paper (N,)) of a density matrix
    (package sign convention, see :mod:`dnpsim.models.cross_effect`)."""
    return population_polarizations(model, np.real(np.diagonal(np.asarray(rho))))


def population_polarizations(model: CrossEffectModel, populations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polarizations of populations over the 2^n Zeeman states, shape (..., 2^n):
    returns electron (..., 2) and nuclear (..., N) arrays (package convention)."""
    from dnpsim.models.cross_effect import spin_values
    from dnpsim.observables.polarization import polarization

    mean = polarization(np.real(np.asarray(populations)), spin_values(np.arange(2**model.n_spins), model.n_spins))
    return mean[..., :2], -mean[..., 2:]


@dataclass(frozen=True)
class LindbladSteadyState:
    """Stationary state of Eq. (1): density matrix, polarizations, residual
    (:func:`dnpsim.solvers.residual.stationary_residual` of vec(rho))."""

    rho: np.ndarray
    electron_polarization: np.ndarray
    nuclear_polarization: np.ndarray
    residual: float
    wall_time: float


def steady_state(model: CrossEffectModel, tol: float = 1e-9) -> LindbladSteadyState:
    """Stationary solution of Eq. (1): L vec(rho) = 0 with Tr rho = 1, one sparse LU
    (:func:`dnpsim.dynamics.gksl.stationary_density_matrix`).

    Raises :class:`~dnpsim.errors.ConvergenceError` when the residual
    ||L vec(rho)||_1 / sum_n |L_nn| |vec(rho)_n|
    (:func:`dnpsim.solvers.residual.stationary_residual`) exceeds ``tol``."""
    start = time.perf_counter()
    rho, residual = stationary_density_matrix(liouvillian(model), tol=tol)
    # the solve leaves rho Hermitian only up to round-off
    rho = 0.5 * (rho + rho.conj().T)
    pe, pn = polarizations(model, rho)
    return LindbladSteadyState(rho, pe, pn, residual, time.perf_counter() - start)


@dataclass(frozen=True)
class LindbladTrajectory:
    """Time evolution of Eq. (1): times (T,), electron (T, 2) and nuclear (T, N)
    polarizations (package convention), the transverse components 2<S_jx>, 2<S_jy>
    (T, 2) and Tr rho (T,)."""

    times: np.ndarray
    electron_polarization: np.ndarray
    nuclear_polarization: np.ndarray
    electron_x: np.ndarray
    electron_y: np.ndarray
    wall_time: float
    trace: np.ndarray | None = None


def evolve(model: CrossEffectModel, times, rho0: np.ndarray | None = None, method: str = "auto",
           rtol: float = 1e-8) -> LindbladTrajectory:
    """Integrate Eq. (1) from ``rho0`` (default :func:`thermal_state`) and return the
    polarizations at ``times`` (s, increasing, >= 0).

    ``method``: how the blocks of the conservative propagator
    (:func:`dnpsim.solvers.propagation.propagate_conserving`, module doc) are
    exponentiated: "expm" (dense exp(L dt) per distinct step, the more accurate),
    "eig" (one eigendecomposition, cheaper for many distinct steps of a 6-spin
    model, errors a few times larger) or "auto" (default: expm for few distinct
    steps, eig otherwise; :data:`dnpsim.solvers.propagation.AUTO_EXPM_STEPS`).  Liouville dimension <=
    :data:`MAX_DENSE_EVOLVE`.  ``rtol`` is not used (the propagators are exact up
    to round-off).
    """
    from dnpsim.dynamics.gksl import trace_functional
    from dnpsim.solvers.propagation import propagate_conserving

    start = time.perf_counter()
    times = np.asarray(time_grid(times, "times"))
    rho0 = thermal_state(model) if rho0 is None else np.asarray(rho0, complex)
    if method not in ("auto", "eig", "expm"):
        raise ValueError(f"method: must be 'auto', 'eig' or 'expm', got {method!r}")
    L = liouvillian(model)
    dim2 = L.shape[0]
    if dim2 > MAX_DENSE_EVOLVE:
        raise ValueError(f"model: time evolution is dense; Liouville dimension {dim2} > {MAX_DENSE_EVOLVE} "
                         "(at most 6 spins)")
    n = model.n_spins
    d = 2**n
    V = propagate_conserving(L, vec(rho0), times, trace_functional(d), method=method)   # (T, d^2)
    ops_x = [vec(full_operator(n, j, "x")) for j in range(2)]
    ops_y = [vec(full_operator(n, j, "y")).conj() for j in range(2)]
    pops = np.real(V[:, np.arange(d) * (d + 1)])          # (T, d)
    pe, pn = population_polarizations(model, pops)
    # Tr(S rho) = sum_ij S_ji rho_ij = vec(S^T) . vec(rho), and S^T = conj(S) (Hermitian)
    ex = np.real(np.array([2 * V @ o for o in ops_x])).T
    ey = np.real(np.array([2 * V @ o for o in ops_y])).T
    return LindbladTrajectory(times, pe, pn, ex, ey, time.perf_counter() - start, pops.sum(axis=1))
