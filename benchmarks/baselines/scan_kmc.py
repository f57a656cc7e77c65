"""Linear-scan kinetic Monte Carlo of the cross-effect dynamics: the baseline of
``benchmarks/bench_cross_effect.py``, not part of the package.

It is the first, rejection-free event loop of :func:`dnpsim.dynamics.cross_effect_kmc.kmc`
(Eq. (4) of Karabanov et al. 2018 with the local rates of
:mod:`dnpsim.dynamics.zeeman_local_rates`): the rates of every nuclear process are
cached for the four electron configurations, an event is selected by a linear scan over
them, and after each nuclear event the SE/CE rates of all N nuclei are recomputed (they
depend on the total hyperfine fields hA), O(N + P) per event.  It samples the same
Markov process as the package's sum-tree kernel, from the same initial states for the
same seeds (:func:`~dnpsim.dynamics.cross_effect_kmc.draw_initial_state`), and reports
the same :class:`~dnpsim.dynamics.cross_effect_kmc.KMCResult` (``proposals`` =
``events``: nothing is rejected).
"""

from __future__ import annotations

import numba
import numpy as np

from dnpsim.dynamics.cross_effect_kmc import (KMCResult, draw_initial_state, flip_electrons, kernel_inputs,
                                              record_until, trajectory_result)
from dnpsim.dynamics.zeeman_local_rates import electron_rates, nucleus_rates, pair_rate
from dnpsim.models.cross_effect import CrossEffectModel
from dnpsim.solvers.kmc import exponential_wait, uniform


@numba.njit(cache=True)
def _recompute_nuclei(bits, hd, hA1, hA2, A, Bre, Bim, par, Rn, Tn, out4):
    """Rates Rn (4, N) s^-1 of every nucleus's processes for each electron configuration
    c = bit 0 + 2 bit 1, and their totals Tn (4,), at the fields hA1, hA2, hd (rad/s)."""
    N = Rn.shape[1]
    for c in range(4):
        s1 = (c & 1) - 0.5
        s2 = ((c >> 1) & 1) - 0.5
        tot = 0.0
        for k in range(N):
            nucleus_rates(k, s1, s2, bits[2 + k] - 0.5, hd[k], hA1, hA2, A, Bre, Bim, par, out4)
            r = out4[0] + out4[1] + out4[2] + out4[3]
            Rn[c, k] = r
            tot += r
        Tn[c] = tot


@numba.njit(cache=True)
def _pair_update(p, bits, hd, pk, pl, pd, A, par, Rp, Tp):
    """Recompute the flip-flop rates Rp[:, p] (s^-1) of pair p for the four electron
    configurations, updating the totals Tp (4,) incrementally."""
    k = pk[p]
    l = pl[p]
    for c in range(4):
        s1 = (c & 1) - 0.5
        s2 = ((c >> 1) & 1) - 0.5
        r = pair_rate(k, l, pd[p], s1, s2, bits[2 + k] - 0.5, bits[2 + l] - 0.5, hd[k], hd[l], A, par)
        Tp[c] += r - Rp[c, p]
        Rp[c, p] = r


@numba.njit(cache=True)
def _flip_nucleus(k, bits, hd, hA, A, ptr, pid, nbr, pd, pk, pl, par, Rp, Tp):
    """Flip nucleus k: update fields and the rates of every pair whose energy changed."""
    ds = -2.0 * (bits[2 + k] - 0.5)
    bits[2 + k] = 1 - bits[2 + k]
    hA[0] += A[0, k] * ds
    hA[1] += A[1, k] * ds
    for q in range(ptr[k], ptr[k + 1]):
        hd[nbr[q]] += 2.0 * pd[pid[q]] * ds
    for q in range(ptr[k], ptr[k + 1]):
        _pair_update(pid[q], bits, hd, pk, pl, pd, A, par, Rp, Tp)
        m = nbr[q]
        for q2 in range(ptr[m], ptr[m + 1]):
            if pid[q2] != pid[q]:
                _pair_update(pid[q2], bits, hd, pk, pl, pd, A, par, Rp, Tp)



