"""Command line: ``dnpsim run | sweep | optimize | compare | fit | demo | figure | radicals | info``.

Exit codes: 0 success, 2 invalid input (one message naming the field, nothing
written) or an output another sweep is writing, 1 a computation failed (a solver did
not converge, with its residual; a sweep task failed, naming its grid point), 130
interrupted (Ctrl-C; a sweep says what it kept and how to resume).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from dnpsim.errors import (
    ConvergenceError,
    ModelError,
    SpecError,
    SweepInterrupted,
    SweepResumeError,
    SweepTaskError,
)


def _check_output(path: str, suffix: str, spec_path: str | None = None) -> Path:
    """The output path, checked before any work: the right suffix, an existing and
    writable directory, not a directory itself, not the spec file being read."""
    out = Path(path)
    if out.suffix.lower() != suffix:
        raise SpecError("--output", f"must end with {suffix}, got {path!r}")
    parent = out.parent
    if not parent.exists():
        raise SpecError("--output", f"directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise SpecError("--output", f"{str(parent)!r} is not a directory")
    if out.is_dir():
        raise SpecError("--output", f"{path!r} is a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SpecError("--output", f"directory {str(parent)!r} is not writable")
    if spec_path is not None and out.exists() and Path(spec_path).exists() and out.resolve() == Path(spec_path).resolve():
        raise SpecError("--output", f"{path!r} is the spec file itself; choose another output")
    return out


def cmd_run(args) -> int:
    from dnpsim.api import run_resolved
    from dnpsim.io import write_json
    from dnpsim.spec import load_spec, resolve_spec

    output = _check_output(args.output, ".json", args.spec)
    spec = load_spec(args.spec)
    if "sweep" in spec:
        raise SpecError("sweep", "a spec with a [sweep] section runs with 'dnpsim sweep', not 'dnpsim run'")
    setup = resolve_spec(spec)  # validated once, before any work
    result = run_resolved(spec, setup, progress=not args.quiet)
    write_json(output, result.to_dict())
    if not args.quiet:
        print(result.summary())
        print(f"wrote {output}")
    return 0


#: Names of the executor arguments of dnpsim.sweep as command-line options.
_EXECUTOR_OPTIONS = {"executor": "--executor", "workers": "--workers", "address": "--scheduler"}


def cmd_sweep(args) -> int:
    from dnpsim.api import sweep
    from dnpsim.experiments.executors import check_executor_options

    try:
        check_executor_options(args.executor, args.workers, args.scheduler)
        output = _check_output(args.output, ".nc", args.spec)
        start = time.perf_counter()
        dataset = sweep(args.spec, output=output, executor=args.executor, workers=args.workers,
                        address=args.scheduler, progress=not args.quiet, resume=not args.restart)
    except SpecError as exc:
        if exc.field in _EXECUTOR_OPTIONS:  # name the option the user typed
            raise SpecError(_EXECUTOR_OPTIONS[exc.field], exc.message) from None
        raise
    if not args.quiet:
        print(_sweep_summary(dataset, time.perf_counter() - start))
        print(f"wrote {output}")
    return 0


#: Result variables a sweep summary leaves out (solver bookkeeping).
_SUMMARY_SKIPPED = ("iterations", "wall_time", "diag_time", "events")


def _sweep_summary(dataset, wall_time: float) -> str:
    """A few lines: the dimensions, each result's range with its unit, the wall time."""
    import numpy as np

    dims = ", ".join(f"{name} {size}" for name, size in dataset.sizes.items())
    lines = [f"sweep done in {wall_time:.1f} s; dimensions: {dims}"]
    for name, variable in dataset.data_vars.items():
        if name in _SUMMARY_SKIPPED or variable.dtype.kind not in "biuf":
            continue
        values = np.asarray(variable.values, dtype=float)
        finite = values[np.isfinite(values)]
        unit = variable.attrs.get("units", "")
        unit = "" if unit in ("", "1") else f" {unit}"
        if finite.size == 0:
            span = "no finite values"
        elif finite.min() == finite.max():
            span = f"{finite.min():.6g}{unit}"
        else:
            span = f"{finite.min():.6g} .. {finite.max():.6g}{unit}"
        missing = values.size - finite.size
        lines.append(f"  {name:32s} {span}" + (f" ({missing} not finite)" if missing else ""))
    return "\n".join(lines)


