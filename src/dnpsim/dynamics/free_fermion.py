"""Rates of the free-fermion DNP model (2018 paper, Eqs. (10)-(19)).

Parameters (:class:`NuclearBath`, :class:`~dnpsim.dynamics.rates.Environment`) are in
Hz, s, K; the rates work with their angular values (rad/s): mode energies ``eps``
are rad/s.

Sign convention.  The paper writes the fermion Hamiltonian (6) with +eps n_alpha, but
states <n_alpha> = (1 + P_B)/2 with P_B = tanh(beta eps / 2) > 0 (Eq. (11)).  Both hold
only if the energies entering h(Delta E_{mu nu}) in Eq. (10a) are those of the spin
picture, S^z = 1/2 - n (Eq. (5)): E_mu = const - sum_alpha n_alpha eps_alpha (an
occupied mode = a spin down = lower Zeeman energy).  We use that convention; the
test ``test_bloch_bias_is_stationary_for_eqs_10`` builds the many-body rate matrix of
Eqs. (10a)-(10b) on 2^N states and checks that Eq. (12) is its stationary vector.
The electron polarization of mode alpha is 2<S^z> = -P_B(eps_alpha) (docs/conventions.md).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from dnpsim.dynamics.rates import Environment
from dnpsim.units import Angular, detailed_balance, parse_fields

__all__ = [
    "NuclearBath",
    "bloch_bias",
    "hyperfine_rates",
    "lorentzian",
    "many_body_rates",
    "mode_rates",
    "product_state_probabilities",
]


@dataclass(frozen=True)
class NuclearBath:
    """Nuclear parameters of the 2018 paper (Table I), in the units of the spec files
    (numbers or strings with units).

    larmor : omega_n / 2 pi, Hz (> 0)
    hyperfine : A_0 / 2 pi, Hz (>= 0), the same for every core nucleus
    t1n, t2n : s (> 0), nuclear relaxation times (spec keys ``environment.t1n``, ``t2n``)
    per_electron : N_n / N_e (>= 1; the core nuclei are one per electron)

    The rates use :attr:`omega_n` and :attr:`A0` (rad/s).
    """

    larmor: float
    hyperfine: float
    t1n: float
    t2n: float
    per_electron: float

    #: omega_n and A_0, rad/s
    omega_n = Angular("larmor")
    A0 = Angular("hyperfine")

    def __post_init__(self):
        from dnpsim.errors import ModelError, shown

        parse_fields(self, {"larmor": "frequency", "hyperfine": "frequency", "per_electron": "dimensionless"},
                     "model.nuclei")
        parse_fields(self, {"t1n": "time", "t2n": "time"}, "environment")
        if not (np.isfinite(self.larmor) and self.larmor > 0):
            raise ModelError("model.nuclei.larmor", f"must be positive, got {shown(self.larmor)}")
        if not (np.isfinite(self.hyperfine) and self.hyperfine >= 0):
            raise ModelError("model.nuclei.hyperfine", f"must be non-negative, got {shown(self.hyperfine)}")
        for name in ("t1n", "t2n"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ModelError(f"environment.{name}", f"must be a positive time, got {shown(v)}")
        if not (np.isfinite(self.per_electron) and self.per_electron >= 1):
            raise ModelError("model.nuclei.per_electron", f"must be >= 1, got {shown(self.per_electron)}")

    def to_table(self) -> dict:
        """The spec's ``[model.nuclei]`` table (Hz); the relaxation times are
        ``[environment]`` keys (:meth:`relaxation_table`)."""
        return {"larmor": self.larmor, "hyperfine": self.hyperfine, "per_electron": self.per_electron}

    def relaxation_table(self) -> dict:
        """``environment.t1n`` and ``environment.t2n`` (s)."""
        return {"t1n": self.t1n, "t2n": self.t2n}

    @property
    def leakage_weight(self) -> float:
        """8 N_n / (N_e A_0^2 T_1n T_2n) (dimensionless): the leakage term of Eq. (22)
        relative to the pair sum sum_{ab} O_ab L (...) = N_e int K L; inf if A_0 = 0."""
        if self.hyperfine == 0:
            return np.inf
        return 8.0 * self.per_electron / (self.A0 ** 2 * self.t1n * self.t2n)


def bloch_bias(eps, env: Environment):
    """Bloch bias P_B(eps) of Eq. (11), eps = lab-frame single-particle energy (rad/s).

    P_B = [1 + T2e^2 (eps - omega_MW)^2] tanh(beta eps/2) / [1 + T2e^2 (eps - omega_MW)^2
    + 2 omega_1^2 T1e T2e].  The mode occupation is <n> = (1 + P_B)/2 (Sec. III C)."""
    from dnpsim.theory.bloch import bloch_saturation

    eps = np.asarray(eps, dtype=float)
    return np.tanh(0.5 * env.beta * eps) * bloch_saturation(eps - env.omega_mw, env.omega_1, env.t1e, env.t2e)


def mode_rates(eps, env: Environment):
    """Single-mode rates (fill, empty) in 1/s from Eqs. (10a)-(10b).

    Filling mode alpha (spin flip down) lowers the spin-picture energy by eps, so the
    bath rate is h(eps)/T1e and emptying h(-eps)/T1e; the microwave rate
    T2e omega_1^2 / (1 + T2e^2 (eps - omega_MW)^2) acts both ways."""
    eps = np.asarray(eps, dtype=float)
    beta = env.beta
    mw = env.t2e * env.omega_1 ** 2 / (1.0 + (env.t2e * (eps - env.omega_mw)) ** 2)
    return detailed_balance(eps, beta) / env.t1e + mw, detailed_balance(-eps, beta) / env.t1e + mw


def many_body_rates(eps, env: Environment):
    """Brute-force many-body rate matrix of Eqs. (10a)-(10b) on the 2^N Fock states.

    Returns (states, Q): states (2^N, N) occupations, Q[m, n] = rate n -> m for m != n
    and Q[n, n] = -sum_m rate n -> m (columns sum to zero).  Only for N <= 12 (tests).
    Each pair of states differing in one mode alpha is connected; the energies are
    E_mu = -sum n_alpha eps_alpha (module docstring)."""
    eps = np.asarray(eps, dtype=float)
    n = eps.size
    if n > 12:
        raise ValueError("many_body_rates: at most 12 modes (2^N states)")
    states = np.array(list(itertools.product((0, 1), repeat=n)), dtype=int)
    energies = -states @ eps
    index = {tuple(s): k for k, s in enumerate(states)}
    q = np.zeros((len(states),) * 2)
    beta = env.beta
    for k, s in enumerate(states):
        for a in range(n):
            t = s.copy()
            t[a] = 1 - t[a]
            m = index[tuple(t)]
            de = energies[k] - energies[m]
            bath = detailed_balance(de, beta) / env.t1e  # Eq. (10a): |<mu|a^+|nu>|^2 + |<mu|a|nu>|^2 = 1
            mw = env.t2e * env.omega_1 ** 2 / (1.0 + env.t2e ** 2 * (abs(de) - env.omega_mw) ** 2)  # (10b)
            q[m, k] += bath + mw
    q -= np.diag(q.sum(axis=0))
    return states, q


def product_state_probabilities(states, bias) -> np.ndarray:
    """Eq. (12): p_mu = 2^-N prod_alpha [1 - (-1)^{n_alpha} P_B(eps_alpha)], for the
    occupation rows ``states`` (M, N) and biases (N,)."""
    states = np.asarray(states)
    bias = np.asarray(bias, dtype=float)
    factors = np.where(states == 1, 1.0 + bias, 1.0 - bias) / 2.0
    return factors.prod(axis=1)


def lorentzian(x, t2):
    """L(x) = 1 / (1 + T2^2 x^2), the line shape of Eqs. (14), (19), (22)."""
    return 1.0 / (1.0 + (t2 * np.asarray(x, dtype=float)) ** 2)


def hyperfine_rates(weights, lab_energies, bias, omega, nuclei: NuclearBath, beta: float, *, loss: bool = True):
    """Omega_j(omega) of Eq. (19) (per core nucleus j, 1/s), leakage of Eq. (17) included.

    weights : |phi_{alpha j}|^2, shape (N_sites, N_modes); lab_energies, bias : (N_modes,)
    omega : nuclear energy change (omega_n for emission, -omega_n for absorption)

    Omega_j(omega) = A^2 T2n / 16 sum_{alpha beta} w_aj w_bj [P_a P_b L(omega)
                     + (1 + P_a)(1 - P_b) L(omega + eps_b - eps_a)] + h(omega)/T1n.

    Correction: the printed Eq. (19) has A^2 T2n / 4.  Eq. (14) with |<I_x>|^2 = 1/4 and
    the occupation average <n_a (1 - n_b)> = (1 + P_a)(1 - P_b)/4 (Eqs. (B4)-(B7), (C3))
    give A^2 T2n / 16; only with 1/16 do Eq. (20) and the printed Eqs. (22) and (24)
    agree (checked in tests against a brute-force 2^(N+1)-state rate equation).
    The diagonal alpha = beta terms are kept as in (C5) (they cancel in P_n).
    The leakage h(omega)/T1n is that of one nucleus (T1n = its polarization relaxation
    time, as Eq. (19) writes it).  ``beta`` in s/rad.
    Dense O(N^2 N_sites) evaluation: for tests and small lattices.
    """
    w = np.asarray(weights, dtype=float)
    e = np.asarray(lab_energies, dtype=float)
    p = np.asarray(bias, dtype=float)
    lor = lorentzian(omega + e[None, :] - e[:, None], nuclei.t2n)  # [a, b]
    iss = np.einsum("ja,jb,ab->j", w * (1 + p), w * (1 - p), lor)
    out = nuclei.A0 ** 2 * nuclei.t2n / 16.0 * iss
    if loss:
        out = out + nuclei.A0 ** 2 * nuclei.t2n / 16.0 * (w @ p) ** 2 * lorentzian(omega, nuclei.t2n)
    return out + detailed_balance(omega, beta) / nuclei.t1n
