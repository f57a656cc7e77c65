"""Kinetic Monte Carlo of the Zeeman-projected cross-effect dynamics (Eq. (4) of
Karabanov et al. 2018) for hundreds to thousands of nuclei: trajectories of the Markov
process whose rates are the local rates of :mod:`dnpsim.dynamics.zeeman_local_rates`,
from the paper's initial state (thermal electrons, unpolarized nuclei), averaged to
polarizations with standard errors (:func:`kmc`, :class:`KMCResult`).  The
deterministic counterpart, for small n, is the rate equation of the same rates
(:func:`dnpsim.dynamics.zeeman_local_rates.local_rates`,
:func:`dnpsim.dynamics.zeeman_rate_equation.rate_evolve`).

Event loop (:func:`_kmc_tree_kernel`, numba, trajectories in parallel): O(log n)
selection and O(degree) work per nuclear flip.  Every nuclear process (single flip +
SE + CE of nucleus k; flip-flop of pair p) gets a leaf in a sum tree
(:mod:`dnpsim.solvers.kmc`) holding an *upper bound* of its rate
(:mod:`dnpsim.dynamics.kmc_bounds`, valid over windows of the fields).  A proposal drawn
from the tree is accepted with probability true_rate / bound, the true rate evaluated
for that one process in the current state by the exact local formulas
(:func:`~dnpsim.dynamics.zeeman_local_rates.nucleus_rates`,
:func:`~dnpsim.dynamics.zeeman_local_rates.pair_rate`).  This is thinning of a Poisson
process with a dominating rate, an exact sample of the same process: a rejected
proposal changes nothing and the clock runs at the total of the bounds.  Electron
processes (3 rates, O(1)) are drawn exactly.  A nuclear flip does not touch the other
N - 1 nucleus leaves unless the hyperfine fields hA leave their window (then all N are
recomputed, O(N)); the leaf of a partner pair (one nucleus is the other's most strongly
coupled neighbour) is set to zero while its spins are parallel, since a close pair stuck
parallel would otherwise draw proposals at its full rate, all rejected.

The pieces any event loop over these rates needs (:func:`kernel_inputs`,
:func:`draw_initial_state`, :func:`record_until`, :func:`flip_electrons`,
:func:`trajectory_result`) are public, so that a different kernel (the linear-scan
baseline of ``benchmarks/bench_cross_effect.py``) samples the same initial states from
the same seeds and reports the same :class:`KMCResult`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numba
import numpy as np

from dnpsim import jit  # noqa: F401  (says so on stderr while kernels compile)
from dnpsim.dynamics.kmc_bounds import nucleus_bound, pair_bound, reduced_field, strongest_partners
from dnpsim.dynamics.zeeman_local_rates import (electron_rates, nuclear_pairs, nucleus_rates, packed_parameters,
                                                pair_rate)
from dnpsim.errors import ConvergenceError, SpecError
from dnpsim.models.cross_effect import CrossEffectModel
from dnpsim.solvers.kmc import (exponential_wait, interleaved_mean, sumtree_build, sumtree_empty, sumtree_leaf,
                                sumtree_sample, sumtree_total, sumtree_update, trajectory_seeds, uniform)
from dnpsim.units import time_grid

# indices of the per-chunk counters of the tree kernel
(_ST_ELECTRON, _ST_SINGLE, _ST_SE, _ST_CE, _ST_PAIR, _ST_REJ_N, _ST_REJ_P, _ST_REFRESH, _ST_RECENTER,
 _ST_VIOLATION, _ST_SINGULAR) = range(11)
_N_ST = 11
_STAT_NAMES = ("electron", "nuclear_flip", "solid_effect", "cross_effect", "flip_flop", "rejected_nuclear",
               "rejected_pair", "hyperfine_window_refreshes", "dipolar_window_recentres", "bound_violations",
               "singular_bounds")


@numba.njit(cache=True, inline="always")
def record_until(t_new, times, g, bits, acc, chunk):
    """Add the current spin state (bits - 1/2; ``bits`` (2 + N,) int64) to ``acc[chunk]``
    (``acc`` (n_chunks, T, 2 + N)) at every observation time ``times[g:]`` (s) before
    the next event time ``t_new`` (s); return the next observation index."""
    while g < times.size and times[g] < t_new:
        for i in range(bits.size):
            acc[chunk, g, i] += bits[i] - 0.5
        g += 1
    return g


@numba.njit(cache=True, inline="always")
def flip_electrons(x, out3, bits):
    """Execute the electron event selected by ``x`` in [0, sum(out3)): flip of
    electron 1, of electron 2, or their flip-flop (``out3`` (3,) the rates of
    :func:`~dnpsim.dynamics.zeeman_local_rates.electron_rates`, s^-1)."""
    if x < out3[0]:
        bits[0] = 1 - bits[0]
    elif x < out3[0] + out3[1]:
        bits[1] = 1 - bits[1]
    else:
        bits[0] = 1 - bits[0]
        bits[1] = 1 - bits[1]


@numba.njit(cache=True)
def draw_initial_state(bits, hd, hA, A, pk, pl, pd, p_thermal, rng, tr):
    """Draw trajectory ``tr``'s initial state into ``bits`` (2 + N,) int64 from its
    generator state ``rng[tr]`` (the paper's rho_th: thermal electrons, down with
    probability (1 + p)/2, p = ``p_thermal``; nuclei unpolarized) and set the
    hyperfine fields hA (2,) on the electrons and the dipolar fields hd (N,) on the
    nuclei (rad/s) to match.  Every event loop draws it in the same way, the first draws
    of the trajectory's stream, so kernels given the same seeds start from the same states."""
    N = A.shape[1]
    for i in range(2):
        bits[i] = 0 if uniform(rng, tr) < 0.5 * (1.0 + p_thermal) else 1
    for k in range(N):
        bits[2 + k] = 1 if uniform(rng, tr) < 0.5 else 0
    hA[0] = 0.0
    hA[1] = 0.0
    for k in range(N):
        hd[k] = 0.0
        hA[0] += A[0, k] * (bits[2 + k] - 0.5)
        hA[1] += A[1, k] * (bits[2 + k] - 0.5)
    for p in range(pk.size):
        hd[pk[p]] += 2.0 * pd[p] * (bits[2 + pl[p]] - 0.5)
        hd[pl[p]] += 2.0 * pd[p] * (bits[2 + pk[p]] - 0.5)


