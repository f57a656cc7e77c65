"""Sweeps: a spec with a ``[sweep]`` table -> grid x realizations -> one NetCDF file.

This module is what ``dnpsim.sweep`` and ``dnpsim sweep SPEC --output RESULT.nc`` run
(README, "One run, one file").  A sweep table lists dotted spec keys with their
values, the number of disorder realizations and the root seed::

    [sweep]
    "environment.mw_frequency" = { start = 93.84e9, stop = 93.96e9, num = 41 }   # Hz
    "model.couplings.scale" = [2e6, 5e6, 10e6, 15e6, 30e6, 45e6]                  # Hz
    realizations = 100
    seed = 1
    dims = { "model.couplings.scale" = "coupling_scale" }    # optional renaming

Several entries make a Cartesian product, in the order they appear.  The result is an
:class:`xarray.Dataset` with one dimension per entry (named by the last component of
the key, ``mw_frequency``, ``scale``, or by ``dims``), then ``realization``, then any
dimensions a result carries itself (``electron``); one variable per numeric result.

How the work is cut (see :func:`run_sweep`)
-------------------------------------------
* **Groups.**  Grid points that differ only in keys for which
  :func:`dnpsim.spec.reuses_model` is true (``environment.*``: the microwave frequency,
  the temperature, ...) share one model, so one call of the engine computes all of
  them from one spectrum.  A *task* is one group and one realization.
* **Seeds.**  ``SeedSequence(seed).spawn(realizations)`` gives one child per
  realization; realization ``r`` uses child ``r`` at *every* grid point (common random
  numbers: along a coupling-scale axis the same underlying disorder is rescaled, so
  differences between grid points are not masked by draw-to-draw noise).  The engine
  receives the integer :func:`realization_seeds` ``[r]``.  Nothing depends on the
  number of workers or on the order tasks finish.
* **Parts.**  Each finished task is written at once to ``RESULT.nc.parts/`` (atomic
  write), next to a ``plan.json`` fingerprint of the spec.  An interrupted sweep (an
  error, Ctrl-C, a killed job) keeps its parts; running the same command again
  computes only the missing tasks.  The parts directory is removed once ``RESULT.nc``
  is written.

Public API
----------
parse_sweep(spec) -> SweepPlan
run_sweep(spec, output, *, compute=None, validate=None, executor="serial",
          workers=None, address=None, progress=True, resume=True) -> xarray.Dataset
realization_seeds(root_seed, realizations) -> tuple[int, ...]
parts_directory(output) -> Path
git_revision() -> str
SweepPlan, SweepAxis, SweepGroup, SweepResumeError
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import io
import itertools
import json
import math
import os
import re
import shutil
import socket
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from concurrent.futures import process as cf_process

import dnpsim
from dnpsim.experiments.executors import Executor, make_executor
from dnpsim.io import write_bytes, write_netcdf
from dnpsim.provenance import git_revision
from dnpsim.errors import SpecError, SweepInterrupted, SweepLockedError, SweepResumeError, SweepTaskError, shown
from dnpsim.spec import load_spec, reuses_model, set_dotted

__all__ = [
    "SweepAxis",
    "SweepGroup",
    "SweepPlan",
    "SweepResumeError",
    "parse_sweep",
    "realization_seeds",
    "run_sweep",
    "assemble_dataset",
    "parts_directory",
    "spec_fingerprint",
    "git_revision",
]

#: Entries of ``[sweep]`` that are not swept keys.
RESERVED_KEYS = ("realizations", "seed", "dims")
#: Sections a swept key may start with.
SECTIONS = ("model", "environment", "method")
#: Dimension / coordinate names the sweep itself uses.
REALIZATION_DIM = "realization"
REALIZATION_SEED = "realization_seed"
#: Keys of a result dict that never become variables.
SKIPPED_RESULT_KEYS = ("spec", "dims")

_GRID_KEYS = frozenset({"start", "stop", "num"})
#: Most values along one swept key.
MAX_GRID_NUM = 10_000_000
#: Keys a sweep cannot vary, with the reason.
UNSWEPT_KEYS = {
    "model.seed": "each realization draws its disorder from its own seed, derived from sweep.seed; "
                  "use realizations = R (and sweep.seed) for independent draws",
    "model.kind": "a sweep varies one model; run one sweep per model kind",
}
_PARTS_FORMAT = 2
_PART_NAME = re.compile(r"^g(\d+)_r(\d+)\.npz$")

Compute = Callable[[dict, list, int], Sequence[Mapping[str, Any]]]
Validate = Callable[[dict], None]


# ------------------------------------------------------------------------------ plan


@dataclass(frozen=True)
class SweepAxis:
    """One swept spec key.

    Attributes
    ----------
    key:
        Dotted spec key, e.g. ``"environment.mw_frequency"``.
    dim:
        Name of the dataset dimension (last key component, or the ``dims`` override).
    values:
        The values: numbers in SI units with frequencies in Hz (strings with units,
        "93.9 GHz", are converted to them, so coordinates are numeric; other strings,
        e.g. solver names, are kept); a ``{start, stop, num}`` grid (bounds numbers or
        strings with units) becomes ``num`` floats from ``start`` to ``stop`` inclusive.
    given:
        The same values as given in the spec (see :attr:`as_given`); empty when equal
        to ``values``.
    """

    key: str
    dim: str
    values: tuple
    given: tuple = ()

    @property
    def as_given(self) -> tuple:
        """The values as the spec gave them (``"93.9 GHz"``; a grid with unit strings as
        ``"9.39e+10 Hz"``): what the validators check, so a unit of the wrong dimension
        for the key (``"5 s"`` for a frequency) is refused naming the key."""
        return self.given or self.values

    @property
    def size(self) -> int:
        """Number of values along this axis."""
        return len(self.values)

    @property
    def reuses_model(self) -> bool:
        """Whether points differing along this axis share one model (one engine call),
        by the rule every kind shares (``environment.*``); the grouping itself asks
        the spec's kind (:func:`dnpsim.spec.reuses_model` with the spec)."""
        return reuses_model(self.key)

    def coordinate(self) -> np.ndarray:
        """Coordinate values for the dataset, shape ``(size,)``.

        Numbers (and booleans) stay numbers, as given (SI units, Hz).  If any value is
        a string (``"93.9 GHz"``) all values are stored as strings; tables and lists
        (e.g. explicit offset arrays) are stored as their JSON text.
        """
        values = self.values
        if all(_is_number(v) for v in values):
            return np.asarray(values)
        if all(_is_number(v) or isinstance(v, str) for v in values):
            return np.asarray([str(v) for v in values])
        return np.asarray([json.dumps(v, default=str) for v in values])


