"""Spec kind ``anderson``: the free-fermion engine of the 2018 paper.

Keys (README, "One run, one file"): ``model.L``, ``boundary`` ("periodic"/"open"),
``hopping`` (t/2pi), ``electron_larmor``, ``onsite`` (``{distribution = "uniform",
width}`` or a nested L x L x L list of offsets in Hz, index [x][y][z]), ``seed``;
``model.nuclei.{larmor, hyperfine, per_electron}``;
``environment.{temperature, t1e, t2e, t1n, t2n, mw_frequency, mw_amplitude}`` (the
nuclear relaxation times were ``model.nuclei.t1n``, ``t2n``: old names,
:data:`dnpsim.spec.KEY_ALIASES`);
``method.kind = "free_fermion"`` (options :class:`dnpsim.methods.FreeFermion`).
With ``model.field`` (B0), ``electron_larmor`` may be left out and the nuclei may give
``species`` instead of ``larmor``; ``environment.mw_field`` (B1), or ``mw_power`` with
``mw_conversion_factor``, may replace ``mw_amplitude``.
The engine that runs it: :func:`dnpsim.experiments.anderson.run_points`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dnpsim.errors import SpecError, shown
from dnpsim.methods import FreeFermion, method_from_table
from dnpsim.specs.readers import (
    MW_KEYS,
    check_keys,
    checked_inputs,
    read_distribution,
    read_microwave_environment,
    read_model_seed,
    read_integer,
    read_number,
    read_field,
    electron_larmor_hz,
    read_nuclear_larmor,
)

MODEL_KEYS = {"kind", "L", "boundary", "hopping", "electron_larmor", "field", "onsite", "seed", "nuclei"}
NUCLEI_KEYS = {"larmor", "species", "hyperfine", "per_electron"}
ENVIRONMENT_KEYS = {"temperature", "t1e", "t2e", "t1n", "t2n", "mw_frequency", *MW_KEYS}
#: Table I of the 2018 paper (used when a spec leaves these out).
DEFAULTS = {"t1e": 1.0, "t2e": 1e-6, "t1n": 1e4, "t2n": 1e-5}
#: exact diagonalization limit: dense N x N float64 eigenvectors + workspace
MAX_L = 24


def estimate_memory(L: int) -> int:
    """Peak bytes of one free-fermion run on L^3 sites: the dense N x N Hamiltonian, its
    eigenvectors, |phi|^2 and the eigensolver's workspace, about seven N x N float64
    arrays (measured: 5.3 to 6.5 of them for L = 10 to 14), plus 64 MiB."""
    sites = L**3
    return 7 * 8 * sites**2 + 64 * 2**20


def reuses_model(dotted_key: str) -> bool:
    """Environment, nuclear and method keys keep the diagonalization (spectrum, |phi|^2)."""
    return dotted_key.startswith(("environment.", "model.nuclei.", "method."))


@dataclass(frozen=True)
class AndersonSetup:
    """A resolved ``anderson`` spec (boundary units: Hz, s, K) with the drawn offsets.
    ``nuclei_values`` are the inputs of the :class:`~dnpsim.dynamics.free_fermion.NuclearBath`
    (its relaxation times t1n, t2n read from ``[environment]``), ``environment_values``
    those of the electrons' environment."""

    L: int
    boundary: str
    hopping: float
    electron_larmor: float
    onsite: np.ndarray  # Hz, (L, L, L)
    onsite_spec: dict | None  # the distribution table (SI numbers), None for explicit offsets
    nuclei_values: dict
    environment_values: dict
    method: FreeFermion
    seed: int | None
    #: ``model.nuclei.species`` and ``model.field`` (T) when the spec gives them
    species: str | None = None
    field: float | None = None

    @property
    def gamma_sign(self) -> float:
        """The sign of the nuclei's gamma (+1 without ``species``)."""
        from dnpsim.sample.nuclei import gamma_sign

        return gamma_sign(self.species)

    def lattice(self):
        """The :class:`~dnpsim.models.anderson.AndersonLattice` of this realization (Hz)."""
        from dnpsim.models.anderson import AndersonLattice

        return AndersonLattice(self.L, self.hopping, self.onsite, self.electron_larmor,
                               self.boundary)

    def environment(self, values: dict | None = None):
        """Bath and microwaves (:class:`~dnpsim.dynamics.rates.Environment`, K, Hz, s)."""
        from dnpsim.dynamics.rates import Environment

        v = self.environment_values if values is None else values
        return Environment(v["temperature"], v["mw_frequency"], v["mw_amplitude"], v["t1e"], v["t2e"])

    def nuclei(self, values: dict | None = None):
        """:class:`~dnpsim.dynamics.free_fermion.NuclearBath` (Hz, s)."""
        from dnpsim.dynamics.free_fermion import NuclearBath

        v = self.nuclei_values if values is None else values
        return NuclearBath(v["larmor"], v["hyperfine"], v["t1n"], v["t2n"], v["per_electron"])

    def resolved_spec(self, drawn: bool = True) -> dict:
        """``model``, ``environment``, ``method`` tables in SI numbers, every default
        written out, the drawn offsets written out (``drawn=False``: the distribution
        table); see "Resolved specs" in :mod:`dnpsim.spec`."""
        nuclei = self.nuclei()
        model = {**self.lattice().to_table(), "nuclei": nuclei.to_table()}
        if self.field is not None:
            model["field"] = self.field
        if self.species is not None:
            model["nuclei"]["species"] = self.species
        if not drawn and isinstance(self.onsite_spec, dict):
            model["onsite"] = dict(self.onsite_spec)
        if self.seed is not None:
            model["seed"] = self.seed
        return {"model": model, "environment": {**self.environment_values, **nuclei.relaxation_table()},
                "method": self.method.to_table()}

    def drawn_arrays(self) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
        """The realization's on-site offsets (Hz), which a sweep stores with its results."""
        return {"onsite": (("x", "y", "z"), self.onsite)}


