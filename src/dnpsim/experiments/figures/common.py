"""What every figure module shares: its loops over disorder realizations and parameter
grids are sweeps (:func:`dnpsim.experiments.sweep.run_sweep`).

A figure describes its grid as a spec with a ``[sweep]`` table and computes one task
(a group of grid points sharing a model, one realization) with a module-level
``compute(spec, variants, seed)``.  So every figure has the package's one seeding
scheme (realization r gets ``realization_seeds(seed, R)[r]`` at every grid point, from
``numpy.random.SeedSequence(seed).spawn(R)``), its executors (``workers`` local
processes), progress bar, resume of an interrupted run and provenance (spec, version,
git revision in the file).

Quantities a figure's compute needs beyond the engine's spec keys (extra frequency
grids, EPR bins, the observable's site) go in a top-level ``figure`` table of that
spec, so that the spec fingerprint that guards a resumed run covers them too;
:func:`engine_spec` strips it before the spec is handed to the spec parser.

Every figure command writes exactly two files into its output directory,
``<command>.nc`` and ``<command>.png`` (:func:`save_figure`).  Its sweeps run in the
work directory ``<command>.nc.parts/`` (:func:`work_directory`), where an interrupted
run resumes; the directory is removed once both files are written.  The data file is
self-describing: CF ``units`` and ``long_name`` on every variable and coordinate
(:func:`describe`; "1" for pure numbers), and in its attributes the package version,
the git revision, the spec(s) it was computed from (``spec``), the figure's parameters
(``figure_parameters``, also what :func:`load_finished` compares to reuse a finished
file instead of recomputing it) and the caption drawn under the plot (``caption``,
which says what the error bars are).

Public API
----------
figure_sweep(spec, output, compute, *, validate=None, workers=1, executor=None,
             progress=True, finish=None) -> xarray.Dataset
engine_spec(spec) -> dict
validate_engine_spec(spec) -> None
point_spec(spec, variant) -> dict
single_realization(data) -> xarray.Dataset
work_directory(output_dir, name) -> Path
load_finished(output_dir, name, parameters) -> Dataset | {group: Dataset} | None
describe(data, quantities=None) -> Dataset
save_figure(data, fig, output_dir, name, *, parameters, caption, spec=None, attrs=None)
    -> (netcdf_path, png_path)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

#: Top-level spec table with a figure's own inputs (not read by the spec parser).
FIGURE_TABLE = "figure"
#: Attribute of a finished figure sweep's file: the canonical JSON of its spec.
CACHE_ATTR = "figure_spec"
#: Attribute of a figure's data file: the canonical JSON of the figure's parameters.
PARAMETERS_ATTR = "figure_parameters"


def engine_spec(spec: Mapping[str, Any]) -> dict:
    """``spec`` without its ``figure`` table: what :func:`dnpsim.spec.resolve_spec` reads."""
    return {key: value for key, value in spec.items() if key != FIGURE_TABLE}


def validate_engine_spec(spec: Mapping[str, Any]) -> None:
    """The sweep's ``validate`` for figures whose spec is an engine spec plus a
    ``figure`` table: :func:`dnpsim.spec.validate_spec` on the engine part
    (:class:`~dnpsim.errors.SpecError` naming the field)."""
    from dnpsim.spec import validate_spec

    validate_spec(engine_spec(spec))


def point_spec(spec: Mapping[str, Any], variant: Mapping[str, Any]) -> dict:
    """``spec`` with the dotted keys of one sweep variant set (a new dict)."""
    from dnpsim.spec import set_dotted

    out = dict(spec)
    for key, value in variant.items():
        out = set_dotted(out, key, value)
    return out


def single_realization(data):
    """Drop the realization axis of a sweep run with ``realizations = 1`` (a grid of
    deterministic points, or one drawn realization); its seed stays as the scalar
    coordinate ``realization_seed``."""
    return data.isel(realization=0, drop=False).drop_vars("realization")


def _cached(output: Path | None, key: str):
    import xarray as xr

    if output is None or not output.exists():
        return None
    with xr.open_dataset(output, engine="h5netcdf") as cached:
        if cached.attrs.get(CACHE_ATTR) == key:
            return cached.load()
    return None


def figure_sweep(
    spec: Mapping[str, Any],
    output: str | os.PathLike | None,
    compute: Callable,
    *,
    validate: Callable | None = None,
    workers: int | None = 1,
    executor=None,
    progress: bool = True,
    finish: Callable | None = None,
):
    """Run a figure's sweep, or reuse the finished file of the same spec.

    Parameters
    ----------
    spec:
        The figure's spec with its ``[sweep]`` table (plain JSON-able data).
    output:
        None: compute in memory.  Else a ``.nc`` path: an interrupted run resumes from
        ``<output>.parts``, and a file already holding the finished sweep of the same
        spec (attribute ``figure_spec``) is loaded instead of recomputed.
    compute, validate:
        As in :func:`~dnpsim.experiments.sweep.run_sweep` (``compute`` module-level, so
        that worker processes can run it; default ``validate`` is the spec parser's).
    workers, executor:
        ``executor`` None: ``workers`` > 1 runs the tasks in that many local processes.
        Else an executor name (``"serial"``, ``"processes"``, ``"dask"``, with
        ``workers``) or instance (shared by several sweeps; not closed here).  Results
        do not depend on it.
    progress:
        Progress bar over the tasks.
    finish:
        ``finish(dataset) -> dataset`` applied before the file is written (coordinates of
        the compute's own dimensions, attributes).

    Returns
    -------
    xarray.Dataset
        Dimensions ``(*swept, "realization", *the compute's own)``; attributes of
        :func:`~dnpsim.experiments.sweep.assemble_dataset` plus ``figure_spec``.
    """
    from dnpsim.experiments.sweep import run_sweep
    from dnpsim.io import write_netcdf

    output = None if output is None else Path(output)
    key = json.dumps(spec, sort_keys=True, default=str)
    cached = _cached(output, key)
    if cached is not None:
        return cached
    if executor is None:
        executor = "processes" if (workers or 1) > 1 else "serial"
    options = {"workers": workers} if executor in ("processes", "dask") else {}
    data = run_sweep(spec, output, compute=compute, validate=validate, executor=executor, progress=progress,
                     resume=True, **options)
    if finish is not None:
        data = finish(data)
    data.attrs[CACHE_ATTR] = key
    if output is not None:
        write_netcdf(data, output)
    return data


# ------------------------------------------------------------------ figure files


def work_directory(output_dir: str | os.PathLike, name: str) -> Path:
    """``<output_dir>/<name>.nc.parts``: where figure ``name`` keeps its sweeps while it
    runs (created; an interrupted run resumes from it; removed by :func:`save_figure`)."""
    work = Path(output_dir) / f"{name}.nc.parts"
    work.mkdir(parents=True, exist_ok=True)
    return work


def _key(parameters: Mapping[str, Any]) -> str:
    return json.dumps(parameters, sort_keys=True, default=str)


def load_finished(output_dir: str | os.PathLike, name: str, parameters: Mapping[str, Any]):
    """The data of ``<output_dir>/<name>.nc`` if that file was written by the same figure
    with the same ``parameters`` (attribute ``figure_parameters``), else None.  A file
    with NetCDF groups is returned as ``{group: Dataset}``."""
    import xarray as xr

    path = Path(output_dir) / f"{name}.nc"
    if not path.is_file():
        return None
    groups = _groups(path)
    try:
        if not groups:
            with xr.open_dataset(path, engine="h5netcdf") as data:
                return data.load() if data.attrs.get(PARAMETERS_ATTR) == _key(parameters) else None
        out = {}
        for group in groups:
            with xr.open_dataset(path, engine="h5netcdf", group=group) as data:
                if data.attrs.get(PARAMETERS_ATTR) != _key(parameters):
                    return None
                out[group] = data.load()
        return out
    except (OSError, ValueError):  # unreadable: recompute
        return None


def _groups(path: Path) -> list[str]:
    import h5netcdf

    with h5netcdf.File(path, "r") as handle:
        return list(handle.groups)


def describe(data, quantities: Mapping[str, tuple[str, str]] | None = None):
    """Give every variable and coordinate of ``data`` CF ``units`` and ``long_name``:
    ``quantities`` (name -> (unit, long name), the figure's own names) first, then
    attributes the variable already has, then :data:`dnpsim.units.QUANTITIES`.  Pure
    numbers have units "1".  Returns ``data`` (changed in place).

    Raises ValueError naming every variable that is still without either attribute:
    a figure must not write an undescribed number.
    """
    from dnpsim.units import QUANTITIES

    quantities = dict(quantities or {})
    missing = []
    for name, variable in data.variables.items():
        attrs = variable.attrs
        own = quantities.get(name)
        if own is not None:
            attrs["units"], attrs["long_name"] = own
        known = QUANTITIES.get(name)
        if known is not None:
            attrs.setdefault("units", known.unit)
            attrs.setdefault("long_name", known.description)
        if "long_name" not in attrs and "description" in attrs:
            attrs["long_name"] = attrs["description"]
        if "units" not in attrs or "long_name" not in attrs:
            missing.append(name)
    if missing:
        raise ValueError(f"figure data without units or long_name: {', '.join(sorted(map(str, missing)))}")
    return data


def caption_text(fig, text: str, fontsize: float = 7.5) -> None:
    """Write ``text`` (wrapped to the figure's width) under the axes of ``fig``; the
    file is saved with ``bbox_inches="tight"``, which makes room for it."""
    import textwrap

    width = max(40, int(fig.get_figwidth() * 72 / (0.5 * fontsize)))
    # never break inside $math$: its spaces become no-break spaces while wrapping
    pieces = text.split("$")
    glued = "$".join(piece.replace(" ", "\u00a0") if i % 2 else piece.replace(" = ", "\u00a0=\u00a0")
                     for i, piece in enumerate(pieces))
    lines = [textwrap.fill(part, width) for part in glued.split("\n")]
    # below everything already drawn (tick labels, axis labels), in figure coordinates
    bottom = fig.get_tightbbox(fig.canvas.get_renderer()).y0 / fig.get_figheight()
    fig.text(0.5, min(bottom, 0.0) - 0.02, "\n".join(lines).replace("\u00a0", " "), ha="center", va="top",
             fontsize=fontsize, color="0.2")


def save_figure(data, fig, output_dir: str | os.PathLike, name: str, *, parameters: Mapping[str, Any],
                caption: str, spec: Any = None, attrs: Mapping[str, Any] | None = None,
                quantities: Mapping[str, tuple[str, str]] | None = None,
                reused: bool = False) -> tuple[Path, Path]:
    """Write figure ``name``: ``<name>.nc`` (``data``: a Dataset or ``{group: Dataset}``)
    and ``<name>.png`` (``fig``, with ``caption`` drawn under it), then remove the work
    directory ``<name>.nc.parts``.

    Every dataset gets :func:`describe` (``quantities``) and the attributes
    ``dnpsim_version``, ``git_revision``, ``spec`` (JSON of ``spec``, default the
    ``spec`` the sweep stored, else ``parameters``), ``figure_parameters`` (JSON of
    ``parameters``), ``caption``, ``figure`` (the command) and ``attrs``.  ``reused``:
    ``data`` is the file :func:`load_finished` returned, which is left as it is (only
    the plot is drawn again).  Returns ``(netcdf_path, png_path)``.
    """
    import shutil

    import dnpsim
    from dnpsim.io import write_netcdf
    from dnpsim.plots import pyplot
    from dnpsim.provenance import git_revision

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    groups = {} if reused else data if isinstance(data, dict) else {None: data}
    for dataset in groups.values():
        describe(dataset, quantities)
        stored = dataset.attrs.pop("spec", None)
        dataset.attrs.pop(CACHE_ATTR, None)
        dataset.attrs.update(attrs or {})
        if spec is not None:
            text = json.dumps(spec, default=str)
        elif stored is not None:
            text = stored
        else:
            text = _key(parameters)
        dataset.attrs.update({
            "figure": name,
            "caption": caption,
            "spec": text,
            PARAMETERS_ATTR: _key(parameters),
            "dnpsim_version": dnpsim.__version__,
            "git_revision": git_revision(),
        })
        for key, value in list(dataset.attrs.items()):
            if not isinstance(value, (str, int, float)):
                dataset.attrs[key] = json.dumps(value, default=str)
    nc, png = output_dir / f"{name}.nc", output_dir / f"{name}.png"
    if not reused:
        write_netcdf(data, nc)
    caption_text(fig, caption)
    fig.savefig(png, dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    shutil.rmtree(output_dir / f"{name}.nc.parts", ignore_errors=True)
    return nc, png