@numba.njit(cache=True, parallel=True)
def _scan_kernel(times, seeds, n_chunks, p_thermal, A, Bre, Bim, dmat_ptr, pid, nbr, pk, pl, pd, par,
                 max_events):
    """Event loop of :func:`scan_kmc`; arguments as for the tree kernel of
    :mod:`dnpsim.dynamics.cross_effect_kmc` (without partners and windows).  Returns the
    summed spins (n_chunks, G, 2 + N), the events and the truncated trajectories per
    chunk."""
    n_traj = seeds.size
    N = A.shape[1]
    P = pk.size
    G = times.size
    acc = np.zeros((n_chunks, G, 2 + N))
    events = np.zeros(n_chunks, np.int64)
    truncated = np.zeros(n_chunks, np.int64)
    rng = seeds.copy()
    for chunk in numba.prange(n_chunks):
        bits = np.zeros(2 + N, np.int64)
        hd = np.zeros(N)
        hA = np.zeros(2)
        Rn = np.zeros((4, N))
        Tn = np.zeros(4)
        Rp = np.zeros((4, P))
        Tp = np.zeros(4)
        out3 = np.zeros(3)
        out4 = np.zeros(4)
        for tr in range(chunk, n_traj, n_chunks):
            # initial state: thermal electrons (down with probability (1 + p)/2), nuclei
            # unpolarized, as rho_th of the paper
            draw_initial_state(bits, hd, hA, A, pk, pl, pd, p_thermal, rng, tr)
            for c in range(4):
                Tp[c] = 0.0
                for p in range(P):
                    Rp[c, p] = 0.0
            for p in range(P):
                _pair_update(p, bits, hd, pk, pl, pd, A, par, Rp, Tp)
            _recompute_nuclei(bits, hd, hA[0], hA[1], A, Bre, Bim, par, Rn, Tn, out4)
            t = 0.0
            g = 0
            n_ev = 0
            since_resum = 0
            while g < G:
                c = bits[0] + 2 * bits[1]
                electron_rates(bits[0] - 0.5, bits[1] - 0.5, hA[0], hA[1], par, out3)
                te = out3[0] + out3[1] + out3[2]
                total = te + Tn[c] + max(Tp[c], 0.0)
                t_new = t + exponential_wait(rng, tr, total) if total > 0 else np.inf
                g = record_until(t_new, times, g, bits, acc, chunk)
                if g >= G:
                    break
                if n_ev >= max_events:
                    truncated[chunk] += 1
                    break
                t = t_new
                n_ev += 1
                x = uniform(rng, tr) * total
                if x < te:
                    flip_electrons(x, out3, bits)
                    continue   # nuclear rates per electron configuration are cached
                x -= te
                if x < Tn[c]:
                    k = N - 1
                    for kk in range(N):
                        if x < Rn[c, kk]:
                            k = kk
                            break
                        x -= Rn[c, kk]
                    nucleus_rates(k, bits[0] - 0.5, bits[1] - 0.5, bits[2 + k] - 0.5, hd[k], hA[0], hA[1], A,
                                  Bre, Bim, par, out4)
                    y = uniform(rng, tr) * (out4[0] + out4[1] + out4[2] + out4[3])
                    if y >= out4[0]:
                        if y < out4[0] + out4[1]:
                            bits[0] = 1 - bits[0]
                        elif y < out4[0] + out4[1] + out4[2]:
                            bits[1] = 1 - bits[1]
                        else:
                            bits[0] = 1 - bits[0]
                            bits[1] = 1 - bits[1]
                    _flip_nucleus(k, bits, hd, hA, A, dmat_ptr, pid, nbr, pd, pk, pl, par, Rp, Tp)
                else:
                    x -= Tn[c]
                    p = P - 1
                    for pp in range(P):
                        if x < Rp[c, pp]:
                            p = pp
                            break
                        x -= Rp[c, pp]
                    _flip_nucleus(pk[p], bits, hd, hA, A, dmat_ptr, pid, nbr, pd, pk, pl, par, Rp, Tp)
                    _flip_nucleus(pl[p], bits, hd, hA, A, dmat_ptr, pid, nbr, pd, pk, pl, par, Rp, Tp)
                # SE / CE rates depend on the global hyperfine fields hA: refresh all nuclei
                _recompute_nuclei(bits, hd, hA[0], hA[1], A, Bre, Bim, par, Rn, Tn, out4)
                since_resum += 1
                if since_resum >= 4096:   # incremental pair totals drift by round-off
                    since_resum = 0
                    for cc in range(4):
                        s = 0.0
                        for pp in range(P):
                            s += Rp[cc, pp]
                        Tp[cc] = s
            events[chunk] += n_ev
    return acc, events, truncated


def scan_kmc(model: CrossEffectModel, times, trajectories: int, rng: np.random.Generator, *,
             cutoff: float | None = None, min_pair_coupling: float = 0.0, threads: int | None = None,
             max_events: int = 10**9) -> KMCResult:
    """Kinetic Monte Carlo of Eq. (4) by the linear-scan kernel (module docstring); the
    arguments and the result are those of :func:`dnpsim.dynamics.cross_effect_kmc.kmc`
    (``times`` (T,) s, frequencies rad/s), without its thinning windows.  ``max_events``
    bounds the events per trajectory."""
    inp = kernel_inputs(model, times, trajectories, rng, cutoff=cutoff, min_pair_coupling=min_pair_coupling,
                        threads=threads)
    pk, pl, pd, ptr, pid, nbr = inp.pairs
    acc, events, truncated = _scan_kernel(inp.times, inp.seeds, inp.n_chunks, inp.p_thermal, inp.A, inp.Bre, inp.Bim,
                                          ptr, pid, nbr, pk, pl, pd, inp.par, max_events)
    n_events = int(events.sum())
    return trajectory_result(inp, acc, truncated, max_events, n_events, n_events, {})
