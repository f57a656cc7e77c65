"""Thinning bounds of the local cross-effect rates (Eq. (4) of Karabanov et al. 2018,
as written per process in :mod:`dnpsim.dynamics.zeeman_local_rates`) for the tree
kinetic Monte Carlo (:mod:`dnpsim.dynamics.cross_effect_kmc`): upper bounds (s^-1) of
the rate of each nuclear process over windows of the fields it depends on.  A sum tree
of these bounds proposes processes, each accepted with probability true rate / bound
(thinning, an exact sample of the same Markov process).

What a bound covers, so that few bounds change per event:

* nucleus k (:func:`nucleus_bound`: single flip + SE + CE): the given spin of k, all
  four electron configurations (electron flips change no bound), the hyperfine fields
  hA_j within a window (``hyperfine_window`` of the kMC) around their value at the last
  refresh, and the dipolar field hd_k within the same half-width of its own centre;
* pair (k, l) (:func:`pair_bound`: flip-flop): every spin state of the pair (zero rate
  when parallel) and of the two "partners" s(k), s(l) (each nucleus's most strongly
  coupled neighbour, :func:`strongest_partners`), all electron configurations, and the
  reduced fields h*_k = hd_k - 2 d_{k,s(k)} s_{s(k)} (:func:`reduced_field`) within a
  window (``dipolar_window`` of the kMC) around their centres.  A flip-flop of a close
  pair (k, l) = (s(l), s(k)) -- the most frequent event -- then changes no pair bound:
  h*_k, h*_l do not see the partner, the other pairs of k and l are bounded for both
  spins.

Bounds.  For fixed spins the rates depend on the fields only through the energy
mismatches, which are monotone (also in floating point: every mismatch is evaluated in
the same order as in the exact formulas, and rounding is monotone) in each field, so
interval endpoints bound them.  A Lorentzian 2 v2 g / (g^2 + de^2) is largest at the
point of the mismatch interval closest to resonance.  The second-order SE/CE amplitude
v = pref [g_1(x, en) b_f + g_2(x, en) b_s] is a sum of reciprocals of monotone
mismatches; it is bounded by its value at the window centre plus the largest deviation
of each reciprocal over its interval (this keeps the cancellation between the two
paths, which a triangle inequality over the paths would lose).  Rounding is covered by
a relative margin of 1e-12 of the summands (the arithmetic error is ~1e-15) and, for
the pair mismatch (hd = h* + 2 d s is rounded differently from the accumulated hd), a
padding of 16 ulps.  A bound that cannot be made finite (a pole of an amplitude inside
the window) is returned as inf (or nan); the kMC then shrinks the hyperfine window.
Tests check the bounds against the exact rates over random models and windows.

Units: rates s^-1, fields and frequencies rad/s; A (2, N) rad/s, ``par`` from
:func:`~dnpsim.dynamics.zeeman_local_rates.packed_parameters`.  After an edit here, delete
the numba cache of :mod:`dnpsim.dynamics.cross_effect_kmc` too (``__pycache__``): numba
checks only the file of a cached function, not of the functions compiled into it.
"""

from __future__ import annotations

import numba
import numpy as np

from dnpsim import jit  # noqa: F401  (says so on stderr while kernels compile)
from dnpsim.dynamics.zeeman_local_rates import (PAR_CUT, PAR_D, PAR_D1, PAR_D2, PAR_GE, PAR_GN, PAR_NFL, PAR_W1,
                                                PAR_WI, lorentzian_rate)

# rounding: paddings are counted in float64 epsilons; the relative margin is far above
# the arithmetic error of the summands (~1e-15)
_EPS = 2.220446049250313e-16
_MARGIN = 1e-12


