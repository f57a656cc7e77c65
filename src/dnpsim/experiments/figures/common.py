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

Public API
----------
figure_sweep(spec, output, compute, *, validate=None, workers=1, executor=None,
             progress=True, finish=None) -> xarray.Dataset
engine_spec(spec) -> dict
validate_engine_spec(spec) -> None
point_spec(spec, variant) -> dict
single_realization(data) -> xarray.Dataset
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