def cmd_optimize(args) -> int:
    from dnpsim.api import sweep
    from dnpsim.experiments import optimize
    from dnpsim.experiments.executors import check_executor_options
    from dnpsim.io import write_netcdf
    from dnpsim.spec import load_spec

    varies = [optimize.parse_vary(text) for text in (args.vary or [])]
    try:
        check_executor_options(args.executor, args.workers, args.scheduler)
        output = _check_output(args.output, ".nc", args.spec)
        start = time.perf_counter()
        if args.method == "perturbative":
            dataset = optimize.perturbative_map(args.spec, varies)
        else:
            spec = optimize.optimize_spec(load_spec(args.spec), varies, args.realizations)
            dataset = sweep(spec, output=output, executor=args.executor, workers=args.workers,
                            address=args.scheduler, progress=not args.quiet, resume=not args.restart)
    except SpecError as exc:
        if exc.field in _EXECUTOR_OPTIONS:
            raise SpecError(_EXECUTOR_OPTIONS[exc.field], exc.message) from None
        raise
    data = optimize.reduce_map(dataset.load(), args.objective, units={v.dim: v.unit for v in varies if v.unit})
    write_netcdf(data, output)
    picture = optimize.plot_map(data, output.with_suffix(".png"), log_dims=[v.dim for v in varies if v.log])
    if not args.quiet:
        print(f"map done in {time.perf_counter() - start:.1f} s")
        print("\n".join(optimize.optimum_lines(data)))
        print(f"wrote {output} and {picture}")
    return 0


def _executor_errors(exc: SpecError) -> SpecError:
    """A SpecError of an executor option renamed to its command-line flag."""
    if exc.field in _EXECUTOR_OPTIONS:
        return SpecError(_EXECUTOR_OPTIONS[exc.field], exc.message)
    return exc


def _data_outputs(args) -> tuple[Path, dict[str, Path]]:
    """The output NetCDF of compare / fit and its companions (.png, and for a fit .txt
    and the fitted spec .toml), checked before any work; none may be the spec or the
    data file."""
    output = _check_output(args.output, ".nc", args.spec)
    companions = {suffix: output.with_suffix(suffix) for suffix in (".png", ".txt", ".toml")}
    inputs = [Path(p).resolve() for p in (args.spec, args.data) if Path(p).exists()]
    for path in (output, *companions.values()):
        if path.exists() and path.resolve() in inputs:
            raise SpecError("--output", f"{str(path)!r} would overwrite an input file; choose another output")
    return output, companions


def cmd_compare(args) -> int:
    import numpy as np

    from dnpsim.data import load_measurement
    from dnpsim.data.compare import compare, plot_comparison, point_spec_for
    from dnpsim.experiments.executors import check_executor_options
    from dnpsim.io import write_netcdf
    from dnpsim.spec import load_spec, validate_spec

    try:
        check_executor_options(args.executor, args.workers, args.scheduler)
        output, companions = _data_outputs(args)
        measurement = load_measurement(args.data, observable=args.observable, axis=args.axis)
        spec = load_spec(args.spec)
        validate_spec(point_spec_for(spec, measurement))
        start = time.perf_counter()
        result = compare(spec, measurement, scale=args.scale or None, executor=args.executor, workers=args.workers,
                         address=args.scheduler, progress=not args.quiet)
    except SpecError as exc:
        raise _executor_errors(exc) from None
    write_netcdf(result, output)
    picture = plot_comparison(result, companions[".png"], title=Path(args.spec).name)
    if not args.quiet:
        weighted = "weighted by the data uncertainties" if result.attrs["chi_square_weighted"] else "unweighted"
        print(f"compared {result.attrs['points']} points of {result.attrs['observable']} along "
              f"{result.attrs['axis']} in {time.perf_counter() - start:.1f} s")
        if result.attrs["scaled"]:
            print(f"model scaled by {result.attrs['scale']:.6g} (least squares)")
        print(f"chi-square {result.attrs['chi_square']:.6g} ({weighted}), "
              f"rms residual {float(np.sqrt(np.mean(result['residual'].values ** 2))):.4g}")
        print(f"wrote {output} and {picture}")
    return 0


