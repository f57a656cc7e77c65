"""Maps and the optimum: ``dnpsim optimize SPEC --vary KEY=LO:HI[:NUM][:log]``.

A map of an objective (by default the stationary nuclear polarization P_n) over one or
two spec keys (e.g. the radical concentration and the microwave frequency), computed as
a sweep (:func:`dnpsim.sweep`: resume, executors and progress as for ``dnpsim sweep``),
then reduced over the disorder realizations:

* ``objective_mean`` = mean over realizations, ``objective_stderr`` = its standard
  error, std(ddof=1) / sqrt(R) (NaN with one realization);
* the **optimum** is the grid point of the largest ``objective_mean``; its value is
  quoted as ``mean +- stderr`` at that point;
* its **location uncertainty** has two parts, both stored in the attributes:

  - the *one-standard-error set*: the grid points whose mean is within one standard
    error of the best, ``mean_i >= mean_best - stderr_best``; the range of each key
    over this set (``optimum_<dim>_low`` .. ``optimum_<dim>_high``) is the interval
    in which the data cannot tell the points apart;
  - a *bootstrap over realizations*: the realizations are resampled with replacement
    (B = 1000 resamples, the same realizations at every grid point, as the sweep uses
    common random numbers), the argmax of the resampled means is located each time;
    ``optimum_<dim>_bootstrap_std`` is the standard deviation of its coordinate and
    ``optimum_bootstrap_agreement`` the fraction of resamples whose argmax is the
    optimum itself.

The objective ``abs`` maximizes ``|mean P_n|`` (either sign of the polarization);
``nuclear_polarization`` and ``nuclear_enhancement`` maximize the signed mean.

``--method perturbative`` (:func:`perturbative_map`) is the fast path for wide scans of
the 2016 model: no diagonalization, the N -> infinity perturbative beta_s of Eqs. (20),
(23)-(25) (:func:`dnpsim.theory.spin_temperature.spin_temperature_continuum`, order
U^2, uniform band of Zeeman energies) and ``P_n = tanh(beta_s omega_n / 2)`` (Eq. (1))
at every grid point.  It applies to ``model.offsets = {distribution = "equally_spaced",
half_width}`` (or ``uniform`` with ``width``), Gaussian couplings (``scale`` or
``concentration``, bulk mapping), no Ising term, the rate-equation method; it has no
realizations (R = 1: no standard error, no KL distance).  Exact diagonalization
(``--method exact``, the sweep) is the default and confirms the optimum.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dnpsim.errors import SpecError
from dnpsim.units import display_scale

__all__ = ["OBJECTIVES", "Vary", "optimize_spec", "optimum_lines", "parse_vary", "perturbative_map", "plot_map", "reduce_map"]

#: Objective name -> (sweep variable it is computed from, take the absolute value of the mean).
OBJECTIVES: dict[str, tuple[str, bool]] = {
    "nuclear_polarization": ("nuclear_polarization", False),
    "nuclear_enhancement": ("nuclear_enhancement", False),
    "abs": ("nuclear_polarization", True),
}
#: Most keys --vary may map (a curve or a heat map).
MAX_VARY = 2
#: Most points along one --vary key.
MAX_NUM = 10_000
#: Bootstrap resamples of the realizations, and their fixed seed (reproducible output).
BOOTSTRAP = 1000
BOOTSTRAP_SEED = 20161


@dataclass(frozen=True)
class Vary:
    """One ``--vary KEY=LO:HI[:NUM][:log]``: the spec key and its grid (SI values)."""

    key: str
    values: tuple[float, ...]
    log: bool
    unit: str = ""

    @property
    def dim(self) -> str:
        return self.key.rsplit(".", 1)[-1]


def parse_bound(text: str, what: str, raw: str) -> tuple[float, str]:
    """A bound of --vary: a plain number (SI) or a number with a unit ("10 mM",
    "93.8GHz"), as (SI value, SI unit or "" for a plain number)."""
    from dnpsim.units import QUANTITY_DIMENSIONS, SI_UNITS, parse_quantity

    text = text.strip()
    unit = ""
    try:
        value = float(text)
    except ValueError:
        value = None
        for dimension in QUANTITY_DIMENSIONS:
            try:
                value = float(parse_quantity(text, dimension, "--vary"))
                unit = SI_UNITS[dimension] or "1"
                break
            except Exception:  # noqa: BLE001, S112 - not this dimension: try the next one
                continue
        if value is None:
            raise SpecError("--vary", f"{what} {text!r} of {raw!r} is not a number or a quantity with a unit") from None
    if not math.isfinite(value):
        raise SpecError("--vary", f"{what} {text!r} of {raw!r} must be finite")
    return value, unit


def split_vary(text: str, grammar: str) -> tuple[str, list[str]]:
    """Split a ``--vary`` argument ``KEY=A:B:...`` into the dotted spec key (checked:
    under model, environment or method; not a seed or kind) and its ``:``-separated
    fields, stripped.  ``grammar`` is quoted in the error.  Shared by ``dnpsim
    optimize`` and ``dnpsim fit``."""
    if not isinstance(text, str) or "=" not in text:
        raise SpecError("--vary", f"expected {grammar}, got {text!r}")
    key, _, grid = text.partition("=")
    key = key.strip()
    if not re.fullmatch(r"(model|environment|method)(\.[A-Za-z_][A-Za-z0-9_]*)+", key):
        raise SpecError("--vary", f"{key!r} in {text!r} is not a dotted spec key under model, environment or method "
                        "(e.g. model.couplings.concentration)")
    if key in ("model.seed", "model.kind", "method.kind"):
        raise SpecError("--vary", f"{key} cannot be varied (realizations set the seeds)")
    return key, [p.strip() for p in grid.split(":")]


def parse_vary(text: str, default_num: int = 5) -> Vary:
    """Parse ``KEY=LO:HI[:NUM][:log]`` (NUM points, default 5, linear, or geometric
    with ``log``; LO == HI with NUM = 1 is a single point).  Raises
    :class:`~dnpsim.errors.SpecError` with field ``--vary`` naming the fault."""
    key, parts = split_vary(text, "KEY=LO:HI[:NUM][:log]")
    log = False
    if parts and parts[-1].lower() == "log":
        log = True
        parts = parts[:-1]
    if len(parts) not in (2, 3):
        raise SpecError("--vary", f"expected KEY=LO:HI[:NUM][:log], got {text!r}")
    lo, lo_unit = parse_bound(parts[0], "LO", text)
    hi, hi_unit = parse_bound(parts[1], "HI", text)
    if lo_unit and hi_unit and lo_unit != hi_unit:
        raise SpecError("--vary", f"LO is in {lo_unit} but HI in {hi_unit} in {text!r}")
    num = default_num
    if len(parts) == 3:
        if not re.fullmatch(r"[0-9]+", parts[2]):
            raise SpecError("--vary", f"NUM {parts[2]!r} of {text!r} must be a positive integer")
        num = int(parts[2])
    if not 1 <= num <= MAX_NUM:
        raise SpecError("--vary", f"NUM = {num} of {text!r} must be between 1 and {MAX_NUM}")
    if num == 1 and lo != hi:
        raise SpecError("--vary", f"NUM = 1 of {text!r} needs LO == HI")
    if num > 1 and lo == hi:
        raise SpecError("--vary", f"LO == HI in {text!r}: give NUM = 1 or two different bounds")
    if log and (lo <= 0 or hi <= 0):
        raise SpecError("--vary", f"a log grid needs LO, HI > 0, got {text!r}")
    values = np.geomspace(lo, hi, num) if log else np.linspace(lo, hi, num)
    return Vary(key=key, values=tuple(float(v) for v in values), log=log, unit=lo_unit or hi_unit)


def optimize_spec(spec: Mapping[str, Any], varies: Sequence[Vary], realizations: int | None = None) -> dict:
    """The sweep spec of a map: ``spec`` with its ``[sweep]`` grid replaced by the
    --vary grids (in order), keeping its ``realizations``, ``seed`` and ``dims``;
    ``realizations`` overrides the spec's."""
    if not varies:
        raise SpecError("--vary", "give at least one --vary KEY=LO:HI[:NUM][:log]")
    if len(varies) > MAX_VARY:
        raise SpecError("--vary", f"at most {MAX_VARY} keys can be mapped, got {len(varies)}")
    keys = [v.key for v in varies]
    if len(set(keys)) != len(keys):
        raise SpecError("--vary", f"a key is given twice: {keys}")
    dims = [v.dim for v in varies]
    old = dict(spec.get("sweep") or {})
    renames = dict(old.get("dims") or {})
    if len({renames.get(k, d) for k, d in zip(keys, dims)}) != len(keys):
        raise SpecError("--vary", f"keys {keys} end alike; rename one with [sweep] dims in the spec")
    out = copy.deepcopy(dict(spec))
    sweep: dict[str, Any] = {v.key: list(v.values) for v in varies}
    for reserved in ("seed",):
        if reserved in old:
            sweep[reserved] = old[reserved]
    kept = {k: d for k, d in renames.items() if k in keys}
    if kept:
        sweep["dims"] = kept
    r = realizations if realizations is not None else old.get("realizations", 1)
    if realizations is not None and (not isinstance(realizations, int) or realizations < 1):
        raise SpecError("--realizations", f"must be an integer >= 1, got {realizations!r}")
    sweep["realizations"] = r
    out["sweep"] = sweep
    return out