def _resolve_environment(env: Any) -> tuple[dict, dict]:
    """(the electrons' environment values, the nuclear relaxation times t1n, t2n)."""
    check_keys(env, ENVIRONMENT_KEYS, "environment")
    values = read_microwave_environment(env, {key: DEFAULTS[key] for key in ("t1e", "t2e", "t1n", "t2n")})
    times = {key: values.pop(key) for key in ("t1n", "t2n")}
    from dnpsim.dynamics.rates import check_relaxation_times
    from dnpsim.errors import ModelError

    try:  # no completely positive relaxation has T2 > 2 T1
        check_relaxation_times(times["t1n"], times["t2n"], "environment.t2n")
    except ModelError as exc:
        raise SpecError(exc.field, exc.message) from None
    return values, times


def _resolve_nuclei(nuc: Any, times: dict, b0: float | None = None) -> tuple[dict, str | None]:
    """(the NuclearBath values, the species or None)."""
    check_keys(nuc, NUCLEI_KEYS, "model.nuclei")
    for key in ("hyperfine", "per_electron"):
        if key not in nuc:
            raise SpecError(f"model.nuclei.{key}", "is required")
    larmor, species = read_nuclear_larmor(nuc, b0)
    values = {
        "larmor": larmor,
        "hyperfine": read_number(nuc["hyperfine"], "model.nuclei.hyperfine", "frequency"),
        "t1n": times["t1n"],
        "t2n": times["t2n"],
        "per_electron": read_number(nuc["per_electron"], "model.nuclei.per_electron"),
    }
    if values["hyperfine"] <= 0:
        raise SpecError("model.nuclei.hyperfine", f"must be positive, got {shown(nuc['hyperfine'])}")
    if values["per_electron"] < 1:
        raise SpecError("model.nuclei.per_electron", f"must be >= 1 (one core nucleus per electron), "
                        f"got {shown(nuc['per_electron'])}")
    return values, species


