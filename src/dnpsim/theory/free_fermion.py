"""Nuclear polarization of the free-fermion DNP model (2018 paper, Eqs. (19)-(24), (C7)).

Energies are angular (rad/s), times in s; ``nuclei`` is a :class:`NuclearBath` (its
angular ``omega_n``, ``A0`` enter).  ``weights`` W[j, alpha] = |phi_{alpha j}|^2
(or None for the GOE surrogate of Eq. (23)), ``energies`` lab-frame eps_alpha (only
differences enter the pair sums), ``biases`` P_B(eps_alpha) of Eq. (11).

Two corrections to the printed formulas (derived from the rates (14), (16), (17) and
(B4)-(B7), verified against a brute-force 2^(N+1)-state rate equation in
tests/test_anderson_theory.py):

1. Prefactor: Eq. (19) prints A^2 T2n / 4; Eq. (14) with |<I_x>|^2 = 1/4 and
   <n_a (1 - n_b)> = (1 + P_a)(1 - P_b)/4 gives A^2 T2n / 16, which is also what the
   printed Eqs. (22) and (24) imply (N_e/4 in front of K against 2 N_n/(A^2 T1n T2n)).
2. Sign of the resonance: with Omega_emit = Omega(+omega_n) of Eq. (19) (the fermion
   hops from a to b when eps_a - eps_b = omega_n, i.e. electrons take up the energy the
   nucleus releases), Eq. (20) gives
       P_n = sum_ab O_ab L(eps_a - eps_b - omega_n) (P_a - P_b)
             / [sum_ab O_ab L(eps_a - eps_b - omega_n) (1 - P_a P_b) + 8 N_n / (A^2 T1n T2n)]
   (times N_e^-1: the pair sums equal N_e int int K).  The printed Eqs. (22), (24) and
   (C7) have L(eps - eps' + omega_n) with P(eps) - P(eps'): the opposite sign, which
   would give P_n = -tanh(beta omega_n / 2) without microwaves.  We keep Eq. (19)/(20)'s
   sign (thermal P_n = +tanh(beta omega_n/2), docs/conventions.md) and state Eq. (22) as above.
"""

from __future__ import annotations

import numpy as np

from dnpsim.dynamics.free_fermion import NuclearBath, lorentzian
from dnpsim.observables.overlaps import lorentzian_pair_products
from dnpsim.units import detailed_balance


def iss_sums(weights, energies, biases, nuclei: NuclearBath) -> tuple[np.ndarray, np.ndarray]:
    """Pair sums of Eq. (22) for several bias vectors at once.

    biases : (k, N_modes).  Returns (numerator, iss_denominator), each (k,):
    sum_ab O_ab L(eps_a - eps_b - omega_n) (P_a - P_b) and ... (1 - P_a P_b)
    (L = Lorentzian of width 1/T2n).  One blocked pass over O for all k."""
    p = np.atleast_2d(np.asarray(biases, dtype=float))
    v = np.column_stack([np.ones(p.shape[1]), p.T])
    y = lorentzian_pair_products(weights, energies, nuclei.omega_n, nuclei.t2n, v)
    num = p @ y[:, 0] - y[:, 1:].sum(axis=0)
    den = y[:, 0].sum() - np.einsum("kn,nk->k", p, y[:, 1:])
    return num, den


