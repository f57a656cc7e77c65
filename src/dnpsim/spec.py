"""Spec files: the public contract of DESIGN.md ("One run, one file").

A spec is a nested mapping with sections ``model``, ``environment``, ``method`` and,
for sweeps, ``sweep``.  It is read from TOML (or JSON with the same keys), validated
up front (one :class:`SpecError` naming the field, before any work starts) and run by
the module that implements its ``model.kind`` (:data:`MODEL_KINDS`).

Public functions
----------------
load_spec(path) -> dict
validate_spec(spec) -> None            raise SpecError on the first problem
resolve_spec(spec, seed=None) -> setup validated spec of one realization (kind-specific)
run_spec(spec, progress=False) -> dict one point (the ``dnpsim run`` result)
run_group(spec, variants, seed) -> list[dict]
    Several points that share one model (same spectrum): each variant is a mapping
    ``{dotted_key: value}`` of overrides for which :func:`reuses_model` is true.
reuses_model(dotted_key, spec=None) -> bool   whether changing the key keeps the model
read_number, read_positive, read_integer, read_frequencies, read_coupling_matrix,
read_distribution, read_gaussian_scale, check_keys
    field readers for kind modules: each raises SpecError naming the field.

Adding a model kind
-------------------
Write a module ``dnpsim.specs.<kind>`` and register it in :data:`MODEL_KINDS`.  It
provides

``resolve(spec: dict, seed: int | None) -> setup``
    Validate every section the kind reads (unknown keys, types, units, memory), draw
    the disorder with ``numpy.random.default_rng(seed or model.seed)``; cheap.
``reuses_model(dotted_key: str) -> bool``
    Keys that can vary inside one :func:`run_group` call without rebuilding the model.

and the setup object provides

``setup.run(progress: bool) -> dict``
    One point: result keys of DESIGN.md (plain floats / lists), no provenance.
``setup.run_group(variants: list[setup]) -> list[dict]``
    One result per variant setup (same realization, differing in reusable keys); each
    dict has a ``"dims"`` entry mapping array-valued keys to dimension names.
``setup.resolved_spec() -> dict``
    ``model``, ``environment`` and ``method`` tables with every drawn array written
    out, such that running it again gives the same result.
"""

from __future__ import annotations

import copy
import importlib
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from dnpsim.errors import SpecError


def load_spec(path: str | Path) -> dict:
    """Read a spec file (TOML, or JSON with the same keys) into a nested dict."""
    path = Path(path)
    if not path.exists():
        raise SpecError("spec", f"file {str(path)!r} does not exist")
    text = path.read_text()
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SpecError("spec", f"cannot parse {str(path)!r}: {exc}") from None


def get_dotted(spec: dict, key: str, default: Any = None) -> Any:
    """Value at a dotted key (``"model.couplings.scale"``), or ``default``."""
    node: Any = spec
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def set_dotted(spec: dict, key: str, value: Any) -> dict:
    """Return a deep copy of ``spec`` with the dotted ``key`` set to ``value``.

    Intermediate tables are created where missing.  Setting a key below a value that
    is not a table (e.g. ``model.offsets.half_width`` where ``model.offsets`` is an
    explicit list) raises :class:`SpecError`.
    """
    out = copy.deepcopy(spec)
    parts = key.split(".")
    node = out
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise SpecError(".".join(parts[: i + 1]), f"is not a table, cannot set {key!r} inside it")
        node = child
    node[parts[-1]] = value
    return out


# --------------------------------------------------------------------------- kinds
SECTIONS = {"model", "environment", "method", "sweep", "title", "description"}

#: model.kind -> module implementing it (see "Adding a model kind" in the module
#: docstring) or the issue that will.
MODEL_KINDS: dict[str, str] = {
    "dipolar_electrons": "dnpsim.specs.dipolar_electrons",
    "anderson": "dnpsim.specs.anderson",
    "cross_effect": "dnpsim.specs.cross_effect",
}