def _stats(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over the last axis (NaN ignored)."""
    finite = np.isfinite(samples)
    n = finite.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, np.nansum(samples, axis=-1) / np.maximum(n, 1), np.nan)
        dev = np.where(finite, samples - mean[..., None], 0.0)
        var = np.where(n > 1, (dev ** 2).sum(axis=-1) / np.maximum(n - 1, 1), np.nan)
        stderr = np.sqrt(var / n)
    return mean, stderr


def _nanargmax(values: np.ndarray) -> int | None:
    if not np.isfinite(values).any():
        return None
    return int(np.nanargmax(np.where(np.isfinite(values), values, -np.inf)))


def _inverse_spin_temperature_samples(dataset, dims, grid_dims) -> np.ndarray | None:
    """Per realization 1 / T_s in 1/K on the grid (``grid_dims`` + realization): from the
    sweep's ``inverse_spin_temperature`` beta_s (s/rad) as k_B beta_s / hbar, else from
    ``spin_temperature`` T_s (K) as 1 / T_s; None when the sweep has neither (an engine
    without a spin-temperature fit)."""
    from dnpsim.units import HBAR, K_B

    order = (*grid_dims, "realization")
    if "inverse_spin_temperature" in dataset and dataset["inverse_spin_temperature"].dims == dims:
        beta = np.asarray(dataset["inverse_spin_temperature"].transpose(*order).values, dtype=float)
        return beta * (K_B / HBAR)
    if "spin_temperature" in dataset and dataset["spin_temperature"].dims == dims:
        with np.errstate(divide="ignore"):
            return 1.0 / np.asarray(dataset["spin_temperature"].transpose(*order).values, dtype=float)
    return None


def _lattice_inverse_temperature(dataset) -> float | None:
    """1 / T of the lattice (1/K) from the sweep's stored spec (``environment.temperature``),
    or None (no spec attribute, the temperature is swept or unreadable)."""
    import json

    from dnpsim.units import parse_quantity

    if "temperature" in dataset.dims:
        return None
    try:
        spec = json.loads(dataset.attrs["spec"])
        value = float(parse_quantity(spec["environment"]["temperature"], "temperature", "environment.temperature"))
    except Exception:  # noqa: BLE001 - only a reference line of the plot
        return None
    return 1.0 / value if value > 0 else None


def reduce_map(dataset, objective: str = "nuclear_polarization", *, bootstrap: int = BOOTSTRAP,
               units: Mapping[str, str] | None = None):
    """Add ``objective_mean`` and ``objective_stderr`` (over ``realization``) and the
    optimum (attributes ``optimum_*``, see the module docstring) to a sweep Dataset,
    and also ``kl_divergence_mean`` / ``_stderr`` when the sweep has ``kl_divergence``,
    and ``inverse_spin_temperature_mean`` / ``_stderr`` (1/K: the mean over realizations
    of 1 / T_s = k_B beta_s / hbar) when it has the fitted ``inverse_spin_temperature``
    beta_s (or ``spin_temperature`` T_s).  The inverse temperature is averaged, not T_s:
    beta_s is finite and changes sign smoothly where the ansatz passes through infinite
    temperature, while T_s diverges there, so a mean of T_s is dominated by the
    realizations closest to beta_s = 0.  The attribute ``lattice_inverse_temperature``
    (1/K) is 1 / T of the lattice when the stored spec gives it.
    A swept coordinate without ``units`` gets them from ``units`` ({dim: unit}, e.g.
    the unit of the --vary bounds), else from the sweep's table of key units
    (concentration: mol / m**3, numerically mM), else "unknown".  Returns a new Dataset."""
    if objective not in OBJECTIVES:
        raise SpecError("--objective", f"must be one of {sorted(OBJECTIVES)}, got {objective!r}")
    source, absolute = OBJECTIVES[objective]
    if source not in dataset:
        raise SpecError("--objective", f"the sweep has no variable {source!r} (its variables: "
                        f"{sorted(dataset.data_vars)})")
    var = dataset[source]
    grid_dims = tuple(d for d in var.dims if d != "realization")
    extra = [d for d in grid_dims if d not in dataset.coords or "spec_key" not in dataset[d].attrs]
    if extra:
        raise SpecError("--objective", f"{source!r} has dimensions {extra} besides the map; it must be a scalar "
                        "per point")
    samples = np.asarray(var.transpose(*grid_dims, "realization").values, dtype=float)
    R = samples.shape[-1]
    mean, stderr = _stats(samples)
    objective_values = np.abs(mean) if absolute else mean
    out = dataset.copy()
    from dnpsim.experiments.sweep import _key_units

    for dim in grid_dims:
        if not out[dim].attrs.get("units"):
            key = out[dim].attrs.get("spec_key", dim)
            out[dim].attrs["units"] = (units or {}).get(dim) or _key_units(key).get("units", "unknown")
    dataset = out
    what = f"|mean of {source}|" if absolute else f"mean of {source}"
    unit = var.attrs.get("units", "1")
    out["objective_mean"] = (grid_dims, objective_values, {
        "units": unit, "long_name": f"objective {objective}: {what} over the {R} realizations"})
    out["objective_stderr"] = (grid_dims, stderr, {
        "units": unit, "long_name": f"standard error of the mean of {source} over the realizations, "
                                    "std(ddof=1) / sqrt(R)"})
    if "kl_divergence" in dataset and dataset["kl_divergence"].dims == var.dims:
        kl_mean, kl_err = _stats(np.asarray(dataset["kl_divergence"].transpose(*grid_dims, "realization").values,
                                            dtype=float))
        out["kl_divergence_mean"] = (grid_dims, kl_mean, {
            "units": "1", "long_name": "mean over realizations of the Kullback-Leibler distance of the stationary "
                                       "state from the spin-temperature ansatz"})
        out["kl_divergence_stderr"] = (grid_dims, kl_err, {
            "units": "1", "long_name": "standard error of the mean of kl_divergence over the realizations"})

    inverse = _inverse_spin_temperature_samples(dataset, var.dims, grid_dims)
    if inverse is not None:
        beta_mean, beta_err = _stats(inverse)
        out["inverse_spin_temperature_mean"] = (grid_dims, beta_mean, {
            "units": "1/K", "long_name": "mean over realizations of the fitted inverse spin temperature "
                                        "1 / T_s = k_B beta_s / hbar (0: infinite T_s; negative: negative T_s)"})
        out["inverse_spin_temperature_stderr"] = (grid_dims, beta_err, {
            "units": "1/K", "long_name": "standard error of the mean of 1 / T_s over the realizations, "
                                        "std(ddof=1) / sqrt(R)"})
        lattice = _lattice_inverse_temperature(dataset)
        if lattice is not None:
            out.attrs["lattice_inverse_temperature"] = lattice

    attrs: dict[str, Any] = {"objective": objective, "objective_variable": source,
                             "optimum_definition": (
                                 "optimum = grid point of the largest objective_mean; value +- objective_stderr there; "
                                 "location interval optimum_<dim>_low..high = range over the grid points with "
                                 "objective_mean >= best - stderr_best (one-standard-error set); "
                                 f"optimum_<dim>_bootstrap_std = std of the argmax over {bootstrap} bootstrap "
                                 "resamples of the realizations (common to all grid points)")}
    best = _nanargmax(objective_values)
    if best is None:
        attrs["optimum_found"] = 0
        out.attrs.update(attrs)
        return out
    where = np.unravel_index(best, objective_values.shape)
    best_mean = float(objective_values[where])
    best_err = float(stderr[where])
    attrs.update(optimum_found=1, optimum_value=best_mean, optimum_stderr=best_err)
    attrs["optimum_at_edge"] = int(any(i in (0, n - 1) and n > 1 for i, n in zip(where, objective_values.shape)))
    threshold = best_mean - (best_err if np.isfinite(best_err) else 0.0)
    in_set = np.isfinite(objective_values) & (objective_values >= threshold)
    attrs["optimum_within_one_stderr_points"] = int(in_set.sum())
    # Bootstrap over realizations: the same resampled realizations at every point.
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    hits = []
    if R > 1 and bootstrap > 0:
        for _ in range(bootstrap):
            pick = rng.integers(0, R, size=R)
            m, _ = _stats(samples[..., pick])
            m = np.abs(m) if absolute else m
            k = _nanargmax(m)
            if k is not None:
                hits.append(np.unravel_index(k, m.shape))
    attrs["optimum_bootstrap_resamples"] = len(hits)
    attrs["optimum_bootstrap_agreement"] = (
        float(np.mean([tuple(h) == tuple(where) for h in hits])) if hits else math.nan)
    for axis, dim in enumerate(grid_dims):
        coord = np.asarray(dataset[dim].values, dtype=float)
        attrs[f"optimum_{dim}"] = float(coord[where[axis]])
        covered = coord[np.any(in_set, axis=tuple(a for a in range(len(grid_dims)) if a != axis))]
        attrs[f"optimum_{dim}_low"] = float(covered.min())
        attrs[f"optimum_{dim}_high"] = float(covered.max())
        attrs[f"optimum_{dim}_bootstrap_std"] = (
            float(np.std([coord[h[axis]] for h in hits], ddof=1)) if len(hits) > 1 else math.nan)
        attrs[f"optimum_{dim}_units"] = dataset[dim].attrs.get("units", "")
        attrs[f"optimum_{dim}_spec_key"] = dataset[dim].attrs.get("spec_key", dim)
    out.attrs.update(attrs)
    return out


def _with_unit(value: float, unit: str) -> str:
    unit = "" if unit in ("", "1") else f" {unit}"
    return f"{value:.6g}{unit}"


def optimum_lines(data) -> list[str]:
    """The optimum as terminal lines (value +- stderr, the key = value, the intervals),
    each key's numbers in one readable unit (GHz, mM; the Dataset keeps SI)."""
    attrs = data.attrs
    if not attrs.get("optimum_found"):
        return ["optimum: no finite value of the objective on the map"]
    dims = list(data["objective_mean"].dims)
    value, err = attrs["optimum_value"], attrs["optimum_stderr"]
    err_text = f"{err:.2g}" if math.isfinite(err) else "undefined (one realization)"
    lines = [(f"optimum of {attrs['objective']}: {value:.6g} +- {err_text} (standard error over "
              f"{data.sizes['realization']} realizations)")]
    for dim in dims:
        unit = attrs.get(f"optimum_{dim}_units", "")
        # one readable unit per line (94 GHz, 356 mM), chosen by the optimum's value
        factor, unit = (1.0, unit) if unit == "unknown" else display_scale(attrs[f"optimum_{dim}"], unit)
        boot = attrs.get(f"optimum_{dim}_bootstrap_std", math.nan)
        boot_text = _with_unit(boot / factor, unit) if math.isfinite(boot) else "undefined"
        lines.append(f"  {attrs[f'optimum_{dim}_spec_key']} = {_with_unit(attrs[f'optimum_{dim}'] / factor, unit)} "
                     f"(within one standard error: {_with_unit(attrs[f'optimum_{dim}_low'] / factor, unit)} .. "
                     f"{_with_unit(attrs[f'optimum_{dim}_high'] / factor, unit)}; bootstrap std {boot_text})")
    if attrs.get("optimum_at_edge"):
        lines.append("  the optimum lies on the edge of the map: the maximum may lie beyond it; widen the --vary range")
    agreement = attrs.get("optimum_bootstrap_agreement", math.nan)
    if math.isfinite(agreement):
        lines.append(f"  the same grid point is the argmax in {100 * agreement:.0f} % of "
                     f"{attrs['optimum_bootstrap_resamples']} bootstrap resamples of the realizations")
    return lines


def _axis_label(data, dim: str) -> str:
    unit = data[dim].attrs.get("units", "")
    key = data[dim].attrs.get("spec_key", dim)
    return f"{key} ({unit})" if unit and unit != "1" else key


def plot_map(data, path: Path, *, log_dims: Sequence[str] = ()) -> Path:
    """MAP.png, three panels against the same axes: left the objective map (1-D: mean
    with standard-error bars, optimum and its one-standard-error interval marked; 2-D:
    heat map, optimum marked), middle the spin-temperature breakdown indicator
    ``kl_divergence`` (mean over realizations), right the fitted inverse spin
    temperature 1 / T_s (1/K, mean over realizations with standard-error bars; 1-D: the
    lattice 1 / T dashed when known)."""
    from dnpsim.plots import pyplot

    plt = pyplot()
    dims = list(data["objective_mean"].dims)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), dpi=100)
    attrs = data.attrs
    R = data.sizes["realization"]
    has_kl = "kl_divergence_mean" in data
    has_beta = "inverse_spin_temperature_mean" in data
    beta_label = "inverse spin temperature 1/T_s (1/K)"
    if len(dims) == 1:
        (dim,) = dims
        x = np.asarray(data[dim].values, dtype=float)
        ax = axes[0]
        ax.errorbar(x, data["objective_mean"].values, yerr=data["objective_stderr"].values, fmt="o-", ms=4,
                    capsize=2, label=f"mean over {R} realizations; error bars: standard error")
        if attrs.get("optimum_found"):
            ax.axvspan(attrs[f"optimum_{dim}_low"], attrs[f"optimum_{dim}_high"], color="C1", alpha=0.15,
                       label="within one standard error of the best")
            ax.plot([attrs[f"optimum_{dim}"]], [attrs["optimum_value"]], "*", color="C3", ms=12, label="optimum")
        ax.set_ylabel(attrs["objective"])
        ax.legend(fontsize=7, loc="best")
        if has_kl:
            axes[1].errorbar(x, data["kl_divergence_mean"].values, yerr=data["kl_divergence_stderr"].values,
                             fmt="s-", ms=4, capsize=2, color="C2")
            axes[1].set_ylabel("KL distance from the spin-temperature ansatz")
        if has_beta:
            ax = axes[2]
            ax.errorbar(x, data["inverse_spin_temperature_mean"].values,
                        yerr=data["inverse_spin_temperature_stderr"].values, fmt="D-", ms=4, capsize=2, color="C4",
                        label="fitted 1/T_s, mean over realizations")
            ax.axhline(0.0, color="0.6", lw=0.8)
            lattice = attrs.get("lattice_inverse_temperature")
            if lattice:
                ax.axhline(lattice, color="0.3", ls="--", lw=1, label=f"lattice 1/T = {lattice:.3g} 1/K")
            ax.set_ylabel(beta_label)
            ax.legend(fontsize=7, loc="best")
        for a in axes:
            a.set_xlabel(_axis_label(data, dim))
            if dim in log_dims:
                a.set_xscale("log")
    else:
        ydim, xdim = dims
        x = np.asarray(data[xdim].values, dtype=float)
        y = np.asarray(data[ydim].values, dtype=float)
        panels = [(axes[0], data["objective_mean"].values, attrs["objective"] + " (mean)", "viridis", None)]
        if has_kl:
            panels.append((axes[1], data["kl_divergence_mean"].values, "KL distance (mean)", "magma", None))
        if has_beta:
            values = data["inverse_spin_temperature_mean"].values
            bound = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
            panels.append((axes[2], values, beta_label + " (mean)", "RdBu_r", (-bound, bound)))
        for ax, values, label, cmap, limits in panels:
            vmin, vmax = limits or (None, None)
            mesh = ax.pcolormesh(x, y, values, shading="nearest", cmap=cmap, vmin=vmin, vmax=vmax)
            fig.colorbar(mesh, ax=ax, label=label)
            if attrs.get("optimum_found"):
                ax.plot([attrs[f"optimum_{xdim}"]], [attrs[f"optimum_{ydim}"]], "*", color="red", ms=12)
        for ax in axes:
            ax.set_xlabel(_axis_label(data, xdim))
            ax.set_ylabel(_axis_label(data, ydim))
            if xdim in log_dims:
                ax.set_xscale("log")
            if ydim in log_dims:
                ax.set_yscale("log")
    if not has_kl:
        axes[1].text(0.5, 0.5, "no kl_divergence in this sweep\n(engine without a spin-temperature fit)",
                     ha="center", va="center", transform=axes[1].transAxes)
    if not has_beta:
        axes[2].text(0.5, 0.5, "no fitted spin temperature in this sweep\n(engine without a spin-temperature fit)",
                     ha="center", va="center", transform=axes[2].transAxes)
    axes[0].set_title("objective map and optimum", fontsize=10)
    axes[1].set_title("spin-temperature breakdown: KL distance", fontsize=10)
    axes[2].set_title("fitted spin temperature: 1/T_s", fontsize=10)
    fig.tight_layout()
    from dnpsim.io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(path)


