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
interrupted full run resumes from its ``.parts`` directory.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from dnpsim.experiments.figures.common import (FIGURE_TABLE, engine_spec, figure_sweep, point_spec,
                                               validate_engine_spec)
from dnpsim.io import write_netcdf
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
            "nucleus": {"larmor": TABLE_I["nuclear_larmor"] * scale,
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
    data["nuclear_polarization_fm"].attrs["description"] = "Eq. (1) with the realization-averaged fit of Eq. (18)"
    data["inverse_spin_temperature_fm"] = beta
    data["inverse_spin_temperature_fm"].attrs["units"] = "s/rad"
    return data


def _run(spec: dict, sweep: dict, output: Path, frequencies, workers: int, progress: bool):
    """Run one figure sweep (or reuse ``output`` if it holds the same finished sweep);
    ``frequencies`` (Hz) go in the spec's ``figure`` table, so the sweep's fingerprint
    covers them."""
    spec = dict(copy.deepcopy(spec), sweep=sweep)
    if frequencies is not None:
        spec[FIGURE_TABLE] = {"mw_frequencies": [float(f) for f in frequencies]}

    def finish(data):
        if frequencies is None:
            return data
        data = data.assign_coords(mw_frequency=np.asarray(spec[FIGURE_TABLE]["mw_frequencies"]))
        data["mw_frequency"].attrs["units"] = "Hz"
        return data

    return figure_sweep(spec, output, realization_task, validate=validate_engine_spec, workers=workers,
                        progress=progress, finish=finish)


# ----------------------------------------------------------------------- Fig. 2
def fig2_data(n: int, realizations: int, output_dir: Path, *, num: int = 41, workers: int = 1, progress=True):
    """DNP profiles for U = 2 and 15 MHz; returns the Dataset (dims scale,
    realization, mw_frequency, state) with the averaged-fit prediction added."""
    freqs = np.linspace(93.84e9, 93.96e9, num)
    sweep = {"model.couplings.scale": list(FIG2_COUPLINGS), "realizations": realizations, "seed": 2016}
    data = _run(base_spec(n, FIG2_COUPLINGS[0]), sweep, output_dir / "spin-temperature-fig2.raw.nc", freqs, workers,
                progress)
    return averaged_fit(data, TABLE_I["electron_larmor"], TABLE_I["nuclear_larmor"])


def make_fig2(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, n_electrons: int | None = None):
    """``dnpsim figure spin-temperature-fig2``: quick N = 8 x 6 realizations, full N = 12 x 100."""
    n, r = (8, 6) if quick else (12, 100)
    n, r = n_electrons or n, realizations or r
    data = fig2_data(n, r, output_dir, workers=workers, progress=progress)
    nc, png = output_dir / "spin-temperature-fig2.nc", output_dir / "spin-temperature-fig2.png"
    write_netcdf(data, nc, {"figure": "De Luca et al. 2016, Fig. 2", "n_electrons": n, "mode": "quick" if quick else "full",
                     "hyperfine_scale_hz": HYPERFINE_SCALE})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    f = data["mw_frequency"].values / 1e9
    for i, u in enumerate(data["scale"].values):
        sub = data.isel(scale=i)
        pn = sub["nuclear_polarization"]
        line = ax.errorbar(f, pn.mean("realization"), yerr=pn.std("realization"), fmt="o", ms=3, capsize=2,
                           color=("tab:red", "tab:blue")[i % 2], label=f"U = {u / 1e6:g} MHz")
        ax.plot(f, sub["nuclear_polarization_fm"], "--", color=line[0].get_color())
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel(r"$\omega_{MW}/2\pi$ (GHz)")
    ax.set_ylabel(r"$P_n$")
    ax.set_title(f"DNP profile, N = {n}, {data.sizes['realization']} realizations (dashed: Eq. (1), FM)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return nc, png


# ------------------------------------------------------------------ Fig. 3 / 5
def fig3_data(n: int, realizations: int, output_dir: Path, *, couplings=FIG3_COUPLINGS, fields=FIG3_FIELDS,
              workers: int = 1, progress=True):
    """P_n vs U (B = 3.35 T) and vs B (U = 15 MHz).  Returns two Datasets."""
    sweep_u = {"model.couplings.scale": list(couplings), "realizations": realizations, "seed": 2016}
    vs_u = _run(base_spec(n, couplings[0]), sweep_u, output_dir / "spin-temperature-fig3-U.raw.nc", None, workers,
                progress)
    vs_u = averaged_fit(vs_u, TABLE_I["electron_larmor"], TABLE_I["nuclear_larmor"])
    out_b = []
    for b in fields:
        spec = base_spec(n, 15e6, field=b)
        sweep_b = {"realizations": realizations, "seed": 2016}
        data = _run(spec, sweep_b, output_dir / f"spin-temperature-fig3-B{b:g}.raw.nc", None, workers, progress)
        scale = b / TABLE_I["field"]
        data = averaged_fit(data, TABLE_I["electron_larmor"] * scale, TABLE_I["nuclear_larmor"] * scale)
        out_b.append(data.expand_dims(field=[b]))
    import xarray as xr

    vs_b = xr.concat(out_b, dim="field")
    vs_b["field"].attrs["units"] = "T"
    return vs_u, vs_b


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


def _fig3_sizes(quick: bool, realizations: int | None, n_electrons: int | None):
    n, r = (8, 8) if quick else (12, 100)
    return n_electrons or n, realizations or r


def _fig3_and_5_data(quick, output_dir, realizations, workers, progress, n_electrons=None):
    n, r = _fig3_sizes(quick, realizations, n_electrons)
    nc = output_dir / "spin-temperature-fig3.nc"
    if nc.exists():
        import xarray as xr

        with xr.open_dataset(nc, engine="h5netcdf", group="vs_coupling") as a, \
                xr.open_dataset(nc, engine="h5netcdf", group="vs_field") as b:
            if a.attrs.get("n_electrons") == n and a.sizes["realization"] == r:
                return n, a.load(), b.load(), nc
    fields = (2.5, 3.35, 4.5) if quick else FIG3_FIELDS
    couplings = (2e6, 5e6, 15e6, 45e6) if quick else FIG3_COUPLINGS
    vs_u, vs_b = fig3_data(n, r, output_dir, couplings=couplings, fields=fields, workers=workers, progress=progress)
    vs_u["nuclear_polarization_pe"] = ("scale", [_safe_pe(u) for u in vs_u["scale"].values])
    vs_b["nuclear_polarization_pe"] = ("field", [_safe_pe(15e6, b) for b in vs_b["field"].values])
    for d in (vs_u, vs_b):
        d.attrs.update({"figure": "De Luca et al. 2016, Fig. 3 / Fig. 5", "n_electrons": n,
                        "mode": "quick" if quick else "full", "mw_detuning_hz_at_3.35T": FIG3_DETUNING,
                        "hyperfine_scale_hz": HYPERFINE_SCALE})
        d.attrs.pop("spec", None)
    write_netcdf({"vs_coupling": vs_u, "vs_field": vs_b}, nc)
    return n, vs_u, vs_b, nc


def _safe_pe(coupling, field=TABLE_I["field"]):
    try:
        return perturbative_polarization(coupling, field)
    except Exception:  # the expansion can fail to have a solution at large U / B
        return np.nan


def make_fig3(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, n_electrons: int | None = None):
    """``dnpsim figure spin-temperature-fig3``: quick N = 8 x 8, full N = 12 x 100."""
    n, vs_u, vs_b, nc = _fig3_and_5_data(quick, output_dir, realizations, workers, progress, n_electrons)
    png = output_dir / "spin-temperature-fig3.png"
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), dpi=120, sharey=True)
    for ax, data, dim, scale, label in ((axes[0], vs_u, "scale", 1e6, "U (MHz)"), (axes[1], vs_b, "field", 1, "B (T)")):
        x = data[dim].values / scale
        pn = data["nuclear_polarization"].isel(mw_frequency=0)
        ax.errorbar(x, pn.mean("realization"), yerr=pn.std("realization"), fmt="o", color="tab:red", ms=5,
                    capsize=2, label="$P_n$ (rate equation)")
        ax.plot(x, data["nuclear_polarization_fm"].isel(mw_frequency=0), "^", color="tab:blue",
                label=r"Eq. (1), $\beta_s^{FM}$")
        ax.plot(x, data["nuclear_polarization_pe"], "k--", label=r"Eq. (1), $\beta_s^{PE}$ ($N=\infty$)")
        ax.set_xlabel(label)
    axes[0].set_ylabel("$P_n$")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Breakdown of the spin temperature, N = {n}, {vs_u.sizes['realization']} realizations", fontsize=9)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return nc, png


