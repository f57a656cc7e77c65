"""The public entry points: :func:`load_spec`, :func:`run`, :func:`sweep`, :func:`make_model`.

Every engine runs through these (and the command line is a thin layer over them):
the spec is parsed by its kind (:mod:`dnpsim.spec`), the engine registered for its
``(model.kind, method.kind)`` in :data:`RUNNERS` computes one
:class:`~dnpsim.result.Result` per point, and sweeps assemble Results into an
:class:`xarray.Dataset` (:mod:`dnpsim.experiments.sweep`).
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from dnpsim.errors import SpecError
from dnpsim.result import Result
from dnpsim.spec import (
    canonical_key,
    canonical_spec,
    load_spec,
    resolve_spec,
    reuses_model,
    set_dotted,
)

__all__ = ["load_spec", "run", "sweep", "make_model", "run_points", "RUNNERS"]

#: (model.kind, method.kind) -> "module:function" computing Results for variants of
#: one realization: ``function(setup, variants, progress=bool) -> list[Result]``.
RUNNERS: dict[tuple[str, str], str] = {
    ("dipolar_electrons", "rate_equation"): "dnpsim.experiments.spin_temperature:run_points",
    ("dipolar_electrons", "nonsecular"): "dnpsim.experiments.open_system:run_points",
    ("dipolar_electrons", "hilbert"): "dnpsim.experiments.open_system:run_points",
    ("anderson", "free_fermion"): "dnpsim.experiments.anderson:run_points",
    ("cross_effect", "lindblad"): "dnpsim.experiments.cross_effect:run_points",
    ("cross_effect", "zeeman_rates"): "dnpsim.experiments.cross_effect:run_points",
    ("cross_effect", "kmc"): "dnpsim.experiments.cross_effect:run_points",
}


def _runner(spec: Mapping, setup):
    module, name = RUNNERS[(spec["model"]["kind"], setup.method.kind)].split(":")
    return getattr(importlib.import_module(module), name)


def run(spec: str | os.PathLike | Mapping[str, Any], *, progress: bool = False) -> Result:
    """Run one point of a spec and return its :class:`~dnpsim.result.Result`.

    ``spec`` is a path to a spec file (TOML or JSON) or a mapping with the same keys.
    The spec is validated first (:class:`~dnpsim.errors.SpecError` naming the field,
    before any work).  A spec with a ``[sweep]`` table is refused: use :func:`sweep`.
    ``progress`` shows a progress bar on long steps.  ``result.to_dict()`` is the JSON
    that ``dnpsim run`` writes; ``result.wall_time`` covers the whole run."""
    spec = load_spec(spec)
    if isinstance(spec, Mapping) and "sweep" in spec:
        raise SpecError("sweep", "a spec with a [sweep] table runs with dnpsim.sweep (or 'dnpsim sweep'), "
                        "not dnpsim.run")
    return run_resolved(spec, resolve_spec(spec), progress=progress)


def run_resolved(spec: Mapping[str, Any], setup, *, progress: bool = False) -> Result:
    """:func:`run` for a spec already validated: ``setup = dnpsim.spec.resolve_spec(spec)``
    (what ``dnpsim run`` does, so that it validates once, before its other checks and any
    work)."""
    start = time.perf_counter()
    (result,) = _runner(spec, setup)(setup, [setup], progress=progress)
    resolved = {k: v for k, v in spec.items() if k not in ("model", "environment", "method")}
    resolved.update(setup.resolved_spec())
    return result.with_provenance(resolved, wall_time=time.perf_counter() - start)


def make_model(table: Mapping[str, Any], *, seed: int | None = None):
    """The model of a spec file's ``[model]`` table, with its distributions drawn
    (``seed``, else ``table["seed"]``): a :class:`~dnpsim.models.electrons.DipolarElectrons`
    (``kind = "dipolar_electrons"``) or an :class:`~dnpsim.models.anderson.AndersonLattice`
    (``kind = "anderson"``, without ``nuclei``).  The same parser as ``dnpsim.run``, so
    the same keys (old names read, :data:`dnpsim.spec.KEY_ALIASES`), units and errors
    (:class:`~dnpsim.errors.SpecError` naming the field)."""
    from dnpsim.spec import MODEL_KINDS, with_current_names

    if not isinstance(table, Mapping):
        raise SpecError("model", f"must be a table, got {type(table).__name__}")
    kind = table.get("kind")
    module = importlib.import_module(MODEL_KINDS[kind]) if kind in MODEL_KINDS else None
    if module is None or not hasattr(module, "model_from_table"):
        kinds = [k for k, m in MODEL_KINDS.items() if hasattr(importlib.import_module(m), "model_from_table")]
        raise SpecError("model.kind", f"make_model builds kinds {kinds}, got {kind!r} (a cross-effect model "
                        "is built with dnpsim.CrossEffectModel.from_hz)")
    return with_current_names({"model": dict(table)}, lambda spec: module.model_from_table(spec["model"], seed))


def run_points(spec: Mapping[str, Any], variants: list[dict[str, Any]], seed: int | None = None) -> list[Result]:
    """Several points sharing one model realization (one draw, one spectrum): the
    function a sweep runs per task.

    ``variants`` are override mappings ``{dotted_key: value}`` whose keys all satisfy
    :func:`dnpsim.spec.reuses_model`; ``seed`` replaces ``model.seed`` for the draw.
    Returns one Result per variant, with the realization's drawn arrays
    (``setup.drawn_arrays()``, e.g. ``offsets``) among its extras.  Old key names
    (:data:`dnpsim.spec.KEY_ALIASES`) are read without a warning here: a sweep warns
    once, when it validates its points, not once per task and worker."""
    spec = canonical_spec(dict(spec), warn=False)
    points = []
    for variant in variants:
        point = spec
        for key, value in variant.items():
            key = canonical_key(key)
            if not reuses_model(key, spec):
                raise SpecError(key, "changes the model; it cannot vary inside one group")
            point = set_dotted(point, key, value)
        points.append(point)
    variant_setups = [resolve_spec(point, seed=seed) for point in points]
    # the group's model from its first point: the spec alone may lack what only the
    # variants give (a microwave strength swept as the axis of a power curve)
    setup = variant_setups[0] if variant_setups else resolve_spec(spec, seed=seed)
    results = _runner(spec, setup)(setup, variant_setups, progress=False)
    drawn = setup.drawn_arrays()
    if not drawn:
        return results
    return [replace(r, extras={**r.extras, **{k: a for k, (_, a) in drawn.items()}},
                    dims={**r.dims, **{k: d for k, (d, _) in drawn.items()}}) for r in results]


def sweep(spec: str | os.PathLike | Mapping[str, Any], *, output: str | os.PathLike | None = None,
          executor: str = "serial", workers: int | None = None, address: str | None = None,
          progress: bool = True, resume: bool = True):
    """Run the ``[sweep]`` of a spec (grids x disorder realizations) and return an
    :class:`xarray.Dataset`.

    Parameters
    ----------
    spec : a path to a spec file or a mapping, with a ``[sweep]`` table.
    output : None (default) computes in memory and writes nothing; a path ending in
        ``.nc`` writes the Dataset there (atomically) and makes the sweep resumable:
        finished tasks are kept in ``<output>.parts/`` until the file is written, and
        calling again with the same spec and output computes only what is missing.
    executor : "serial", "processes" (local worker processes) or "dask" (a
        dask.distributed cluster at ``address``, or a local one).
    workers : worker processes ("processes", "dask").
    progress : a progress bar over tasks.
    resume : with False, the parts of an interrupted run are discarded first.

    Every grid point is validated before any work starts
    (:class:`~dnpsim.errors.SpecError` naming the field and the point).  The Dataset
    has one dimension per swept key, then ``realization``, then the result's own
    (``electron``, ``nucleus``, ``time``); one variable per numeric result with its
    units; the spec, the package version and the git revision in its attributes.
    """
    from dnpsim.experiments.sweep import run_sweep

    spec = load_spec(spec)
    if "sweep" not in spec:
        raise SpecError("sweep", "the spec has no [sweep] table; run one point with dnpsim.run")
    return run_sweep(spec, None if output is None else Path(output), executor=executor, workers=workers,
                     address=address, progress=progress, resume=resume)
