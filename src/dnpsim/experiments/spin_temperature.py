"""The spin-temperature engine (De Luca, Rodríguez Arias, Müller, Rosso, PRB 94,
014203 (2016)).

One disorder realization of the model of Eq. (9) is diagonalized once
(:class:`~dnpsim.dynamics.eigenbasis.Eigenbasis`); the Pauli master equation
(Eq. (11)) with bath rates (Eq. (12)) and microwave rates (Eq. (16)) is then solved
for as many environments as needed.  A DNP profile reuses the spectrum, the matrix
elements and the bath rates across microwave frequencies.

Conditioning: the nucleus flips only through the hyperfine admixture, at rates about
(D / 2 omega_n)^2 times the electron rates, so the stationary P_n carries a relative
round-off of roughly eps (2 omega_n / D)^2 whatever the solver (1e-9 for D = 30 kHz,
omega_n = 20 MHz).  The thermometer must be weak, but not arbitrarily weak.
"""

from __future__ import annotations

import threading
from math import comb
import time
from dataclasses import dataclass, field, replace

import numpy as np

from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.dynamics.rates import Environment, PauliRates
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.observables.polarization import polarization
from dnpsim.observables.spin_temperature import SpinTemperatureFit, fit_spin_temperature, kl_divergence
from dnpsim.errors import SpecError
from dnpsim.methods import RateEquation, engine_method
from dnpsim.result import Enhancement, Result
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal
from dnpsim.solvers.mixed_precision import Float32Workspace
from dnpsim.solvers.propagation import evolve_populations
from dnpsim.solvers.steady_state import MIXED_MIN_BLOCK, stationary_state_split, stationary_states

#: Largest batch of generators (bytes) eliminated together by
#: :meth:`SpinTemperatureEngine.stationary_many`.
BATCH_BYTES = 16 * 2**20


def estimate_engine_memory(n_electrons: int, with_nucleus: bool) -> int:
    """Peak bytes the spin-temperature engine needs for ``n_electrons`` (rough upper
    bound): eigenvectors of one sector pair, the sector-pair transition strengths and
    the block-tridiagonal rate matrix with its factorization."""
    p = 2 if with_nucleus else 1
    dims = [comb(n_electrons, k) * p for k in range(n_electrons + 1)]
    sq = sum(d * d for d in dims)
    cross = sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    # strengths: 2 cross (raising, S_x) + 1 sq (S_z); rates: bath + total + factor
    return 8 * (3 * sq + 2 * cross + 3 * (sq + 2 * cross))


@dataclass(frozen=True)
class StationaryPoint:
    """Stationary state of the rate equation for one environment.

    populations : (n_states,) p_n in the engine's eigenstate order (sector by sector)
    nuclear_polarization : 2<I_z> (Eq. (26)), NaN without nucleus
    electron_polarization : (N,) 2<S_z^i>, input order
    residual, method, iterations, wall_time : solver diagnostics (the stationary
        residual of :mod:`dnpsim.result`, the algorithm used, refinement steps, s)
    """

    environment: Environment
    populations: np.ndarray = field(repr=False)
    nuclear_polarization: float
    electron_polarization: np.ndarray = field(repr=False)
    residual: float
    method: str
    wall_time: float
    iterations: int = 0


