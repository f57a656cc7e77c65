"""The Zeeman-projected rate equation dp/dt = Q p (Eq. (4) of Karabanov et al. 2018 on
the populations of the 2^n Zeeman product states): its stationary state and its time
evolution from the paper's initial state.

Q is the generator of a :class:`~dnpsim.dynamics.zeeman_projection.ProjectedRates`,
either the generic projection (:func:`dnpsim.dynamics.zeeman_projection.projected_rates`)
or the local rates of the kinetic Monte Carlo
(:func:`dnpsim.dynamics.zeeman_local_rates.local_rates`), for n <= 12 spins.
Populations are (2^n,) over the states indexed by their bits (bit i set: s_i = +1/2);
polarizations follow the package convention (P = 2<S_z>, electrons thermal at -p).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dnpsim.dynamics.zeeman_projection import ProjectedRates
from dnpsim.errors import ConvergenceError
from dnpsim.models.cross_effect import CrossEffectModel, spin_values


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
    """Stationary populations of dp/dt = Q p (Eq. (4) projected on populations): one
    direct solve with the normalization replacing one equation and the package's
    stationary residual (:func:`dnpsim.solvers.steady_state.stationary_direct`;
    :class:`ConvergenceError` above ``tol`` or for clearly negative populations)."""
    from dnpsim.dynamics.liouville import population_polarizations
    from dnpsim.solvers.steady_state import stationary_direct

    start = time.perf_counter()
    p, residual = stationary_direct(rates.generator, tol=tol)
    if np.any(p < -1e-9):
        raise ConvergenceError("projected rate equation: stationary solve gave negative populations", residual)
    p = np.clip(p, 0.0, None)
    p /= p.sum()
    pe, pn = population_polarizations(rates.model, p)
    return RateSolution(p, pe, pn, residual, time.perf_counter() - start)


def rate_evolve(rates: ProjectedRates, times, p0: np.ndarray | None = None) -> RateSolution:
    """p(t) = exp(Q t) p0 on ``times`` (s, increasing), p0 default the thermal state
    (:func:`thermal_populations`): the conservative dense propagator
    (:func:`dnpsim.solvers.propagation.propagate_conserving`, one ``expm`` per
    distinct step; total probability conserved to round-off, a stationary p0 stays
    put)."""
    from dnpsim.dynamics.liouville import population_polarizations
    from dnpsim.solvers.propagation import propagate_conserving
    from dnpsim.units import time_grid

    start = time.perf_counter()
    times = np.asarray(time_grid(times, "times"))
    p = thermal_populations(rates.model) if p0 is None else np.asarray(p0, float)
    P = np.real(propagate_conserving(rates.generator, p, times, method="expm"))
    pe, pn = population_polarizations(rates.model, P)
    return RateSolution(P, pe, pn, float("nan"), time.perf_counter() - start, times)
