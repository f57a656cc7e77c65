"""Fit spec parameters to a measurement (``dnpsim fit SPEC --data FILE --vary KEY=LO:HI``).

Least squares with lmfit over any numeric spec key (the dotted names of sweeps):

* **The model** at a parameter point is :func:`dnpsim.data.compare.simulate_measurement`:
  the spec at the measured axis values, averaged over its disorder realizations.
  Realization r has the same seed at every point (common random numbers), so the
  model is a smooth function of the parameters and finite differences see the
  parameters, not a redraw of the disorder.
* **Parameters** are fitted through internal variables u in [0, 1]: x = LO + u (HI - LO),
  or x = LO (HI / LO)^u for a ``log`` parameter, so every finite-difference step is the
  same fraction of its range (a relaxation time in seconds and a frequency in Hz
  are then equally well conditioned) and the bounds hold exactly.  The physical
  values are lmfit expression parameters, whose standard errors lmfit propagates
  from the covariance of the u (to first order, as every standard error here).
* **Residuals** are (s m_i - d_i) / sigma_i with the data's uncertainties sigma_i, or
  unweighted without them; s is 1, or a fitted **scale factor** for data known only up
  to normalization (``--scale``; the default for a ``signal`` observable), started at
  its closed-form least-squares value.
* **Standard errors** are from the Jacobian at the optimum, (J^T J)^-1.  With
  uncertainties in the data they are used as given (reduced chi-square near 1 means
  the model describes the data within them); without, the covariance is scaled by the
  reduced chi-square (the uncertainties are estimated from the scatter), lmfit's
  ``scale_covar``.
* **The start** is the best of the spec's own values and a coarse grid over the box
  (``start_grid`` points per parameter, at the centres of equal cells in u, all in one
  sweep through the executor): a finite disorder average makes the objective rugged
  (resonances between the few electrons of one realization shift with the couplings),
  and a local optimizer started far away stops in the first dip.

The local solver is scipy's trust-region reflective least squares (lmfit method
``least_squares``) with the finite-difference step ``diff_step`` in u (default
:data:`DIFF_STEP`; a wider step for a rugged disorder average, see :func:`fit`).
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dnpsim.errors import ConvergenceError, SpecError
from dnpsim.units import display_scale

__all__ = ["FitParameter", "FitResult", "parse_fit_vary", "fit", "DIFF_STEP", "TOLERANCE", "MAX_EVALUATIONS", "START_GRID",
           "NOISY_MODEL_RATIO"]

#: Finite-difference step of the Jacobian, in the internal variable u in [0, 1] (a
#: 1e-4 fraction of each parameter's range): large against the solvers' relative
#: accuracy (1e-8 and better), small against the curvature of the model.
DIFF_STEP = 1e-4
#: Relative tolerances of the local solver on the chi-square and on u: a change of
#: 1e-5 of chi-square is far below its statistical meaning (a change of 1), and 1e-5 of
#: a parameter's range far below any standard error the data give.
TOLERANCE = 1e-5
#: Default bound on the model evaluations of one fit.
MAX_EVALUATIONS = 200
#: Default points per parameter of the start grid, by the number of fitted spec keys
#: (15, 49 and 64 evaluations; 2 per parameter beyond 3 keys).
START_GRID = {1: 15, 2: 7, 3: 4}
#: Warn when the disorder average's standard error exceeds this fraction of the data
#: uncertainty (median over the points): the objective is then rugged in the parameters.
NOISY_MODEL_RATIO = 0.5
#: Warn when two fitted quantities are correlated beyond this (in absolute value): the
#: data then fix a combination of them, not each (e.g. a power curve of the 2016 model
#: fixes mw_conversion_factor^2 x t1e only).
DEGENERATE_CORRELATION = 0.99
#: Spec keys that only say how to run (not what to run); fitting them makes no sense.
_NOT_FITTABLE = ("method.times", "method.seed", "method.kind")


@dataclass(frozen=True)
class FitParameter:
    """One ``--vary KEY=LO:HI[:log]``: a spec key fitted between bounds (SI values).

    ``initial`` is the starting value (SI); None takes the spec's own value of the key,
    or the middle of the range (geometric for ``log``) when the spec leaves it to a
    default."""

    key: str
    low: float
    high: float
    log: bool = False
    initial: float | None = None
    unit: str = ""

    @property
    def name(self) -> str:
        """The lmfit parameter name (dots are not allowed there)."""
        return "p_" + self.key.replace(".", "__")

    def to_value(self, u: float) -> float:
        """The physical value (SI) at internal u in [0, 1]."""
        if self.log:
            return self.low * (self.high / self.low) ** u
        return self.low + u * (self.high - self.low)

    def to_internal(self, value: float) -> float:
        """Internal u in [0, 1] of a physical value within the bounds."""
        if self.log:
            return math.log(value / self.low) / math.log(self.high / self.low)
        return (value - self.low) / (self.high - self.low)

    def expression(self, internal: str) -> str:
        """lmfit expression of the physical value in terms of the internal parameter."""
        if self.log:
            return f"{self.low!r} * ({self.high / self.low!r}) ** {internal}"
        return f"{self.low!r} + {internal} * {self.high - self.low!r}"


def parse_fit_vary(text: str) -> FitParameter:
    """Parse ``KEY=LO:HI[:log]`` (bounds as numbers in SI units or quantities such as
    ``5MHz``, ``1ms``, ``10mM``; ``log`` fits the logarithm, for a parameter known
    within a factor rather than within an interval).  Raises :class:`SpecError` with
    field ``--vary``."""
    from dnpsim.experiments.optimize import parse_bound, split_vary

    key, parts = split_vary(text, "KEY=LO:HI[:log]")
    if key in _NOT_FITTABLE:
        raise SpecError("--vary", f"{key} cannot be fitted")
    log = bool(parts) and parts[-1].lower() == "log"
    if log:
        parts = parts[:-1]
    if len(parts) != 2:
        raise SpecError("--vary", f"expected KEY=LO:HI[:log], got {text!r}")
    low, low_unit = parse_bound(parts[0], "LO", text)
    high, high_unit = parse_bound(parts[1], "HI", text)
    if low_unit and high_unit and low_unit != high_unit:
        raise SpecError("--vary", f"LO is in {low_unit} but HI in {high_unit} in {text!r}")
    if not low < high:
        raise SpecError("--vary", f"LO must be below HI in {text!r}")
    if log and low <= 0:
        raise SpecError("--vary", f"a log parameter needs LO > 0, got {text!r}")
    return FitParameter(key=key, low=low, high=high, log=log, unit=low_unit or high_unit)


@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    parameters : the fitted parameters (bounds as given).
    values, stderr : fitted value and standard error of each spec key (SI units), and
        of ``"scale"`` when a scale factor was fitted.
    correlation : correlation matrix of the fitted quantities, in the order of
        ``names`` (spec keys, then ``"scale"``).
    chi_square : sum of squared residuals (weighted by the data uncertainties when
        given); ``reduced_chi_square`` divides by points - fitted quantities.
    points, evaluations : measured points, model evaluations of the local fit.
    start_grid_points : points of the start grid (0 without one).
    at_bound : spec keys whose value ended on (within 1e-6 of) a bound: their standard
        error is not meaningful.
    model_noise_ratio : median over the points of the model's realization standard
        error over the data uncertainty (over the rms residual without uncertainties);
        above :data:`NOISY_MODEL_RATIO` the report warns that the objective is rugged.
    comparison : :func:`dnpsim.data.compare.compare`-style Dataset at the optimum.
    fitted_spec : the spec with the fitted values, its ``[sweep]`` the measured axis.
    """

    parameters: tuple[FitParameter, ...]
    names: tuple[str, ...]
    values: dict[str, float]
    stderr: dict[str, float]
    initial: dict[str, float]
    correlation: np.ndarray
    chi_square: float
    reduced_chi_square: float
    weighted: bool
    model_noise: bool
    points: int
    evaluations: int
    start_grid_points: int
    success: bool
    message: str
    at_bound: tuple[str, ...]
    model_noise_ratio: float
    wall_time: float
    comparison: Any = field(repr=False)
    fitted_spec: dict = field(repr=False)

    def report(self) -> str:
        """A plain-text report: values +- standard errors in readable units (MHz, ms,
        nT/W^0.5; :attr:`values` and :meth:`to_dataset` keep SI), correlations,
        chi-square, evaluations and wall time."""
        grid = f"a start grid of {self.start_grid_points} points and " if self.start_grid_points else ""
        lines = [f"fit of {self.comparison.attrs['observable']} along {self.comparison.attrs['axis']}: "
                 f"{self.points} points, {len(self.names)} fitted, {grid}{self.evaluations} model evaluations, "
                 f"{self.wall_time:.1f} s"]
        width = max(len(n) for n in self.names)
        for name in self.names:
            factor, unit = _display_unit(name, self.values[name])
            start = self.initial.get(name, float("nan")) / factor
            lines.append(f"  {name:<{width}} = {_format(self.values[name] / factor, self.stderr[name] / factor)} "
                         f"{unit}".rstrip() + f"   (local fit started at {start:.6g}{' ' + unit if unit else ''})")
        if self.at_bound:
            lines.append(f"  on a bound (standard error not meaningful; widen the --vary range): "
                         f"{', '.join(self.at_bound)}")
        kind = "weighted by the data uncertainties" if self.weighted else \
            "unweighted; standard errors scaled by the reduced chi-square"
        if self.model_noise:
            kind += " and the model's realization standard error at the start, in quadrature"
        lines.append(f"chi-square {self.chi_square:.6g}, reduced chi-square {self.reduced_chi_square:.4g} ({kind})")
        if len(self.names) > 1:
            lines.append("correlations:")
            for i in range(len(self.names)):
                for j in range(i + 1, len(self.names)):
                    lines.append(f"  {self.names[i]} / {self.names[j]}: {self.correlation[i, j]:+.3f}")
        if self.model_noise_ratio > NOISY_MODEL_RATIO:
            lines.append(f"warning: the model's disorder average is noisy (its standard error is "
                         f"{self.model_noise_ratio:.2g} x the data uncertainty): the objective is rugged in the "
                         "parameters, the fit may have stopped in a local minimum and its standard errors may be "
                         "too small; raise [sweep] realizations (or --realizations), or take the slope over a "
                         "wider step (--diff-step 0.05), and fit again")
        for first, second, value in self.degenerate_pairs():
            lines.append(f"warning: {first} and {second} are correlated {value:+.3f}: the data fix a combination "
                         "of them, not each (their standard errors measure the length of a valley, not the data); "
                         "hold one of them fixed (known from another measurement) and fit the other")
        if any(math.isnan(self.stderr[name]) for name in self.names):
            lines.append("warning: no standard errors: the Jacobian is singular at the optimum (a parameter does not "
                         "change the model there, or two change it only together); fit fewer parameters")
        if not self.success:
            lines.append(f"warning: the optimizer did not report convergence: {self.message}")
        return "\n".join(lines)

    def degenerate_pairs(self) -> list[tuple[str, str, float]]:
        """(name, name, correlation) of the fitted quantities correlated beyond
        :data:`DEGENERATE_CORRELATION` in absolute value."""
        return [(self.names[i], self.names[j], float(self.correlation[i, j]))
                for i in range(len(self.names)) for j in range(i + 1, len(self.names))
                if abs(self.correlation[i, j]) > DEGENERATE_CORRELATION]

    def to_dataset(self):
        """The comparison Dataset at the optimum with the fit in its attributes
        (``fit_<key>``, ``fit_<key>_stderr``, ``fit_chi_square``, ...)."""
        out = self.comparison.copy()
        for name in self.names:
            out.attrs[f"fit_{name}"] = self.values[name]
            out.attrs[f"fit_{name}_stderr"] = self.stderr[name]
        out.attrs["fit_parameters"] = list(self.names)
        out.attrs["fit_correlation"] = self.correlation.ravel().tolist()
        out.attrs["fit_chi_square"] = self.chi_square
        out.attrs["fit_reduced_chi_square"] = self.reduced_chi_square
        out.attrs["fit_evaluations"] = self.evaluations
        out.attrs["fit_report"] = self.report()
        return out

    def write(self, prefix: str | Path) -> list[Path]:
        """Write PREFIX.txt (the report), PREFIX.toml (the fitted spec, runs with
        ``dnpsim run`` / ``dnpsim sweep``), PREFIX.nc (:meth:`to_dataset`) and PREFIX.png
        (data, fitted model and residuals); returns the paths."""
        import tomli_w

        from dnpsim.data.compare import plot_comparison

        prefix = Path(prefix)
        paths = [prefix.with_suffix(".txt"), prefix.with_suffix(".toml"), prefix.with_suffix(".nc"),
                 prefix.with_suffix(".png")]
        _atomic_text(paths[0], self.report() + "\n")
        header = "".join(f"# {line}\n" for line in self.report().splitlines())
        _atomic_text(paths[1], "# fitted by dnpsim fit\n" + header + "\n" + tomli_w.dumps(_toml_safe(self.fitted_spec)))
        _atomic_netcdf(self.to_dataset(), paths[2])
        summary = ", ".join(_title_entry(n, self.values[n], self.stderr[n]) for n in self.names)
        plot_comparison(self.comparison.assign_attrs(model_label="fitted model"), paths[3], title=summary)
        return paths