@numba.njit(cache=True, inline="always")
def _nucleus_leaf(k, bits, hdn_w, hA_w, A, Bre, Bim, par, ncache):
    """Thinning bound of nucleus k in its current spin state (s^-1); hdn_w (3, N) and
    hA_w (3, 2) hold lo, hi, centre of the dipolar-field windows of the nucleus bounds
    and of the hyperfine windows.  ``ncache`` (2, N) keeps the bound of either spin
    state for the current windows (nan = not computed; callers invalidate it when a
    window moves), so a nucleus that flips back and forth costs O(1)."""
    b = bits[2 + k]
    v = ncache[b, k]
    if np.isnan(v):
        v = nucleus_bound(k, b - 0.5, hdn_w[0, k], hdn_w[1, k], hdn_w[2, k], hA_w[0, 0], hA_w[1, 0],
                          hA_w[2, 0], hA_w[0, 1], hA_w[1, 1], hA_w[2, 1], A, Bre, Bim, par)
        ncache[b, k] = v
    return v


@numba.njit(cache=True, inline="always")
def _pair_leaf(p, hsp_w, pk, pl, pd, partner, partner_d, A, par):
    """Thinning bound of pair p (s^-1) for the reduced-field windows hsp_w (3, N)."""
    k = pk[p]
    l = pl[p]
    return pair_bound(k, l, pd[p], hsp_w[0, k], hsp_w[1, k], hsp_w[0, l], hsp_w[1, l], partner, partner_d, A, par)


@numba.njit(cache=True, inline="always")
def _set_window(w, i, value, half_width):
    """Window i of ``w`` (3, n): lo, hi, centre = value -+ half_width, value (rad/s)."""
    w[0, i] = value - half_width
    w[1, i] = value + half_width
    w[2, i] = value


@numba.njit(cache=True)
def _refresh_nuclei(bits, hA, win_hA, hA_w, hdn_w, A, Bre, Bim, par, ntree, nvals, ncache):
    """Recentre the hyperfine windows on hA (half-width ``win_hA``, rad/s) and rebuild the
    nucleus tree.  The width is halved (down to zero) while a bound is not finite;
    returns False if even the zero-width window gives a non-finite bound."""
    N = nvals.size
    w = win_hA
    for attempt in range(64):
        if attempt == 63:
            w = 0.0
        for j in range(2):
            _set_window(hA_w, j, hA[j], w)
        ncache[:, :] = np.nan
        ok = True
        for k in range(N):
            v = _nucleus_leaf(k, bits, hdn_w, hA_w, A, Bre, Bim, par, ncache)
            if not np.isfinite(v):
                ok = False
                break
            nvals[k] = v
        if ok:
            sumtree_build(ntree, nvals)
            return True
        w *= 0.5
    return False


