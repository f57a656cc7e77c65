"""Field readers of the spec kinds: each reads one value of a spec table and raises
:class:`~dnpsim.errors.SpecError` naming the field (its dotted key) when the value is
missing, of the wrong type or unit, or out of range.  Quantities go through
:func:`dnpsim.units.parse_quantity` (numbers in SI units with Hz for frequencies, or
strings with units)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dnpsim.errors import SpecError, shown
from dnpsim.units import parse_quantity


def checked_inputs(build):
    """Build the engine inputs of a resolved spec now (``build()``, cheap) so that a
    physically impossible combination (T2 > 2 T1, ...) is refused before any work
    starts, as a :class:`SpecError` naming the field of the :class:`ModelError`."""
    from dnpsim.errors import ModelError

    try:
        build()
    except ModelError as exc:
        raise SpecError(exc.field, exc.message) from None


def check_keys(table: Any, allowed: set[str], where: str) -> dict:
    if not isinstance(table, dict):
        raise SpecError(where, f"must be a table, got {type(table).__name__}")
    for key in table:
        if key not in allowed:
            raise SpecError(f"{where}.{key}" if where else key,
                            f"unknown key (allowed here: {', '.join(sorted(allowed))})")
    return table


def read_number(value: Any, field: str, dimension: str = "dimensionless") -> float:
    """A finite quantity in SI units (Hz, s, K) from a number or a string with a unit."""
    return parse_quantity(value, dimension, field)


def read_positive(value: Any, field: str, dimension: str) -> float:
    """A positive quantity; a time whose rate 1/t, or a temperature whose inverse
    temperature hbar / k_B T, overflows is refused too."""
    out = read_number(value, field, dimension)
    if out <= 0.0:
        what = {"time": "a positive time", "temperature": "a positive temperature"}.get(dimension, "positive")
        raise SpecError(field, f"must be {what}, got {shown(value)}")
    if dimension in ("time", "temperature") and not math.isfinite(1.0 / out):
        raise SpecError(field, f"is too small to compute with, got {shown(value)}")
    return out


def read_microwave_environment(env: dict, times: dict[str, float | None], required_by: str = "",
                               g_isotropic: float | None = None) -> dict:
    """The ``[environment]`` values every engine driven by microwaves shares:
    ``temperature`` (K), ``mw_frequency`` and ``mw_amplitude`` (Hz, amplitude >= 0; or
    ``mw_field`` or ``mw_power``, :func:`read_mw_amplitude`), all required, plus the relaxation ``times`` (s): key -> default, ``None`` meaning
    required.  Unknown keys are the caller's check (:func:`check_keys`)."""
    suffix = f" by {required_by}" if required_by else ""
    for key in ("temperature", "mw_frequency", *(k for k, d in times.items() if d is None)):
        if key not in env:
            raise SpecError(f"environment.{key}", f"is required{suffix}")
    if not any(key in env for key in MW_STRENGTH_KEYS):
        raise SpecError("environment.mw_amplitude", f"is required{suffix} (or give environment.mw_field, or "
                        "environment.mw_power with environment.mw_conversion_factor)")
    values = {
        "temperature": read_positive(env["temperature"], "environment.temperature", "temperature"),
        "mw_frequency": read_positive(env["mw_frequency"], "environment.mw_frequency", "frequency"),
        "mw_amplitude": read_mw_amplitude(env, g_isotropic),
    }
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
        raise SpecError(field, f"must be an integer, got {shown(value)}")
    if value < minimum:
        raise SpecError(field, f"must be >= {minimum}, got {value}")
    return value


def read_frequencies(value: Any, field: str, n: int | None) -> np.ndarray:
    if not isinstance(value, list):
        raise SpecError(field, f"must be a list of frequencies or a distribution table, got {shown(value)}")
    out = np.array([read_number(v, f"{field}[{i}]", "frequency") for i, v in enumerate(value)])
    if n is not None and out.size != n:
        raise SpecError(field, f"has {out.size} entries but there are {n} electrons")
    return out