def cmd_fit(args) -> int:
    from dnpsim.data import load_measurement
    from dnpsim.data.fit import fit, parse_fit_vary
    from dnpsim.experiments.executors import check_executor_options
    from dnpsim.spec import load_spec

    try:
        parameters = [parse_fit_vary(text) for text in (args.vary or [])]
        check_executor_options(args.executor, args.workers, args.scheduler)
        output, companions = _data_outputs(args)
        measurement = load_measurement(args.data, observable=args.observable, axis=args.axis)
        spec = load_spec(args.spec)
        if args.realizations is not None:
            if args.realizations < 1:
                raise SpecError("--realizations", f"must be >= 1, got {args.realizations}")
            spec["sweep"] = {**dict(spec.get("sweep") or {}), "realizations": args.realizations}
        result = fit(spec, measurement, parameters, scale=args.scale or None, max_evaluations=args.max_evaluations,
                     start_grid=args.start_grid, diff_step=args.diff_step, model_noise=args.model_noise,
                     executor=args.executor, workers=args.workers,
                     address=args.scheduler, progress=not args.quiet)
    except SpecError as exc:
        raise _executor_errors(exc) from None
    paths = result.write(output)
    if not args.quiet:
        print(result.report())
        print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_demo(args) -> int:
    from dnpsim.experiments.demo import run_demo

    run_demo(Path(args.output_dir), progress=not args.quiet)
    return 0


