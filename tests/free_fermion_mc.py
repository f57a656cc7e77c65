"""Monte Carlo of the full free-fermion + nuclei rate equations (2018 paper, Eqs. (10),
(14), (16), (17)) without the factorization p_{A,mu} = p_A p_mu (the paper's future work):
the reference of ``tests/test_anderson_theory.py`` for the factorized theory (Eq. (20))
and for where the factorization fails.

State: the occupations n_alpha of the N single-particle modes and the states s_j = +-1
(up/down) of one core nucleus per site j (Appendix C model: no nuclear dipolar coupling;
each nucleus has its own leakage, Eq. (17) with rate h(Delta E)/T1n as in Eq. (19)).
Events (all with the rates of the brute-force reference in tests/test_anderson_theory.py):

* electron flip of mode alpha (Eqs. (10a)-(10b)): fill / empty rates of
  :func:`dnpsim.dynamics.free_fermion.mode_rates`;
* ISS (Eq. (14)): a fermion hops alpha -> beta (n_a = 1, n_b = 0) while nucleus j flips,
  rate A_j^2 T2n / 4 |phi_aj|^2 |phi_bj|^2 L(eps_a - eps_b - d omega_n), d = +1 for
  down -> up (nuclear energy -omega_n I_z released to the electrons), d = -1 up -> down;
* polarization loss (Eq. (16)): nucleus j flips, rate A_j^2 T2n/4 m_j^2 L(omega_n),
  m_j = sum_a |phi_aj|^2 (n_a - 1/2);
* leakage (Eq. (17)): h(+-omega_n)/T1n.

Algorithm: uniformization with thinning.  Every event class has a state-independent
upper bound (drop the occupation / nuclear-state factors); a proposal is drawn from
fixed alias tables (modes; mode pairs (a, b, d) with weight sum_j A_j^2 w_aj w_bj L;
sites) and accepted with probability rate / bound.  The chain is exact (it samples the
continuous-time Markov process of the full rate equations) and each step costs O(1)
except the rare accepted ISS / loss proposals (O(N_sites) to pick j or evaluate m_j):
the cost per unit physical time is linear in the system size, after an O(N^2) setup of
the pair table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from dnpsim.dynamics.free_fermion import lorentzian, mode_rates
from dnpsim.dynamics.rates import Environment
from dnpsim.units import detailed_balance


def alias_table(weights: np.ndarray):
    """Walker/Vose alias table (prob, alias) for sampling index i with prob ~ weights[i]."""
    w = np.asarray(weights, dtype=float).ravel()
    n = w.size
    total = w.sum()
    if not total > 0:
        return np.ones(n), np.arange(n)
    p = w * n / total
    prob = np.zeros(n)
    alias = np.arange(n)
    small = list(np.where(p < 1.0)[0])
    large = list(np.where(p >= 1.0)[0])
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s] = p[s]
        alias[s] = g
        p[g] = p[g] + p[s] - 1.0
        (small if p[g] < 1.0 else large).append(g)
    for i in small + large:
        prob[i] = 1.0
    return prob, alias


@dataclass(frozen=True)
class MCResult:
    """Time averages over the sampled trajectory after burn-in.

    nuclear_polarization (N_sites,) <s_j>; its standard error from batch means;
    mode_bias (N,) <2 n_alpha - 1> (compare P_B, Eq. (11)); time (s); steps;
    accepted events by class (electron, iss, loss, leakage)."""

    nuclear_polarization: np.ndarray
    nuclear_polarization_error: np.ndarray
    mode_bias: np.ndarray
    time: float
    steps: int
    accepted: np.ndarray


@njit(cache=True)
def _draw(prob, alias, u1, u2):
    i = int(u1 * prob.size)
    if i >= prob.size:
        i = prob.size - 1
    return i if u2 < prob[i] else alias[i]


@njit(cache=True)
def _run(n, s, fill, empty, e_prob, e_alias, e_bound, pair_prob, pair_alias, pair_w, n_modes, a2w, t2n,
         omega_n, pl_prob, pl_alias, pl_bound, pl_l, leak_up, leak_down, n_sites, class_p, total_rate,
         steps, burn, n_batches, rng, weights):
    """The uniformized chain of :func:`simulate` from the state (n, s), every draw from
    ``rng`` (a ``numpy.random.Generator``, advanced in place)."""
    # Time integrals are accumulated lazily (on each change and at batch boundaries),
    # so a step costs O(1) apart from the rare accepted ISS / loss proposals.
    acc = np.zeros(4, np.int64)
    int_s = np.zeros(n_sites)
    int_n = np.zeros(n_modes)
    last_s = np.zeros(n_sites)
    last_n = np.zeros(n_modes)
    batch = np.zeros((n_batches, n_sites))
    prev = np.zeros(n_sites)
    t = 0.0
    t_start = 0.0
    per_batch = max(1, (steps - burn) // n_batches)
    leak_bound = max(leak_up, leak_down)
    b = 0
    for step in range(steps):
        if step == burn:  # start the averages
            t_start = t
            last_s[:] = t
            last_n[:] = t
        elif step > burn and (step - burn) % per_batch == 0 and b < n_batches - 1:
            for j in range(n_sites):
                int_s[j] += s[j] * (t - last_s[j])
                last_s[j] = t
                batch[b, j] = int_s[j] - prev[j]
                prev[j] = int_s[j]
            b += 1
        t += -np.log(1.0 - rng.random()) / total_rate
        u = rng.random()
        if u < class_p[0]:  # electron flip
            a = _draw(e_prob, e_alias, rng.random(), rng.random())
            rate = empty[a] if n[a] == 1 else fill[a]
            if rng.random() * e_bound[a] < rate:
                if step >= burn:
                    int_n[a] += n[a] * (t - last_n[a])
                    last_n[a] = t
                n[a] = 1 - n[a]
                acc[0] += 1
        elif u < class_p[1]:  # ISS
            k = _draw(pair_prob, pair_alias, rng.random(), rng.random())
            d_index = k // (n_modes * n_modes)
            r = k % (n_modes * n_modes)
            a = r // n_modes
            bb = r % n_modes
            if n[a] == 1 and n[bb] == 0:
                d = 1 if d_index == 0 else -1
                # pick nucleus j with probability A_j^2 w_aj w_bj / sum_j (...)
                target = rng.random() * pair_w[a, bb]
                acc_w = 0.0
                j = n_sites - 1
                for jj in range(n_sites):
                    acc_w += a2w[jj] * weights[jj, a] * weights[jj, bb]
                    if acc_w > target:
                        j = jj
                        break
                if s[j] == -d:  # d = +1 (down -> up) needs a down nucleus
                    if step >= burn:
                        int_s[j] += s[j] * (t - last_s[j])
                        last_s[j] = t
                        int_n[a] += n[a] * (t - last_n[a])
                        last_n[a] = t
                        int_n[bb] += n[bb] * (t - last_n[bb])
                        last_n[bb] = t
                    s[j] = d
                    n[a] = 0
                    n[bb] = 1
                    acc[1] += 1
        elif u < class_p[2]:  # polarization loss
            j = _draw(pl_prob, pl_alias, rng.random(), rng.random())
            m = 0.0
            for a in range(n_modes):
                m += weights[j, a] * (n[a] - 0.5)
            if rng.random() < 4.0 * m * m:
                if step >= burn:
                    int_s[j] += s[j] * (t - last_s[j])
                    last_s[j] = t
                s[j] = -s[j]
                acc[2] += 1
        else:  # leakage
            j = int(rng.random() * n_sites)
            if j >= n_sites:
                j = n_sites - 1
            rate = leak_up if s[j] == -1 else leak_down
            if rng.random() * leak_bound < rate:
                if step >= burn:
                    int_s[j] += s[j] * (t - last_s[j])
                    last_s[j] = t
                s[j] = -s[j]
                acc[3] += 1
    for j in range(n_sites):
        int_s[j] += s[j] * (t - last_s[j])
        batch[b, j] = int_s[j] - prev[j]
    for a in range(n_modes):
        int_n[a] += n[a] * (t - last_n[a])
    t_total = t - t_start
    return int_s / t_total, batch, int_n / t_total, t_total, acc


def simulate(weights, lab_energies, hyperfine, omega_n: float, t2n: float, t1n: float, env: Environment, *,
             steps: int, burn: int, rng: np.random.Generator, n_batches: int = 20) -> MCResult:
    """Sample the full rate equations (module docstring) for ``steps`` uniformized steps.

    weights (N_sites, N_modes) |phi|^2; lab_energies (N,) rad/s; hyperfine (N_sites,) A_j
    in rad/s (0 = no core nucleus); omega_n, t2n, t1n as in Eqs. (14)-(17).  The initial
    state is drawn from the factorized stationary state (Eq. (12), nuclei unpolarized);
    ``rng`` draws it and then every step of the chain.
    Memory O(N^2) for the pair table; for N up to a few thousand modes."""
    w = np.ascontiguousarray(weights, dtype=float)
    e = np.asarray(lab_energies, dtype=float)
    a2 = np.asarray(hyperfine, dtype=float) ** 2
    n_sites, n_modes = w.shape
    fill, empty = mode_rates(e, env)
    e_bound = np.maximum(fill, empty)
    e_prob, e_alias = alias_table(e_bound)
    # pair weights sum_j A_j^2 w_aj w_bj (bound on ISS with the occupation factors dropped)
    pair_w = (w * a2[:, None]).T @ w
    diff = e[:, None] - e[None, :]
    iss = np.stack([pair_w * lorentzian(diff - omega_n, t2n), pair_w * lorentzian(diff + omega_n, t2n)])
    iss *= t2n / 4.0
    np.einsum("kii->ki", iss)[:] = 0.0  # a = b is no hop
    pair_prob, pair_alias = alias_table(iss)
    pl_l = lorentzian(omega_n, t2n)
    pl_rates = a2 * t2n / 4.0 * 0.25 * pl_l
    pl_prob, pl_alias = alias_table(pl_rates)
    leak_up = detailed_balance(omega_n, env.beta) / t1n
    leak_down = detailed_balance(-omega_n, env.beta) / t1n
    bounds = np.array([e_bound.sum(), iss.sum(), pl_rates.sum(), n_sites * max(leak_up, leak_down)])
    total = bounds.sum()
    class_p = np.cumsum(bounds) / total
    p_b = (fill - empty) / (fill + empty)
    n0 = (rng.random(n_modes) < (1 + p_b) / 2).astype(np.int64)
    s0 = np.where(rng.random(n_sites) < 0.5, 1, -1).astype(np.int64)
    ps, batch, nbar, t_total, acc = _run(n0, s0, fill, empty, e_prob, e_alias, e_bound, pair_prob, pair_alias,
                                         pair_w, n_modes, a2, t2n, omega_n, pl_prob, pl_alias, 1.0, pl_l, leak_up,
                                         leak_down, n_sites, class_p, total, steps, burn, n_batches, rng, w)
    # batch means (batches of equal step counts; per-batch time ~ t_total / n_batches)
    per = batch / (t_total / n_batches)
    err = per.std(axis=0, ddof=1) / np.sqrt(n_batches)
    return MCResult(ps, err, 2 * nbar - 1, t_total, steps, acc)