def read_coupling_matrix(value: Any, field: str, n: int) -> np.ndarray:
    if not isinstance(value, list) or len(value) != n or not all(isinstance(r, list) and len(r) == n for r in value):
        raise SpecError(field, f"must be a {n} x {n} nested list (one row per electron)")
    m = np.array([[read_number(v, f"{field}[{i}][{j}]", "frequency") for j, v in enumerate(row)]
                  for i, row in enumerate(value)])
    for i in range(n):
        if m[i, i] != 0.0:
            raise SpecError(f"{field}[{i}][{i}]", f"diagonal must be zero, got {shown(m[i, i])}")
        for j in range(i + 1, n):
            if m[i, j] != m[j, i]:
                raise SpecError(f"{field}[{i}][{j}]", f"must be symmetric: {shown(m[i, j])} != [{j}][{i}] = {shown(m[j, i])}")
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


def read_field(model: dict, field: str = "model.field") -> float | None:
    """The static field B0 of a ``[model]`` table in T (``model.field``, a number in T or
    a string such as ``"3.35 T"``), or None when the spec gives none.  B0 is along z."""
    if "field" not in model:
        return None
    return read_positive(model["field"], field, "magnetic_field")


def electron_larmor_hz(model: dict, g_isotropic: float | None = None) -> float | None:
    """The electron Larmor frequency omega_e / 2 pi in Hz: ``model.electron_larmor`` when
    given, else g mu_B B0 / h from ``model.field`` (g: the radical's isotropic g, else the
    free-electron 2.00231930436), else None."""
    from dnpsim.units import G_FREE_ELECTRON, H_PLANCK, MU_B

    if "electron_larmor" in model:
        return read_positive(model["electron_larmor"], "model.electron_larmor", "frequency")
    b0 = read_field(model)
    if b0 is None:
        return None
    g = G_FREE_ELECTRON if g_isotropic is None else float(g_isotropic)
    return g * MU_B * b0 / H_PLANCK


def read_nuclear_larmor(nuclei: dict, b0: float | None, where: str = "model.nuclei",
                        positive: bool = True) -> tuple[float, str | None]:
    """(``larmor`` in Hz, ``species`` or None) of a nuclei table.

    ``species`` (``"1H"``, ``"13C"``, ... :mod:`dnpsim.sample.nuclei`) with a field B0
    (``model.field``) gives larmor = |gamma| B0 / 2 pi; a ``larmor`` given as well must
    agree with it (to 1e-9, so that a resolved spec, which writes both, is valid), else
    :class:`SpecError` naming ``larmor``.  ``species`` without a field needs ``larmor``
    (> 0; the species then only gives the sign of gamma).  Without ``species``,
    ``larmor`` is required (> 0 when ``positive``, any sign otherwise: a signed
    omega_n / 2 pi)."""
    from dnpsim.sample.nuclei import gyromagnetic_ratio, nuclear_larmor_hz

    species = nuclei.get("species")
    if species is None:
        if "larmor" not in nuclei:
            hint = " (or give species with model.field)"
            raise SpecError(f"{where}.larmor", f"is required{hint}")
        value = nuclei["larmor"]
        return (read_positive(value, f"{where}.larmor", "frequency") if positive
                else read_number(value, f"{where}.larmor", "frequency")), None
    gyromagnetic_ratio(species, f"{where}.species")  # validates the name
    if b0 is None:
        if "larmor" not in nuclei:
            raise SpecError("model.field", f"is required to derive the Larmor frequency of {where}.species "
                            f"{shown(species)} (or give {where}.larmor)")
        return read_positive(nuclei["larmor"], f"{where}.larmor", "frequency"), species
    derived = nuclear_larmor_hz(species, b0, f"{where}.species")
    if "larmor" in nuclei:
        given = read_number(nuclei["larmor"], f"{where}.larmor", "frequency")
        if not math.isclose(given, derived, rel_tol=1e-9):
            raise SpecError(f"{where}.larmor", f"is {shown(given)} Hz but {where}.species {shown(species)} in "
                            f"model.field = {shown(b0)} T gives |gamma| B0 / 2 pi = {derived!r} Hz; give one of them")
    return derived, species