def cmd_figure(args) -> int:
    from dnpsim.experiments.figures import FIGURES, figure_table

    if args.name not in FIGURES:
        raise SpecError("figure", f"unknown figure {args.name!r}; the figures are:\n{figure_table()}")
    out = Path(args.output_dir)
    if out.exists() and not out.is_dir():
        raise SpecError("--output-dir", f"{str(out)!r} is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpecError("--output-dir", f"cannot create {str(out)!r}: {exc.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise SpecError("--output-dir", f"directory {str(out)!r} is not writable")
    import inspect

    make = FIGURES[args.name]
    accepted = inspect.signature(make.target()).parameters
    options = {}
    for flag, keyword, value in (("--electrons", "n_electrons", args.electrons), ("--size", "L", args.size)):
        if value is None:
            continue
        if keyword not in accepted:
                raise SpecError(flag, f"is not an option of figure {args.name!r}")
        options[keyword] = value
    written = make(quick=args.quick, output_dir=out, progress=not args.quiet, realizations=args.realizations,
                   workers=args.workers, **options)
    if not args.quiet:
        for path in _paths(written):
            print(f"wrote {path}")
    return 0


def _paths(written) -> list[str]:
    """The file paths a figure function returned (a path, or nested tuples/lists of them)."""
    if written is None:
        return []
    if isinstance(written, (str, os.PathLike)):
        return [str(written)]
    if isinstance(written, dict):
        written = written.values()
    return [path for item in written for path in _paths(item)]


def cmd_radicals(args) -> int:
    from dnpsim.sample.radicals import radical_table

    print(radical_table())
    return 0


def cmd_info(args) -> int:
    import importlib.metadata as md
    import platform

    import psutil

    from dnpsim import __version__
    from dnpsim.provenance import git_revision

    print(f"dnpsim {__version__} (git {git_revision()})")
    print(f"python {platform.python_version()} on {platform.platform()}")
    print(f"cores {os.cpu_count()}, memory {psutil.virtual_memory().total / 2**30:.1f} GiB "
          f"({psutil.virtual_memory().available / 2**30:.1f} GiB available)")
    for name in ("numpy", "scipy", "xarray", "h5netcdf", "matplotlib", "tqdm", "pint", "numba", "dask",
                 "distributed", "qutip"):
        try:
            version = md.version(name)
        except md.PackageNotFoundError:
            version = "not installed"
        print(f"  {name:12s} {version}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from dnpsim import __version__

    parser = argparse.ArgumentParser(prog="dnpsim", description="Simulate dynamic nuclear polarization (DNP) in "
                                     "disordered, interacting electron-spin systems.")
    parser.add_argument("--version", action="version", version=f"dnpsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one point of a spec file, write RESULT.json")
    run.add_argument("spec", help="spec file (TOML or JSON)")
    run.add_argument("--output", "-o", required=True, help="result file (.json)")
    run.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    run.set_defaults(func=cmd_run)

    sweep = sub.add_parser("sweep", help="run the [sweep] grid x realizations of a spec, write RESULT.nc")
    sweep.add_argument("spec", help="spec file (TOML or JSON) with a [sweep] table")
    sweep.add_argument("--output", "-o", required=True, help="result file (.nc)")
    sweep.add_argument("--executor", choices=["serial", "processes", "dask"], default="serial",
                       help="where tasks run: this process (serial, default), local worker processes, or dask")
    sweep.add_argument("--workers", type=int, default=None,
                       help="number of worker processes (processes, local dask cluster); default: one per core")
    sweep.add_argument("--scheduler", default=None,
                       help="address of a running dask scheduler, tcp://host:8786 (default: a local cluster)")
    sweep.add_argument("--restart", action="store_true",
                       help="discard the finished parts of an interrupted sweep instead of resuming from them")
    sweep.add_argument("--quiet", "-q", action="store_true", help="no plan, progress bar or summary")
    sweep.set_defaults(func=cmd_sweep)

    optimize = sub.add_parser("optimize", help="map an objective (P_n) over one or two spec keys, locate its optimum",
                              description="Map the objective (mean over realizations of P_n, by default) over a grid "
                                          "of one or two spec keys, computed as a sweep (resumable, any executor); "
                                          "write MAP.nc (the sweep data + objective_mean, objective_stderr, the "
                                          "optimum in the attributes) and MAP.png (the map next to the KL distance "
                                          "from the spin-temperature ansatz), and print the optimum.")
    optimize.add_argument("spec", help="spec file (TOML or JSON); its [sweep] realizations and seed are used, its grid "
                                       "is replaced by --vary")
    optimize.add_argument("--vary", action="append", metavar="KEY=LO:HI[:NUM][:log]",
                          help="a spec key and its grid: NUM points (default 5) from LO to HI, geometric with :log; "
                               "LO, HI numbers (SI) or quantities ('10mM', '93.8GHz'); once or twice (a heat map)")
    optimize.add_argument("--output", "-o", required=True, help="map file (.nc); the plot goes next to it (.png)")
    optimize.add_argument("--objective", choices=["nuclear_polarization", "nuclear_enhancement", "abs"],
                          default="nuclear_polarization",
                          help="maximize the mean of P_n (default), of the enhancement, or |mean P_n| (abs)")
    optimize.add_argument("--method", choices=["exact", "perturbative"], default="exact",
                          help="exact: the spec's engine over the grid (default); perturbative: the N -> infinity "
                               "beta_s of Eqs. (23)-(25) of the 2016 paper, fast, for wide scans of its model")
    optimize.add_argument("--realizations", type=int, default=None,
                          help="disorder realizations per grid point (default: the spec's [sweep] realizations, else 1)")
    optimize.add_argument("--executor", choices=["serial", "processes", "dask"], default="serial",
                          help="where tasks run, as for dnpsim sweep")
    optimize.add_argument("--workers", type=int, default=None, help="number of worker processes")
    optimize.add_argument("--scheduler", default=None, help="address of a running dask scheduler")
    optimize.add_argument("--restart", action="store_true", help="discard the parts of an interrupted run")
    optimize.add_argument("--quiet", "-q", action="store_true", help="no plan, progress bar or summary")
    optimize.set_defaults(func=cmd_optimize)

    from dnpsim.data.measured import AXES, OBSERVABLES

    def data_options(parser) -> None:
        parser.add_argument("spec", help="spec file (TOML or JSON); its [sweep] realizations and seed set the "
                            "disorder average, its grid is replaced by the data's axis")
        parser.add_argument("--data", required=True, help="measured data: CSV/TSV with units in the header, NetCDF, "
                            "or a DNPLab .h5 file (see the 'Measured data' docs page)")
        parser.add_argument("--output", "-o", required=True,
                            help="result file (.nc); the plot (.png) and, for fit, the report (.txt) and the fitted "
                            "spec (.toml) go next to it")
        parser.add_argument("--observable", default=None,
                            choices=list(OBSERVABLES),
                            help="which column of the data to use (default: recognised from the header)")
        parser.add_argument("--axis", default=None,
                            choices=list(AXES),
                            help="which column is the axis (default: recognised from the header)")
        parser.add_argument("--scale", action="store_true",
                            help="scale the model to the data by a least-squares factor (default for a 'signal' "
                            "observable, data known only up to normalization)")
        parser.add_argument("--executor", choices=["serial", "processes", "dask"], default="serial",
                            help="where the model runs (default: this process)")
        parser.add_argument("--workers", type=int, default=None, help="number of worker processes")
        parser.add_argument("--scheduler", default=None, help="address of a running dask scheduler")
        parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")

    compare = sub.add_parser("compare", help="run a spec on the axis of measured data, plot both with residuals",
                             description="Run SPEC at the axis values of measured data (a DNP profile vs "
                             "microwave frequency or field, a power curve converted to B1, or a build-up curve), "
                             "average its disorder realizations, and plot simulation and data with residuals.")
    data_options(compare)
    compare.set_defaults(func=cmd_compare)

    fit = sub.add_parser("fit", help="fit spec parameters to measured data (lmfit least squares)",
                         description="Fit numeric spec keys to measured data by least squares: a coarse start "
                         "grid, then lmfit's trust-region least squares with the same disorder realizations at "
                         "every evaluation. Writes the report (values +- standard errors, correlations, "
                         "chi-square), the overlay plot and the fitted spec.")
    data_options(fit)
    fit.add_argument("--vary", action="append", metavar="KEY=LO:HI[:log]",
                     help="a spec key to fit between bounds (numbers in SI units or quantities such as 5MHz, 1ms, "
                     "10mM; ':log' fits its logarithm); repeat for several; the spec's value is the start")
    fit.add_argument("--realizations", type=int, default=None,
                     help="disorder realizations averaged at every evaluation (default: the spec's [sweep] "
                     "realizations, or 1)")
    fit.add_argument("--max-evaluations", type=int, default=200,
                     help="bound on model evaluations of the local fit (default 200)")
    fit.add_argument("--start-grid", type=int, default=None,
                     help="points per parameter of the coarse start grid (default 9, 5, 3 for 1, 2, 3 keys; 0: "
                     "start from the spec's values)")
    fit.add_argument("--diff-step", type=float, default=1e-4,
                     help="finite-difference step of the Jacobian as a fraction of each --vary range (default 1e-4; "
                     "e.g. 0.05 for a disorder average that is rugged on a fine scale: the report warns)")
    fit.add_argument("--model-noise", action="store_true",
                     help="add the model's realization standard error (at the start) to the data uncertainties in "
                     "quadrature: for real data, whose disorder is not the model's")
    fit.set_defaults(func=cmd_fit)

    demo = sub.add_parser("demo", help="compute a small 2016 DNP profile, write dnpsim-demo.png/.nc")
    demo.add_argument("--output-dir", default=".", help="where dnpsim-demo.png and .nc go (default: here)")
    demo.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    demo.set_defaults(func=cmd_demo)

    from dnpsim.experiments.figures import figure_table

    figure = sub.add_parser("figure", help="reproduce a paper figure (data .nc + plot .png)",
                            formatter_class=argparse.RawDescriptionHelpFormatter,
                            description="Reproduce a paper figure: writes NAME.nc (the plotted data, with units and "
                                        "provenance) and NAME.png\ninto --output-dir, and nothing else.",
                            epilog=figure_table())
    figure.add_argument("name", metavar="name", help="the figure (listed below)")
    figure.add_argument("--quick", action="store_true", help="small N, few realizations (seconds to two minutes)")
    figure.add_argument("--realizations", type=int, default=None, help="override the number of realizations")
    figure.add_argument("--electrons", type=int, default=None,
                        help="number of electron spins N (default: 8 quick, 12 full)")
    figure.add_argument("--size", type=int, default=None,
                        help="linear lattice size L of the anderson-* figures (default: 8 quick, 18 full)")
    figure.add_argument("--workers", type=int, default=1, help="local worker processes")
    figure.add_argument("--output-dir", default=".", help="where the data (.nc) and plot (.png) go; created if missing")
    figure.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no list of files written")
    figure.set_defaults(func=cmd_figure)

    radicals = sub.add_parser("radicals", help="list the radical library (g, hyperfine, biradical geometry, sources)",
                              description="List the radical library that powder offsets read "
                                          "(model.offsets = {distribution = \"powder\", radical = NAME}): principal g "
                                          "values, hyperfine couplings, for biradicals the electron-electron distance "
                                          "and dipolar coupling, and the literature source (DOI) of every number.")
    radicals.set_defaults(func=cmd_radicals)

    info = sub.add_parser("info", help="version, dependencies, cores, memory")
    info.set_defaults(func=cmd_info)
    return parser


def _format_warning(message, category, filename, lineno, line=None) -> str:
    return f"dnpsim: warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    import warnings

    args = build_parser().parse_args(argv)
    previous_format = warnings.formatwarning
    warnings.formatwarning = _format_warning  # one line, no source excerpt
    try:
        return args.func(args)
    except (SpecError, ModelError, SweepResumeError) as exc:
        print(f"dnpsim: error: {exc}", file=sys.stderr)
        return 2
    except (ConvergenceError, SweepTaskError) as exc:
        print(f"dnpsim: computation failed: {exc}", file=sys.stderr)
        return 1
    except SweepInterrupted as exc:
        print(f"dnpsim: interrupted; {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("dnpsim: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = previous_format
