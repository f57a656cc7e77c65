"""Generated reference pages of the documentation: the spec keys and the command line.

Used as a MkDocs hook (``hooks:`` in ``mkdocs.yml``): :func:`on_files` adds
``reference/spec.md`` and ``reference/cli.md`` to the site at build time, so they are
never stored and cannot drift from the code.  Also a script::

    python docs/hooks/reference.py spec     # print the spec-key reference
    python docs/hooks/reference.py cli      # print the command-line reference

How the spec-key reference is derived
-------------------------------------
Everything comes from the validators themselves, by import and by asking them:

* the engines are :data:`dnpsim.api.RUNNERS` (``model.kind`` x ``method.kind``); a
  *base spec* of each engine is an example spec in ``examples/`` that resolves to it
  (or one of the same model kind with the engine's ``[method]`` table swapped in),
  with the current key names (:func:`dnpsim.spec.canonical_spec`);
* old key names still read are :data:`dnpsim.spec.KEY_ALIASES`, listed per model kind
  for every documented key they lead to;
* the keys of each table are those the validator lists when it refuses an unknown key
  (``check_keys``: "unknown key (allowed here: ...)"), asked on every base spec; the
  parameters of distribution tables likewise (an unknown ``distribution`` name makes
  the validator list the allowed ones, an unknown parameter lists the parameters);
* "read by": a key is read by an engine when its table accepts it there and setting
  it to a valid value (taken from an example) is not refused *naming that key*;
* "required": removing the key from a base spec makes the validator name it;
  "default": the value the resolved spec (``setup.resolved_spec()``) holds when the key
  is left out;
* "unit": which of "1 Hz", "1 s", "1 K" or a plain number the validator accepts (the
  magnitude of the example value, so that range checks pass);
* "accepted values": the validator's own messages for a value of the wrong type, a
  negative number and a negative quantity (``", got ..."`` dropped);
* method options are the fields of the :mod:`dnpsim.methods` dataclasses (type
  annotation, default, description from the class docstring); ``[sweep]`` entries come
  from :mod:`dnpsim.experiments.sweep`; output quantities from
  :data:`dnpsim.units.QUANTITIES`.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import logging
import os
import re
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
if str(ROOT / "src") not in sys.path:  # the docs build from a checkout, installed or not
    sys.path.insert(0, str(ROOT / "src"))

#: The documentation page of each method kind (docs structure, not validator data).
ENGINE_PAGES = {
    "rate_equation": "../engines/spin_temperature.md",
    "nonsecular": "../engines/open_system.md",
    "hilbert": "../engines/open_system.md",
    "free_fermion": "../engines/anderson.md",
    "lindblad": "../engines/cross_effect.md",
    "zeeman_rates": "../engines/cross_effect.md",
    "kmc": "../engines/cross_effect.md",
}
#: Valid values to try for keys that no example spec sets (probe inputs only).
PROBE_VALUES = {
    "environment.irradiated": 0,
    "model.geometry.gamma_nuclear": 2.6752e8,
    "model.geometry.secular_hyperfine": True,
}
PROBE = "__probe__"
_ALLOWED = re.compile(r"allowed here: ([^)]*)\)")
_GOT = re.compile(r",? got .*$", re.S)
_QUOTED = re.compile(r"'([A-Za-z0-9_]+)'")
_UNITS = (("Hz", "Hz"), ("s", "s"), ("K", "K"), ("", "plain number"))


# ----------------------------------------------------------------------------- probing


def _error(spec: dict):
    """(field, message, exception) of the first problem the validator finds, or None."""
    from dnpsim.spec import resolve_spec

    try:
        resolve_spec(spec)
    except Exception as exc:  # noqa: BLE001 - every refusal counts, whatever its class
        return getattr(exc, "field", None), getattr(exc, "message", str(exc)), exc
    return None


def _names(field: str | None, key: str) -> bool:
    """Whether an error about ``field`` is an error about ``key`` (or its table)."""
    if field is None:
        return False
    return (field == key or field.startswith(key + ".") or field.startswith(key + "[")
            or key.startswith(field + "."))


def _with(spec: dict, key: str, value: Any) -> dict:
    from dnpsim.spec import set_dotted

    return set_dotted(spec, key, value)


def _without(spec: dict, key: str) -> dict:
    out = copy.deepcopy(spec)
    node = out
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return out
    node.pop(parts[-1], None)
    return out


def _has(spec: dict, key: str) -> bool:
    from dnpsim.spec import get_dotted

    return get_dotted(spec, key, PROBE) is not PROBE


def _clean(message: str) -> str:
    """A validator message without its ``got ...`` tail, sizes of the probed spec generic."""
    message = _GOT.sub("", message).strip()
    return re.sub(r"\b(\d+)((?: x \1\b)+)", lambda m: " x ".join("N" * (m.group(0).count(" x ") + 1)), message)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _scale(value: Any, unit: str) -> Any:
    """``value`` (a number, or nested lists of numbers) written as strings with ``unit``."""
    if isinstance(value, list):
        return [_scale(v, unit) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value!r} {unit}".strip()
    return value


def _numeric(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_numeric(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclasses.dataclass
class KeyDoc:
    key: str
    read_by: list[str] = dataclasses.field(default_factory=list)
    required: str = ""
    default: str = ""
    unit: str = ""
    accepted: str = ""
    description: str = ""


def engine_bases() -> dict[tuple[str, str], list[dict]]:
    """(model.kind, method.kind) of every registered engine -> the example specs that
    resolve to it (without their ``[sweep]``), its own examples first."""
    from dnpsim.api import RUNNERS
    from dnpsim.spec import canonical_spec, load_spec, resolve_spec

    examples = []
    for path in sorted(EXAMPLES.glob("*.toml")):
        spec = load_spec(path)
        spec.pop("sweep", None)
        try:
            spec = canonical_spec(spec, warn=False)  # an example may still use an old key name
            setup = resolve_spec(spec)
        except Exception:  # noqa: BLE001 - an example that does not resolve is no base
            continue
        examples.append((spec, setup.method.kind))
    bases: dict[tuple[str, str], list[dict]] = {}
    for model_kind, method_kind in RUNNERS:
        own = [s for s, k in examples if s["model"]["kind"] == model_kind and k == method_kind]
        table = copy.deepcopy(own[0].get("method", {"kind": method_kind})) if own else {"kind": method_kind}
        table["kind"] = method_kind
        found = list(own)
        for spec, kind in examples:
            if spec["model"]["kind"] != model_kind or kind == method_kind:
                continue
            swapped = {**copy.deepcopy(spec), "method": copy.deepcopy(table)}
            if _error(swapped) is None:
                found.append(swapped)
        bases[(model_kind, method_kind)] = found
    return bases


def _allowed(spec: dict, table: str) -> list[str] | None:
    """The keys the validator accepts in ``table`` of ``spec`` (None if it does not say)."""
    key = f"{table}.{PROBE}" if table else PROBE
    err = _error(_with(spec, key, 1))
    if err and err[0] == key:
        match = _ALLOWED.search(err[1])
        if match:
            return [k.strip() for k in match.group(1).split(",") if k.strip()]
    return None


def _si(value: Any) -> Any:
    """``value`` with every string that carries a unit converted to its SI number."""
    from dnpsim.units import quantity_to_si

    if isinstance(value, list):
        return [_si(v) for v in value]
    if isinstance(value, dict):
        return {k: _si(v) for k, v in value.items()}
    try:
        return quantity_to_si(value)
    except Exception:  # noqa: BLE001
        return value


def _probe_value(key: str, specs: list[dict]) -> Any:
    from dnpsim.spec import get_dotted, resolve_spec

    for spec in specs:
        if _has(spec, key):
            return _si(get_dotted(spec, key))
    for spec in specs:
        try:
            resolved = resolve_spec(spec).resolved_spec()
        except Exception:  # noqa: BLE001
            continue
        if _has(resolved, key):
            return get_dotted(resolved, key)
    return PROBE_VALUES.get(key, PROBE)


def _distributions(key: str, spec: dict) -> dict[str, list[str]] | None:
    """{distribution name: parameters} when ``key`` takes a distribution table."""
    err = _error(_with(spec, key, {"distribution": PROBE}))
    if not err or err[0] != f"{key}.distribution":
        return None
    names = _QUOTED.findall(_clean(err[1]))
    out = {}
    for name in names:
        err = _error(_with(spec, key, {"distribution": name, PROBE: 1}))
        params = []
        if err and err[0] == f"{key}.{PROBE}":
            match = _ALLOWED.search(err[1])
            if match:
                params = [k.strip() for k in match.group(1).split(",") if k.strip() != "distribution"]
        out[name] = params
    return out


def _unit(key: str, value: Any, spec: dict) -> str:
    """Which unit the validator accepts for ``key``, probed with ``value``'s magnitude."""
    if not _numeric(value):
        return ""
    accepted = []
    for unit, label in _UNITS:
        err = _error(_with(spec, key, _scale(value, unit)))
        if not (err and _names(err[0], key)):
            accepted.append(label)
    return _which(accepted)


