"""Brute-force full-space rate equation of the 2016 paper, for cross-checks.

Everything is done on the full 2^(N+1) space with dense Kronecker-product operators:
diagonalize H_S (Eq. (9)), rotate S_a^j into the eigenbasis, build Eqs. (12) and (16)
literally, and solve Q p = 0 densely.  No sector structure is used.
"""

import numpy as np

from dnpsim.spin.operators import full_operator
from dnpsim.units import detailed_balance


def gth_stationary(q):
    """Stationary vector of a dense generator by the Grassmann-Taksar-Heyman algorithm
    (scalar elimination whose pivots are sums of positive rates: no cancellation, so
    the result has small relative error whatever the condition number)."""
    a = np.array(q, dtype=float)
    np.fill_diagonal(a, 0.0)
    n = a.shape[0]
    for k in range(n - 1, 0, -1):
        out = a[:k, k].sum()  # rate out of state k into the states still present
        a[:k, :k] += np.outer(a[:k, k], a[k, :k]) / out
        a[k, :k] /= out
        np.fill_diagonal(a, 0.0)
    p = np.zeros(n)
    p[0] = 1.0
    for k in range(1, n):
        p[k] = a[k, :k] @ p[:k]
    return p / p.sum()


def brute_force_stationary(model, beta, omega_mw, omega_1, t1e, t2e):
    """Returns (lab energies (ascending), populations, P_n or None, P_e (N,), Q)."""
    n = model.n_electrons
    total = n + (1 if model.has_nucleus else 0)
    energies, vectors = np.linalg.eigh(model.full_hamiltonian())
    rotated = {a: [vectors.conj().T @ full_operator(total, j, a) @ vectors for j in range(n)] for a in "xyz"}
    strength = sum(np.abs(op) ** 2 for a in "xyz" for op in rotated[a])
    sx_total = np.abs(sum(rotated["x"])) ** 2
    rates = (2.0 / t1e) * detailed_balance(energies[None, :] - energies[:, None], beta) * strength  # [n, n'] = n'->n
    gap = np.abs(energies[:, None] - energies[None, :])
    rates += 4 * omega_1**2 * t2e * sx_total / (1 + t2e**2 * (gap - omega_mw) ** 2)
    np.fill_diagonal(rates, 0.0)
    q = rates - np.diag(rates.sum(axis=0))
    p = gth_stationary(q)

    def expect(op):
        return np.real(np.einsum("an,ab,bn->n", vectors.conj(), op, vectors))

    pe = np.array([2 * p @ expect(full_operator(total, i, "z")) for i in range(n)])
    pn = 2 * p @ expect(full_operator(total, n, "z")) if model.has_nucleus else None
    return energies, p, pn, pe, q


def _pair_gap(basis, k):
    """Lab-frame eps_n - eps_n' for n in sector k+1, n' in sector k; (d_{k+1}, d_k)."""
    return basis.sectors[k + 1].lab_energies[:, None] - basis.sectors[k].lab_energies[None, :]


def sector_bath_rates(basis, beta, t1e):
    """Eq. (12) on the engine's sector blocks with numpy array expressions: the
    reference of the compiled ``dnpsim.dynamics.rates.bath_rates`` (same layout)."""
    from dnpsim.solvers.block_tridiagonal import BlockTridiagonal

    diag, lower, upper = [], [], []
    for k, system in enumerate(basis.sectors):
        e = system.energies
        h = detailed_balance(e[None, :] - e[:, None], beta)  # h(eps_{n'} - eps_n)
        diag.append((2.0 / t1e) * h * basis.dephasing[k])
    for k, strength in enumerate(basis.raising):
        gap = _pair_gap(basis, k)  # eps_high - eps_low
        # up: low (n') -> high (n): h(eps_low - eps_high); (2/T1)(1/2) = 1/T1
        lower.append(detailed_balance(-gap, beta) * strength / t1e)
        # down: high (n') -> low (n): h(eps_high - eps_low), transposed layout
        upper.append(np.ascontiguousarray((detailed_balance(gap, beta) * strength).T / t1e))
    return BlockTridiagonal(diag, lower, upper)


def sector_microwave_rates(basis, omega_mw, omega_1, t2e):
    """Eq. (16) on the engine's sector pairs with numpy array expressions, one
    (d_{k+1}, d_k) block per pair (F leading frequencies if ``omega_mw`` is an array):
    4 omega_1^2 T_2e |<n|S_x|n'>|^2 / (1 + T_2e^2 (|eps_n - eps_n'| - omega_MW)^2) with
    |<n|S_x|n'>|^2 = |<n|S_+|n'>|^2 / 4.  The reference of the compiled kernel."""
    omega_mw = np.asarray(omega_mw, dtype=float)[..., None, None]
    return [(omega_1 * omega_1 * t2e) * total / (1.0 + (t2e * (np.abs(_pair_gap(basis, k)) - omega_mw)) ** 2)
            for k, total in enumerate(basis.raising_total)]
