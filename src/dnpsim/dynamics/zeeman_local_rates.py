"""Local process rates of the Zeeman-projected cross-effect dynamics (Eq. (4) of
Karabanov et al. 2018): the derivation of :mod:`dnpsim.dynamics.zeeman_projection`,
written per process so that each rate costs O(1) for any number of nuclei.  The kinetic
Monte Carlo (:mod:`dnpsim.dynamics.cross_effect_kmc`) draws from these compiled (numba)
functions; :func:`local_rates` assembles them into the full rate matrix for small n,
its deterministic counterpart.

Processes of a configuration (s_1, s_2 electrons, s_k nuclei, s = +-1/2)::

    electron j flip   T_1 + 2 (omega_1/2)^2 g_e / (g_e^2 + dE^2)
    e-e flip-flop     2 (D/2)^2 (2 g_e) / ((2 g_e)^2 + dE^2)                (s_1 != s_2)
    nucleus k flip    r_1/2 + 2 |b_k|^2 g_n / (g_n^2 + dE^2),  b_k = sum_j B_jk s_j / 2
    n-n flip-flop     2 (d_kl/2)^2 (2 g_n) / ((2 g_n)^2 + dE^2)             (s_k != s_l)
    SE  e_j + n_k     second order via omega_1 and b_k (both orders of the two flips)
    CE  e_1 e_2 n_k   second order via -D/2 and b_k                        (s_1 != s_2)

with g_e = R_2 + R_1/2, g_n = r_2 + r_1/2 and dE the exact change of the secular
energy.  The second-order amplitudes are those of
:func:`~dnpsim.dynamics.zeeman_projection.projected_rates`
(V^(2) = 1/2 sum_m V_fm V_ma [1/(E_a - E_m) + 1/(E_f - E_m)], intermediates outside
the manifold of a only, final state inside it); second-order level shifts and the
(cancelling) two-nucleus paths are left out, so the local rates differ from
:func:`~dnpsim.dynamics.zeeman_projection.projected_rates` by O(D^2/omega_I^2) relative
(tested).

Units: rates in s^-1, frequencies and fields in rad/s.  The compiled functions take the
model as the vector of :func:`packed_parameters` (indexed by the ``PAR_*`` constants)
and the couplings A, Re B, Im B as (2, N) arrays; a spin enters as s = +-1/2 and the
fields as hA_j = sum_k A_jk s_k (on electron j) and hd_k = 2 sum_l d_kl s_l (on nucleus
k, from the other nuclei).

Caching: numba's on-disk cache (``cache=True``) checks only the file of the cached
function, so the kMC kernels of :mod:`dnpsim.dynamics.cross_effect_kmc` (and the bounds
of :mod:`dnpsim.dynamics.kmc_bounds`) that compiled these functions in keep the old
code after an edit here: delete their ``__pycache__/*.nbi`` / ``*.nbc`` files too.
"""

from __future__ import annotations

import numba
import numpy as np

from dnpsim import jit  # noqa: F401  (says so on stderr while kernels compile)
from dnpsim.dynamics.zeeman_projection import MAX_PROJECTION_SPINS, ProjectedRates
from dnpsim.errors import SpecError
from dnpsim.models.cross_effect import CrossEffectModel

#: Indices into the vector of :func:`packed_parameters`.
PAR_D, PAR_W1, PAR_GE, PAR_GN, PAR_EUD, PAR_EDU, PAR_NFL, PAR_CUT, PAR_WI, PAR_D1, PAR_D2 = range(11)


def packed_parameters(model: CrossEffectModel, cutoff: float | None = None) -> np.ndarray:
    """The model as the float64 vector (11,) the compiled rates read (``PAR_*``
    indices): D, omega_1, g_e = R_2 + R_1/2, g_n = r_2 + r_1/2, the electron T_1 rates
    down <- up (1 + p) R_1/2 and up <- down (1 - p) R_1/2, the nuclear T_1 rate r_1/2,
    the manifold ``cutoff`` (default |omega_I|/2), omega_I, Delta_1, Delta_2 (rad/s, s^-1)."""
    # |omega_I|: a negative-gamma nucleus has omega_I < 0, its manifolds are as far apart
    cutoff = abs(model.omega_I) / 2 if cutoff is None else float(cutoff)
    return np.array([model.D, model.omega1, model.R2 + model.R1 / 2, model.r2 + model.r1 / 2,
                     (1 + model.p) * model.R1 / 2, (1 - model.p) * model.R1 / 2, model.r1 / 2, cutoff,
                     model.omega_I, model.offsets[0], model.offsets[1]])


@numba.njit(cache=True, inline="always")
def lorentzian_rate(v2, gamma, de):
    """2 |V|^2 Gamma / (Gamma^2 + dE^2) (s^-1): the rate of a coupling with |V|^2 = ``v2``
    between states whose coherence decays at ``gamma`` and whose energies differ by
    ``de`` (rad/s), step 1 of :mod:`dnpsim.dynamics.zeeman_projection`."""
    return 2.0 * v2 * gamma / (gamma * gamma + de * de)