def strongest_partners(n: int, pk: np.ndarray, pl: np.ndarray, pd: np.ndarray):
    """For each of ``n`` nuclei its most strongly coupled kept neighbour s(k) (int64,
    -1 if none; ties to the lower pair index) and d_{k,s(k)} (rad/s), (n,) each, from
    the pairs pk, pl, pd of :func:`~dnpsim.dynamics.zeeman_local_rates.nuclear_pairs`."""
    partner = np.full(n, -1, np.int64)
    partner_d = np.zeros(n)
    for p in np.argsort(-np.abs(pd), kind="stable"):
        for a, b in ((pk[p], pl[p]), (pl[p], pk[p])):
            if partner[a] < 0:
                partner[a] = b
                partner_d[a] = pd[p]
    return partner, partner_d


@numba.njit(cache=True, inline="always")
def reduced_field(x, hd, bits, partner, partner_d):
    """h*_x = hd_x - 2 d_{x,s(x)} s_{s(x)} (rad/s), the dipolar field hd (N,) on nucleus
    x without its most strongly coupled neighbour s(x) (``partner``, ``partner_d`` of
    :func:`strongest_partners`); ``bits`` (2 + N,) int64 spins, 1 for s = +1/2."""
    sx = partner[x]
    if sx < 0:
        return hd[x]
    return hd[x] - 2.0 * partner_d[x] * (bits[2 + sx] - 0.5)



@numba.njit(cache=True, inline="always")
def _closest_to_zero(lo, hi):
    """|y| smallest over y in [lo, hi] (rad/s)."""
    if lo <= 0.0 <= hi:
        return 0.0
    return min(abs(lo), abs(hi))


@numba.njit(cache=True, inline="always")
def _reciprocal_deviation(lo, hi, c):
    """max |1/y - 1/c| over y in [lo, hi] (s/rad); inf when the interval holds 0."""
    if lo <= 0.0 <= hi:
        return np.inf
    rc = 1.0 / c
    return max(abs(1.0 / lo - rc), abs(1.0 / hi - rc))


@numba.njit(cache=True)
def _two_path_bound(xlo, xhi, xc, enlo, enhi, enc, a, pref, path1, bfr, bfi, path2, br, bi, gamma):
    """Upper bound (s^-1) of the second-order rate
    lorentzian_rate(|v|^2, gamma, x + en + a) of
    :func:`~dnpsim.dynamics.zeeman_local_rates.nucleus_rates` (SE or CE) over the
    electron mismatch x in [xlo, xhi] and the nuclear mismatch en in [enlo, enhi] (rad/s; xc, enc the window centres),
    with v = pref [(-1/x + 1/(en + a)) b_f (path 1, electron first)
                  + (-1/en + 1/(x + a)) b_s (path 2, nucleus first)],
    b_f = bfr + i bfi and b_s = br + i bi the pseudo-secular amplitudes (rad/s).
    Returns inf when an amplitude has a pole in the window."""
    tlo = (xlo + enlo) + a
    thi = (xhi + enhi) + a
    slop = 8.0 * _EPS * (max(abs(xlo), abs(xhi)) + max(abs(enlo), abs(enhi)) + abs(a))
    vr = 0.0
    vi = 0.0
    dev = 0.0
    mag = 0.0
    if path1:
        cc = enc + a
        g = -1.0 / xc + 1.0 / cc
        nb = np.sqrt(bfr * bfr + bfi * bfi)
        dev += nb * (_reciprocal_deviation(xlo, xhi, xc)
                     + _reciprocal_deviation((enlo + a) - slop, (enhi + a) + slop, cc))
        vr += g * bfr
        vi += g * bfi
        mag += nb * (1.0 / abs(xc) + 1.0 / abs(cc))
    if path2:
        cc = xc + a
        g = -1.0 / enc + 1.0 / cc
        nb = np.sqrt(br * br + bi * bi)
        dev += nb * (_reciprocal_deviation(enlo, enhi, enc)
                     + _reciprocal_deviation((xlo + a) - slop, (xhi + a) + slop, cc))
        vr += g * br
        vi += g * bi
        mag += nb * (1.0 / abs(enc) + 1.0 / abs(cc))
    vb = abs(pref) * (np.sqrt(vr * vr + vi * vi) + dev + _MARGIN * mag)
    return lorentzian_rate(vb * vb, gamma, _closest_to_zero(tlo, thi)) * (1.0 + _MARGIN)