def _perturbative_parameters(spec: Mapping[str, Any]) -> dict:
    """The arguments of spin_temperature_continuum (rad/s, s, s/rad) and omega_n for one
    point spec of the 2016 model; SpecError naming --method if the model is not one the
    N -> infinity theory describes."""
    from dnpsim.sample.dipolar import bulk_coupling_scale
    from dnpsim.spec import resolve_spec
    from dnpsim.units import inverse_temperature, parse_quantity

    def fail(message):
        raise SpecError("--method", f"perturbative: {message}")

    model = spec.get("model", {})
    if model.get("kind") != "dipolar_electrons":
        fail(f"needs model.kind = 'dipolar_electrons', got {model.get('kind')!r}")
    if spec.get("method", {}).get("kind", "rate_equation") != "rate_equation":
        fail("describes the rate-equation method only")
    if model.get("ising"):
        fail("has no Ising term (model.ising)")
    offsets = model.get("offsets")
    if not isinstance(offsets, Mapping) or offsets.get("distribution") not in ("equally_spaced", "uniform"):
        fail("needs a uniform band of Zeeman offsets, model.offsets = {distribution = 'equally_spaced', "
             "half_width} or {distribution = 'uniform', width}")
    if offsets["distribution"] == "equally_spaced":
        half_width = parse_quantity(offsets["half_width"], "frequency", "model.offsets.half_width")
    else:
        half_width = parse_quantity(offsets["width"], "frequency", "model.offsets.width") / 2
    couplings = model.get("couplings")
    if not isinstance(couplings, Mapping) or couplings.get("distribution") != "gaussian":
        fail("needs model.couplings = {distribution = 'gaussian', scale or concentration}")
    if "scale" in couplings:
        coupling = parse_quantity(couplings["scale"], "frequency", "model.couplings.scale")
    else:
        coupling = bulk_coupling_scale(parse_quantity(couplings["concentration"], "concentration",
                                                      "model.couplings.concentration"))
    resolved = resolve_spec(spec).resolved_spec()  # validates the point, fills the defaults
    env = resolved["environment"]
    two_pi = 2 * math.pi
    return {"electron_larmor": two_pi * resolved["model"]["electron_larmor"], "half_width": two_pi * half_width,
            "beta": inverse_temperature(env["temperature"]), "omega_mw": two_pi * env["mw_frequency"],
            "omega_1": two_pi * env["mw_amplitude"], "t1e": env["t1e"], "t2e": env["t2e"],
            "coupling": two_pi * coupling, "omega_n": two_pi * resolved["model"]["nuclei"]["larmor"]}