@numba.njit(cache=True, inline="always")
def electron_rates(s1, s2, hA1, hA2, par, out):
    """Rates (s^-1) of the electron processes with the electrons in s1, s2 (+-1/2) and
    the hyperfine fields hA1, hA2 (rad/s) on them; ``par`` from
    :func:`packed_parameters`.  Writes ``out`` (3,): out[0], out[1] flip of electron 1, 2
    (T_1 + microwave), out[2] e-e flip-flop (zero when s1 = s2)."""
    D, w1, ge = par[PAR_D], par[PAR_W1], par[PAR_GE]
    for j in range(2):
        sj = s1 if j == 0 else s2
        so = s2 if j == 0 else s1
        de = -2.0 * sj * (par[PAR_D1 + j] + 2.0 * D * so + (hA1 if j == 0 else hA2))
        t1 = par[PAR_EUD] if sj > 0 else par[PAR_EDU]
        out[j] = t1 + lorentzian_rate(0.25 * w1 * w1, ge, de)
    if s1 != s2:
        de = -2.0 * s1 * (par[PAR_D1] + hA1) - 2.0 * s2 * (par[PAR_D2] + hA2)
        out[2] = lorentzian_rate(0.25 * D * D, 2.0 * ge, de)
    else:
        out[2] = 0.0


@numba.njit(cache=True)
def nucleus_rates(k, s1, s2, sk, hdk, hA1, hA2, A, Bre, Bim, par, out):
    """Rates (s^-1) of the processes that flip nucleus k (spin sk = +-1/2, dipolar field
    hdk from the other nuclei) with the electrons in s1, s2 and the hyperfine fields hA1,
    hA2 on them (rad/s); A, Bre, Bim (2, N) rad/s; ``par`` from :func:`packed_parameters`.
    Writes ``out`` (4,): out[0] single flip of nucleus k (T_1 + off-resonant
    pseudo-secular), out[1], out[2] SE with electron 1, 2, out[3] CE (three-spin)."""
    D, w1, ge, gn, cut, wI = par[PAR_D], par[PAR_W1], par[PAR_GE], par[PAR_GN], par[PAR_CUT], par[PAR_WI]
    dk = -2.0 * sk
    conj = -1.0 if sk > 0 else 1.0          # I_- carries B^*
    de_n = dk * (wI + A[0, k] * s1 + A[1, k] * s2 + hdk)
    de0_n = dk * wI
    br = 0.5 * (Bre[0, k] * s1 + Bre[1, k] * s2)
    bi = 0.5 * conj * (Bim[0, k] * s1 + Bim[1, k] * s2)
    out[0] = par[PAR_NFL] + lorentzian_rate(br * br + bi * bi, gn, de_n)
    for j in range(2):
        sj = s1 if j == 0 else s2
        so = s2 if j == 0 else s1
        dj = -2.0 * sj
        de_e = dj * (par[PAR_D1 + j] + 2.0 * D * so + (hA1 if j == 0 else hA2))
        de0_e = dj * par[PAR_D1 + j]
        de_t = de_e + de_n + A[j, k] * dj * dk
        out[1 + j] = 0.0
        if abs(de0_e + de0_n) >= cut or w1 == 0.0:
            continue
        vr = 0.0
        vi = 0.0
        if abs(de0_e) >= cut:   # electron first; the nuclear amplitude sees the flipped electron
            f1 = s1 + (dj if j == 0 else 0.0)
            f2 = s2 + (dj if j == 1 else 0.0)
            g = 0.5 * 0.5 * w1 * (-1.0 / de_e + 1.0 / (de_t - de_e))
            vr += g * 0.5 * (Bre[0, k] * f1 + Bre[1, k] * f2)
            vi += g * 0.5 * conj * (Bim[0, k] * f1 + Bim[1, k] * f2)
        if abs(de0_n) >= cut:   # nucleus first
            g = 0.5 * 0.5 * w1 * (-1.0 / de_n + 1.0 / (de_t - de_n))
            vr += g * br
            vi += g * bi
        out[1 + j] = lorentzian_rate(vr * vr + vi * vi, ge + gn, de_t)
    out[3] = 0.0
    if s1 != s2 and D != 0.0:
        d1 = -2.0 * s1
        d2 = -2.0 * s2
        de_ff = d1 * (par[PAR_D1] + hA1) + d2 * (par[PAR_D2] + hA2)
        de0_ff = d1 * par[PAR_D1] + d2 * par[PAR_D2]
        de_t = de_ff + de_n + (A[0, k] * d1 + A[1, k] * d2) * dk
        if abs(de0_ff + de0_n) < cut:
            vr = 0.0
            vi = 0.0
            if abs(de0_ff) >= cut:
                g = 0.5 * (-0.5 * D) * (-1.0 / de_ff + 1.0 / (de_t - de_ff))
                vr += g * 0.5 * (Bre[0, k] * (-s1) + Bre[1, k] * (-s2))
                vi += g * 0.5 * conj * (Bim[0, k] * (-s1) + Bim[1, k] * (-s2))
            if abs(de0_n) >= cut:
                g = 0.5 * (-0.5 * D) * (-1.0 / de_n + 1.0 / (de_t - de_n))
                vr += g * br
                vi += g * bi
            out[3] = lorentzian_rate(vr * vr + vi * vi, 2.0 * ge + gn, de_t)


