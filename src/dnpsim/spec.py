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
complete_spec(spec) -> dict                the spec with every default written out, in SI
with_current_names(spec, read)             read(spec under the current key names)
canonical_spec(spec) -> dict               the spec with the current key names (KEY_ALIASES)
reuses_model(dotted_key, spec=None) -> bool  whether changing the key keeps the model
get_dotted(spec, key), set_dotted(spec, key, value)

Key names
---------
A key means the same thing in every kind that reads it, and has one name and one
place.  Keys renamed to that end are listed in :data:`KEY_ALIASES` (old -> new): the
old name is still read, with a :class:`FutureWarning` naming old -> new, and errors
about a key given under its old name name the old key; giving both is a
:class:`~dnpsim.errors.SpecError` naming the old key.  The kinds only ever see the
new names (:func:`canonical_spec` runs first), and resolved specs write them.

Resolved specs
--------------
``resolve_spec(spec).resolved_spec()`` is what a run stores (``Result.to_dict()["spec"]``):
the ``model``, ``environment`` and ``method`` tables of one realization with the
current key names, every default that was applied written out (relaxation times,
``method.kind`` and every option, the seed), every quantity a number in SI units (Hz,
s, K, m; never a string with a unit) and every drawn array written out.  It is itself
a valid spec, and running it gives the same numbers, bit for bit.
``resolved_spec(drawn=False)`` keeps the distribution tables instead of their draws
(a description of every realization); :func:`complete_spec` is that for a whole spec,
``[sweep]`` included: what a sweep stores.

Adding a model kind
-------------------
Write a module ``dnpsim.specs.<kind>`` (field readers in :mod:`dnpsim.specs.readers`)
and register it in :data:`MODEL_KINDS`.  It provides ``resolve(spec, seed) -> setup``
(validate every section, draw the disorder with ``numpy.random.default_rng(seed or
model.seed)``; cheap) and ``reuses_model(dotted_key) -> bool``.  The setup provides
``method`` (a :mod:`dnpsim.methods` object), ``resolved_spec(drawn=True)`` (the
``model``, ``environment``, ``method`` tables as described under "Resolved specs")
and ``drawn_arrays()`` (``{name: (dims, array)}``, what a sweep stores per realization);
the engine that runs it is registered in :data:`dnpsim.api.RUNNERS`.
"""

from __future__ import annotations

import copy
import importlib
import json
import tomllib
import warnings
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


# --------------------------------------------------------------------------- key names
#: Renamed spec keys, old dotted key -> the key every kind reads now (see "Key names"
#: in the module docstring).  A key below a renamed table moves with it
#: (``model.nucleus.hyperfine`` -> ``model.nuclei.hyperfine``); applied in this order,
#: so ``model.nucleus.t1n`` reaches ``environment.t1n``.  The same table serves every
#: kind; the spec reference lists it (docs/hooks/reference.py).
KEY_ALIASES: dict[str, str] = {
    # the nuclear spins of a model: one thermometer nucleus (2016), a nuclear bath
    # (2018) or N explicit nuclei (cross effect); larmor, hyperfine in each
    "model.nucleus": "model.nuclei",
    # omega_e / 2pi is a property of the sample in its field, as in the other kinds
    "environment.electron_larmor": "model.electron_larmor",
    # relaxation times are set by the bath, next to t1e and t2e (as in the cross effect)
    "model.nuclei.t1n": "environment.t1n",
    "model.nuclei.t2n": "environment.t2n",
}

_MISSING = object()


def canonical_key(dotted_key: str) -> str:
    """``dotted_key`` under its current name (:data:`KEY_ALIASES`)."""
    for old, new in KEY_ALIASES.items():
        if dotted_key == old or dotted_key.startswith(old + "."):
            dotted_key = new + dotted_key[len(old):]
    return dotted_key


def _popped(spec: dict, key: str) -> dict:
    """``spec`` without ``key``; the tables on its path are copied, nothing else."""
    parts = key.split(".")
    out = dict(spec)
    node = out
    for part in parts[:-1]:
        node[part] = dict(node[part])
        node = node[part]
    del node[parts[-1]]
    return out


def _placed(spec: dict, key: str, value: Any) -> dict | None:
    """``spec`` with ``key`` set to ``value`` (tables on the path copied or created), or
    None when a value on the path is not a table (the kind reports that one)."""
    parts = key.split(".")
    out = dict(spec)
    node = out
    for part in parts[:-1]:
        child = node.get(part, {})
        if not isinstance(child, dict):
            return None
        node[part] = dict(child)
        node = node[part]
    node[parts[-1]] = value
    return out


def _renamed_keys(spec: Any, warn: bool = True, stacklevel: int = 4) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """(``spec`` with the current key names, the (old, new) renames applied); the
    warnings point ``stacklevel`` frames up (the caller of the public function)."""
    if not isinstance(spec, dict):
        return spec, ()
    renamed = []
    for old, new in KEY_ALIASES.items():
        value = get_dotted(spec, old, _MISSING)
        if value is _MISSING:
            continue
        if get_dotted(spec, new, _MISSING) is not _MISSING:
            raise SpecError(_as_given(old, tuple(renamed)), f"is the old name of {new}, which the spec gives "
                            f"too; keep only {new}")
        moved = _placed(_popped(spec, old), new, value)
        if moved is None:
            continue
        spec = moved
        renamed.append((old, new))
        if warn:
            warnings.warn(f"deprecated spec key '{old}' -> '{new}': write '{new}' (the old name is still read, "
                          "for now)", FutureWarning, stacklevel=stacklevel)
    return spec, tuple(renamed)


def canonical_spec(spec: dict, *, warn: bool = True) -> dict:
    """``spec`` with every old key name of :data:`KEY_ALIASES` replaced by the current
    one (a :class:`FutureWarning` per old key unless ``warn`` is False;
    :class:`SpecError` naming the old key if the spec gives both).  ``spec`` itself is
    not modified; tables are shared with it unless a key moves through them."""
    return _renamed_keys(spec, warn, stacklevel=3)[0]


def _as_given(field: str, renamed: tuple[tuple[str, str], ...]) -> str:
    """The key the user wrote for ``field`` of the renamed spec (errors name it)."""
    for old, new in reversed(renamed):
        if field == new or field.startswith((new + ".", new + "[")):
            field = old + field[len(new):]
    return field


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
    returns the kind's setup object (``setup.resolved_spec()``: module docstring).
    Old key names are read (:data:`KEY_ALIASES`, a :class:`FutureWarning` each).
    Raises :class:`SpecError` naming the first offending field (as the spec wrote
    it).  Nothing heavy is computed."""
    module = _kind_module(spec)
    return with_current_names(spec, lambda current: module.resolve(current, seed))