@numba.njit(cache=True, inline="always")
def _tree_flip(k, l, tick, model, state):
    """Flip nucleus k (and l too when l >= 0: a flip-flop), update the fields and
    restore the thinning invariants: the nucleus leaves of the flipped nuclei (spin
    changed; O(1) from ``ncache`` (2, N) unless a window moved), of neighbours whose
    dipolar field left the window of their nucleus bound, the pair leaves of
    neighbours whose reduced field h* left its window (each window recentred), and
    every nucleus leaf when hA left its window.  Pair bounds ``pbound`` (P,) do not
    depend on spins; the leaf of a partner pair (``pflag`` (P,) int64 set: one nucleus
    is the other's most strongly coupled neighbour) is zero while its spins are parallel
    (so a close pair stuck parallel draws no proposals) and is switched here.
    ``stamp`` (P,) int64 and ``tick`` avoid evaluating a pair twice; ``work_n``,
    ``work_p`` (N,) int64 are scratch lists of recentred nuclei.  O(degree) plus
    O(degree log n) per recentred window; ``wins`` = (hyperfine, dipolar) window
    half-widths (rad/s).  ``model`` and ``state`` are the tuples built in
    :func:`_kmc_tree_kernel` (constant arrays; per-trajectory arrays).  Returns False on
    a singular bound."""
    A, Bre, Bim, ptr, pid, nbr, pk, pl, pd, partner, partner_d, pflag, par, wins = model
    bits, hd, hA, hA_w, hdn_w, hsp_w, ntree, nvals, ptree, pbound, stamp, work_n, work_p, ncache, stats = state
    win_hA = wins[0]
    win_hd = wins[1]
    n_flip = 1 if l < 0 else 2
    for i in range(n_flip):
        x = k if i == 0 else l
        ds = -2.0 * (bits[2 + x] - 0.5)
        bits[2 + x] = 1 - bits[2 + x]
        hA[0] += A[0, x] * ds
        hA[1] += A[1, x] * ds
        for q in range(ptr[x], ptr[x + 1]):
            hd[nbr[q]] += 2.0 * pd[pid[q]] * ds
    refresh = hA[0] < hA_w[0, 0] or hA[0] > hA_w[1, 0] or hA[1] < hA_w[0, 1] or hA[1] > hA_w[1, 1]
    # first recentre every window that was left, then evaluate bounds (a pair between two
    # recentred neighbours needs both new windows)
    n_n = 0
    n_p = 0
    for i in range(n_flip):
        x = k if i == 0 else l
        for q in range(ptr[x], ptr[x + 1]):
            m = nbr[q]
            if hd[m] < hdn_w[0, m] or hd[m] > hdn_w[1, m]:
                stats[_ST_RECENTER] += 1
                _set_window(hdn_w, m, hd[m], win_hA)
                ncache[0, m] = np.nan
                ncache[1, m] = np.nan
                work_n[n_n] = m
                n_n += 1
            h = reduced_field(m, hd, bits, partner, partner_d)
            if h < hsp_w[0, m] or h > hsp_w[1, m]:
                stats[_ST_RECENTER] += 1
                _set_window(hsp_w, m, h, win_hd)
                work_p[n_p] = m
                n_p += 1
    if not refresh:
        for i in range(n_n):
            m = work_n[i]
            if m == k or m == l:
                continue
            v = _nucleus_leaf(m, bits, hdn_w, hA_w, A, Bre, Bim, par, ncache)
            if np.isfinite(v):
                nvals[m] = v
                sumtree_update(ntree, m, v)
            else:
                refresh = True
                break
    for i in range(n_p):
        m = work_p[i]
        for q2 in range(ptr[m], ptr[m + 1]):
            p = pid[q2]
            if stamp[p] != tick:
                stamp[p] = tick
                v = _pair_leaf(p, hsp_w, pk, pl, pd, partner, partner_d, A, par)
                pbound[p] = v
                if pflag[p] and bits[2 + pk[p]] == bits[2 + pl[p]]:
                    v = 0.0
                sumtree_update(ptree, p, v)
    for i in range(n_flip):
        x = k if i == 0 else l
        for q in range(ptr[x], ptr[x + 1]):
            p = pid[q]
            if pflag[p]:
                sumtree_update(ptree, p, 0.0 if bits[2 + pk[p]] == bits[2 + pl[p]] else pbound[p])
    if not refresh:
        for i in range(n_flip):
            x = k if i == 0 else l
            v = _nucleus_leaf(x, bits, hdn_w, hA_w, A, Bre, Bim, par, ncache)
            if np.isfinite(v):
                nvals[x] = v
                sumtree_update(ntree, x, v)
            else:
                refresh = True
    if refresh:
        stats[_ST_REFRESH] += 1
        if not _refresh_nuclei(bits, hA, win_hA, hA_w, hdn_w, A, Bre, Bim, par, ntree, nvals, ncache):
            return False
    return True