@numba.njit(cache=True, inline="always")
def pair_rate(k, l, dkl, s1, s2, sk, sl, hdk, hdl, A, par):
    """Rate (s^-1) of the n-n flip-flop of nuclei k, l (coupling dkl, spins sk, sl,
    dipolar fields hdk, hdl in rad/s) with the electrons in s1, s2; zero when the pair
    is parallel."""
    if sk == sl:
        return 0.0
    dk = -2.0 * sk
    dl = -2.0 * sl
    wI = par[PAR_WI]
    de = dk * (wI + A[0, k] * s1 + A[1, k] * s2 + hdk) + dl * (wI + A[0, l] * s1 + A[1, l] * s2 + hdl) \
        + 2.0 * dkl * dk * dl
    return lorentzian_rate(0.25 * dkl * dkl, 2.0 * par[PAR_GN], de)


def nuclear_pairs(model: CrossEffectModel, min_coupling: float = 0.0):
    """Nuclear pairs with |d_kl| > min_coupling (rad/s): int64 arrays k, l (P,) with
    k < l, d (P,) rad/s, and the CSR incidence ptr (N + 1,), pair ids and neighbour ids
    (2 P,) int64 (nucleus k is in pairs pid[ptr[k]:ptr[k + 1]], with nbr[...] across)."""
    n = model.n_nuclei
    kk, ll = np.nonzero(np.triu(np.abs(model.d) > min_coupling, 1))
    dd = model.d[kk, ll].astype(float)
    inc = [[] for _ in range(n)]
    for p, (a, b) in enumerate(zip(kk, ll)):
        inc[a].append((p, b))
        inc[b].append((p, a))
    ptr = np.zeros(n + 1, np.int64)
    ptr[1:] = np.cumsum([len(x) for x in inc])
    pid = np.array([p for x in inc for p, _ in x], np.int64)
    nbr = np.array([q for x in inc for _, q in x], np.int64)
    return kk.astype(np.int64), ll.astype(np.int64), dd, ptr, pid, nbr


def local_rates(model: CrossEffectModel, cutoff: float | None = None) -> ProjectedRates:
    """The local process rates (module docstring) assembled into a full rate matrix
    W (2^n, 2^n) s^-1 over the Zeeman states, for n <= 12 spins: the deterministic
    counterpart of :func:`dnpsim.dynamics.cross_effect_kmc.kmc` (same processes, same
    formulas).  ``cutoff`` (rad/s) as in :func:`packed_parameters`."""
    n = model.n_spins
    if n > MAX_PROJECTION_SPINS:
        raise SpecError("n_spins", f"at most {MAX_PROJECTION_SPINS} for the explicit rate matrix")
    par = packed_parameters(model, cutoff)
    N = model.n_nuclei
    A, Bre, Bim = model.A, np.ascontiguousarray(model.B.real), np.ascontiguousarray(model.B.imag)
    pk, pl, pd, *_ = nuclear_pairs(model)
    W = np.zeros((2**n, 2**n))
    out3, out4 = np.zeros(3), np.zeros(4)
    for a in range(2**n):
        s = ((a >> np.arange(n)) & 1) - 0.5
        s1, s2, sn = s[0], s[1], s[2:]
        hA = A @ sn
        hd = 2.0 * model.d @ sn
        electron_rates(s1, s2, hA[0], hA[1], par, out3)
        W[a ^ 1, a] += out3[0]
        W[a ^ 2, a] += out3[1]
        W[a ^ 3, a] += out3[2]
        for k in range(N):
            nucleus_rates(k, s1, s2, sn[k], hd[k], hA[0], hA[1], A, Bre, Bim, par, out4)
            bit = 1 << (2 + k)
            W[a ^ bit, a] += out4[0]
            W[a ^ bit ^ 1, a] += out4[1]
            W[a ^ bit ^ 2, a] += out4[2]
            W[a ^ bit ^ 3, a] += out4[3]
        for p in range(pk.size):
            k, l = pk[p], pl[p]
            W[a ^ (1 << (2 + k)) ^ (1 << (2 + l)), a] += pair_rate(k, l, pd[p], s1, s2, sn[k], sn[l], hd[k],
                                                                    hd[l], A, par)
    np.fill_diagonal(W, 0.0)
    return ProjectedRates(model, W, model.zeeman_energies(), float("nan"))
