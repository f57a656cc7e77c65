"""Dense reference of the 2021 open-system engine (Maimbourg et al., PRL 126, 120603):
the 4^N x 4^N GKSL superoperator built from full-space operators.

Rotating frame at omega_MW (Eq. (S46)): H = H_S - omega_MW S^z + omega_1 S^x (S^x ->
S^x_j for one irradiated spin), with the nonsecular jump operators of Eqs. (7)-(8) or
the secular ones of Eq. (9) / (S17) (see :mod:`dnpsim.dynamics.lindblad` for their
definitions), column-stacking vec(rho) (:mod:`dnpsim.dynamics.gksl`).  A brute-force
reference for N <= 5 (both jump choices) and the dense cross-check solver.
"""

from __future__ import annotations

import math

import numpy as np

from dnpsim.dynamics.gksl import gksl_superoperator, stationary_density_matrix
from dnpsim.dynamics.jumps import OpenEnvironment
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.spin.operators import full_operator
from dnpsim.units import detailed_balance

#: Full-space references are for at most this many spins (4^N superoperator).
MAX_DENSE_SPINS = 5
#: Dense 2^N x 2^N operators (Hamiltonian, jump operators) are built for at most this many spins.
MAX_OPERATOR_SPINS = 11


def _check_dense(model: DipolarElectrons, limit: int = MAX_DENSE_SPINS) -> None:
    if model.n_electrons > limit:
        raise ValueError(f"dense references are for N <= {limit} (got {model.n_electrons})")


def full_total_spin(n: int, component: str) -> np.ndarray:
    """Dense sum_j S^component_j on n spins."""
    return sum(full_operator(n, j, component) for j in range(n))


def zeeman_free_hamiltonian(model: DipolarElectrons) -> np.ndarray:
    """Dense H_S - omega_e S^z on the full space, built from the model's offsets,
    couplings and Ising matrix without ever adding omega_e (so no round-off of
    omega_e ~ 6e11 rad/s leaks into the MHz-scale terms)."""
    _check_dense(model, MAX_OPERATOR_SPINS)
    return np.asarray(model.full_hamiltonian(with_electron_larmor=False), dtype=float)


def rotating_hamiltonian(model: DipolarElectrons, env: OpenEnvironment) -> np.ndarray:
    """Dense H = H_S - omega_MW S^z + omega_1 S^x (Eq. (S46)) on the full 2^N space,
    as (H_S - omega_e S^z) + (omega_e - omega_MW) S^z + omega_1 S^x."""
    n = model.n_electrons
    h = zeeman_free_hamiltonian(model) + (model.omega_e - env.omega_mw) * full_total_spin(n, "z")
    sx = full_total_spin(n, "x") if env.irradiated is None else full_operator(n, env.irradiated, "x")
    return h + env.omega_1 * sx


def _full_eigensystem(model: DipolarElectrons):
    """Lab energies and eigenvectors of H_S on the full space, by dense eigh of each
    magnetization block of the full matrix (so eigenvectors never mix sectors, even
    when lab energies of different sectors coincide)."""
    n = model.n_electrons
    h = zeeman_free_hamiltonian(model)
    counts = np.bitwise_count(np.arange(2**n, dtype=np.uint64)).astype(int)
    energies = np.zeros(2**n)
    vecs = np.zeros((2**n, 2**n))
    for k in range(n + 1):
        idx = np.flatnonzero(counts == k)
        e, v = np.linalg.eigh(h[np.ix_(idx, idx)])
        energies[idx] = e + model.omega_e * (k - 0.5 * n)
        vecs[np.ix_(idx, idx)] = v
    return energies, vecs


def nonsecular_jump_operators(model: DipolarElectrons, env: OpenEnvironment) -> list[np.ndarray]:
    """Dense jump operators of Eqs. (7)-(8), written literally: A^x_i, A^y_i, A^z_i for
    every spin i (3N complex (2^N, 2^N) matrices).  D_i uses the eigenvectors of H_S
    (nondegenerate spectrum assumed, as in the paper)."""
    _check_dense(model, MAX_OPERATOR_SPINS)
    env.check_model(model)
    n = model.n_electrons
    beta = env.beta
    we = model.omega_e
    h = float(detailed_balance(we, beta))
    pref = math.sqrt(h / (2.0 * env.bath.t1))
    boltz = math.exp(-0.5 * beta * we)
    a, b = env.dephasing_coefficients()
    _, vecs = _full_eigensystem(model)
    ops = []
    for i in range(n):
        sm = full_operator(n, i, "-")
        spl = full_operator(n, i, "+")
        sz = full_operator(n, i, "z")
        ops.append(pref * (sm + boltz * spl).astype(complex))
        ops.append(1j * pref * (sm - boltz * spl))
        expect = np.einsum("sn,st,tn->n", vecs, sz, vecs)
        d_i = (vecs * expect) @ vecs.T
        ops.append((a * sz + b * d_i).astype(complex))
    return ops