@numba.njit(cache=True, parallel=True)
def _kmc_tree_kernel(times, seeds, n_chunks, p_thermal, A, Bre, Bim, ptr, pid, nbr, pk, pl, pd, partner, partner_d, pflag,
                     par, win_hA, win_hd, max_events):
    """Event loop of :func:`kmc`: sum-tree selection of nuclear processes with thinning
    (module docstring), electron processes exact.

    times (G,) s; seeds (n_traj,) uint64; A, Bre, Bim (2, N) rad/s; pairs as from
    :func:`nuclear_pairs`, partner (N,) int64 and partner_d (N,) rad/s from
    :func:`strongest_partners`, pflag (P,) int64 (partner pairs); par from
    :func:`packed_parameters`; win_hA, win_hd window half-widths
    (rad/s); max_events bounds the proposals per trajectory.  Returns the summed
    spins (n_chunks, G, 2 + N) (s = +-1/2), the counters (n_chunks, _N_ST) and the
    number of truncated trajectories per chunk."""
    n_traj = seeds.size
    N = A.shape[1]
    P = pk.size
    G = times.size
    acc = np.zeros((n_chunks, G, 2 + N))
    stats = np.zeros((n_chunks, _N_ST), np.int64)
    truncated = np.zeros(n_chunks, np.int64)
    rng = seeds.copy()
    wins = np.array([win_hA, win_hd])
    for chunk in numba.prange(n_chunks):
        st = stats[chunk]
        bits = np.zeros(2 + N, np.int64)
        hd = np.zeros(N)
        hA = np.zeros(2)
        hA_w = np.zeros((3, 2))
        hdn_w = np.zeros((3, N))
        hsp_w = np.zeros((3, N))
        stamp = np.zeros(P, np.int64)
        tick = 0
        ncache = np.full((2, N), np.nan)
        work_n = np.zeros(N, np.int64)
        work_p = np.zeros(N, np.int64)
        ntree = sumtree_empty(N)
        nvals = np.zeros(N)
        ptree = sumtree_empty(P)
        pvals = np.zeros(P)
        pbound = np.zeros(P)
        out3 = np.zeros(3)
        out4 = np.zeros(4)
        model = (A, Bre, Bim, ptr, pid, nbr, pk, pl, pd, partner, partner_d, pflag, par, wins)
        state = (bits, hd, hA, hA_w, hdn_w, hsp_w, ntree, nvals, ptree, pbound, stamp, work_n, work_p, ncache, st)
        for tr in range(chunk, n_traj, n_chunks):
            draw_initial_state(bits, hd, hA, A, pk, pl, pd, p_thermal, rng, tr)
            for k in range(N):
                _set_window(hdn_w, k, hd[k], win_hA)
                _set_window(hsp_w, k, reduced_field(k, hd, bits, partner, partner_d), win_hd)
            for p in range(P):
                pbound[p] = _pair_leaf(p, hsp_w, pk, pl, pd, partner, partner_d, A, par)
                pvals[p] = 0.0 if pflag[p] and bits[2 + pk[p]] == bits[2 + pl[p]] else pbound[p]
            sumtree_build(ptree, pvals)
            ok = _refresh_nuclei(bits, hA, win_hA, hA_w, hdn_w, A, Bre, Bim, par, ntree, nvals, ncache)
            t = 0.0
            g = 0
            n_prop = 0
            while ok and g < G:
                s1 = bits[0] - 0.5
                s2 = bits[1] - 0.5
                electron_rates(s1, s2, hA[0], hA[1], par, out3)
                te = out3[0] + out3[1] + out3[2]
                tn = sumtree_total(ntree)
                tp = sumtree_total(ptree)
                total = te + tn + tp
                t_new = t + exponential_wait(rng, tr, total) if total > 0 else np.inf
                g = record_until(t_new, times, g, bits, acc, chunk)
                if g >= G:
                    break
                if n_prop >= max_events:
                    truncated[chunk] += 1
                    break
                t = t_new
                n_prop += 1
                x = uniform(rng, tr) * total
                if x < te:
                    st[_ST_ELECTRON] += 1
                    flip_electrons(x, out3, bits)
                    continue   # nuclear bounds hold for every electron configuration
                x -= te
                if x < tn:
                    k = sumtree_sample(ntree, x)
                    nucleus_rates(k, s1, s2, bits[2 + k] - 0.5, hd[k], hA[0], hA[1], A, Bre, Bim, par, out4)
                    r = out4[0] + out4[1] + out4[2] + out4[3]
                    bound = sumtree_leaf(ntree, k)
                    if r > bound:
                        st[_ST_VIOLATION] += 1
                    y = uniform(rng, tr) * bound
                    if y >= r:
                        st[_ST_REJ_N] += 1
                        continue
                    if y < out4[0]:
                        st[_ST_SINGLE] += 1
                    elif y < out4[0] + out4[1]:
                        st[_ST_SE] += 1
                        bits[0] = 1 - bits[0]
                    elif y < out4[0] + out4[1] + out4[2]:
                        st[_ST_SE] += 1
                        bits[1] = 1 - bits[1]
                    else:
                        st[_ST_CE] += 1
                        bits[0] = 1 - bits[0]
                        bits[1] = 1 - bits[1]
                    tick += 1
                    ok = _tree_flip(k, -1, tick, model, state)
                else:
                    p = sumtree_sample(ptree, x - tn)
                    k = pk[p]
                    l = pl[p]
                    r = pair_rate(k, l, pd[p], s1, s2, bits[2 + k] - 0.5, bits[2 + l] - 0.5, hd[k], hd[l], A, par)
                    bound = sumtree_leaf(ptree, p)
                    if r > bound:
                        st[_ST_VIOLATION] += 1
                    if uniform(rng, tr) * bound >= r:
                        st[_ST_REJ_P] += 1
                        continue
                    st[_ST_PAIR] += 1
                    tick += 1
                    ok = _tree_flip(k, l, tick, model, state)
            if not ok:
                st[_ST_SINGULAR] += 1
    return acc, stats, truncated


