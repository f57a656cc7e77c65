"""Run a spec on the axis of a measurement and set simulation and data side by side
(``dnpsim compare SPEC --data FILE``).

The measurement is a Dataset in the layout of :mod:`dnpsim.data.measured` (one axis,
one observable, optionally its uncertainty).  :func:`simulate_measurement` runs the
spec at exactly the measured axis values, as a sweep over that axis (or, for a
build-up curve, one time-resolved run with ``method.times`` set to the measured times)
times the spec's disorder realizations, and reduces the realizations to their mean and
standard error.  Realization r always uses the same seed (the ``[sweep]`` table's
``seed``, see :func:`dnpsim.experiments.sweep.realization_seeds`), so two calls with
slightly different parameters see the same disorder: the simulated curve is a smooth
function of the spec's numbers (common random numbers), which :mod:`dnpsim.data.fit`
relies on.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dnpsim.errors import SpecError
from dnpsim.units import display_scale

__all__ = ["simulate_measurement", "compare", "plot_comparison", "scale_to_data", "model_observable", "sweep_spec_for",
           "point_spec_for"]

#: The sweep keys of a spec's ``[sweep]`` table that are not grid axes.
_SWEEP_SETTINGS = ("realizations", "seed", "dims")


def _axis_and_key(measurement) -> tuple[str, str]:
    from dnpsim.data.measured import AXES, validate_measurement

    validate_measurement(measurement)
    axis = measurement.attrs["axis"]
    return axis, AXES[axis].key


def _replace_mw_strength(spec: dict, key: str) -> None:
    """When the measured axis is a microwave strength (``environment.mw_amplitude``,
    ``mw_field`` or ``mw_power``), the data set it: the spec's other way of giving it
    is dropped (a spec may give only one), and so is ``mw_conversion_factor`` unless
    the axis is the power it converts."""
    from dnpsim.specs.readers import MW_STRENGTH_KEYS

    section, _, name = key.partition(".")
    if section != "environment" or name not in MW_STRENGTH_KEYS:
        return
    environment = dict(spec.get("environment") or {})
    for other in MW_STRENGTH_KEYS:
        if other != name:
            environment.pop(other, None)
    if name != "mw_power":
        environment.pop("mw_conversion_factor", None)
    spec["environment"] = environment


def sweep_spec_for(spec: Mapping[str, Any], measurement) -> dict:
    """The spec that computes the model at the measurement's axis values: the spec's
    ``[sweep]`` grid is replaced by the measured axis (or, for ``time``,
    ``method.times`` is set to the measured times and only realizations are swept);
    its ``realizations`` and ``seed`` are kept (one realization, seed 0, without a
    ``[sweep]`` table).  A microwave-strength axis replaces the spec's own microwave
    strength (a power curve needs ``environment.mw_conversion_factor``)."""
    axis, key = _axis_and_key(measurement)
    out = copy.deepcopy(dict(spec))
    settings = {k: v for k, v in dict(out.get("sweep") or {}).items() if k in _SWEEP_SETTINGS and k != "dims"}
    settings.setdefault("realizations", 1)
    settings.setdefault("seed", 0)
    values = [float(v) for v in np.asarray(measurement[axis].values, dtype=float)]
    if axis == "time":
        method = dict(out.get("method") or {})
        method["times"] = values
        out["method"] = method
        out["sweep"] = settings
    else:
        _replace_mw_strength(out, key)
        out["sweep"] = {key: values, **settings}
    return out


def point_spec_for(spec: Mapping[str, Any], measurement) -> dict:
    """One point of :func:`sweep_spec_for` without its ``[sweep]``: the spec at the
    first measured axis value (all measured times for a build-up curve), which is what
    validating a spec against a measurement checks."""
    from dnpsim.spec import set_dotted

    axis, key = _axis_and_key(measurement)
    out = sweep_spec_for(spec, measurement)
    out.pop("sweep")
    if axis != "time":
        out = set_dotted(out, key, float(measurement[axis].values[0]))
    return out


def model_observable(dataset, observable: str, axis: str, times=None):
    """The simulated counterpart of a measured observable from a sweep Dataset
    (:func:`dnpsim.sweep` output), as a DataArray over (``axis``, ``realization``):

    * ``nuclear_polarization`` and ``signal``: P_n (mean over the nuclei where the
      engine has several);
    * ``nuclear_enhancement``: P_n / P_B, P_B the Boltzmann polarization of the
      nucleus at that point (for a time axis, the ratio the run reports at its
      stationary point, which does not depend on time).

    For ``axis == "time"`` the time-resolved ``nuclear_polarization_t`` is used, and
    the ``time`` dimension gets ``times`` (s; the ``method.times`` the sweep ran with)
    as coordinate."""
    if axis == "time":
        polarization = dataset["nuclear_polarization_t"]
        if times is None or polarization.sizes["time"] != len(times):
            raise SpecError("method.times", f"the run returned {polarization.sizes['time']} time points for the "
                            f"{'?' if times is None else len(times)} measured ones")
        polarization = polarization.assign_coords(time=("time", np.asarray(times, dtype=float)))
    else:
        polarization = dataset["nuclear_polarization"]
    if "nucleus" in polarization.dims:
        polarization = polarization.mean("nucleus")
    if observable in ("nuclear_polarization", "signal"):
        return polarization
    if observable == "nuclear_enhancement":
        if axis != "time":
            enhancement = dataset["nuclear_enhancement"]
            return enhancement.mean("nucleus") if "nucleus" in enhancement.dims else enhancement
        stationary = dataset["nuclear_polarization"]
        ratio = stationary / dataset["nuclear_enhancement"]  # = P_B, the same for every nucleus of a species
        if "nucleus" in ratio.dims:
            ratio = ratio.mean("nucleus")
        return polarization / ratio
    raise SpecError("data", f"no model quantity for the observable {observable!r}")


def simulate_measurement(spec: Mapping[str, Any], measurement, *, executor="serial", workers: int | None = None,
                         address: str | None = None, progress: bool = False):
    """The model's prediction at the measured axis values.

    Parameters
    ----------
    spec : a spec (mapping or path); its ``[sweep]`` grid, if any, is ignored (its
        ``realizations`` and ``seed`` are used).
    measurement : a Dataset in the measurement layout (:func:`dnpsim.data.load_measurement`).
    executor, workers, address : where the model runs (:func:`dnpsim.sweep`); an
        executor instance is used as is (kept open, for many evaluations).
    progress : a progress bar over the sweep's tasks.

    Returns
    -------
    xarray.Dataset over the measurement's axis with ``model_mean`` (the mean over the
    realizations), ``model_stderr`` (its standard error; NaN with one realization) and
    ``model`` (axis x realization), in the observable's units.
    """
    from dnpsim.api import load_spec
    from dnpsim.experiments.sweep import run_sweep

    spec = load_spec(spec)
    axis, _ = _axis_and_key(measurement)
    observable = measurement.attrs["observable"]
    sweep = sweep_spec_for(spec, measurement)
    if isinstance(executor, str):
        dataset = run_sweep(sweep, None, executor=executor, workers=workers, address=address, progress=progress)
    else:
        dataset = run_sweep(sweep, None, executor=executor, progress=progress)
    values = model_observable(dataset, observable, axis, measurement[axis].values)
    values = values.transpose(axis, "realization").assign_coords({axis: measurement[axis].values})
    return _reduce(values, measurement)


def _reduce(values, measurement):
    import xarray as xr

    axis = measurement.attrs["axis"]
    observable = measurement.attrs["observable"]
    n = values.sizes["realization"]
    mean = values.mean("realization")
    stderr = values.std("realization", ddof=1) / np.sqrt(n) if n > 1 else xr.full_like(mean, np.nan)
    units = measurement[observable].attrs.get("units", "1")
    out = xr.Dataset({
        "model": values.assign_attrs(units=units, long_name=f"simulated {observable} per realization"),
        "model_mean": mean.assign_attrs(units=units, long_name=f"simulated {observable}, mean over realizations"),
        "model_stderr": stderr.assign_attrs(units=units, long_name="standard error of the mean over realizations"),
    })
    out[axis] = measurement[axis]
    return out


def scale_to_data(model, data, sigma=None) -> float:
    """The factor s minimizing sum((s model - data)^2 / sigma^2): the closed-form
    least-squares scale for data known only up to normalization (``signal``).  Raises
    :class:`SpecError` when the model is zero everywhere."""
    model = np.asarray(model, dtype=float)
    data = np.asarray(data, dtype=float)
    weight = np.ones_like(model) if sigma is None else 1.0 / np.asarray(sigma, dtype=float) ** 2
    norm = float(np.sum(weight * model * model))
    if norm == 0.0:
        raise SpecError("data", "the model is zero at every measured point: a scale factor cannot be fitted")
    return float(np.sum(weight * model * data) / norm)


def compare(spec: Mapping[str, Any], measurement, *, scale: bool | None = None, executor="serial",
            workers: int | None = None, address: str | None = None, progress: bool = False):
    """Simulation and data on the measured axis, with residuals.

    Parameters
    ----------
    spec, measurement, executor, workers, address, progress : as for
        :func:`simulate_measurement`; ``measurement`` may also be a path or any source
        :func:`dnpsim.data.load_measurement` reads.
    scale : scale the model to the data by the least-squares factor
        (:func:`scale_to_data`); default: only for a ``signal`` observable (arbitrary
        units).

    Returns
    -------
    xarray.Dataset over the axis with ``data`` (and ``data_uncertainty`` when given),
    ``model_mean``, ``model_stderr``, ``model`` (per realization), ``residual`` = data -
    scale x model_mean, and attributes ``observable``, ``axis``, ``scale``,
    ``chi_square`` (sum of squared residuals over the data uncertainty, or unweighted
    without one), ``points`` and ``source``.
    """
    from dnpsim.data.measured import load_measurement

    if not hasattr(measurement, "attrs"):
        measurement = load_measurement(measurement)
    observable = measurement.attrs["observable"]
    if scale is None:
        scale = observable == "signal"
    simulated = simulate_measurement(spec, measurement, executor=executor, workers=workers, address=address,
                                     progress=progress)
    axis = measurement.attrs["axis"]
    data = measurement[observable]
    sigma_name = f"{observable}_uncertainty"
    sigma = measurement[sigma_name].values if sigma_name in measurement else None
    factor = scale_to_data(simulated["model_mean"].values, data.values, sigma) if scale else 1.0
    out = simulated.copy()
    for name in ("model", "model_mean", "model_stderr"):
        out[name] = out[name] * factor
        out[name].attrs.update(simulated[name].attrs)
    out["data"] = data.assign_attrs(long_name=f"measured {observable}")
    if sigma is not None:
        out["data_uncertainty"] = measurement[sigma_name]
    residual = out["data"] - out["model_mean"]
    out["residual"] = residual.assign_attrs(units=data.attrs.get("units", "1"),
                                            long_name="data - model (mean over realizations)")
    weights = 1.0 if sigma is None else 1.0 / np.asarray(sigma) ** 2
    out.attrs = {
        "observable": observable,
        "axis": axis,
        "scale": factor,
        "scaled": int(bool(scale)),
        "chi_square": float(np.sum(weights * residual.values ** 2)),
        "chi_square_weighted": int(sigma is not None),
        "points": int(data.size),
        "source": measurement.attrs.get("source", ""),
    }
    return out


def plot_comparison(comparison, path: str | Path, *, title: str = "") -> Path:
    """Plot a :func:`compare` (or fit) Dataset: data with error bars and the model
    with its realization standard error above, residuals below.  Writes ``path`` (PNG)
    and returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dnpsim.data.measured import AXES

    axis = comparison.attrs["axis"]
    unit, _, long_name = AXES[axis]
    x = np.asarray(comparison[axis].values, dtype=float)
    x_scale, x_unit = display_scale(x, unit)
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 5.6),
                                         gridspec_kw={"height_ratios": [3, 1]})
    data = comparison["data"].values
    sigma = comparison["data_uncertainty"].values if "data_uncertainty" in comparison else None
    top.errorbar(x / x_scale, data, yerr=sigma, fmt="o", ms=3.5, color="k", label="data", zorder=3)
    mean = comparison["model_mean"].values
    stderr = comparison["model_stderr"].values
    order = np.argsort(x)
    top.plot(x[order] / x_scale, mean[order], "-", color="C0", label=comparison.attrs.get("model_label", "model"))
    if np.all(np.isfinite(stderr)):
        top.fill_between(x[order] / x_scale, (mean - stderr)[order], (mean + stderr)[order], color="C0", alpha=0.25,
                         lw=0, label="model standard error (realizations)")
    observable = comparison.attrs["observable"]
    ylabel = {"nuclear_enhancement": r"enhancement $\varepsilon = P_n / P_B$",
              "nuclear_polarization": r"nuclear polarization $P_n$",
              "signal": "signal (arb. units)"}[observable]
    top.set_ylabel(ylabel)
    top.legend(fontsize=8)
    if title:
        top.set_title(title, fontsize=10)
    bottom.axhline(0.0, color="0.5", lw=0.8)
    bottom.errorbar(x / x_scale, comparison["residual"].values, yerr=sigma, fmt="o", ms=3, color="k")
    bottom.set_ylabel("data - model")
    bottom.set_xlabel(f"{long_name} ({x_unit})")
    if unit == "W" and x.min() > 0 and x.max() > 30 * x.min():
        bottom.set_xscale("log")  # a power curve over decades (shared with the top panel)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path

