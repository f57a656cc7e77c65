"""Orchestration of the cross-effect engine (Karabanov et al. 2018): one spec point,
paper parameter sets, build-up fits and powder averages.

* :func:`run_point` — the ``cross_effect`` spec kind's result dictionary for one model
  and method (``lindblad``: Eq. (1); ``zeeman_rates``: Eq. (4) as a rate equation;
  ``kmc``: kinetic Monte Carlo of Eq. (4));
* :func:`paper_model` — the parameter sets of the figure captions (Fig. 1c, 2a-c);
* :func:`powder_average` — average any per-orientation result over the orientation of
  the static field relative to the spin geometry (ZCW grid,
  :func:`dnpsim.models.cross_effect.zcw_orientations`), the "next step" the paper
  names for comparing with experiments.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dnpsim.models.cross_effect import CrossEffectModel, point_dipole_couplings, zcw_orientations

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


def run_point(model: CrossEffectModel, method: dict, progress: bool = False) -> dict:
    """Result dictionary of the ``cross_effect`` spec kind (keys in
    :mod:`dnpsim.specs.cross_effect`) for ``method`` (resolved method table)."""
    from dnpsim.dynamics import liouville
    from dnpsim.dynamics.cross_effect_kmc import kmc
    from dnpsim.dynamics.zeeman_local_rates import local_rates
    from dnpsim.dynamics.zeeman_projection import projected_rates
    from dnpsim.dynamics.zeeman_rate_equation import rate_evolve, rate_steady_state
    from dnpsim.observables.build_up import fit_build_up
    from dnpsim.theory.bloch import efficiency

    kind = method["kind"]
    times = np.asarray(method["times"]) if "times" in method else None
    result: dict = {"method": kind}
    dims: dict = {"electron_polarization": ("electron",), "nuclear_polarization": ("nucleus",)}
    if kind == "lindblad":
        ss = liouville.steady_state(model, tol=method.get("tol", 1e-9)) if times is None else None
        if ss is not None:
            pe, pn, result["residual"] = ss.electron_polarization, ss.nuclear_polarization, ss.residual
        else:
            tr = liouville.evolve(model, times)
            pe_t, pn_t = tr.electron_polarization, tr.nuclear_polarization
    elif kind == "zeeman_rates":
        rates = projected_rates(model) if method.get("rates", "generic") == "generic" \
            else local_rates(model)
        if times is None:
            sol = rate_steady_state(rates, tol=method.get("tol", 1e-9))
            pe, pn, result["residual"] = sol.electron_polarization, sol.nuclear_polarization, sol.residual
        else:
            sol = rate_evolve(rates, times)
            pe_t, pn_t = sol.electron_polarization, sol.nuclear_polarization
    elif kind == "kmc":
        res = kmc(model, times, method["trajectories"], np.random.default_rng(method["seed"]),
                  min_pair_coupling=2 * np.pi * method.get("min_pair_coupling", 0.0), threads=method.get("threads"))
        pe_t, pn_t = res.electron_polarization, res.nuclear_polarization
        result["nuclear_polarization_stderr"] = res.nuclear_stderr[-1].tolist()
        result["events"] = res.events
        dims["nuclear_polarization_stderr"] = ("nucleus",)
    else:  # validated by the spec layer
        raise ValueError(f"method.kind: unknown {kind!r}")
    if times is not None:
        # a time-resolved run solves no stationary equation: the contract's residual
        # key (DESIGN.md) is present but not a number
        result["residual"] = float("nan")
        pe, pn = pe_t[-1], pn_t[-1]
        result["times"] = times.tolist()
        result["electron_polarization_t"] = np.asarray(pe_t).tolist()
        result["nuclear_polarization_t"] = np.asarray(pn_t).tolist()
        dims.update({"times": ("time",), "electron_polarization_t": ("time", "electron"),
                     "nuclear_polarization_t": ("time", "nucleus")})
        if model.n_nuclei and times.size >= 3:
            try:
                fit = fit_build_up(times, np.asarray(pn_t).mean(axis=1))
                result["build_up_enhancement"], result["build_up_time"] = fit.eps, fit.tau
            except RuntimeError:  # curve_fit did not converge: report no fit
                result["build_up_enhancement"] = result["build_up_time"] = float("nan")
    result["electron_polarization"] = np.asarray(pe).tolist()
    result["nuclear_polarization"] = np.asarray(pn).tolist()
    result["nuclear_polarization_mean"] = float(np.mean(pn)) if model.n_nuclei else float("nan")
    if model.n_nuclei <= 20:
        eff = efficiency(model)
        result.update(efficiency_eta=eff.eta, efficiency_eta1=eff.eta1_max, efficiency_eta2=eff.eta2_min)
    result["dims"] = dims
    return result


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
