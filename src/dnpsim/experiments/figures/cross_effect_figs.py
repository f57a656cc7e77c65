"""Figures 1(c) and 2(a-e) of Karabanov et al., "Many-body kinetics of dynamic nuclear
polarization by the cross effect" (2018), as commands with --quick and full modes.

* ``cross-effect-fig1c``: fast and slow stages of the n-e1-e2 model, full master
  equation (Eq. 1): coherent saturation (p = 0.034, omega_1 = D = 0.5 MHz, T_1e = 3 ms,
  eta_1 ~ 1: Rabi oscillations of S_1) and incoherent saturation (p = 0.98,
  omega_1 = 10 kHz, D = 100 kHz, T_1e = 1 s, eta_1 ~ 100).  Polarizations / p.
* ``cross-effect-fig2ab``: steady-state enhancement p_I/p and build-up time tau (mono-
  exponential fit) of the e1-e2-n model vs D for several omega_1 (full equation).
* ``cross-effect-fig2c``: max_{t,k} |p_FE - p_ZP| / p on the 5-spin pentagon vs D.
* ``cross-effect-fig2de``: 118 protons at random positions around two electrons, kMC of
  the Zeeman projection (Eq. 4) with and without nuclear dipolar couplings; maps of
  p_I,k/p at 10 s and 220 s (d) and the total build-up (e).  The paper's geometry is
  not given; ours: electrons 6.4 nm apart along x, field along z (D = 99 kHz), 118
  protons uniform in a sphere of radius 4 nm around their midpoint, >= 0.5 nm apart
  (0.44 protons/nm^3; nearest-neighbour d ~ 90 Hz), pairs with |d| < 5 Hz dropped, and
  the secular hyperfine couplings A_jk set to zero (B_jk kept).  Why A = 0: "the ideal
  condition of the electron frequency offsets" (Delta_2 - Delta_1 = omega_I) holds
  only without them; with them the random proton states shift the e1-e2 difference
  frequency by sqrt(sum_k (A_1k - A_2k)^2) / 2 = 177 kHz rms here, far beyond the
  three-spin linewidth Gamma_3 / 2pi = 32 kHz, and the CE source is detuned for most
  configurations.  The run with A_jk is computed too and drawn dotted.

Each ``make_*(quick, output_dir, progress=True, realizations=None, workers=1)`` writes
``<command>.nc`` (xarray) and ``<command>.png`` (e.g. ``cross-effect-fig2ab.nc``) and
returns their paths; the grid sweeps run in ``<command>.nc.parts/`` meanwhile.  ``realizations``
means trajectories for fig2de and is ignored elsewhere.  The (omega_1, D) grids of
fig2ab and fig2c are sweeps (:func:`dnpsim.experiments.sweep.run_sweep`, one task per
grid point; ``workers`` processes, progress, resume, provenance).  fig1c (two fixed
regimes, one time evolution each) and fig2de (one kMC run of many trajectories per
case, parallel in ``workers`` numba threads, with its own kMC seed) are not grids of a
model over realizations and run directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dnpsim.experiments.cross_effect import geometry_model, paper_model
from dnpsim.experiments.figures.common import load_finished, save_figure, work_directory
from dnpsim.plots import pyplot

FIG2_OMEGA1 = (1e3, 3e3, 10e3, 30e3)
PAPER = "Karabanov et al., Many-body kinetics of dynamic nuclear polarization by the cross effect (2018)"

#: Units and long names of the figures' variables and coordinates.
QUANTITIES = {
    "time": ("s", "time since the microwaves were switched on"),
    "omega1": ("Hz", "microwave amplitude omega_1 / 2pi"),
    "D": ("Hz", "electron-electron coupling D / 2pi"),
    "enhancement": ("1", "steady-state nuclear polarization over the thermal electron polarization, p_I / p"),
    "build_up_time": ("s", "build-up time tau of the fit p_I(t) = eps (1 - exp(-t / tau))"),
    "error": ("1", "max over t and nuclei k of |p_FE - p_ZP| / p (full equation vs Zeeman projection)"),
    "x": ("m", "proton position x"),
    "y": ("m", "proton position y"),
    "z": ("m", "proton position z (along the field)"),
    **{f"{regime}_{spin}": ("1", f"{what} over the thermal electron polarization p, {regime} regime")
       for regime in ("coherent", "incoherent")
       for spin, what in (("S1", "polarization p_S1 of electron 1"), ("S2", "polarization p_S2 of electron 2"),
                          ("I1", "polarization p_I of the nucleus"))},
}


def _fig2de_quantities() -> dict:
    out = {}
    for case, _, _ in FIG2DE_CASES:
        what = case.replace("_", " ")
        out[f"{case}_polarization"] = ("1", f"kMC mean over trajectories of p_I,k / p per proton ({what})")
        out[f"{case}_stderr"] = ("1", f"standard error over trajectories of {case}_polarization")
    return out


def _save(ds, fig, output_dir: Path, name: str, parameters: dict, caption: str, reused: bool = False):
    return save_figure(ds, fig, output_dir, name, parameters=parameters, caption=caption,
                       quantities=QUANTITIES | _fig2de_quantities(), attrs={"paper": PAPER}, reused=reused)


def make_fig1c(quick: bool, output_dir: Path, progress: bool = True, realizations=None, workers: int = 1):
    """Fig. 1(c): <S_1z>, <S_2z>, <I_z> / p vs time (log axis) in both regimes."""
    import xarray as xr

    from dnpsim.dynamics.liouville import evolve

    name = "cross-effect-fig1c"
    cases = {
        "coherent": {"omega1": 0.5e6, "D": 0.5e6},
        "incoherent": {"omega1": 10e3, "D": 100e3, "p": 0.98, "t1e": 1.0},
    }
    parameters = {"mode": "quick" if quick else "full", "times": 120 if quick else 400, "model": "n-e1-e2",
                  "cases": cases}
    ds = load_finished(output_dir, name, parameters)
    reused = ds is not None
    if not reused:
        times = np.concatenate([[0.0], np.logspace(-8, 3, parameters["times"])])
        data = {}
        for case, options in cases.items():
            model = paper_model("n-e1-e2", **options)
            tr = evolve(model, times)
            data[case] = (tr.electron_polarization / -model.p, tr.nuclear_polarization[:, 0] / model.p)
        ds = xr.Dataset({f"{c}_{v}": ("time", arr) for c, (pe, pn) in data.items()
                         for v, arr in (("S1", pe[:, 0]), ("S2", pe[:, 1]), ("I1", pn))}, coords={"time": times})
    times = ds["time"].values
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for c, style in (("coherent", "-"), ("incoherent", "--")):
        ax.semilogx(times[1:], ds[f"{c}_S1"][1:], style, color="tab:blue", label=rf"$S_1$, {c}")
        ax.semilogx(times[1:], ds[f"{c}_S2"][1:], style, color="tab:green", label=rf"$S_2$, {c}")
        ax.semilogx(times[1:], ds[f"{c}_I1"][1:], style, color="tab:orange", label=rf"$I_1$, {c}")
    ax.set_xlabel(r"$t$ (s)")
    ax.set_ylabel(r"polarization / $p$")
    ax.legend(fontsize=7)
    ax.set_title(r"Fig. 1(c): fast and slow stages, $n-e_1-e_2$ (full master equation)", fontsize=9)
    fig.tight_layout()
    caption = (r"Karabanov et al. 2018, Fig. 1(c). Polarizations of electron 1 ($S_1$, blue), electron 2 ($S_2$, "
               r"green) and the nucleus ($I_1$, orange) over the thermal electron polarization $p$. Solid: "
               r"coherent regime, $p$ = 0.034, $\omega_1/2\pi = D/2\pi$ = 0.5 MHz, $T_{1e}$ = 3 ms "
               r"($\eta_1 \sim 1$); dashed: incoherent regime, $p$ = 0.98, $\omega_1/2\pi$ = 10 kHz, "
               r"$D/2\pi$ = 100 kHz, $T_{1e}$ = 1 s ($\eta_1 \sim 100$). Deterministic: no error bars.")
    return _save(ds, fig, output_dir, name, parameters, caption, reused)


def fig2ab_point(omega1: float, D: float) -> tuple[float, float]:
    """(enhancement p_I/p, build-up time tau in s) of the e1-e2-n model from the full
    equation: steady state, and a mono-exponential fit of the build-up on a grid of
    five times the slowest projected relaxation time."""
    from dnpsim.dynamics import liouville
    from dnpsim.dynamics.zeeman_projection import projected_rates
    from dnpsim.observables.build_up import fit_build_up

    model = paper_model("e1-e2-n", omega1=omega1, D=D)
    ss = liouville.steady_state(model)
    q = projected_rates(model).generator
    slow = np.sort(-np.linalg.eigvals(q).real)
    slow = slow[slow > 1e-12 * slow.max()]
    times = np.linspace(0, 5.0 / slow[0], 40)
    tr = liouville.evolve(model, times)
    fit = fit_build_up(times, tr.nuclear_polarization[:, 0])
    return ss.nuclear_polarization[0] / model.p, fit.tau


def grid_spec(figure: str, omegas, Ds) -> dict:
    """The (omega_1, D) grid of Fig. 2(a, b) or 2(c) as a sweep spec: the caption model
    ``model.figure`` of :func:`~dnpsim.experiments.cross_effect.paper_model` with
    ``model.omega1`` and ``model.D`` (Hz) swept; deterministic (one realization)."""
    return {"model": {"kind": "paper_model", "figure": figure, "omega1": float(omegas[0]), "D": float(Ds[0])},
            "sweep": {"model.omega1": [float(w) for w in omegas], "model.D": [float(d) for d in Ds],
                      "realizations": 1, "seed": 0}}


def validate_grid_point(spec: dict) -> None:
    """The sweep's ``validate``: the caption model of the point can be built."""
    from dnpsim.errors import SpecError

    model = spec["model"]
    if model.get("kind") != "paper_model":
        raise SpecError("model.kind", f"must be 'paper_model' for a cross-effect figure grid, got {model.get('kind')!r}")
    try:
        paper_model(model["figure"], omega1=model["omega1"], D=model["D"])
    except ValueError as exc:
        raise SpecError("model", str(exc)) from None


