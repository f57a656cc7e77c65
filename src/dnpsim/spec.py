"""Spec files: the public contract of DESIGN.md ("One run, one file").

A spec is a nested mapping with sections ``model``, ``environment``, ``method`` and,
for sweeps, ``sweep``.  It is read from TOML (or JSON with the same keys), validated
up front (one :class:`SpecError` naming the field, before any work starts) and run by
the engine its ``model.kind`` / ``method.kind`` select.

Public functions
----------------
load_spec(path) -> dict
validate_spec(spec) -> None            raise SpecError on the first problem
run_spec(spec, progress=False) -> dict one point (the ``dnpsim run`` result)
run_group(spec, variants, seed) -> list[dict]
    Several points that share one model (same spectrum): each variant is a mapping
    ``{dotted_key: value}`` of overrides for which :func:`reuses_model` is true.
reuses_model(dotted_key) -> bool       whether changing the key keeps the model
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dnpsim.models import disorder


class SpecError(ValueError):
    """A spec is invalid.  ``field`` is the dotted key at fault."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def __reduce__(self):  # picklable, so worker processes can report it
        return (type(self), (self.field, self.message))


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


def reuses_model(dotted_key: str) -> bool:
    """True when changing ``dotted_key`` leaves the model (Hamiltonian, spectrum,
    matrix elements) unchanged, so grid points that differ only in such keys can be
    computed together (a DNP profile reuses its spectrum across ``mw_frequency``)."""
    return dotted_key.startswith("environment.")


# --------------------------------------------------------------------------- schema
SECTIONS = {"model", "environment", "method", "sweep", "title", "description"}
MODEL_KINDS = {"dipolar_electrons": None, "anderson": "issue 3", "cross_effect": "issue 5"}
METHOD_KINDS = {"rate_equation": None, "nonsecular": "issue 4", "hilbert": "issue 4",
                "free_fermion": "issue 3", "lindblad": "issue 5", "zeeman_rates": "issue 5", "kmc": "issue 5"}
DIPOLAR_KEYS = {"kind", "electron_larmor", "offsets", "couplings", "ising", "n_electrons", "seed", "nucleus"}
NUCLEUS_KEYS = {"larmor", "hyperfine"}
ENVIRONMENT_KEYS = {"temperature", "mw_frequency", "mw_amplitude", "t1e", "t2e", "t1", "t_star", "t_zero"}
RATE_EQUATION_KEYS = {"kind", "solver", "tol", "spin_temperature"}
#: Table I of the 2016 paper, used when a spec leaves the relaxation times out.
DEFAULT_T1E = 1.0
DEFAULT_T2E = 1e-6
MAX_ELECTRONS = 16


def _check_keys(table: Any, allowed: set[str], where: str) -> dict:
    if not isinstance(table, dict):
        raise SpecError(where, f"must be a table, got {type(table).__name__}")
    for key in table:
        if key not in allowed:
            raise SpecError(f"{where}.{key}" if where else key,
                            f"unknown key (allowed here: {', '.join(sorted(allowed))})")
    return table


def _number(value: Any, field: str, dimension: str = "dimensionless") -> float:
    from dnpsim.units import UnitError, parse_quantity

    try:
        out = parse_quantity(value, dimension, field)
    except UnitError as exc:
        raise SpecError(field, str(exc).split(": ", 1)[-1]) from None
    if not math.isfinite(out):
        raise SpecError(field, f"must be finite, got {value!r}")
    return out


def _positive(value: Any, field: str, dimension: str) -> float:
    out = _number(value, field, dimension)
    if out <= 0.0:
        what = {"time": "a positive time", "temperature": "a positive temperature"}.get(dimension, "positive")
        raise SpecError(field, f"must be {what}, got {value!r}")
    return out