@numba.njit(cache=True)
def nucleus_bound(k, sk, hdlo, hdhi, hdc, h1lo, h1hi, h1c, h2lo, h2hi, h2c, A, Bre, Bim, par):
    """Upper bound (s^-1) of out[0] + out[1] + out[2] + out[3] of
    :func:`~dnpsim.dynamics.zeeman_local_rates.nucleus_rates` (single flip + SE with
    either electron + CE of nucleus k with spin ``sk``) over the four electron
    configurations, the dipolar field hd_k in [hdlo, hdhi] and the hyperfine fields
    hA_1 in [h1lo, h1hi], hA_2 in [h2lo, h2hi] (rad/s; ``*c`` the window centres).
    Same expressions, in the same order, as the exact rates."""
    D, w1, ge, gn, cut, wI = par[PAR_D], par[PAR_W1], par[PAR_GE], par[PAR_GN], par[PAR_CUT], par[PAR_WI]
    dk = -2.0 * sk
    conj = -1.0 if sk > 0 else 1.0
    de0_n = dk * wI
    best = 0.0
    for c in range(4):
        s1 = (c & 1) - 0.5
        s2 = ((c >> 1) & 1) - 0.5
        base = wI + A[0, k] * s1 + A[1, k] * s2
        e1 = dk * (base + hdlo)
        e2 = dk * (base + hdhi)
        enlo = min(e1, e2)
        enhi = max(e1, e2)
        enc = dk * (base + hdc)
        br = 0.5 * (Bre[0, k] * s1 + Bre[1, k] * s2)
        bi = 0.5 * conj * (Bim[0, k] * s1 + Bim[1, k] * s2)
        tot = par[PAR_NFL] + lorentzian_rate(br * br + bi * bi, gn, _closest_to_zero(enlo, enhi))
        for j in range(2):
            sj = s1 if j == 0 else s2
            so = s2 if j == 0 else s1
            dj = -2.0 * sj
            de0_e = dj * par[PAR_D1 + j]
            if abs(de0_e + de0_n) >= cut or w1 == 0.0:
                continue
            base_e = par[PAR_D1 + j] + 2.0 * D * so
            x1 = dj * (base_e + (h1lo if j == 0 else h2lo))
            x2 = dj * (base_e + (h1hi if j == 0 else h2hi))
            xc = dj * (base_e + (h1c if j == 0 else h2c))
            f1 = s1 + (dj if j == 0 else 0.0)
            f2 = s2 + (dj if j == 1 else 0.0)
            tot += _two_path_bound(min(x1, x2), max(x1, x2), xc, enlo, enhi, enc, A[j, k] * dj * dk, 0.5 * 0.5 * w1,
                                   abs(de0_e) >= cut, 0.5 * (Bre[0, k] * f1 + Bre[1, k] * f2),
                                   0.5 * conj * (Bim[0, k] * f1 + Bim[1, k] * f2), abs(de0_n) >= cut, br, bi, ge + gn)
        if s1 != s2 and D != 0.0:
            d1 = -2.0 * s1
            d2 = -2.0 * s2
            de0_ff = d1 * par[PAR_D1] + d2 * par[PAR_D2]
            if abs(de0_ff + de0_n) < cut:
                xa = d1 * (par[PAR_D1] + h1lo) + d2 * (par[PAR_D2] + h2lo)
                xb = d1 * (par[PAR_D1] + h1lo) + d2 * (par[PAR_D2] + h2hi)
                xd = d1 * (par[PAR_D1] + h1hi) + d2 * (par[PAR_D2] + h2lo)
                xe = d1 * (par[PAR_D1] + h1hi) + d2 * (par[PAR_D2] + h2hi)
                xc = d1 * (par[PAR_D1] + h1c) + d2 * (par[PAR_D2] + h2c)
                tot += _two_path_bound(min(min(xa, xb), min(xd, xe)), max(max(xa, xb), max(xd, xe)), xc, enlo, enhi,
                                       enc, (A[0, k] * d1 + A[1, k] * d2) * dk, 0.5 * (-0.5 * D), abs(de0_ff) >= cut,
                                       0.5 * (Bre[0, k] * (-s1) + Bre[1, k] * (-s2)),
                                       0.5 * conj * (Bim[0, k] * (-s1) + Bim[1, k] * (-s2)), abs(de0_n) >= cut, br, bi,
                                       2.0 * ge + gn)
        if tot > best or np.isnan(tot):   # a nan stays (it is not finite: the window shrinks)
            best = tot
    return best * (1.0 + _MARGIN)