def with_current_names(spec: dict, read):
    """``read(spec with the current key names)`` (:data:`KEY_ALIASES`, a
    :class:`FutureWarning` per old name); a :class:`SpecError` it raises names the
    key as ``spec`` wrote it."""
    current, renamed = _renamed_keys(spec)
    if not renamed:
        return read(current)
    try:
        return read(current)
    except SpecError as exc:
        field = _as_given(exc.field, renamed)
        if field == exc.field:
            raise
        raise type(exc)(field, exc.message) from None


def validate_spec(spec: dict) -> None:
    """Raise :class:`SpecError` (naming the field) if ``spec`` cannot run; cheap."""
    resolve_spec(spec)


def complete_spec(spec: str | Path | Mapping) -> dict:
    """The spec as it runs: the current key names (:data:`KEY_ALIASES`), every default
    that applies written out, every quantity a number in SI units (Hz, s, K, m; no
    string with a unit), and the disorder left as its distribution tables (not drawn:
    the spec describes every realization).  Other sections are kept (``title``,
    ``description``); a ``[sweep]`` table with its entries as dotted keys under their
    current names and its values in SI units.  (A sweep over ``method.kind`` keeps the
    ``[method]`` and ``[environment]`` tables as given, in SI units: their defaults
    differ between its methods.)  Running the completed spec gives the same numbers as
    ``spec``.

    This is what a sweep stores (its realizations draw their own disorder); one run
    stores the resolved spec of its realization, drawn arrays written out
    (``resolve_spec(spec).resolved_spec()``).  Raises :class:`SpecError` for a spec
    that does not validate."""
    spec = load_spec(spec)
    sweep = spec.get("sweep")
    base = {k: v for k, v in spec.items() if k != "sweep"}
    model = base.get("model") if isinstance(base.get("model"), dict) else {}
    try:
        setup = resolve_spec(base)
    except SpecError:
        if not isinstance(sweep, dict):
            raise
        point = base  # the base may leave a required key to the sweep: its first value
        for key, raw in _sweep_entries(sweep):
            first = raw[0] if isinstance(raw, list) and raw else raw.get("start") if isinstance(raw, dict) else None
            if first is not None:
                point = set_dotted(point, key, first)
        setup = resolve_spec(point)
    out = {k: copy.deepcopy(v) for k, v in spec.items() if k not in ("model", "environment", "method", "sweep")}
    out.update(setup.resolved_spec(drawn=False))
    if "seed" not in model:
        out["model"].pop("seed", None)
    if isinstance(sweep, dict):
        out["sweep"] = _complete_sweep(sweep)
        _keep_swept_mw_strength(out, canonical_spec(base).get("environment"))
        if "method.kind" in out["sweep"]:  # the defaults differ between the swept methods: as given, in SI
            current = canonical_spec(base)
            out["method"] = _si(current.get("method", {}))
            out["environment"] = _si(current["environment"])
    return out


