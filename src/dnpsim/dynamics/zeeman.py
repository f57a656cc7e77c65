"""Zeeman projection of the cross-effect master equation (Eq. (4) of Karabanov et al.
2018): incoherent one-, two- and three-spin processes between Zeeman product states.

The paper's supplement with the explicit rates is not available; the rates are derived
here generically and verified against the full Lindblad equation (Eq. (1)) in
``tests/test_cross_effect_projection.py``.

Derivation
----------
Split H = H_0 + V with H_0 the diagonal (secular) part in the Zeeman product basis,

    E(a) = sum_j Delta_j s_j + omega_I sum_k s_k + 2 D s_1 s_2 + sum_jk A_jk s_j s_k
           + sum_{k<k'} 2 d_kk' s_k s_k'        (s = +-1/2),

and V the flip terms: omega_1 S_jx (amplitude omega_1/2), the electron flip-flop
-(D/2)(S_1+ S_2- + h.c.), the pseudo-secular S_jz (B_jk I_k+ + B_jk^* I_k-)/2 (amplitude
sum_j B_jk s_j / 2 for I_k+), and the nuclear flip-flop -(d_kk'/2)(I_k+ I_k'- + h.c.).

1. *Two states coupled by V_ab.*  The coherence rho_ab obeys
   d rho_ab/dt = -(i (E_a - E_b) + Gamma_ab) rho_ab - i V_ab (rho_bb - rho_aa) + ...,
   and when it decays fast (Gamma_ab >> |V_ab|, adiabatic elimination) the populations
   follow a rate equation with
       W_{a->b} = 2 |V_ab|^2 Gamma_ab / (Gamma_ab^2 + (E_a - E_b)^2)      (Lorentzian).
   Gamma_ab is the decay rate of the coherence |a><b| under the dissipator of Eq. (1):
   each spin that differs between a and b contributes R_2 + R_1/2 (electron; the
   L(S_z) term with Gamma_2 = 2 R_2 gives R_2, the T_1 jumps (Gamma_1+ + Gamma_1-)/2)
   or r_2 + r_1/2 (nucleus).  Spectator spins do not dephase the pair.
2. *Second order.*  Zeeman manifolds are sets of states whose large Zeeman energy
   E_0 = sum_j Delta_j s_j + omega_I sum_k s_k differs by less than ``cutoff``
   (default omega_I/2).  A state m outside the manifold of a is a virtual
   intermediate; eliminating it (Schrieffer-Wolff, to second order in V/omega_I) gives
   effective couplings inside a manifold
       V^(2)_fa = (1/2) sum_m V_fm V_ma [1/(E_a - E_m) + 1/(E_f - E_m)]
   (and the level shifts V^(2)_aa), which add to any direct coupling; the rate is the
   Lorentzian of step 1 with V_fa + V^(2)_fa.  Intermediates inside the manifold are
   not eliminated: those are sequences of real incoherent processes already counted.
3. *Relaxation* adds the single-spin jumps of Eq. (1): electron up->down
   (1 + p) R_1/2, down->up (1 - p) R_1/2; nuclei r_1/2 either way.

Resulting processes (the dissipators of Eq. (4)):

* single flips Gamma^S_j+- (microwave saturation, Lorentzian in Delta_jbar with width
  R_2 + R_1/2, plus T_1) and Gamma^I_k (T_1 and the off-resonant pseudo-secular flip,
  2 |sum_j B_jk s_j/2|^2 (r_2 + r_1/2) / (omega_I + ...)^2);
* e-e flip-flop: V = -D/2, Gamma_ab = 2 R_2 + R_1, mismatch Delta_2 - Delta_1 + ...:
      Gamma^SS = D^2 (2 R_2 + R_1) / (2 ((2 R_2 + R_1)^2 + delta^2))
               ~ D^2 R_2 / omega_I^2   at delta = omega_I >> R_2.
  **The paper prints Gamma^SS = D^2 R_2 / 2 omega_I^2, half of this.**  The factor
  follows from the dissipator exactly as printed in Eq. (1) (Gamma_2 = 2 R_2 on
  L(S_jz) dephases each electron at R_2, a two-electron coherence at 2 R_2); the
  test ``test_flip_flop_rate_against_full_equation`` measures the rate in the full
  equation and agrees with this expression, not with the printed one.
* n-n flip-flop Gamma^II_kk': V = -d_kk'/2, width 2 (r_2 + r_1/2);
* solid effect Gamma^SI (electron j + nucleus k, via omega_1 and B):
      V^(2) = -omega_1 B_jk / (4 omega_I)  (for the resonant Y_k = S_2- I_k+ at
      Delta_2 = omega_I; the B of the other electron cancels between the two paths);
* cross effect Gamma^SSI (e_1, e_2 flip-flop + nucleus k, via D and B):
      V^(2) = -D (B_1k - B_2k) / (4 omega_I),
      Gamma^SSI_k = D^2 |B_1k - B_2k|^2 / (8 omega_I^2) * Gamma_3 / (Gamma_3^2 + delta_k^2),
  Gamma_3 = 2 R_2 + R_1 + r_2 + r_1/2, delta_k the secular mismatch (A_jk, D, d
  dependent): the paper's form D^2 |B_1k - B_2k|^2 tau_3k / omega_I^2 with
  tau_3k = Gamma_3 / (8 (Gamma_3^2 + delta_k^2)) (operator valued through delta_k).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from dnpsim.models.cross_effect import CrossEffectModel, spin_values
from dnpsim.errors import ConvergenceError

#: Largest number of spins (electrons + nuclei) of the explicit 2^n-state projection.
MAX_PROJECTION_SPINS = 12


def coherence_widths(model: CrossEffectModel) -> np.ndarray:
    """Per-spin contribution to the decay rate of a coherence between Zeeman states
    that differ in that spin (s^-1), (n_spins,): R_2 + R_1/2 (electrons), r_2 + r_1/2."""
    return np.concatenate([np.full(2, model.R2 + model.R1 / 2), np.full(model.n_nuclei, model.r2 + model.r1 / 2)])


def large_zeeman(model: CrossEffectModel, states: np.ndarray) -> np.ndarray:
    """E_0(a) = sum_j Delta_j s_j + omega_I sum_k s_k (rad/s), which defines the manifolds."""
    s = spin_values(states, model.n_spins)
    return s[:, :2] @ model.offsets + model.omega_I * s[:, 2:].sum(axis=1)


def flip_couplings(model: CrossEffectModel) -> np.ndarray:
    """Dense V (2^n, 2^n) complex: the off-diagonal part of H in the Zeeman basis,
    V[b, a] = <b|H|a> for b != a (rad/s), built from bit operations (module doc)."""
    n = model.n_spins
    dim = 2**n
    states = np.arange(dim)
    s = spin_values(states, n)
    V = np.zeros((dim, dim), complex)
    for j in range(2):                                   # omega_1 S_jx
        V[states ^ (1 << j), states] += model.omega1 / 2
    opposite = s[:, 0] != s[:, 1]                        # -(D/2)(S1+S2- + h.c.)
    V[states[opposite] ^ 0b11, states[opposite]] += -model.D / 2
    for k in range(model.n_nuclei):
        bit = 1 << (2 + k)
        amp = (s[:, :2] @ model.B[:, k]) / 2               # sum_j B_jk s_j / 2 for I_k+
        down = (states & bit) == 0
        V[states[down] | bit, states[down]] += amp[down]
        V[states[~down] & ~bit, states[~down]] += np.conj(amp[~down])
        for l in range(k + 1, model.n_nuclei):
            if model.d[k, l] == 0:
                continue
            mask = s[:, 2 + k] != s[:, 2 + l]
            V[states[mask] ^ (bit | (1 << (2 + l))), states[mask]] += -model.d[k, l] / 2
    return V


@dataclass(frozen=True)
class ProjectedRates:
    """Rates of the Zeeman-projected dynamics (Eq. (4)) over all 2^n product states.

    W[b, a] is the rate a -> b (s^-1, zero diagonal); ``generator`` Q = W - diag(sum_b W)
    acts as dp/dt = Q p.  ``energies`` are the secular energies (with second-order
    level shifts), ``coherent_fraction`` the largest W_ab / Gamma_ab (the projection
    needs it << 1, "Gamma << R_2" in the paper)."""

    model: CrossEffectModel
    W: np.ndarray
    energies: np.ndarray
    coherent_fraction: float

    @property
    def generator(self) -> np.ndarray:
        return self.W - np.diag(self.W.sum(axis=0))


def projected_rates(model: CrossEffectModel, cutoff: float | None = None, second_order: bool = True,
                    relaxation: bool = True) -> ProjectedRates:
    """Rates of Eq. (4) derived as in the module docstring, for n <= 12 spins.

    ``cutoff`` (rad/s, default omega_I/2) separates Zeeman manifolds by E_0;
    ``second_order=False`` keeps only direct (first-order) couplings;
    ``relaxation=False`` drops the T_1 jumps (for tests)."""
    n = model.n_spins
    if n > MAX_PROJECTION_SPINS:
        raise ValueError(f"n_spins: the explicit projection enumerates 2^n states, n <= {MAX_PROJECTION_SPINS}; use kmc")
    cutoff = model.omega_I / 2 if cutoff is None else float(cutoff)
    states = np.arange(2**n)
    E = model.zeeman_energies(states)
    E0 = large_zeeman(model, states)
    V = flip_couplings(model)
    same = np.abs(E0[:, None] - E0[None, :]) < cutoff
    Veff = V.copy()
    if second_order:
        diff = E[None, :] - E[:, None]                   # diff[m, a] = E_a - E_m
        with np.errstate(divide="ignore"):
            G = np.where(same, 0.0, 1.0 / np.where(same, 1.0, diff))
        V2 = 0.5 * (V @ (G * V) + (V * G.T) @ V)
        V2 = np.where(same, V2, 0.0)
        E = E + np.real(np.diag(V2))
        np.fill_diagonal(V2, 0.0)
        Veff = Veff + V2
    np.fill_diagonal(Veff, 0.0)
    s = spin_values(states, n)
    widths = coherence_widths(model)
    flipped = (states[:, None] ^ states[None, :])
    bits = (flipped[..., None] >> np.arange(n)) & 1
    gamma = bits @ widths                                 # Gamma_ab
    mismatch = E[:, None] - E[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        W = np.where(np.abs(Veff) > 0, 2 * np.abs(Veff) ** 2 * gamma / (gamma**2 + mismatch**2), 0.0)
        fraction = np.where(np.abs(Veff) > 0, W / np.where(gamma > 0, gamma, np.inf), 0.0)
    if relaxation:
        for j in range(2):
            up = s[:, j] > 0
            W[states[up] ^ (1 << j), states[up]] += (1 + model.p) * model.R1 / 2
            W[states[~up] ^ (1 << j), states[~up]] += (1 - model.p) * model.R1 / 2
        for k in range(model.n_nuclei):
            W[states ^ (1 << (2 + k)), states] += model.r1 / 2
    np.fill_diagonal(W, 0.0)
    return ProjectedRates(model, W, E, float(fraction.max(initial=0.0)))


def thermal_populations(model: CrossEffectModel, nuclear_polarization: float = 0.0) -> np.ndarray:
    """Populations of the paper's initial state (diagonal of rho_th, see
    :func:`dnpsim.dynamics.liouville.thermal_state`), (2^n,)."""
    s = spin_values(np.arange(2**model.n_spins), model.n_spins)
    w = np.prod(1 - 2 * model.p * s[:, :2], axis=1) / 4
    return w * np.prod(1 - 2 * nuclear_polarization * s[:, 2:], axis=1) / 2**model.n_nuclei


@dataclass(frozen=True)
class RateSolution:
    """Solution of the projected rate equations: populations (2^n,) or (T, 2^n),
    polarizations (package convention), residual ||Q p||_1 / ||Q||_1."""

    populations: np.ndarray
    electron_polarization: np.ndarray
    nuclear_polarization: np.ndarray
    residual: float
    wall_time: float
    times: np.ndarray | None = None


def rate_steady_state(rates: ProjectedRates, tol: float = 1e-9) -> RateSolution:
    """Stationary populations of dp/dt = Q p (Eq. (4) projected on populations): dense
    solve with the normalization replacing one equation, then the residual check
    (:class:`ConvergenceError` above ``tol``)."""
    from dnpsim.dynamics.liouville import population_polarizations

    start = time.perf_counter()
    Q = rates.generator
    A = Q.copy()
    A[0, :] = 1.0
    rhs = np.zeros(Q.shape[0])
    rhs[0] = 1.0
    p = sla.solve(A, rhs)
    residual = float(np.abs(Q @ p).sum() / max(np.abs(Q).sum(axis=0).max(), 1e-300))
    if not residual < tol or np.any(p < -1e-9):
        raise ConvergenceError("projected rate equation: stationary solve inaccurate", residual)
    p = np.clip(p, 0.0, None)
    p /= p.sum()
    pe, pn = population_polarizations(rates.model, p)
    return RateSolution(p, pe, pn, residual, time.perf_counter() - start)


def rate_evolve(rates: ProjectedRates, times, p0: np.ndarray | None = None) -> RateSolution:
    """p(t) = exp(Q t) p0 on ``times`` (s, increasing), p0 default the thermal state
    (:func:`thermal_populations`).  Exact dense propagators, one per distinct step."""
    from dnpsim.dynamics.liouville import population_polarizations

    start = time.perf_counter()
    times = np.asarray(times, float)
    if times.ndim != 1 or times.size == 0 or np.any(times < 0) or np.any(np.diff(times) < 0):
        raise ValueError("times: must be a non-empty increasing array of non-negative times")
    from dnpsim.solvers.propagation import propagate_dense

    p = thermal_populations(rates.model) if p0 is None else np.asarray(p0, float)
    P = propagate_dense(rates.generator, p, times)
    pe, pn = population_polarizations(rates.model, P)
    return RateSolution(P, pe, pn, float("nan"), time.perf_counter() - start, times)


# =========================================================================== local
# Local process rates (the same derivation, written per process so that they cost
# O(1) each for any number of nuclei) and the kinetic Monte Carlo built on them.
#
# Processes of a configuration (s_1, s_2 electrons, s_k nuclei, s = +-1/2):
#   electron j flip   T_1 + 2 (omega_1/2)^2 g_e / (g_e^2 + dE^2)
#   e-e flip-flop     2 (D/2)^2 (2 g_e) / ((2 g_e)^2 + dE^2)                (s_1 != s_2)
#   nucleus k flip    r_1/2 + 2 |b_k|^2 g_n / (g_n^2 + dE^2),  b_k = sum_j B_jk s_j / 2
#   n-n flip-flop     2 (d_kl/2)^2 (2 g_n) / ((2 g_n)^2 + dE^2)             (s_k != s_l)
#   SE  e_j + n_k     second order via omega_1 and b_k (both orders of the two flips)
#   CE  e_1 e_2 n_k   second order via -D/2 and b_k                        (s_1 != s_2)
# with g_e = R_2 + R_1/2, g_n = r_2 + r_1/2 and dE the exact change of the secular
# energy.  The second-order amplitudes are those of :func:`projected_rates`
# (V^(2) = 1/2 sum_m V_fm V_ma [1/(E_a - E_m) + 1/(E_f - E_m)], intermediates outside
# the manifold of a only, final state inside it); second-order level shifts and the
# (cancelling) two-nucleus paths are left out, so the local rates differ from
# :func:`projected_rates` by O(D^2/omega_I^2) relative (tested).

import numba  # noqa: E402

from dnpsim.solvers.kmc import (exponential_wait, sumtree_build, sumtree_empty, sumtree_leaf,  # noqa: E402
                                sumtree_sample, sumtree_total, sumtree_update, uniform)

# indices into the packed parameter vector of the kernels
_D, _W1, _GE, _GN, _EUD, _EDU, _NFL, _CUT, _WI, _D1, _D2 = range(11)


def _packed(model: CrossEffectModel, cutoff: float | None = None) -> np.ndarray:
    cutoff = model.omega_I / 2 if cutoff is None else float(cutoff)
    return np.array([model.D, model.omega1, model.R2 + model.R1 / 2, model.r2 + model.r1 / 2,
                     (1 + model.p) * model.R1 / 2, (1 - model.p) * model.R1 / 2, model.r1 / 2, cutoff,
                     model.omega_I, model.offsets[0], model.offsets[1]])


@numba.njit(cache=True, inline="always")
def _lorentz(v2, gamma, de):
    return 2.0 * v2 * gamma / (gamma * gamma + de * de)


@numba.njit(cache=True, inline="always")
def _electron_rates(s1, s2, hA1, hA2, par, out):
    """out[0], out[1]: flip of electron 1, 2; out[2]: e-e flip-flop."""
    D, w1, ge = par[_D], par[_W1], par[_GE]
    for j in range(2):
        sj = s1 if j == 0 else s2
        so = s2 if j == 0 else s1
        de = -2.0 * sj * (par[_D1 + j] + 2.0 * D * so + (hA1 if j == 0 else hA2))
        t1 = par[_EUD] if sj > 0 else par[_EDU]
        out[j] = t1 + _lorentz(0.25 * w1 * w1, ge, de)
    if s1 != s2:
        de = -2.0 * s1 * (par[_D1] + hA1) - 2.0 * s2 * (par[_D2] + hA2)
        out[2] = _lorentz(0.25 * D * D, 2.0 * ge, de)
    else:
        out[2] = 0.0


@numba.njit(cache=True)
def _nucleus_rates(k, s1, s2, sk, hdk, hA1, hA2, A, Bre, Bim, par, out):
    """out[0] single flip of nucleus k, out[1], out[2] SE with electron 1, 2,
    out[3] CE (three-spin) process."""
    D, w1, ge, gn, cut, wI = par[_D], par[_W1], par[_GE], par[_GN], par[_CUT], par[_WI]
    dk = -2.0 * sk
    conj = -1.0 if sk > 0 else 1.0          # I_- carries B^*
    de_n = dk * (wI + A[0, k] * s1 + A[1, k] * s2 + hdk)
    de0_n = dk * wI
    br = 0.5 * (Bre[0, k] * s1 + Bre[1, k] * s2)
    bi = 0.5 * conj * (Bim[0, k] * s1 + Bim[1, k] * s2)
    out[0] = par[_NFL] + _lorentz(br * br + bi * bi, gn, de_n)
    for j in range(2):
        sj = s1 if j == 0 else s2
        so = s2 if j == 0 else s1
        dj = -2.0 * sj
        de_e = dj * (par[_D1 + j] + 2.0 * D * so + (hA1 if j == 0 else hA2))
        de0_e = dj * par[_D1 + j]
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
        out[1 + j] = _lorentz(vr * vr + vi * vi, ge + gn, de_t)
    out[3] = 0.0
    if s1 != s2 and D != 0.0:
        d1 = -2.0 * s1
        d2 = -2.0 * s2
        de_ff = d1 * (par[_D1] + hA1) + d2 * (par[_D2] + hA2)
        de0_ff = d1 * par[_D1] + d2 * par[_D2]
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
            out[3] = _lorentz(vr * vr + vi * vi, 2.0 * ge + gn, de_t)


@numba.njit(cache=True, inline="always")
def _pair_rate(k, l, dkl, s1, s2, sk, sl, hdk, hdl, A, par):
    """n-n flip-flop of nuclei k, l (zero when parallel)."""
    if sk == sl:
        return 0.0
    dk = -2.0 * sk
    dl = -2.0 * sl
    wI = par[_WI]
    de = dk * (wI + A[0, k] * s1 + A[1, k] * s2 + hdk) + dl * (wI + A[0, l] * s1 + A[1, l] * s2 + hdl) \
        + 2.0 * dkl * dk * dl
    return _lorentz(0.25 * dkl * dkl, 2.0 * par[_GN], de)


def _pairs(model: CrossEffectModel, min_coupling: float = 0.0):
    """Nuclear pairs with |d_kl| > min_coupling (rad/s): arrays k, l, d and a CSR
    incidence (ptr, pair ids, neighbour ids)."""
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


def _strongest_partners(n: int, pk: np.ndarray, pl: np.ndarray, pd: np.ndarray):
    """For each of ``n`` nuclei its most strongly coupled kept neighbour s(k) (int64,
    -1 if none; ties to the lower pair index) and d_{k,s(k)} (rad/s), (n,) each."""
    partner = np.full(n, -1, np.int64)
    partner_d = np.zeros(n)
    for p in np.argsort(-np.abs(pd), kind="stable"):
        for a, b in ((pk[p], pl[p]), (pl[p], pk[p])):
            if partner[a] < 0:
                partner[a] = b
                partner_d[a] = pd[p]
    return partner, partner_d


def local_rates(model: CrossEffectModel, cutoff: float | None = None) -> ProjectedRates:
    """The local process rates (module section "local") assembled into a full rate
    matrix over the 2^n Zeeman states, for small n: the deterministic counterpart of
    :func:`kmc` (same processes, same formulas)."""
    n = model.n_spins
    if n > MAX_PROJECTION_SPINS:
        raise ValueError(f"n_spins: at most {MAX_PROJECTION_SPINS} for the explicit rate matrix")
    par = _packed(model, cutoff)
    N = model.n_nuclei
    A, Bre, Bim = model.A, np.ascontiguousarray(model.B.real), np.ascontiguousarray(model.B.imag)
    pk, pl, pd, *_ = _pairs(model)
    W = np.zeros((2**n, 2**n))
    out3, out4 = np.zeros(3), np.zeros(4)
    for a in range(2**n):
        s = ((a >> np.arange(n)) & 1) - 0.5
        s1, s2, sn = s[0], s[1], s[2:]
        hA = A @ sn
        hd = 2.0 * model.d @ sn
        _electron_rates(s1, s2, hA[0], hA[1], par, out3)
        W[a ^ 1, a] += out3[0]
        W[a ^ 2, a] += out3[1]
        W[a ^ 3, a] += out3[2]
        for k in range(N):
            _nucleus_rates(k, s1, s2, sn[k], hd[k], hA[0], hA[1], A, Bre, Bim, par, out4)
            bit = 1 << (2 + k)
            W[a ^ bit, a] += out4[0]
            W[a ^ bit ^ 1, a] += out4[1]
            W[a ^ bit ^ 2, a] += out4[2]
            W[a ^ bit ^ 3, a] += out4[3]
        for p in range(pk.size):
            k, l = pk[p], pl[p]
            W[a ^ (1 << (2 + k)) ^ (1 << (2 + l)), a] += _pair_rate(k, l, pd[p], s1, s2, sn[k], sn[l], hd[k],
                                                                     hd[l], A, par)
    np.fill_diagonal(W, 0.0)
    return ProjectedRates(model, W, model.zeeman_energies(), float("nan"))


@numba.njit(cache=True)
def _recompute_nuclei(bits, hd, hA1, hA2, A, Bre, Bim, par, Rn, Tn, out4):
    N = Rn.shape[1]
    for c in range(4):
        s1 = (c & 1) - 0.5
        s2 = ((c >> 1) & 1) - 0.5
        tot = 0.0
        for k in range(N):
            _nucleus_rates(k, s1, s2, bits[2 + k] - 0.5, hd[k], hA1, hA2, A, Bre, Bim, par, out4)
            r = out4[0] + out4[1] + out4[2] + out4[3]
            Rn[c, k] = r
            tot += r
        Tn[c] = tot


@numba.njit(cache=True)
def _pair_update(p, bits, hd, pk, pl, pd, A, par, Rp, Tp):
    k = pk[p]
    l = pl[p]
    for c in range(4):
        s1 = (c & 1) - 0.5
        s2 = ((c >> 1) & 1) - 0.5
        r = _pair_rate(k, l, pd[p], s1, s2, bits[2 + k] - 0.5, bits[2 + l] - 0.5, hd[k], hd[l], A, par)
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


@numba.njit(cache=True, inline="always")
def _record_until(t_new, times, g, bits, acc, chunk):
    """Add the current spin state (bits - 1/2) to ``acc[chunk]`` at every observation
    time before the next event time ``t_new`` (s); return the next observation index."""
    while g < times.size and times[g] < t_new:
        for i in range(bits.size):
            acc[chunk, g, i] += bits[i] - 0.5
        g += 1
    return g


@numba.njit(cache=True, inline="always")
def _flip_electrons(x, out3, bits):
    """Execute the electron event selected by ``x`` in [0, sum(out3)): flip of
    electron 1, of electron 2, or their flip-flop (rates of :func:`_electron_rates`)."""
    if x < out3[0]:
        bits[0] = 1 - bits[0]
    elif x < out3[0] + out3[1]:
        bits[1] = 1 - bits[1]
    else:
        bits[0] = 1 - bits[0]
        bits[1] = 1 - bits[1]


@numba.njit(cache=True)
def _initial_state(bits, hd, hA, A, pk, pl, pd, p_thermal, rng, tr):
    """Draw trajectory ``tr``'s initial state in place (the paper's rho_th: thermal
    electrons, down with probability (1 + p)/2; nuclei unpolarized) and set the
    hyperfine fields hA (2,) on the electrons and the dipolar fields hd (N,) on the
    nuclei (rad/s) to match.  Both kernels draw it the same way from the same stream."""
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


@numba.njit(cache=True, parallel=True)
def _kmc_kernel(times, seeds, n_chunks, p_thermal, A, Bre, Bim, dmat_ptr, pid, nbr, pk, pl, pd, par,
                max_events):
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
            _initial_state(bits, hd, hA, A, pk, pl, pd, p_thermal, rng, tr)
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
                _electron_rates(bits[0] - 0.5, bits[1] - 0.5, hA[0], hA[1], par, out3)
                te = out3[0] + out3[1] + out3[2]
                total = te + Tn[c] + max(Tp[c], 0.0)
                t_new = t + exponential_wait(rng, tr, total) if total > 0 else np.inf
                g = _record_until(t_new, times, g, bits, acc, chunk)
                if g >= G:
                    break
                if n_ev >= max_events:
                    truncated[chunk] += 1
                    break
                t = t_new
                n_ev += 1
                x = uniform(rng, tr) * total
                if x < te:
                    _flip_electrons(x, out3, bits)
                    continue   # nuclear rates per electron configuration are cached
                x -= te
                if x < Tn[c]:
                    k = N - 1
                    for kk in range(N):
                        if x < Rn[c, kk]:
                            k = kk
                            break
                        x -= Rn[c, kk]
                    _nucleus_rates(k, bits[0] - 0.5, bits[1] - 0.5, bits[2 + k] - 0.5, hd[k], hA[0], hA[1], A,
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


# ------------------------------------------------------------------ thinning
# The tree kernel (:func:`_kmc_tree_kernel`) samples the same Markov process as the
# scan kernel above, with O(log n) selection and O(degree) work per nuclear flip.
# Every nuclear process (single flip + SE + CE of nucleus k; flip-flop of pair p) gets
# a leaf in a sum tree (:mod:`dnpsim.solvers.kmc`) holding an *upper bound* of its
# rate.  A proposal drawn from the tree is accepted with probability
# true_rate / bound, the true rate evaluated for that one process in the current
# state by the exact local formulas (:func:`_nucleus_rates`, :func:`_pair_rate`).
# This is thinning of a Poisson process with a dominating rate, an exact sample of
# the same process: a rejected proposal changes nothing and the clock runs at the
# total of the bounds.  Electron processes (3 rates, O(1)) are drawn exactly.
#
# What a bound covers, so that few leaves change per event:
#   * nucleus leaf of k (s^-1): the current spin of k (both values cached), all four
#     electron configurations (electron flips touch no leaf), the hyperfine fields
#     hA_j within +-``hyperfine_window`` of their value at the last refresh (a nuclear
#     flip does not touch the other N - 1 nucleus leaves; when hA leaves the window,
#     all N are recomputed, O(N)) and the dipolar field hd_k within the same half-width
#     of its own centre;
#   * pair leaf of (k, l): every spin state of the pair (zero rate when parallel) and of
#     the two "partners" s(k), s(l) (each nucleus's most strongly coupled neighbour), all
#     electron configurations, and the reduced fields h*_k = hd_k - 2 d_{k,s(k)} s_{s(k)}
#     within +-``dipolar_window`` of their centres.  A flip-flop of a close pair
#     (k, l) = (s(l), s(k)) -- the most frequent event -- then changes no pair bound:
#     h*_k, h*_l do not see the partner, the other pairs of k and l are bounded for
#     both spins.  Only the leaf of a partner pair is set to zero while its spins are
#     parallel (a close pair stuck parallel would otherwise draw proposals at its full
#     rate, all rejected).
#
# Bounds.  For fixed spins the rates depend on the fields only through the energy
# mismatches, which are monotone (also in floating point: every mismatch is evaluated
# in the same order as in the exact formulas, and rounding is monotone) in each field,
# so interval endpoints bound them.  A Lorentzian 2 v2 g / (g^2 + de^2) is largest at
# the point of the mismatch interval closest to resonance.  The second-order SE/CE
# amplitude v = pref [g_1(x, en) b_f + g_2(x, en) b_s] is a sum of reciprocals
# of monotone mismatches; it is bounded by its value at the window centre plus the
# largest deviation of each reciprocal over its interval (this keeps the cancellation
# between the two paths, which a triangle inequality over the paths would lose).
# Rounding is covered by a relative margin of 1e-12 of the summands (the arithmetic
# error is ~1e-15) and, for the pair mismatch (hd = h* + 2 d s is rounded differently
# from the accumulated hd), a padding of 16 ulps.  A bound that cannot be made finite
# (a pole of an amplitude inside the window) makes the hyperfine window shrink;
# ``bound_violations`` in the result counts proposals whose true rate exceeded the
# bound (zero, tested).

_EPS = 2.220446049250313e-16
_MARGIN = 1e-12
# indices of the per-chunk counters of the tree kernel
(_ST_ELECTRON, _ST_SINGLE, _ST_SE, _ST_CE, _ST_PAIR, _ST_REJ_N, _ST_REJ_P, _ST_REFRESH, _ST_RECENTER,
 _ST_VIOLATION, _ST_SINGULAR) = range(11)
_N_ST = 11
_STAT_NAMES = ("electron", "nuclear_flip", "solid_effect", "cross_effect", "flip_flop", "rejected_nuclear",
               "rejected_pair", "hyperfine_window_refreshes", "dipolar_window_recentres", "bound_violations",
               "singular_bounds")


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
    """Upper bound (s^-1) of the second-order rate lorentz(|v|^2, gamma, x + en + a)
    of :func:`_nucleus_rates` (SE or CE) over the electron mismatch x in [xlo, xhi]
    and the nuclear mismatch en in [enlo, enhi] (rad/s; xc, enc the window centres),
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
    return _lorentz(vb * vb, gamma, _closest_to_zero(tlo, thi)) * (1.0 + _MARGIN)


