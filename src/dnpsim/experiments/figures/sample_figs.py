"""From a sample to a profile (issue 17): TEMPO 40 mM and trityl OX063 15 mM at 3.35 T
and 1.2 K with 1H, in the 2016 model (rate equation, exact diagonalization).

Three figures, each one command (``docs/how-to/sample_to_profile.md``):

* ``sample-profiles``: P_n and the enhancement vs the microwave frequency;
* ``sample-field-profiles``: the same vs the static field ``model.field`` at the fixed
  microwave frequency 94.05 GHz;
* ``sample-build-up``: P_n(t) from the thermal state at the frequency of the positive
  lobe, with the fitted build-up time and the stationary P_n.

The samples are the specs of ``examples/tempo_40mM_3.35T.toml`` and
``examples/trityl_15mM_3.35T.toml`` (:func:`sample_spec`): powder offsets of the radical
(``dnpsim radicals``), couplings from the concentration by the bulk mapping
(U / 2pi = 58.84 kHz per mM), the 1H Larmor frequency from the species.  Every curve is
the mean over the disorder realizations (a sweep with common random numbers: realization
r has the same seed at every grid point), the error bars its standard error
std(ddof=1) / sqrt(R).  Each file holds one NetCDF group per sample (``tempo``,
``trityl``).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np

from dnpsim.experiments.figures.common import figure_sweep, load_finished, save_figure, work_directory
from dnpsim.plots import pyplot

#: The samples: label, radical, concentration, microwave-frequency grid (Hz: start,
#: stop, points of the full figure) and the frequency of the build-up (Hz: the
#: positive lobe's maximum of the full profile).
SAMPLES = {
    "tempo": {"label": "TEMPO 40 mM", "radical": "TEMPO", "concentration": "40 mM",
              "frequencies": (93.70e9, 94.40e9, 36), "build_up_frequency": 93.92e9},
    "trityl": {"label": "trityl OX063 15 mM", "radical": "trityl OX063", "concentration": "15 mM",
               "frequencies": (93.65e9, 94.15e9, 51), "build_up_frequency": 93.75e9},
}
#: Field profile: static fields (T: start, stop, points of the full figure) at this
#: microwave frequency (Hz).
FIELDS = (3.335, 3.365, 31)
FIELD_MW_FREQUENCY = 94.05e9
#: Build-up times (s): t = 0 and a geometric grid from BUILD_UP_FIRST to BUILD_UP_LAST.
BUILD_UP_FIRST, BUILD_UP_LAST = 1.0, 1e6
SEED = 1


def sample_spec(sample: str, n_electrons: int = 8) -> dict:
    """The spec of one sample (no ``[sweep]``): 3.35 T, 1.2 K, 1H, hyperfine scale 1 MHz,
    omega_1 / 2pi = 25 kHz, the engine's default T1e = 1 s and T2e."""
    s = SAMPLES[sample]
    return {
        "model": {"kind": "dipolar_electrons", "field": "3.35 T",
                  "offsets": {"distribution": "powder", "radical": s["radical"]},
                  "couplings": {"distribution": "gaussian", "concentration": s["concentration"]},
                  "n_electrons": n_electrons, "seed": 0,
                  "nuclei": {"species": "1H", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}},
        "environment": {"temperature": "1.2 K", "mw_frequency": "94.05 GHz", "mw_amplitude": "25 kHz"},
    }


def _frames(spec: dict) -> tuple[float, float, float]:
    """(electron Larmor frequency g_iso mu_B B0 / h in Hz, nuclear Larmor frequency in
    Hz, thermal nuclear polarization tanh(beta omega_n / 2)) of a point spec."""
    from dnpsim.spec import resolve_spec
    from dnpsim.units import inverse_temperature

    resolved = resolve_spec(spec).resolved_spec()
    larmor = float(resolved["model"]["nuclei"]["larmor"])
    beta = inverse_temperature(resolved["environment"]["temperature"])
    return float(resolved["model"]["electron_larmor"]), larmor, math.tanh(beta * 2 * math.pi * larmor / 2)