def _format(value: float, error: float) -> str:
    if not math.isfinite(error):
        return f"{value:.6g} +- nan"
    return f"{value:.6g} +- {error:.2g}"


def _display_unit(name: str, value: float) -> tuple[float, str]:
    """(factor, unit) to show the fitted quantity ``name`` of SI value ``value`` in:
    :func:`dnpsim.units.display_scale` of the key's unit; (1, "") for pure numbers."""
    from dnpsim.experiments.sweep import _key_units

    factor, unit = display_scale(value, "" if name == "scale" else _key_units(name).get("units", ""))
    return factor, "" if unit == "1" else unit


def _shown_value(name: str, value: float) -> str:
    """``"17.5 MHz"``: a value of the fitted quantity ``name`` in its readable unit."""
    factor, unit = _display_unit(name, value)
    return f"{value / factor:.6g}" + (f" {unit}" if unit else "")


def _title_entry(name: str, value: float, error: float) -> str:
    """``"scale = 17.5 +- 1.5 MHz"``: the last key component, value and error in a
    readable unit (for the plot title)."""
    short = ".".join(name.split(".")[-2:]) if name.count(".") >= 2 else name.rsplit(".", 1)[-1]
    factor, unit = _display_unit(name, value)
    return f"{short} = {_format(value / factor, error / factor)}" + (f" {unit}" if unit else "")