@numba.njit(cache=True)
def _nucleus_bound(k, sk, hdlo, hdhi, hdc, h1lo, h1hi, h1c, h2lo, h2hi, h2c, A, Bre, Bim, par):
    """Upper bound (s^-1) of out[0] + out[1] + out[2] + out[3] of :func:`_nucleus_rates`
    (single flip + SE with either electron + CE of nucleus k with spin ``sk``) over the
    four electron configurations, the dipolar field hd_k in [hdlo, hdhi] and the
    hyperfine fields hA_1 in [h1lo, h1hi], hA_2 in [h2lo, h2hi] (rad/s; ``*c`` the
    window centres).  Same expressions, in the same order, as the exact rates."""
    D, w1, ge, gn, cut, wI = par[_D], par[_W1], par[_GE], par[_GN], par[_CUT], par[_WI]
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
        tot = par[_NFL] + _lorentz(br * br + bi * bi, gn, _closest_to_zero(enlo, enhi))
        for j in range(2):
            sj = s1 if j == 0 else s2
            so = s2 if j == 0 else s1
            dj = -2.0 * sj
            de0_e = dj * par[_D1 + j]
            if abs(de0_e + de0_n) >= cut or w1 == 0.0:
                continue
            base_e = par[_D1 + j] + 2.0 * D * so
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
            de0_ff = d1 * par[_D1] + d2 * par[_D2]
            if abs(de0_ff + de0_n) < cut:
                xa = d1 * (par[_D1] + h1lo) + d2 * (par[_D2] + h2lo)
                xb = d1 * (par[_D1] + h1lo) + d2 * (par[_D2] + h2hi)
                xd = d1 * (par[_D1] + h1hi) + d2 * (par[_D2] + h2lo)
                xe = d1 * (par[_D1] + h1hi) + d2 * (par[_D2] + h2hi)
                xc = d1 * (par[_D1] + h1c) + d2 * (par[_D2] + h2c)
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
def _pair_bound(k, l, dkl, wklo, wkhi, wllo, wlhi, partner, partner_d, A, par):
    """Upper bound (s^-1) of :func:`_pair_rate` of nuclei k, l for *every* spin state
    of the pair (zero rate when parallel, either antiparallel orientation), the four
    electron configurations, either spin of the partners s(k), s(l), and the reduced
    fields h*_k in [wklo, wkhi], h*_l in [wllo, wlhi] (rad/s; see
    :func:`_partner_interval`): the Lorentzian at the mismatch closest to resonance.
    Independent of the spins, it stays valid when k, l or s(k), s(l) flip, so a
    flip-flop of a close pair (k, l) with s(k) = l, s(l) = k touches no pair leaf.  The
    mismatch interval is padded by 16 ulps of its terms (h* + 2 d s is rounded
    differently from the accumulated hd of the exact rate)."""
    wI = par[_WI]
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
    return _lorentz(0.25 * dkl * dkl, 2.0 * par[_GN], closest) * (1.0 + _MARGIN)


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
        v = _nucleus_bound(k, b - 0.5, hdn_w[0, k], hdn_w[1, k], hdn_w[2, k], hA_w[0, 0], hA_w[1, 0],
                           hA_w[2, 0], hA_w[0, 1], hA_w[1, 1], hA_w[2, 1], A, Bre, Bim, par)
        ncache[b, k] = v
    return v


