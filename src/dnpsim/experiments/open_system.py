"""The open-system engine of the 2021 paper (Maimbourg, Basko, Holzmann, Rosso, PRL 126,
120603 (2021)): steady states of driven dipolar electrons coupled to a bath.

:class:`OpenSystemEngine` diagonalizes H_S of one realization once and then solves, for
any number of environments, either the nonsecular GKSL equation (jump operators Eqs.
(7)-(8), (S46); :class:`~dnpsim.methods.Nonsecular`: matrix-free Krylov, or a dense
direct solve for small N) or the populations-only Hilbert rate equation (S52, rates
S19; :class:`~dnpsim.methods.Hilbert`).  Every stationary state is reported as a
:class:`~dnpsim.result.Result` with the spin-temperature fit of (S78)-(S79).
:func:`run_points` is the spec runner.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from dnpsim.errors import SpecError
from dnpsim.methods import Hilbert, Nonsecular, engine_method
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.observables.polarization import polarization
from dnpsim.result import Enhancement, Result, boltzmann_polarization, results_dataset


class OpenSystemEngine:
    """Steady states of the 2021 model for one realization.

    Parameters
    ----------
    model : DipolarElectrons without nucleus (Hz)
    method : :class:`~dnpsim.methods.Nonsecular` (default) or :class:`~dnpsim.methods.Hilbert`
    keep_vectors : keep the Hilbert path's eigenvectors (needed for an environment that
        irradiates one spin only); the nonsecular path always keeps them.

    Operations: :meth:`stationary` (one :class:`~dnpsim.result.Result`),
    :meth:`evolve` (the evolution after the microwaves switch on, a time-resolved
    Result) and :meth:`profile` (stationary states over microwave frequencies, an
    :class:`xarray.Dataset`); environments are
    :class:`~dnpsim.dynamics.jumps.OpenEnvironment` (Hz).
    """

    def __init__(self, model: DipolarElectrons, method: Nonsecular | Hilbert | None = None, *,
                 keep_vectors: bool = False):
        if not isinstance(model, DipolarElectrons):
            raise SpecError("model", f"must be a DipolarElectrons, got {type(model).__name__}")
        self.model = model
        self.method = method = engine_method(method, (Nonsecular, Hilbert), "open-system")
        if isinstance(method, Hilbert):
            from dnpsim.dynamics.eigenbasis import Eigenbasis

            self.basis = Eigenbasis.build(model, keep_vectors=keep_vectors)
            self.sectors = self.basis.sectors
        elif method.solver != "dense":
            from dnpsim.dynamics.eigenbasis import diagonalize_sector

            self.sectors = [diagonalize_sector(model, k, keep_vectors=True) for k in range(model.n_electrons + 1)]

    def stationary(self, environment, parameters: dict | None = None) -> Result:
        """Stationary state for ``environment`` (an
        :class:`~dnpsim.dynamics.jumps.OpenEnvironment`): electron polarizations,
        enhancements, the residual, and the spin-temperature fit (S78)-(S79) as extras
        (except for the dense cross-check solver).  ``parameters`` (the resolved spec)
        defaults to the tables of the model, the environment and the method."""
        start = time.perf_counter()
        method = self.method
        if isinstance(method, Hilbert):
            from dnpsim.dynamics.hilbert import hilbert_steady_state

            state = hilbert_steady_state(self.basis, environment, tol=method.tol)
            pol, residual, iterations, solver = state.electron_polarization(), state.residual, None, state.method
            extras = _spin_temperature(self.model, self.sectors, state.populations)
            populations = state.populations
        elif method.solver == "dense":
            from dnpsim.dynamics.gksl import stationary_density_matrix
            from dnpsim.dynamics.lindblad_dense import dense_liouvillian

            rho, residual = stationary_density_matrix(dense_liouvillian(self.model, environment, "nonsecular"),
                                                      tol=method.tol)
            n = self.model.n_electrons
            spin_z = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) - 0.5  # product basis, bit i = spin i up
            pol, iterations, solver, extras = polarization(np.real(np.diag(rho)), spin_z), None, "dense", {}
            populations = rho
        else:
            from dnpsim.dynamics.lindblad import EigenbasisLiouvillian
            from dnpsim.dynamics.lindblad_steady_state import nonsecular_steady_state

            liou = EigenbasisLiouvillian(self.model, environment, self.sectors)
            state = nonsecular_steady_state(liou, method=method.solver, tol=method.tol, maxiter=method.maxiter,
                                            restart=method.restart)
            populations = np.concatenate([np.real(np.diagonal(liou.block(state.rho, k, k)))
                                          for k in range(self.model.n_electrons + 1)])
            pol, residual, iterations, solver = (state.electron_polarization(), state.residual, state.iterations,
                                                 state.method)
            extras = _spin_temperature(self.model, self.sectors, populations)
        p_b = boltzmann_polarization(self.model.electron_larmor, environment.temperature, "electron")
        if parameters is None:
            parameters = {"model": self.model.to_table(), "environment": _environment_table(environment),
                          "method": method.to_table()}
        return Result(model="dipolar_electrons", method=method.kind, solution="stationary",
                      electron_polarization=pol, nuclear_polarization=None,
                      enhancement=Enhancement(np.asarray(pol) / p_b), residual=residual, iterations=iterations,
                      wall_time=time.perf_counter() - start, solver=solver, extras=extras,
                      state=populations).with_provenance(parameters)

    def evolve(self, environment, times, parameters: dict | None = None) -> Result:
        """The evolution after the microwaves switch on, at ``times`` (s): a
        time-resolved Result (``times``, ``electron_polarization_t`` (T, N), the
        polarizations at the last time) with the build-up fit of the mean electron
        polarization (``build_up_time``, ``build_up_enhancement``: the fitted plateau;
        this model has no nucleus).

        The start is the stationary state of the same equation without microwaves
        (omega_1 = 0: the thermal state of this bath; for ``hilbert`` e^{-beta H_S},
        for ``nonsecular`` within 1e-3 of it, docs/conventions.md), so without
        microwaves nothing moves.

        * ``nonsecular``: rho(t) = exp(L t) rho(0) with the dense 4^N x 4^N GKSL
          superoperator of Eq. (S46) (:func:`dnpsim.dynamics.lindblad_dense.dense_liouvillian`),
          propagated by :func:`dnpsim.solvers.propagation.propagate_conserving` (the
          stationary part split off exactly, the trace conserved to round-off): N <= 5
          (:data:`~dnpsim.dynamics.lindblad_dense.MAX_DENSE_SPINS`), refused above
          (SpecError naming ``method.times``).
        * ``hilbert``: populations p(t) = exp(Q t) p(0) with the rate matrix of S52
          (:func:`dnpsim.solvers.propagation.evolve_populations`).

        The long-time limit is the steady state of :meth:`stationary` to the solver
        tolerance ``method.tol``."""
        from dnpsim.observables.build_up import build_up_extras
        from dnpsim.solvers.propagation import evolve_populations, propagate_conserving
        from dnpsim.units import time_grid

        start = time.perf_counter()
        times = np.asarray(time_grid(times, "times"))
        method = self.method
        dark = replace(environment, mw_amplitude=0.0)
        if isinstance(method, Hilbert):
            from dnpsim.dynamics.hilbert import hilbert_generator, hilbert_steady_state

            p0 = hilbert_steady_state(self.basis, dark, tol=method.tol).populations
            pops = evolve_populations(hilbert_generator(self.basis, environment), p0, times)
            pol_t = polarization(pops, self.basis.spin_z())
            pol0 = polarization(p0, self.basis.spin_z())
            solver = "expm" if pops.shape[1] <= 4096 else "bdf"
        else:
            from dnpsim.dynamics.gksl import stationary_density_matrix, trace_functional, vec
            from dnpsim.dynamics.lindblad_dense import MAX_DENSE_SPINS, dense_liouvillian

            n = self.model.n_electrons
            if n > MAX_DENSE_SPINS:
                raise SpecError("method.times", f"the nonsecular evolution forms the dense 4^N x 4^N superoperator: "
                                f"N <= {MAX_DENSE_SPINS} (got N = {n}); drop method.times for the steady state, "
                                "or use method.kind = 'hilbert' for the populations-only evolution")
            rho0, _ = stationary_density_matrix(dense_liouvillian(self.model, dark, "nonsecular"), tol=method.tol)
            x = propagate_conserving(dense_liouvillian(self.model, environment, "nonsecular"), vec(rho0), times,
                                     trace_functional(2**n))
            d = 2**n
            pops = np.real(x[:, :: d + 1])  # diagonal of each column-stacked rho(t)
            spin_z = ((np.arange(d)[:, None] >> np.arange(n)) & 1) - 0.5  # product basis, bit i = spin i up
            pol_t = polarization(pops, spin_z)
            pol0 = polarization(np.real(np.diag(rho0)), spin_z)
            solver = "dense"
        extras = build_up_extras(times, pol_t.mean(axis=1), start=float(np.mean(pol0)))
        p_b = boltzmann_polarization(self.model.electron_larmor, environment.temperature, "electron")
        if parameters is None:
            parameters = {"model": self.model.to_table(), "environment": _environment_table(environment),
                          "method": method.to_table()}
        return Result(model="dipolar_electrons", method=method.kind, solution="time_resolved",
                      electron_polarization=pol_t[-1], nuclear_polarization=None,
                      enhancement=Enhancement(pol_t[-1] / p_b), residual=None, iterations=None,
                      wall_time=time.perf_counter() - start, solver=solver, times=times,
                      electron_polarization_t=pol_t, extras=extras).with_provenance(parameters)

    def profile(self, environment, frequencies, *, progress: bool = False):
        """Stationary states at every microwave frequency in ``frequencies`` (Hz), the
        rest from ``environment``: an :class:`xarray.Dataset` over ``mw_frequency``."""
        from tqdm.auto import tqdm

        from dnpsim.units import parse_grid

        freqs = parse_grid(frequencies, "frequency", "frequencies")
        results = [self.stationary(replace(environment, mw_frequency=float(f)))
                   for f in tqdm(freqs, desc="profile", unit="frequency", disable=not progress)]
        return results_dataset(results, "mw_frequency", freqs)


def _environment_table(environment) -> dict:
    out = {"temperature": environment.temperature, "mw_frequency": environment.mw_frequency,
           "mw_amplitude": environment.mw_amplitude, "t1": environment.bath.t1,
           "t_star": environment.bath.t_star, "t_zero": environment.bath.t_zero}
    if environment.irradiated is not None:
        out["irradiated"] = environment.irradiated
    return out


def run_points(setup, variants, *, progress: bool = False) -> list[Result]:
    """One :class:`~dnpsim.result.Result` per variant setup of one realization
    (variants differ from ``setup`` in ``environment.*`` only): one engine, one
    diagonalization."""
    keep = any(v.environment_values.get("irradiated") is not None for v in variants)
    engine = OpenSystemEngine(setup.model(), setup.method, keep_vectors=keep)
    if setup.method.times is not None:  # the evolution from the state without microwaves
        return [engine.evolve(v.environment(), setup.method.times, v.resolved_spec()) for v in variants]
    return [engine.stationary(v.environment(), v.resolved_spec()) for v in variants]


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
    return {"inverse_spin_temperature": fit.beta_s, "spin_temperature": fit.temperature,
            "spin_temperature_field": fit.h / TWO_PI}
