"""Measured DNP data in one xarray layout (issue 18).

:func:`load_measurement` reads a profile (enhancement or polarization against the
microwave frequency, the field, the microwave amplitude or B1), a power curve or a
build-up curve from

* a CSV / TSV / whitespace text file with the units in the header,
* an xarray NetCDF file, or an in-memory :class:`xarray.Dataset` / ``DataArray``,
* a DNPLab ``DNPData`` object or a DNPLab HDF5 file (``pip install 'dnpsim[data]'``),

and returns one :class:`xarray.Dataset` in the *measurement layout*
``"dnpsim-measurement/1"`` (docs/how-to/measured_data.md):

* one dimension, the measurement axis, named as in :data:`AXES`; its coordinate is in
  SI units (float64, finite, strictly increasing) with attrs ``units`` and ``long_name``;
* one data variable named as in :data:`OBSERVABLES` (the dnpsim result key it is
  compared with), optionally ``"<observable>_uncertainty"`` (one standard deviation,
  positive, same units);
* dataset attrs ``layout``, ``observable``, ``axis``, ``axis_key`` (the spec key the
  axis corresponds to) and ``source``, plus metadata found in
  the source (``temperature`` in K, ``field`` in T, ...).

Every problem with the input raises one :class:`dnpsim.errors.SpecError` whose
``field`` names the file and the column (``"data.csv: column 'frequency [T]'"``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from dnpsim.errors import SpecError, shown

__all__ = ["LAYOUT", "AXES", "OBSERVABLES", "Axis", "Observable", "load_measurement", "validate_measurement"]

#: Value of the ``layout`` attribute of every measurement Dataset.
LAYOUT = "dnpsim-measurement/1"


class Axis(NamedTuple):
    """A measurement axis: SI unit of its coordinate, the dotted spec key it sweeps
    ("" when no spec key corresponds) and its ``long_name``."""

    unit: str
    key: str
    long_name: str


class Observable(NamedTuple):
    """A measured quantity: its unit (always "1") and ``long_name``."""

    unit: str
    long_name: str


#: The measurement axes, by dimension name.
AXES: dict[str, Axis] = {
    "mw_frequency": Axis("Hz", "environment.mw_frequency", "microwave frequency"),
    "field": Axis("T", "model.field", "static field B0"),
    "mw_amplitude": Axis("Hz", "environment.mw_amplitude", "microwave amplitude omega_1 / 2 pi"),
    "mw_field": Axis("T", "environment.mw_field", "microwave field B1"),
    # B1 = mw_conversion_factor x sqrt(P): the spec gives the probe's factor
    "mw_power": Axis("W", "environment.mw_power", "microwave power"),
    "time": Axis("s", "method.times", "time since the microwaves were switched on"),
}

#: The measured quantities, by variable name (the dnpsim result key they compare with).
OBSERVABLES: dict[str, Observable] = {
    "nuclear_enhancement": Observable("1", "nuclear enhancement P_n / P_n(Boltzmann)"),
    "nuclear_polarization": Observable("1", "nuclear polarization"),
    "signal": Observable("1", "signal in arbitrary units (known up to a scale factor)"),
}

# Names recognised for each axis and observable, compared after _normal() (lower case,
# spaces and hyphens as underscores).  Ambiguous names are left out on purpose: "p"
# (power or polarization?), "tau" and "t1" (a delay or a relaxation time?).
_AXIS_NAMES = {
    "mw_frequency": {"mw_frequency", "frequency", "freq", "f", "mw_freq", "microwave_frequency", "f_mw", "nu_mw",
                     "mw_f"},
    "field": {"field", "b0", "b", "b_0", "magnetic_field", "static_field", "b0_field"},
    "mw_amplitude": {"mw_amplitude", "rabi", "rabi_frequency", "mw_rabi", "omega1", "omega_1", "mw_omega1", "nu1",
                     "nu_1"},
    "mw_field": {"mw_field", "b1", "b_1", "microwave_field", "mw_b1"},
    "mw_power": {"mw_power", "power", "p_mw", "microwave_power"},
    "time": {"time", "t", "delay", "t_delay", "irradiation_time", "mw_time", "buildup_delay", "build_up_delay"},
}
_OBSERVABLE_NAMES = {
    "nuclear_enhancement": {"nuclear_enhancement", "enhancement", "epsilon", "eps", "dnp_enhancement"},
    "nuclear_polarization": {"nuclear_polarization", "polarization", "polarisation", "p_n", "pn",
                             "nuclear_polarisation"},
    "signal": {"signal", "intensity", "integral", "integrals", "amplitude", "area", "nmr_signal"},
}
_ERROR_WORDS = ("uncertainty", "stderr", "error", "sigma", "std", "err")
# DNPLab's own dimension names (its importers and processing functions use these)
_DNPLAB_DIMS = {"f": "mw_frequency", "b0": "field", "field": "field", "power": "mw_power", "powers": "mw_power",
                "t1": "time"}
# DNPLab's attrs["experiment_type"] -> observable
_DNPLAB_TYPES = {"enhancements_p": "nuclear_enhancement", "enhancements_b0": "nuclear_enhancement",
                 "enhancements": "nuclear_enhancement", "enhancement": "nuclear_enhancement",
                 "integrals": "signal", "polarization": "nuclear_polarization"}
# What the pint dimensionality of each axis unit must be
_AXIS_DIMENSIONS = {"Hz": "1 / [time]", "T": "[mass] / [current] / [time] ** 2", "W": "[length] ** 2 * [mass] / [time] ** 3",
                    "s": "[time]"}
_DIMENSION_WORDS = {"Hz": "a frequency", "T": "a magnetic field", "W": "a power", "s": "a time"}
_EXAMPLE_UNITS = {"Hz": "'GHz', 'MHz', 'kHz' or 'Hz'", "T": "'T', 'mT' or 'G'", "W": "'W' or 'mW' or 'dBm'",
                  "s": "'s', 'ms' or 'min'"}
# Units a signal may carry: arbitrary, dropped after loading
_ARBITRARY = {"", "1", "a.u.", "au", "a.u", "arb", "arb.", "arb. u.", "arb. units", "arb.u.", "arbitrary units"}
#: The word "gauss", which pint keeps as a Gaussian-CGS unit (G, Gs, kG, mG are 1e-4 T in
#: the shared registry of dnpsim.units)
_GAUSS = {"gauss": 1e-4}
_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".dat"}
_NETCDF_SUFFIXES = {".nc", ".nc4", ".netcdf"}
_DNPLAB_SUFFIXES = {".h5", ".hdf5"}
_HEADER_FORMS = "'name [unit]', 'name (unit)', 'name / unit' or 'name' (a pure number)"


def _normal(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _accepted_axes() -> str:
    return "; ".join(f"{a} ({', '.join(sorted(n))})" for a, n in _AXIS_NAMES.items())


def _accepted_observables() -> str:
    return "; ".join(f"{o} ({', '.join(sorted(n))})" for o, n in _OBSERVABLE_NAMES.items())


class _Column(NamedTuple):
    """One column of the input: its name without the unit, the unit text ("" for a pure
    number), values (1-D float64) and how error messages name it."""

    name: str
    unit: str
    values: np.ndarray
    label: str


def _split_header(text: str) -> tuple[str, str]:
    """``"frequency [GHz]"`` -> ("frequency", "GHz"); the forms of :data:`_HEADER_FORMS`."""
    text = text.strip()
    for pattern in (r"^(.*?)\s*\[([^\]]*)\]$", r"^(.*?)\s*\(([^)]*)\)$", r"^(.*?)\s*/\s*(\S.*)$"):
        match = re.match(pattern, text)
        if match and match.group(1).strip():
            return match.group(1).strip(), match.group(2).strip()
    return text, ""


def _classify(name: str) -> tuple[str, str] | None:
    """("axis", axis) / ("observable", obs) / ("uncertainty", obs or "") for a column
    name, or None when it is not recognised."""
    key = _normal(name)
    for axis, names in _AXIS_NAMES.items():
        if key in names:
            return "axis", axis
    for observable, names in _OBSERVABLE_NAMES.items():
        if key in names:
            return "observable", observable
    if key in _ERROR_WORDS or key in {"dy", "d_y"}:
        return "uncertainty", ""
    for word in _ERROR_WORDS:
        if key.endswith("_" + word):
            stem = key[: -len(word) - 1]
            for observable, names in _OBSERVABLE_NAMES.items():
                if stem in names:
                    return "uncertainty", observable
    return None


# --------------------------------------------------------------------------- units


def _axis_factor(column: _Column, axis: str):
    """A function SI values = f(column values) for ``column`` on ``axis``; raises a
    SpecError naming the column for a unit of the wrong dimension."""
    si = AXES[axis].unit
    unit = column.unit
    hint = (f"a column of {axis} needs a unit of {_DIMENSION_WORDS[si]}, e.g. {_EXAMPLE_UNITS[si]}, written "
            f"{_HEADER_FORMS.replace('name', column.name)}")
    if not unit:
        raise SpecError(column.label, f"has no unit; {hint}")
    if si == "W" and unit.replace(" ", "").lower() == "dbm":
        from dnpsim.units import dbm_to_watt

        return dbm_to_watt  # a logarithmic unit, not a factor
    if si == "T" and unit.strip() in _GAUSS:
        # EPR files write fields in gauss; pint's word "gauss" does not convert to tesla
        factor = _GAUSS[unit.strip()]
        return lambda x: x * factor
    from dnpsim.units import _registry

    ureg = _registry()
    try:
        quantity = ureg.Quantity(1.0, unit)
    except Exception:
        raise SpecError(column.label, f"cannot read the unit {unit!r}; {hint}") from None
    if si == "Hz" and "radian" in str(quantity.units):
        try:  # angular frequency -> cyclic Hz, as everywhere at dnpsim's boundary
            factor = float(quantity.to("radian / second").magnitude) / (2.0 * math.pi)
        except Exception:
            raise SpecError(column.label, f"{unit!r} is not {_DIMENSION_WORDS[si]}; {hint}") from None
        return lambda x: x * factor
    if quantity.dimensionality != ureg.Quantity(1.0, si).dimensionality:
        raise SpecError(column.label, f"{unit!r} is not {_DIMENSION_WORDS[si]}; {hint}")
    factor = float(quantity.to(si).magnitude)
    return lambda x: x * factor


def _observable_factor(column: _Column, observable: str) -> float:
    """The factor from the column's unit to the layout's "1" (0.01 for percent)."""
    unit = column.unit.strip()
    if observable == "signal" and unit.lower() in _ARBITRARY:
        return 1.0
    if unit in {"%", "percent", "pct"}:
        if observable == "nuclear_polarization":
            return 0.01
        raise SpecError(column.label, f"a percent is accepted for a polarization only; {observable} is a pure "
                                      "number: drop the unit")
    if unit in {"", "1", "-"}:
        return 1.0
    if observable == "signal":
        return 1.0  # known only up to a scale factor: any unit of the raw integrals is kept out
    from dnpsim.units import _registry

    try:
        quantity = _registry().Quantity(1.0, unit)
        if quantity.dimensionless:
            return float(quantity.to("dimensionless").magnitude)
    except Exception:
        pass
    allowed = "'%' (converted to a fraction) or none" if observable == "nuclear_polarization" else "none"
    raise SpecError(column.label, f"{unit!r} is not a pure number; {observable} is dimensionless: unit {allowed}")


# --------------------------------------------------------------------------- assembling


def _assemble(columns: list[_Column], source: str, axis: str | None, observable: str | None,
              attrs: dict) -> "xarray.Dataset":  # noqa: F821
    """The layout from the columns of any source: pick the axis, the observable and its
    uncertainty, convert the units, check the values and sort along the axis."""
    import xarray as xr

    where = f"{source}"
    if not columns:
        raise SpecError(where, "holds no columns; expected a header such as 'mw_frequency [GHz], enhancement'")
    kinds = [_classify(c.name) for c in columns]

    def pick(kind, wanted, what, names):
        hits = [i for i, k in enumerate(kinds) if k and k[0] == kind and (wanted is None or k[1] == wanted)]
        if len(hits) > 1:
            found = ", ".join(repr(columns[i].label.split(": ", 1)[-1]) for i in hits)
            raise SpecError(where, f"has {len(hits)} {what} columns ({found}); pass {kind}= to choose, "
                                   f"or keep one")
        return hits[0] if hits else None

    # the axis: the recognised column, or (axis= given) the first column
    i_axis = pick("axis", axis, "axis", _AXIS_NAMES)
    if i_axis is None:
        if axis is None:
            raise SpecError(where, f"no column names the measurement axis; name one of {_accepted_axes()} "
                                   "(with its unit), or pass axis=")
        i_axis = 0
    axis = axis or kinds[i_axis][1]
    rest = [i for i in range(len(columns)) if i != i_axis]
    i_obs = pick("observable", observable, "observable", _OBSERVABLE_NAMES)
    if i_obs is None or i_obs == i_axis:
        candidates = [i for i in rest if not (kinds[i] and kinds[i][0] == "uncertainty")]
        if observable is None or not candidates:
            raise SpecError(where, f"no column names the observable; name one of {_accepted_observables()}, "
                                   "or pass observable=")
        i_obs = candidates[0]
    observable = observable or kinds[i_obs][1]
    errors = [i for i in rest if i != i_obs and kinds[i] and kinds[i][0] == "uncertainty"
              and kinds[i][1] in ("", observable)]
    if len(errors) > 1:
        raise SpecError(where, "has more than one uncertainty column ("
                        + ", ".join(repr(columns[i].name) for i in errors) + "); keep one")

    x_col, y_col = columns[i_axis], columns[i_obs]
    for col in [x_col, y_col] + [columns[i] for i in errors]:
        if col.values.ndim != 1:
            raise SpecError(col.label, f"must be one-dimensional, got shape {col.values.shape}")
        bad = np.flatnonzero(~np.isfinite(col.values))
        if bad.size:
            raise SpecError(col.label, f"value {bad[0] + 1} is {shown(col.values[bad[0]])}; every value must be a "
                                       "finite number (leave out missing points)")
    if x_col.values.size < 2:
        raise SpecError(where, f"holds {x_col.values.size} point(s); a measurement needs at least 2")
    x = np.asarray(_axis_factor(x_col, axis)(x_col.values), dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise SpecError(x_col.label, "overflows in SI units")
    y = y_col.values * _observable_factor(y_col, observable)
    order = np.argsort(x, kind="stable")
    x = x[order]
    same = np.flatnonzero(np.diff(x) == 0)
    if same.size:
        raise SpecError(x_col.label, f"holds the value {shown(x_col.values[order][same[0]])} {x_col.unit} twice; "
                                     "each point of the axis must appear once (average repeated points first)")
    unit, key, long_name = AXES[axis]
    obs_unit, obs_long = OBSERVABLES[observable]
    variables = {observable: (axis, np.asarray(y[order], dtype=np.float64), {"units": obs_unit,
                                                                             "long_name": obs_long})}
    if errors:
        e_col = columns[errors[0]]
        e = e_col.values * _observable_factor(e_col._replace(unit=e_col.unit or y_col.unit), observable)
        bad = np.flatnonzero(~(e > 0))
        if bad.size:
            raise SpecError(e_col.label, f"value {bad[0] + 1} is {shown(e_col.values[bad[0]])}; an uncertainty "
                                         "(one standard deviation) must be positive")
        variables[observable + "_uncertainty"] = (axis, np.asarray(e[order], dtype=np.float64),
                                                  {"units": obs_unit,
                                                   "long_name": f"uncertainty of {observable} (one standard deviation)"})
    ds = xr.Dataset(variables, coords={axis: (axis, x, {"units": unit, "long_name": long_name})})
    ds.attrs = {"layout": LAYOUT, "observable": observable, "axis": axis, "axis_key": key, "source": source,
                **{k: v for k, v in attrs.items() if k not in {"layout", "observable", "axis", "axis_key", "source"}}}
    validate_measurement(ds)
    return ds


# --------------------------------------------------------------------------- text files

_META_KEYS = {"temperature": "K", **{name: a.unit for name, a in AXES.items()}}
_META_LINE = re.compile(r"^\s*([A-Za-z_][\w ]*?)\s*[:=]\s*(\S.*?)\s*$")
# a header token of a whitespace-separated file: a name with an optional unit in
# brackets / parentheses / after a slash, which may hold spaces ("frequency [GHz]")
_WS_TOKEN = re.compile(r"[^\s\[(/]+(?:\s*\[[^\]]*\]|\s*\([^)]*\)|\s*/\s*\S+)?")


def _metadata(comments: list[str], label: str) -> dict:
    """``# temperature: 1.2 K`` -> {"temperature": 1.2} (SI; keys temperature and the
    names of :data:`AXES`, a line holding one quantity only); other comment lines are
    kept, joined, as attr ``comment``."""
    from dnpsim.units import _registry

    attrs, text = {}, []
    for line in comments:
        match = _META_LINE.match(line)
        key = _normal(match.group(1)) if match else ""
        if key in _META_KEYS:
            unit = _META_KEYS[key]
            try:
                q = _registry().Quantity(match.group(2))
                attrs[key] = float(q.to("kelvin" if unit == "K" else unit).magnitude)
                continue
            except Exception:
                pass  # not a lone quantity ("mw_amplitude = 25 kHz, rate equation"): prose, kept as a comment
        text.append(line)
    if any(t.strip() for t in text):
        attrs["comment"] = "\n".join(text).strip()
    return attrs


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text(path: Path) -> tuple[list[_Column], dict]:
    label = str(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(label, "is not a UTF-8 text file; expected CSV / TSV / whitespace-separated columns") from None
    comments, rows = [], []
    for number, line in enumerate(raw.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            comments.append(stripped[1:].strip())
        elif stripped:
            rows.append((number, line))
    if not rows:
        raise SpecError(label, "holds no data; expected a header row such as 'mw_frequency [GHz], enhancement' "
                               "and at least 2 rows of numbers")
    header = rows[0][1]
    if path.suffix.lower() == ".tsv" or "\t" in header:
        delimiter = "\t"
    elif path.suffix.lower() == ".csv" or "," in header:
        delimiter = ","
    elif ";" in header:
        delimiter = ";"
    else:
        delimiter = None
    names = ([c.strip() for c in header.split(delimiter)] if delimiter else _WS_TOKEN.findall(header))
    if all(_is_number(n) for n in names):
        raise SpecError(label, f"line {rows[0][0]}: the first row is numbers, not a header; start the file with a "
                               f"header row naming each column as {_HEADER_FORMS}")
    if any(not n for n in names):
        raise SpecError(label, f"line {rows[0][0]}: the header has an empty column name; name each column as "
                               f"{_HEADER_FORMS}")
    parsed = [_split_header(n) for n in names]
    cells = []
    for number, line in rows[1:]:
        parts = [c.strip() for c in (line.split(delimiter) if delimiter else line.split())]
        if len(parts) != len(names):
            raise SpecError(label, f"line {number} has {len(parts)} values, the header {len(names)} columns")
        row = []
        for (name, unit), text, full in zip(parsed, parts, names):
            try:
                row.append(float(text))
            except ValueError:
                raise SpecError(f"{label}: column {full!r}", f"line {number}: {text!r} is not a number; every cell "
                                                            "below the header must be a number") from None
        cells.append(row)
    values = np.array(cells, dtype=np.float64).reshape(len(cells), len(names))
    columns = [_Column(name, unit, values[:, j], f"{label}: column {full!r}")
               for j, ((name, unit), full) in enumerate(zip(parsed, names))]
    return columns, _metadata(comments, label)


# --------------------------------------------------------------------------- xarray


def _from_xarray(obj, source: str, axis, observable):
    import xarray as xr

    if isinstance(obj, xr.DataArray):
        obj = obj.to_dataset(name=obj.name if obj.name is not None else (observable or "values"))
    if obj.attrs.get("layout") == LAYOUT:
        validate_measurement(obj, source=source)
        if (axis and axis != obj.attrs["axis"]) or (observable and observable != obj.attrs["observable"]):
            raise SpecError(source, f"is a {LAYOUT} measurement of {obj.attrs['observable']} against "
                                    f"{obj.attrs['axis']}; axis= / observable= cannot change that")
        return obj.assign_attrs(source=source)
    if len(obj.dims) != 1:
        raise SpecError(source, f"has dimensions {shown(tuple(obj.dims))}; a measurement has exactly one (the axis, "
                                f"one of {', '.join(AXES)})")
    (dim,) = obj.dims
    coord = obj[dim]
    columns = [_Column(str(dim), str(coord.attrs.get("units", "")), np.asarray(coord.values, dtype=np.float64)
                       if np.issubdtype(coord.dtype, np.number) else np.full(coord.size, np.nan),
                       f"{source}: coordinate {str(dim)!r}")]
    for name, var in obj.data_vars.items():
        if not np.issubdtype(var.dtype, np.number):
            continue
        columns.append(_Column(str(name), str(var.attrs.get("units", "")),
                               np.asarray(var.values, dtype=np.float64), f"{source}: variable {str(name)!r}"))
    if axis is None and _classify(str(dim)) is None:
        raise SpecError(f"{source}: coordinate {str(dim)!r}", f"is not a known measurement axis; name the "
                                                             f"dimension one of {_accepted_axes()}, or pass axis=")
    attrs = {k: v for k, v in obj.attrs.items() if k in _META_KEYS and isinstance(v, (int, float))}
    return _assemble(columns, source, axis, observable, attrs)


# --------------------------------------------------------------------------- DNPLab


def _dnplab():
    try:
        import dnplab
    except ImportError:
        raise SpecError("source", "reading DNPLab data needs the optional dependency dnplab: "
                                  "pip install 'dnpsim[data]'") from None
    return dnplab


def _is_dnpdata(obj) -> bool:
    # by class name, so that checking a source never imports dnplab
    return any(c.__name__ == "DNPData" and c.__module__.startswith("dnplab") for c in type(obj).__mro__)


def _from_dnplab(data, source: str, axis, observable):
    """A 1-D ``DNPData``: dims[0] is the axis (DNPLab names "f", "B0", "Power", "t1"
    or the names :data:`AXES` accepts), its unit from ``attrs["<dim>_unit"]`` (or
    ``dnplab_attrs["power_unit"]`` for a power); times "t1" default to s.  The
    observable from ``observable=``, ``attrs["observable"]`` or DNPLab's
    ``attrs["experiment_type"]``; ``data.error`` becomes the uncertainty."""
    dims = list(data.dims)
    values = np.asarray(data.values)
    if len(dims) != 1 or values.ndim != 1:
        raise SpecError(source, f"has dimensions {shown(dims)}; a measurement has exactly one (e.g. DNPLab's "
                                "'f', 'B0', 'Power' or 't1')")
    if np.iscomplexobj(values):
        if np.any(values.imag != 0):
            raise SpecError(f"{source}: values", "are complex; take the real part of the integrals first")
        values = values.real
    dim = str(dims[0])
    attrs = dict(getattr(data, "attrs", {}) or {})
    dnplab_attrs = dict(getattr(data, "dnplab_attrs", {}) or {})
    unit = next((str(d[k]) for d in (attrs, dnplab_attrs) for k in (f"{dim}_unit", f"{dim}_units")
                 if k in d), None)
    if unit is None and _normal(dim) in {"power", "powers"}:
        unit = dnplab_attrs.get("power_unit")
    if unit is None and dim == "t1":
        unit = "s"  # DNPLab's pulse-sequence times are in seconds
    dim_axis = axis or _DNPLAB_DIMS.get(_normal(dim)) or (_classify(dim) or (None, None))[1]
    if dim_axis is None or dim_axis not in AXES:
        raise SpecError(f"{source}: dim {dim!r}", f"is not a known measurement axis; DNPLab's 'f', 'B0', 'Power', "
                                                  f"'t1' or one of {_accepted_axes()} are, or pass axis=")
    obs = observable or attrs.get("observable")
    if obs is None and "experiment_type" in attrs:
        obs = _DNPLAB_TYPES.get(_normal(attrs["experiment_type"]))
    if obs is None:
        raise SpecError(f"{source}: values", "do not say what they are; set attrs['observable'] (one of "
                                             f"{', '.join(OBSERVABLES)}) or DNPLab's attrs['experiment_type'], or "
                                             "pass observable=")
    obs = str(obs)
    if obs not in OBSERVABLES:
        raise SpecError(f"{source}: attrs['observable']", f"must be one of {', '.join(OBSERVABLES)}, got {shown(obs)}")
    obs_unit = str(attrs.get("units", attrs.get("unit", "")))
    columns = [_Column(AXES[dim_axis].long_name, unit or "", np.asarray(data.coords[dim], dtype=np.float64),
                       f"{source}: dim {dim!r}"),
               _Column(obs, obs_unit, np.asarray(values, dtype=np.float64), f"{source}: values")]
    error = getattr(data, "error", None)
    if error is not None:
        columns.append(_Column(f"{obs}_uncertainty", obs_unit, np.asarray(error, dtype=np.float64).ravel(),
                               f"{source}: error"))
    meta = {}
    for key, si in _META_KEYS.items():
        if key != dim_axis and isinstance(attrs.get(key), (int, float)) and not isinstance(attrs.get(key), bool):
            meta[key] = float(attrs[key])  # only plain numbers: DNPLab attrs carry no units of their own
    return _assemble(columns, source, dim_axis, obs, meta)


# --------------------------------------------------------------------------- public


def load_measurement(source, *, observable: str | None = None, axis: str | None = None):
    """Load measured DNP data into the measurement layout ``"dnpsim-measurement/1"``.

    Parameters
    ----------
    source : str, path, xarray.Dataset, xarray.DataArray or dnplab.DNPData
        A ``.csv`` / ``.tsv`` / ``.txt`` / ``.dat`` text file (a header row naming each
        column with its unit: ``frequency [GHz]``, ``B0 (mT)``, ``time / s``,
        ``enhancement``; ``#`` comment lines, ``# temperature: 1.2 K`` is kept as an
        attr), an xarray NetCDF file (``.nc``), a DNPLab HDF5 file (``.h5``), or an
        object in memory.
    observable : {"nuclear_enhancement", "nuclear_polarization", "signal"}, optional
        What the values are, when their name does not say it.
    axis : {"mw_frequency", "field", "mw_amplitude", "mw_field", "mw_power", "time"}, optional
        The measurement axis, when its name does not say it.

    Returns
    -------
    xarray.Dataset
        Dimension ``axis`` (n >= 2 points, coordinate in SI: Hz, T, W or s, strictly
        increasing); variable ``observable`` (shape (n,), units "1", a percent
        polarization converted to a fraction) and optionally
        ``observable + "_uncertainty"`` (shape (n,), one standard deviation); attrs
        ``layout``, ``observable``, ``axis``, ``axis_key``, ``source`` and any metadata
        (``temperature`` in K, ``field`` in T, ...).

    Raises :class:`dnpsim.errors.SpecError` naming the file and the column for an axis
    or observable that cannot be determined, a unit of the wrong dimension, a cell that
    is not a finite number, fewer than 2 points or a repeated axis value.
    """
    import xarray as xr

    if axis is not None and axis not in AXES:
        raise SpecError("axis", f"must be one of {', '.join(AXES)}, got {shown(axis)}")
    if observable is not None and observable not in OBSERVABLES:
        raise SpecError("observable", f"must be one of {', '.join(OBSERVABLES)}, got {shown(observable)}")
    if isinstance(source, (xr.Dataset, xr.DataArray)):
        return _from_xarray(source, "xarray object", axis, observable)
    if _is_dnpdata(source):
        _dnplab()
        return _from_dnplab(source, "dnplab object", axis, observable)
    if not isinstance(source, (str, Path)):
        raise SpecError("source", f"expected a file path, an xarray Dataset / DataArray or a dnplab DNPData, got "
                                  f"{type(source).__name__}")
    path = Path(source)
    label = str(source)
    if not path.is_file():
        raise SpecError(label, "no such file")
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        columns, attrs = _read_text(path)
        return _assemble(columns, label, axis, observable, attrs)
    if suffix in _NETCDF_SUFFIXES:
        try:
            with xr.open_dataset(path, engine="h5netcdf") as ds:
                ds = ds.load()
        except Exception as exc:
            raise SpecError(label, f"cannot be read as NetCDF ({exc})") from None
        return _from_xarray(ds, label, axis, observable)
    if suffix in _DNPLAB_SUFFIXES:
        dnplab = _dnplab()
        try:
            data = dnplab.load(str(path))
        except Exception as exc:
            raise SpecError(label, f"cannot be read as a DNPLab HDF5 file ({type(exc).__name__}: {exc})") from None
        if isinstance(data, dict):
            found = [k for k, v in data.items() if _is_dnpdata(v)]
            if len(found) != 1:
                raise SpecError(label, f"holds {len(found)} DNPData objects ({', '.join(found)}); save the one "
                                       "measurement alone with dnplab.save(data, path)")
            data = data[found[0]]
        return _from_dnplab(data, label, axis, observable)
    raise SpecError(label, f"unknown file type {suffix!r}; expected "
                           f"{', '.join(sorted(_TEXT_SUFFIXES | _NETCDF_SUFFIXES | _DNPLAB_SUFFIXES))}")


def validate_measurement(ds, *, source: str | None = None) -> None:
    """Check that ``ds`` (an :class:`xarray.Dataset`) is in the measurement layout;
    raise :class:`dnpsim.errors.SpecError` (naming ``source`` or ``ds.attrs["source"]``
    and the part at fault) otherwise.  Returns None."""
    import xarray as xr

    where = source or (ds.attrs.get("source") if isinstance(ds, xr.Dataset) else None) or "measurement"
    if not isinstance(ds, xr.Dataset):
        raise SpecError(where, f"expected an xarray.Dataset, got {type(ds).__name__}")
    a = ds.attrs
    if a.get("layout") != LAYOUT:
        raise SpecError(f"{where}: attrs['layout']", f"must be {LAYOUT!r}, got {shown(a.get('layout'))}")
    axis, observable = a.get("axis"), a.get("observable")
    if axis not in AXES:
        raise SpecError(f"{where}: attrs['axis']", f"must be one of {', '.join(AXES)}, got {shown(axis)}")
    if observable not in OBSERVABLES:
        raise SpecError(f"{where}: attrs['observable']", f"must be one of {', '.join(OBSERVABLES)}, "
                                                         f"got {shown(observable)}")
    if a.get("axis_key") != AXES[axis].key:
        raise SpecError(f"{where}: attrs['axis_key']", f"must be {AXES[axis].key!r} for axis {axis}, "
                                                       f"got {shown(a.get('axis_key'))}")
    if not isinstance(a.get("source"), str):
        raise SpecError(f"{where}: attrs['source']", "must be a string (the file or object the data came from)")
    if tuple(ds.dims) != (axis,):
        raise SpecError(where, f"must have the one dimension {axis!r}, has {shown(tuple(ds.dims))}")
    if axis not in ds.coords:
        raise SpecError(where, f"has no coordinate {axis!r}")
    x = ds[axis]
    if x.dtype != np.float64 or not np.all(np.isfinite(x.values)):
        raise SpecError(f"{where}: coordinate {axis!r}", "must be finite float64 values")
    if x.size < 2 or not np.all(np.diff(x.values) > 0):
        raise SpecError(f"{where}: coordinate {axis!r}", "must hold at least 2 strictly increasing values")
    if x.attrs.get("units") != AXES[axis].unit:
        raise SpecError(f"{where}: coordinate {axis!r}", f"attrs['units'] must be {AXES[axis].unit!r}, "
                                                         f"got {shown(x.attrs.get('units'))}")
    allowed = {observable, observable + "_uncertainty"}
    extra = set(ds.data_vars) - allowed
    if observable not in ds.data_vars or extra:
        raise SpecError(where, f"must hold the variable {observable!r} (and optionally {observable}_uncertainty), "
                               f"holds {shown(sorted(ds.data_vars))}")
    for name in sorted(allowed & set(ds.data_vars)):
        var = ds[name]
        if var.dims != (axis,) or var.dtype != np.float64 or not np.all(np.isfinite(var.values)):
            raise SpecError(f"{where}: variable {name!r}", f"must be finite float64 values along {axis!r}")
        if var.attrs.get("units") != "1":
            raise SpecError(f"{where}: variable {name!r}", f"attrs['units'] must be '1', got "
                                                           f"{shown(var.attrs.get('units'))}")
        if name.endswith("_uncertainty") and not np.all(var.values > 0):
            raise SpecError(f"{where}: variable {name!r}", "must be positive (one standard deviation)")