@dataclass(frozen=True)
class KMCResult:
    """Trajectory-averaged kMC polarizations (package sign convention): times (T,) s,
    electron (T, 2), nuclear (T, N), their standard errors (same shapes), the number of
    trajectories, accepted events (state changes, all trajectories), wall time (s).

    ``proposals`` counts accepted + thinning-rejected proposals; ``event_counts`` breaks
    them down by kind (electron, nuclear_flip, solid_effect, cross_effect, flip_flop,
    rejected_nuclear, rejected_pair, hyperfine_window_refreshes,
    dipolar_window_recentres, bound_violations -- zero unless a bound is wrong --,
    singular_bounds)."""

    times: np.ndarray
    electron_polarization: np.ndarray
    nuclear_polarization: np.ndarray
    electron_stderr: np.ndarray
    nuclear_stderr: np.ndarray
    trajectories: int
    events: int
    wall_time: float
    proposals: int = 0
    event_counts: dict = field(default_factory=dict)

    @property
    def acceptance(self) -> float:
        """Accepted / proposed events (1 when no proposal was rejected)."""
        return self.events / self.proposals if self.proposals else 1.0


def default_windows(model: CrossEffectModel) -> tuple[float, float]:
    """Default half-widths (rad/s) of the windows of the tree kMC bounds: hyperfine
    (hA_j and hd_k in the nucleus bounds) 2 (R_2 + R_1/2 + r_2 + r_1/2), twice the
    width of the SE Lorentzian; dipolar (reduced fields h*_k in the pair bounds)
    4 (r_2 + r_1/2), twice the width of the flip-flop Lorentzian.  Measured on the
    Fig. 2(d, e) geometry (benchmarks/bench_cross_effect.py); they set only the cost
    (refresh frequency vs thinning acceptance), never the sampled process."""
    ge = model.R2 + model.R1 / 2
    gn = model.r2 + model.r1 / 2
    return _WINDOW_HA * (ge + gn), _WINDOW_HD * gn