def secular_jump_operators(model: DipolarElectrons, env: OpenEnvironment, gap_tolerance: float | None = None
                           ) -> list[np.ndarray]:
    """Dense secular jump operators sqrt(gamma(omega)) S^mu_i(omega) of Eq. (9) / (S17),
    with S^mu_i(omega) built literally from Eq. (S10) by grouping lab-frame gaps equal
    within ``gap_tolerance`` (rad/s; default 1e-9 of omega_e).  gamma(omega) =
    h(omega) / T(|omega|) with exact h, T from :meth:`BathTimescales.timescale`."""
    _check_dense(model)
    env.check_model(model)
    n = model.n_electrons
    tol = 1e-9 * model.omega_e if gap_tolerance is None else gap_tolerance
    energies, vecs = _full_eigensystem(model)
    gaps = energies[None, :] - energies[:, None]  # gaps[m, n] = eps_n - eps_m: |m><n| lowers by omega
    order = np.argsort(gaps, axis=None)
    flat = gaps.ravel()[order]
    # group sorted gaps into clusters of width <= tol
    starts = np.concatenate([[0], np.flatnonzero(np.diff(flat) > tol) + 1, [flat.size]])
    ops = []
    beta = env.beta
    for i in range(n):
        for comp in ("x", "y", "z"):
            s_eig = vecs.conj().T @ full_operator(n, i, comp) @ vecs  # <m|S|n>
            for g0, g1 in zip(starts[:-1], starts[1:]):
                idx = order[g0:g1]
                omega = float(np.mean(flat[g0:g1]))
                rows, cols = np.unravel_index(idx, gaps.shape)
                block = np.zeros((2**n, 2**n), dtype=complex)
                block[rows, cols] = s_eig[rows, cols]
                if not np.any(np.abs(block) > 1e-14):
                    continue
                gam = float(detailed_balance(omega, beta)) / float(env.bath.timescale(omega, model.omega_e, tol))
                ops.append(math.sqrt(gam) * (vecs @ block @ vecs.conj().T))
    return ops


def dense_liouvillian(model: DipolarElectrons, env: OpenEnvironment, jumps: str = "nonsecular") -> np.ndarray:
    """Dense GKSL superoperator (4^N, 4^N) of Eq. (S46), column-stacking convention
    vec(A rho B) = (B^T kron A) vec(rho) (:func:`dnpsim.dynamics.gksl.gksl_superoperator`),
    computational basis (bit i = spin i up).

    ``jumps``: "nonsecular" (Eqs. (7)-(8)) or "secular" (Eq. (9), S17).
    """
    _check_dense(model)
    env.check_model(model)
    if jumps == "nonsecular":
        ops = nonsecular_jump_operators(model, env)
    elif jumps == "secular":
        ops = secular_jump_operators(model, env)
    else:
        raise ValueError(f"jumps must be 'nonsecular' or 'secular', got {jumps!r}")
    return gksl_superoperator(rotating_hamiltonian(model, env).astype(complex), ops)


def dense_steady_state(liouvillian: np.ndarray, *, tol: float = 1e-8) -> np.ndarray:
    """Stationary density matrix (2^N, 2^N) of a dense superoperator (column stacking)
    by one direct solve with the trace replacing one equation
    (:func:`dnpsim.dynamics.gksl.stationary_density_matrix`).  Raises
    :class:`~dnpsim.errors.ConvergenceError` when the residual of
    :func:`dnpsim.solvers.residual.stationary_residual` exceeds ``tol``."""
    return stationary_density_matrix(liouvillian, tol=tol)[0]


def boltzmann_state(model: DipolarElectrons, beta: float) -> np.ndarray:
    """Dense e^{-beta H_S} / Z in the computational basis (lab frame)."""
    energies, vecs = _full_eigensystem(model)
    w = np.exp(-beta * (energies - energies.min()))
    w /= w.sum()
    return (vecs * w) @ vecs.T
