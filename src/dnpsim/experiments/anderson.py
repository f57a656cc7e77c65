"""Free-fermion (Anderson) DNP engine of the 2018 paper: one disorder realization.

:class:`ExactAnderson` diagonalizes M (Eq. (7)) once (scipy.linalg.eigh, driver
"evd") and then evaluates, for any number of environments and nuclear species,
the Bloch biases (Eq. (11)), P_n (Eqs. (20)/(22), corrected as stated in
:mod:`dnpsim.theory.free_fermion`), the GOE surrogate (Eq. (23)), IPR (Eq. (27)),
DOS, K(omega) (Eq. (25)) and C(omega) (Eq. (30)).  Pair sums never hold the N x N
overlap matrix (row blocks, see :mod:`dnpsim.observables.overlaps`).
:func:`kpm_overlap` is the diagonalization-free path for large L.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from dnpsim.dynamics.free_fermion import NuclearBath, bloch_bias
from dnpsim.methods import FreeFermion, engine_method
from dnpsim.result import Result
from dnpsim.dynamics.rates import Environment
from dnpsim.models.anderson import AndersonLattice
from dnpsim.observables import overlaps
from dnpsim.theory import free_fermion as theory


class ExactAnderson:
    """The free-fermion engine (2018 paper), exact-diagonalization path, for one
    realization of :class:`AndersonLattice` (Hz): diagonalizes M (Eq. (7)) on
    construction.

    Parameters
    ----------
    lattice : AndersonLattice
    method : :class:`~dnpsim.methods.FreeFermion` options (formula, surrogate)

    Operations: :meth:`stationary` (the stationary P_n of Eq. (22) or (20) and the
    site polarizations for one environment, a closed-form
    :class:`~dnpsim.result.Result`), :meth:`evolve` (the build-up after the microwaves
    switch on, a time-resolved Result), :meth:`profile` (over microwave frequencies, an
    :class:`xarray.Dataset`); below them the observables :meth:`ipr`, :meth:`dos`,
    :meth:`k_omega`, :meth:`c_omega` (arguments in rad/s).

    Attributes: ``energies`` (eigenvalues of M without omega_e, rad/s, ascending),
    ``lab_energies`` (+ omega_e), ``weights`` |phi|^2 (N_sites, N_modes), ``diag_time`` (s).
    """

    def __init__(self, lattice: AndersonLattice, method: FreeFermion | None = None):
        import scipy.linalg

        self.method = engine_method(method, (FreeFermion,), "free-fermion")
        self.lattice = lattice
        start = time.perf_counter()
        if lattice.t == 0.0:
            # t = 0: M is diagonal; eigenvectors are the sites (exactly, even for
            # degenerate offsets, where eigh may return any rotation)
            order = np.argsort(lattice.delta_omega.reshape(-1), kind="stable")
            self.energies = lattice.delta_omega.reshape(-1)[order]
            self.weights = np.zeros((lattice.n_sites,) * 2)
            self.weights[order, np.arange(lattice.n_sites)] = 1.0
        else:
            vals, vecs = scipy.linalg.eigh(lattice.dense(), driver="evd", overwrite_a=True, check_finite=False)
            self.energies = vals
            vecs *= vecs  # in place: |phi|^2 without a second N x N array
            self.weights = vecs
        self.diag_time = time.perf_counter() - start

    @property
    def n(self) -> int:
        """Number of modes N = L^3."""
        return self.energies.size

    @property
    def lab_energies(self) -> np.ndarray:
        """omega_e + eigenvalues (rad/s), the eps_alpha of Eqs. (11), (19)-(22)."""
        return self.energies + self.lattice.omega_e

    # -------------------------------------------------------- public operations
    def stationary(self, environment: Environment, nuclei: NuclearBath, parameters: dict | None = None) -> Result:
        """Stationary nuclear polarization (Eq. (22), or Eq. (20) with
        ``method.formula = "eq20"``) and site polarizations for one environment: a
        closed-form Result (no residual).  ``parameters`` (the resolved spec) defaults
        to the tables of the lattice, nuclei, environment and method."""
        return self.results([environment], nuclei, None if parameters is None else [parameters])[0]

    def profile(self, environment: Environment, nuclei: NuclearBath, frequencies):
        """Stationary P_n at every microwave frequency in ``frequencies`` (Hz), one
        blocked pass: an :class:`xarray.Dataset` over ``mw_frequency``."""
        from dnpsim.result import results_dataset
        from dnpsim.units import parse_grid

        freqs = parse_grid(frequencies, "frequency", "frequencies")
        return results_dataset(self.results([replace(environment, mw_frequency=float(f)) for f in freqs], nuclei),
                               "mw_frequency", freqs)

    def results(self, environments: list[Environment], nuclei: NuclearBath,
                parameters: list[dict] | None = None) -> list[Result]:
        """:meth:`stationary` for several environments in one blocked pass over the
        eigenfunction overlaps.  ``electron_polarization`` is per site, 2<S_z^j> =
        -sum_alpha |phi_alpha(j)|^2 P_B(eps_alpha) in site order i = (x L + y) L + z;
        extras ``ipr`` (Eq. (27)) and ``diag_time``."""
        from dnpsim.result import Enhancement, boltzmann_polarization

        start = time.perf_counter()
        pn = self.nuclear_polarization(environments, nuclei, goe=self.method.surrogate == "goe",
                                       full=self.method.formula == "eq20")
        ipr = self.ipr()
        wall_time = (time.perf_counter() - start) / len(environments)
        out = []
        for i, env in enumerate(environments):
            electron = -(self.weights @ self.biases(env))
            table = {"model": {**self.lattice.to_table(), "nuclei": nuclei.to_table()},
                     "environment": {**env.to_table(), **nuclei.relaxation_table()},
                     "method": self.method.to_table()} if parameters is None \
                else parameters[i]
            out.append(Result(
                model="anderson", method=self.method.kind, solution="closed_form", electron_polarization=electron,
                nuclear_polarization=float(pn[i]),
                enhancement=Enhancement(
                    electron / boltzmann_polarization(self.lattice.electron_larmor, env.temperature, "electron"),
                    pn[i] / boltzmann_polarization(nuclei.larmor, env.temperature, "nuclear")),
                residual=None, iterations=None, wall_time=wall_time,
                extras={"ipr": ipr, "diag_time": self.diag_time}).with_provenance(table))
        return out

    def evolve(self, environment: Environment, nuclei: NuclearBath, times, parameters: dict | None = None) -> Result:
        """Build-up after the microwaves switch on, at ``times`` (s): a time-resolved
        Result (``times``, ``nuclear_polarization_t``, ``electron_polarization_t`` per
        site; polarizations at the last time) with the build-up fit of P_n(t)
        (``build_up_time``, ``build_up_enhancement``).

        The start is the stationary state without microwaves (omega_1 = 0: every mode
        at tanh(beta eps / 2), P_n at Eq. (20) / (22) with those biases).  Each mode
        relaxes to its Bloch bias at its rate of Eqs. (10a)-(10b),
        P_a(t) = P_B + (P_a(0) - P_B) exp(-(k_fill + k_empty) t) (exact for the free
        fermions: :func:`~dnpsim.dynamics.free_fermion.mode_rates`); the mean nuclear
        polarization follows the Pauli rate equation of Eqs. (19)-(22),
        P_n(t) = P_n^stat + (P_n(0) - P_n^stat) exp(-W t), W of
        :func:`dnpsim.theory.free_fermion.nuclear_rate` with the irradiated biases
        (adiabatic electrons: the modes settle on the electron times T1e / (1 + 2 T1e
        w_MW), the nuclei on 1/W, usually hours).  The long-time limit is
        :meth:`stationary` exactly."""
        from dnpsim.dynamics.free_fermion import mode_rates
        from dnpsim.observables.build_up import build_up_extras
        from dnpsim.result import Enhancement, boltzmann_polarization
        from dnpsim.units import time_grid

        start = time.perf_counter()
        times = np.asarray(time_grid(times, "times"))
        goe, full = self.method.surrogate == "goe", self.method.formula == "eq20"
        dark = replace(environment, mw_amplitude=0.0)
        p_off, p_on = self.nuclear_polarization([dark, environment], nuclei, goe=goe, full=full)
        on, off = self.biases(environment), self.biases(dark)
        rate = theory.nuclear_rate(None if goe else self.weights, self.lab_energies, on, nuclei, loss=full)
        pn_t = p_on + (p_off - p_on) * np.exp(-rate * times)
        fill, empty = mode_rates(self.lab_energies, environment)
        modes_t = on + (off - on) * np.exp(-np.outer(times, fill + empty))  # (T, modes)
        pe_t = -(modes_t @ self.weights.T)  # (T, sites)
        extras = {"ipr": self.ipr(), "diag_time": self.diag_time,
                  **build_up_extras(times, pn_t, start=float(p_off))}
        table = {"model": {**self.lattice.to_table(), "nuclei": nuclei.to_table()},
                 "environment": {**environment.to_table(), **nuclei.relaxation_table()},
                 "method": self.method.to_table()} if parameters is None else parameters
        pe = pe_t[-1]
        electron_b = boltzmann_polarization(self.lattice.electron_larmor, environment.temperature, "electron")
        return Result(model="anderson", method=self.method.kind, solution="time_resolved",
                      electron_polarization=pe, nuclear_polarization=float(pn_t[-1]),
                      enhancement=Enhancement(
                          pe / electron_b,
                          pn_t[-1] / boltzmann_polarization(nuclei.larmor, environment.temperature, "nuclear")),
                      residual=None, iterations=None, wall_time=time.perf_counter() - start, times=times,
                      electron_polarization_t=pe_t, nuclear_polarization_t=pn_t,
                      extras=extras).with_provenance(table)

    # ------------------------------------------------------------ observables
    def biases(self, env: Environment) -> np.ndarray:
        """P_B(eps_alpha) of Eq. (11), shape (N,)."""
        return bloch_bias(self.lab_energies, env)

    def nuclear_polarization(self, envs: list[Environment], nuclei: NuclearBath, *, goe: bool = False,
                             full: bool = False) -> np.ndarray:
        """P_n for every environment (one blocked pass): Eq. (22), or Eq. (20) with
        leakage numerator and polarization loss if ``full``; ``goe`` uses Eq. (23)."""
        p = np.array([self.biases(env) for env in envs])
        w = None if goe else self.weights
        beta = envs[0].beta if full else None
        if full and any(env.temperature != envs[0].temperature for env in envs):
            return np.array([theory.nuclear_polarization(w, self.lab_energies, self.biases(env), nuclei,
                                                         beta=env.beta, loss=True) for env in envs])
        return np.atleast_1d(theory.nuclear_polarization(w, self.lab_energies, p, nuclei, beta=beta, loss=full))

    def rate_sums(self, env: Environment, nuclei: NuclearBath, *, goe: bool = False) -> dict:
        """The terms of Eq. (22) (Fig. 5): numerator, ISS denominator and leakage, each
        divided by N_e (= N_e^-1 sum_ab O_ab ..., i.e. int int K ...)."""
        num, den = theory.iss_sums(None if goe else self.weights, self.lab_energies, self.biases(env)[None], nuclei)
        return {"numerator": float(num[0]) / self.n, "iss_denominator": float(den[0]) / self.n,
                "leakage": nuclei.leakage_weight}

    def per_nucleus_polarization(self, env: Environment, omega_n: float, t2n: float) -> np.ndarray:
        """Eq. (C7) for every site, shape (L, L, L) (index [x][y][z])."""
        out = theory.per_nucleus_polarization(self.weights, self.lab_energies, self.biases(env), omega_n, t2n)
        return out.reshape((self.lattice.L,) * 3)

    def ipr(self) -> float:
        """I_2 of Eq. (27)."""
        return overlaps.inverse_participation_ratio(self.weights)

    def dos(self, edges) -> np.ndarray:
        """rho on ``edges`` (rad/s, relative to omega_e)."""
        return overlaps.density_of_states(self.energies, edges)

    def k_omega(self, edges) -> np.ndarray:
        """K(omega) of Eq. (25) on ``edges`` (rad/s)."""
        return overlaps.overlap_difference_histogram(self.weights, self.energies, edges)

    def c_omega(self, omegas, window: float) -> np.ndarray:
        """C(omega) of Eq. (30) averaged over windows of width ``window`` (rad/s)."""
        return overlaps.eigenfunction_correlation(self.weights, self.energies, omegas, window)


@dataclass(frozen=True)
class KPMOverlap:
    """K(omega) from the kernel polynomial method (see :func:`kpm_overlap`).

    omega (rad/s, grid), k (K(omega), s/rad), k_error (one-sigma sampling error),
    dos_conv (int rho(eps) rho(eps + omega), s/rad), resolution (rad/s: Gaussian sigma
    of the Jackson kernel in energy; K is smeared by sqrt(2) of it), n_sites, n_moments.
    """

    omega: np.ndarray
    k: np.ndarray
    k_error: np.ndarray
    dos_conv: np.ndarray
    resolution: float
    n_sites: int
    n_moments: int

    def c(self) -> np.ndarray:
        """C(omega) = K / DOS convolution (Eq. (30)) at the same resolution."""
        return self.k / self.dos_conv


def kpm_overlap(lattice: AndersonLattice, n_moments: int, n_sites: int | None, rng: np.random.Generator | None,
                omega_max: float, n_omega: int = 400, n_energy: int | None = None) -> KPMOverlap:
    """K(omega) (Eq. (25)) as the site average of products of local DOS (Eq. (21)),
    with local DOS from Chebyshev moments and the Jackson kernel.

    ``n_sites`` sampled sites (all sites, in order, when None); ``rng`` draws them.
    K(omega) = N^-1 sum_j int d eps rho_j(eps) rho_j(eps + omega) is estimated by the
    sample mean over sites; ``k_error`` is the standard error of that mean (zero
    when all sites are used).  The DOS convolution uses the site-averaged LDOS
    (rho = mean_j rho_j).  Energy resolution: ``resolution`` (see
    :func:`dnpsim.solvers.kpm.jackson_resolution`)."""
    from dnpsim.solvers import kpm

    h = lattice.hamiltonian()
    lo, hi = lattice.spectral_bounds()
    n = lattice.n_sites
    sites = np.arange(n) if n_sites is None or n_sites >= n else np.sort(rng.choice(n, size=n_sites, replace=False))
    scale = kpm.Rescaling.from_bounds(lo, hi)
    mu = kpm.local_moments(h, sites, n_moments, scale)  # (sites, M)
    n_energy = n_energy or max(4 * n_moments, 1024)
    energies = np.linspace(lo, hi, n_energy)
    rho = kpm.density_from_moments(mu, energies, scale)  # (sites, E), s/rad
    de = energies[1] - energies[0]
    omega = np.linspace(0.0, omega_max, n_omega)
    shifts = np.rint(omega / de).astype(int)
    omega = shifts * de
    per_site = np.empty((sites.size, omega.size))
    for i, s in enumerate(shifts):
        per_site[:, i] = np.sum(rho[:, : n_energy - s] * rho[:, s:], axis=1) * de
    mean_rho = rho.mean(axis=0)
    conv = np.array([np.sum(mean_rho[: n_energy - s] * mean_rho[s:]) * de for s in shifts])
    k = per_site.mean(axis=0)
    err = per_site.std(axis=0, ddof=1) / np.sqrt(sites.size) if sites.size < n else np.zeros_like(k)
    return KPMOverlap(omega, k, err, conv, kpm.jackson_resolution(n_moments, scale), int(sites.size), n_moments)


# ----------------------------------------------------------------- figure data
#: Table I of the 2018 paper (boundary units: Hz, s, K), with w = 108 MHz.
TABLE_I = {
    "electron_larmor": 93.9e9,
    "width": 108e6,
    "temperature": 1.2,
    "t1e": 1.0,
    "t2e": 1e-6,
    "mw_frequency": 93.86e9,
    "mw_amplitude": 25e3,
    "t1n": 1e4,
    "t2n": 1e-5,
    "nuclear_larmor": 20e6,
    "hyperfine": 4.47e3,
    # N_n / N_e is not in Table I; Sec. II: electrons are ~1e-4 of the nuclei
    "per_electron": 1e4,
}


def realization_observables(L: int, hopping_hz: float, seed, *, mw_frequencies_hz, nuclear_larmors_hz,
                            c_omegas_hz, c_window_hz: float, dos_edges_hz, params: dict = TABLE_I,
                            boundary: str = "periodic") -> dict:
    """Everything the 2018 figures need from one disorder realization (one
    diagonalization): the lattice of linear size ``L`` with hopping ``hopping_hz`` and
    box disorder of width ``params["width"]`` drawn with ``numpy.random.default_rng(seed)``,
    at the Table I point ``params`` (Hz, s, K); returns :func:`engine_observables`."""
    from dnpsim.models.anderson import box_offsets

    p = params
    lattice = AndersonLattice(L, hopping_hz, box_offsets(L, p["width"], np.random.default_rng(seed)),
                              p["electron_larmor"], boundary)
    return engine_observables(ExactAnderson(lattice),
                              Environment(p["temperature"], p["mw_frequency"], p["mw_amplitude"], p["t1e"], p["t2e"]),
                              NuclearBath(p["nuclear_larmor"], p["hyperfine"], p["t1n"], p["t2n"], p["per_electron"]),
                              mw_frequencies_hz=mw_frequencies_hz, nuclear_larmors_hz=nuclear_larmors_hz,
                              c_omegas_hz=c_omegas_hz, c_window_hz=c_window_hz, dos_edges_hz=dos_edges_hz)


def engine_observables(ex: ExactAnderson, environment: Environment, nuclei: NuclearBath, *, mw_frequencies_hz,
                       nuclear_larmors_hz, c_omegas_hz, c_window_hz: float, dos_edges_hz) -> dict:
    """The 2018 figures' observables of one diagonalized realization ``ex``, around the
    reference point (``environment``, ``nuclei``).

    Returns arrays (Hz at the boundary, polarizations dimensionless):
    ``pn_mw`` / ``pn_goe_mw`` (mw_frequency,) at the reference omega_n;
    ``pn_wn`` / ``pn_goe_wn`` (nuclear_larmor,) at the reference omega_MW;
    ``numerator``, ``iss_denominator`` (and ``_goe``), ``leakage`` of Eq. (22) per electron
    at the reference point (Fig. 5); ``ipr`` (Eq. (27)); ``c_omega`` (c_omega,) (Eq. (30))
    averaged over windows ``c_window_hz``; ``dos`` (energy,) in 1/Hz on ``dos_edges_hz``
    (relative to omega_e, Fig. 2); ``diag_time`` (s)."""
    from dnpsim.units import TWO_PI

    p_mw = np.array([ex.biases(replace(environment, mw_frequency=float(f))) for f in mw_frequencies_hz])
    p_ref = ex.biases(environment)[None]
    cases = [(p_mw, nuclei)] + [(p_ref, replace(nuclei, larmor=float(wn))) for wn in nuclear_larmors_hz] \
        + [(p_ref, nuclei)]
    out = {}
    for label, w in (("", ex.weights), ("_goe", None)):
        sums = theory.iss_sums_many(w, ex.lab_energies, cases)
        pn = [theory.polarization_eq22(num, den, ex.n, c[1]) for (num, den), c in zip(sums, cases)]
        out["pn" + label + "_mw"] = pn[0]
        out["pn" + label + "_wn"] = np.concatenate(pn[1:-1]) if len(pn) > 2 else np.zeros(0)
        out["numerator" + label] = float(sums[-1][0][0]) / ex.n
        out["iss_denominator" + label] = float(sums[-1][1][0]) / ex.n
    out["leakage"] = nuclei.leakage_weight
    out["ipr"] = ex.ipr()
    out["c_omega"] = ex.c_omega(TWO_PI * np.asarray(c_omegas_hz), TWO_PI * c_window_hz)
    out["dos"] = ex.dos(TWO_PI * np.asarray(dos_edges_hz)) * TWO_PI
    out["diag_time"] = ex.diag_time
    return out


# ------------------------------------------------------------------ spec runs
def run_points(setup, variants, *, progress: bool = False) -> list[Result]:
    """One :class:`~dnpsim.result.Result` per variant of a resolved ``anderson`` setup
    (variants differ in ``environment.*``, ``model.nuclei.*`` or ``method.*`` only):
    one diagonalization, then one blocked pass per group of variants sharing nuclei and
    method (:meth:`ExactAnderson.results`), or with ``method.times`` the build-up of
    each variant (:meth:`ExactAnderson.evolve`)."""
    engine = ExactAnderson(setup.lattice(), setup.method)
    groups: dict[str, list[int]] = {}
    for i, v in enumerate(variants):
        groups.setdefault(repr((sorted(v.nuclei_values.items()), v.method, v.gamma_sign)), []).append(i)
    out: list[Result | None] = [None] * len(variants)
    for members in groups.values():
        first = variants[members[0]]
        engine.method = first.method  # the diagonalization does not depend on it
        if first.method.times is not None:  # the build-up (ExactAnderson.evolve)
            for i in members:
                out[i] = engine.evolve(variants[i].environment(), first.nuclei(), first.method.times,
                                       variants[i].resolved_spec())
            continue
        results = engine.results([variants[i].environment() for i in members], first.nuclei(),
                                 [variants[i].resolved_spec() for i in members])
        for i, r in zip(members, results):
            out[i] = r if variants[i].gamma_sign > 0 else _negative_gamma(r)
    return out


def _negative_gamma(result: Result) -> Result:
    """The result for nuclei of negative gamma from the one computed with |omega_n|.

    The rates of Eqs. (14)-(19) and (22) contain the hyperfine coupling only as A_0^2
    and omega_n only through the energy omega_n a nuclear flip exchanges with the
    electrons; the leakage relaxes the nuclei to zero, symmetric in up and down.  For
    gamma < 0 the Zeeman term -gamma B0 I_z = +|omega_n| I_z is that of a positive-gamma
    nucleus with I_z -> -I_z (a rotation of every nucleus by pi about x), so
    P_n(gamma < 0) = -P_n(|gamma|): P_n flips sign and, its Boltzmann value
    tanh(beta omega_n / 2) flipping too, the enhancement P_n / P_B is unchanged."""

    pn = result.nuclear_polarization
    changes = {"nuclear_polarization": None if pn is None else -pn}
    if result.nuclear_polarization_t is not None:
        changes["nuclear_polarization_t"] = -result.nuclear_polarization_t
    return replace(result, **changes)