def _which(accepted: list[str]) -> str:
    """The unit among those accepted: the one physical unit, else "plain number"."""
    physical = [a for a in accepted if a != "plain number"]
    if len(physical) == 1:
        return physical[0]
    return "plain number" if accepted == ["plain number"] else ""


def _messages(key: str, spec: dict, unit: str) -> str:
    """The validator's messages for a wrong type, a negative number, a negative quantity."""
    probes: list[Any] = [PROBE, -1]
    if unit in ("Hz", "s", "K"):
        probes.append(f"-1 {unit}")
    out: list[str] = []
    for value in probes:
        err = _error(_with(spec, key, value))
        if err and _names(err[0], key):
            text = _clean(err[1])
            if text.startswith("expected a number"):
                continue  # the unit column says it
            if err[0] != key:
                text = f"`{err[0]}`: {text}"
            if text and text not in out:
                out.append(text)
    return "; ".join(out)


def _required(err, key: str) -> str:
    """What removing ``key`` from a valid spec says about it."""
    if not err:
        return "no"
    field, message = err[0], _clean(err[1])
    if _names(field, key):
        if message.startswith("is required"):
            extra = message[len("is required"):].strip()
            if extra.startswith("by "):  # "is required by method 'x'": the column says which
                extra = ""
            if not extra:
                return "yes"
            return f"yes {extra}" if extra.startswith("(") else f"yes ({extra})"
        return "yes"
    return f"see `{field}`: {message}"


