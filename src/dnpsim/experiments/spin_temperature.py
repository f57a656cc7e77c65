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
import time
from dataclasses import dataclass, field, replace

import numpy as np

from dnpsim.dynamics.eigenbasis import Eigenbasis
from dnpsim.dynamics.rates import Environment, PauliRates
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.observables.polarization import electron_polarizations, nuclear_polarization
from dnpsim.observables.spin_temperature import SpinTemperatureFit, fit_spin_temperature, kl_divergence
from dnpsim.solvers.block_tridiagonal import BlockTridiagonal
from dnpsim.solvers.mixed_precision import Float32Workspace
from dnpsim.solvers.propagation import evolve_populations
from dnpsim.solvers.steady_state import MIXED_MIN_BLOCK, stationary_state_split, stationary_states

#: Largest batch of generators (bytes) eliminated together by
#: :meth:`SpinTemperatureEngine.stationary_many`.
BATCH_BYTES = 16 * 2**20


@dataclass(frozen=True)
class StationaryPoint:
    """Stationary state of the rate equation for one environment.

    populations : (n_states,) p_n in the engine's eigenstate order (sector by sector)
    nuclear_polarization : 2<I_z> (Eq. (26)), NaN without nucleus
    electron_polarization : (N,) 2<S_z^i>, input order
    residual, method, wall_time : solver diagnostics (relative flux residual, s)
    """

    environment: Environment
    populations: np.ndarray = field(repr=False)
    nuclear_polarization: float
    electron_polarization: np.ndarray = field(repr=False)
    residual: float
    method: str
    wall_time: float


class SpinTemperatureEngine:
    """Rate-equation engine for one realization of :class:`DipolarElectrons`.

    Parameters
    ----------
    model : DipolarElectrons
    progress : callable(done_sectors) or None, called while diagonalizing
    keep_vectors : keep eigenvectors (needed only for custom observables)
    """

    def __init__(self, model: DipolarElectrons, *, progress=None, keep_vectors: bool = False):
        self.model = model
        start = time.perf_counter()
        self.basis = Eigenbasis.build(model, keep_vectors=keep_vectors, progress=progress)
        self.setup_time = time.perf_counter() - start
        self._rates: dict[tuple[float, float], PauliRates] = {}
        self._nuclear_z = self.basis.nuclear_z()
        self._spin_z = self.basis.spin_z()
        self._local = threading.local()  # float32 workspace of each solving thread

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
        return self.rates(environment).generator(environment.mw_frequency, environment.mw_amplitude, environment.t2e)

    # ------------------------------------------------------------ stationary
    def stationary(self, environment: Environment, *, method: str = "auto", tol: float = 1e-8) -> StationaryPoint:
        """Stationary state of Eq. (11) (dp/dt = 0) with its observables."""
        return self._stationary_batch([environment], method, tol)[0]

    def _point(self, environment: Environment, result) -> StationaryPoint:
        p = result.populations
        pn = nuclear_polarization(p, self._nuclear_z) if self._nuclear_z is not None else float("nan")
        return StationaryPoint(environment, p, pn, electron_polarizations(p, self._spin_z), result.residual,
                               result.method, result.wall_time)

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
                rates.split_generator(e.mw_frequency, e.mw_amplitude, e.t2e, microwave_buffers=microwave),
                tol=tol, workspace=workspace)) for e in environments]
        omegas = np.array([e.mw_frequency for e in environments])
        generators = rates.generator(omegas if len(environments) > 1 else omegas[0], first.mw_amplitude, first.t2e)
        results = stationary_states(generators, method=method, tol=tol)
        return [self._point(e, r) for e, r in zip(environments, results)]

    def stationary_many(self, environments, *, progress=None, workers: int | None = None,
                        method: str = "auto", tol: float = 1e-8) -> list[StationaryPoint]:
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

    def profile(self, environment: Environment, frequencies, *, progress=None,
                workers: int | None = None) -> list[StationaryPoint]:
        """DNP profile: stationary states for every omega_MW in ``frequencies`` (rad/s),
        reusing spectrum, matrix elements and bath rates (see :meth:`stationary_many`)."""
        return self.stationary_many([replace(environment, mw_frequency=float(omega))
                                     for omega in np.asarray(frequencies, dtype=float)],
                                    progress=progress, workers=workers)

    # ------------------------------------------------------- spin temperature
    def block_energies(self) -> np.ndarray:
        """E_n = eps_n - omega_e s_n of every eigenstate (rad/s), engine order."""
        return np.concatenate([s.energies for s in self.basis.sectors])

    def magnetizations(self) -> np.ndarray:
        return self.basis.magnetizations()

    def spin_temperature(self, point: StationaryPoint) -> SpinTemperatureFit:
        """Fitting method (Eq. (18)) for this realization alone."""
        return fit_spin_temperature(self.block_energies(), self.magnetizations(), point.populations,
                                    self.model.electron_larmor)

    def kl_divergence(self, point: StationaryPoint, fit: SpinTemperatureFit) -> float:
        """Eq. (27) between the stationary state and the ansatz ``fit``."""
        return kl_divergence(point.populations, fit.populations(self.block_energies(), self.magnetizations()))

    # --------------------------------------------------------------- dynamics
    def thermal_populations(self, temperature: float) -> np.ndarray:
        """Boltzmann populations exp(-beta eps_n)/Z of the full Hamiltonian."""
        from dnpsim.units import inverse_temperature

        beta = inverse_temperature(temperature)
        log_w = -beta * self.basis.lab_energies()
        w = np.exp(log_w - log_w.max())
        return w / w.sum()

    def evolve(self, environment: Environment, times, p0: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Populations under Eq. (11) from ``p0`` (default: thermal, microwaves off) at
        ``times`` (s).  Returns {"time", "populations" (T, n), "nuclear_polarization"
        (T,), "electron_polarization" (T, N)} — the build-up curve of P_n."""
        if p0 is None:
            p0 = self.thermal_populations(environment.temperature)
        times = np.asarray(times, dtype=float)
        pops = evolve_populations(self.generator(environment), p0, times)
        out = {"time": times, "populations": pops, "electron_polarization": 2.0 * pops @ self._spin_z}
        if self._nuclear_z is not None:
            out["nuclear_polarization"] = 2.0 * pops @ self._nuclear_z
        return out