def _toml_safe(value):
    if isinstance(value, Mapping):
        return {str(k): _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_toml_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return _toml_safe(value.tolist())
    return value


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _atomic_netcdf(dataset, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    dataset.to_netcdf(tmp, engine="h5netcdf")
    tmp.replace(path)


def _initial_value(spec: Mapping[str, Any], parameter: FitParameter) -> float:
    """The starting value of a parameter: given, else the value in ``spec`` (the spec
    on the data's axis, :func:`~dnpsim.data.compare.sweep_spec_for`; SI, after unit
    conversion), else the middle of the range."""
    from dnpsim.spec import complete_spec, get_dotted

    if parameter.initial is not None:
        value = parameter.initial
    else:
        raw = get_dotted(complete_spec(spec), parameter.key)
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            value = float(raw)
        elif parameter.log:
            value = math.sqrt(parameter.low * parameter.high)
        else:
            value = 0.5 * (parameter.low + parameter.high)
    if not parameter.low <= value <= parameter.high:
        raise SpecError("--vary", f"the starting value {value:.6g} of {parameter.key} (from the spec) lies outside "
                        f"{parameter.low:.6g} .. {parameter.high:.6g}; widen the range or change the spec")
    return value


def _check(spec: Mapping[str, Any], measurement, parameters: Sequence[FitParameter]) -> None:
    from dnpsim.data.compare import point_spec_for
    from dnpsim.data.measured import AXES
    from dnpsim.spec import set_dotted, validate_spec

    if not parameters:
        raise SpecError("--vary", "give at least one --vary KEY=LO:HI to fit")
    keys = [p.key for p in parameters]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise SpecError("--vary", f"{duplicated[0]} is given twice")
    axis_key = AXES[measurement.attrs["axis"]].key
    for parameter in parameters:
        if parameter.key == axis_key:
            raise SpecError("--vary", f"{parameter.key} is the data's axis ({measurement.attrs['axis']}); it cannot "
                            "also be fitted")
    base = point_spec_for(spec, measurement)
    # Both corners of the box must be valid specs: nothing runs before that is known.
    for corner in ("low", "high"):
        point = base
        for parameter in parameters:
            point = set_dotted(point, parameter.key, getattr(parameter, corner))
        try:
            validate_spec(point)
        except SpecError as exc:
            exc.add_note(f"with every --vary parameter at its {corner.upper()} bound")
            raise


def fit(spec: str | Path | Mapping[str, Any], measurement, parameters: Sequence[FitParameter | str], *,
        scale: bool | None = None, max_evaluations: int = MAX_EVALUATIONS, start_grid: int | None = None,
        diff_step: float = DIFF_STEP, model_noise: bool = False, executor="serial",
        workers: int | None = None, address: str | None = None, progress: bool = True) -> FitResult:
    """Fit spec parameters to a measurement by least squares.

    Parameters
    ----------
    spec : the model (path or mapping); its values of the fitted keys are the starting
        point; its ``[sweep]`` table's ``realizations`` and ``seed`` set the disorder
        averaged at every evaluation (the same realizations at every evaluation).
    measurement : a Dataset in the measurement layout, or anything
        :func:`dnpsim.data.load_measurement` reads (a path, a DNPLab object).
    parameters : :class:`FitParameter` or ``"KEY=LO:HI[:log]"`` strings.
    scale : also fit a scale factor of the model (data known up to normalization);
        default: for a ``signal`` observable only.
    max_evaluations : bound on model evaluations of the local fit (the Jacobian costs
        one per parameter).
    start_grid : points per parameter of the coarse start grid (default
        :data:`START_GRID`; 0 starts from the spec's values without a grid).
    diff_step : the finite-difference step of the Jacobian as a fraction of each
        parameter's range (default :data:`DIFF_STEP`; forward differences up to 1e-3,
        central ones above).  A larger step (e.g. 0.05) takes the slope over that
        fraction of the range: for a disorder average that is rugged on a fine scale
        (the report warns) it gives the trend's slope, and standard errors that the
        fine structure does not shrink.
    model_noise : add the model's realization standard error at the start point to the
        data uncertainties in quadrature, sigma_eff = sqrt(sigma^2 + s_model^2), held
        fixed for the fit.  For real data, whose disorder is not the model's: the
        chi-square and the standard errors then count the finite disorder average as
        noise.  Needs data uncertainties.  Not for synthetic data made with the fit's
        own realizations (common random numbers), where the model noise cancels.
    executor, workers, address : where each evaluation's sweep runs (one executor is
        kept for the whole fit).
    progress : a progress bar over model evaluations, showing the current chi-square.

    Returns
    -------
    FitResult

    Raises
    ------
    SpecError
        Bad ``--vary``, a starting value outside its range, a corner of the parameter
        box that is not a valid spec, a measurement not in the layout (before any
        model runs).
    ConvergenceError
        The fit produced no finite chi-square (the model gave NaN at the data).
    """
    import lmfit
    from tqdm.auto import tqdm

    from dnpsim.api import load_spec
    from dnpsim.data.compare import compare, scale_to_data, simulate_measurement, sweep_spec_for
    from dnpsim.data.measured import load_measurement
    from dnpsim.experiments.executors import check_executor_options, make_executor
    from dnpsim.spec import set_dotted

    started = time.perf_counter()
    spec = load_spec(spec)
    if not hasattr(measurement, "attrs"):
        measurement = load_measurement(measurement)
    parameters = tuple(parse_fit_vary(p) if isinstance(p, str) else p for p in parameters)
    if not isinstance(max_evaluations, int) or max_evaluations < 1:
        raise SpecError("--max-evaluations", f"must be a positive integer, got {max_evaluations!r}")
    _check(spec, measurement, parameters)
    initial = {p.key: _initial_value(sweep_spec_for(spec, measurement), p) for p in parameters}
    observable = measurement.attrs["observable"]
    if scale is None:
        scale = observable == "signal"
    data = np.asarray(measurement[observable].values, dtype=float)
    sigma_name = f"{observable}_uncertainty"
    weighted = sigma_name in measurement
    sigma = np.asarray(measurement[sigma_name].values, dtype=float) if weighted else np.ones_like(data)
    data_sigma = sigma
    if model_noise and not weighted:
        raise SpecError("--model-noise", f"needs data uncertainties (a {sigma_name} column): the model's noise is "
                        "added to them")
    if not isinstance(diff_step, (int, float)) or isinstance(diff_step, bool) or not 0 < diff_step <= 0.25:
        raise SpecError("--diff-step", f"must be a number in (0, 0.25] (a fraction of each range), got {diff_step!r}")
    if start_grid is None:
        start_grid = START_GRID.get(len(parameters), 2)
    if not isinstance(start_grid, int) or isinstance(start_grid, bool) or start_grid < 0:
        raise SpecError("--start-grid", f"must be an integer >= 0, got {start_grid!r}")
    if start_grid ** len(parameters) > 10_000:
        raise SpecError("--start-grid", f"{start_grid} points per parameter make {start_grid ** len(parameters)} "
                        "start evaluations; give at most 10000 in all")
    if isinstance(executor, str):
        check_executor_options(executor, workers, address)

    def point_spec(values: Mapping[str, float]) -> dict:
        out = copy.deepcopy(spec)
        for key, value in values.items():
            out = set_dotted(out, key, float(value))
        return out

    cache: dict[tuple, np.ndarray] = {}
    model_errors: dict[tuple, np.ndarray] = {}  # realization standard error of each cached curve
    bar = None  # the local fit's progress bar (the start grid has the sweep's own)

    def model_at(values: Mapping[str, float], pool) -> np.ndarray:
        token = tuple(float(values[p.key]) for p in parameters)
        if token not in cache:
            simulated = simulate_measurement(point_spec(values), measurement, executor=pool, progress=False)
            cache[token] = np.asarray(simulated["model_mean"].values, dtype=float)
            model_errors[token] = np.asarray(simulated["model_stderr"].values, dtype=float)
            if bar is not None:
                bar.update(1)
        return cache[token]

    with (make_executor(executor, workers, address) if isinstance(executor, str) else _borrowed(executor)) as pool:
        start = dict(initial)
        start_model = model_at(initial, pool)
        start_error = model_errors[tuple(float(initial[p.key]) for p in parameters)]
        best_chi = _chi_square(start_model, data, sigma, scale)
        if start_grid:
            for values, model, error in _grid_models(spec, measurement, parameters, start_grid, pool, progress):
                chi = _chi_square(model, data, sigma, scale)
                if chi < best_chi:
                    start, start_model, start_error, best_chi = values, model, error, chi
            if progress:
                print(f"fit: start grid of {start_grid ** len(parameters)} points, best chi-square {best_chi:.6g} at "
                      + ", ".join(f"{k} = {_shown_value(k, v)}" for k, v in start.items()), file=sys.stderr)
        if model_noise:
            # The model's own disorder noise at the start, added in quadrature and then
            # held fixed: weights that moved with the parameters would not be least squares.
            sigma = np.sqrt(sigma ** 2 + np.nan_to_num(start_error, nan=0.0) ** 2)
        params = lmfit.Parameters()
        for p in parameters:
            internal = f"u_{p.name}"
            params.add(internal, value=p.to_internal(start[p.key]), min=0.0, max=1.0)
            params.add(p.name, expr=p.expression(internal))
        if scale:
            params.add("scale", value=scale_to_data(start_model, data, sigma))

        def residual(current: lmfit.Parameters) -> np.ndarray:
            values = {p.key: p.to_value(current[f"u_{p.name}"].value) for p in parameters}
            model = model_at(values, pool)
            factor = current["scale"].value if scale else 1.0
            out = (factor * model - data) / sigma
            if bar is not None and np.all(np.isfinite(out)):
                bar.set_postfix(chi2=f"{float(out @ out):.4g}")
            return out

        bar = tqdm(total=max_evaluations, desc="local fit", unit="evaluation", disable=not progress, leave=False)
        try:
            outcome = lmfit.minimize(residual, params, method="least_squares", scale_covar=not weighted,
                                     max_nfev=max_evaluations, x_scale="jac",
                                     jac="3-point" if diff_step > 1e-3 else "2-point", diff_step=diff_step,
                                     ftol=TOLERANCE, xtol=TOLERANCE)
        finally:
            bar.close()
        best = {p.key: p.to_value(outcome.params[f"u_{p.name}"].value) for p in parameters}
        if not math.isfinite(float(outcome.chisqr)):
            raise ConvergenceError(f"the fit gave a non-finite chi-square ({outcome.chisqr}): the model is NaN at "
                                   "some measured point", residual=float("nan"))
        fitted = point_spec(best)
        comparison = compare(fitted, measurement, scale=False, executor=pool)
    factor = outcome.params["scale"].value if scale else 1.0
    if scale:
        for name in ("model", "model_mean", "model_stderr"):
            comparison[name] = (comparison[name] * factor).assign_attrs(comparison[name].attrs)
        comparison["residual"] = (comparison["data"] - comparison["model_mean"]).assign_attrs(
            comparison["residual"].attrs)
        comparison.attrs["scale"] = factor
        comparison.attrs["scaled"] = 1
    # with the weights the fit used (the scaled model; the model noise, when added)
    comparison.attrs["chi_square"] = float(np.sum((comparison["residual"].values / sigma) ** 2))

    names = tuple(p.key for p in parameters) + (("scale",) if scale else ())
    values = dict(best)
    stderr = {}
    for p in parameters:
        error = outcome.params[p.name].stderr
        stderr[p.key] = float(error) if error is not None else float("nan")
    if scale:
        values["scale"] = float(factor)
        error = outcome.params["scale"].stderr
        stderr["scale"] = float(error) if error is not None else float("nan")
    internal_names = [f"u_{p.name}" for p in parameters] + (["scale"] if scale else [])
    correlation = np.eye(len(names))
    if outcome.covar is not None:
        order = [outcome.var_names.index(n) for n in internal_names]
        covariance = np.asarray(outcome.covar)[np.ix_(order, order)]
        scale_diag = np.sqrt(np.diag(covariance))
        with np.errstate(invalid="ignore", divide="ignore"):
            correlation = covariance / np.outer(scale_diag, scale_diag)
    else:
        stderr = {k: float("nan") for k in stderr}
    at_bound = tuple(p.key for p in parameters
                     if min(abs(outcome.params[f"u_{p.name}"].value), abs(1 - outcome.params[f"u_{p.name}"].value))
                     < 1e-6)
    comparison["fit_uncertainty"] = (comparison["data"].dims, sigma.copy(), {
        "units": comparison["data"].attrs.get("units", "1"),
        "long_name": "uncertainty the fit weighted each point with" + (
            " (data and model noise in quadrature)" if model_noise else "")})
    fitted_spec = sweep_spec_for(fitted, measurement)
    model_stderr = np.asarray(comparison["model_stderr"].values, dtype=float)
    reference = data_sigma if weighted else np.full_like(data, math.sqrt(float(outcome.chisqr) / max(data.size, 1)))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = model_stderr / reference
    noise_ratio = float(np.nanmedian(ratios)) if np.any(np.isfinite(ratios)) else 0.0
    return FitResult(
        parameters=parameters, names=names, values=values, stderr=stderr,
        initial={**start, **({"scale": float(params["scale"].value)} if scale else {})},
        correlation=correlation, chi_square=float(outcome.chisqr), reduced_chi_square=float(outcome.redchi),
        weighted=weighted, model_noise=bool(model_noise), points=int(data.size), evaluations=len(cache),
        start_grid_points=start_grid ** len(parameters) if start_grid else 0, success=bool(outcome.success),
        message=str(outcome.message), at_bound=at_bound, model_noise_ratio=noise_ratio,
        wall_time=time.perf_counter() - started, comparison=comparison, fitted_spec=fitted_spec)


def _chi_square(model: np.ndarray, data: np.ndarray, sigma: np.ndarray, scale: bool) -> float:
    """Chi-square of a model curve (with its best scale factor when ``scale``); inf
    where the model is not finite."""
    from dnpsim.data.compare import scale_to_data

    if not np.all(np.isfinite(model)):
        return math.inf
    factor = 1.0
    if scale:
        try:
            factor = scale_to_data(model, data, sigma)
        except SpecError:
            return math.inf
    residual = (factor * model - data) / sigma
    return float(residual @ residual)


def _grid_models(spec, measurement, parameters, points, pool, progress):
    """Yield (values, model curve, its realization standard error) at every point of
    the start grid: ``points`` values
    per parameter at the centres of equal cells in u, all computed in one sweep (grid
    x measured axis x realizations) through the executor ``pool``."""
    from dnpsim.data.compare import model_observable, sweep_spec_for
    from dnpsim.experiments.sweep import run_sweep

    axis = measurement.attrs["axis"]
    centres = (np.arange(points) + 0.5) / points
    grids = {p.key: [p.to_value(float(u)) for u in centres] for p in parameters}
    dims = {p.key: f"fit_parameter_{i}" for i, p in enumerate(parameters)}
    sweep = sweep_spec_for(spec, measurement)
    table = dict(sweep["sweep"])
    table = {**grids, **table, "dims": dims}  # parameters first: a model is reused along the measured axis
    sweep["sweep"] = table
    dataset = run_sweep(sweep, None, executor=pool, progress=progress)
    values = model_observable(dataset, measurement.attrs["observable"], axis, measurement[axis].values)
    means = values.mean("realization").transpose(*dims.values(), axis).values
    n = values.sizes["realization"]
    spread = (values.std("realization", ddof=1) / np.sqrt(n) if n > 1 else values.mean("realization") * np.nan)
    stderrs = spread.transpose(*dims.values(), axis).values
    for index in np.ndindex(*means.shape[:-1]):
        yield ({p.key: grids[p.key][i] for p, i in zip(parameters, index)}, np.asarray(means[index], dtype=float),
               np.asarray(stderrs[index], dtype=float))


class _borrowed:
    """An executor given by the caller: used, not closed."""

    def __init__(self, executor):
        self.executor = executor

    def __enter__(self):
        return self.executor

    def __exit__(self, *exc):
        return False
