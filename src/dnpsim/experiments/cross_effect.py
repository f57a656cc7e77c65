"""Orchestration of the cross-effect engine (Karabanov et al. 2018): one spec point,
paper parameter sets, build-up fits and powder averages.

* :class:`CrossEffectEngine` — steady states and build-ups (``lindblad``: Eq. (1);
  ``zeeman_rates``: Eq. (4) as a rate equation; ``kmc``: kinetic Monte Carlo of Eq.
  (4)); :func:`run_points`, the ``cross_effect`` spec kind's runner;
* :func:`paper_model` — the parameter sets of the figure captions (Fig. 1c, 2a-c);
* :func:`powder_average` — average any per-orientation result over the orientation of
  the static field relative to the spin geometry (ZCW grid,
  :func:`dnpsim.models.cross_effect.zcw_orientations`), the "next step" the paper
  names for comparing with experiments.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dnpsim.errors import SpecError
from dnpsim.methods import KineticMonteCarlo, Lindblad, ZeemanRates, engine_method
from dnpsim.models.cross_effect import CrossEffectModel, point_dipole_couplings, zcw_orientations
from dnpsim.result import Result

#: Fig. 1(c) / 2 caption values (boundary units: Hz, s).
OMEGA_I_HZ = 145e6
B_HZ = 0.1e6
T1N, T2N = 100.0, 1e-3


def paper_model(figure: str, *, omega1: float, D: float, p: float | None = None, **changes) -> CrossEffectModel:
    """Model of a figure caption (frequencies ``omega1``, ``D`` in Hz).

    * ``"n-e1-e2"`` (Fig. 1c): nucleus coupled to electron 1 (B = 0.1 MHz, A = 0),
      omega_I = 145 MHz, T_1e = 3 ms, T_2e = 50 us, T_1n = 100 s, T_2n = 1 ms, p = 0.034
      (100 GHz, 70 K); the incoherent (dashed) case passes p = 0.98, t1e = 1.
    * ``"e1-e2-n"`` (Fig. 2a, b): nucleus coupled to electron 2 (B_2 = 0.1 MHz),
      p = 0.984 (100 GHz, 1 K), R_1 = 1 s^-1, R_2 = 1e5 s^-1.
    * ``"pentagon"`` (Fig. 2c): nuclei 1, 2 coupled to electrons 1, 2 (B_11 = B_22 =
      0.1 MHz), nucleus 3 to nuclei 1, 2 (d_13 = d_23 = 10 Hz), other couplings zero.
    Offsets at the matching condition Delta_1 = Delta_2 - omega_I = 0.
    """
    common = dict(offsets=[0.0, OMEGA_I_HZ], omega1=omega1, D=D, omega_I=OMEGA_I_HZ, t1n=T1N, t2n=T2N)
    if figure == "n-e1-e2":
        kw = dict(common, B=[[B_HZ], [0.0]], t1e=3e-3, t2e=50e-6, p=0.034 if p is None else p)
    elif figure == "e1-e2-n":
        kw = dict(common, B=[[0.0], [B_HZ]], R1=1.0, R2=1e5, p=0.984 if p is None else p)
    elif figure == "pentagon":
        B = np.zeros((2, 3))
        B[0, 0] = B[1, 1] = B_HZ
        d = np.zeros((3, 3))
        d[0, 2] = d[2, 0] = d[1, 2] = d[2, 1] = 10.0
        kw = dict(common, B=B, d=d, R1=1.0, R2=1e5, p=0.984 if p is None else p)
    else:
        raise ValueError(f"figure: must be 'n-e1-e2', 'e1-e2-n' or 'pentagon', got {figure!r}")
    for key, value in changes.items():
        if key in ("t1e", "t2e") and ("R1" in kw or "R2" in kw):
            kw.pop("R1" if key == "t1e" else "R2", None)
        kw[key] = value
    return CrossEffectModel.from_hz(**kw)


class CrossEffectEngine:
    """The cross-effect kinetics engine (Karabanov et al. 2018) for one
    :class:`~dnpsim.models.cross_effect.CrossEffectModel` (built with
    ``CrossEffectModel.from_hz``; it holds the drive and the relaxation too).

    Parameters
    ----------
    model : CrossEffectModel
    method : :class:`~dnpsim.methods.Lindblad` (Eq. (1)), :class:`~dnpsim.methods.ZeemanRates`
        (Eq. (4) as a rate equation) or :class:`~dnpsim.methods.KineticMonteCarlo`
    temperature, electron_larmor : the sample temperature (K) and omega_S / 2 pi (Hz),
        used only for the Boltzmann polarizations of the enhancements (without
        ``temperature``, beta follows from p = tanh(beta omega_S / 2) when
        ``electron_larmor`` is given; otherwise the nuclear enhancement is None)

    Operations: :meth:`stationary` (the steady state; not for kMC) and :meth:`evolve`
    (the build-up from thermal electrons and unpolarized nuclei at ``times``), both
    returning a :class:`~dnpsim.result.Result`.  ``nuclear_polarization`` is per nucleus,
    2<I_z^k> along B0 (the paper's p_I); this model relaxes nuclei to zero, not to their
    Boltzmann polarization.  Extras: ``nuclear_polarization_mean``; for time-resolved
    results the fit p(t) = eps (1 - exp(-t/tau)) of the mean nuclear polarization
    (``build_up_enhancement``, ``build_up_time``; NaN when the curve does not
    move, when a kMC curve does not rise above its statistical noise -- then with a
    UserWarning, see :func:`_rises_above_noise` -- or when the fit fails); kMC
    ``events``; for N <= 20 nuclei the efficiencies ``efficiency_eta``,
    ``efficiency_eta1`` (max), ``efficiency_eta2`` (min) of Eq. (3).
    """

    def __init__(self, model: CrossEffectModel, method: Lindblad | ZeemanRates | KineticMonteCarlo, *,
                 temperature: float | None = None, electron_larmor: float | None = None):
        if not isinstance(model, CrossEffectModel):
            raise SpecError("model", f"must be a CrossEffectModel, got {type(model).__name__}")
        self.model = model
        self.method = engine_method(method, (Lindblad, ZeemanRates, KineticMonteCarlo), "cross-effect")
        self.temperature = temperature
        self.electron_larmor = electron_larmor

    def stationary(self, parameters: dict | None = None) -> Result:
        """The steady state (``solution = "stationary"``, with the residual)."""
        if isinstance(self.method, KineticMonteCarlo):
            raise SpecError("method.kind", "kmc has no steady-state solver; use evolve(times)")
        return self._run(None, parameters)

    def evolve(self, times, parameters: dict | None = None) -> Result:
        """The evolution at ``times`` (s): a time-resolved Result (polarizations at the
        last time; ``times``, ``electron_polarization_t``, ``nuclear_polarization_t``;
        kMC adds standard errors)."""
        from dnpsim.units import time_grid

        return self._run(np.asarray(time_grid(times, "times")), parameters)

    def _run(self, times, parameters) -> Result:
        import time

        from dnpsim.dynamics import liouville
        from dnpsim.dynamics.cross_effect_kmc import kmc
        from dnpsim.dynamics.zeeman_local_rates import local_rates
        from dnpsim.dynamics.zeeman_projection import projected_rates
        from dnpsim.dynamics.zeeman_rate_equation import rate_evolve, rate_steady_state
        from dnpsim.observables.build_up import build_up_extras
        from dnpsim.result import Enhancement
        from dnpsim.theory.bloch import efficiency

        start = time.perf_counter()
        model, method = self.model, self.method
        residual = stderr = stderr_t = pe_t = pn_t = None
        extras: dict = {}
        if method.kind == "lindblad":
            if times is None:
                ss = liouville.steady_state(model, tol=method.tol)
                pe, pn, residual = ss.electron_polarization, ss.nuclear_polarization, ss.residual
            else:
                tr = liouville.evolve(model, times)
                pe_t, pn_t = tr.electron_polarization, tr.nuclear_polarization
        elif method.kind == "zeeman_rates":
            rates = projected_rates(model) if method.rates == "generic" else local_rates(model)
            if times is None:
                sol = rate_steady_state(rates, tol=method.tol)
                pe, pn, residual = sol.electron_polarization, sol.nuclear_polarization, sol.residual
            else:
                sol = rate_evolve(rates, times)
                pe_t, pn_t = sol.electron_polarization, sol.nuclear_polarization
        else:  # kmc
            res = kmc(model, times, method.trajectories, np.random.default_rng(method.seed),
                      min_pair_coupling=2 * np.pi * method.min_pair_coupling, threads=method.threads)
            pe_t, pn_t = res.electron_polarization, res.nuclear_polarization
            stderr_t = res.nuclear_stderr
            stderr = stderr_t[-1]
            extras["events"] = res.events
        if times is not None:
            pe, pn = pe_t[-1], pn_t[-1]
            if model.n_nuclei and times.size >= 3:
                # kMC: a curve that stays within its statistical noise is not fitted (a fit to noise)
                rises = None if stderr_t is None else \
                    (lambda curve: _rises_above_noise(times, curve, stderr_t, method.trajectories))
                extras.update(build_up_extras(times, np.asarray(pn_t).mean(axis=1), rises=rises))
        extras["nuclear_polarization_mean"] = float(np.mean(pn)) if model.n_nuclei else float("nan")
        if model.n_nuclei <= 20:
            eff = efficiency(model)
            extras.update(efficiency_eta=eff.eta, efficiency_eta1=eff.eta1_max, efficiency_eta2=eff.eta2_min)
        pe = np.asarray(pe, dtype=float)
        pn = np.asarray(pn, dtype=float)
        electron_b, nuclear_b = self.boltzmann_polarizations()
        with np.errstate(invalid="ignore", divide="ignore"):  # p = 0: P / P_B undefined, NaN (null in JSON)
            enhancement = Enhancement(pe / electron_b, None if nuclear_b is None else pn / nuclear_b)
        return Result(model="cross_effect", method=method.kind,
                      solution="stationary" if times is None else "time_resolved",
                      electron_polarization=pe, nuclear_polarization=pn,
                      enhancement=enhancement,
                      residual=residual, iterations=None, wall_time=time.perf_counter() - start,
                      times=times, electron_polarization_t=pe_t, nuclear_polarization_t=pn_t,
                      nuclear_polarization_stderr=stderr, nuclear_polarization_t_stderr=stderr_t,
                      extras=extras).with_provenance(parameters or {"method": method.to_table()})

    def boltzmann_polarizations(self) -> tuple[float, float | None]:
        """Boltzmann polarizations (electron, nuclear) at the sample temperature: the
        electron's is -p (the thermal polarization the model uses); the nucleus's
        tanh(beta omega_I / 2), with beta from ``temperature``, or from p = tanh(beta
        omega_S / 2) and ``electron_larmor``; None when neither fixes the temperature."""
        import math

        from dnpsim.units import TWO_PI, inverse_temperature

        p = self.model.p
        if self.temperature is not None:
            beta = inverse_temperature(self.temperature)
        elif self.electron_larmor is not None and p > 0:
            beta = 2.0 * math.atanh(p) / (TWO_PI * self.electron_larmor)
        else:
            return -p, None
        return -p, math.tanh(0.5 * beta * self.model.omega_I)


#: A kMC build-up is fitted only when the mean nuclear polarization at the last time
#: exceeds this many standard errors of that mean (:func:`_rises_above_noise`).
NOISE_STANDARD_ERRORS = 3.0


def _rises_above_noise(times, curve, stderr_t, trajectories: int) -> bool:
    """Whether the mean nuclear polarization of a kMC run, ``curve`` (T,), builds up
    above its statistical noise; if it does not, warn (UserWarning) and return False.

    kMC starts from unpolarized nuclei, whose mean polarization is exactly zero, so the
    build-up is curve[-1] itself.  Its standard error is estimated from the per-nucleus
    standard errors ``stderr_t[-1]`` (N,) as that of a mean of independent nuclei,
    sqrt(sum_k stderr_k^2) / N (the estimate of ``nuclear_polarization_stderr``, spread
    between groups of trajectories).  The build-up counts when
    |curve[-1]| > :data:`NOISE_STANDARD_ERRORS` x that.  A curve of pure noise passes
    rarely: ~1 % with 16 groups of trajectories and independent nuclei (Student t, 15
    degrees of freedom), more often with fewer trajectories or nuclei whose noise is
    correlated."""
    import warnings

    last = np.asarray(stderr_t)[-1]
    noise = float(np.sqrt(np.sum(last**2)) / last.size)
    if abs(curve[-1]) > NOISE_STANDARD_ERRORS * noise:
        return True
    mean = round(float(curve[-1]), 3) + 0.0  # no "-0.000"
    warnings.warn(f"kmc: the mean nuclear polarization at t = {times[-1]:.4g} s, {mean:+.3f}, does not rise above "
                  f"its statistical noise ({NOISE_STANDARD_ERRORS:g} standard errors = "
                  f"{NOISE_STANDARD_ERRORS * noise:.3f} with {trajectories} trajectories): no build-up is fitted "
                  "(build_up_time and build_up_enhancement are NaN).  Run more trajectories or longer times, or "
                  "check that the spin system polarizes at all (the cross-effect reproduction notes of the documentation, Fig. 2(d, e))",
                  UserWarning, stacklevel=6)  # via build_up_extras and the engine
    return False


def run_points(setup, variants, *, progress: bool = False) -> list[Result]:
    """One :class:`~dnpsim.result.Result` per variant of a resolved ``cross_effect``
    setup (each variant builds its own, cheap, model; see :class:`CrossEffectEngine`)."""
    out = []
    for v in variants:
        env = v.environment_values
        engine = CrossEffectEngine(v.model(), v.method, temperature=env.get("temperature"),
                                   electron_larmor=env.get("electron_larmor"))
        times = v.method.times
        out.append(engine.stationary(v.resolved_spec()) if times is None else engine.evolve(times, v.resolved_spec()))
    return out


def powder_average(build: Callable[[np.ndarray], CrossEffectModel], compute: Callable[[CrossEffectModel], np.ndarray],
                   m: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Powder average of ``compute(build(field_direction))`` over the ZCW grid of index
    ``m`` (F_{m+2} orientations, equal weights).  Returns (mean, per-orientation
    values (M, ...)).  ``build`` maps a unit field direction to a model, e.g. with
    :func:`geometry_model`."""
    vectors, weights = zcw_orientations(m)
    values = np.array([np.asarray(compute(build(v)), float) for v in vectors])
    return np.tensordot(weights, values, axes=1), values


def geometry_model(electron_positions, nuclear_positions, field_direction, *, omega1: float, omega_I: float,
                   offsets=(0.0, None), nuclear_dipolar: bool = True, secular_hyperfine: bool = True,
                   **relaxation) -> CrossEffectModel:
    """Model from point-dipole geometry (positions in m, frequencies in Hz): D, A, B, d
    from :func:`~dnpsim.models.cross_effect.point_dipole_couplings`; offsets default to
    the matching condition (0, omega_I).  ``nuclear_dipolar=False`` sets d = 0,
    ``secular_hyperfine=False`` sets A = 0 (the secular hyperfine fields of the nuclei
    then no longer shift the electron frequencies off the CE matching condition).
    ``relaxation``: t1e, t2e, t1n, t2n / R1 ... and p."""
    D, A, B, d = point_dipole_couplings(electron_positions, nuclear_positions, field_direction)
    if not nuclear_dipolar:
        d = np.zeros_like(d)
    if not secular_hyperfine:
        A = np.zeros_like(A)
    off = [offsets[0], omega_I if offsets[1] is None else offsets[1]]
    return CrossEffectModel.from_hz(offsets=off, omega1=omega1, D=D, omega_I=omega_I, A=A, B=B, d=d,
                                    positions=np.asarray(nuclear_positions), **relaxation)