def iss_sums_many(weights, energies, cases) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`iss_sums` for several ``(biases (k, N), nuclei)`` cases in one pass over
    O (all cases must share T2n).  Returns one (numerator, iss_denominator) per case."""
    t2 = {c[1].t2n for c in cases}
    if len(t2) != 1:
        raise ValueError("iss_sums_many: all cases must share t2n")
    ps = [np.atleast_2d(np.asarray(b, dtype=float)) for b, _ in cases]
    vs = [np.column_stack([np.ones(p.shape[1]), p.T]) for p in ps]
    ys = lorentzian_pair_products(weights, energies, [c[1].omega_n for c in cases], t2.pop(), vs)
    out = []
    for p, y in zip(ps, ys):
        out.append((p @ y[:, 0] - y[:, 1:].sum(axis=0), y[:, 0].sum() - np.einsum("kn,nk->k", p, y[:, 1:])))
    return out


def polarization_eq22(num, iss_den, n_modes: int, nuclei: NuclearBath):
    """Eq. (22) (corrected, module docstring) from the pair sums of :func:`iss_sums`:
    P_n = num / (iss_den + N_e * 8 (N_n/N_e) / (A^2 T1n T2n)).  Polarization loss and
    the thermal leakage numerator are neglected, as in the paper."""
    return np.asarray(num) / (np.asarray(iss_den) + n_modes * nuclei.leakage_weight)


def nuclear_polarization(weights, energies, biases, nuclei: NuclearBath, *, beta: float | None = None,
                         loss: bool = False):
    """P_n of Eq. (22) (default) or, with ``beta`` (s/rad) given, of Eq. (20) with the
    thermal leakage numerator N_n tanh(beta omega_n / 2) / T1n and, if ``loss``, the
    polarization-loss term of Eq. (16) (Omega with the A^2 T2n/16 prefactor).

    Returns an array (k,) for biases (k, N_modes) or a float for one bias vector."""
    p = np.atleast_2d(np.asarray(biases, dtype=float))
    n = p.shape[1]
    num, den = iss_sums(weights, energies, p, nuclei)
    if beta is None:
        out = polarization_eq22(num, den, n, nuclei)
    else:
        # multiply Omega_emit +- Omega_abs (Eq. (19), 1/16 prefactor) by 8 / (A^2 T2n)
        a2 = nuclei.A0 ** 2 * nuclei.t2n
        n_n = nuclei.per_electron * n
        lk_num = 8.0 * n_n * np.tanh(0.5 * beta * nuclei.omega_n) / (nuclei.t1n * a2)
        lk_den = 8.0 * n_n / (nuclei.t1n * a2)
        if loss:
            wp = (p @ weights.T) if weights is not None else np.tile(p.mean(axis=1, keepdims=True), (1, n))
            pl = (wp ** 2).sum(axis=1) * lorentzian(nuclei.omega_n, nuclei.t2n)
            den = den + pl
        out = (num + lk_num) / (den + lk_den)
    return out if np.ndim(biases) > 1 else float(out[0])


def nuclear_rate(weights, energies, biases, nuclei: NuclearBath, *, loss: bool = False) -> float:
    """Relaxation rate W (1/s) of the mean nuclear polarization, dP_n/dt = -W (P_n - P_n^stat),
    for one bias vector (N_modes,): the Pauli rate equation behind Eqs. (20) / (22).

    The N_n nuclei share one polarization (fast spin diffusion, as Eqs. (20)-(22)
    assume); each core nucleus j flips up at Omega_j(+omega_n) and down at
    Omega_j(-omega_n) (Eq. (19), 1/16 prefactor), every nucleus relaxes at 1/T1n
    (Eq. (17), h(omega_n) + h(-omega_n) = 1).  With p_up - p_down = P_n,

        N_n dP_n/dt = sum_j [Omega_j(+) (1 - P_n) - Omega_j(-) (1 + P_n)] + leakage,
        W = 1/T1n + (A0^2 T2n / (8 N_n)) sum_ab O_ab L(eps_a - eps_b - omega_n) (1 - P_a P_b)

    (Omega_j(+) + Omega_j(-) summed over j is A0^2 T2n / 8 times the ISS denominator of
    :func:`iss_sums`; with ``loss`` the polarization-loss term of Eq. (16) is added as
    in :func:`nuclear_polarization`), and the stationary value is that of
    :func:`nuclear_polarization` (Eq. (20); Eq. (22) drops the thermal leakage
    numerator, so nuclei then relax to zero at 1/T1n)."""
    p = np.atleast_2d(np.asarray(biases, dtype=float))
    n = p.shape[1]
    _, den = iss_sums(weights, energies, p, nuclei)
    if loss:
        wp = (p @ weights.T) if weights is not None else np.tile(p.mean(axis=1, keepdims=True), (1, n))
        den = den + (wp ** 2).sum(axis=1) * lorentzian(nuclei.omega_n, nuclei.t2n)
    return float(1.0 / nuclei.t1n + nuclei.A0 ** 2 * nuclei.t2n * den[0] / (8.0 * nuclei.per_electron * n))


def per_nucleus_polarization(weights, energies, bias, omega_n: float, t2n: float) -> np.ndarray:
    """P_n^j of Eq. (C7) (no nuclear dipolar coupling, no leakage), one per site j:

    P_n^j = sum_ab w_aj w_bj L(eps_a - eps_b - omega_n)(P_a - P_b)
            / sum_ab w_aj w_bj [P_a P_b L(omega_n) + (1 - P_a P_b) L(eps_a - eps_b - omega_n)]

    (sign as in the module docstring).  Blocked over a: memory O(block x N_sites)."""
    from dnpsim.observables.overlaps import _blocks

    w = np.asarray(weights, dtype=float)
    e = np.asarray(energies, dtype=float)
    p = np.asarray(bias, dtype=float)
    n_sites, n = w.shape
    num = np.zeros(n_sites)
    den = np.zeros(n_sites)
    wt = w.T  # (modes, sites)
    wp = wt * p[:, None]
    for rows in _blocks(n, n):
        lor = lorentzian(e[rows, None] - e[None, :] - omega_n, t2n)  # (b, N)
        l1, lp = lor @ wt, lor @ wp  # (b, sites): sum_b L w_bj, sum_b L w_bj P_b
        wa = wt[rows]
        pa = p[rows, None]
        num += np.sum(wa * (pa * l1 - lp), axis=0)
        den += np.sum(wa * (l1 - pa * lp), axis=0)
    wpj = wp.sum(axis=0)
    den += wpj ** 2 * lorentzian(omega_n, t2n)
    return num / den


def resonant_polarization(k_grid, energy_grid, bias_fn, nuclei: NuclearBath) -> float:
    """Eq. (24) (resonant approximation, leakage-dominated denominator; sign corrected):

    P_n ~ pi A0^2 T1n N_e / (8 N_n) int d eps K(eps, eps + omega_n) [P_B(eps + omega_n) - P_B(eps)].

    ``k_grid(eps, eps')`` callable returning K (rad/s)^-2 on arrays; ``energy_grid``
    uniform lab-frame grid (rad/s); ``bias_fn(eps)`` = P_B."""
    e = np.asarray(energy_grid, dtype=float)
    wn = nuclei.omega_n
    integrand = k_grid(e, e + wn) * (bias_fn(e + wn) - bias_fn(e))
    integral = np.trapezoid(integrand, e)
    return float(np.pi * nuclei.A0 ** 2 * nuclei.t1n / (8.0 * nuclei.per_electron) * integral)


def thermal_polarization(beta: float, omega_n: float) -> float:
    """tanh(beta omega_n / 2): Eq. (20) without microwaves (h(w) - h(-w) = tanh)."""
    return float(detailed_balance(omega_n, beta) - detailed_balance(-omega_n, beta))
