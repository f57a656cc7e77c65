"""Spec kind ``cross_effect``: the cross-effect kinetics engine (Karabanov et al. 2018).

Keys (boundary units: Hz cyclic, s, K, m; strings with units accepted for
frequencies, times and temperatures)::

    [model]
    kind = "cross_effect"
    offsets = [0.0, 145e6]             # Delta_1, Delta_2 / 2pi from the microwave frequency (required)
    electron_coupling = 100e3          # D / 2pi, secular e-e dipolar coupling (or from geometry)
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
    electron_polarization = 0.984      # p, or temperature + electron_larmor:
    temperature = 1.0                  # K
    electron_larmor = 100e9            # omega_S / 2pi
    t1e = 1.0                          # 1/R_1 (s)
    t2e = 1e-5                         # 1/R_2
    t1n = 100.0                        # 1/r_1
    t2n = 1e-3                         # 1/r_2

    [method]
    kind = "lindblad"                  # full master equation, Eq. (1) (<= 6 spins)
    # kind = "zeeman_rates"            # projected rate equation, Eq. (4) (<= 12 spins)
    # kind = "kmc"                     # kinetic Monte Carlo of Eq. (4) (any N)
    times = { start = 0, stop = 200, num = 21 }   # s; or a list.  Omitted: steady state

The method options are those of :class:`dnpsim.methods.Lindblad`,
:class:`~dnpsim.methods.ZeemanRates` and :class:`~dnpsim.methods.KineticMonteCarlo`;
the engine that runs a setup is :func:`dnpsim.experiments.cross_effect.run_points`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnpsim.errors import ModelError, SpecError
from dnpsim.methods import Method, method_from_table
from dnpsim.specs.readers import check_keys, read_integer, read_model_seed, read_number, read_positive

MODEL_KEYS = {"kind", "offsets", "electron_coupling", "seed", "nuclei", "geometry"}
NUCLEI_KEYS = {"larmor", "n", "hyperfine_secular", "hyperfine_pseudo_secular", "hyperfine_pseudo_secular_imag",
               "dipolar"}
GEOMETRY_KEYS = {"electron_positions", "nuclear_positions", "field_direction", "gamma_nuclear", "nuclear_dipolar",
                 "secular_hyperfine"}
ENVIRONMENT_KEYS = {"mw_amplitude", "electron_polarization", "temperature", "electron_larmor", "t1e", "t2e", "t1n",
                    "t2n"}
MAX_LINDBLAD_SPINS = 6
MAX_RATE_SPINS = 12
MAX_KMC_NUCLEI = 20000


def reuses_model(dotted_key: str) -> bool:
    """No key is shared between points: every point builds its (cheap) model."""
    return False


@dataclass(frozen=True)
class CrossEffectSetup:
    """A resolved ``cross_effect`` spec in boundary units plus the drawn positions."""

    model_values: dict
    environment_values: dict
    method: Method
    resolved_model: dict = field(compare=False)

    def model(self):
        """The :class:`~dnpsim.models.cross_effect.CrossEffectModel` of this point."""
        from dnpsim.models.cross_effect import CrossEffectModel

        m, e = self.model_values, self.environment_values
        return CrossEffectModel.from_hz(offsets=m["offsets"], omega1=e["mw_amplitude"], D=m["D"],
                                        omega_I=m["larmor"], A=m["A"], B=m["B"], d=m["d"], t1e=e["t1e"],
                                        t2e=e["t2e"], t1n=e["t1n"], t2n=e["t2n"], p=e["p"],
                                        temperature=None if e["p"] is not None else e["temperature"],
                                        electron_larmor=None if e["p"] is not None else e["electron_larmor"])

    def resolved_spec(self) -> dict:
        return {"model": self.resolved_model, "environment": dict(self.environment_values["spec"]),
                "method": self.method.to_table()}

    def drawn_arrays(self) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
        """Nothing is stored per realization beyond the results (the resolved spec
        holds the couplings)."""
        return {}


def _matrix(value: Any, field: str, rows: int, cols: int | None) -> np.ndarray:
    if not isinstance(value, list) or len(value) != rows or not all(isinstance(r, list) for r in value):
        raise SpecError(field, f"must be a nested list with {rows} rows")
    lengths = {len(r) for r in value}
    if len(lengths) != 1 or (cols is not None and lengths != {cols}):
        raise SpecError(field, f"rows must all have {cols if cols is not None else 'the same'} entries")
    return np.array([[read_number(v, f"{field}[{i}][{j}]", "frequency") for j, v in enumerate(r)]
                     for i, r in enumerate(value)], float).reshape(rows, -1)


def _positions(value: Any, field: str, rows: int | None) -> np.ndarray:
    if not isinstance(value, list) or not all(isinstance(r, list) and len(r) == 3 for r in value):
        raise SpecError(field, "must be a list of [x, y, z] positions in metres")
    if rows is not None and len(value) != rows:
        raise SpecError(field, f"must have {rows} positions")
    out = np.array([[read_number(v, f"{field}[{i}][{j}]") for j, v in enumerate(r)] for i, r in enumerate(value)])
    return out.reshape(-1, 3)


def _resolve_environment(env: Any) -> dict:
    check_keys(env, ENVIRONMENT_KEYS, "environment")
    if "mw_amplitude" not in env:
        raise SpecError("environment.mw_amplitude", "is required")
    w1 = read_number(env["mw_amplitude"], "environment.mw_amplitude", "frequency")
    if w1 < 0:
        raise SpecError("environment.mw_amplitude", f"must be non-negative, got {env['mw_amplitude']!r}")
    if "electron_polarization" in env:
        if "temperature" in env:
            raise SpecError("environment.temperature", "give electron_polarization or temperature, not both")
        p = read_number(env["electron_polarization"], "environment.electron_polarization")
        if not 0 <= p < 1:
            raise SpecError("environment.electron_polarization", f"must be in [0, 1), got {p}")
        temperature = None
        larmor = read_positive(env["electron_larmor"], "environment.electron_larmor", "frequency") \
            if "electron_larmor" in env else None
    else:
        for key in ("temperature", "electron_larmor"):
            if key not in env:
                raise SpecError(f"environment.{key}", "is required (or give environment.electron_polarization)")
        temperature = read_positive(env["temperature"], "environment.temperature", "temperature")
        larmor = read_positive(env["electron_larmor"], "environment.electron_larmor", "frequency")
        p = None  # the model derives it from temperature and electron_larmor
    values = {"mw_amplitude": w1, "p": p, "temperature": temperature, "electron_larmor": larmor}
    for key in ("t1e", "t2e", "t1n", "t2n"):
        if key not in env:
            raise SpecError(f"environment.{key}", "is required")
        values[key] = read_positive(env[key], f"environment.{key}", "time")
    values["spec"] = dict(env)
    return values


def resolve(spec: dict, seed: int | None = None) -> CrossEffectSetup:
    """Validate a ``cross_effect`` spec (SpecError naming the field) and draw nuclear
    positions if asked; nothing heavy is computed."""
    from dnpsim.models.cross_effect import (GAMMA_PROTON, point_dipole_couplings,
                                            random_nuclear_positions)

    if "environment" not in spec:
        raise SpecError("environment", "section is required")
    if "method" not in spec:
        raise SpecError("method", "section is required (kind = lindblad, zeeman_rates or kmc)")
    method = method_from_table(spec["method"], "cross_effect")
    model = check_keys(spec["model"], MODEL_KEYS, "model")
    env = _resolve_environment(spec["environment"])
    if "offsets" not in model:
        raise SpecError("model.offsets", "is required (Delta_1, Delta_2 in Hz)")
    if not isinstance(model["offsets"], list) or len(model["offsets"]) != 2:
        raise SpecError("model.offsets", "must be a list of two frequencies")
    offsets = [read_number(v, f"model.offsets[{i}]", "frequency") for i, v in enumerate(model["offsets"])]
    if "nuclei" not in model:
        raise SpecError("model.nuclei", "table is required (at least larmor)")
    nuclei = check_keys(model["nuclei"], NUCLEI_KEYS, "model.nuclei")
    if "larmor" not in nuclei:
        raise SpecError("model.nuclei.larmor", "is required")
    larmor = read_positive(nuclei["larmor"], "model.nuclei.larmor", "frequency")
    model_seed = read_model_seed(model, seed)
    resolved: dict[str, Any] = {"kind": "cross_effect", "offsets": offsets}

    if "geometry" in model:
        geometry = check_keys(model["geometry"], GEOMETRY_KEYS, "model.geometry")
        for key in ("electron_coupling",):
            if key in model:
                raise SpecError(f"model.{key}", "is computed from model.geometry; give one or the other")
        for key in ("hyperfine_secular", "hyperfine_pseudo_secular", "hyperfine_pseudo_secular_imag", "dipolar"):
            if key in nuclei:
                raise SpecError(f"model.nuclei.{key}", "is computed from model.geometry; give one or the other")
        if "electron_positions" not in geometry:
            raise SpecError("model.geometry.electron_positions", "is required")
        re = _positions(geometry["electron_positions"], "model.geometry.electron_positions", 2)
        if "nuclear_positions" not in geometry:
            raise SpecError("model.geometry.nuclear_positions", "is required")
        value = geometry["nuclear_positions"]
        if isinstance(value, dict):
            check_keys(value, {"distribution", "n", "radius", "min_distance"}, "model.geometry.nuclear_positions")
            if value.get("distribution") != "random_sphere":
                raise SpecError("model.geometry.nuclear_positions.distribution",
                                f"must be 'random_sphere', got {value.get('distribution')!r}")
            for key in ("n", "radius", "min_distance"):
                if key not in value:
                    raise SpecError(f"model.geometry.nuclear_positions.{key}", "is required")
            n = read_integer(value["n"], "model.geometry.nuclear_positions.n", 1)
            radius = read_number(value["radius"], "model.geometry.nuclear_positions.radius")
            dmin = read_number(value["min_distance"], "model.geometry.nuclear_positions.min_distance")
            if not radius > 0 or not dmin >= 0:
                raise SpecError("model.geometry.nuclear_positions.radius", "radius must be > 0, min_distance >= 0")
            if model_seed is None:
                raise SpecError("model.seed", "is required when nuclear positions are drawn")
            try:
                rn = random_nuclear_positions(n, radius, dmin, re, np.random.default_rng(model_seed))
            except ModelError as exc:
                raise SpecError("model.geometry.nuclear_positions", str(exc)) from None
        else:
            rn = _positions(value, "model.geometry.nuclear_positions", None)
        direction = geometry.get("field_direction", [0.0, 0.0, 1.0])
        if not isinstance(direction, list) or len(direction) != 3:
            raise SpecError("model.geometry.field_direction", "must be a 3-vector")
        direction = [read_number(v, f"model.geometry.field_direction[{i}]") for i, v in enumerate(direction)]
        gamma_n = read_number(geometry.get("gamma_nuclear", GAMMA_PROTON), "model.geometry.gamma_nuclear")
        dipolar_on = geometry.get("nuclear_dipolar", True)
        if not isinstance(dipolar_on, bool):
            raise SpecError("model.geometry.nuclear_dipolar", "must be true or false")
        secular_on = geometry.get("secular_hyperfine", True)
        if not isinstance(secular_on, bool):
            raise SpecError("model.geometry.secular_hyperfine", "must be true or false")
        try:
            D, A, B, d = point_dipole_couplings(re, rn, direction, gamma_n=gamma_n)
        except ModelError as exc:
            raise SpecError(f"model.geometry.{exc.field}", str(exc)) from None
        if not dipolar_on:
            d = np.zeros_like(d)
        if not secular_on:
            A = np.zeros_like(A)
        resolved["geometry"] = {"electron_positions": re.tolist(), "nuclear_positions": rn.tolist(),
                                "field_direction": direction, "gamma_nuclear": gamma_n,
                                "nuclear_dipolar": dipolar_on, "secular_hyperfine": secular_on}
        resolved["nuclei"] = {"larmor": larmor}
    else:
        if "electron_coupling" not in model:
            raise SpecError("model.electron_coupling", "is required (D in Hz) unless model.geometry is given")
        D = read_number(model["electron_coupling"], "model.electron_coupling", "frequency")
        n = nuclei.get("n")
        if n is not None:
            n = read_integer(n, "model.nuclei.n", 0)
        for key in ("hyperfine_secular", "hyperfine_pseudo_secular", "hyperfine_pseudo_secular_imag"):
            if n is None and isinstance(nuclei.get(key), list) and nuclei[key] and isinstance(nuclei[key][0], list):
                n = len(nuclei[key][0])
        if n is None and isinstance(nuclei.get("dipolar"), list):
            n = len(nuclei["dipolar"])
        if n is None:
            raise SpecError("model.nuclei.n", "is required when no coupling arrays are given")
        A = _matrix(nuclei["hyperfine_secular"], "model.nuclei.hyperfine_secular", 2, n) \
            if "hyperfine_secular" in nuclei else np.zeros((2, n))
        B = _matrix(nuclei["hyperfine_pseudo_secular"], "model.nuclei.hyperfine_pseudo_secular", 2, n) \
            if "hyperfine_pseudo_secular" in nuclei else np.zeros((2, n))
        Bi = _matrix(nuclei["hyperfine_pseudo_secular_imag"], "model.nuclei.hyperfine_pseudo_secular_imag", 2, n) \
            if "hyperfine_pseudo_secular_imag" in nuclei else np.zeros((2, n))
        B = B + 1j * Bi
        if "dipolar" in nuclei:
            d = _matrix(nuclei["dipolar"], "model.nuclei.dipolar", n, n) if n else np.zeros((0, 0))
            for i in range(n):
                if d[i, i] != 0:
                    raise SpecError(f"model.nuclei.dipolar[{i}][{i}]", "diagonal must be zero")
                for j in range(i + 1, n):
                    if d[i, j] != d[j, i]:
                        raise SpecError(f"model.nuclei.dipolar[{i}][{j}]", "must be symmetric")
        else:
            d = np.zeros((n, n))
        resolved["electron_coupling"] = D
        resolved["nuclei"] = {"larmor": larmor, "n": n}
    n = A.shape[1]
    resolved["nuclei"].update({"n": n, "hyperfine_secular": A.tolist(),
                               "hyperfine_pseudo_secular": B.real.tolist(),
                               "hyperfine_pseudo_secular_imag": B.imag.tolist(), "dipolar": d.tolist()})
    resolved.setdefault("electron_coupling", float(D))
    if "geometry" in resolved:
        # the couplings are written out; the geometry stays for provenance only
        resolved["geometry_used"] = resolved.pop("geometry")
        resolved["electron_coupling"] = float(D)
    if model_seed is not None:
        resolved["seed"] = model_seed
    kind = method.kind
    if kind == "lindblad" and n + 2 > MAX_LINDBLAD_SPINS:
        raise SpecError("model.nuclei", f"method 'lindblad' handles at most {MAX_LINDBLAD_SPINS - 2} nuclei, got {n}")
    if kind == "zeeman_rates" and n + 2 > MAX_RATE_SPINS:
        raise SpecError("model.nuclei", f"method 'zeeman_rates' handles at most {MAX_RATE_SPINS - 2} nuclei, got {n} "
                        "(use kmc)")
    if kind == "kmc" and n > MAX_KMC_NUCLEI:
        raise SpecError("model.nuclei", f"method 'kmc' handles at most {MAX_KMC_NUCLEI} nuclei here, got {n}")
    if n == 0 and kind == "kmc":
        raise SpecError("model.nuclei", "kmc needs at least one nucleus")
    model_values = {"offsets": offsets, "D": float(D), "larmor": larmor, "A": A, "B": B, "d": d}
    setup = CrossEffectSetup(model_values, env, method, _provenance_model(resolved))
    try:
        setup.model()
    except ModelError as exc:
        spec_key = {"temperature": "environment.temperature", "electron_larmor": "environment.electron_larmor",
                    "p": "environment.electron_polarization"}.get(exc.field, f"model.{exc.field}")
        raise SpecError(spec_key, exc.message) from None
    return setup


def _provenance_model(resolved: dict) -> dict:
    """The resolved model table: explicit couplings (rerunnable), geometry kept under
    ``geometry_used`` is dropped so that rerunning does not mix the two."""
    out = dict(resolved)
    out.pop("geometry_used", None)
    return out
