"""Spec kind ``cross_effect``: the cross-effect kinetics engine (Karabanov et al. 2018).

Keys (boundary units: Hz cyclic, s, K, m; strings with units accepted for
frequencies, times, temperatures and lengths)::

    [model]
    kind = "cross_effect"
    offsets = [0.0, 145e6]             # Delta_1, Delta_2 / 2pi from the microwave frequency (required)
    electron_coupling = 100e3          # D / 2pi, secular e-e dipolar coupling (or from geometry)
    electron_larmor = 100e9            # omega_S / 2pi: with environment.temperature, p = tanh(beta omega_S / 2)
    seed = 1                           # for drawn nuclear positions

    [model.nuclei]
    larmor = 145e6                     # omega_I / 2pi (required)
    n = 3                              # number of nuclei (optional; inferred from the arrays)
    hyperfine_secular = [[0, 0, 0], [0, 0, 0]]        # A_jk / 2pi, 2 x N (row j = electron j)
    hyperfine_pseudo_secular = [[1e5, 0, 0], [0, 1e5, 0]]   # Re B_jk / 2pi, 2 x N
    hyperfine_pseudo_secular_imag = [[...], [...]]    # Im B_jk / 2pi (optional, default 0)
    dipolar = [[0, 0, 10], [0, 0, 10], [10, 10, 0]]   # d_kk' / 2pi, N x N symmetric, zero diagonal

    [model.geometry]                   # instead of electron_coupling and the coupling arrays
    electron_positions = [[0, 0, 0], [1.2e-9, 0, 0]]  # m
    nuclear_positions = [[x, y, z], ...]              # m, or a drawn table:
    # nuclear_positions = { distribution = "random_sphere", n = 118, radius = 1.6e-9, min_distance = 0.25e-9 }
    field_direction = [0, 0, 1]        # static field direction (default z)
    gamma_nuclear = 2.6752e8           # rad s^-1 T^-1 (default 1H)
    nuclear_dipolar = true             # false sets d_kk' = 0 (Fig. 2e, dashed)
    secular_hyperfine = true           # false sets A_jk = 0 (keeps B_jk): no hyperfine detuning of the CE match

    [environment]
    mw_amplitude = 10e3                # omega_1 / 2pi (required)
    electron_polarization = 0.984      # p, or temperature + model.electron_larmor:
    temperature = 1.0                  # K
    t1e = 1.0                          # 1/R_1 (s)
    t2e = 1e-5                         # 1/R_2
    t1n = 100.0                        # 1/r_1
    t2n = 1e-3                         # 1/r_2

    [method]
    kind = "lindblad"                  # full master equation, Eq. (1) (<= 6 spins)
    # kind = "zeeman_rates"            # projected rate equation, Eq. (4) (<= 12 spins)
    # kind = "kmc"                     # kinetic Monte Carlo of Eq. (4) (any N)
    times = { start = 0, stop = 200, num = 21 }   # s; or a list.  Omitted: steady state

With ``model.field`` (B0), ``electron_larmor`` may be left out (g mu_B B0 / h, free-electron
g) and the nuclei may give ``species`` (e.g. ``"1H"``, ``"13C"``, ``"15N"``) instead of
``larmor`` (|gamma| B0 / 2pi, Hz); with a geometry the species also sets the default
``gamma_nuclear`` (signed, rad s^-1 T^-1).  A negative-gamma species (15N, 29Si, ...)
gives omega_I = -2pi larmor in Eq. (1) and, from a geometry, hyperfine couplings of the
opposite sign (A, B ~ gamma_e gamma_n / r^3); its thermal polarization P_B is negative.
Hyperfine couplings given as numbers are used as written.  Without ``species`` the
nucleus has positive gamma (``larmor`` > 0).  ``environment.mw_field`` (B1, T), or ``mw_power`` with
``mw_conversion_factor`` (B1 = factor x sqrt(P)), may replace ``mw_amplitude``.

``model.biradical = "AMUPol"`` (or ``"TOTAPOL"``, or a table ``{radical, orientation =
[theta, phi] deg, nuclear_projections = [[m], [m]], ee_direction}``) replaces ``offsets``
and ``electron_coupling`` by those of one molecule in a drawn (``model.seed``) or given
orientation; it needs ``model.field`` and ``environment.mw_frequency`` (Delta_j = nu_j -
nu_MW); see "Biradicals" in docs/engines/cross_effect.md.

``model.electron_larmor`` was ``environment.electron_larmor`` (the old name is still
read: :data:`dnpsim.spec.KEY_ALIASES`).

The method options are those of :class:`dnpsim.methods.Lindblad`,
:class:`~dnpsim.methods.ZeemanRates` and :class:`~dnpsim.methods.KineticMonteCarlo`;
the engine that runs a setup is :func:`dnpsim.experiments.cross_effect.run_points`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnpsim.errors import ModelError, SpecError, shown
from dnpsim.methods import Method, method_from_table
from dnpsim.sample.nuclei import gamma_sign, gyromagnetic_ratio
from dnpsim.specs.readers import (MW_KEYS, check_keys, electron_larmor_hz, read_field, read_integer, read_model_seed,
                                  read_mw_amplitude, read_nuclear_larmor, read_number, read_positive)
from dnpsim.units import TWO_PI

MODEL_KEYS = {"kind", "offsets", "electron_coupling", "electron_larmor", "field", "seed", "nuclei", "geometry",
              "biradical"}
BIRADICAL_KEYS = {"radical", "orientation", "nuclear_projections", "ee_direction"}
NUCLEI_KEYS = {"larmor", "species", "n", "hyperfine_secular", "hyperfine_pseudo_secular", "hyperfine_pseudo_secular_imag",
               "dipolar"}
GEOMETRY_KEYS = {"electron_positions", "nuclear_positions", "field_direction", "gamma_nuclear", "nuclear_dipolar",
                 "secular_hyperfine"}
ENVIRONMENT_KEYS = {*MW_KEYS, "mw_frequency", "electron_polarization", "temperature", "t1e", "t2e", "t1n", "t2n"}
MAX_LINDBLAD_SPINS = 6
MAX_RATE_SPINS = 12
MAX_KMC_NUCLEI = 20000


def reuses_model(dotted_key: str) -> bool:
    """No key is shared between points: every point builds its (cheap) model."""
    return False


@dataclass(frozen=True)
class CrossEffectSetup:
    """A resolved ``cross_effect`` spec in boundary units plus the drawn positions.
    ``resolved_model`` is the ``[model]`` table with the couplings written out,
    ``geometry`` the normalized ``[model.geometry]`` table (SI numbers, defaults
    written out) when the spec gave one."""

    model_values: dict
    environment_values: dict
    method: Method
    resolved_model: dict = field(compare=False)
    geometry: dict | None = field(default=None, compare=False)
    biradical: dict | None = field(default=None, compare=False)

    def model(self):
        """The :class:`~dnpsim.models.cross_effect.CrossEffectModel` of this point."""
        from dnpsim.models.cross_effect import CrossEffectModel

        m, e = self.model_values, self.environment_values
        return CrossEffectModel.from_hz(offsets=m["offsets"], omega1=e["mw_amplitude"], D=m["D"],
                                        omega_I=m.get("gamma_sign", 1.0) * m["larmor"], A=m["A"], B=m["B"],
                                        d=m["d"], t1e=e["t1e"],
                                        t2e=e["t2e"], t1n=e["t1n"], t2n=e["t2n"], p=e["p"],
                                        temperature=None if e["p"] is not None else e["temperature"],
                                        electron_larmor=None if e["p"] is not None else e["electron_larmor"])

    def resolved_spec(self, drawn: bool = True) -> dict:
        """``model``, ``environment``, ``method`` tables in SI numbers, every default
        written out, the couplings written out (Hz) as nested lists (built here, when a
        result is written, not when validating); with ``drawn=False`` a geometry is
        kept as its (normalized) table instead of its couplings.  See "Resolved specs"
        in :mod:`dnpsim.spec`."""
        if not drawn and self.biradical is not None:  # the biradical as given (orientation drawn or not)
            model = {k: v for k, v in _as_lists(self.resolved_model).items()
                     if k not in ("offsets", "electron_coupling")}
            model["biradical"] = copy.deepcopy(self.biradical)
        elif drawn or self.geometry is None:
            model = _as_lists(self.resolved_model)
        else:
            model = {k: v for k, v in self.resolved_model.items() if k not in ("electron_coupling", "nuclei")}
            model["nuclei"] = {key: self.resolved_model["nuclei"][key] for key in ("larmor", "species", "n")
                               if key in self.resolved_model["nuclei"]}
            model["geometry"] = copy.deepcopy(self.geometry)
        return {"model": model, "environment": dict(self.environment_values["table"]), "method": self.method.to_table()}

    def drawn_arrays(self) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
        """With ``model.biradical``, the realization's offsets and D (Hz), which a sweep
        stores with its results; otherwise nothing (the resolved spec holds the couplings)."""
        if self.biradical is None:
            return {}
        return {"offsets": (("electron",), np.asarray(self.model_values["offsets"], float)),
                "electron_coupling": ((), np.asarray(self.model_values["D"], float))}


def _as_lists(table: dict) -> dict:
    """``table`` with its numpy arrays as nested lists (recursively)."""
    return {k: _as_lists(v) if isinstance(v, dict) else v.tolist() if isinstance(v, np.ndarray) else v
            for k, v in table.items()}


def _numbers(rows: list, field: str, cols: int | None, dimension: str) -> np.ndarray:
    """A (rows, cols) float array of a nested list; plain numbers are read at numpy
    speed, anything else entry by entry (strings with units, errors naming [i][j])."""
    if all(type(v) in (int, float) for r in rows for v in r):
        try:
            return np.array(rows, dtype=float).reshape(len(rows), -1 if cols is None else cols)
        except OverflowError:  # an integer beyond the float range: found and named below
            pass
    return np.array([[read_number(v, f"{field}[{i}][{j}]", dimension) for j, v in enumerate(r)]
                     for i, r in enumerate(rows)], float).reshape(len(rows), -1 if cols is None else cols)


def _matrix(value: Any, field: str, rows: int, cols: int | None) -> np.ndarray:
    if not isinstance(value, list) or len(value) != rows or not all(isinstance(r, list) for r in value):
        raise SpecError(field, f"must be a nested list with {rows} rows")
    lengths = {len(r) for r in value}
    if len(lengths) > 1 or (cols is not None and lengths - {cols}):
        raise SpecError(field, f"rows must all have {cols if cols is not None else 'the same number of'} entries")
    out = _numbers(value, field, cols, "frequency")
    with np.errstate(over="ignore"):
        bad = np.argwhere(~np.isfinite(TWO_PI * out))
    if bad.size:
        i, j = bad[0]
        read_number(value[i][j], f"{field}[{i}][{j}]", "frequency")  # raises, saying why
    return out


def _positions(value: Any, field: str, rows: int | None) -> np.ndarray:
    if not isinstance(value, list) or not all(isinstance(r, list) and len(r) == 3 for r in value):
        raise SpecError(field, "must be a list of [x, y, z] positions in metres")
    if rows is not None and len(value) != rows:
        raise SpecError(field, f"must have {rows} positions")
    out = _numbers(value, field, 3, "length")
    bad = np.argwhere(~np.isfinite(out))
    if bad.size:
        i, j = bad[0]
        raise SpecError(f"{field}[{i}][{j}]", f"must be finite, got {shown(out[i, j])}")
    return out


def _resolve_environment(env: Any, electron_larmor: Any) -> dict:
    """The environment values (s, Hz, K; ``p`` or ``temperature``) and under
    ``"table"`` the resolved ``[environment]`` table; ``electron_larmor`` is the
    ``model.electron_larmor`` of the spec (or None)."""
    check_keys(env, ENVIRONMENT_KEYS, "environment")
    w1 = read_mw_amplitude(env)
    if "electron_polarization" in env:
        if "temperature" in env:
            raise SpecError("environment.temperature", "give electron_polarization or temperature, not both")
        p = read_number(env["electron_polarization"], "environment.electron_polarization")
        if not 0 <= p < 1:
            raise SpecError("environment.electron_polarization", f"must be in [0, 1), got {p}")
        temperature = None
        larmor = read_positive(electron_larmor, "model.electron_larmor", "frequency") \
            if electron_larmor is not None else None
        table = {"mw_amplitude": w1, "electron_polarization": p}
    else:
        if "temperature" not in env:
            raise SpecError("environment.temperature", "is required (or give environment.electron_polarization)")
        if electron_larmor is None:
            raise SpecError("model.electron_larmor", "is required (with environment.temperature; or give "
                            "environment.electron_polarization)")
        temperature = read_positive(env["temperature"], "environment.temperature", "temperature")
        larmor = read_positive(electron_larmor, "model.electron_larmor", "frequency")
        p = None  # the model derives it from temperature and electron_larmor
        table = {"mw_amplitude": w1, "temperature": temperature}
    values = {"mw_amplitude": w1, "p": p, "temperature": temperature, "electron_larmor": larmor}
    for key in ("t1e", "t2e", "t1n", "t2n"):
        if key not in env:
            raise SpecError(f"environment.{key}", "is required")
        values[key] = read_positive(env[key], f"environment.{key}", "time")
    from dnpsim.dynamics.rates import check_relaxation_times

    try:  # no completely positive relaxation has T2 > 2 T1
        check_relaxation_times(values["t1e"], values["t2e"], "environment.t2e")
        check_relaxation_times(values["t1n"], values["t2n"], "environment.t2n")
    except ModelError as exc:
        raise SpecError(exc.field, exc.message) from None
    values["table"] = {**table, **{key: values[key] for key in ("t1e", "t2e", "t1n", "t2n")}}
    return values


#: Random sequential addition of hard spheres jams at a volume fraction of about 0.38
#: (3D); drawn positions beyond it cannot be placed.
RSA_JAMMING = 0.38


def _drawn_positions_table(value: dict) -> tuple[int, float, float]:
    """(n, radius, min_distance) of a ``{distribution = "random_sphere", ...}`` table."""
    where = "model.geometry.nuclear_positions"
    check_keys(value, {"distribution", "n", "radius", "min_distance"}, where)
    if value.get("distribution") != "random_sphere":
        raise SpecError(f"{where}.distribution", f"must be 'random_sphere', got {shown(value.get('distribution'))}")
    for key in ("n", "radius", "min_distance"):
        if key not in value:
            raise SpecError(f"{where}.{key}", "is required")
    n = read_integer(value["n"], f"{where}.n", 1)
    radius = read_number(value["radius"], f"{where}.radius", "length")
    if not radius > 0:
        raise SpecError(f"{where}.radius", f"must be positive (metres), got {shown(value['radius'])}")
    dmin = read_number(value["min_distance"], f"{where}.min_distance", "length")
    if not dmin >= 0:
        raise SpecError(f"{where}.min_distance", f"must be non-negative (metres), got {shown(value['min_distance'])}")
    return n, radius, dmin


def _count_nuclei(model: dict, nuclei: dict) -> tuple[int, str]:
    """The number of nuclei of a model table and the key that sets it (the one to
    name when the number is too large), read without building anything."""
    if "geometry" in model:
        geometry = check_keys(model["geometry"], GEOMETRY_KEYS, "model.geometry")
        if "electron_coupling" in model:
            raise SpecError("model.electron_coupling", "is computed from model.geometry; give one or the other")
        for key in ("hyperfine_secular", "hyperfine_pseudo_secular", "hyperfine_pseudo_secular_imag", "dipolar"):
            if key in nuclei:
                raise SpecError(f"model.nuclei.{key}", "is computed from model.geometry; give one or the other")
        if "electron_positions" not in geometry:
            raise SpecError("model.geometry.electron_positions", "is required")
        if "nuclear_positions" not in geometry:
            raise SpecError("model.geometry.nuclear_positions", "is required")
        value = geometry["nuclear_positions"]
        if isinstance(value, dict):
            n, field = _drawn_positions_table(value)[0], "model.geometry.nuclear_positions.n"
        elif isinstance(value, list):
            n, field = len(value), "model.geometry.nuclear_positions"
        else:
            raise SpecError("model.geometry.nuclear_positions", "must be a list of [x, y, z] positions in metres "
                            "or a {distribution = 'random_sphere', n, radius, min_distance} table")
        if nuclei.get("n") is not None and read_integer(nuclei["n"], "model.nuclei.n", 0) != n:
            raise SpecError("model.nuclei.n", f"is {nuclei['n']} but {field} gives {n} nuclei")
        return n, field
    if "electron_coupling" not in model and "biradical" not in model:
        raise SpecError("model.electron_coupling", "is required (D in Hz) unless model.geometry or model.biradical "
                        "is given")
    if nuclei.get("n") is not None:
        return read_integer(nuclei["n"], "model.nuclei.n", 0), "model.nuclei.n"
    for key in ("hyperfine_secular", "hyperfine_pseudo_secular", "hyperfine_pseudo_secular_imag"):
        if isinstance(nuclei.get(key), list) and nuclei[key] and isinstance(nuclei[key][0], list):
            return len(nuclei[key][0]), f"model.nuclei.{key}"
    if isinstance(nuclei.get("dipolar"), list):
        return len(nuclei["dipolar"]), "model.nuclei.dipolar"
    raise SpecError("model.nuclei.n", "is required when no coupling arrays are given")


def _biradical_entry(model: dict):
    """The library biradical of ``model.biradical`` (a name or a table with ``radical``),
    or None when the spec gives none."""
    from dnpsim.sample.radicals import radical

    if "biradical" not in model:
        return None
    value = model["biradical"]
    if isinstance(value, str):
        value = {"radical": value}
    if not isinstance(value, dict):
        raise SpecError("model.biradical", "must be a library biradical name (e.g. 'AMUPol') or a table "
                        f"{{radical, orientation, nuclear_projections, ee_direction}}, got {shown(value)}")
    check_keys(value, BIRADICAL_KEYS, "model.biradical")
    if "radical" not in value:
        raise SpecError("model.biradical.radical", "is required (a library biradical, e.g. 'AMUPol')")
    entry = radical(value["radical"], "model.biradical.radical")
    if not entry.is_biradical or entry.relative_orientation is None:
        raise SpecError("model.biradical.radical", f"{entry.name!r} is not a biradical (no electron-electron "
                        "distance and relative orientation in the library; `dnpsim radicals` lists them)")
    if "geometry" in model:
        raise SpecError("model.geometry", "model.biradical sets the electrons and their coupling; give "
                        "model.biradical or model.geometry, not both")
    if model.get("field") is None:
        raise SpecError("model.field", "is required with model.biradical (the offsets follow from g B0)")
    return entry


def _biradical(model: dict, entry, b0: float, mw_frequency: float, seed: int | None):
    """(offsets [Hz, Hz], D (Hz), the resolved biradical table, the table as given) of
    ``model.biradical``: the orientation of B0 in moiety 1's frame and the m_I of each
    hyperfine nucleus drawn with ``seed`` unless given (draw order: cos theta, phi, then
    the m_I of electron 1's nuclei, then electron 2's; an orientation given still
    consumes its two draws, so that given and drawn values combine reproducibly)."""
    from dnpsim.models.cross_effect import biradical_couplings
    from dnpsim.sample.powder import nuclear_projections, random_orientations

    where = "model.biradical"
    value = model["biradical"]
    value = {"radical": value} if isinstance(value, str) else value
    ee = value.get("ee_direction", [1.0, 0.0, 0.0])
    if not isinstance(ee, list) or len(ee) != 3:
        raise SpecError(f"{where}.ee_direction", f"must be a 3-vector (in moiety 1's principal frame), got {shown(ee)}")
    ee = [read_number(v, f"{where}.ee_direction[{i}]") for i, v in enumerate(ee)]
    if not np.all(np.isfinite(ee)) or not np.linalg.norm(ee) > 0:
        raise SpecError(f"{where}.ee_direction", f"must be a finite non-zero 3-vector, got {shown(value['ee_direction'])}")
    spins = [group.spin for group in entry.hyperfine for _ in range(group.count)]
    drawn = "orientation" not in value or ("nuclear_projections" not in value and spins)
    rng = None
    if drawn:
        if seed is None:
            raise SpecError("model.seed", "is required when the biradical orientation or nuclear projections are "
                            f"drawn (or give {where}.orientation and {where}.nuclear_projections)")
        rng = np.random.default_rng(seed)
        theta, phi = random_orientations(1, rng)
    if "orientation" in value:
        o = value["orientation"]
        if not isinstance(o, list) or len(o) != 2:
            raise SpecError(f"{where}.orientation", "must be [theta, phi] (deg): B0 in moiety 1's principal frame, "
                            f"got {shown(o)}")
        orientation = [read_number(v, f"{where}.orientation[{i}]") for i, v in enumerate(o)]
        if not 0.0 <= orientation[0] <= 180.0:
            raise SpecError(f"{where}.orientation[0]", f"theta must be in [0, 180] deg, got {shown(o[0])}")
        if not np.isfinite(orientation[1]):
            raise SpecError(f"{where}.orientation[1]", f"must be finite, got {shown(o[1])}")
    else:
        orientation = [float(np.degrees(theta[0])), float(np.degrees(phi[0]))]
    if "nuclear_projections" in value:
        m = value["nuclear_projections"]
        if not isinstance(m, list) or len(m) != 2 or not all(isinstance(r, list) and len(r) == len(spins) for r in m):
            raise SpecError(f"{where}.nuclear_projections", f"must be two rows (one per electron) of {len(spins)} "
                            f"m_I values (the hyperfine nuclei of {entry.name}), got {shown(m)}")
        projections = []
        for j, row in enumerate(m):
            out = []
            for k, v in enumerate(row):
                x = read_number(v, f"{where}.nuclear_projections[{j}][{k}]")
                if not (abs(x) <= spins[k] and float(2 * x).is_integer() and float(x + spins[k]).is_integer()):
                    raise SpecError(f"{where}.nuclear_projections[{j}][{k}]", f"must be one of -I, ..., I with "
                                    f"I = {spins[k]:g}, got {shown(v)}")
                out.append(x)
            projections.append(out)
    else:
        projections = [[float(x) for group in entry.hyperfine
                        for x in nuclear_projections(group.spin, group.count, rng)] for _ in range(2)]
    offsets, D = biradical_couplings(entry, b0, mw_frequency, orientation, projections, ee)
    for key, given, computed in (("offsets", model.get("offsets"), offsets),
                                 ("electron_coupling", model.get("electron_coupling"), D)):
        if given is None:
            continue  # a resolved spec writes both; they must agree with the biradical
        ok = isinstance(given, list) and len(given) == 2 if key == "offsets" else True
        values = [read_number(v, f"model.{key}[{i}]", "frequency") for i, v in enumerate(given)] if ok and \
            key == "offsets" else [read_number(given, f"model.{key}", "frequency")] if ok else []
        want = computed if key == "offsets" else [computed]
        if not ok or not all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6) for a, b in zip(values, want)):
            raise SpecError(f"model.{key}", f"is computed from model.biradical ({shown(computed)} Hz here); give "
                            "one or the other (a resolved spec writes both, equal)")
    table = {"radical": entry.name, "orientation": orientation, "nuclear_projections": projections,
             "ee_direction": ee}
    given_table = {"radical": entry.name, "ee_direction": ee,
                   **{k: table[k] for k in ("orientation", "nuclear_projections") if k in value}}
    return [float(x) for x in offsets], float(D), table, given_table


def _check_size(n: int, field: str, method: Method) -> None:
    """The limits of each method on the number of nuclei."""
    kind = method.kind
    if kind == "lindblad" and n + 2 > MAX_LINDBLAD_SPINS:
        raise SpecError(field, f"method 'lindblad' handles at most {MAX_LINDBLAD_SPINS - 2} nuclei, got {n} "
                        "(use zeeman_rates or kmc)")
    if kind == "zeeman_rates" and n + 2 > MAX_RATE_SPINS:
        raise SpecError(field, f"method 'zeeman_rates' handles at most {MAX_RATE_SPINS - 2} nuclei, got {n} (use kmc)")
    if kind == "kmc" and n > MAX_KMC_NUCLEI:
        raise SpecError(field, f"method 'kmc' handles at most {MAX_KMC_NUCLEI} nuclei here, got {n}")
    if kind == "kmc" and n == 0:
        raise SpecError(field, "method 'kmc' needs at least one nucleus")


def estimate_memory(n: int, method: Method, pairs: int = 0) -> dict[str, float]:
    """Peak bytes of one run with ``n`` nuclei, split by what sets them: ``"nuclei"``
    (the model and its couplings, the written-out couplings of the result), ``"times"``
    (the trajectory arrays at the output times) and ``"trajectories"`` (one generator
    state each).  ``pairs`` is the number of nuclear pairs the kinetic Monte Carlo keeps
    (|d_kl| above ``min_pair_coupling``; 0 before the couplings are known, which gives
    a lower bound).  Calibrated on the peak resident memory of runs: lindblad with 4
    nuclei 0.31 GiB (steady state) / 0.58 GiB (evolution), zeeman_rates with 10 nuclei
    4.4 GiB, kmc with 1000 / 2000 nuclei and every pair kept 0.19 / 0.89 GiB."""
    spins = n + 2
    times = len(method.times) if getattr(method, "times", None) is not None else 0
    if method.kind == "lindblad":  # the dense Liouvillian (4^s)^2 and its factorization or propagator
        base = (20 if times == 0 else 40) * 16.0**spins
        return {"nuclei": base, "times": 32.0 * times * 4.0**spins, "trajectories": 0.0}
    if method.kind == "zeeman_rates":  # the projection through the 2^s Zeeman states
        return {"nuclei": 300 * 4.0**spins, "times": 24.0 * times * 2.0**spins, "trajectories": 0.0}
    # kmc: couplings d (spec, model), the pair lists and their incidence (Python lists
    # of tuples), the couplings written out as nested lists and JSON; per output time
    # the group sums, means, errors and their lists / JSON per spin; per trajectory a state
    return {"nuclei": 100.0 * n * n + 264.0 * pairs + 32 * 2**20, "times": 300.0 * times * spins,
            "trajectories": 24.0 * method.trajectories}


def _check_memory(n: int, field: str, method: Method, pairs: int = 0) -> None:
    """Refuse a run that cannot fit in memory, naming the field of its largest part."""
    from dnpsim.memory import check_fits

    parts = estimate_memory(n, method, pairs)
    largest = max(parts, key=parts.get)
    what = {"nuclei": (field, f"{n} nuclei with method {method.kind!r}"),
            "times": ("method.times", f"{len(method.times or ())} output times of {n} nuclei"),
            "trajectories": ("method.trajectories", f"{getattr(method, 'trajectories', 0)} trajectories")}[largest]
    check_fits(sum(parts.values()), *what)


def _kept_pairs(d: np.ndarray, threshold: float) -> int:
    """Number of pairs k < l with |d_kl| > threshold (Hz), counted a block of rows at a time."""
    from dnpsim.models.cross_effect import row_blocks

    count = sum(int(np.count_nonzero(np.abs(d[rows]) > threshold)) for rows in row_blocks(d.shape[0]))
    return count // 2  # d is symmetric with a zero diagonal


def resolve(spec: dict, seed: int | None = None) -> CrossEffectSetup:
    """Validate a ``cross_effect`` spec (SpecError naming the field) and draw nuclear
    positions if asked.  Sizes and the memory of the run are checked before anything
    large is built; nothing heavy is computed (the couplings of a geometry are)."""
    from dnpsim.models.cross_effect import (GAMMA_PROTON, row_blocks, point_dipole_couplings,
                                            random_nuclear_positions)

    if "environment" not in spec:
        raise SpecError("environment", "section is required")
    if "method" not in spec:
        raise SpecError("method", "section is required (kind = lindblad, zeeman_rates or kmc)")
    method = method_from_table(spec["method"], "cross_effect")
    model = check_keys(spec["model"], MODEL_KEYS, "model")
    b0 = read_field(model)
    entry = _biradical_entry(model)
    environment = check_keys(spec["environment"], ENVIRONMENT_KEYS, "environment")
    mw_frequency = environment.get("mw_frequency")
    if mw_frequency is not None:
        if entry is None:
            raise SpecError("environment.mw_frequency", "is used only with model.biradical (otherwise give "
                            "model.offsets, the electrons' offsets from the microwave frequency)")
        mw_frequency = read_positive(mw_frequency, "environment.mw_frequency", "frequency")
    env = _resolve_environment({k: v for k, v in environment.items() if k != "mw_frequency"},
                               electron_larmor_hz(model, None if entry is None else entry.g_iso))
    if entry is None:
        if "offsets" not in model:
            raise SpecError("model.offsets", "is required (Delta_1, Delta_2 in Hz), or give model.biradical")
        if not isinstance(model["offsets"], list) or len(model["offsets"]) != 2:
            raise SpecError("model.offsets", "must be a list of two frequencies")
        offsets = [read_number(v, f"model.offsets[{i}]", "frequency") for i, v in enumerate(model["offsets"])]
    if "nuclei" not in model:
        raise SpecError("model.nuclei", "table is required (at least larmor)")
    nuclei = check_keys(model["nuclei"], NUCLEI_KEYS, "model.nuclei")
    larmor, species = read_nuclear_larmor(nuclei, b0)
    # the Zeeman term of Eq. (1) is +omega_I I_z with omega_I = sign(gamma) |gamma| B0 (the
    # relabelled nuclear frame, docs/conventions.md); larmor stays |gamma| B0 / 2 pi
    sign = gamma_sign(species)
    model_seed = read_model_seed(model, seed)

    # sizes first: the number of nuclei and the memory of the run, before building anything
    n, n_field = _count_nuclei(model, nuclei)
    _check_size(n, n_field, method)
    _check_memory(n, n_field, method)

    biradical_table = biradical_given = None
    if entry is not None:
        if mw_frequency is None:
            raise SpecError("environment.mw_frequency", "is required with model.biradical (the offsets are "
                            "Delta_j = nu_j - nu_MW)")
        offsets, D_biradical, biradical_table, biradical_given = _biradical(model, entry, b0, mw_frequency,
                                                                            model_seed)
        env["table"] = {"mw_frequency": mw_frequency, **env["table"]}
    resolved: dict[str, Any] = {"kind": "cross_effect", "offsets": offsets}
    if biradical_table is not None:
        resolved["biradical"] = biradical_table
    if b0 is not None:
        resolved["field"] = b0
    if env["electron_larmor"] is not None:
        resolved["electron_larmor"] = env["electron_larmor"]
    geometry_table = None
    if "geometry" in model:
        geometry = model["geometry"]
        re = _positions(geometry["electron_positions"], "model.geometry.electron_positions", 2)
        value = geometry["nuclear_positions"]
        if isinstance(value, dict):
            n, radius, dmin = _drawn_positions_table(value)
            fraction = n * (dmin / 2) ** 3 / (radius + dmin / 2) ** 3
            if fraction > RSA_JAMMING:
                raise SpecError("model.geometry.nuclear_positions", f"{n} nuclei at least {dmin:g} m apart do not "
                                f"fit in a sphere of radius {radius:g} m (volume fraction {fraction:.2g}; random "
                                f"placement jams at {RSA_JAMMING})")
            if model_seed is None:
                raise SpecError("model.seed", "is required when nuclear positions are drawn")
            try:
                rn = random_nuclear_positions(n, radius, dmin, re, np.random.default_rng(model_seed))
            except ModelError as exc:
                raise SpecError("model.geometry.nuclear_positions", exc.message) from None
            positions_table: Any = {"distribution": "random_sphere", "n": n, "radius": radius, "min_distance": dmin}
        else:
            rn = _positions(value, "model.geometry.nuclear_positions", None)
            positions_table = rn.tolist()
        direction = geometry.get("field_direction", [0.0, 0.0, 1.0])
        if not isinstance(direction, list) or len(direction) != 3:
            raise SpecError("model.geometry.field_direction", "must be a 3-vector")
        direction = [read_number(v, f"model.geometry.field_direction[{i}]") for i, v in enumerate(direction)]
        default_gamma = GAMMA_PROTON if species is None else gyromagnetic_ratio(species)
        gamma_n = read_number(geometry.get("gamma_nuclear", default_gamma), "model.geometry.gamma_nuclear")
        dipolar_on = geometry.get("nuclear_dipolar", True)
        if not isinstance(dipolar_on, bool):
            raise SpecError("model.geometry.nuclear_dipolar", "must be true or false")
        secular_on = geometry.get("secular_hyperfine", True)
        if not isinstance(secular_on, bool):
            raise SpecError("model.geometry.secular_hyperfine", "must be true or false")
        try:
            D, A, B, d = point_dipole_couplings(re, rn, direction, gamma_n=gamma_n, nuclear_dipolar=dipolar_on)
        except ModelError as exc:
            raise SpecError(f"model.geometry.{exc.field}", exc.message) from None
        with np.errstate(over="ignore", invalid="ignore"):
            if not np.isfinite(TWO_PI * D):
                raise SpecError("model.geometry.electron_positions", "the electrons are so close that their "
                                "dipolar coupling overflows")
            if not (np.all(np.isfinite(TWO_PI * A)) and np.all(np.isfinite(TWO_PI * np.abs(B)))
                    and all(np.all(np.isfinite(TWO_PI * d[rows])) for rows in row_blocks(n))):
                raise SpecError("model.geometry.nuclear_positions", "two spins are so close that their dipolar "
                                "coupling overflows")
        if not secular_on:
            A = np.zeros_like(A)
        resolved["nuclei"] = {"larmor": larmor, **({"species": species} if species else {})}
        geometry_table = {"electron_positions": re.tolist(), "nuclear_positions": positions_table,
                          "field_direction": direction, "gamma_nuclear": gamma_n, "nuclear_dipolar": dipolar_on,
                          "secular_hyperfine": secular_on}
    else:
        D = D_biradical if entry is not None else \
            read_number(model["electron_coupling"], "model.electron_coupling", "frequency")
        A = _matrix(nuclei["hyperfine_secular"], "model.nuclei.hyperfine_secular", 2, n) \
            if "hyperfine_secular" in nuclei else np.zeros((2, n))
        B = _matrix(nuclei["hyperfine_pseudo_secular"], "model.nuclei.hyperfine_pseudo_secular", 2, n) \
            if "hyperfine_pseudo_secular" in nuclei else np.zeros((2, n))
        if "hyperfine_pseudo_secular_imag" in nuclei:
            B = B + 1j * _matrix(nuclei["hyperfine_pseudo_secular_imag"], "model.nuclei.hyperfine_pseudo_secular_imag",
                                 2, n)
        if "dipolar" in nuclei:
            d = _matrix(nuclei["dipolar"], "model.nuclei.dipolar", n, n) if n else np.zeros((0, 0))
            diagonal = np.flatnonzero(np.diag(d))
            if diagonal.size:
                i = diagonal[0]
                raise SpecError(f"model.nuclei.dipolar[{i}][{i}]", f"diagonal must be zero, got {shown(d[i, i])}")
            asymmetric = np.argwhere(np.triu(d != d.T))
            if asymmetric.size:
                i, j = asymmetric[0]
                raise SpecError(f"model.nuclei.dipolar[{i}][{j}]", f"must be symmetric: {shown(d[i, j])} != "
                                f"[{j}][{i}] = {shown(d[j, i])}")
        else:
            d = np.zeros((n, n))
        resolved["electron_coupling"] = D
        resolved["nuclei"] = {"larmor": larmor, **({"species": species} if species else {})}
    n = A.shape[1]
    if method.kind == "kmc":  # the pairs the kinetic Monte Carlo keeps are known now
        _check_memory(n, n_field, method, _kept_pairs(d, method.min_pair_coupling))
    # the couplings are written out (as arrays here, as lists only when a result is
    # written); a geometry is not kept, so that rerunning the spec does not mix the two
    resolved["electron_coupling"] = float(D)
    resolved["nuclei"].update({"n": n, "hyperfine_secular": A, "hyperfine_pseudo_secular": B.real,
                               "hyperfine_pseudo_secular_imag": B.imag, "dipolar": d})
    if model_seed is not None:
        resolved["seed"] = model_seed
    model_values = {"offsets": offsets, "D": float(D), "larmor": larmor, "gamma_sign": sign, "A": A, "B": B,
                    "d": d}
    setup = CrossEffectSetup(model_values, env, method, resolved, geometry_table, biradical_given)
    try:
        setup.model()
    except ModelError as exc:
        raise SpecError(_spec_key(exc.field, model), exc.message) from None
    return setup


def _spec_key(model_field: str, model: dict) -> str:
    """The spec key the user wrote for a field of
    :class:`~dnpsim.models.cross_effect.CrossEffectModel` (its paper symbols)."""
    geometry = "geometry" in model
    keys = {"temperature": "environment.temperature", "electron_larmor": "model.electron_larmor",
            "p": "environment.electron_polarization", "omega1": "environment.mw_amplitude",
            "R1": "environment.t1e", "R2": "environment.t2e", "r1": "environment.t1n", "r2": "environment.t2n",
            "offsets": "model.biradical" if "biradical" in model else "model.offsets",
            "omega_I": "model.nuclei.larmor",
            "D": "model.geometry.electron_positions" if geometry else
                 "model.biradical" if "biradical" in model else "model.electron_coupling",
            "A": "model.geometry.nuclear_positions" if geometry else "model.nuclei.hyperfine_secular",
            "B": "model.geometry.nuclear_positions" if geometry else "model.nuclei.hyperfine_pseudo_secular",
            "d": "model.geometry.nuclear_positions" if geometry else "model.nuclei.dipolar"}
    return keys.get(model_field, "model")
