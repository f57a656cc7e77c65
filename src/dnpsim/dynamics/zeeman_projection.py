"""Zeeman projection of the cross-effect master equation (Eq. (4) of Karabanov et al.
2018): incoherent one-, two- and three-spin processes between Zeeman product states,
derived generically as a rate matrix over all 2^n product states (n <= 12 spins).

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
   (default |omega_I|/2).  A state m outside the manifold of a is a virtual
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

Related modules: the rate equation dp/dt = Q p of these rates
(:mod:`dnpsim.dynamics.zeeman_rate_equation`); the same processes written per process,
O(1) each for any number of nuclei (:mod:`dnpsim.dynamics.zeeman_local_rates`), and
their kinetic Monte Carlo (:mod:`dnpsim.dynamics.cross_effect_kmc`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dnpsim.errors import SpecError
from dnpsim.models.cross_effect import CrossEffectModel, spin_values

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

    ``cutoff`` (rad/s, default |omega_I|/2) separates Zeeman manifolds by E_0;
    ``second_order=False`` keeps only direct (first-order) couplings;
    ``relaxation=False`` drops the T_1 jumps (for tests)."""
    n = model.n_spins
    if n > MAX_PROJECTION_SPINS:
        raise SpecError("n_spins", f"the explicit projection enumerates 2^n states, n <= {MAX_PROJECTION_SPINS}; "
                        "use dnpsim.dynamics.cross_effect_kmc.kmc")
    # |omega_I|: a negative-gamma nucleus has omega_I < 0, its manifolds are as far apart
    cutoff = abs(model.omega_I) / 2 if cutoff is None else float(cutoff)
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