#: The ``[environment]`` keys that give the microwave strength, one of them per spec
#: (``mw_power`` with ``mw_conversion_factor``); see :func:`read_mw_amplitude`.
MW_STRENGTH_KEYS = ("mw_amplitude", "mw_field", "mw_power")
#: Every ``[environment]`` key of the microwave strength, for the engines' key lists.
MW_KEYS = (*MW_STRENGTH_KEYS, "mw_conversion_factor")


def read_mw_amplitude(env: dict, g_isotropic: float | None = None) -> float:
    """omega_1 / 2 pi in Hz (>= 0) from exactly one of

    * ``environment.mw_amplitude`` (Hz), omega_1 / 2 pi itself;
    * ``environment.mw_field`` B1 (T): omega_1 / 2 pi = g mu_B B1 / h (g: the radical's
      isotropic g, else the free-electron g).  B1 is the amplitude of the field
      rotating at omega_MW (the circular component a linearly polarized lab field
      2 B1 cos(omega_MW t) contains), so the rotating-frame term is omega_1 S_x with
      omega_1 = g mu_B B1 / hbar (docs/conventions.md);
    * ``environment.mw_power`` P (W, or dBm) with ``environment.mw_conversion_factor``
      Lambda (T/W^0.5), the probe's B1 per square-root power: B1 = Lambda sqrt(P), then
      as ``mw_field``.  A power curve is a sweep over ``mw_power``."""
    from dnpsim.units import G_FREE_ELECTRON, H_PLANCK, MU_B

    given = [key for key in MW_STRENGTH_KEYS if key in env]
    if len(given) > 1:
        raise SpecError(f"environment.{given[1]}", f"give one of mw_amplitude (omega_1 / 2 pi), mw_field (B1) or "
                        f"mw_power (with mw_conversion_factor), not {' and '.join(given)}")
    if not given:
        raise SpecError("environment.mw_amplitude", "is required (or give environment.mw_field, or "
                        "environment.mw_power with environment.mw_conversion_factor)")
    if "mw_conversion_factor" in env and given[0] != "mw_power":
        raise SpecError("environment.mw_conversion_factor", f"converts environment.mw_power to B1 and is not read "
                        f"with environment.{given[0]}")
    g = G_FREE_ELECTRON if g_isotropic is None else float(g_isotropic)
    if given[0] == "mw_power":
        if "mw_conversion_factor" not in env:
            raise SpecError("environment.mw_conversion_factor", "is required with environment.mw_power: the probe's "
                            "B1 / sqrt(P), e.g. '0.5 G/W**0.5' (B1 the rotating-frame amplitude)")
        power = read_number(env["mw_power"], "environment.mw_power", "power")
        if power < 0:
            raise SpecError("environment.mw_power", f"must be non-negative, got {shown(env['mw_power'])}")
        factor = read_number(env["mw_conversion_factor"], "environment.mw_conversion_factor", "field_per_root_power")
        if factor <= 0:
            raise SpecError("environment.mw_conversion_factor",
                            f"must be positive, got {shown(env['mw_conversion_factor'])}")
        return g * MU_B * factor * math.sqrt(power) / H_PLANCK
    if given[0] == "mw_field":
        b1 = read_number(env["mw_field"], "environment.mw_field", "magnetic_field")
        if b1 < 0:
            raise SpecError("environment.mw_field", f"must be non-negative, got {shown(env['mw_field'])}")
        return g * MU_B * b1 / H_PLANCK
    w1 = read_number(env["mw_amplitude"], "environment.mw_amplitude", "frequency")
    if w1 < 0:
        raise SpecError("environment.mw_amplitude", f"must be non-negative, got {shown(env['mw_amplitude'])}")
    return w1