@numba.njit(cache=True)
def _partner_interval(a, b, sb, lo, hi, partner, partner_d):
    """Interval of the dipolar field hd_a (rad/s) when its reduced field
    h*_a = hd_a - 2 d_{a,s(a)} s_{s(a)} (s(a) = ``partner[a]``, its most strongly coupled
    neighbour, -1 if none) lies in [lo, hi] and the pair partner b has spin sb: the
    shift 2 d s_{s(a)} is known when s(a) = b, else it is either of +-d."""
    sa = partner[a]
    if sa < 0:
        return lo, hi
    if sa == b:
        shift = 2.0 * partner_d[a] * sb
        return lo + shift, hi + shift
    dd = abs(partner_d[a])
    return lo - dd, hi + dd


@numba.njit(cache=True)
def pair_bound(k, l, dkl, wklo, wkhi, wllo, wlhi, partner, partner_d, A, par):
    """Upper bound (s^-1) of :func:`~dnpsim.dynamics.zeeman_local_rates.pair_rate` of
    nuclei k, l for *every* spin state of the pair (zero rate when parallel, either
    antiparallel orientation), the four electron configurations, either spin of the partners s(k), s(l), and the reduced
    fields h*_k in [wklo, wkhi], h*_l in [wllo, wlhi] (rad/s; see
    :func:`_partner_interval`): the Lorentzian at the mismatch closest to resonance.
    Independent of the spins, it stays valid when k, l or s(k), s(l) flip, so a
    flip-flop of a close pair (k, l) with s(k) = l, s(l) = k changes no pair bound.  The
    mismatch interval is padded by 16 ulps of its terms (h* + 2 d s is rounded
    differently from the accumulated hd of the exact rate)."""
    wI = par[PAR_WI]
    closest = np.inf
    for o in range(2):
        sk = 0.5 if o == 0 else -0.5
        sl = -sk
        dk = -2.0 * sk
        dl = -2.0 * sl
        cst = 2.0 * dkl * dk * dl
        hklo, hkhi = _partner_interval(k, l, sl, wklo, wkhi, partner, partner_d)
        hllo, hlhi = _partner_interval(l, k, sk, wllo, wlhi, partner, partner_d)
        for c in range(4):
            s1 = (c & 1) - 0.5
            s2 = ((c >> 1) & 1) - 0.5
            bk = wI + A[0, k] * s1 + A[1, k] * s2
            bl = wI + A[0, l] * s1 + A[1, l] * s2
            k1 = dk * (bk + hklo)
            k2 = dk * (bk + hkhi)
            l1 = dl * (bl + hllo)
            l2 = dl * (bl + hlhi)
            pad = 16.0 * _EPS * (abs(bk) + abs(bl) + max(abs(hklo), abs(hkhi)) + max(abs(hllo), abs(hlhi))
                                 + abs(cst))
            lo = (min(k1, k2) + min(l1, l2)) + cst - pad
            hi = (max(k1, k2) + max(l1, l2)) + cst + pad
            closest = min(closest, _closest_to_zero(lo, hi))
    return lorentzian_rate(0.25 * dkl * dkl, 2.0 * par[PAR_GN], closest) * (1.0 + _MARGIN)