@dataclass(frozen=True)
class SweepGroup:
    """Grid points that share one model: one engine call per realization.

    Attributes
    ----------
    index:
        Position of the group in :meth:`SweepPlan.groups` (C order over the axes that
        change the model).
    overrides:
        ``{dotted_key: value}`` for the model-changing axes, common to the group.
    points:
        Grid index (one entry per axis of the plan) of each member, in the order of
        ``variants``.
    variants:
        ``{dotted_key: value}`` overrides of the model-reusing axes, one per member
        (``({},)`` when no axis reuses the model).
    """

    index: int
    overrides: dict
    points: tuple[tuple[int, ...], ...]
    variants: tuple[dict, ...]


@dataclass(frozen=True)
class SweepPlan:
    """A parsed ``[sweep]`` table (see :func:`parse_sweep`).

    Attributes
    ----------
    base:
        The spec without its ``sweep`` section (do not mutate it).
    axes:
        The swept keys, in the order they appear in the table.
    realizations:
        Number of disorder realizations R (>= 1).
    seed:
        Root seed of ``numpy.random.SeedSequence`` (>= 0).
    """

    base: dict = field(repr=False)
    axes: tuple[SweepAxis, ...]
    realizations: int = 1
    seed: int = 0

    @property
    def dims(self) -> tuple[str, ...]:
        """Dimension names of the grid, one per axis."""
        return tuple(axis.dim for axis in self.axes)

    @property
    def keys(self) -> tuple[str, ...]:
        """Dotted spec keys of the grid, one per axis."""
        return tuple(axis.key for axis in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape (without the realization axis); ``()`` for a pure realization sweep."""
        return tuple(axis.size for axis in self.axes)

    @property
    def size(self) -> int:
        """Number of grid points (without realizations)."""
        return math.prod(self.shape)

    @property
    def n_tasks(self) -> int:
        """Number of tasks: groups x realizations."""
        return len(self.groups()) * self.realizations

    def overrides(self, index: Sequence[int]) -> dict:
        """``{dotted_key: value}`` of the grid point at ``index`` (one int per axis)."""
        return {axis.key: axis.values[i] for axis, i in zip(self.axes, index, strict=True)}

    def given_overrides(self, index: Sequence[int]) -> dict:
        """Like :meth:`overrides`, with the values as the spec gave them (unit strings
        kept, :attr:`SweepAxis.as_given`): what validation checks."""
        return {axis.key: axis.as_given[i] for axis, i in zip(self.axes, index, strict=True)}

    def indices(self) -> Iterator[tuple[int, ...]]:
        """All grid indices, in C order (the last axis varies fastest)."""
        return itertools.product(*(range(n) for n in self.shape))

    def point_specs(self) -> Iterator[tuple[tuple[int, ...], dict]]:
        """Yield ``(index, spec)`` for every grid point, in C order.

        ``spec`` is a fresh copy of the spec without its ``sweep`` section, with each
        swept key set to the point's value (:func:`dnpsim.spec.set_dotted`).
        """
        for index in self.indices():
            yield index, _apply(self.base, self.overrides(index))

    def groups(self) -> tuple[SweepGroup, ...]:
        """The grid cut into groups of points that share one model, in C order over
        the axes that change the model; members in C order over the others."""
        return self._groups

    @functools.cached_property
    def _groups(self) -> tuple[SweepGroup, ...]:
        return _make_groups(self.axes, self.base)

    def group_spec(self, group: SweepGroup) -> dict:
        """The spec a group's engine call gets: base spec + the group's overrides.

        Applying one of ``group.variants`` on top gives the point's spec.
        """
        return _apply(self.base, group.overrides)

    def realization_seeds(self) -> tuple[int, ...]:
        """Integer seed of each realization (see :func:`realization_seeds`)."""
        return realization_seeds(self.seed, self.realizations)


def _apply(base: dict, overrides: Mapping[str, Any]) -> dict:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        out = set_dotted(out, key, value)
    return out


def _make_groups(axes: tuple[SweepAxis, ...], base: dict | None = None) -> tuple[SweepGroup, ...]:
    # the spec's model kind decides which keys keep its model (spectrum)
    shared = [reuses_model(axis.key, base) for axis in axes]
    outer = [i for i, reused in enumerate(shared) if not reused]
    inner = [i for i, reused in enumerate(shared) if reused]
    groups = []
    for g, outer_index in enumerate(itertools.product(*(range(axes[i].size) for i in outer))):
        overrides = {axes[i].key: axes[i].values[k] for i, k in zip(outer, outer_index)}
        points, variants = [], []
        for inner_index in itertools.product(*(range(axes[i].size) for i in inner)):
            point = [0] * len(axes)
            for i, k in itertools.chain(zip(outer, outer_index), zip(inner, inner_index)):
                point[i] = k
            points.append(tuple(point))
            variants.append({axes[i].key: axes[i].values[k] for i, k in zip(inner, inner_index)})
        groups.append(SweepGroup(g, overrides, tuple(points), tuple(variants)))
    return tuple(groups)


def realization_seeds(root_seed: int, realizations: int) -> tuple[int, ...]:
    """One integer seed per realization, shared by every grid point.

    Realization ``r`` gets ``SeedSequence(root_seed).spawn(realizations)[r]``, reduced to
    its first 64-bit state word (an int in ``[0, 2**64)``, picklable and JSON-able;
    ``numpy.random.default_rng(seed)`` turns it back into a generator).  Spawned
    children do not depend on ``realizations``: the first R seeds of a longer sweep
    are those of a shorter one.
    """
    children = np.random.SeedSequence(root_seed).spawn(realizations)
    return tuple(int(child.generate_state(1, dtype=np.uint64)[0]) for child in children)


# ---------------------------------------------------------------------------- parsing


def _is_number(value: Any) -> bool:
    return isinstance(value, (Real, np.number, np.bool_)) and not isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _flatten(prefix: str, value: Any, is_leaf: Callable[[Any], bool]) -> Iterator[tuple[str, Any]]:
    """Turn nested tables into dotted keys: TOML reads an unquoted
    ``environment.mw_frequency = [...]`` as ``{"environment": {"mw_frequency": [...]}}``."""
    if isinstance(value, Mapping) and value and not is_leaf(value):
        for key, child in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), child, is_leaf)
    else:
        yield prefix, value


def _is_entry_leaf(value: Mapping) -> bool:
    # A table is a {start, stop, num} grid when it names one of them, and a nesting
    # level of dotted keys when all its values are lists or tables; anything else is
    # a (malformed) leaf, reported by _grid_values.
    if _GRID_KEYS & set(value):
        return True
    return not all(isinstance(v, (Mapping, list, tuple)) for v in value.values())


def _grid_values(name: str, raw: Any) -> tuple[tuple, tuple]:
    """Values of one swept key: a non-empty list, or a ``{start, stop, num}`` table.
    Returns ``(values, given)``: the values in SI units and as given (unit strings
    kept; a grid with unit strings as SI strings), see :class:`SweepAxis`."""
    from dnpsim.units import quantity_to_si

    if isinstance(raw, (list, tuple)):
        if not raw:
            raise SpecError(name, "is an empty list; give at least one value")
        values = tuple(quantity_to_si(v, f"{name}[{i}]") for i, v in enumerate(raw))
        given = tuple(raw)
    elif isinstance(raw, Mapping) and _GRID_KEYS & set(raw):
        unknown = sorted(set(raw) - _GRID_KEYS)
        if unknown:
            raise SpecError(name, f"unknown grid entries {unknown}; a grid is {{start, stop, num}}")
        missing = sorted(_GRID_KEYS - set(raw))
        if missing:
            raise SpecError(name, f"grid table lacks {missing}; a grid is {{start, stop, num}}")
        start, start_unit = quantity_to_si(raw["start"], f"{name}.start", with_unit=True)
        stop, stop_unit = quantity_to_si(raw["stop"], f"{name}.stop", with_unit=True)
        num = raw["num"]
        for label, bound in (("start", start), ("stop", stop)):
            if not _is_real(bound) or not math.isfinite(bound):
                raise SpecError(
                    name,
                    f"{label} = {shown(bound)} must be a finite number in SI units (Hz, s, K) or a string with a unit",
                )
        if start_unit is not None and stop_unit is not None and start_unit != stop_unit:
            raise SpecError(name, f"start is in {start_unit or 'pure numbers'} but stop in {stop_unit or 'pure numbers'}")
        if not _is_int(num) or num < 1:
            raise SpecError(name, f"num = {shown(num)} must be an integer >= 1")
        if num > MAX_GRID_NUM:
            raise SpecError(name, f"num = {num} is more than {MAX_GRID_NUM:g} grid points along one key")
        values = tuple(np.linspace(float(start), float(stop), int(num)).tolist())
        unit = start_unit if start_unit is not None else stop_unit
        given = values if not unit else tuple(f"{v!r} {unit}" for v in values)
    else:
        got = f"a table with keys {sorted(raw)}" if isinstance(raw, Mapping) else shown(raw)
        raise SpecError(
            name,
            f"expected a list of values or a {{start, stop, num}} table, got {got}",
        )
    seen = set()
    for value in values:
        marker = json.dumps(value, sort_keys=True, default=str)
        if marker in seen:
            raise SpecError(name, f"value {shown(value)} is listed twice")
        seen.add(marker)
    return values, (() if given == values else given)


def _check_key(name: str, key: str) -> None:
    parts = key.split(".")
    if parts[0] not in SECTIONS or len(parts) < 2 or not all(parts):
        raise SpecError(
            name,
            f"{key!r} is not a dotted spec key under {', '.join(SECTIONS)} "
            '(e.g. "environment.mw_frequency"); the other [sweep] entries are '
            f"{', '.join(RESERVED_KEYS)}",
        )


def parse_sweep(spec: Mapping[str, Any]) -> SweepPlan:
    """Read the ``[sweep]`` table of a spec.

    Every entry except ``realizations`` (int >= 1, default 1), ``seed`` (int >= 0,
    default 0) and ``dims`` is a dotted spec key (first component ``model``,
    ``environment`` or ``method``) with either a non-empty list of values (numbers in
    SI units, Hz for frequencies, or strings with units, converted to SI numbers) or a
    table ``{start, stop, num}`` (``num`` values from ``start`` to ``stop`` inclusive,
    as ``numpy.linspace``; bounds may be strings with units).  Several entries make a Cartesian product, in table order.

    The dimension of an entry is named by the last component of its key
    (``model.couplings.scale`` -> ``scale``); ``dims = {"model.couplings.scale" =
    "coupling_scale"}`` renames it, and is required when two keys end alike.

    Returns
    -------
    SweepPlan

    Raises
    ------
    SpecError
        Naming the field at fault (``sweep.<key>``, ``sweep.realizations``, ...).
    """
    if not isinstance(spec, Mapping):
        raise SpecError("spec", f"must be a table, got {type(spec).__name__}")
    table = spec.get("sweep")
    if table is None:
        raise SpecError("sweep", "the spec has no [sweep] table (use `dnpsim run` for a single point)")
    if not isinstance(table, Mapping):
        raise SpecError("sweep", f"must be a table, got {shown(table)}")

    realizations = table.get("realizations", 1)
    if not _is_int(realizations) or realizations < 1:
        raise SpecError("sweep.realizations", f"must be an integer >= 1, got {shown(realizations)}")
    seed = table.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        raise SpecError("sweep.seed", f"must be an integer >= 0, got {shown(seed)}")

    renames = table.get("dims", {})
    if not isinstance(renames, Mapping):
        raise SpecError(
            "sweep.dims", f'must be a table like {{"model.couplings.scale" = "coupling_scale"}}, got {shown(renames)}'
        )
    renames = dict(_flatten("", renames, lambda v: False)) if renames else {}
    for key, dim in renames.items():
        if not isinstance(dim, str) or not dim.strip():
            raise SpecError(f"sweep.dims.{key}", f"must be a non-empty dimension name, got {dim!r}")

    entries: dict[str, Any] = {}
    for top, raw in table.items():
        if top in RESERVED_KEYS:
            continue
        for key, value in _flatten(str(top), raw, _is_entry_leaf):
            if key in entries:
                raise SpecError(f"sweep.{key}", "is given twice")
            entries[key] = value

    axes: list[SweepAxis] = []
    owner: dict[str, str] = {}
    for key, raw in entries.items():
        name = f"sweep.{key}"
        _check_key(name, key)
        if key in UNSWEPT_KEYS:
            raise SpecError(name, f"cannot be swept: {UNSWEPT_KEYS[key]}")
        values, given = _grid_values(name, raw)
        dim = renames.get(key, key.rsplit(".", 1)[-1])
        if dim in (REALIZATION_DIM, REALIZATION_SEED):
            raise SpecError(
                name,
                f"its dimension name {dim!r} is reserved; rename it with "
                f'dims = {{"{key}" = "<name>"}} in [sweep]',
            )
        if dim in owner:
            raise SpecError(
                name,
                f"its dimension name {dim!r} is also that of sweep.{owner[dim]}; name them apart with "
                f'dims = {{"{key}" = "<name>"}} in [sweep]',
            )
        owner[dim] = key
        axes.append(SweepAxis(key, dim, values, given))
    for key in renames:
        if key not in entries:
            raise SpecError(f"sweep.dims.{key}", "renames a key that is not swept")

    base = copy.deepcopy({k: v for k, v in spec.items() if k != "sweep"})
    return SweepPlan(base=base, axes=tuple(axes), realizations=int(realizations), seed=int(seed))


# ------------------------------------------------------------------------------ tasks


def _as_numeric(value: Any) -> np.ndarray | None:
    """``value`` as a numeric (bool/int/float) array, or None if it is not one."""
    if value is None or isinstance(value, (str, bytes, Mapping)):
        return None
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged lists
        return None
    return array if array.dtype.kind in "biuf" else None


def _numeric_record(result: Any) -> dict:
    """Keep the numeric entries of one result dict, with their extra dimension names.

    Returns ``{"values": {name: ndarray}, "dims": {name: tuple[str, ...]}}``; scalars
    become 0-d arrays.  An array result without a ``dims`` entry gets dimensions
    ``<name>_dim_0, <name>_dim_1, ...``.  ``spec``, strings, tables, complex numbers and
    ragged lists are skipped.
    """
    from dnpsim.result import Result

    if isinstance(result, Result):
        variables = result.variables()
        return {"values": {k: np.asarray(v) for k, (_, v) in variables.items()},
                "dims": {k: d for k, (d, _) in variables.items()}}
    if not isinstance(result, Mapping):
        raise TypeError(f"compute must return one Result or mapping per variant, got {type(result).__name__}")
    declared = result.get("dims") or {}
    values: dict[str, np.ndarray] = {}
    dims: dict[str, tuple[str, ...]] = {}
    for name, value in result.items():
        if not isinstance(name, str) or name in SKIPPED_RESULT_KEYS:
            continue
        array = _as_numeric(value)
        if array is None:
            continue
        names = declared.get(name)
        if names is None:
            names = tuple(f"{name}_dim_{i}" for i in range(array.ndim))
        else:
            names = (names,) if isinstance(names, str) else tuple(names)
            if len(names) != array.ndim:
                raise ValueError(
                    f"result {name!r} has {array.ndim} dimension(s) but dims names {len(names)}: {names}"
                )
        values[name] = array
        dims[name] = names
    return {"values": values, "dims": dims}


def _run_task(compute: Compute, spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """One task (a group, a realization), run in a worker: ``compute`` then keep the
    numeric results, so that only those travel back."""
    results = list(compute(spec, variants, seed))
    if len(results) != len(variants):
        raise ValueError(f"compute returned {len(results)} results for {len(variants)} variants")
    return [_numeric_record(result) for result in results]


# ------------------------------------------------------------------------------ parts


def parts_directory(output: str | os.PathLike) -> Path:
    """Where the finished tasks of a sweep writing ``output`` are kept: ``<output>.parts``."""
    output = Path(output)
    return output.with_name(output.name + ".parts")


def spec_fingerprint(spec: Mapping[str, Any]) -> str:
    """SHA-256 of the spec's canonical JSON, ignoring ``sweep.dims`` (which only names
    dimensions): equal fingerprints mean the parts of one run serve the other."""
    spec = dict(spec)
    if isinstance(spec.get("sweep"), Mapping):
        spec["sweep"] = {k: v for k, v in spec["sweep"].items() if k != "dims"}
    record = {"format": _PARTS_FORMAT, "spec": spec}
    text = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class _PartStore:
    """The ``<output>.parts/`` directory of a sweep writing ``<output>``.

    Layout: ``lock`` (held with :mod:`filelock` while a sweep runs; ``owner.json`` says
    by whom), ``plan.json`` (the spec and its fingerprint) and one ``gGGGGGG_rRRRRRR.npz``
    per finished task (group G, realization R).  A part is plain data (numpy's npz:
    arrays plus one JSON header, read with ``allow_pickle=False``, so a file planted in
    the directory cannot run code); the zip CRC of every member and the header's
    group/realization detect truncated or damaged files, which are recomputed.
    """

    def __init__(self, directory: Path, spec: Mapping[str, Any]):
        self.directory = directory
        self.spec = spec
        self.fingerprint = spec_fingerprint(spec)
        self._lock = None
        self._created = False

    # ---- lock

    def lock(self) -> None:
        """Take the exclusive lock on the directory (creating it), or raise
        :class:`SweepLockedError` naming the process that holds it."""
        from filelock import FileLock, Timeout

        self._created = not self.directory.exists()
        try:
            self.directory.mkdir(exist_ok=True)
        except OSError as exc:
            raise SpecError("output", f"cannot create {str(self.directory)!r}: {exc.strerror}") from None
        lock = FileLock(self.directory / "lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise SweepLockedError(
                f"{self.directory} is in use by another sweep writing the same output ({self._owner()}); "
                "wait for it to finish, or choose another output"
            ) from None
        self._lock = lock
        owner = {"pid": os.getpid(), "host": socket.gethostname(),
                 "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": " ".join(sys.argv)}
        write_bytes(self.directory / "owner.json", json.dumps(owner).encode())

    def _owner(self) -> str:
        try:
            owner = json.loads((self.directory / "owner.json").read_text())
            return f"pid {owner['pid']} on {owner['host']}, started {owner['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown"

    def unlock(self, remove_if_created: bool = False) -> None:
        """Release the lock; with ``remove_if_created``, also remove the directory if
        this run created it and wrote no plan into it (nothing is left behind by a run
        that stopped before any work)."""
        if self._lock is None:
            return
        if remove_if_created and self._created and not (self.directory / "plan.json").exists():
            for name in ("owner.json", "lock"):
                (self.directory / name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.directory.rmdir()
        self._lock.release()
        self._lock = None

    # ---- plan and parts

    def check_plan(self, resume: bool) -> None:
        """Check that the directory belongs to this spec (or clear it: ``resume=False``),
        and remove temporary files that an interrupted write left (safe: we hold the
        lock)."""
        if not resume:
            self._clear()
        plan_file = self.directory / "plan.json"
        if plan_file.exists():
            try:
                stored = json.loads(plan_file.read_text())
            except (OSError, ValueError):
                stored = None
            if not isinstance(stored, dict) or stored.get("fingerprint") != self.fingerprint:
                older = isinstance(stored, dict) and stored.get("format") != _PARTS_FORMAT
                why = ("was written by another version of dnpsim" if older
                       else "holds partial results of a different spec (or an unreadable plan.json)")
                raise SweepResumeError(
                    f"{self.directory} {why}; rerun with --restart (resume=False) to discard it, "
                    f"delete it (rm -r {str(self.directory)!r}), or choose another output"
                )
        elif any(self._part_files()):
            raise SweepResumeError(
                f"{self.directory} holds partial results but no plan.json; rerun with --restart "
                f"(resume=False) to discard them, or delete it (rm -r {str(self.directory)!r})"
            )
        for stale in self.directory.glob(".*.tmp"):
            stale.unlink(missing_ok=True)

    def write_plan(self) -> None:
        plan_file = self.directory / "plan.json"
        if not plan_file.exists():
            record = {
                "format": _PARTS_FORMAT,
                "fingerprint": self.fingerprint,
                "dnpsim_version": dnpsim.__version__,
                "spec": self.spec,
            }
            write_bytes(plan_file, json.dumps(record, indent=1, default=str).encode())

    def _part_files(self) -> Iterator[tuple[Path, int, int]]:
        for path in self.directory.iterdir():
            match = _PART_NAME.match(path.name)
            if match:
                yield path, int(match[1]), int(match[2])

    def path(self, group: int, realization: int) -> Path:
        return self.directory / f"g{group:06d}_r{realization:06d}.npz"

    def load_finished(self, tasks: set[tuple[int, int]]) -> tuple[dict, list[str]]:
        """Read every part of ``tasks`` on disk.  Returns ``({(group, realization):
        records}, [description of each damaged part])``; damaged parts are deleted, so
        their tasks run again."""
        records, damaged = {}, []
        for path, g, r in sorted(self._part_files()):
            if (g, r) not in tasks:
                continue
            try:
                records[(g, r)] = _read_part(path, g, r)
            except _DamagedPart as exc:
                damaged.append(f"{path.name} ({exc})")
                path.unlink(missing_ok=True)
        return records, damaged

    def write(self, group: int, realization: int, seed: int, records: list[dict]) -> None:
        write_bytes(self.path(group, realization), _encode_part(group, realization, seed, records))

    def remove(self) -> None:
        """Delete the directory once the result is written: parts first, the plan
        last, so a run killed halfway through still finds a resumable directory."""
        for path, _, _ in list(self._part_files()):
            path.unlink(missing_ok=True)
        self._clear()
        self.unlock()
        for name in ("owner.json", "lock"):
            (self.directory / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.directory.rmdir()

    def _clear(self) -> None:
        # everything but the lock, which we hold
        for path in self.directory.iterdir():
            if path.name == "lock":
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.name != "owner.json" or self._lock is None:
                path.unlink(missing_ok=True)


class _DamagedPart(Exception):
    """A part file that cannot be read back exactly (truncated, corrupted, foreign)."""


def _encode_part(group: int, realization: int, seed: int, records: list[dict]) -> bytes:
    """One task's records as npz bytes: one flat array per dtype (``d0, d1, ...``) and a
    JSON ``header`` (uint8) saying where each value sits (dtype member, offset, shape),
    with the task's group, realization and seed.  Few members keep writing cheap."""
    chunks: dict[str, list[np.ndarray]] = {}
    sizes: dict[str, int] = {}
    layout = []
    for record in records:
        where = {}
        for name, array in record["values"].items():
            array = np.asarray(array)
            dtype = array.dtype.str
            offset = sizes.get(dtype, 0)
            chunks.setdefault(dtype, []).append(array.ravel())
            sizes[dtype] = offset + array.size
            where[name] = [dtype, offset, list(array.shape)]
        layout.append({"values": where, "dims": {k: list(v) for k, v in record["dims"].items()}})
    members = {f"d{i}": np.concatenate(parts) for i, parts in enumerate(chunks.values())}
    header = {"format": _PARTS_FORMAT, "group": group, "realization": realization, "seed": str(seed),
              "members": {dtype: f"d{i}" for i, dtype in enumerate(chunks)}, "records": layout}
    buffer = io.BytesIO()
    np.savez(buffer, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **members)
    return buffer.getvalue()