@numba.njit(cache=True, inline="always")
def _pair_leaf(p, hsp_w, pk, pl, pd, partner, partner_d, A, par):
    """Thinning bound of pair p (s^-1) for the reduced-field windows hsp_w (3, N)."""
    k = pk[p]
    l = pl[p]
    return _pair_bound(k, l, pd[p], hsp_w[0, k], hsp_w[1, k], hsp_w[0, l], hsp_w[1, l], partner, partner_d, A, par)


@numba.njit(cache=True, inline="always")
def _reduced_field(x, hd, bits, partner, partner_d):
    """h*_x = hd_x - 2 d_{x,s(x)} s_{s(x)} (rad/s), the dipolar field on nucleus x
    without its most strongly coupled neighbour s(x)."""
    sx = partner[x]
    if sx < 0:
        return hd[x]
    return hd[x] - 2.0 * partner_d[x] * (bits[2 + sx] - 0.5)


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
            h = _reduced_field(m, hd, bits, partner, partner_d)
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
    """Event loop of :func:`kmc` (algorithm "tree"): sum-tree selection of nuclear
    processes with thinning (section note above), electron processes exact.

    times (G,) s; seeds (n_traj,) uint64; A, Bre, Bim (2, N) rad/s; pairs as from
    :func:`_pairs`, partner (N,) int64 and partner_d (N,) rad/s from
    :func:`_strongest_partners`, pflag (P,) int64 (partner pairs); par from :func:`_packed`; win_hA, win_hd window half-widths
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
            # initial state as in the scan kernel (same draws): thermal electrons, nuclei unpolarized
            _initial_state(bits, hd, hA, A, pk, pl, pd, p_thermal, rng, tr)
            for k in range(N):
                _set_window(hdn_w, k, hd[k], win_hA)
                _set_window(hsp_w, k, _reduced_field(k, hd, bits, partner, partner_d), win_hd)
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
                _electron_rates(s1, s2, hA[0], hA[1], par, out3)
                te = out3[0] + out3[1] + out3[2]
                tn = sumtree_total(ntree)
                tp = sumtree_total(ptree)
                total = te + tn + tp
                t_new = t + exponential_wait(rng, tr, total) if total > 0 else np.inf
                g = _record_until(t_new, times, g, bits, acc, chunk)
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
                    _flip_electrons(x, out3, bits)
                    continue   # nuclear bounds hold for every electron configuration
                x -= te
                if x < tn:
                    k = sumtree_sample(ntree, x)
                    _nucleus_rates(k, s1, s2, bits[2 + k] - 0.5, hd[k], hA[0], hA[1], A, Bre, Bim, par, out4)
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
                    r = _pair_rate(k, l, pd[p], s1, s2, bits[2 + k] - 0.5, bits[2 + l] - 0.5, hd[k], hd[l], A, par)
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

    ``proposals`` counts accepted + thinning-rejected proposals (equal to ``events``
    for the scan algorithm); ``event_counts`` breaks them down by kind (tree algorithm:
    electron, nuclear_flip, solid_effect, cross_effect, flip_flop, rejected_nuclear,
    rejected_pair, hyperfine_window_refreshes, dipolar_window_recentres,
    bound_violations -- zero unless a bound is wrong --, singular_bounds)."""

    times: np.ndarray
    electron_polarization: np.ndarray
    nuclear_polarization: np.ndarray
    electron_stderr: np.ndarray
    nuclear_stderr: np.ndarray
    trajectories: int
    events: int
    wall_time: float
    proposals: int = 0
    algorithm: str = "scan"
    event_counts: dict = field(default_factory=dict)

    @property
    def acceptance(self) -> float:
        """Accepted / proposed events (1 for the rejection-free scan)."""
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


