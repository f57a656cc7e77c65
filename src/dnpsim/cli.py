"""Command line: ``dnpsim run | sweep | demo | figure | info``.

Exit codes: 0 success, 2 invalid input (one message naming the field, nothing
written), 1 a computation failed (e.g. a solver did not converge, with its residual).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dnpsim.errors import ConvergenceError, ModelError, SpecError, SweepResumeError


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
        print(f"{result.summary()}; wrote {output}")
    return 0


def cmd_sweep(args) -> int:
    from dnpsim.api import sweep

    output = _check_output(args.output, ".nc", args.spec)
    sweep(args.spec, output=output, executor=args.executor, workers=args.workers, address=args.scheduler,
          progress=not args.quiet, resume=not args.restart)
    if not args.quiet:
        print(f"wrote {output}")
    return 0


def cmd_demo(args) -> int:
    from dnpsim.experiments.demo import run_demo

    run_demo(Path(args.output_dir), progress=not args.quiet)
    return 0


def cmd_figure(args) -> int:
    from dnpsim.experiments.figures import FIGURES

    if args.name not in FIGURES:
        raise SpecError("figure", f"unknown figure {args.name!r}; available: {', '.join(sorted(FIGURES))}")
    out = Path(args.output_dir)
    if not out.is_dir():
        raise SpecError("--output-dir", f"directory {str(out)!r} does not exist")
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
    make(quick=args.quick, output_dir=out, progress=not args.quiet, realizations=args.realizations,
         workers=args.workers, **options)
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
    run.add_argument("--quiet", "-q", action="store_true")
    run.set_defaults(func=cmd_run)

    sweep = sub.add_parser("sweep", help="run the [sweep] grid x realizations of a spec, write RESULT.nc")
    sweep.add_argument("spec")
    sweep.add_argument("--output", "-o", required=True, help="result file (.nc)")
    sweep.add_argument("--executor", choices=["serial", "processes", "dask"], default="serial")
    sweep.add_argument("--workers", type=int, default=None, help="worker processes (processes/dask)")
    sweep.add_argument("--scheduler", default=None, help="dask scheduler address (default: a local cluster)")
    sweep.add_argument("--restart", action="store_true", help="ignore finished parts of an interrupted sweep")
    sweep.add_argument("--quiet", "-q", action="store_true")
    sweep.set_defaults(func=cmd_sweep)

    demo = sub.add_parser("demo", help="compute a small 2016 DNP profile, write dnpsim-demo.png/.nc")
    demo.add_argument("--output-dir", default=".")
    demo.add_argument("--quiet", "-q", action="store_true")
    demo.set_defaults(func=cmd_demo)

    figure = sub.add_parser("figure", help="reproduce a paper figure (data .nc + plot .png)")
    from dnpsim.experiments.figures import FIGURES

    figure.add_argument("name", metavar="name", help="one of: " + ", ".join(FIGURES))
    figure.add_argument("--quick", action="store_true", help="small N, few realizations (under a minute)")
    figure.add_argument("--realizations", type=int, default=None, help="override the number of realizations")
    figure.add_argument("--electrons", type=int, default=None,
                        help="number of electron spins N (default: 8 quick, 12 full)")
    figure.add_argument("--size", type=int, default=None,
                        help="linear lattice size L of the anderson-* figures (default: 8 quick, 18 full)")
    figure.add_argument("--workers", type=int, default=1, help="local worker processes")
    figure.add_argument("--output-dir", default=".")
    figure.add_argument("--quiet", "-q", action="store_true")
    figure.set_defaults(func=cmd_figure)

    info = sub.add_parser("info", help="version, dependencies, cores, memory")
    info.set_defaults(func=cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (SpecError, ModelError, SweepResumeError) as exc:
        print(f"dnpsim: error: {exc}", file=sys.stderr)
        return 2
    except ConvergenceError as exc:
        print(f"dnpsim: computation failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dnpsim: interrupted", file=sys.stderr)
        return 130