def model_kind_keys(model_kind: str, bases: dict[tuple[str, str], list[dict]]) -> list[KeyDoc]:
    """Every key of the ``model`` and ``environment`` tables of one model kind."""
    from dnpsim.spec import get_dotted, resolve_spec

    engines = {method: specs for (kind, method), specs in bases.items() if kind == model_kind and specs}
    all_specs = [s for specs in engines.values() for s in specs]
    # tables and their keys: table -> key -> engines whose table accepts it
    tables: dict[str, dict[str, set[str]]] = {}
    queue, seen = ["model", "environment"], set()
    while queue:
        table = queue.pop(0)
        if table in seen:
            continue
        seen.add(table)
        for method, specs in engines.items():
            for spec in specs:
                keys = _allowed(spec, table)
                if keys is not None:
                    for key in keys:
                        tables.setdefault(table, {}).setdefault(key, set()).add(method)
                    break
        for key in tables.get(table, {}):
            value = _probe_value(f"{table}.{key}", all_specs)
            if isinstance(value, dict) and "distribution" not in value and not set(value) <= {"start", "stop", "num"}:
                queue.append(f"{table}.{key}")
    docs: list[KeyDoc] = []
    for table, keys in tables.items():
        for name in sorted(keys, key=lambda k: (k != "kind", k)):
            dotted = f"{table}.{name}"
            value = _probe_value(dotted, all_specs)
            doc = KeyDoc(dotted)
            required: dict[str, str] = {}
            defaults: set[str] = set()
            for method in engines:
                if method not in keys[name]:
                    continue
                specs = engines[method]
                refused = value is not PROBE and not any(_has(s, dotted) for s in specs) and all(
                    (err := _error(_with(s, dotted, value))) and _names(err[0], dotted) for s in specs)
                if refused:
                    continue
                doc.read_by.append(method)
                base = next((s for s in specs if _has(s, dotted)), specs[0])
                if _has(base, dotted):
                    required[method] = _required(_error(_without(base, dotted)), dotted)
                    if required[method] == "no":  # the default: what the resolved spec holds without it
                        try:
                            resolved = resolve_spec(_without(base, dotted)).resolved_spec()
                        except Exception:  # noqa: BLE001
                            resolved = {}
                        if _has(resolved, dotted) and not isinstance(get_dotted(resolved, dotted), (dict, list)):
                            defaults.add(_fmt(get_dotted(resolved, dotted)))
                else:
                    required[method] = "no"
                if not doc.unit and value is not PROBE:
                    unit_value = value
                    if not _numeric(value):  # a distribution table: probe the drawn values instead
                        try:
                            unit_value = _probe_value(dotted, [resolve_spec(base).resolved_spec()])
                        except Exception:  # noqa: BLE001
                            unit_value = None
                    doc.unit = _unit(dotted, unit_value, base)
                if not doc.accepted:
                    doc.accepted = _messages(dotted, base, doc.unit)
            distinct = list(dict.fromkeys(required.values()))
            doc.required = (distinct[0] if len(distinct) == 1 else
                            "; ".join(f"{m}: {r}" for m, r in required.items()))
            doc.default = ", ".join(sorted(defaults))
            if isinstance(value, bool):
                doc.unit = doc.unit or "boolean"
            docs.append(doc)
            if not isinstance(value, (dict, list)):
                continue
            # distribution tables
            base = next((s for m in doc.read_by for s in engines.get(m, []) if _has(s, dotted)), None)
            dists = _distributions(dotted, base) if base is not None else None
            if not dists:
                continue
            names = ", ".join(f'"{d}"' for d in dists)
            docs.append(KeyDoc(f"{dotted}.distribution", list(doc.read_by), f"when `{name}` is a table",
                               accepted=f"one of {names}"))
            params: dict[str, list[str]] = {}
            for dist, dist_params in dists.items():
                for param in dist_params:
                    params.setdefault(param, []).append(dist)
            for param, owners in sorted(params.items()):
                dist = owners[0]
                example = next((v for v in (_probe_value(dotted, [s]) for s in all_specs)
                                if isinstance(v, dict) and v.get("distribution") == dist), None)
                table_value = dict(example) if example else {"distribution": dist, **{p: 1.0 for p in dists[dist]}}
                spec = _with(base, dotted, table_value)
                sub = f"{dotted}.{param}"
                unit = _unit(sub, table_value.get(param, 1.0), spec)
                required = _required(_error(_without(spec, sub)), sub)
                if required == "yes":
                    required += " (with distribution " + " and ".join(f'"{o}"' for o in owners) + ")"
                docs.append(KeyDoc(sub, list(doc.read_by), required, unit=unit, accepted=_messages(sub, spec, unit)))
    return docs