def kmc(model: CrossEffectModel, times, trajectories: int, rng: np.random.Generator, *, cutoff: float | None = None,
        min_pair_coupling: float = 0.0, threads: int | None = None, max_events: int = 10**9, algorithm: str = "tree",
        hyperfine_window: float | None = None, dipolar_window: float | None = None) -> KMCResult:
    """Kinetic Monte Carlo of the Zeeman-projected dynamics (Eq. (4)) with the local
    rates (module section "local"), from the paper's initial state (thermal electrons,
    unpolarized nuclei), averaged over ``trajectories``; ``times`` (T,) in s.

    ``algorithm="tree"`` (default): rejection-free for the electron events, thinning
    with exact acceptance for the hyperfine-field-dependent SE/CE class and, in the
    same way, for the dipolar-field-dependent nuclear single flips and flip-flops
    (section "thinning" above).  Each nuclear process has a sum-tree leaf
    (:mod:`dnpsim.solvers.kmc`) holding an upper bound of its rate (s^-1), valid for
    every electron configuration, for the hyperfine fields hA_j (and hd_k)
    within +-``hyperfine_window`` and the reduced dipolar fields within
    +-``dipolar_window`` (rad/s) of their values at the last recentring, and, for
    pairs, for every spin state; a proposal drawn in O(log n) is accepted with
    probability true rate / bound.  This is an exact sample of the same Markov
    process as the scan (thinning of a Poisson process); a nuclear flip costs
    O(degree) (plus O(degree log n) when a neighbour's window is recentred and O(N)
    when hA leaves its window).  The windows (default :func:`default_windows`) change
    only the cost; ``KMCResult.acceptance`` and ``event_counts`` report it.

    ``algorithm="scan"``: the previous rejection-free kernel (linear scan over the
    rates, O(N) refresh of all SE/CE rates after each nuclear event), kept as the
    baseline of ``benchmarks/bench_cross_effect.py``.

    Pairs with |d_kl| <= ``min_pair_coupling`` (rad/s) are dropped.  Trajectories run
    in parallel over ``threads`` numba threads; results do not depend on the thread
    count (one generator state per trajectory from ``rng``).  ``max_events`` bounds the
    proposals (tree) or events (scan) per trajectory; a trajectory that reaches it
    raises :class:`ConvergenceError`.

    The standard error per spin is estimated from the spread between
    min(trajectories, 16) interleaved groups of trajectories (so (P - P_exact) / stderr
    is t-distributed with 15 degrees of freedom; since every spin is +-1 per
    trajectory, (1 - P^2) / trajectories is its exact variance).  Shapes and units as in
    :class:`KMCResult`; frequencies and windows in rad/s, times in s.
    """
    from dnpsim.solvers.kmc import trajectory_seeds

    start = time.perf_counter()
    times = np.asarray(times, float)
    if times.ndim != 1 or times.size == 0 or np.any(times < 0) or np.any(np.diff(times) < 0):
        raise ValueError("times: must be a non-empty increasing array of non-negative times")
    if trajectories < 2:
        raise ValueError("trajectories: need at least 2")
    if algorithm not in ("tree", "scan"):
        raise ValueError(f"algorithm: must be 'tree' or 'scan', got {algorithm!r}")
    win_hA, win_hd = default_windows(model)
    win_hA = win_hA if hyperfine_window is None else float(hyperfine_window)
    win_hd = win_hd if dipolar_window is None else float(dipolar_window)
    if not (np.isfinite(win_hA) and win_hA >= 0):
        raise ValueError(f"hyperfine_window: must be finite and >= 0, got {hyperfine_window}")
    if not (np.isfinite(win_hd) and win_hd >= 0):
        raise ValueError(f"dipolar_window: must be finite and >= 0, got {dipolar_window}")
    pk, pl, pd, ptr, pid, nbr = _pairs(model, min_pair_coupling)
    seeds = trajectory_seeds(rng, trajectories)
    # groups of trajectories for the error estimate; results are independent of it
    n_chunks = min(trajectories, 16)
    if threads is not None:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    A = np.ascontiguousarray(model.A)
    Bre, Bim = np.ascontiguousarray(model.B.real), np.ascontiguousarray(model.B.imag)
    par = _packed(model, cutoff)
    counts_by_kind: dict = {}
    if algorithm == "scan":
        acc, events, truncated = _kmc_kernel(times, seeds, n_chunks, model.p, A, Bre, Bim, ptr, pid, nbr, pk, pl, pd,
                                             par, max_events)
        n_events = n_proposals = int(events.sum())
    else:
        partner, partner_d = _strongest_partners(model.n_nuclei, pk, pl, pd)
        pflag = ((partner[pk] == pl) | (partner[pl] == pk)).astype(np.int64)
        acc, st, truncated = _kmc_tree_kernel(times, seeds, n_chunks, model.p, A, Bre, Bim, ptr, pid, nbr, pk, pl,
                                              pd, partner, partner_d, pflag, par, win_hA, win_hd, max_events)
        tot = st.sum(axis=0)
        counts_by_kind = {name: int(v) for name, v in zip(_STAT_NAMES, tot)}
        if tot[_ST_SINGULAR]:
            raise ConvergenceError(f"kmc: a rate bound is singular in {int(tot[_ST_SINGULAR])} trajectories "
                                   "(an amplitude pole at the current fields; the rates themselves diverge)",
                                   float("nan"))
        n_events = int(tot[_ST_ELECTRON] + tot[_ST_SINGLE] + tot[_ST_SE] + tot[_ST_CE] + tot[_ST_PAIR])
        n_proposals = n_events + int(tot[_ST_REJ_N] + tot[_ST_REJ_P])
    if truncated.sum():
        raise ConvergenceError(f"kmc: {int(truncated.sum())} trajectories hit max_events={max_events}", float("nan"))
    counts = np.array([len(range(c, trajectories, n_chunks)) for c in range(n_chunks)], float)
    mean = 2 * acc.sum(axis=0) / trajectories                       # (T, n) of 2<s>
    group = 2 * acc / counts[:, None, None]
    stderr = np.sqrt(np.sum(counts[:, None, None] * (group - mean) ** 2, axis=0) / (trajectories * (n_chunks - 1))) \
        if n_chunks > 1 else np.zeros_like(mean)
    return KMCResult(times, mean[:, :2], -mean[:, 2:], stderr[:, :2], stderr[:, 2:], trajectories, n_events,
                     time.perf_counter() - start, n_proposals, algorithm, counts_by_kind)