def _stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over the first axis (the realizations)."""
    R = values.shape[0]
    mean = values.mean(axis=0)
    err = values.std(axis=0, ddof=1) / math.sqrt(R) if R > 1 else np.full_like(mean, np.nan)
    return mean, err


def _sizes(quick: bool, realizations, n_electrons, full_r: int) -> tuple[int, int]:
    n = n_electrons if n_electrons is not None else (4 if quick else 8)
    r = realizations if realizations is not None else (2 if quick else full_r)
    return n, r


def _grid(start: float, stop: float, num: int, quick: bool) -> list[float]:
    return [float(v) for v in np.linspace(start, stop, 11 if quick else num)]


def _profile_group(raw, dim: str, label: str, frames: tuple[float, float, float], coord_attrs: dict):
    """The group of one sample: P_n per realization, the means and standard errors of
    P_n and of the enhancement, the KL distance (mean)."""
    import xarray as xr

    pn = np.asarray(raw["nuclear_polarization"].transpose("realization", dim).values, dtype=float)
    eps = np.asarray(raw["nuclear_enhancement"].transpose("realization", dim).values, dtype=float)
    kl = np.asarray(raw["kl_divergence"].transpose("realization", dim).values, dtype=float)
    pn_mean, pn_err = _stats(pn)
    eps_mean, eps_err = _stats(eps)
    kl_mean, kl_err = _stats(kl)
    R = pn.shape[0]
    electron_larmor, nuclear_larmor, thermal = frames
    return xr.Dataset(
        {"nuclear_polarization": (("realization", dim), pn, {"units": "1", "long_name": "stationary 1H "
                                                             "polarization 2<I_z> of each realization"}),
         "nuclear_polarization_mean": (dim, pn_mean, {"units": "1", "long_name": f"mean of P_n over {R} realizations"}),
         "nuclear_polarization_stderr": (dim, pn_err, {"units": "1", "long_name": "standard error of the mean of P_n, "
                                                       "std(ddof=1) / sqrt(R)"}),
         "nuclear_enhancement_mean": (dim, eps_mean, {"units": "1", "long_name": "mean over realizations of the "
                                                      "enhancement P_n / tanh(beta omega_n / 2)"}),
         "nuclear_enhancement_stderr": (dim, eps_err, {"units": "1", "long_name": "standard error of the mean "
                                                       "enhancement"}),
         "kl_divergence_mean": (dim, kl_mean, {"units": "1", "long_name": "mean over realizations of the KL distance "
                                               "of the stationary state from the spin-temperature ansatz"}),
         "kl_divergence_stderr": (dim, kl_err, {"units": "1", "long_name": "standard error of kl_divergence_mean"})},
        coords={dim: (dim, np.asarray(raw[dim].values, dtype=float), coord_attrs),
                "realization": ("realization", np.arange(R), {"units": "1", "long_name": "disorder realization"})},
        attrs={"sample": label, "electron_larmor_at_3.35T": electron_larmor, "nuclear_larmor": nuclear_larmor,
               "thermal_nuclear_polarization": thermal, "n_realizations": R})


def _extremum_text(x: np.ndarray, y: np.ndarray, scale: float, unit: str, fmt: str) -> str:
    i, j = int(np.nanargmax(y)), int(np.nanargmin(y))
    return f"max {y[i]:+.3f} at {x[i] / scale:{fmt}} {unit}\nmin {y[j]:+.3f} at {x[j] / scale:{fmt}} {unit}"


def _profile_figure(name, quick, output_dir, progress, realizations, workers, n_electrons, *, field: bool):
    output_dir = Path(output_dir)
    n, R = _sizes(quick, realizations, n_electrons, 4 if field else 8)
    dim = "field" if field else "mw_frequency"
    parameters = {"mode": "quick" if quick else "full", "n_electrons": n, "realizations": R, "seed": SEED,
                  "samples": SAMPLES, "fields": FIELDS if field else None,
                  "mw_frequency": FIELD_MW_FREQUENCY if field else None}
    data = load_finished(output_dir, name, parameters)
    reused = data is not None
    specs = {}
    for sample, s in SAMPLES.items():
        spec = sample_spec(sample, n)
        if field:
            spec["environment"]["mw_frequency"] = FIELD_MW_FREQUENCY
            spec["sweep"] = {"model.field": _grid(*FIELDS, quick)}
        else:
            spec["sweep"] = {"environment.mw_frequency": _grid(*s["frequencies"], quick)}
        spec["sweep"].update(realizations=R, seed=SEED)
        specs[sample] = spec
    if not reused:
        work = work_directory(output_dir, name)
        data = {}
        for sample, spec in specs.items():
            raw = figure_sweep(spec, work / f"{sample}.nc", None, workers=workers, progress=progress)
            point = {k: v for k, v in spec.items() if k != "sweep"}
            attrs = ({"units": "T", "long_name": "static field B0 (model.field)"} if field else
                     {"units": "Hz", "long_name": "microwave frequency (environment.mw_frequency)"})
            data[sample] = _profile_group(raw, dim, SAMPLES[sample]["label"], _frames(point), attrs)
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, (sample, ds) in zip(axes, data.items()):
        x = np.asarray(ds[dim].values, dtype=float)
        scale, unit = (1.0, "T") if field else (1e9, "GHz")
        y = ds["nuclear_polarization_mean"].values
        ax.errorbar(x / scale, y, yerr=ds["nuclear_polarization_stderr"].values, fmt="o-", ms=3, capsize=2,
                    color="C0" if sample == "tempo" else "C3")
        ax.axhline(0, color="0.6", lw=0.7)
        electron_larmor, nuclear_larmor = ds.attrs["electron_larmor_at_3.35T"], ds.attrs["nuclear_larmor"]
        if field:  # resonance of g_iso at the fixed frequency, and the solid-effect fields (1H Larmor away)
            centre = 3.35 * FIELD_MW_FREQUENCY / electron_larmor
            marks = [centre * (1 - nuclear_larmor / FIELD_MW_FREQUENCY), centre * (1 + nuclear_larmor / FIELD_MW_FREQUENCY)]
        else:
            centre = electron_larmor
            marks = [centre - nuclear_larmor, centre + nuclear_larmor]
        ax.axvline(centre / scale, color="0.3", ls=":", lw=1, label="g_iso resonance")
        for k, m in enumerate(marks):
            ax.axvline(m / scale, color="0.5", ls="--", lw=0.8, label="g_iso -+ 1H Larmor" if k == 0 else None)
        thermal = ds.attrs["thermal_nuclear_polarization"]
        secondary = ax.secondary_yaxis("right", functions=(lambda p, t=thermal: p / t, lambda e, t=thermal: e * t))
        secondary.set_ylabel("enhancement P_n / P_thermal" + (" (at 3.35 T)" if field else ""))
        fmt = ".4f" if field else ".3f"
        ax.text(0.02, 0.03, _extremum_text(x, y, scale, unit, fmt), transform=ax.transAxes, fontsize=7, va="bottom")
        ax.set_xlabel("static field B0 (T)" if field else "microwave frequency (GHz)")
        ax.set_ylabel("nuclear polarization P_n")
        ax.set_title(f"{ds.attrs['sample']}, 1H, 1.2 K" + (", 94.05 GHz" if field else ", 3.35 T"), fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    what = (f"vs the static field at the fixed microwave frequency {FIELD_MW_FREQUENCY / 1e9:.2f} GHz" if field
            else "vs the microwave frequency at 3.35 T")
    caption = (f"Stationary 1H polarization P_n {what}, 2016 model (rate equation, exact diagonalization), N = {n} "
               f"electrons, powder offsets of the radical, couplings from the concentration (bulk mapping), 1.2 K, "
               f"omega_1/2pi = 25 kHz. Points: mean over R = {R} disorder realizations; error bars: standard error "
               "of the mean. Right axis: enhancement over the thermal 1H polarization"
               + (" at 3.35 T (it changes by < 0.5 % over the range)" if field else "")
               + ". Dotted: g_iso resonance; dashed: one 1H Larmor frequency on either side (solid-effect conditions).")
    return save_figure(data, fig, output_dir, name, parameters=parameters, caption=caption,
                       spec=specs, reused=reused)


def make_profiles(quick: bool, output_dir: Path, progress: bool = True, realizations=None, workers: int = 1,
                  n_electrons: int | None = None):
    """``sample-profiles``: P_n and enhancement vs the microwave frequency (Hz) for TEMPO
    and trityl at 3.35 T (full: N = 8, R = 8; quick: N = 4, R = 2, 11 frequencies)."""
    return _profile_figure("sample-profiles", quick, output_dir, progress, realizations, workers, n_electrons,
                           field=False)


def make_field_profiles(quick: bool, output_dir: Path, progress: bool = True, realizations=None, workers: int = 1,
                        n_electrons: int | None = None):
    """``sample-field-profiles``: P_n and enhancement vs the static field (T) at 94.05 GHz
    for TEMPO and trityl (full: N = 8, R = 4, 31 fields; quick: N = 4, R = 2, 11 fields)."""
    return _profile_figure("sample-field-profiles", quick, output_dir, progress, realizations, workers,
                           n_electrons, field=True)


def make_build_up(quick: bool, output_dir: Path, progress: bool = True, realizations=None, workers: int = 1,
                  n_electrons: int | None = None):
    """``sample-build-up``: P_n(t) (s) from the thermal state at each sample's positive
    lobe, with the fitted build-up time tau (s) of P(t) - P(0) = eps (1 - exp(-t / tau))
    per realization and the stationary P_n (full: N = 8, R = 4, 31 times; quick: N = 4,
    R = 2, 9 times)."""
    import xarray as xr

    name = "sample-build-up"
    output_dir = Path(output_dir)
    n, R = _sizes(quick, realizations, n_electrons, 4)
    count = 8 if quick else 31
    times = [0.0] + [float(t) for t in np.geomspace(BUILD_UP_FIRST, BUILD_UP_LAST, count)]
    parameters = {"mode": "quick" if quick else "full", "n_electrons": n, "realizations": R, "seed": SEED,
                  "samples": SAMPLES, "times": times}
    data = load_finished(output_dir, name, parameters)
    reused = data is not None
    specs = {}
    for sample, s in SAMPLES.items():
        spec = sample_spec(sample, n)
        spec["environment"]["mw_frequency"] = s["build_up_frequency"]
        spec["sweep"] = {"environment.mw_frequency": [s["build_up_frequency"]], "realizations": R, "seed": SEED}
        stationary = copy.deepcopy(spec)
        spec["method"] = {"times": times}
        specs[sample] = {"build_up": spec, "stationary": stationary}
    if not reused:
        work = work_directory(output_dir, name)
        data = {}
        for sample, pair in specs.items():
            raw = figure_sweep(pair["build_up"], work / f"{sample}.nc", None, workers=workers, progress=progress)
            still = figure_sweep(pair["stationary"], work / f"{sample}-stationary.nc", None, workers=workers,
                                 progress=progress)
            pn_t = np.asarray(raw["nuclear_polarization_t"].isel(mw_frequency=0).transpose("realization", "time")
                              .values, dtype=float)
            tau = np.asarray(raw["build_up_time"].isel(mw_frequency=0).values, dtype=float)
            pn = np.asarray(still["nuclear_polarization"].isel(mw_frequency=0).values, dtype=float)
            mean, err = _stats(pn_t)
            tau_mean, tau_err = _stats(tau)
            pn_mean, pn_err = _stats(pn)
            point = {k: v for k, v in pair["stationary"].items() if k != "sweep"}
            _, nuclear_larmor, thermal = _frames(point)
            data[sample] = xr.Dataset(
                {"nuclear_polarization_t": (("realization", "time"), pn_t, {
                    "units": "1", "long_name": "1H polarization 2<I_z>(t) of each realization, thermal at t = 0"}),
                 "nuclear_polarization_t_mean": ("time", mean, {"units": "1", "long_name": "mean of P_n(t) over "
                                                                "the realizations"}),
                 "nuclear_polarization_t_stderr": ("time", err, {"units": "1", "long_name": "standard error of the "
                                                                 "mean of P_n(t), std(ddof=1) / sqrt(R)"}),
                 "build_up_time": ("realization", tau, {"units": "s", "long_name": "build-up time tau of the fit "
                                                        "P(t) - P(0) = eps (1 - exp(-t / tau)), per realization"}),
                 "build_up_time_mean": ((), tau_mean, {"units": "s", "long_name": "mean of build_up_time"}),
                 "build_up_time_stderr": ((), tau_err, {"units": "s", "long_name": "standard error of the mean "
                                                        "build-up time"}),
                 "nuclear_polarization": ("realization", pn, {"units": "1", "long_name": "stationary P_n of each "
                                                              "realization (no method.times)"}),
                 "nuclear_polarization_mean": ((), pn_mean, {"units": "1", "long_name": "mean stationary P_n"}),
                 "nuclear_polarization_stderr": ((), pn_err, {"units": "1", "long_name": "standard error of the "
                                                              "mean stationary P_n"})},
                coords={"time": ("time", np.asarray(times), {"units": "s", "long_name": "time since the microwaves "
                                                              "were switched on"}),
                        "realization": ("realization", np.arange(R), {"units": "1",
                                                                      "long_name": "disorder realization"})},
                attrs={"sample": SAMPLES[sample]["label"], "mw_frequency": SAMPLES[sample]["build_up_frequency"],
                       "nuclear_larmor": nuclear_larmor, "thermal_nuclear_polarization": thermal,
                       "n_realizations": R})
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, (sample, ds) in enumerate(data.items()):
        color = "C0" if sample == "tempo" else "C3"
        t = np.asarray(ds["time"].values, dtype=float)
        tau, tau_err = float(ds["build_up_time_mean"]), float(ds["build_up_time_stderr"])
        stationary = float(ds["nuclear_polarization_mean"])
        ax.errorbar(t[1:], ds["nuclear_polarization_t_mean"].values[1:],
                    yerr=ds["nuclear_polarization_t_stderr"].values[1:], fmt="o-", ms=3, capsize=2, color=color,
                    label=(f"{ds.attrs['sample']} at {ds.attrs['mw_frequency'] / 1e9:.2f} GHz: "
                           f"tau = {tau:.3g} +- {tau_err:.2g} s"))
        ax.axhline(stationary, color=color, ls="--", lw=1,
                   label=f"stationary P_n = {stationary:.3f} +- {float(ds['nuclear_polarization_stderr']):.2g}")
        ax.axvline(tau, color=color, ls=":", lw=1)
    ax.axhline(float(ds.attrs["thermal_nuclear_polarization"]), color="0.4", lw=0.8,
               label=f"thermal 1H polarization {ds.attrs['thermal_nuclear_polarization']:.2e}")
    ax.set_xscale("log")
    ax.set_xlabel("time since the microwaves were switched on (s)")
    ax.set_ylabel("nuclear polarization P_n(t)")
    ax.set_title("Build-up from the thermal state, 3.35 T, 1.2 K, 1H", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    caption = (f"Build-up of the 1H polarization from the thermal state at the positive lobe of each profile, 2016 "
               f"model (rate equation), N = {n} electrons. Points: mean over R = {R} realizations; error bars: "
               "standard error of the mean. Dashed: the stationary P_n (mean +- standard error); dotted: the fitted "
               "build-up time tau, mean over realizations of the fit P(t) - P(0) = eps (1 - exp(-t / tau)).")
    return save_figure(data, fig, output_dir, name, parameters=parameters, caption=caption,
                       spec=specs, reused=reused)
