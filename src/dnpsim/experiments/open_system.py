"""Orchestration of the 2021 open-system engine for spec runs (Maimbourg et al. 2021).

:func:`run_points` turns a resolved ``dipolar_electrons`` setup with method
:class:`~dnpsim.methods.Nonsecular` or :class:`~dnpsim.methods.Hilbert` into
:class:`~dnpsim.result.Result` objects, reusing one diagonalization of H_S for all
environment variants of a realization.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from dnpsim.observables.polarization import polarization
from dnpsim.result import Enhancement, Result, boltzmann_polarization


def run_points(setup, variants, *, progress: bool = False) -> list[Result]:
    """One :class:`~dnpsim.result.Result` per variant setup of one realization
    (variants differ from ``setup`` in ``environment.*`` only)."""
    results = _solve(setup, [v.environment_values for v in variants])
    out = []
    for variant, (polarization, residual, iterations, solver, wall_time, extras) in zip(variants, results):
        p_b = boltzmann_polarization(setup.electron_larmor, variant.environment_values["temperature"], "electron")
        out.append(Result(model="dipolar_electrons", method=setup.method.kind, solution="stationary",
                          electron_polarization=polarization, nuclear_polarization=None,
                          enhancement=Enhancement(np.asarray(polarization) / p_b), residual=residual,
                          iterations=iterations, wall_time=wall_time, solver=solver, extras=extras,
                          parameters=variant.resolved_spec()))
    return out


def _solve(setup, environment_values: list[dict]) -> list[tuple]:
    """(polarization, residual, iterations, solver, wall_time, spin-temperature extras)
    for each environment of one realization."""
    method = setup.method
    model = setup.model()
    if method.kind == "hilbert":
        from dnpsim.dynamics.eigenbasis import Eigenbasis
        from dnpsim.dynamics.hilbert import hilbert_steady_state

        irradiated = any(v.get("irradiated") is not None for v in environment_values)
        basis = Eigenbasis.build(model, keep_vectors=irradiated)
        out = []
        for values in environment_values:
            state = hilbert_steady_state(basis, setup.environment(values), tol=method.tol)
            out.append((state.electron_polarization(), state.residual, None, state.method, state.wall_time,
                        _spin_temperature(model, basis.sectors, state.populations)))
        return out

    from dnpsim.dynamics.eigenbasis import diagonalize_sector
    from dnpsim.dynamics.gksl import stationary_density_matrix
    from dnpsim.dynamics.lindblad import EigenbasisLiouvillian, dense_liouvillian, nonsecular_steady_state

    out = []
    if method.solver == "dense":
        for values in environment_values:
            start = time.perf_counter()
            env = setup.environment(values)
            rho, residual = stationary_density_matrix(dense_liouvillian(model, env, "nonsecular"), tol=method.tol)
            n = model.n_electrons
            spin_z = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) - 0.5  # product basis, bit i = spin i up
            pol = polarization(np.real(np.diag(rho)), spin_z)
            out.append((pol, residual, None, "dense", time.perf_counter() - start, {}))
        return out
    sectors = [diagonalize_sector(model, k, keep_vectors=True) for k in range(model.n_electrons + 1)]
    for values in environment_values:
        start = time.perf_counter()
        liou = EigenbasisLiouvillian(model, setup.environment(values), sectors)
        state = nonsecular_steady_state(liou, method=method.solver, tol=method.tol, maxiter=method.maxiter,
                                        restart=method.restart)
        pops = np.concatenate([np.real(np.diagonal(liou.block(state.rho, k, k))) for k in range(model.n_electrons + 1)])
        out.append((state.electron_polarization(), state.residual, state.iterations, state.method,
                    time.perf_counter() - start, _spin_temperature(model, sectors, pops)))
    return out


def _spin_temperature(model, sectors, populations) -> dict[str, Any]:
    """Spin-temperature ansatz (S78) fitted to <H_S> and <S^z> of the stationary state
    (S79; only the eigenbasis populations enter both averages), with the fit of
    :mod:`dnpsim.observables.spin_temperature`.  ``spin_temperature_field`` is h of
    that module's convention (exp(-beta_s (eps + h s))), in Hz; Eq. (S78) writes -h."""
    from dnpsim.observables.spin_temperature import fit_spin_temperature
    from dnpsim.units import TWO_PI

    energies = np.concatenate([s.energies for s in sectors])
    mags = np.concatenate([np.full(s.dim, s.magnetization) for s in sectors])
    fit = fit_spin_temperature(energies, mags, np.clip(populations, 0.0, None), model.omega_e)
    return {"inverse_spin_temperature": fit.beta_s,
            "spin_temperature": fit.temperature,
            "spin_temperature_field": fit.h / TWO_PI}