def perturbative_map(spec: Mapping[str, Any], varies: Sequence[Vary]):
    """The map of the perturbative theory: a Dataset with the layout of a sweep with one
    realization (``nuclear_polarization``, ``nuclear_enhancement``,
    ``inverse_spin_temperature``, ``spin_temperature`` per grid point; NaN where the
    order-U^2 equations have no solution, e.g. beyond their range of validity)."""
    import itertools
    import json
    import warnings

    import xarray as xr

    import dnpsim
    from dnpsim.provenance import git_revision
    from dnpsim.spec import load_spec, set_dotted
    from dnpsim.theory.spin_temperature import spin_temperature_continuum
    from dnpsim.units import HBAR, K_B

    from .sweep import _key_units, _quantity_attrs

    spec = optimize_spec(load_spec(spec), varies, 1)
    base = {k: v for k, v in spec.items() if k != "sweep"}
    shape = tuple(len(v.values) for v in varies)
    names = ("nuclear_polarization", "nuclear_enhancement", "inverse_spin_temperature", "spin_temperature")
    out = {name: np.full(shape + (1,), np.nan) for name in names}
    failures = 0
    for index in itertools.product(*[range(n) for n in shape]):
        point = base
        for v, i in zip(varies, index):
            point = set_dotted(point, v.key, v.values[i])
        p = _perturbative_parameters(point)
        omega_n = p.pop("omega_n")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                solution = spin_temperature_continuum(**p)
        except (RuntimeError, ValueError):
            failures += 1
            continue
        pn = float(solution.nuclear_polarization(omega_n))
        out["nuclear_polarization"][index] = pn
        out["nuclear_enhancement"][index] = pn / math.tanh(p["beta"] * omega_n / 2)
        out["inverse_spin_temperature"][index] = solution.beta_s
        out["spin_temperature"][index] = HBAR / (K_B * solution.beta_s) if solution.beta_s else math.inf
    dims = tuple(v.dim for v in varies)
    data_vars = {name: (dims + ("realization",), values, _quantity_attrs(name)) for name, values in out.items()}
    data_vars["spin_temperature"][2].update(long_name="spin temperature hbar / (k_B beta_s) of the perturbative "
                                            "theory, Eqs. (23)-(25)")
    data_vars["inverse_spin_temperature"][2].update(long_name="perturbative inverse spin temperature beta_s, "
                                                    "Eqs. (23)-(25), N -> infinity")
    coords = {v.dim: (v.dim, np.asarray(v.values), {"spec_key": v.key, "long_name": f"swept spec key {v.key}",
                                                    **_key_units(v.key), **({"units": v.unit} if v.unit else {})})
              for v in varies}
    coords["realization"] = ("realization", np.arange(1), {"units": "1", "long_name": "none: the perturbative "
                                                           "theory is deterministic (N -> infinity)"})
    attrs = {"spec": json.dumps(spec, default=str), "dnpsim_version": dnpsim.__version__,
             "git_revision": git_revision(), "method": "perturbative: N -> infinity beta_s of Eqs. (20), (23)-(25) "
             "of the 2016 paper (order U^2), P_n = tanh(beta_s omega_n / 2)", "perturbative_failures": failures}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