class SpinTemperatureEngine:
    """Rate-equation engine for one realization of :class:`DipolarElectrons` (2016
    paper): diagonalizes once on construction, then solves the Pauli master equation
    (Eq. (11) with Eqs. (12), (16)) for any number of environments.

    Parameters
    ----------
    model : DipolarElectrons (Hz, like every public input)
    method : :class:`~dnpsim.methods.RateEquation` options (solver, tol, spin-temperature
        fit); the defaults of the spec files.
    progress : callable(done_sectors) or None, called while diagonalizing
    keep_vectors : keep eigenvectors (needed only for custom observables)

    Operations: :meth:`stationary` (one :class:`~dnpsim.result.Result`), :meth:`profile`
    (a DNP profile as an :class:`xarray.Dataset`), :meth:`evolve` (the build-up from
    the thermal state, a time-resolved Result).  ``stationary_point`` /
    :meth:`stationary_many` give the raw :class:`StationaryPoint` objects.
    """

    def __init__(self, model: DipolarElectrons, method: RateEquation | None = None, *, progress=None,
                 keep_vectors: bool = False):
        if not isinstance(model, DipolarElectrons):
            raise SpecError("model", f"must be a DipolarElectrons, got {type(model).__name__}")
        self.model = model
        self.method = engine_method(method, (RateEquation,), "spin-temperature")
        start = time.perf_counter()
        self.basis = Eigenbasis.build(model, keep_vectors=keep_vectors, progress=progress)
        self.setup_time = time.perf_counter() - start
        self._rates: dict[tuple[float, float], PauliRates] = {}
        self._nuclear_z = self.basis.nuclear_z()
        self._spin_z = self.basis.spin_z()
        self._local = threading.local()  # float32 workspace of each solving thread

    # -------------------------------------------------------- public operations
    def stationary(self, environment: Environment) -> Result:
        """Stationary state of Eq. (11) for ``environment`` as a Result (polarizations,
        enhancements, residual, spin-temperature fit when the method asks for it)."""
        return self.result(self.stationary_point(environment))

    def profile(self, environment: Environment, frequencies, *, progress: bool = False,
                workers: int | None = None):
        """DNP profile: the stationary state at every microwave frequency in
        ``frequencies`` (Hz: a list or array, numbers or strings with units, or a
        ``{start, stop, num}`` table), all other parameters from
        ``environment``.  Reuses spectrum, matrix elements and bath rates (see
        :meth:`stationary_many`).  Returns an :class:`xarray.Dataset` with dimension
        ``mw_frequency`` (Hz) and the variables of :meth:`Result.variables` (e.g.
        ``nuclear_polarization``, ``nuclear_enhancement``, ``electron_polarization``)."""
        from dnpsim.result import results_dataset
        from dnpsim.units import parse_grid

        freqs = parse_grid(frequencies, "frequency", "frequencies")
        environments = [replace(environment, mw_frequency=float(f)) for f in freqs]
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(environments), desc="DNP profile", unit="frequency")
        try:
            points = self.stationary_many(environments, progress=None if bar is None else bar.update, workers=workers)
        finally:
            if bar is not None:
                bar.close()
        return results_dataset([self.result(p) for p in points], "mw_frequency", freqs)

    def evolve(self, environment: Environment, times, p0: np.ndarray | None = None,
               parameters: dict | None = None) -> Result:
        """Build-up under Eq. (11) from ``p0`` (default: the thermal state, i.e. the
        Boltzmann populations of the full Hamiltonian, the stationary state of Eq. (11)
        without microwaves) at ``times`` (s): a time-resolved Result (``times``,
        ``nuclear_polarization_t``, ``electron_polarization_t``, polarizations at the
        last time; ``state`` holds the populations, (T, n_states)), with the build-up
        fit of P_n(t) from its thermal value (``build_up_time``,
        ``build_up_enhancement``: :func:`dnpsim.observables.build_up.build_up_extras`).

        The populations are exp(Q t) p0 with the generator Q of :meth:`generator`
        (:func:`dnpsim.solvers.propagation.evolve_populations`: the conservative dense
        propagator up to 4096 states, i.e. N <= 11 with the nucleus; an implicit BDF
        integrator above), so the long-time limit is the stationary state of
        :meth:`stationary` to the solvers' tolerances.  ``parameters`` (the resolved
        spec) defaults to the tables of the model, the environment and the method."""
        from dnpsim.observables.build_up import build_up_extras
        from dnpsim.units import time_grid

        start = time.perf_counter()
        times = np.asarray(time_grid(times, "times"))
        if p0 is None:
            p0 = self.thermal_populations(environment.temperature)
        pops = evolve_populations(self.generator(environment), p0, times)
        pe_t = polarization(pops, self._spin_z)
        pn_t = None if self._nuclear_z is None else polarization(pops, self._nuclear_z)
        extras = {} if pn_t is None else \
            build_up_extras(times, pn_t, start=float(polarization(np.asarray(p0), self._nuclear_z)))
        electron_b, nuclear_b = self._boltzmann(environment)
        return Result(model="dipolar_electrons", method=self.method.kind, solution="time_resolved",
                      electron_polarization=pe_t[-1], nuclear_polarization=None if pn_t is None else pn_t[-1],
                      enhancement=Enhancement(pe_t[-1] / electron_b, None if pn_t is None else pn_t[-1] / nuclear_b),
                      residual=None, iterations=None, wall_time=time.perf_counter() - start, times=times,
                      electron_polarization_t=pe_t, nuclear_polarization_t=pn_t, extras=extras,
                      state=pops).with_provenance(self._parameters(environment) if parameters is None else parameters)

    def result(self, point: StationaryPoint, parameters: dict | None = None) -> Result:
        """The :class:`~dnpsim.result.Result` of a stationary point: polarizations,
        enhancements (P / P_B at the environment's temperature), the solver's
        diagnostics and, if the method asks for it, the spin-temperature fit (Eq. (18))
        and its KL distance (Eq. (27)) as extras.  ``parameters`` (the resolved spec)
        defaults to the tables of this model, the point's environment and the method."""
        from dnpsim.units import TWO_PI

        electron_b, nuclear_b = self._boltzmann(point.environment)
        nuclear = None if self.model.nucleus is None else point.nuclear_polarization
        extras: dict = {}
        if self.method.spin_temperature:
            fit = self.spin_temperature(point)
            extras["spin_temperature"] = fit.temperature
            extras["inverse_spin_temperature"] = fit.beta_s
            extras["spin_temperature_field"] = fit.h / TWO_PI
            extras["kl_divergence"] = self.kl_divergence(point, fit)
            if self.model.nucleus is not None:
                extras["nuclear_polarization_ansatz"] = fit.nuclear_polarization(self.model.nucleus.omega_n)
        parameters = self._parameters(point.environment) if parameters is None else parameters
        return Result(model="dipolar_electrons", method=self.method.kind, solution="stationary",
                      electron_polarization=point.electron_polarization, nuclear_polarization=nuclear,
                      enhancement=Enhancement(point.electron_polarization / electron_b,
                                              None if nuclear is None else nuclear / nuclear_b),
                      residual=point.residual, iterations=point.iterations, wall_time=point.wall_time,
                      solver=point.method, extras=extras, state=point.populations).with_provenance(parameters)

    def _boltzmann(self, environment: Environment) -> tuple[float, float | None]:
        from dnpsim.result import boltzmann_polarization

        electron = boltzmann_polarization(self.model.electron_larmor, environment.temperature, "electron")
        nuclear = None if self.model.nucleus is None else \
            boltzmann_polarization(self.model.nucleus.larmor, environment.temperature, "nuclear")
        return electron, nuclear

    def _parameters(self, environment: Environment) -> dict:
        return {"model": self.model.to_table(), "environment": environment.to_table(),
                "method": self.method.to_table()}

    # ------------------------------------------------------------------ rates
    def rates(self, environment: Environment) -> PauliRates:
        """Bath rates for (temperature, T_1e), cached."""
        key = (environment.temperature, environment.t1e)
        if key not in self._rates:
            self._rates.clear()  # one bath at a time keeps memory flat
            self._rates[key] = PauliRates(self.basis, environment.beta, environment.t1e)
        return self._rates[key]

    def generator(self, environment: Environment) -> BlockTridiagonal:
        """Generator Q of Eq. (11) (columns sum to zero) for ``environment``."""
        return self.rates(environment).generator(environment.omega_mw, environment.omega_1, environment.t2e)

    # ------------------------------------------------------------ stationary
    def stationary_point(self, environment: Environment, *, method: str | None = None,
                         tol: float | None = None) -> StationaryPoint:
        """Stationary state of Eq. (11) (dp/dt = 0) as a :class:`StationaryPoint`
        (populations and diagnostics); ``method`` / ``tol`` default to the engine's
        :class:`~dnpsim.methods.RateEquation` options."""
        return self._stationary_batch([environment], method or self.method.solver,
                                      self.method.tol if tol is None else tol)[0]

    def _point(self, environment: Environment, result) -> StationaryPoint:
        p = result.populations
        pn = polarization(p, self._nuclear_z) if self._nuclear_z is not None else float("nan")
        return StationaryPoint(environment, p, pn, polarization(p, self._spin_z), result.residual,
                               result.method, result.wall_time, result.iterations)

    def _uses_split_generator(self, method: str) -> bool:
        """Whether ``method`` means the float32 elimination, which reads the
        generator block by block from the bath and transition strengths
        (:class:`~dnpsim.dynamics.rates.MicrowaveGenerator`) instead of a stored one."""
        return method == "mixed" or (method == "auto" and max(self.basis.dims) >= MIXED_MIN_BLOCK)

    def _buffers(self, rates: PauliRates) -> tuple[Float32Workspace, list[np.ndarray]]:
        """This thread's float32 elimination buffers and float64 microwave-rate
        buffers, reused from solve to solve (allocating ~140 MB afresh per frequency
        at N = 12 costs more in page faults than the rate kernels take)."""
        local = self._local
        if getattr(local, "workspace", None) is None:
            local.workspace = Float32Workspace(self.basis.dims)
            local.microwave = rates.microwave_buffers()
        return local.workspace, local.microwave

    def _stationary_batch(self, environments: list[Environment], method: str, tol: float) -> list[StationaryPoint]:
        """Environments differing only in omega_MW: one after the other through the
        split generator for large blocks, else as one batched elimination."""
        first = environments[0]
        rates = self.rates(first)
        if self._uses_split_generator(method):
            workspace, microwave = self._buffers(rates)
            return [self._point(e, stationary_state_split(
                rates.split_generator(e.omega_mw, e.omega_1, e.t2e, microwave_buffers=microwave),
                tol=tol, workspace=workspace)) for e in environments]
        omegas = np.array([e.omega_mw for e in environments])
        generators = rates.generator(omegas if len(environments) > 1 else omegas[0], first.omega_1, first.t2e)
        results = stationary_states(generators, method=method, tol=tol)
        return [self._point(e, r) for e, r in zip(environments, results)]

    def stationary_many(self, environments, *, progress=None, workers: int | None = None,
                        method: str | None = None, tol: float | None = None) -> list[StationaryPoint]:
        """Stationary states for several environments of this realization, in order.

        Environments that differ only in omega_MW are cut into batches of at most
        :data:`BATCH_BYTES` of generators and each batch is eliminated in one go (for
        small systems the per-generator Python overhead would otherwise dominate;
        large systems get batches of one).  Batches are solved ``workers`` at a time in
        threads that each run single-threaded BLAS (LAPACK releases the GIL): block
        factorizations of a few thousand rows use one core far better than two
        (measured at N = 12: two BLAS threads gain 13 %, two environments at once
        1.9x).  The default is the number of BLAS threads this process may use, so
        sweep workers already limited to one thread stay at one.  ``progress`` is
        called after each environment.
        """
        from concurrent.futures import ThreadPoolExecutor

        from dnpsim.solvers.threads import available_blas_threads, single_threaded_blas

        method = method or self.method.solver
        tol = self.method.tol if tol is None else tol
        environments = list(environments)
        if not environments:
            return []
        # group environments that share everything but the microwave frequency
        groups: dict[tuple, list[int]] = {}
        for i, e in enumerate(environments):
            groups.setdefault((e.temperature, e.t1e, e.mw_amplitude, e.t2e), []).append(i)
        per_generator = self.rates(environments[0]).bath.nbytes()
        batch = max(1, int(BATCH_BYTES // max(per_generator, 1)))
        tasks = [members[i : i + batch] for members in groups.values() for i in range(0, len(members), batch)]
        workers = max(1, min(workers or available_blas_threads(), len(tasks)))

        def one(task: list[int]) -> list[StationaryPoint]:
            points = self._stationary_batch([environments[i] for i in task], method, tol)
            if progress is not None:
                for _ in task:
                    progress()
            return points

        # the bath-rate cache holds one bath: threads need them all to share it
        if workers > 1 and len({(e.temperature, e.t1e) for e in environments}) == 1:
            # each solve holds a generator batch and its elimination factors (~2x the
            # generators); use at most half of the memory still available for them.
            # (This keeps N = 14 at one thread, which is also the faster choice there:
            # two threads measured 27.7 s per frequency against 25.1 s for one, and
            # 13.8 GiB peak against 10.9; the LAPACK calls alone do scale 2x at those
            # sizes; presumably the memory-bound passes over the 3.7 GB of bath rates
            # contend, not analysed further.)
            import psutil

            per_task = 2 * per_generator * max(len(t) for t in tasks)
            workers = max(1, min(workers, int(0.5 * psutil.virtual_memory().available // max(per_task, 1))))
        else:
            workers = 1
        if workers == 1:
            solved = [one(task) for task in tasks]
        else:
            with single_threaded_blas(), ThreadPoolExecutor(workers) as pool:
                solved = list(pool.map(one, tasks))
        out: list[StationaryPoint | None] = [None] * len(environments)
        for task, points in zip(tasks, solved):
            for i, point in zip(task, points):
                out[i] = point
        return out

    # ------------------------------------------------------- spin temperature
    def block_energies(self) -> np.ndarray:
        """E_n = eps_n - omega_e s_n of every eigenstate (rad/s), engine order."""
        return np.concatenate([s.energies for s in self.basis.sectors])

    def magnetizations(self) -> np.ndarray:
        return self.basis.magnetizations()

    def spin_temperature(self, point: StationaryPoint | Result) -> SpinTemperatureFit:
        """Fitting method (Eq. (18)) for this realization alone (a stationary point, or
        the Result of :meth:`stationary`)."""
        return fit_spin_temperature(self.block_energies(), self.magnetizations(), _populations(point),
                                    self.model.omega_e)

    def kl_divergence(self, point: StationaryPoint | Result, fit: SpinTemperatureFit) -> float:
        """Eq. (27) between the stationary state and the ansatz ``fit``."""
        return kl_divergence(_populations(point), fit.populations(self.block_energies(), self.magnetizations()))

    # --------------------------------------------------------------- dynamics
    def thermal_populations(self, temperature: float) -> np.ndarray:
        """Boltzmann populations exp(-beta eps_n)/Z of the full Hamiltonian."""
        from dnpsim.units import inverse_temperature

        beta = inverse_temperature(temperature)
        log_w = -beta * self.basis.lab_energies()
        w = np.exp(log_w - log_w.max())
        return w / w.sum()


def _populations(point) -> np.ndarray:
    return point.populations if isinstance(point, StationaryPoint) else point.state


# ------------------------------------------------------------------ spec runs
def run_points(setup, variants, *, progress: bool = False) -> list[Result]:
    """One :class:`~dnpsim.result.Result` per variant of a resolved
    ``dipolar_electrons`` setup with method :class:`~dnpsim.methods.RateEquation`
    (variants differ from ``setup`` in ``environment.*`` only): the realization is
    diagonalized once and the environments are solved together
    (:meth:`SpinTemperatureEngine.stationary_many`), or, with ``method.times``, each
    evolved from the thermal state (:meth:`SpinTemperatureEngine.evolve`).  ``progress`` shows a bar while
    the sectors are diagonalized."""
    model = setup.model()
    if progress:
        from tqdm.auto import tqdm

        with tqdm(total=setup.n_electrons + 1, desc="diagonalizing sectors", unit="sector", leave=False) as bar:
            engine = SpinTemperatureEngine(model, setup.method, progress=lambda done: bar.update(done - bar.n))
    else:
        engine = SpinTemperatureEngine(model, setup.method)
    if setup.method.times is not None:  # the build-up from the thermal state
        return [engine.evolve(v.environment(), setup.method.times, parameters=v.resolved_spec()) for v in variants]
    points = engine.stationary_many([v.environment() for v in variants])
    return [engine.result(point, v.resolved_spec()) for v, point in zip(variants, points)]
