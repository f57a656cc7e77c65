"""Spec files: reading, dotted keys, and dispatch to the kind that parses them.

A spec is a nested mapping with sections ``model``, ``environment``, ``method`` and,
for sweeps, ``sweep`` (docs: "Spec files").  It is read from TOML (or JSON with the
same keys) and parsed by the module of its ``model.kind`` (:data:`MODEL_KINDS`) into a
*setup*: the validated engine inputs in boundary units (Hz, s, K), with the disorder
drawn.  Parsing is cheap and raises one :class:`~dnpsim.errors.SpecError` naming the
first bad field, before any work starts.  Running a setup is the job of
:mod:`dnpsim.api` (``dnpsim.run``, ``dnpsim.sweep``).

Public functions
----------------
load_spec(path) -> dict
resolve_spec(spec, seed=None) -> setup     validated engine inputs of one realization
validate_spec(spec) -> None                raise SpecError on the first problem
reuses_model(dotted_key, spec=None) -> bool  whether changing the key keeps the model
get_dotted(spec, key), set_dotted(spec, key, value)

Adding a model kind
-------------------
Write a module ``dnpsim.specs.<kind>`` (field readers in :mod:`dnpsim.specs.readers`)
and register it in :data:`MODEL_KINDS`.  It provides ``resolve(spec, seed) -> setup``
(validate every section, draw the disorder with ``numpy.random.default_rng(seed or
model.seed)``; cheap) and ``reuses_model(dotted_key) -> bool``.  The setup provides
``method`` (a :mod:`dnpsim.methods` object), ``resolved_spec()`` (the ``model``,
``environment``, ``method`` tables with every drawn array written out) and
``drawn_arrays()`` (``{name: (dims, array)}``, what a sweep stores per realization);
the engine that runs it is registered in :data:`dnpsim.api.RUNNERS`.
"""

from __future__ import annotations

import copy
import importlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dnpsim.errors import SpecError
from dnpsim.specs.readers import check_keys


def load_spec(spec: str | Path | Mapping) -> dict:
    """A spec as a nested dict: read from a file (TOML, or JSON with the same keys; by
    the suffix ``.json``), or a deep copy of a mapping given directly.  Raises
    :class:`SpecError` for a missing or unparsable file."""
    if isinstance(spec, Mapping):
        return copy.deepcopy(dict(spec))
    if not isinstance(spec, (str, Path)):
        raise SpecError("spec", f"must be a path or a table, got {type(spec).__name__}")
    path = Path(spec)
    if not path.exists():
        raise SpecError("spec", f"file {str(path)!r} does not exist")
    if path.is_dir():
        raise SpecError("spec", f"{str(path)!r} is a directory, not a spec file")
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark is allowed
    except UnicodeDecodeError as exc:
        raise SpecError("spec", f"{str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SpecError("spec", f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SpecError("spec", f"cannot parse {str(path)!r}: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError("spec", f"{str(path)!r} must hold a table of sections, got {type(data).__name__}")
    return data


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