def _kind_module(spec: Any):
    """The module implementing ``spec['model']['kind']`` (SpecError if none)."""
    if not isinstance(spec, dict):
        raise SpecError("spec", f"must be a table, got {type(spec).__name__}")
    check_keys(spec, SECTIONS, "")
    model = spec.get("model")
    if model is None:
        raise SpecError("model", "section is required")
    if not isinstance(model, dict):
        raise SpecError("model", "must be a table")
    kind = model.get("kind")
    if kind not in MODEL_KINDS:
        raise SpecError("model.kind", f"must be one of {sorted(MODEL_KINDS)}, got {kind!r}")
    target = MODEL_KINDS[kind]
    if not target.startswith("dnpsim."):
        raise SpecError("model.kind", f"{kind!r} is not implemented yet ({target})")
    return importlib.import_module(target)


def check_keys(table: Any, allowed: set[str], where: str) -> dict:
    if not isinstance(table, dict):
        raise SpecError(where, f"must be a table, got {type(table).__name__}")
    for key in table:
        if key not in allowed:
            raise SpecError(f"{where}.{key}" if where else key,
                            f"unknown key (allowed here: {', '.join(sorted(allowed))})")
    return table


def read_number(value: Any, field: str, dimension: str = "dimensionless") -> float:
    from dnpsim.units import parse_quantity

    try:
        out = parse_quantity(value, dimension, field)
    except SpecError as exc:
        raise SpecError(field, exc.message) from None
    if not math.isfinite(out):
        raise SpecError(field, f"must be finite, got {value!r}")
    return out


def read_positive(value: Any, field: str, dimension: str) -> float:
    out = read_number(value, field, dimension)
    if out <= 0.0:
        what = {"time": "a positive time", "temperature": "a positive temperature"}.get(dimension, "positive")
        raise SpecError(field, f"must be {what}, got {value!r}")
    return out


def read_microwave_environment(env: dict, times: dict[str, float | None], required_by: str = "") -> dict:
    """The ``[environment]`` values every engine driven by microwaves shares:
    ``temperature`` (K), ``mw_frequency`` and ``mw_amplitude`` (Hz, amplitude >= 0),
    all required, plus the relaxation ``times`` (s): key -> default, ``None`` meaning
    required.  Unknown keys are the caller's check (:func:`check_keys`)."""
    suffix = f" by {required_by}" if required_by else ""
    for key in ("temperature", "mw_frequency", "mw_amplitude", *(k for k, d in times.items() if d is None)):
        if key not in env:
            raise SpecError(f"environment.{key}", f"is required{suffix}")
    values = {
        "temperature": read_positive(env["temperature"], "environment.temperature", "temperature"),
        "mw_frequency": read_positive(env["mw_frequency"], "environment.mw_frequency", "frequency"),
        "mw_amplitude": read_number(env["mw_amplitude"], "environment.mw_amplitude", "frequency"),
    }
    if values["mw_amplitude"] < 0:
        raise SpecError("environment.mw_amplitude", f"must be non-negative, got {env['mw_amplitude']!r}")
    for key, default in times.items():
        values[key] = read_positive(env.get(key, default), f"environment.{key}", "time")
    return values


def read_model_seed(model: dict, seed: int | None) -> int | None:
    """The seed for a model's draws: ``seed`` (a sweep realization's, which overrides)
    or ``model.seed`` (a non-negative integer), or None when neither is given."""
    if seed is not None:
        if "seed" in model:
            read_integer(model["seed"], "model.seed", 0)  # still validated
        return seed
    return read_integer(model["seed"], "model.seed", 0) if "seed" in model else None