def _omega1_D(spec: dict, variant: dict) -> tuple[float, float]:
    from dnpsim.experiments.figures.common import point_spec

    model = point_spec(spec, variant)["model"]
    return model["omega1"], model["D"]


def fig2ab_task(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """Sweep compute of Fig. 2(a, b): :func:`fig2ab_point` at each point's (omega_1, D)
    (deterministic: ``seed`` is not used)."""
    return [dict(zip(("enhancement", "build_up_time"), fig2ab_point(*_omega1_D(spec, v)))) for v in variants]


def fig2c_task(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """Sweep compute of Fig. 2(c): :func:`fig2c_error` at each point's (omega_1, D)
    (deterministic: ``seed`` is not used)."""
    return [{"error": fig2c_error(*_omega1_D(spec, v))} for v in variants]


def _grid(figure: str, omegas, Ds, compute, output_dir: Path, name: str, workers: int, progress: bool):
    """The (omega1, D) grid through the sweep runner: ``workers`` processes, progress,
    resume from ``<name>.nc.parts/``."""
    from dnpsim.experiments.figures.common import figure_sweep, single_realization

    def finish(data):
        return single_realization(data).drop_vars("realization_seed")

    return figure_sweep(grid_spec(figure, omegas, Ds), work_directory(output_dir, name) / "grid.nc", compute,
                        validate=validate_grid_point, workers=workers, progress=progress, finish=finish)


def _log_axis_with_zero(Ds):
    """x positions of a D grid on a log axis: D = 0 drawn at a third of the next value."""
    Ds = np.asarray(Ds, dtype=float)
    return np.where(Ds > 0, Ds, Ds[Ds > 0].min() / 3 if np.any(Ds > 0) else 1.0)


def make_fig2ab(quick: bool, output_dir: Path, progress: bool = True, realizations=None, workers: int = 1):
    """Fig. 2(a, b): enhancement and build-up time vs D for several omega_1."""
    name = "cross-effect-fig2ab"
    Ds = np.concatenate([[0.0], np.logspace(3, 7, 9 if quick else 25)])
    omegas = FIG2_OMEGA1[1:3] if quick else FIG2_OMEGA1
    parameters = {"mode": "quick" if quick else "full", "model": "e1-e2-n", "omega1_hz": list(omegas),
                  "D_hz": Ds.tolist()}
    ds = load_finished(output_dir, name, parameters)
    reused = ds is not None
    if not reused:
        ds = _grid("e1-e2-n", omegas, Ds, fig2ab_task, output_dir, name, workers, progress)
    eps, tau = ds["enhancement"].values, ds["build_up_time"].values
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    x = _log_axis_with_zero(Ds)
    for i, w1 in enumerate(omegas):
        a.semilogx(x / 1e3, eps[i], "o-", ms=3, label=rf"$\omega_1/2\pi$ = {w1 / 1e3:g} kHz")
        b.loglog(x / 1e3, tau[i], "o-", ms=3)
    a.set_xlabel(r"$D/2\pi$ (kHz)")
    a.set_ylabel(r"$p_I/p$")
    b.set_xlabel(r"$D/2\pi$ (kHz)")
    b.set_ylabel(r"$\tau$ (s)")
    a.legend(fontsize=7)
    a.set_title(r"(a) enhancement, $e_1-e_2-n$", fontsize=9)
    b.set_title(r"(b) build-up time", fontsize=9)
    fig.tight_layout()
    caption = (r"Karabanov et al. 2018, Fig. 2(a, b). Steady-state nuclear polarization enhancement $p_I/p$ (a) "
               r"and build-up time $\tau$ of the fit $p_I = \epsilon(1 - e^{-t/\tau})$ (b) of the 3-spin "
               r"$e_1-e_2-n$ model (full master equation) vs the electron-electron coupling $D$, for several "
               r"$\omega_1$; the leftmost points are $D$ = 0. Deterministic: no error bars.")
    return _save(ds, fig, output_dir, name, parameters, caption, reused)


def fig2c_error(omega1: float, D: float) -> float:
    """max_{t,k} |p_FE - p_ZP| / p on the pentagon over the build-up (0 .. 5 tau)."""
    from dnpsim.dynamics import liouville
    from dnpsim.dynamics.zeeman_projection import projected_rates
    from dnpsim.dynamics.zeeman_rate_equation import rate_evolve

    model = paper_model("pentagon", omega1=omega1, D=D)
    rates = projected_rates(model)
    slow = np.sort(-np.linalg.eigvals(rates.generator).real)
    slow = slow[slow > 1e-12 * slow.max()]
    times = np.linspace(0, 5.0 / slow[0], 30)
    full = liouville.evolve(model, times).nuclear_polarization
    proj = rate_evolve(rates, times).nuclear_polarization
    return float(np.abs(full - proj).max() / model.p)


def make_fig2c(quick: bool, output_dir: Path, progress: bool = True, realizations=None, workers: int = 1):
    """Fig. 2(c): projection error on the 5-spin pentagon vs D for several omega_1."""
    name = "cross-effect-fig2c"
    Ds = np.logspace(3, 6.5, 6 if quick else 15)
    omegas = (3e3, 10e3, 30e3) if quick else (1e3, 3e3, 10e3, 20e3, 30e3)
    parameters = {"mode": "quick" if quick else "full", "model": "pentagon", "omega1_hz": list(omegas),
                  "D_hz": Ds.tolist()}
    ds = load_finished(output_dir, name, parameters)
    reused = ds is not None
    if not reused:
        ds = _grid("pentagon", omegas, Ds, fig2c_task, output_dir, name, workers, progress)
    err = ds["error"].values
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for i, w1 in enumerate(omegas):
        ax.semilogx(Ds / 1e3, err[i], "o-", ms=3, label=rf"$\omega_1/2\pi$ = {w1 / 1e3:g} kHz")
    ax.axhline(0.1, color="k", lw=0.5, ls=":")
    ax.set_xlabel(r"$D/2\pi$ (kHz)")
    ax.set_ylabel(r"$\max_{t,k} |p_{FE} - p_{ZP}|/p$")
    ax.legend(fontsize=7)
    ax.set_title("(c) pentagon", fontsize=9)
    fig.tight_layout()
    caption = (r"Karabanov et al. 2018, Fig. 2(c). Largest error over the build-up and the nuclei between the full "
               r"master equation ($p_{FE}$) and the Zeeman projection ($p_{ZP}$, Eq. (4)) on the 5-spin pentagon, "
               r"$p$ = 0.984, vs $D$ for several $\omega_1$; dotted: 0.1. Deterministic: no error bars.")
    return _save(ds, fig, output_dir, name, parameters, caption, reused)


#: Our Fig. 2(d, e) geometry (module docstring), metres.
FIG2DE_ELECTRONS = np.array([[-3.2e-9, 0.0, 0.0], [3.2e-9, 0.0, 0.0]])
FIG2DE_RADIUS, FIG2DE_MIN_DISTANCE, FIG2DE_SEED = 4e-9, 0.5e-9, 5
FIG2DE_MIN_PAIR_HZ = 5.0
#: (label, nuclear dipolar couplings, secular hyperfine A_jk) of the Fig. 2(e) curves
FIG2DE_CASES = (("dipolar", True, False), ("no_dipolar", False, False), ("dipolar_secular_hyperfine", True, True))


def fig2de_model(nuclear_dipolar: bool, secular_hyperfine: bool = False, n: int = 118, seed: int = FIG2DE_SEED):
    """The Fig. 2(d, e) model (module docstring), omega_1 = 10 kHz, Fig. 2 relaxation."""
    from dnpsim.models.cross_effect import random_nuclear_positions

    rn = random_nuclear_positions(n, FIG2DE_RADIUS, FIG2DE_MIN_DISTANCE, FIG2DE_ELECTRONS,
                                  np.random.default_rng(seed))
    return geometry_model(FIG2DE_ELECTRONS, rn, [0.0, 0.0, 1.0], omega1=10e3, omega_I=145e6,
                          nuclear_dipolar=nuclear_dipolar, secular_hyperfine=secular_hyperfine,
                          R1=1.0, R2=1e5, t1n=100.0, t2n=1e-3, p=0.984)


def make_fig2de(quick: bool, output_dir: Path, progress: bool = True, realizations=None, workers: int = 1):
    """Fig. 2(d, e): per-proton kMC build-up with and without nuclear dipolar coupling
    (and, dotted, with the secular hyperfine couplings)."""
    import xarray as xr

    from dnpsim.dynamics.cross_effect_kmc import kmc
    from dnpsim.observables.build_up import fit_build_up

    name = "cross-effect-fig2de"
    trajectories = realizations or (20 if quick else 2000)
    t_end = 60.0 if quick else 220.0
    parameters = {"mode": "quick" if quick else "full", "trajectories": trajectories, "t_end_s": t_end,
                  "times": 23, "kmc_seed": 11, "geometry_seed": FIG2DE_SEED, "protons": 118,
                  "electrons_m": FIG2DE_ELECTRONS.tolist(), "radius_m": FIG2DE_RADIUS,
                  "min_distance_m": FIG2DE_MIN_DISTANCE, "min_pair_coupling_hz": FIG2DE_MIN_PAIR_HZ,
                  "omega1_hz": 10e3, "omega_I_hz": 145e6, "p": 0.984}
    ds = load_finished(output_dir, name, parameters)
    reused = ds is not None
    if not reused:
        times = np.linspace(0, t_end, parameters["times"])
        out, fits = {}, {}
        for label, dipolar, secular in FIG2DE_CASES:
            model = fig2de_model(dipolar, secular)
            res = kmc(model, times, trajectories, np.random.default_rng(parameters["kmc_seed"]), threads=workers,
                      min_pair_coupling=2 * np.pi * FIG2DE_MIN_PAIR_HZ)
            out[label] = res
            fit = fit_build_up(times, res.nuclear_polarization.mean(axis=1))
            fits[label] = (fit.eps / model.p, fit.tau)
        model = fig2de_model(True)
        pos = model.positions
        ds = xr.Dataset({f"{k}_polarization": (("time", "nucleus"), r.nuclear_polarization / model.p)
                         for k, r in out.items()} | {f"{k}_stderr": (("time", "nucleus"), r.nuclear_stderr / model.p)
                                                     for k, r in out.items()},
                        coords={"time": times, "x": ("nucleus", pos[:, 0]), "y": ("nucleus", pos[:, 1]),
                                "z": ("nucleus", pos[:, 2])})
        ds.attrs["fits"] = json.dumps({k: {"eps_over_p": e, "tau_s": t} for k, (e, t) in fits.items()})
        ds.attrs["trajectories"] = trajectories
    fits = {k: (v["eps_over_p"], v["tau_s"]) for k, v in json.loads(ds.attrs["fits"]).items()}
    times = ds["time"].values
    x_nm, y_nm = ds["x"].values * 1e9, ds["y"].values * 1e9
    dipolar = ds["dipolar_polarization"].values
    plt = pyplot()
    fig = plt.figure(figsize=(12, 3.8), layout="constrained")
    snaps = [int(np.argmin(np.abs(times - 10.0))), times.size - 1]
    # one colour and size scale for both maps (the paper's "scale at the right")
    top = max(float(dipolar[snaps].max()), 1e-3)
    for i, g in enumerate(snaps):
        ax = fig.add_subplot(1, 3, i + 1)
        val = dipolar[g]
        sc = ax.scatter(x_nm, y_nm, c=val, s=8 + 60 * np.clip(val / top, 0, 1), cmap="Blues",
                        vmin=0, vmax=top, edgecolors="grey", linewidths=0.3)
        ax.scatter(FIG2DE_ELECTRONS[:, 0] * 1e9, FIG2DE_ELECTRONS[:, 1] * 1e9, c="red", s=80)
        ax.set_title(f"(d) $t$ = {times[g]:.0f} s, with $d$", fontsize=9)
        ax.set_xlabel(r"$x$ (nm)")
        ax.set_ylabel(r"$y$ (nm)")
        ax.set_aspect("equal")
    fig.colorbar(sc, ax=fig.axes[:2], shrink=0.8, label=r"$p_{I,k}/p$")
    ax = fig.add_subplot(1, 3, 3)
    labels = {"dipolar": "with $d$", "no_dipolar": "$d$ = 0", "dipolar_secular_hyperfine": "with $d$ and $A_{jk}$"}
    for k, style in (("dipolar", "-"), ("no_dipolar", "--"), ("dipolar_secular_hyperfine", ":")):
        eps, tau = fits[k]
        # a flat, noisy curve fits to any (eps, tau) with eps/tau fixed: say so instead
        fitted = (rf"$\epsilon/p$ = {eps:.2f}, $\tau$ = {tau:.0f} s" if 0 < eps <= 1 and tau < 10 * t_end
                  else "no build-up")
        ax.plot(times, ds[f"{k}_polarization"].mean("nucleus"), style, label=f"{labels[k]} ({fitted})")
    ax.set_xlabel(r"$t$ (s)")
    ax.set_ylabel(r"$\overline{p_I}/p$")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(f"(e) kMC, {trajectories} trajectories", fontsize=9)
    caption = (r"Karabanov et al. 2018, Fig. 2(d, e). (d) $p_{I,k}/p$ of each of the 118 protons (colour and dot "
               r"size; electrons: red) after 10 s and at the end of the build-up, with nuclear dipolar couplings $d$. "
               r"(e) Mean over the protons of $p_{I,k}/p$: with $d$ (solid), $d$ = 0 (dashed), with $d$ and the "
               r"secular hyperfine couplings $A_{jk}$ (dotted); $\epsilon$, $\tau$ from the fit "
               r"$p_I = \epsilon(1 - e^{-t/\tau})$. Each $p_{I,k}$ is the kMC mean over "
               f"{trajectories} trajectories; no error bars drawn (its standard error over the trajectories is "
               r"in the data file, *_stderr).")
    return _save(ds, fig, output_dir, name, parameters, caption, reused)