def old_names(keys: list[str]) -> list[tuple[str, str]]:
    """(old key, key) for every key of ``keys`` that :data:`dnpsim.spec.KEY_ALIASES`
    renamed (a key below a renamed table included), in the order of ``keys``."""
    from dnpsim.spec import KEY_ALIASES

    out = []
    for key in keys:
        for old, new in KEY_ALIASES.items():
            if key == new or key.startswith(new + "."):
                out.append((old + key[len(new):], key))
    return out


# ----------------------------------------------------------------------------- methods


def _option_descriptions(cls) -> dict[str, str]:
    """``name : text`` entries of a method class docstring (numpydoc-like, possibly several
    on one line, separated by "." or ";")."""
    text = " ".join((cls.__doc__ or "").split())
    names = {f.name for f in dataclasses.fields(cls)}
    starts = [m for m in re.finditer(r"(?:^|(?<=[.;:]\s)|(?<=\)\s))([a-z_]+(?:, [a-z_]+)*) : ", text)
              if all(n.strip() in names for n in m.group(1).split(","))]
    out: dict[str, str] = {}
    for i, match in enumerate(starts):
        stop = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[match.end():stop].strip().rstrip(".;").strip()
        for name in match.group(1).split(","):
            out[name.strip()] = body
    return out


def method_options(cls) -> list[KeyDoc]:
    """The options of one method class: the fields of its dataclass."""
    docs = []
    described = _option_descriptions(cls)
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        doc = KeyDoc(f"method.{f.name}", [cls.kind], unit=str(f.type),
                     description=described.get(f.name, ""))
        doc.default = "" if default is None else _fmt(default)
        doc.required = "yes" if default is None and f.name == "times" and cls.kind == "kmc" else "no"
        messages = []
        extra = {"times": [0.0, 1.0]} if f.name != "times" and "times" in {x.name for x in dataclasses.fields(cls)} else {}
        for value in (PROBE, -1):
            try:
                cls(**{f.name: value, **extra})
            except Exception as exc:  # noqa: BLE001
                if _names(getattr(exc, "field", None), f"method.{f.name}"):
                    text = _clean(getattr(exc, "message", str(exc)))
                    if text.startswith("expected a number"):
                        continue  # the type column says it
                    if text not in messages:
                        messages.append(text)
        doc.accepted = "; ".join(messages)
        if "float" in str(f.type):  # which unit the option takes
            accepted = []
            for unit, label in _UNITS:
                value = [f"0 {unit}".strip(), f"1 {unit}".strip()] if f.name == "times" else f"0.5 {unit}".strip()
                try:
                    cls(**{f.name: value, **extra})
                except Exception as exc:  # noqa: BLE001
                    if _names(getattr(exc, "field", None), f"method.{f.name}"):
                        continue
                accepted.append(label)
            if _which(accepted) not in ("", "plain number"):
                doc.unit += f" ({_which(accepted)})"
        docs.append(doc)
    return docs