def make_fig5(quick: bool, output_dir: Path, progress: bool = True, realizations: int | None = None,
              workers: int = 1, n_electrons: int | None = None):
    """``dnpsim figure spin-temperature-fig5``: KL divergence and P_n fluctuations vs U
    (reuses the Fig. 3 data when present in ``output_dir``)."""
    n, vs_u, _, _ = _fig3_and_5_data(quick, output_dir, realizations, workers, progress, n_electrons)
    import xarray as xr

    summary = xr.Dataset({
        "kl_divergence": vs_u["kl_divergence"].isel(mw_frequency=0).mean("realization"),
        "kl_divergence_std": vs_u["kl_divergence"].isel(mw_frequency=0).std("realization"),
        "nuclear_polarization_std": vs_u["nuclear_polarization"].isel(mw_frequency=0).std("realization"),
    })
    summary.attrs.update(vs_u.attrs)
    summary.attrs["figure"] = "De Luca et al. 2016, Fig. 5"
    nc, png = output_dir / "spin-temperature-fig5.nc", output_dir / "spin-temperature-fig5.png"
    write_netcdf(summary, nc)
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), dpi=120)
    u = summary["scale"].values / 1e6
    axes[0].errorbar(u, summary["kl_divergence"], yerr=summary["kl_divergence_std"], fmt="o-", capsize=2)
    axes[0].set_ylabel(r"$\overline{D_{KL}}$")
    axes[1].plot(u, summary["nuclear_polarization_std"], "o-")
    axes[1].set_ylabel(r"std of $P_n$ over realizations")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    for ax in axes:
        ax.set_xlabel("U (MHz)")
        ax.set_xscale("log")
        ax.set_xticks(u)  # label the computed couplings, not log-decade minor ticks
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    fig.suptitle(f"Fig. 5: N = {n}, {vs_u.sizes['realization']} realizations", fontsize=9)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return nc, png