_SWEEP_RESERVED = ("realizations", "seed", "dims")


def _keep_swept_mw_strength(completed: dict, environment: Any) -> None:
    """A sweep over a microwave-strength key (``environment.mw_amplitude``, ``mw_field``,
    ``mw_power`` or ``mw_conversion_factor``): the completed ``[environment]`` gives
    the strength as the spec did (the keys not swept, in SI), not as the derived
    ``mw_amplitude`` of the first point, which together with the swept key would not
    validate (a spec gives one strength)."""
    from dnpsim.specs.readers import MW_KEYS

    swept = {key.partition(".")[2] for key in completed.get("sweep", {}) if key.startswith("environment.")}
    if not swept & set(MW_KEYS) - {"mw_amplitude"} or not isinstance(completed.get("environment"), dict):
        return  # nothing swept but omega_1 itself, which the derived mw_amplitude is
    given = environment if isinstance(environment, dict) else {}
    kept = {key: _si(given[key]) for key in MW_KEYS if key in given and key not in swept}
    completed["environment"] = {**{k: v for k, v in completed["environment"].items() if k not in MW_KEYS}, **kept}


_GRID = frozenset({"start", "stop", "num"})


def _sweep_entries(table: dict, prefix: str = ""):
    """(dotted key, values) of the swept keys of a ``[sweep]`` table: TOML nests
    unquoted dotted keys; a table is a grid when it names start, stop or num, and a
    nesting level when all its values are tables or lists (as the sweep reads it)."""
    for key, value in table.items():
        if not prefix and key in _SWEEP_RESERVED:
            continue
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if (isinstance(value, dict) and value and not _GRID & set(value)
                and all(isinstance(v, (dict, list)) for v in value.values())):
            yield from _sweep_entries(value, dotted)
        else:
            yield dotted, value


def _si(value: Any) -> Any:
    """``value`` with every string with a unit replaced by its SI number (recursively)."""
    from dnpsim.units import quantity_to_si

    if isinstance(value, list):
        return [_si(v) for v in value]
    if isinstance(value, dict):
        return {k: _si(v) for k, v in value.items()}
    return quantity_to_si(value)


def _complete_sweep(table: dict) -> dict:
    out = {canonical_key(key): _si(values) for key, values in _sweep_entries(table)}
    for key in ("realizations", "seed"):
        if key in table:
            out[key] = table[key]
    if isinstance(table.get("dims"), dict):
        def flat(node, prefix=""):
            for k, v in node.items():
                yield from flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [(f"{prefix}{k}", v)]

        out["dims"] = {canonical_key(k): v for k, v in flat(table["dims"])}
    return out


def reuses_model(dotted_key: str, spec: dict | None = None) -> bool:
    """True when changing ``dotted_key`` leaves the model (Hamiltonian, spectrum,
    matrix elements) unchanged, so grid points that differ only in such keys can be
    computed together (a DNP profile reuses its spectrum across ``mw_frequency``).
    Without ``spec`` (or for a spec that does not resolve to a kind) the answer is
    the one every kind shares: ``environment.*`` keys."""
    dotted_key = canonical_key(dotted_key)
    if spec is not None:
        try:
            return bool(_kind_module(spec).reuses_model(dotted_key))
        except SpecError:
            pass
    return dotted_key.startswith("environment.")