# ----------------------------------------------------------------------------- markdown


def _cell(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _engines(methods: list[str]) -> str:
    out = []
    for method in methods:
        page = ENGINE_PAGES.get(method)
        out.append(f"[`{method}`]({page})" if page else method)
    return ", ".join(out)


def _table(docs: list[KeyDoc], methods: list[str] | None = None) -> list[str]:
    """A Markdown table of keys; with ``methods`` (the model kind's), a "read by" column
    that says "all" when every one of them reads the key."""
    head = ["key"] + (["read by"] if methods else []) + [
        "required", "default", "unit / type", "accepted values (the validator's words)"]
    described = any(d.description for d in docs)
    if described:
        head.append("description")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for d in docs:
        row = [f"`{d.key}`"]
        if methods:
            row.append("all" if set(d.read_by) == set(methods) and len(methods) > 1 else _engines(d.read_by))
        row += [_cell(d.required), _cell(_code(d.default)), _cell(d.unit), _cell(d.accepted)]
        if described:
            row.append(_cell(d.description))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def spec_reference_markdown() -> str:
    """The spec-key reference page (Markdown)."""
    import dnpsim
    from dnpsim.experiments import sweep as sweep_module
    from dnpsim.methods import METHODS
    from dnpsim.spec import MODEL_KINDS, load_spec
    from dnpsim.units import QUANTITIES, SI_UNITS

    bases = engine_bases()
    out = [
        "---",
        "hide:",
        "  - navigation",  # the tables need the width
        "---",
        "",
        "# Spec keys",
        "",
        "<!-- generated by docs/hooks/reference.py at build time: do not edit -->",
        "",
        f"Every key a spec file accepts (dnpsim {dnpsim.__version__}), **generated when the "
        "documentation is built by asking the validators themselves** "
        "(`dnpsim.spec`, `dnpsim.specs.*`, `dnpsim.methods`, `dnpsim.experiments.sweep`), so "
        "it cannot drift from the code. How each column is obtained is described at the end "
        "of this page.",
        "",
        "Units at the boundary: frequencies are cyclic, in Hz; times in s; temperatures in K. "
        "A number is taken in these units; a string with a unit (`\"93.9 GHz\"`, `\"1 us\"`, "
        "`\"1.2 K\"`) is converted. See [Concepts and conventions](../conventions.md).",
        "",
    ]
    top = None
    for specs in bases.values():
        if specs:
            top = _allowed(specs[0], "")
            break
    if top:
        out += ["## Sections", "", "A spec is a table of these sections (any other top-level key is refused): "
                + ", ".join(f"`{k}`" for k in top) + ".", "",
                "`title` and `description` are free text kept with the results; `model`, "
                "`environment` and `method` are described per model kind below; `sweep` at the end.", "",
                ("A result stores its *resolved* spec (`spec` in the JSON of `dnpsim run`): the keys under "
                 "their current names, every default that was applied written out (the \"default\" "
                 "column below, `method.kind` and every option), every quantity a number in SI units "
                 "and the drawn disorder written out; it is a valid spec that reruns to the same numbers. "
                 "Renamed keys are listed per model kind (\"Old key names\")."), ""]
    for model_kind in MODEL_KINDS:
        methods = [m for (k, m) in bases if k == model_kind]
        examples = []
        for path in sorted(EXAMPLES.glob("*.toml")):
            if load_spec(path).get("model", {}).get("kind") == model_kind:
                examples.append(f"`examples/{path.name}`")
        out += [f'## `model.kind = "{model_kind}"`', "",
                f"Methods: {_engines(methods)}. Examples: {', '.join(examples) or 'none'}.", ""]
        docs = model_kind_keys(model_kind, bases)
        for table in ("model", "environment"):
            rows = [d for d in docs if d.key.split(".")[0] == table]
            if rows:
                out += [f"### `[{table}]`", ""] + _table(rows, methods) + [""]
        renamed = old_names([d.key for d in docs])
        if renamed:
            out += ["### Old key names", "",
                    ("Still read, with a `FutureWarning` naming old -> new; a spec that gives both names "
                     "is refused naming the old one; resolved specs write the new names "
                     "(`dnpsim.spec.KEY_ALIASES`)."), "", "| old key | new key |", "|---|---|"]
            out += [f"| `{old}` | `{new}` |" for old, new in renamed] + [""]
    out += ["## `[method]`", "",
            "`method.kind` picks the method; every other key is an option of that method "
            "(an unknown option is refused). Options are typed and immutable: the same "
            "classes are what Python code passes to an engine (`dnpsim.RateEquation(...)`, ...).", ""]
    for kind, cls in METHODS.items():
        models = ", ".join(f'`{m}`' for m in cls.models)
        out += [f'### `method.kind = "{kind}"`', "",
                f"Class `dnpsim.{cls.__name__}`; model kinds {models}; engine page: {_engines([kind])}.", ""]
        docs = method_options(cls)
        if docs:
            out += _table(docs) + [""]
        else:
            out += ["No options.", ""]
    # sweep
    plan = sweep_module.parse_sweep({"sweep": {}})
    defaults = {"realizations": plan.realizations, "seed": plan.seed, "dims": ""}
    out += ["## `[sweep]`", "",
            "Read by `dnpsim sweep` / `dnpsim.sweep` for every engine. Every entry that is not "
            "one of the reserved keys below is a dotted spec key starting with "
            + ", ".join(f"`{s}`" for s in sweep_module.SECTIONS)
            + " whose value is a non-empty list or a grid table with keys "
            + ", ".join(f"`{k}`" for k in sorted(sweep_module._GRID_KEYS))
            + f" (as `numpy.linspace`; at most {sweep_module.MAX_GRID_NUM:,} values per key). "
            "See [Sweeps and resume](../how-to/sweeps_and_resume.md).", "",
            "| key | default | accepted values (the validator's words) |", "|---|---|---|"]
    for key in sweep_module.RESERVED_KEYS:
        messages = []
        for value in (PROBE, -1):
            try:
                sweep_module.parse_sweep({"sweep": {key: value}})
            except Exception as exc:  # noqa: BLE001
                text = _clean(getattr(exc, "message", str(exc)))
                if text not in messages:
                    messages.append(text)
        out.append(f"| `sweep.{key}` | {_code(_fmt(defaults.get(key)) if defaults.get(key) != '' else '')} "
                   f"| {_cell('; '.join(messages))} |")
    for key in sorted(sweep_module._GRID_KEYS):
        out.append(f"| `sweep.<dotted key>.{key}` |  | grid table entry |")
    out += ["", "Keys that cannot be swept:", ""]
    for key, why in sweep_module.UNSWEPT_KEYS.items():
        out.append(f"* `{key}`: {why}.")
    out += ["", "## Output quantities", "",
            "Every quantity a result holds, with its unit (`dnpsim.units.QUANTITIES`; `1` is a pure "
            "number). The JSON of `dnpsim run` repeats these in its `units` table, NetCDF variables in "
            "their `units` attribute.", "", "| name | unit | what it is |", "|---|---|---|"]
    for name, quantity in QUANTITIES.items():
        out.append(f"| `{name}` | {quantity.unit} | {_cell(quantity.description)} |")
    out += ["", "## How this page is generated", "",
            "* Engines: `dnpsim.api.RUNNERS`; each is probed on the example specs of `examples/` "
            "that resolve to it.",
            "* Keys of a table: the list the validator gives when it refuses an unknown key there; "
            "distribution parameters likewise.",
            "* Read by: the engine's table accepts the key and a valid value is not refused naming it.",
            "* Required / default: the key is removed from a base spec; the validator names it "
            "(required) or the resolved spec holds its default.",
            ("* Old key names: `dnpsim.spec.KEY_ALIASES` (old -> new), for every documented key at or "
             "below a renamed one."),
            "* Unit: which of `Hz`, `s`, `K` or a plain number the validator accepts "
            f"(dimensions known to `dnpsim.units.SI_UNITS`: {', '.join(SI_UNITS)}). Plain numbers that "
            "carry another unit (positions in m, a gyromagnetic ratio in rad s^-1 T^-1) are explained "
            "on the engine pages.",
            "* Accepted values: the validator's messages for a value of the wrong type and for "
            "negative values.",
            "* Methods: the fields of the `dnpsim.methods` dataclasses, with their annotations, "
            "defaults and docstrings.", ""]
    return "\n".join(out)


def cli_reference_markdown() -> str:
    """The command-line reference page (Markdown) from the argument parser itself."""
    import argparse

    from dnpsim import cli

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        parser = cli.build_parser()
        out = ["# Command line", "",
               "<!-- generated by docs/hooks/reference.py at build time: do not edit -->", "",
               "`dnpsim` is installed with the package (`python -m dnpsim` is the same). This page "
               "is generated from the argument parser (`dnpsim.cli.build_parser`) when the "
               "documentation is built.", "", "## Exit codes", ""]
        doc = " ".join((cli.__doc__ or "").split("\n\n", 1)[-1].split())
        doc = doc[len("Exit codes:"):].strip() if doc.startswith("Exit codes:") else doc
        out += [doc[:1].upper() + doc[1:], "", "## `dnpsim --help`", "", "```text", parser.format_help().rstrip(), "```", ""]
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, sub in subparsers.choices.items():
            out += [f"## `dnpsim {name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(out)


# ----------------------------------------------------------------------------- mkdocs hook


class _IndexNotation(logging.Filter):
    """Drop autorefs' "Could not find cross-reference target 'y'" for one-letter targets:
    docstrings write array indices as ``a[x][y][z]``, which Markdown reads as a
    reference link; those are not references, and ``--strict`` must not fail on them."""

    _ONE_LETTER = re.compile(r"Could not find cross-reference target '[a-z]'$")

    def filter(self, record: logging.LogRecord) -> bool:
        return not self._ONE_LETTER.search(record.getMessage())


def on_config(config):
    for name in list(logging.Logger.manager.loggerDict):
        if "autorefs" in name:
            logging.getLogger(name).addFilter(_IndexNotation())
    return config

GENERATED = {"reference/spec.md": spec_reference_markdown, "reference/cli.md": cli_reference_markdown}


def on_files(files, config):
    """Add the generated pages to the site."""
    from mkdocs.structure.files import File

    for path, make in GENERATED.items():
        with redirect_stdout(io.StringIO()):
            content = make()
        files.append(File.generated(config, path, content=content))
    return files


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "spec"
    print({"spec": spec_reference_markdown, "cli": cli_reference_markdown}[which]())