def read_integer(value: Any, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(field, f"must be an integer, got {value!r}")
    if value < minimum:
        raise SpecError(field, f"must be >= {minimum}, got {value}")
    return value


def read_frequencies(value: Any, field: str, n: int | None) -> np.ndarray:
    if not isinstance(value, list):
        raise SpecError(field, f"must be a list of frequencies or a distribution table, got {value!r}")
    out = np.array([read_number(v, f"{field}[{i}]", "frequency") for i, v in enumerate(value)])
    if n is not None and out.size != n:
        raise SpecError(field, f"has {out.size} entries but there are {n} electrons")
    return out


def read_coupling_matrix(value: Any, field: str, n: int) -> np.ndarray:
    if not isinstance(value, list) or len(value) != n or not all(isinstance(r, list) and len(r) == n for r in value):
        raise SpecError(field, f"must be an {n} x {n} nested list (one row per electron)")
    m = np.array([[read_number(v, f"{field}[{i}][{j}]", "frequency") for j, v in enumerate(row)]
                  for i, row in enumerate(value)])
    for i in range(n):
        if m[i, i] != 0.0:
            raise SpecError(f"{field}[{i}][{i}]", f"diagonal must be zero, got {m[i, i]!r}")
        for j in range(i + 1, n):
            if m[i, j] != m[j, i]:
                raise SpecError(f"{field}[{i}][{j}]", f"must be symmetric: {m[i, j]!r} != [{j}][{i}] = {m[j, i]!r}")
    return m


def read_distribution(value: dict, field: str, allowed: dict[str, set[str]]) -> tuple[str, dict]:
    name = value.get("distribution")
    if name not in allowed:
        raise SpecError(f"{field}.distribution", f"must be one of {sorted(allowed)}, got {name!r}")
    check_keys(value, allowed[name] | {"distribution"}, field)
    for key in allowed[name]:
        if key not in value:
            raise SpecError(f"{field}.{key}", f"is required for distribution {name!r}")
    return name, value


def read_gaussian_scale(value: dict, field: str) -> float:
    """The non-negative ``scale`` (Hz) of a ``{distribution = "gaussian", scale}`` table."""
    _, table = read_distribution(value, field, {"gaussian": {"scale"}})
    scale = read_number(table["scale"], f"{field}.scale", "frequency")
    if scale < 0:
        raise SpecError(f"{field}.scale", "must be non-negative")
    return scale


def resolve_spec(spec: dict, seed: int | None = None):
    """Validate ``spec`` and draw its disorder (``seed`` overrides ``model.seed``);
    returns the kind's setup object.  Raises :class:`SpecError` naming the first
    offending field.  Nothing heavy is computed."""
    return _kind_module(spec).resolve(spec, seed)


def validate_spec(spec: dict) -> None:
    """Raise :class:`SpecError` (naming the field) if ``spec`` cannot run; cheap."""
    resolve_spec(spec)


def reuses_model(dotted_key: str, spec: dict | None = None) -> bool:
    """True when changing ``dotted_key`` leaves the model (Hamiltonian, spectrum,
    matrix elements) unchanged, so grid points that differ only in such keys can be
    computed together (a DNP profile reuses its spectrum across ``mw_frequency``).
    Without ``spec`` (or for a spec that does not resolve to a kind) the answer is
    the one every kind shares: ``environment.*`` keys."""
    if spec is not None:
        try:
            return bool(_kind_module(spec).reuses_model(dotted_key))
        except SpecError:
            pass
    return dotted_key.startswith("environment.")


def run_spec(spec: dict, progress: bool = False) -> dict:
    """Run one point (``dnpsim run``) and return the result dictionary: the kind's
    result keys (DESIGN.md; e.g. ``nuclear_polarization``, ``electron_polarization``,
    ``residual``), ``spec`` (resolved, drawn arrays written out), ``dnpsim_version``,
    ``git_revision`` and ``wall_time`` (s)."""
    import time

    from dnpsim import __version__
    from dnpsim.provenance import git_revision

    setup = resolve_spec(spec)
    start = time.perf_counter()
    result = setup.run(progress)
    result.pop("dims", None)
    result["wall_time"] = time.perf_counter() - start
    resolved = copy.deepcopy({k: v for k, v in spec.items() if k != "sweep"})
    resolved.update(setup.resolved_spec())
    result["spec"] = resolved
    result["dnpsim_version"] = __version__
    result["git_revision"] = git_revision()
    return result


def run_group(spec: dict, variants: list[dict[str, Any]], seed=None) -> list[dict]:
    """Several points sharing one model realization (same draw, same spectrum).

    ``variants`` are override mappings ``{dotted_key: value}`` whose keys all satisfy
    :func:`reuses_model`; ``seed`` (int) replaces ``model.seed`` for the draw.  The
    model is built once; returns one result dict per variant, with a ``"dims"`` entry
    (drawn arrays are included so a sweep's file carries them).
    """
    setup = resolve_spec(spec, seed=seed)
    variant_setups = []
    for variant in variants:
        for key in variant:
            if not reuses_model(key, spec):
                raise SpecError(key, "changes the model; it cannot vary inside one group")
        variant_setups.append(resolve_spec(_apply(spec, variant), seed=seed))
    return setup.run_group(variant_setups)


def _apply(spec: dict, variant: dict[str, Any]) -> dict:
    for key, value in variant.items():
        spec = set_dotted(spec, key, value)
    return spec