def _read_onsite(value: Any, L: int, rng_seed) -> tuple[np.ndarray, dict | None]:
    """(offsets, the distribution table in SI numbers or None for explicit offsets)."""
    if isinstance(value, dict):
        name, table = read_distribution(value, "model.onsite", {"uniform": {"width"}})
        width = read_number(table["width"], "model.onsite.width", "frequency")
        if width < 0:
            raise SpecError("model.onsite.width", f"must be non-negative, got {shown(table['width'])}")
        from dnpsim.models.anderson import box_offsets

        return box_offsets(L, width, np.random.default_rng(rng_seed)), {"distribution": name, "width": width}
    if not isinstance(value, list) or len(value) != L:
        raise SpecError("model.onsite", f"must be a distribution table or a {L} x {L} x {L} nested list")
    out = np.empty((L, L, L))
    for x, plane in enumerate(value):
        if not isinstance(plane, list) or len(plane) != L:
            raise SpecError(f"model.onsite[{x}]", f"must be a list of {L} rows")
        for y, row in enumerate(plane):
            if not isinstance(row, list) or len(row) != L:
                raise SpecError(f"model.onsite[{x}][{y}]", f"must be a list of {L} offsets")
            for z, v in enumerate(row):
                out[x, y, z] = read_number(v, f"model.onsite[{x}][{y}][{z}]", "frequency")
    return out, None


def resolve(spec: dict, seed: int | None = None) -> AndersonSetup:
    """Validate ``spec`` (SpecError naming the field) and draw the on-site disorder
    (``seed`` overrides ``model.seed``).  Cheap: nothing is diagonalized."""
    if "environment" not in spec:
        raise SpecError("environment", "section is required")
    model = check_keys(spec["model"], MODEL_KEYS, "model")
    method = method_from_table(spec.get("method", {}), "anderson", default="free_fermion")
    environment, nuclear_times = _resolve_environment(spec["environment"])
    if "nuclei" not in model:
        raise SpecError("model.nuclei", "is required")
    L, boundary, hopping, larmor, onsite, model_seed, onsite_table = _resolve_lattice(model, seed)
    b0 = read_field(model)
    nuclei, species = _resolve_nuclei(model["nuclei"], nuclear_times, b0)
    setup = AndersonSetup(L, boundary, hopping, larmor, onsite, onsite_table, nuclei, environment, method,
                          model_seed, species, b0)
    checked_inputs(lambda: (setup.lattice(), setup.environment(), setup.nuclei()))
    return setup


def _resolve_lattice(model: dict, seed: int | None) -> tuple:
    """(L, boundary, hopping, electron_larmor, onsite, seed, onsite distribution table
    or None) of a ``[model]`` table (Hz), the on-site offsets drawn."""
    for key in ("L", "hopping", "onsite"):
        if key not in model:
            raise SpecError(f"model.{key}", "is required")
    L = read_integer(model["L"], "model.L", 1)
    if L > MAX_L:
        raise SpecError("model.L", f"L = {L} ({L ** 3} sites) is beyond exact diagonalization here "
                        f"(at most {MAX_L}); use the KPM path (dnpsim.experiments.anderson.kpm_overlap)")
    from dnpsim.memory import check_fits

    check_fits(estimate_memory(L), "model.L", f"L = {L} ({L ** 3} sites, exact diagonalization)")
    boundary = model.get("boundary", "periodic")
    if boundary not in ("periodic", "open"):
        raise SpecError("model.boundary", f"must be 'periodic' or 'open', got {shown(boundary)}")
    hopping = read_number(model["hopping"], "model.hopping", "frequency")
    if hopping < 0:
        raise SpecError("model.hopping", f"must be non-negative, got {shown(model['hopping'])}")
    larmor = electron_larmor_hz(model)
    if larmor is None:
        raise SpecError("model.electron_larmor", "is required (or give model.field)")
    model_seed = read_model_seed(model, seed)
    if isinstance(model["onsite"], dict) and model_seed is None:
        raise SpecError("model.seed", "is required when model.onsite is drawn")
    onsite, table = _read_onsite(model["onsite"], L, model_seed)
    return L, boundary, hopping, larmor, onsite, model_seed, table


def model_from_table(table: dict, seed: int | None = None):
    """The :class:`~dnpsim.models.anderson.AndersonLattice` of a ``[model]`` table (the
    keys of a spec file without ``nuclei``, which the engine takes separately as a
    :class:`~dnpsim.dynamics.free_fermion.NuclearBath`)."""
    from dnpsim.models.anderson import AndersonLattice

    check_keys(table, MODEL_KEYS - {"nuclei"}, "model")
    L, boundary, hopping, larmor, onsite, *_ = _resolve_lattice(table, seed)
    return AndersonLattice(L, hopping, onsite, larmor, boundary)