_WINDOW_HA = 2.0
_WINDOW_HD = 4.0
#: Most groups of trajectories of the error estimate (and units of parallel work).
MAX_TRAJECTORY_GROUPS = 16


@dataclass(frozen=True)
class KernelInputs:
    """The arrays an event loop over the local rates takes, from :func:`kernel_inputs`:
    observation ``times`` (T,) s; one generator state per trajectory ``seeds`` (n_traj,)
    uint64; ``n_chunks`` interleaved groups of trajectories (the units of parallel work
    and of the error estimate); the thermal electron polarization ``p_thermal``; the
    contiguous couplings ``A``, ``Bre``, ``Bim`` (2, N) rad/s (A_jk, Re B_jk, Im B_jk);
    ``par`` (11,) from :func:`~dnpsim.dynamics.zeeman_local_rates.packed_parameters`;
    ``pairs`` = (pk, pl, pd, ptr, pid, nbr) from
    :func:`~dnpsim.dynamics.zeeman_local_rates.nuclear_pairs`; ``started``, the
    ``time.perf_counter()`` reading at the start of the run (s)."""

    times: np.ndarray
    seeds: np.ndarray
    n_chunks: int
    p_thermal: float
    A: np.ndarray
    Bre: np.ndarray
    Bim: np.ndarray
    par: np.ndarray
    pairs: tuple
    started: float


def kernel_inputs(model: CrossEffectModel, times, trajectories: int, rng: np.random.Generator, *,
                  cutoff: float | None = None, min_pair_coupling: float = 0.0,
                  threads: int | None = None) -> KernelInputs:
    """Check the run arguments of :func:`kmc` (``times`` (T,) s increasing and
    non-negative, at least 2 ``trajectories``; :class:`SpecError` naming the argument),
    keep the nuclear pairs with |d_kl| > ``min_pair_coupling`` (rad/s), draw one
    generator state per trajectory from ``rng`` and set the numba thread count
    (``threads``, at most the configured number).  ``cutoff`` (rad/s) separates the
    Zeeman manifolds (default |omega_I|/2)."""
    started = time.perf_counter()
    times = np.asarray(time_grid(times, "times"))
    if trajectories < 2:
        raise SpecError("trajectories", "need at least 2")
    pairs = nuclear_pairs(model, min_pair_coupling)
    seeds = trajectory_seeds(rng, trajectories)
    if threads is not None:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    return KernelInputs(times, seeds, min(trajectories, MAX_TRAJECTORY_GROUPS), model.p,
                        np.ascontiguousarray(model.A), np.ascontiguousarray(model.B.real),
                        np.ascontiguousarray(model.B.imag), packed_parameters(model, cutoff), pairs, started)


def trajectory_result(inputs: KernelInputs, acc: np.ndarray, truncated: np.ndarray, max_events: int, events: int,
                      proposals: int, event_counts: dict) -> KMCResult:
    """The :class:`KMCResult` of an event loop run on ``inputs``: ``acc`` (n_chunks, T,
    2 + N) the spins s = +-1/2 summed over the trajectories of each group at each time,
    ``truncated`` (n_chunks,) the trajectories per group that reached ``max_events``
    (:class:`ConvergenceError` if any), the accepted ``events``, ``proposals`` and
    ``event_counts`` over all trajectories.  Polarizations are 2<s> for the electrons and
    -2<s> for the nuclei (package convention); the standard errors come from the spread
    between the groups (:func:`dnpsim.solvers.kmc.interleaved_mean`)."""
    if truncated.sum():
        raise ConvergenceError(f"kmc: {int(truncated.sum())} trajectories hit max_events={max_events}", float("nan"))
    trajectories = inputs.seeds.size
    mean, stderr = interleaved_mean(2 * acc, trajectories)                # (T, 2 + N) of 2<s>
    return KMCResult(inputs.times, mean[:, :2], -mean[:, 2:], stderr[:, :2], stderr[:, 2:], trajectories, events,
                     time.perf_counter() - inputs.started, proposals, event_counts)


