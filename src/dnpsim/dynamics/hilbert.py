"""Hilbert approximation of the secular GKSL equation (Maimbourg et al. 2021, SM Sec. I E).

Populations of the eigenstates of H_S obey the rate equation (S52)

    dp_n/dt = sum_{m != n} (W^B_{m->n} + W^MW_{nm}) p_m - (W^B_{n->m} + W^MW_{nm}) p_n

with bath rates (S18)-(S19), written here as the rate n -> m,

    W^B_{n->m} = gamma(omega_nm) sum_{i, mu} |<m|S^mu_i|n>|^2,  omega_nm = eps_n - eps_m (lab),
    gamma(omega) = h(omega) / T(|omega|),  T = T_1/2 near omega_e, T* for small gaps,

(between neighbouring sectors sum_{mu = x, y} |<m|S^mu_i|n>|^2 = |<m|S^+-_i|n>|^2 / 2,
so W = h(omega_nm)/T_1 sum_i |<m|S^+-_i|n>|^2), microwave rates (S53)

    W^MW_nm = 2 omega_1^2 T_nm |<n|S^x|m>|^2 / (1 + (T_nm Delta omega_nm)^2),
    Delta omega_nm = eps_n - eps_m - (s_n - s_m) omega_MW                    (S49)

and the decoherence time of the secular equation (S18).  As printed, S19 multiplies
each W^B by h once more.  Deriving the coherence decay from the secular dissipator
(S17) with nondegenerate gaps gives instead

    1/T_nm = 1/2 sum_{k != n} W^B_{n->k} + 1/2 sum_{k != m} W^B_{m->k}
             + 1/(4 T(0)) sum_i (<n|S^z_i|n> - <m|S^z_i|m>)^2

(the anticommutator halves the escape rates of both states; the omega = 0 jump
sqrt(gamma(0)) S^z_i(0), gamma(0) = 1/(2 T(0)), gives the pure dephasing).  This is
what is implemented; ``tests/test_hilbert.py`` checks it against the coherence decay
of the dense secular Lindblad dissipator and footnote 6 (N = 1 Bloch solution).

All matrix elements come from :class:`dnpsim.dynamics.eigenbasis.Eigenbasis`; the
generator is block-tridiagonal over sectors and is solved by
:func:`dnpsim.solvers.steady_state.stationary_state`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.dynamics.jumps import total_raising_amplitude
from dnpsim.dynamics.jumps import OpenEnvironment
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal, complete_generator
from dnpsim.solvers.steady_state import stationary_state
from dnpsim.units import detailed_balance


def bath_generator(basis: Eigenbasis, env: OpenEnvironment) -> BlockTridiagonal:
    """Bath rates W^B of Eqs. (S18)-(S19) as a completed block-tridiagonal generator
    (entry [m, n] = rate n -> m, columns sum to zero)."""
    beta = env.beta
    bath = env.bath
    sectors = basis.sectors
    diag, lower, upper = [], [], []
    for k, s in enumerate(sectors):
        gap = s.energies[None, :] - s.energies[:, None]  # [m, n] = eps_n - eps_m
        diag.append(detailed_balance(gap, beta) / bath.t_star * basis.dephasing[k])
    for k in range(len(sectors) - 1):
        low, high = sectors[k], sectors[k + 1]
        gap = high.lab_energies[:, None] - low.lab_energies[None, :]  # (d_{k+1}, d_k): eps_high - eps_low
        # (2 / T_1) * |<.|S^+-_i|.>|^2 / 2 with T(omega_e) = T_1 / 2 (footnote 6)
        lower.append(detailed_balance(-gap, beta) / bath.t1 * basis.raising[k])        # low -> high
        upper.append((detailed_balance(gap, beta) / bath.t1 * basis.raising[k]).T)     # high -> low
    return complete_generator(BlockTridiagonal(diag, lower, upper))


def decoherence_rates(basis: Eigenbasis, bath_gen: BlockTridiagonal, env: OpenEnvironment, k: int, l: int) -> np.ndarray:
    """1/T_nm for n in sector k, m in sector l (derived from S17, see module doc);
    shape (d_k, d_l), 1/s."""
    escape = [-np.diagonal(d) for d in bath_gen.diag]
    zk, zl = basis.sectors[k].spin_z, basis.sectors[l].spin_z
    diff2 = (zk * zk).sum(1)[:, None] + (zl * zl).sum(1)[None, :] - 2.0 * zk @ zl.T
    return 0.5 * (escape[k][:, None] + escape[l][None, :]) + diff2 / (4.0 * env.bath.t_zero)


def microwave_rates(basis: Eigenbasis, bath_gen: BlockTridiagonal, env: OpenEnvironment) -> list[np.ndarray]:
    """W^MW_nm of Eq. (S53) for n in sector k+1, m in sector k, per k; (d_{k+1}, d_k)."""
    model = basis.model
    out = []
    detuning = model.omega_e - env.omega_mw
    for k in range(len(basis.sectors) - 1):
        low, high = basis.sectors[k], basis.sectors[k + 1]
        if env.irradiated is None:
            sx2 = basis.raising_total[k] / 4.0
        else:
            sx2 = total_raising_amplitude(model, low, high, env.irradiated) ** 2 / 4.0
        t_nm = 1.0 / decoherence_rates(basis, bath_gen, env, k + 1, k)
        delta = high.energies[:, None] - low.energies[None, :] + detuning  # Eq. (S49)
        out.append(2.0 * env.omega_1 ** 2 * t_nm / (1.0 + (t_nm * delta) ** 2) * sx2)
    return out


def hilbert_generator(basis: Eigenbasis, env: OpenEnvironment) -> BlockTridiagonal:
    """Completed generator of the Hilbert rate equation (S52): bath + microwave rates."""
    env.check_model(basis.model)
    bath_gen = bath_generator(basis, env)
    mw = microwave_rates(basis, bath_gen, env)
    diag = [d.copy() for d in bath_gen.diag]
    lower = [b + w for b, w in zip(bath_gen.lower, mw)]
    upper = [b + w.T for b, w in zip(bath_gen.upper, mw)]
    return complete_generator(BlockTridiagonal(diag, lower, upper))


@dataclass(frozen=True)
class HilbertSteadyState:
    """Stationary populations of (S52) (sector order of ``basis``) and diagnostics
    (``residual``: :func:`dnpsim.solvers.residual.stationary_residual`,
    ||Q p||_1 / sum_n |Q_nn| p_n)."""

    basis: Eigenbasis = field(repr=False)
    populations: np.ndarray = field(repr=False)
    residual: float
    method: str
    wall_time: float

    def electron_polarization(self) -> np.ndarray:
        """P_i = 2 sum_n p_n <n|S^z_i|n>, shape (N,)."""
        from dnpsim.observables.polarization import polarization

        return polarization(self.populations, self.basis.spin_z())


def hilbert_steady_state(basis: Eigenbasis, env: OpenEnvironment, *, method: str = "auto", tol: float = 1e-8
                         ) -> HilbertSteadyState:
    """Stationary state of the Hilbert rate equation (S52) via the GTH-stable block
    elimination of :mod:`dnpsim.solvers.elimination` (ConvergenceError above ``tol``)."""
    start = time.perf_counter()
    gen = hilbert_generator(basis, env)
    res = stationary_state(gen, method=method, tol=tol)
    return HilbertSteadyState(basis, res.populations, res.residual, res.method, time.perf_counter() - start)