def _integer(value: Any, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(field, f"must be an integer, got {value!r}")
    if value < minimum:
        raise SpecError(field, f"must be >= {minimum}, got {value}")
    return value


def _vector(value: Any, field: str, n: int | None) -> np.ndarray:
    if not isinstance(value, list):
        raise SpecError(field, f"must be a list of frequencies or a distribution table, got {value!r}")
    out = np.array([_number(v, f"{field}[{i}]", "frequency") for i, v in enumerate(value)])
    if n is not None and out.size != n:
        raise SpecError(field, f"has {out.size} entries but there are {n} electrons")
    return out


def _matrix(value: Any, field: str, n: int) -> np.ndarray:
    if not isinstance(value, list) or len(value) != n or not all(isinstance(r, list) and len(r) == n for r in value):
        raise SpecError(field, f"must be an {n} x {n} nested list (one row per electron)")
    m = np.array([[_number(v, f"{field}[{i}][{j}]", "frequency") for j, v in enumerate(row)]
                  for i, row in enumerate(value)])
    for i in range(n):
        if m[i, i] != 0.0:
            raise SpecError(f"{field}[{i}][{i}]", f"diagonal must be zero, got {m[i, i]!r}")
        for j in range(i + 1, n):
            if m[i, j] != m[j, i]:
                raise SpecError(f"{field}[{i}][{j}]", f"must be symmetric: {m[i, j]!r} != [{j}][{i}] = {m[j, i]!r}")
    return m


def _distribution(value: dict, field: str, allowed: dict[str, set[str]]) -> tuple[str, dict]:
    name = value.get("distribution")
    if name not in allowed:
        raise SpecError(f"{field}.distribution", f"must be one of {sorted(allowed)}, got {name!r}")
    _check_keys(value, allowed[name] | {"distribution"}, field)
    for key in allowed[name]:
        if key not in value:
            raise SpecError(f"{field}.{key}", f"is required for distribution {name!r}")
    return name, value


def _gaussian_scale(value: dict, field: str) -> float:
    """The non-negative ``scale`` (Hz) of a ``{distribution = "gaussian", scale}`` table."""
    _, table = _distribution(value, field, {"gaussian": {"scale"}})
    scale = _number(table["scale"], f"{field}.scale", "frequency")
    if scale < 0:
        raise SpecError(f"{field}.scale", "must be non-negative")
    return scale


@dataclass(frozen=True)
class DipolarSetup:
    """A resolved ``dipolar_electrons`` spec: SI boundary values (Hz, s, K) and the
    drawn arrays.  :meth:`model` and :meth:`environment` convert to internal units."""

    electron_larmor: float
    offsets: np.ndarray
    couplings: np.ndarray
    ising: np.ndarray | None
    nuclear_larmor: float | None
    hyperfine: np.ndarray | None
    environment_values: dict
    method: dict
    seed: int | None

    @property
    def n_electrons(self) -> int:
        return int(self.offsets.size)

    def model(self):
        from dnpsim.models.electrons import DipolarElectrons, ThermometerNucleus
        from dnpsim.units import TWO_PI

        nucleus = None
        if self.nuclear_larmor is not None:
            nucleus = ThermometerNucleus(TWO_PI * self.nuclear_larmor, TWO_PI * self.hyperfine)
        return DipolarElectrons(TWO_PI * self.electron_larmor, TWO_PI * self.offsets, TWO_PI * self.couplings,
                                None if self.ising is None else TWO_PI * self.ising, nucleus)

    def environment(self, values: dict | None = None):
        from dnpsim.dynamics.rates import Environment
        from dnpsim.units import TWO_PI

        v = self.environment_values if values is None else values
        return Environment(v["temperature"], TWO_PI * v["mw_frequency"], TWO_PI * v["mw_amplitude"], v["t1e"], v["t2e"])

    def resolved_model_spec(self) -> dict:
        """The ``[model]`` table with every drawn array written out (Hz)."""
        out: dict[str, Any] = {
            "kind": "dipolar_electrons",
            "electron_larmor": self.electron_larmor,
            "n_electrons": self.n_electrons,
            "offsets": self.offsets.tolist(),
            "couplings": self.couplings.tolist(),
        }
        if self.ising is not None:
            out["ising"] = self.ising.tolist()
        if self.seed is not None:
            out["seed"] = self.seed
        if self.nuclear_larmor is not None:
            out["nucleus"] = {"larmor": self.nuclear_larmor, "hyperfine": self.hyperfine.tolist()}
        return out


def _resolve_environment(env: Any) -> dict:
    _check_keys(env, ENVIRONMENT_KEYS, "environment")
    for key in ("t1", "t_star", "t_zero"):
        if key in env:
            raise SpecError(f"environment.{key}", "is a bath timescale of the 2021 engine (method nonsecular/hilbert, issue 4), "
                            "not read by method 'rate_equation' (use t1e, t2e)")
    for key in ("temperature", "mw_frequency", "mw_amplitude"):
        if key not in env:
            raise SpecError(f"environment.{key}", "is required")
    values = {
        "temperature": _positive(env["temperature"], "environment.temperature", "temperature"),
        "mw_frequency": _positive(env["mw_frequency"], "environment.mw_frequency", "frequency"),
        "mw_amplitude": _number(env["mw_amplitude"], "environment.mw_amplitude", "frequency"),
        "t1e": _positive(env.get("t1e", DEFAULT_T1E), "environment.t1e", "time"),
        "t2e": _positive(env.get("t2e", DEFAULT_T2E), "environment.t2e", "time"),
    }
    if values["mw_amplitude"] < 0:
        raise SpecError("environment.mw_amplitude", f"must be non-negative, got {env['mw_amplitude']!r}")
    return values


def _resolve_method(method: Any) -> dict:
    kind = method.get("kind", "rate_equation") if isinstance(method, dict) else None
    if kind not in METHOD_KINDS:
        raise SpecError("method.kind", f"must be one of {sorted(METHOD_KINDS)}, got {kind!r}")
    if METHOD_KINDS[kind] is not None:
        raise SpecError("method.kind", f"{kind!r} is not implemented yet ({METHOD_KINDS[kind]})")
    _check_keys(method, RATE_EQUATION_KEYS, "method")
    solver = method.get("solver", "auto")
    if solver not in ("auto", "elimination", "dense"):
        raise SpecError("method.solver", f"must be 'auto', 'elimination' or 'dense', got {solver!r}")
    tol = _number(method.get("tol", 1e-8), "method.tol")
    if not 0 < tol < 1:
        raise SpecError("method.tol", f"must be in (0, 1), got {tol}")
    fit = method.get("spin_temperature", True)
    if not isinstance(fit, bool):
        raise SpecError("method.spin_temperature", f"must be true or false, got {fit!r}")
    return {"kind": kind, "solver": solver, "tol": tol, "spin_temperature": fit}


def resolve_spec(spec: dict, seed: int | None = None) -> DipolarSetup:
    """Validate ``spec`` and draw its disorder; ``seed`` overrides ``model.seed``.

    Raises :class:`SpecError` naming the first offending field.  Nothing heavy is
    computed: the memory a run would need is estimated and checked against this
    machine's memory.
    """
    _check_keys(spec, SECTIONS, "")
    for section in ("model", "environment"):
        if section not in spec:
            raise SpecError(section, "section is required")
    model = spec["model"]
    if not isinstance(model, dict):
        raise SpecError("model", "must be a table")
    kind = model.get("kind")
    if kind not in MODEL_KINDS:
        raise SpecError("model.kind", f"must be one of {sorted(MODEL_KINDS)}, got {kind!r}")
    if MODEL_KINDS[kind] is not None:
        raise SpecError("model.kind", f"{kind!r} is not implemented yet ({MODEL_KINDS[kind]})")
    _check_keys(model, DIPOLAR_KEYS, "model")
    method = _resolve_method(spec.get("method", {}))
    environment = _resolve_environment(spec["environment"])

    if "electron_larmor" not in model:
        raise SpecError("model.electron_larmor", "is required")
    larmor = _positive(model["electron_larmor"], "model.electron_larmor", "frequency")
    model_seed = model.get("seed")
    if model_seed is not None:
        model_seed = _integer(model_seed, "model.seed", 0)
    if seed is not None:
        model_seed = seed

    n = model.get("n_electrons")
    if n is not None:
        n = _integer(n, "model.n_electrons", 1)
    for key in ("offsets", "couplings"):
        if key not in model:
            raise SpecError(f"model.{key}", "is required (a list or a distribution table)")
    if n is None:
        if isinstance(model["offsets"], list):
            n = len(model["offsets"])
        elif isinstance(model["couplings"], list):
            n = len(model["couplings"])
        else:
            raise SpecError("model.n_electrons", "is required when offsets and couplings are drawn")
    if n > MAX_ELECTRONS:
        raise SpecError("model.n_electrons", f"{n} electrons is beyond exact diagonalization here (at most {MAX_ELECTRONS})")
    _check_memory(n, "nucleus" in model)

    rng = np.random.default_rng(model_seed)
    draws_need_seed = False

    offsets_value = model["offsets"]
    if isinstance(offsets_value, dict):
        name, table = _distribution(offsets_value, "model.offsets",
                                    {"equally_spaced": {"half_width"}, "uniform": {"width"}})
        if name == "equally_spaced":
            hw = _number(table["half_width"], "model.offsets.half_width", "frequency")
            offsets = disorder.equally_spaced_offsets(n, hw)
        else:
            width = _number(table["width"], "model.offsets.width", "frequency")
            if width < 0:
                raise SpecError("model.offsets.width", "must be non-negative")
            offsets = disorder.uniform_offsets(n, width, rng)
            draws_need_seed = True
    else:
        offsets = _vector(offsets_value, "model.offsets", n)

    def coupling_matrix(key: str) -> np.ndarray:
        nonlocal draws_need_seed
        value = model[key]
        if isinstance(value, dict):
            draws_need_seed = True
            return disorder.gaussian_couplings(n, _gaussian_scale(value, f"model.{key}"), rng)
        return _matrix(value, f"model.{key}", n)

    couplings = coupling_matrix("couplings")
    ising = coupling_matrix("ising") if "ising" in model else None

    nuclear_larmor = hyperfine = None
    if "nucleus" in model:
        nucleus = _check_keys(model["nucleus"], NUCLEUS_KEYS, "model.nucleus")
        for key in NUCLEUS_KEYS:
            if key not in nucleus:
                raise SpecError(f"model.nucleus.{key}", "is required")
        nuclear_larmor = _number(nucleus["larmor"], "model.nucleus.larmor", "frequency")
        value = nucleus["hyperfine"]
        if isinstance(value, dict):
            hyperfine = disorder.gaussian_hyperfine(n, _gaussian_scale(value, "model.nucleus.hyperfine"), rng)
            draws_need_seed = True
        else:
            hyperfine = _vector(value, "model.nucleus.hyperfine", n)
    if draws_need_seed and model_seed is None:
        raise SpecError("model.seed", "is required when offsets, couplings or hyperfine couplings are drawn")
    return DipolarSetup(larmor, offsets, couplings, ising, nuclear_larmor, hyperfine, environment, method, model_seed)


def _check_memory(n: int, with_nucleus: bool) -> None:
    import psutil

    from dnpsim.models.electrons import estimate_engine_memory

    need = estimate_engine_memory(n, with_nucleus)
    have = psutil.virtual_memory().total
    if need > 0.85 * have:
        raise SpecError("model.n_electrons", f"{n} electrons{' with the nucleus' if with_nucleus else ''} need about "
                        f"{need / 2**30:.1f} GiB, more than this machine's {have / 2**30:.1f} GiB allows")


def validate_spec(spec: dict) -> None:
    """Raise :class:`SpecError` (naming the field) if ``spec`` cannot run; cheap."""
    resolve_spec(spec)


def _solve_points(setup: DipolarSetup, engine, environment_values: list[dict]) -> list[dict]:
    """Stationary states and their result dicts for several environments of one
    realization (solved together, see ``SpinTemperatureEngine.stationary_many``)."""
    points = engine.stationary_many([setup.environment(values) for values in environment_values],
                                    method=setup.method["solver"], tol=setup.method["tol"])
    return [_point_result(setup, engine, point) for point in points]


def _point_result(setup: DipolarSetup, engine, point) -> dict:
    from dnpsim.units import HBAR, K_B, TWO_PI

    method = setup.method
    result: dict[str, Any] = {
        "electron_polarization": point.electron_polarization.tolist(),
        "residual": point.residual,
        "solver": point.method,
        "wall_time": point.wall_time,
    }
    if setup.nuclear_larmor is not None:
        result["nuclear_polarization"] = point.nuclear_polarization
    if method["spin_temperature"]:
        fit = engine.spin_temperature(point)
        result["spin_temperature"] = HBAR / (K_B * fit.beta_s) if fit.beta_s != 0 else float("inf")
        result["inverse_spin_temperature"] = fit.beta_s
        result["spin_temperature_field"] = fit.h / TWO_PI
        result["kl_divergence"] = engine.kl_divergence(point, fit)
        if setup.nuclear_larmor is not None:
            result["nuclear_polarization_ansatz"] = fit.nuclear_polarization(TWO_PI * setup.nuclear_larmor)
    result["dims"] = {"electron_polarization": ("electron",)}
    return result


def _engine(setup: DipolarSetup, progress: bool = False):
    from dnpsim.experiments.spin_temperature import SpinTemperatureEngine

    if not progress:
        return SpinTemperatureEngine(setup.model())
    from tqdm.auto import tqdm

    with tqdm(total=setup.n_electrons + 1, desc="diagonalizing sectors", unit="sector", leave=False) as bar:
        return SpinTemperatureEngine(setup.model(), progress=lambda done: bar.update(done - bar.n))


def run_spec(spec: dict, progress: bool = False) -> dict:
    """Run one point (``dnpsim run``) and return the result dictionary.

    Keys: ``nuclear_polarization`` (with a nucleus), ``electron_polarization`` (list,
    input order), ``residual``, spin-temperature fit results (``spin_temperature`` in K,
    ``inverse_spin_temperature`` in s/rad, ``spin_temperature_field`` h/2pi in Hz,
    ``kl_divergence``, ``nuclear_polarization_ansatz``), ``spec`` (resolved, drawn
    arrays written out), ``dnpsim_version``, ``git_revision``, ``wall_time``.
    """
    import time

    from dnpsim import __version__
    from dnpsim.provenance import git_revision

    setup = resolve_spec(spec)
    start = time.perf_counter()
    engine = _engine(setup, progress=progress)
    result = _solve_points(setup, engine, [setup.environment_values])[0]
    result.pop("dims")
    result["wall_time"] = time.perf_counter() - start
    resolved = copy.deepcopy({k: v for k, v in spec.items() if k != "sweep"})
    resolved["model"] = setup.resolved_model_spec()
    resolved["environment"] = dict(setup.environment_values)
    resolved["method"] = dict(setup.method)
    result["spec"] = resolved
    result["dnpsim_version"] = __version__
    result["git_revision"] = git_revision()
    return result


def run_group(spec: dict, variants: list[dict[str, Any]], seed=None) -> list[dict]:
    """Several points sharing one model realization (same draw, same spectrum).

    ``variants`` are override mappings ``{dotted_key: value}`` whose keys all satisfy
    :func:`reuses_model`; ``seed`` (int) replaces ``model.seed`` for the draw.  The
    model is diagonalized once and each variant only rebuilds the rates.  Returns one
    result dict per variant; drawn arrays are included (``offsets``, ``couplings``,
    ``hyperfine`` in Hz) so a sweep's file carries them.
    """
    setup = resolve_spec(spec, seed=seed)
    environments = []
    for variant in variants:
        for key in variant:
            if not reuses_model(key):
                raise SpecError(key, "changes the model; it cannot vary inside one group")
        environments.append(resolve_spec(_apply(spec, variant), seed=seed).environment_values)
    engine = _engine(setup)
    out = []
    for result in _solve_points(setup, engine, environments):
        result["offsets"] = setup.offsets
        result["couplings"] = setup.couplings
        result["dims"].update({"offsets": ("electron",), "couplings": ("electron", "electron_j")})
        if setup.hyperfine is not None:
            result["hyperfine"] = setup.hyperfine
            result["dims"]["hyperfine"] = ("electron",)
        out.append(result)
    return out


def _apply(spec: dict, variant: dict[str, Any]) -> dict:
    for key, value in variant.items():
        spec = set_dotted(spec, key, value)
    return spec