def _read_part(path: Path, group: int, realization: int) -> list[dict]:
    """Records of one part file; raises :class:`_DamagedPart` if it is not exactly
    what :func:`_encode_part` wrote for this task."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(archive["header"].tobytes())
            if header.get("format") != _PARTS_FORMAT or header.get("group") != group \
                    or header.get("realization") != realization:
                raise _DamagedPart("it holds another task")
            flat = {dtype: archive[member] for dtype, member in header["members"].items()}
            records = []
            for record in header["records"]:
                values = {}
                for name, (dtype, offset, shape) in record["values"].items():
                    size = int(np.prod(shape, dtype=np.int64))
                    chunk = flat[dtype][offset:offset + size]
                    if chunk.size != size or chunk.dtype.str != dtype:
                        raise _DamagedPart(f"{name} is cut short")
                    values[name] = chunk.reshape(shape).copy()
                records.append({"values": values, "dims": {name: tuple(d) for name, d in record["dims"].items()}})
            return records
    except _DamagedPart:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError, zipfile.BadZipFile) as exc:
        raise _DamagedPart(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None


# -------------------------------------------------------------------------- assembly


def _json_safe_int(value: int) -> int | str:
    # NetCDF attributes are at most 64-bit signed integers.
    return int(value) if value < 2**63 else str(value)


def _key_units(key: str) -> dict:
    """Units of a swept spec key's values (Hz for frequencies, s, K, T, mol/m^3), where
    known: the one table of swept-key units (also used by ``dnpsim optimize``)."""
    from dnpsim.units import QUANTITIES

    last = key.rsplit(".", 1)[-1]
    if last in QUANTITIES:
        return {"units": QUANTITIES[last].unit}
    if last in ("t1e", "t2e", "t1n", "t2n", "t1", "t_star", "t_zero"):
        return {"units": "s"}
    if last in ("scale", "half_width", "width", "larmor", "electron_larmor", "hopping", "hyperfine"):
        return {"units": "Hz"}
    if last == "concentration":
        return {"units": "mol / m**3"}  # numerically mM
    if last in ("n_electrons", "L", "n", "realizations", "trajectories"):
        return {"units": "1"}
    return {}


def _quantity_attrs(name: str) -> dict:
    """CF-style attributes of a result variable: ``units`` ("1" when dimensionless),
    ``long_name`` and ``description`` from :data:`dnpsim.units.QUANTITIES`."""
    from dnpsim.units import QUANTITIES

    quantity = QUANTITIES.get(name)
    if quantity is None:
        return {}
    return {"units": quantity.unit, "long_name": quantity.description, "description": quantity.description}


def assemble_dataset(plan: SweepPlan, records: Mapping[tuple[int, int], list[dict]], spec: Mapping[str, Any]):
    """Build the sweep's :class:`xarray.Dataset` from the records of all tasks.

    Parameters
    ----------
    plan:
        The parsed sweep.
    records:
        ``{(group, realization): [record per variant]}`` as made by ``_run_task``
        (``{"values": {name: array}, "dims": {name: names}}``).
    spec:
        The spec to store as JSON in the attributes (:func:`run_sweep` gives the
        completed spec, :func:`dnpsim.spec.complete_spec`).

    Returns
    -------
    xarray.Dataset
        Dimensions ``(*plan.dims, "realization", *extra)``.  Coordinates: the swept
        values (attribute ``spec_key``), ``realization = 0..R-1`` and
        ``realization_seed(realization)`` (uint64, the seed each realization's engine
        call got).  One variable per numeric result.  A result whose extra dimensions
        change size across the grid (e.g. ``electron`` when ``model.n_electrons`` is
        swept), or that is missing at some points, is padded with NaN (and so becomes
        float).  Attributes: ``spec`` (JSON), ``dnpsim_version``, ``git_revision``,
        ``root_seed``, ``realizations``, ``seeding``.
    """
    import xarray as xr

    groups = plan.groups()
    R = plan.realizations
    lead_dims = plan.dims + (REALIZATION_DIM,)

    # Pass 1: names in first-seen order, their extra dims, the size of each extra dim.
    dims_of: dict[str, tuple[str, ...]] = {}
    extent: dict[str, int] = {}
    entries: dict[str, list[tuple[tuple[int, ...], np.ndarray]]] = {}
    for group in groups:
        for r in range(R):
            task_records = records[(group.index, r)]
            if len(task_records) != len(group.points):
                raise ValueError(
                    f"task ({group.index}, {r}) has {len(task_records)} results for {len(group.points)} points"
                )
            for point, record in zip(group.points, task_records):
                for name, array in record["values"].items():
                    names = tuple(record["dims"][name])
                    if dims_of.setdefault(name, names) != names:
                        raise ValueError(
                            f"result {name!r} has dims {names} at one point and {dims_of[name]} at another"
                        )
                    for dim, n in zip(names, array.shape):
                        extent[dim] = max(extent.get(dim, 0), n)
                    entries.setdefault(name, []).append((point + (r,), array))

    reserved = set(lead_dims) | {REALIZATION_SEED}
    for name, names in dims_of.items():
        if name in reserved or name in extent:
            raise ValueError(
                f"result {name!r} has the name of a dimension; rename the sweep dimension with [sweep] dims"
            )
        clash = reserved.intersection(names)
        if clash:
            raise ValueError(
                f"result {name!r} has extra dimension(s) {sorted(clash)} named like sweep dimensions; "
                "rename the sweep dimension with [sweep] dims"
            )

    # Pass 2: fill one array per result.
    n_entries = plan.size * R
    data_vars = {}
    for name, names in dims_of.items():
        extra_shape = tuple(extent[d] for d in names)
        arrays = entries[name]
        dtype = functools.reduce(np.promote_types, (a.dtype for _, a in arrays))
        complete = len(arrays) == n_entries and all(a.shape == extra_shape for _, a in arrays)
        shape = plan.shape + (R,) + extra_shape
        if complete:
            data = np.empty(shape, dtype=dtype)
        else:
            data = np.full(shape, np.nan, dtype=np.promote_types(dtype, np.float64))
        for where, array in arrays:
            data[where + tuple(slice(0, n) for n in array.shape)] = array
        data_vars[name] = (lead_dims + names, data, _quantity_attrs(name))

    coords = {axis.dim: (axis.dim, axis.coordinate(),
                         {"spec_key": axis.key, "long_name": f"swept spec key {axis.key}", **_key_units(axis.key)})
              for axis in plan.axes}
    coords[REALIZATION_DIM] = (REALIZATION_DIM, np.arange(R),
                               {"units": "1", "long_name": "index of the disorder realization"})
    coords[REALIZATION_SEED] = (
        REALIZATION_DIM,
        np.asarray(plan.realization_seeds(), dtype=np.uint64),
        {"units": "1", "long_name": "seed given to the engine for this realization, at every grid point",
         "description": "seed given to the engine for this realization, at every grid point"},
    )
    attrs = {
        "spec": json.dumps(spec, default=str),
        "dnpsim_version": dnpsim.__version__,
        "git_revision": git_revision(),
        "root_seed": _json_safe_int(plan.seed),
        "realizations": R,
        "seeding": (
            "realization r uses numpy.random.SeedSequence(root_seed).spawn(realizations)[r] at every "
            "grid point; realization_seed is its first uint64 state word"
        ),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


# ------------------------------------------------------------------------ provenance


# ------------------------------------------------------------------------------- run


def _check_output(output: Path) -> None:
    if output.suffix != ".nc":
        raise SpecError("output", f"{str(output)!r} must end with .nc")
    if not output.parent.is_dir():
        raise SpecError("output", f"directory {str(output.parent)!r} does not exist")
    if output.is_dir():
        raise SpecError("output", f"{str(output)!r} is a directory")


def _check_netcdf_writer() -> None:
    # Fail before hours of work, not when writing the result.
    try:
        import h5netcdf  # noqa: F401
        import h5py  # noqa: F401
        import xarray  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"writing the sweep's NetCDF file needs xarray, h5netcdf and h5py ({exc})") from exc


def _describe_task(plan: SweepPlan, group: SweepGroup, realization: int, seed: int) -> str:
    """Where a task sits in the grid, for messages: the model-changing values, the
    range of the model-reusing ones, the realization and its seed."""
    parts = [f"{key} = {shown(value)}" for key, value in group.overrides.items()]
    if len(group.variants) > 1:
        reused = [axis.key for axis in plan.axes if axis.key in group.variants[0]]
        parts.append(f"all {len(group.variants)} points of {', '.join(reused)}")
    elif group.variants[0]:
        parts.extend(f"{key} = {shown(value)}" for key, value in group.variants[0].items())
    where = f"sweep point {', '.join(parts)}, " if parts else ""
    return f"{where}realization {realization} (seed {seed})"


def _resume_hint(store: Any, n_done: int, n_tasks: int) -> str:
    if not isinstance(store, _PartStore):
        return "the sweep ran in memory, so nothing is kept"
    return (f"{n_done} of {n_tasks} tasks are finished and kept in {store.directory}; "
            "run the same command again to compute only the missing ones")


#: Grids with more points than this are validated value by value and at the corners
#: (see :func:`_points_to_validate`) instead of point by point.
MAX_POINTS_VALIDATED_EACH = 20_000
#: At most this many tasks (one part file each).
MAX_TASKS = 1_000_000
#: Lower bound of the numbers one result (grid point x realization) stores.
MIN_VALUES_PER_RESULT = 16


def _points_to_validate(plan: SweepPlan) -> Iterator[tuple[tuple[int, ...], dict]]:
    """Grid points whose specs are validated before any work.

    Every point when the grid has at most :data:`MAX_POINTS_VALIDATED_EACH`.  A larger
    grid: every value of every axis (the others at their first value) and every corner
    of the grid (first/last value of each axis, at most 2^12 corners).  Per-key checks
    see each value; checks between keys (T2 <= 2 T1, ...) are monotonic in each key, so
    a violation inside the box shows at a corner.  A point that still fails names
    itself when its task runs.
    """
    if plan.size <= MAX_POINTS_VALIDATED_EACH:
        for index in plan.indices():
            yield index, _apply(plan.base, plan.given_overrides(index))
        return
    seen = set()
    first = tuple(0 for _ in plan.axes)
    candidates = []
    for a, axis in enumerate(plan.axes):
        for i in range(axis.size):
            candidates.append(first[:a] + (i,) + first[a + 1:])
    ends = [sorted({0, axis.size - 1}) for axis in plan.axes]
    candidates.extend(itertools.islice(itertools.product(*ends), 4096))
    for index in candidates:
        if index not in seen:
            seen.add(index)
            yield index, _apply(plan.base, plan.given_overrides(index))


def _check_size(plan: SweepPlan) -> None:
    """Refuse a sweep that cannot fit before anything runs: too many tasks (part
    files), or results that would not fit in the available memory."""
    import psutil

    n_tasks = len(plan.groups()) * plan.realizations
    if n_tasks > MAX_TASKS:
        field = "sweep.realizations" if plan.realizations > len(plan.groups()) else f"sweep.{plan.axes[0].key}"
        raise SpecError(field, f"the sweep would run {n_tasks:.3g} tasks ({len(plan.groups())} model(s) x "
                        f"{plan.realizations} realization(s)); at most {MAX_TASKS:g}: split it into several sweeps")
    n_results = plan.size * plan.realizations
    estimate = n_results * MIN_VALUES_PER_RESULT * 8 * 2  # the records and the assembled Dataset
    available = psutil.virtual_memory().available
    if estimate > available:
        largest = max(plan.axes, key=lambda axis: axis.size, default=None)
        field = ("sweep.realizations" if largest is None or plan.realizations >= largest.size
                 else f"sweep.{largest.key}")
        raise SpecError(field, f"the sweep's {n_results:.3g} results need at least {estimate / 2**30:.1f} GiB "
                        f"of memory, {available / 2**30:.1f} GiB are available: split it into several sweeps")


def _task_failed(plan, groups, task, seeds, exc, store, n_done, n_tasks) -> SweepTaskError:
    g, r = task
    where = _describe_task(plan, groups[g], r, seeds[r])
    if isinstance(exc, cf_process.BrokenProcessPool):
        what = ("a worker process died (killed by a signal, e.g. by the out-of-memory killer or a job "
                "manager, or, for a sweep started from a Python script with executor='processes', the script "
                "lacks an `if __name__ == \"__main__\":` guard, so every worker imports it again and exits) "
                f"while the sweep ran; one of the lost tasks is {where}")
    else:
        what = f"the task at {where} failed: {type(exc).__name__}: {exc}"
    return SweepTaskError(f"{what}. {_resume_hint(store, n_done, n_tasks)}")


def run_sweep(
    spec: Mapping[str, Any] | str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    compute: Compute | None = None,
    validate: Validate | None = None,
    executor: str | Executor = "serial",
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    resume: bool = True,
):
    """Run a sweep and return its Dataset; with ``output``, also write it to a NetCDF
    file (``dnpsim sweep SPEC --output RESULT.nc``; the public entry is
    :func:`dnpsim.sweep`).

    Parameters
    ----------
    spec:
        The spec (a mapping, or a path given to :func:`dnpsim.spec.load_spec`) with a
        ``[sweep]`` table (:func:`parse_sweep`).
    output:
        None: compute in memory, write nothing.  Else the path of the result, ending in
        ``.nc``, in an existing directory; overwritten.  Finished tasks are kept in
        ``<output>.parts/`` until it is written, so an interrupted sweep resumes; the
        directory is locked while the sweep runs, so a second sweep to the same output
        is refused (:class:`SweepLockedError`).
    compute:
        ``compute(spec, variants, seed) -> list[Result | dict]``: computes one group for
        one realization: ``spec`` is the group's spec (no sweep section), ``variants`` a
        list of ``{dotted_key: value}`` overrides (one per grid point, keys that reuse
        the model), ``seed`` the realization's integer seed.  It returns one
        :class:`~dnpsim.result.Result` per variant, or a dict: names -> float/int/bool or
        arrays, plus optionally ``"dims": {name: (dim, ...)}`` (``"spec"`` and
        non-numeric entries are dropped).  Must be picklable (module level) for the
        process and dask executors.  Default :func:`dnpsim.api.run_points`.
    validate:
        ``validate(point_spec)`` raising :class:`SpecError`; called before any work and
        before anything is written, for every grid point (grids larger than
        :data:`MAX_POINTS_VALIDATED_EACH`: every value and every corner, see
        :func:`_points_to_validate`).  Default :func:`dnpsim.spec.validate_spec`.
    executor:
        ``"serial"``, ``"processes"``, ``"dask"`` (see
        :func:`dnpsim.experiments.executors.make_executor`), or an executor instance
        (used as is and not closed here).
    workers, address:
        Passed to :func:`make_executor` (only with an executor name); checked before
        anything is written.
    progress:
        Show a tqdm progress bar over tasks.
    resume:
        Reuse the parts of an earlier, interrupted run of the same spec; with False,
        existing parts are deleted first.

    Returns
    -------
    xarray.Dataset
        See :func:`assemble_dataset`; the same data as the file.

    Raises
    ------
    SpecError
        Invalid sweep table, output path, executor option (``executor``, ``workers``,
        ``address``), grid point, or a sweep too large to fit (nothing is written).
    SweepResumeError
        ``<output>.parts`` belongs to another spec.
    SweepLockedError
        Another sweep is writing the same output.
    SweepTaskError
        A task failed or its worker process died; names the grid point and realization.
        With an output, finished tasks (also those that were still running when the
        failure came) stay on disk and the same call resumes from them.
    SweepInterrupted
        Ctrl-C (a :class:`KeyboardInterrupt`): tasks not started are dropped, the running
        ones finish and are kept (a second Ctrl-C abandons them), and the same call
        resumes.
    """
    from dnpsim import api
    from dnpsim import spec as spec_module
    from dnpsim.experiments.executors import check_executor_options

    owned = isinstance(executor, str)
    if owned:
        check_executor_options(executor, workers, address)
    elif workers is not None or address is not None:
        raise ValueError("workers and address are only used with an executor name, not an executor instance")
    if output is not None:
        output = Path(output)
        _check_output(output)
    if not isinstance(spec, Mapping):
        spec = load_spec(spec)
    plan = parse_sweep(spec)
    _check_size(plan)
    validate = spec_module.validate_spec if validate is None else validate
    compute = api.run_points if compute is None else compute

    for index, point_spec in _points_to_validate(plan):
        try:
            validate(point_spec)
        except Exception as exc:
            if plan.axes:
                exc.add_note(f"at sweep point {plan.overrides(index)}")
            raise
    groups = plan.groups()
    seeds = plan.realization_seeds()
    tasks = [(g.index, r) for g in groups for r in range(plan.realizations)]
    # The dataset stores the completed spec (current key names, every applied default,
    # SI numbers) so that it reruns as it ran; custom validators (figure sweeps) keep theirs.
    stored = spec
    if validate is spec_module.validate_spec:
        stored = spec_module.complete_spec(
            {**spec, "sweep": {**spec["sweep"], "realizations": plan.realizations, "seed": plan.seed}})

    if output is None:
        store: _PartStore | _MemoryStore = _MemoryStore()
        return _run_tasks(plan, stored, tasks, seeds, store, compute, executor, workers, address, progress, None)
    _check_netcdf_writer()
    store = _PartStore(parts_directory(output), spec)
    store.lock()
    try:
        store.check_plan(resume)
        for stale in output.parent.glob(f".{output.name}.*.tmp"):  # a killed final write
            stale.unlink(missing_ok=True)
        return _run_tasks(plan, stored, tasks, seeds, store, compute, executor, workers, address, progress, output)
    finally:
        store.unlock(remove_if_created=True)


def _run_tasks(plan, spec, tasks, seeds, store, compute, executor, workers, address, progress, output):
    """The work of :func:`run_sweep` once everything is checked (and, with an output,
    the parts directory locked)."""
    from tqdm.auto import tqdm

    groups = plan.groups()
    records: dict[tuple[int, int], list[dict]] = {}
    if isinstance(store, _PartStore):
        records, damaged = store.load_finished(set(tasks))
        if damaged:
            warnings.warn(f"{len(damaged)} damaged part file(s) in {store.directory} will be recomputed: "
                          + "; ".join(damaged[:5]) + (" ..." if len(damaged) > 5 else ""), stacklevel=3)
    pending = [task for task in tasks if task not in records]
    if progress:
        grid = " x ".join(f"{axis.size} {axis.dim}" for axis in plan.axes) or "1 point"
        resumed = f"; resuming: {len(records)} done, {len(pending)} to run" if records else ""
        print(f"sweep: {grid} x {plan.realizations} realization(s) = {plan.size * plan.realizations} results "
              f"in {len(tasks)} task(s) of one model each{resumed}", file=sys.stderr, flush=True)

    if pending:
        owned = isinstance(executor, str)
        pool = make_executor(executor, workers, address) if owned else executor  # may refuse the address
        if isinstance(store, _PartStore):
            store.write_plan()
        bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), disable=not progress, unit="task",
                   desc="sweep")
        futures: dict[Any, tuple[int, int]] = {}
        abandon = False

        def keep(future) -> None:
            g, r = futures[future]
            task_records = future.result()
            store.write(g, r, seeds[r], task_records)
            records[(g, r)] = task_records
            bar.update()

        try:
            for g, r in pending:
                future = pool.submit(_run_task, compute, plan.group_spec(groups[g]), list(groups[g].variants),
                                     seeds[r])
                futures[future] = (g, r)
            for future in pool.as_completed(list(futures)):
                try:
                    keep(future)
                except Exception as exc:
                    _finish_running(futures, records, keep)
                    failure = _task_failed(plan, groups, futures[future], seeds, exc, store, len(records),
                                           len(tasks))
                    raise failure from exc
        except KeyboardInterrupt:
            running = _cancel_pending(futures, records)
            if running and isinstance(store, _PartStore):
                bar.clear()
                print(f"dnpsim: interrupted; waiting for the {running} task(s) already handed to workers to finish, and saving them "
                      "(press Ctrl-C again to abandon them)", file=sys.stderr, flush=True)
                try:
                    _finish_running(futures, records, keep)
                except KeyboardInterrupt:
                    abandon = True
            raise SweepInterrupted(_resume_hint(store, len(records), len(tasks))) from None
        finally:
            bar.close()
            if owned:
                pool.close(cancel_running=abandon)

    dataset = assemble_dataset(plan, records, spec)
    if output is not None:
        write_netcdf(dataset, output)
        store.remove()
    return dataset


def _cancel_pending(futures: Mapping[Any, tuple[int, int]], records: Mapping) -> int:
    """Cancel the tasks not started yet; return how many are still running."""
    running = 0
    for future, task in futures.items():
        if task in records:
            continue
        future.cancel()  # a no-op for tasks already running or done
        if not future.cancelled():
            running += 1
    return running


def _finish_running(futures: Mapping[Any, tuple[int, int]], records: Mapping, keep: Callable) -> None:
    """After a failure or an interrupt: cancel what has not started, wait for the
    running tasks and keep the ones that succeed, so that a rerun skips them."""
    _cancel_pending(futures, records)
    for future, task in futures.items():
        if task in records or future.cancelled():
            continue
        try:
            # Ask for the exception first: a broken pool hands the same exception object to
            # every lost future, and re-raising it each time would grow its traceback by
            # one frame chain per future.
            if future.exception() is not None:
                continue  # the failed task itself, or one lost with it: nothing to keep
            keep(future)
        except Exception:  # cancelled meanwhile, or the part could not be written
            continue


class _MemoryStore:
    """The finished tasks of an in-memory sweep (same interface as :class:`_PartStore`)."""

    def __init__(self):
        self.records: dict[tuple[int, int], list[dict]] = {}

    def finished(self) -> set[tuple[int, int]]:
        return set(self.records)

    def write(self, group: int, realization: int, seed: int, records: list[dict]) -> None:
        self.records[(group, realization)] = records

    def read(self, group: int, realization: int) -> list[dict]:
        return self.records[(group, realization)]