def kmc(model: CrossEffectModel, times, trajectories: int, rng: np.random.Generator, *, cutoff: float | None = None,
        min_pair_coupling: float = 0.0, threads: int | None = None, max_events: int = 10**9,
        hyperfine_window: float | None = None, dipolar_window: float | None = None) -> KMCResult:
    """Kinetic Monte Carlo of the Zeeman-projected dynamics (Eq. (4)) with the local
    rates (:mod:`dnpsim.dynamics.zeeman_local_rates`), from the paper's initial state
    (thermal electrons, unpolarized nuclei), averaged over ``trajectories``; ``times``
    (T,) in s.

    Rejection-free for the electron events, thinning with exact acceptance for the
    hyperfine-field-dependent SE/CE class and, in the same way, for the
    dipolar-field-dependent nuclear single flips and flip-flops (module docstring).
    Each nuclear process has a sum-tree leaf (:mod:`dnpsim.solvers.kmc`) holding an
    upper bound of its rate (s^-1, :mod:`dnpsim.dynamics.kmc_bounds`), valid for every
    electron configuration, for the hyperfine fields hA_j (and hd_k) within
    +-``hyperfine_window`` and the reduced dipolar fields within +-``dipolar_window``
    (rad/s) of their values at the last recentring, and, for pairs, for every spin
    state; a proposal drawn in O(log n) is accepted with probability true rate / bound.
    This is an exact sample of the Markov process of the local rates (thinning of a
    Poisson process); a nuclear flip costs O(degree) (plus O(degree log n) when a
    neighbour's window is recentred and O(N) when hA leaves its window).  The windows
    (default :func:`default_windows`) change only the cost; ``KMCResult.acceptance`` and
    ``event_counts`` report it.

    Pairs with |d_kl| <= ``min_pair_coupling`` (rad/s) are dropped.  Trajectories run
    in parallel over ``threads`` numba threads; results do not depend on the thread
    count (one generator state per trajectory from ``rng``).  ``max_events`` bounds the
    proposals per trajectory; a trajectory that reaches it raises
    :class:`ConvergenceError`.

    The standard error per spin is estimated from the spread between
    min(trajectories, 16) interleaved groups of trajectories (so (P - P_exact) / stderr
    is t-distributed with 15 degrees of freedom; since every spin is +-1 per
    trajectory, (1 - P^2) / trajectories is its exact variance).  Shapes and units as in
    :class:`KMCResult`; frequencies and windows in rad/s, times in s.
    """
    win_hA, win_hd = default_windows(model)
    win_hA = win_hA if hyperfine_window is None else float(hyperfine_window)
    win_hd = win_hd if dipolar_window is None else float(dipolar_window)
    if not (np.isfinite(win_hA) and win_hA >= 0):
        raise SpecError("hyperfine_window", f"must be finite and >= 0, got {hyperfine_window}")
    if not (np.isfinite(win_hd) and win_hd >= 0):
        raise SpecError("dipolar_window", f"must be finite and >= 0, got {dipolar_window}")
    inp = kernel_inputs(model, times, trajectories, rng, cutoff=cutoff, min_pair_coupling=min_pair_coupling,
                        threads=threads)
    pk, pl, pd, ptr, pid, nbr = inp.pairs
    partner, partner_d = strongest_partners(model.n_nuclei, pk, pl, pd)
    pflag = ((partner[pk] == pl) | (partner[pl] == pk)).astype(np.int64)
    acc, st, truncated = _kmc_tree_kernel(inp.times, inp.seeds, inp.n_chunks, inp.p_thermal, inp.A, inp.Bre, inp.Bim,
                                          ptr, pid, nbr, pk, pl, pd, partner, partner_d, pflag, inp.par, win_hA, win_hd,
                                          max_events)
    tot = st.sum(axis=0)
    counts_by_kind = {name: int(v) for name, v in zip(_STAT_NAMES, tot)}
    if tot[_ST_SINGULAR]:
        raise ConvergenceError(f"kmc: a rate bound is singular in {int(tot[_ST_SINGULAR])} trajectories "
                               "(an amplitude pole at the current fields; the rates themselves diverge)",
                               float("nan"))
    n_events = int(tot[_ST_ELECTRON] + tot[_ST_SINGLE] + tot[_ST_SE] + tot[_ST_CE] + tot[_ST_PAIR])
    n_proposals = n_events + int(tot[_ST_REJ_N] + tot[_ST_REJ_P])
    return trajectory_result(inp, acc, truncated, max_events, n_events, n_proposals, counts_by_kind)
