"""Figures 2, 3 and 5 of De Luca et al., PRB 94, 014203 (2016).

* Fig. 2: DNP profile P_n(omega_MW) for U = 2 and 15 MHz, with Eq. (1) evaluated at
  the realization-averaged fitted spin temperature (Eq. (18), "FM").
* Fig. 3: stationary P_n vs U at B = 3.35 T (left) and vs B at U = 15 MHz (right),
  against Eq. (1) with beta_s^FM and with the perturbative beta_s^PE (Eqs. (23)-(25),
  N -> infinity, from :mod:`dnpsim.theory.spin_temperature`).
* Fig. 5: (a) Kullback-Leibler divergence (Eq. (27)) and (b) sample-to-sample standard
  deviation of P_n vs U (the data of Fig. 3, left).

Parameters are Table I (T1e = 1 s, T2e = 1 us, beta = 0.83 / K, i.e. T = 1.2 K,
omega_e = 93.9 GHz, Delta omega_e = 54 MHz, omega_1 = 25 kHz, omega_n = 20 MHz).
Choices the paper leaves open, stated here and in the files' attributes:

* hyperfine couplings D_i ~ N(0, D^2/N) with D = 1 MHz (small against U and omega_n,
  large enough for a well-conditioned P_n, see the engine's docstring);
* Fig. 3 and 5 irradiate at omega_MW = omega_e - 20 MHz (the positive maximum of the
  Fig. 2 profile) and, for the field sweep, scale omega_e, Delta omega_e, omega_n and
  the detuning proportionally to B (the paper: "Delta omega_e increases
  proportionally with the external magnetic field").

Every figure is a sweep (:func:`dnpsim.experiments.sweep.run_sweep`): disorder
realizations run in parallel with ``workers`` processes, progress is shown and an
interrupted full run resumes from ``<figure>.nc.parts/``.  Each command writes
``<figure>.nc`` and ``<figure>.png`` only (:func:`~.common.save_figure`); Fig. 5 reads
the data of Fig. 3 when ``spin-temperature-fig3.nc`` of the same N, realizations and
couplings is in the output directory.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from dnpsim.experiments.figures.common import (
    FIGURE_TABLE,
    engine_spec,
    figure_sweep,
    load_finished,
    point_spec,
    save_figure,
    validate_engine_spec,
    work_directory,
)
from dnpsim.plots import pyplot
from dnpsim.units import TWO_PI

#: Table I of the 2016 paper (boundary units: Hz, s, K).
TABLE_I = {
    "electron_larmor": 93.9e9,
    "half_width": 54e6,
    "nuclear_larmor": 20e6,
    "temperature": 1.2,
    "mw_amplitude": 25e3,
    "t1e": 1.0,
    "t2e": 1e-6,
    "field": 3.35,
}
HYPERFINE_SCALE = 1e6
FIG3_DETUNING = -20e6
FIG2_COUPLINGS = (2e6, 15e6)
FIG3_COUPLINGS = (2e6, 3.5e6, 5e6, 7.5e6, 10e6, 15e6, 22e6, 30e6, 45e6)
FIG3_FIELDS = (1.5, 2.5, 3.35, 4.5, 6.0, 8.0)
#: Quick-mode grids of Figs. 3 and 5.
QUICK_COUPLINGS = (2e6, 5e6, 15e6, 45e6)
QUICK_FIELDS = (2.5, 3.35, 4.5)
ROOT_SEED = 2016

#: Units and long names of the figures' own variables (the others: dnpsim.units.QUANTITIES).
QUANTITIES = {
    "scale": ("Hz", "dipolar coupling scale U / 2pi"),
    "field": ("T", "magnetic field B (omega_e, Delta omega_e, omega_n and the detuning scale with it)"),
    "mw_frequency": ("Hz", "microwave frequency omega_MW / 2pi"),
    "mean_block_energy": ("rad/s", "stationary average of the electron eigen-energies E_n"),
    "mean_magnetization": ("1", "stationary average of the electron magnetization M = sum_i S_z^i"),
    "block_energies": ("rad/s", "electron eigen-energies E_n of the realization"),
    "magnetizations": ("1", "magnetization M_n of each electron eigenstate"),
    "nuclear_polarization_fm": ("1", "Eq. (1) with beta_s fitted to the realization averages, Eq. (18) (FM)"),
    "inverse_spin_temperature_fm": ("s/rad", "beta_s fitted to the realization averages, Eq. (18) (FM)"),
    "nuclear_polarization_pe": ("1", "Eq. (1) with the perturbative beta_s^PE, Eqs. (23)-(25), N -> infinity"),
    "kl_divergence_mean": ("1", "Kullback-Leibler divergence Eq. (27), mean over realizations"),
    "kl_divergence_std": ("1", "Kullback-Leibler divergence Eq. (27), standard deviation over realizations"),
    "nuclear_polarization_std": ("1", "sample-to-sample standard deviation of P_n over realizations"),
}


def base_spec(n: int, coupling: float, *, field: float = TABLE_I["field"], detuning: float = FIG3_DETUNING) -> dict:
    """Spec of one point at Table I parameters scaled to magnetic field ``field`` (T)."""
    scale = field / TABLE_I["field"]
    larmor = TABLE_I["electron_larmor"] * scale
    return {
        "model": {
            "kind": "dipolar_electrons",
            "electron_larmor": larmor,
            "n_electrons": n,
            "offsets": {"distribution": "equally_spaced", "half_width": TABLE_I["half_width"] * scale},
            "couplings": {"distribution": "gaussian", "scale": coupling},
            "seed": 0,
            "nuclei": {"larmor": TABLE_I["nuclear_larmor"] * scale,
                        "hyperfine": {"distribution": "gaussian", "scale": HYPERFINE_SCALE}},
        },
        "environment": {"temperature": TABLE_I["temperature"], "mw_frequency": larmor + detuning * scale,
                        "mw_amplitude": TABLE_I["mw_amplitude"], "t1e": TABLE_I["t1e"], "t2e": TABLE_I["t2e"]},
        "method": {"kind": "rate_equation"},
    }


def realization_task(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """One disorder realization (a sweep task): stationary states at every microwave
    frequency of the spec's ``figure.mw_frequencies`` (Hz; default the point's
    ``environment.mw_frequency``), reusing the spectrum.

    Returns per variant arrays over ``mw_frequency``: nuclear_polarization, the
    per-realization fit's Eq. (1) prediction and KL divergence (Eq. (27)), the
    stationary averages <E>, <S_z> needed by the realization-averaged fit, and the
    realization's spectrum (block energies E_n in rad/s and s_z,n, dim ``state``).
    """
    from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
    from dnpsim.spec import resolve_spec

    out = []
    frequencies = spec.get(FIGURE_TABLE, {}).get("mw_frequencies")
    spec = engine_spec(spec)
    setup = resolve_spec(spec, seed=seed)
    engine = SpinTemperatureEngine(setup.model())
    energies, mags = engine.block_energies(), engine.magnetizations()
    for variant in variants:
        values = resolve_spec(point_spec(spec, variant), seed=seed).environment_values
        freqs = np.atleast_1d(values["mw_frequency"] if frequencies is None else frequencies)
        columns = {k: [] for k in ("nuclear_polarization", "nuclear_polarization_ansatz", "kl_divergence",
                                   "mean_block_energy", "mean_magnetization", "residual")}
        points = engine.stationary_many([setup.environment(dict(values, mw_frequency=float(f))) for f in freqs])
        for point in points:
            fit = engine.spin_temperature(point)
            columns["nuclear_polarization"].append(point.nuclear_polarization)
            columns["nuclear_polarization_ansatz"].append(fit.nuclear_polarization(TWO_PI * setup.nuclear_larmor))
            columns["kl_divergence"].append(engine.kl_divergence(point, fit))
            columns["mean_block_energy"].append(point.populations @ energies)
            columns["mean_magnetization"].append(point.populations @ mags)
            columns["residual"].append(point.residual)
        result = {k: np.array(v) for k, v in columns.items()}
        result["block_energies"] = energies
        result["magnetizations"] = mags
        result["dims"] = {k: ("mw_frequency",) for k in columns} | {"block_energies": ("state",),
                                                                     "magnetizations": ("state",)}
        out.append(result)
    return out


def averaged_fit(data, electron_larmor_hz: float, nuclear_larmor_hz: float):
    """Eq. (18) with the overline: one beta_s per (grid point, frequency) matched to
    the realization-summed averages.  Adds ``nuclear_polarization_fm`` and
    ``inverse_spin_temperature_fm`` (s/rad) to ``data`` (dims without realization)."""
    import itertools

    import xarray as xr

    from dnpsim.observables.spin_temperature import fit_spin_temperature_to_averages

    template = data["nuclear_polarization"].isel(realization=0, drop=True)
    fm = xr.full_like(template, np.nan, dtype=float)
    beta = xr.full_like(template, np.nan, dtype=float)
    other = [d for d in template.dims if d != "mw_frequency"]
    realizations = range(data.sizes["realization"])
    for index in itertools.product(*(range(data.sizes[d]) for d in other)):
        sel = dict(zip(other, index))
        sub = data.isel(sel)
        energies = [sub["block_energies"].isel(realization=r).values for r in realizations]
        mags = [sub["magnetizations"].isel(realization=r).values for r in realizations]
        for j in range(data.sizes["mw_frequency"]):
            point = sub.isel(mw_frequency=j)
            fit = fit_spin_temperature_to_averages(energies, mags, float(point["mean_block_energy"].sum()),
                                                   float(point["mean_magnetization"].sum()),
                                                   TWO_PI * electron_larmor_hz)
            fm[{**sel, "mw_frequency": j}] = fit.nuclear_polarization(TWO_PI * nuclear_larmor_hz)
            beta[{**sel, "mw_frequency": j}] = fit.beta_s
    data["nuclear_polarization_fm"] = fm
    data["inverse_spin_temperature_fm"] = beta
    return data


def _run(spec: dict, sweep: dict, output: Path | None, frequencies, workers: int, progress: bool):
    """Run one figure sweep into ``output`` (a ``.nc`` path in the figure's work
    directory, or None: in memory; a finished file of the same sweep is reused);
    ``frequencies`` (Hz) go in the spec's ``figure`` table, so the sweep's fingerprint
    covers them."""
    spec = dict(copy.deepcopy(spec), sweep=sweep)
    if frequencies is not None:
        spec[FIGURE_TABLE] = {"mw_frequencies": [float(f) for f in frequencies]}

    def finish(data):
        if frequencies is None:
            return data
        return data.assign_coords(mw_frequency=np.asarray(spec[FIGURE_TABLE]["mw_frequencies"]))

    return figure_sweep(spec, output, realization_task, validate=validate_engine_spec, workers=workers,
                        progress=progress, finish=finish)


def _in(work: Path | None, name: str) -> Path | None:
    return None if work is None else Path(work) / name


def _mode(quick: bool) -> str:
    return "quick" if quick else "full"


def _math_u(value_hz: float) -> str:
    return rf"$U/2\pi$ = {value_hz / 1e6:g} MHz"


# ----------------------------------------------------------------------- Fig. 2
def fig2_data(n: int, realizations: int, work: Path | None, *, num: int = 41, workers: int = 1, progress=True):
    """DNP profiles for U = 2 and 15 MHz; returns the Dataset (dims scale,
    realization, mw_frequency, state) with the averaged-fit prediction added.  ``work``:
    directory of the resumable sweep (``fig2.nc`` there), or None (in memory)."""
    freqs = np.linspace(93.84e9, 93.96e9, num)
    sweep = {"model.couplings.scale": list(FIG2_COUPLINGS), "realizations": realizations, "seed": ROOT_SEED}
    data = _run(base_spec(n, FIG2_COUPLINGS[0]), sweep, _in(work, "fig2.nc"), freqs, workers, progress)
    return averaged_fit(data, TABLE_I["electron_larmor"], TABLE_I["nuclear_larmor"])


def make_fig2(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, n_electrons: int | None = None):
    """``dnpsim figure spin-temperature-fig2``: quick N = 8 x 6 realizations, full N = 12 x 100."""
    name = "spin-temperature-fig2"
    n, r = (8, 6) if quick else (12, 100)
    n, r = n_electrons or n, realizations or r
    parameters = {"mode": _mode(quick), "n_electrons": n, "realizations": r, "couplings_hz": list(FIG2_COUPLINGS),
                  "mw_frequencies": 41, "seed": ROOT_SEED}
    data = load_finished(output_dir, name, parameters)
    reused = data is not None
    if not reused:
        data = fig2_data(n, r, work_directory(output_dir, name), workers=workers, progress=progress)
    r = data.sizes["realization"]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    f = data["mw_frequency"].values / 1e9
    for i, u in enumerate(data["scale"].values):
        sub = data.isel(scale=i)
        pn = sub["nuclear_polarization"]
        line = ax.errorbar(f, pn.mean("realization"), yerr=pn.std("realization"), fmt="o", ms=3, capsize=2,
                           color=("tab:red", "tab:blue")[i % 2], label=_math_u(u))
        ax.plot(f, sub["nuclear_polarization_fm"], "--", color=line[0].get_color())
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel(r"$\omega_{MW}/2\pi$ (GHz)")
    ax.set_ylabel(r"$P_n$")
    ax.set_title(f"DNP profile, $N$ = {n}, {r} realizations", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    caption = (f"De Luca et al. 2016, Fig. 2. Symbols: stationary $P_n$ (rate equation), mean over {r} disorder "
               f"realizations; error bars: standard deviation over the {r} realizations. Dashed: Eq. (1) with "
               r"$\beta_s$ fitted to the realization averages (Eq. (18), FM). Red: $U/2\pi$ = 2 MHz, blue: 15 MHz.")
    return save_figure(data, fig, output_dir, name, parameters=parameters, caption=caption, quantities=QUANTITIES,
                       attrs={"paper": "De Luca et al., PRB 94, 014203 (2016), Fig. 2", "n_electrons": n,
                              "mode": _mode(quick), "hyperfine_scale_hz": HYPERFINE_SCALE},
                       reused=reused)


# ------------------------------------------------------------------ Fig. 3 / 5
def coupling_data(n: int, realizations: int, work: Path | None, *, couplings=FIG3_COUPLINGS, workers: int = 1,
                  progress=True):
    """P_n vs U at B = 3.35 T (Fig. 3 left, Fig. 5), with the FM and PE predictions."""
    sweep_u = {"model.couplings.scale": list(couplings), "realizations": realizations, "seed": ROOT_SEED}
    vs_u = _run(base_spec(n, couplings[0]), sweep_u, _in(work, "vs-coupling.nc"), None, workers, progress)
    vs_u = averaged_fit(vs_u, TABLE_I["electron_larmor"], TABLE_I["nuclear_larmor"])
    vs_u["nuclear_polarization_pe"] = ("scale", [_safe_pe(u) for u in vs_u["scale"].values])
    return vs_u


def field_data(n: int, realizations: int, work: Path | None, *, fields=FIG3_FIELDS, workers: int = 1,
               progress=True):
    """P_n vs B at U = 15 MHz (Fig. 3 right), with the FM and PE predictions."""
    import xarray as xr

    out_b, specs = [], []
    for b in fields:
        spec = base_spec(n, 15e6, field=b)
        sweep_b = {"realizations": realizations, "seed": ROOT_SEED}
        data = _run(spec, sweep_b, _in(work, f"vs-field-B{b:g}.nc"), None, workers, progress)
        scale = b / TABLE_I["field"]
        data = averaged_fit(data, TABLE_I["electron_larmor"] * scale, TABLE_I["nuclear_larmor"] * scale)
        specs.append(data.attrs.get("spec"))
        out_b.append(data.expand_dims(field=[b]))
    vs_b = xr.concat(out_b, dim="field", combine_attrs="override")
    vs_b.attrs["spec"] = "[" + ", ".join(specs) + "]"
    vs_b["nuclear_polarization_pe"] = ("field", [_safe_pe(15e6, b) for b in vs_b["field"].values])
    return vs_b


def fig3_data(n: int, realizations: int, work: Path | None, *, couplings=FIG3_COUPLINGS, fields=FIG3_FIELDS,
              workers: int = 1, progress=True):
    """P_n vs U (B = 3.35 T) and vs B (U = 15 MHz).  Returns two Datasets."""
    return (coupling_data(n, realizations, work, couplings=couplings, workers=workers, progress=progress),
            field_data(n, realizations, work, fields=fields, workers=workers, progress=progress))


def perturbative_polarization(coupling_hz: float, field: float = TABLE_I["field"]) -> float:
    """P_n from beta_s^PE (Eqs. (23)-(25), N -> infinity) at Table I scaled to ``field``."""
    from dnpsim.theory.spin_temperature import spin_temperature_continuum
    from dnpsim.units import inverse_temperature

    scale = field / TABLE_I["field"]
    larmor = TWO_PI * TABLE_I["electron_larmor"] * scale
    result = spin_temperature_continuum(
        electron_larmor=larmor, half_width=TWO_PI * TABLE_I["half_width"] * scale,
        beta=inverse_temperature(TABLE_I["temperature"]), omega_mw=larmor + TWO_PI * FIG3_DETUNING * scale,
        omega_1=TWO_PI * TABLE_I["mw_amplitude"], t1e=TABLE_I["t1e"], t2e=TABLE_I["t2e"], coupling=TWO_PI * coupling_hz)
    return result.nuclear_polarization(TWO_PI * TABLE_I["nuclear_larmor"] * scale)


def _fig3_parameters(quick: bool, realizations: int | None, n_electrons: int | None) -> dict:
    n, r = (8, 8) if quick else (12, 100)
    return {"mode": _mode(quick), "n_electrons": n_electrons or n, "realizations": realizations or r,
            "couplings_hz": list(QUICK_COUPLINGS if quick else FIG3_COUPLINGS),
            "fields_t": list(QUICK_FIELDS if quick else FIG3_FIELDS), "seed": ROOT_SEED,
            "mw_detuning_hz_at_3.35T": FIG3_DETUNING}


def _safe_pe(coupling, field=TABLE_I["field"]):
    try:
        return perturbative_polarization(coupling, field)
    except Exception:  # the expansion can fail to have a solution at large U / B
        return np.nan


def _std_caption(r: int) -> str:
    return f"error bars: standard deviation over the {r} realizations"


def make_fig3(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, n_electrons: int | None = None):
    """``dnpsim figure spin-temperature-fig3``: quick N = 8 x 8, full N = 12 x 100."""
    name = "spin-temperature-fig3"
    parameters = _fig3_parameters(quick, realizations, n_electrons)
    n, r = parameters["n_electrons"], parameters["realizations"]
    data = load_finished(output_dir, name, parameters)
    reused = data is not None
    if not reused:
        work = work_directory(output_dir, name)
        vs_u, vs_b = fig3_data(n, r, work, couplings=parameters["couplings_hz"], fields=parameters["fields_t"],
                               workers=workers, progress=progress)
        data = {"vs_coupling": vs_u, "vs_field": vs_b}
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), dpi=120, sharey=True)
    panels = ((axes[0], data["vs_coupling"], "scale", 1e6, r"$U/2\pi$ (MHz)"),
              (axes[1], data["vs_field"], "field", 1, r"$B$ (T)"))
    for ax, panel, dim, scale, label in panels:
        x = panel[dim].values / scale
        pn = panel["nuclear_polarization"].isel(mw_frequency=0)
        ax.errorbar(x, pn.mean("realization"), yerr=pn.std("realization"), fmt="o", color="tab:red", ms=5,
                    capsize=2, label=r"$P_n$ (rate equation)")
        ax.plot(x, panel["nuclear_polarization_fm"].isel(mw_frequency=0), "^", color="tab:blue",
                label=r"Eq. (1), $\beta_s^{FM}$")
        ax.plot(x, panel["nuclear_polarization_pe"], "k--", label=r"Eq. (1), $\beta_s^{PE}$ ($N=\infty$)")
        ax.set_xlabel(label)
    axes[0].set_ylabel(r"$P_n$")
    axes[0].legend(fontsize=7)
    axes[0].set_title(r"$B$ = 3.35 T", fontsize=9)
    axes[1].set_title(r"$U/2\pi$ = 15 MHz", fontsize=9)
    fig.suptitle(f"Breakdown of the spin temperature, $N$ = {n}, {r} realizations", fontsize=9)
    fig.tight_layout()
    caption = (f"De Luca et al. 2016, Fig. 3. Red disks: stationary $P_n$ averaged over {r} realizations, "
               f"{_std_caption(r)}. Blue triangles: Eq. (1) with the fitted " r"$\beta_s^{FM}$ (Eq. (18)); "
               r"black dashed: Eq. (1) with the perturbative $\beta_s^{PE}$ (Eqs. (23)-(25), $N\to\infty$). "
               r"$\omega_{MW} = \omega_e - 2\pi\times 20$ MHz, scaled with $B$.")
    return save_figure(data, fig, output_dir, name, parameters=parameters, caption=caption, quantities=QUANTITIES,
                       attrs={"paper": "De Luca et al., PRB 94, 014203 (2016), Fig. 3", "n_electrons": n,
                              "mode": _mode(quick), "hyperfine_scale_hz": HYPERFINE_SCALE},
                       reused=reused)


def _fig5_coupling_data(quick, output_dir, realizations, workers, progress, n_electrons):
    """The P_n-vs-U data of Fig. 3 (left): from ``spin-temperature-fig3.nc`` in
    ``output_dir`` when it holds the same N, realizations and couplings, else computed
    (only this sweep, in Fig. 5's work directory)."""
    import json

    import xarray as xr

    fig3 = _fig3_parameters(quick, realizations, n_electrons)
    path = Path(output_dir) / "spin-temperature-fig3.nc"
    same = ("n_electrons", "realizations", "couplings_hz", "seed")
    if path.is_file():
        try:
            with xr.open_dataset(path, engine="h5netcdf", group="vs_coupling") as stored:
                theirs = json.loads(stored.attrs.get("figure_parameters", "{}"))
                if all(theirs.get(k) == fig3[k] for k in same):
                    return fig3, stored.load()
        except (OSError, ValueError):
            pass
    work = work_directory(output_dir, "spin-temperature-fig5")
    return fig3, coupling_data(fig3["n_electrons"], fig3["realizations"], work, couplings=fig3["couplings_hz"],
                               workers=workers, progress=progress)


def make_fig5(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, n_electrons: int | None = None):
    """``dnpsim figure spin-temperature-fig5``: KL divergence and P_n fluctuations vs U
    (reads the data of Fig. 3 when ``spin-temperature-fig3.nc`` of the same run is in
    ``output_dir``)."""
    import xarray as xr

    name = "spin-temperature-fig5"
    fig3 = _fig3_parameters(quick, realizations, n_electrons)
    parameters = {k: v for k, v in fig3.items() if k != "fields_t"}
    n, r = fig3["n_electrons"], fig3["realizations"]
    summary = load_finished(output_dir, name, parameters)
    reused = summary is not None
    if not reused:
        _, vs_u = _fig5_coupling_data(quick, output_dir, realizations, workers, progress, n_electrons)
        kl = vs_u["kl_divergence"].isel(mw_frequency=0)
        summary = xr.Dataset({
            "kl_divergence": kl,
            "kl_divergence_mean": kl.mean("realization"),
            "kl_divergence_std": kl.std("realization"),
            "nuclear_polarization": vs_u["nuclear_polarization"].isel(mw_frequency=0),
            "nuclear_polarization_std": vs_u["nuclear_polarization"].isel(mw_frequency=0).std("realization"),
        })
        summary.attrs["spec"] = vs_u.attrs.get("spec", "")
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), dpi=120)
    u = summary["scale"].values / 1e6
    axes[0].errorbar(u, summary["kl_divergence_mean"], yerr=summary["kl_divergence_std"], fmt="o-", capsize=2)
    axes[0].set_ylabel(r"$\overline{D_{KL}}$")
    axes[0].set_title("(a)", fontsize=9)
    axes[1].plot(u, summary["nuclear_polarization_std"], "o-")
    axes[1].set_ylabel(r"$\sigma(P_n)$")
    axes[1].set_title("(b)", fontsize=9)
    from matplotlib.ticker import FuncFormatter, NullFormatter

    for ax in axes:
        ax.set_xlabel(r"$U/2\pi$ (MHz)")
        ax.set_xscale("log")
        ax.set_xticks(u)  # label the computed couplings, not log-decade minor ticks
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    fig.suptitle(f"$N$ = {n}, {r} realizations", fontsize=9)
    fig.tight_layout()
    caption = (f"De Luca et al. 2016, Fig. 5. (a) Kullback-Leibler divergence (Eq. (27)) of the stationary state "
               f"from the spin-temperature ansatz, mean over {r} realizations; {_std_caption(r)}. "
               f"(b) Sample-to-sample standard deviation " r"$\sigma(P_n)$" f" of the nuclear polarization over the "
               f"{r} realizations. $B$ = 3.35 T, data of Fig. 3 (left).")
    return save_figure(summary, fig, output_dir, name, parameters=parameters, caption=caption,
                       quantities=QUANTITIES,
                       attrs={"paper": "De Luca et al., PRB 94, 014203 (2016), Fig. 5", "n_electrons": n,
                              "mode": _mode(quick), "hyperfine_scale_hz": HYPERFINE_SCALE},
                       reused=reused)
