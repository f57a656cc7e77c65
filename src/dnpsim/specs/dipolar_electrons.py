"""Spec kind ``dipolar_electrons``: the 2016 spin-temperature engine (rate equation).

Keys (README, "One run, one file"): ``model.electron_larmor``, ``offsets`` (list or
``equally_spaced`` / ``uniform`` / ``powder`` table; ``powder`` reads ``model.field``
and writes ``model.orientations``, :mod:`dnpsim.sample.powder`), ``couplings`` / ``ising`` (matrix or
``gaussian`` table), ``n_electrons``, ``seed``, ``nuclei.larmor``,
``nuclei.hyperfine`` (the one thermometer nucleus; ``[model.nucleus]`` is its old
name, :data:`dnpsim.spec.KEY_ALIASES`); ``environment.temperature``,
``mw_frequency``, ``mw_amplitude`` (or ``mw_field``, or ``mw_power`` with
``mw_conversion_factor``), ``t1e``, ``t2e``; ``method.kind =
"rate_equation"`` (options: :class:`dnpsim.methods.RateEquation`).

The 2021 open-system engine (Maimbourg et al. 2021) shares the model keys (no
nucleus) and reads ``environment.t1``, ``t_star``, ``t_zero`` (s) and optionally
``irradiated`` (index of the one irradiated spin, note after Eq. (S46)), with
``model.ising = "dipolar"`` sets J_ij = -4 U_ij (the truncated dipolar
Hamiltonian of Eq. (2) of the 2021 paper).  ``method.kind = "nonsecular"`` (GKSL,
Eqs. (7)-(8); :class:`dnpsim.methods.Nonsecular`) or ``"hilbert"`` (rate equation
S52; :class:`dnpsim.methods.Hilbert`).

The 2021 bath timescales are not the 2016 relaxation times under other names, so
they keep their own keys: T1e (``t1e``) sets the rate of every bath transition of
Eq. (12) of the 2016 paper (x, y and z, whatever the gap) and T2e (``t2e``) the
width of the microwave Lorentzian of Eq. (16); the 2021 GKSL bath has one timescale
per kind of gap, Eq. (5): T_1 (``t1``) for the gaps near omega_e (S^x, S^y flips,
T(omega_e) = T_1 / 2), T* (``t_star``) for finite gaps |omega| << omega_e and T(0)
(``t_zero``) for zero gaps (pure dephasing), and drives the electrons coherently
(no microwave linewidth).  Each method refuses the other's keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dnpsim.models import disorder
from dnpsim.errors import SpecError, shown
from dnpsim.methods import Method, Nonsecular, method_from_table
from dnpsim.specs.readers import (MW_KEYS, check_keys, electron_larmor_hz, checked_inputs, read_coupling_matrix, read_distribution, read_frequencies,
                                  read_gaussian_scale, read_integer, read_microwave_environment, read_model_seed,
                                  read_field, read_number, read_nuclear_larmor)
from dnpsim.sample.nuclei import gamma_sign

OPEN_METHODS = ("nonsecular", "hilbert")
DIPOLAR_KEYS = {"kind", "electron_larmor", "field", "offsets", "orientations", "couplings", "ising", "n_electrons",
                "seed", "nuclei", "positions", "box"}
NUCLEI_KEYS = {"larmor", "species", "hyperfine", "position"}
ENVIRONMENT_KEYS = {"temperature", "mw_frequency", *MW_KEYS, "t1e", "t2e", "t1", "t_star", "t_zero", "irradiated"}
OPEN_ENVIRONMENT_KEYS = {"temperature", "mw_frequency", *MW_KEYS, "t1", "t_star", "t_zero", "irradiated"}
#: Largest N of the 4^N nonsecular problem accepted by a spec (memory, see _check_open_memory).
MAX_NONSECULAR_ELECTRONS = 12
#: Table I of the 2016 paper, used when a spec leaves the relaxation times out.
DEFAULT_T1E = 1.0
DEFAULT_T2E = 1e-6
MAX_ELECTRONS = 16


def reuses_model(dotted_key: str) -> bool:
    """Environment keys (temperature, microwaves, relaxation times) keep the spectrum.

    ``model.field`` does not (a field profile diagonalizes once per field): at fixed
    omega_MW, B0 sets the frame omega_e = g_iso mu_B B0 / h (the detunings and the
    Boltzmann factors), the powder offsets (g-anisotropy part linear in B0, hyperfine
    part independent of it) and the nuclear Larmor frequency gamma B0 of a species;
    the last two change the diagonalized sector blocks.  Only a rigid line (offsets
    not powder, a fixed ``larmor``) would keep the blocks, and then a field step is a
    frequency step up to the Boltzmann factors: sweep ``environment.mw_frequency``
    instead (docs/engines/spin_temperature.md, "Field profiles")."""
    return dotted_key.startswith("environment.")


@dataclass(frozen=True)
class DipolarSetup:
    """A resolved ``dipolar_electrons`` spec: boundary values (Hz, s, K) and the drawn
    arrays.  :meth:`model` and :meth:`environment` build the engine inputs."""

    electron_larmor: float
    offsets: np.ndarray
    couplings: np.ndarray
    ising: np.ndarray | None
    nuclear_larmor: float | None
    hyperfine: np.ndarray | None
    environment_values: dict
    method: Method
    seed: int | None
    #: B0 (T) when the spec gives model.field
    magnetic_field: float | None = None
    #: (theta, phi) in rad per electron of powder offsets (model.orientations)
    orientations: np.ndarray | None = None
    #: electron positions (N, 3) in nm and the periodic box side in nm (None: open),
    #: for ``couplings = {distribution = "dipolar", ...}`` or when the spec gives them
    positions: np.ndarray | None = None
    box: float | None = None
    #: position (3,) in nm of the thermometer nucleus of ``hyperfine = {distribution = "dipolar"}``
    nucleus_position: np.ndarray | None = None
    #: the distribution tables of the spec (SI numbers) by model key, for resolved_spec(drawn=False)
    distributions: dict = field(default_factory=dict, compare=False)
    #: ``model.nuclei.species`` when the spec gives it
    species: str | None = None

    @property
    def n_electrons(self) -> int:
        return int(self.offsets.size)

    def model(self):
        """The :class:`~dnpsim.models.electrons.DipolarElectrons` of this realization."""
        from dnpsim.models.electrons import DipolarElectrons, ThermometerNucleus

        nucleus = None
        if self.nuclear_larmor is not None:
            nucleus = ThermometerNucleus(self.nuclear_larmor, self.hyperfine)
        return DipolarElectrons(self.electron_larmor, self.offsets, self.couplings, self.ising, nucleus)

    def environment(self, values: dict | None = None):
        from dnpsim.dynamics.rates import Environment

        v = self.environment_values if values is None else values
        if self.method.kind in OPEN_METHODS:
            from dnpsim.dynamics.jumps import BathTimescales
            from dnpsim.dynamics.jumps import OpenEnvironment

            return OpenEnvironment(v["temperature"], v["mw_frequency"], v["mw_amplitude"],
                                   BathTimescales(v["t1"], v["t_star"], v["t_zero"]), v.get("irradiated"))
        return Environment(v["temperature"], v["mw_frequency"], v["mw_amplitude"], v["t1e"], v["t2e"])

    def resolved_model_spec(self, drawn: bool = True) -> dict:
        """The ``[model]`` table with every drawn array written out (Hz), or with
        ``drawn=False`` the distribution tables the arrays were drawn from."""
        out = self.model().to_table()
        if self.magnetic_field is not None:
            out["field"] = self.magnetic_field
        if self.species is not None:
            # the spec's larmor is |gamma| B0 / 2 pi; the model's is signed (gamma B0 / 2 pi)
            out["nuclei"] = {"larmor": abs(out["nuclei"]["larmor"]), "species": self.species,
                             "hyperfine": out["nuclei"]["hyperfine"]}
        if self.orientations is not None and (drawn or "offsets" not in self.distributions):
            out["orientations"] = self.orientations.tolist()
        drawn_positions = "positions" in self.distributions
        if self.positions is not None and (drawn or not drawn_positions):
            out["positions"] = self.positions.tolist()
            if self.box is not None:
                out["box"] = self.box
        if self.nucleus_position is not None and (drawn or "nucleus_position" not in self.distributions):
            out["nuclei"]["position"] = self.nucleus_position.tolist()
        if not drawn:
            for key, table in self.distributions.items():
                if key in ("positions", "nucleus_position"):
                    continue
                if key == "hyperfine":
                    out["nuclei"]["hyperfine"] = dict(table)
                else:
                    out[key] = table if isinstance(table, str) else dict(table)
        if self.seed is not None:
            out["seed"] = self.seed
        return out

    def drawn_arrays(self) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
        """The realization's arrays (Hz) a sweep stores with its results."""
        out = {"offsets": (("electron",), self.offsets), "couplings": (("electron", "electron_j"), self.couplings)}
        if self.hyperfine is not None:
            out["hyperfine"] = (("electron",), self.hyperfine)
        return out

    def resolved_spec(self, drawn: bool = True) -> dict:
        """``model``, ``environment``, ``method`` tables in SI numbers, every default
        written out, drawn arrays written out (``drawn=False``: their distribution
        tables); see "Resolved specs" in :mod:`dnpsim.spec`."""
        return {"model": self.resolved_model_spec(drawn), "environment": dict(self.environment_values),
                "method": self.method.to_table()}

def _resolve_open_environment(env: Any, kind: str) -> dict:
    """Environment of the 2021 engine: temperature, microwaves, T_1, T*, T(0)."""
    if isinstance(env, dict):
        if any(k in env for k in ("t1e", "t2e")) and not any(k in env for k in ("t1", "t_star", "t_zero")):
            # a 2016 rate-equation environment: the method kind is what does not fit
            raise SpecError("method.kind", f"{kind!r} is the 2021 open-system engine and reads environment.t1, "
                            "t_star, t_zero; this spec gives the 2016 times t1e/t2e (use kind = 'rate_equation')")
        for key in ("t1e", "t2e"):
            if key in env:
                raise SpecError(f"environment.{key}", f"is a 2016 rate-equation time, not read by method {kind!r} "
                                "(use t1, t_star, t_zero)")
    check_keys(env, OPEN_ENVIRONMENT_KEYS, "environment")
    values = read_microwave_environment(env, {"t1": None, "t_star": None, "t_zero": None}, f"method {kind!r}")
    if "irradiated" in env:
        values["irradiated"] = read_integer(env["irradiated"], "environment.irradiated", 0)
    return values


def _resolve_environment(env: Any) -> dict:
    if isinstance(env, dict) and "irradiated" in env:
        raise SpecError("environment.irradiated", "is read by methods 'nonsecular' and 'hilbert' only")
    check_keys(env, ENVIRONMENT_KEYS, "environment")
    for key in ("t1", "t_star", "t_zero"):
        if key in env:
            raise SpecError(f"environment.{key}", "is a bath timescale of the 2021 engine (method nonsecular/hilbert), "
                            "not read by method 'rate_equation' (use t1e, t2e)")
    return read_microwave_environment(env, {"t1e": DEFAULT_T1E, "t2e": DEFAULT_T2E})


def resolve(spec: dict, seed: int | None = None) -> DipolarSetup:
    """Validate ``spec`` and draw its disorder; ``seed`` overrides ``model.seed``.

    Raises :class:`SpecError` naming the first offending field.  Nothing heavy is
    computed: the memory a run would need is estimated and checked against this
    machine's memory.
    """
    if "environment" not in spec:
        raise SpecError("environment", "section is required")
    model = spec["model"]
    check_keys(model, DIPOLAR_KEYS, "model")
    method = method_from_table(spec.get("method", {}), "dipolar_electrons", default="rate_equation")
    if method.kind in OPEN_METHODS:
        environment = _resolve_open_environment(spec["environment"], method.kind)
        if "nuclei" in model:
            raise SpecError("model.nuclei", f"method {shown(method.kind)} (2021 engine) has no thermometer nucleus; "
                            "remove it")
    else:
        environment = _resolve_environment(spec["environment"])
    fields = _resolve_model(model, seed, method)
    n = fields["offsets"].size
    if "irradiated" in environment and environment["irradiated"] >= n:
        raise SpecError("environment.irradiated", f"must be a spin index in 0..{n - 1}, got {environment['irradiated']}")
    setup = DipolarSetup(environment_values=environment, method=method, **fields)
    checked_inputs(lambda: (setup.model(), setup.environment()))
    return setup


def model_from_table(table: dict, seed: int | None = None):
    """The :class:`~dnpsim.models.electrons.DipolarElectrons` of a ``[model]`` table
    (the keys of a spec file, distributions drawn with ``seed`` or ``model.seed``)."""
    from dnpsim.methods import RateEquation

    check_keys(table, DIPOLAR_KEYS, "model")
    fields = _resolve_model(table, seed, RateEquation())
    return DipolarSetup(environment_values={}, method=RateEquation(), **fields).model()


def _resolve_model(model: dict, seed: int | None, method) -> dict:
    """The model fields of :class:`DipolarSetup` from a ``[model]`` table (Hz), drawn."""
    b0 = read_field(model)
    powder = None
    if isinstance(model.get("offsets"), dict) and model["offsets"].get("distribution") == "powder":
        from dnpsim.sample.radicals import powder_radical

        powder = powder_radical(model["offsets"], "model.offsets")
        if b0 is None:
            raise SpecError("model.field", "is required for powder offsets (B0, e.g. \"3.35 T\")")
    # the frame of the offsets: model.electron_larmor, else g mu_B B0 / h with the
    # radical's isotropic g (powder) or the free-electron g
    larmor = electron_larmor_hz(model, None if powder is None else powder[0].g_iso)
    if larmor is None:
        raise SpecError("model.electron_larmor", "is required (or give model.field)")
    model_seed = read_model_seed(model, seed)

    n = model.get("n_electrons")
    if n is not None:
        n = read_integer(n, "model.n_electrons", 1)
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
    if isinstance(method, Nonsecular):
        _check_open_memory(n, method)
    else:
        _check_memory(n, "nuclei" in model)

    rng = np.random.default_rng(model_seed)
    draws_need_seed = False
    distributions: dict[str, Any] = {}  # key -> the table as SI numbers

    offsets_value = model["offsets"]
    orientations = None
    if powder is not None:
        from dnpsim.sample.powder import powder_offsets

        if "orientations" in model:
            raise SpecError("model.orientations", "is drawn with powder offsets; give it only with the offsets "
                            "written out (a list), as a resolved spec does")
        offsets, theta, phi = powder_offsets(n, powder[0].g, powder[0].hyperfine, b0, larmor, rng)
        orientations = np.stack([theta, phi], axis=1)
        draws_need_seed = True
        distributions["offsets"] = powder[1]
    elif isinstance(offsets_value, dict):
        name, table = read_distribution(offsets_value, "model.offsets",
                                    {"equally_spaced": {"half_width"}, "uniform": {"width"}, "powder": set()})
        if name == "equally_spaced":
            hw = read_number(table["half_width"], "model.offsets.half_width", "frequency")
            offsets = disorder.equally_spaced_offsets(n, hw)
            distributions["offsets"] = {"distribution": name, "half_width": hw}
        else:
            width = read_number(table["width"], "model.offsets.width", "frequency")
            if width < 0:
                raise SpecError("model.offsets.width", "must be non-negative")
            offsets = disorder.uniform_offsets(n, width, rng)
            draws_need_seed = True
            distributions["offsets"] = {"distribution": name, "width": width}
    else:
        offsets = read_frequencies(offsets_value, "model.offsets", n)
    if "orientations" in model and powder is None:
        orientations = _read_orientations(model["orientations"], n)

    positions, box = _read_positions(model, n)

    def read_couplings_entry(key: str) -> np.ndarray:
        nonlocal draws_need_seed, positions, box
        value = model[key]
        if isinstance(value, dict):
            name, scale, concentration = _read_coupling_table(value, f"model.{key}", dipolar=key == "couplings")
            if name == "dipolar":
                from dnpsim.sample.dipolar import engine_couplings
                from dnpsim.sample.positions import random_positions

                distributions[key] = {"distribution": "dipolar", "concentration": concentration}
                if positions is None:
                    draws_need_seed = True
                    drawn, side = random_positions(n, concentration, rng)
                    positions, box = drawn * 1e9, side * 1e9      # written out in nm
                    distributions["positions"] = True
                # Eq. (4) of the 2016 paper, from the positions as written (nm -> m)
                return engine_couplings(positions * 1e-9, None if box is None else box * 1e-9)
            draws_need_seed = True
            if concentration is not None:
                distributions[key] = {"distribution": "gaussian", "concentration": concentration}
            else:
                distributions[key] = {"distribution": "gaussian", "scale": scale}
            return disorder.gaussian_couplings(n, scale, rng)
        return read_coupling_matrix(value, f"model.{key}", n)

    couplings = read_couplings_entry("couplings")
    if isinstance(model.get("ising"), str) and model["ising"] != "dipolar":
        raise SpecError("model.ising", f"must be \"dipolar\" (J_ij = -4 U_ij), an N x N matrix or a gaussian "
                        f"table, got {shown(model['ising'])}")
    if model.get("ising") == "dipolar":
        # Eq. (2) of the 2021 paper: U_ij (S+S- + S-S+ - 4 S^z S^z), so J_ij = -4 U_ij
        ising = -4.0 * couplings
        distributions["ising"] = "dipolar"
    else:
        ising = read_couplings_entry("ising") if "ising" in model else None

    nuclear_larmor = hyperfine = species = nucleus_position = None
    if "nuclei" in model:
        nucleus = check_keys(model["nuclei"], NUCLEI_KEYS, "model.nuclei")
        if "hyperfine" not in nucleus:
            raise SpecError("model.nuclei.hyperfine", "is required")
        # a signed larmor (a negative one: a negative-gamma nucleus) is read as before;
        # with a species the spec's larmor is |gamma| B0 / 2 pi and the species gives the
        # sign: the model's Zeeman term is -omega_n I_z with omega_n = gamma B0 (signed)
        nuclear_larmor, species = read_nuclear_larmor(nucleus, b0, positive=False)
        nuclear_larmor *= gamma_sign(species)
        value = nucleus["hyperfine"]
        if isinstance(value, dict) and value.get("distribution") == "dipolar":
            hyperfine, nucleus_position = _dipolar_hyperfine(value, nucleus, positions, box, larmor, nuclear_larmor,
                                                             b0, rng)
            distributions["hyperfine"] = {"distribution": "dipolar"}
            if "position" not in nucleus:
                draws_need_seed = True
                distributions["nucleus_position"] = True
        elif isinstance(value, dict):
            scale = read_gaussian_scale(value, "model.nuclei.hyperfine")
            hyperfine = disorder.gaussian_hyperfine(n, scale, rng)
            draws_need_seed = True
            distributions["hyperfine"] = {"distribution": "gaussian", "scale": scale}
        else:
            hyperfine = read_frequencies(value, "model.nuclei.hyperfine", n)
        if nucleus_position is None and "position" in nucleus:
            nucleus_position = _read_point(nucleus["position"], "model.nuclei.position")
    if draws_need_seed and model_seed is None:
        raise SpecError("model.seed", "is required when offsets, couplings or hyperfine couplings are drawn")
    return {"electron_larmor": larmor, "offsets": offsets, "couplings": couplings, "ising": ising,
            "nuclear_larmor": nuclear_larmor, "hyperfine": hyperfine, "seed": model_seed,
            "magnetic_field": b0, "orientations": orientations, "distributions": distributions,
            "species": species, "positions": positions, "box": box, "nucleus_position": nucleus_position}


def _read_orientations(value: Any, n: int) -> np.ndarray:
    """``model.orientations``: one [theta, phi] (rad) per electron, as powder offsets
    write them (descriptive: the offsets are the list given)."""
    if not isinstance(value, list) or len(value) != n or not all(isinstance(r, list) and len(r) == 2 for r in value):
        raise SpecError("model.orientations", f"must be a list of {n} [theta, phi] pairs (rad), one per electron, "
                        f"got {shown(value)}")
    return np.array([[read_number(v, f"model.orientations[{i}][{j}]") for j, v in enumerate(row)]
                     for i, row in enumerate(value)])


def _read_coupling_table(value: dict, field: str, dipolar: bool) -> tuple[str, float | None, float | None]:
    """(distribution, scale in Hz, concentration in mol/m^3) of a couplings table:
    ``{distribution = "gaussian", scale}``, ``{distribution = "gaussian", concentration}``
    (U of the bulk mapping, :func:`dnpsim.sample.dipolar.bulk_coupling_scale`) or, for
    ``model.couplings``, ``{distribution = "dipolar", concentration}`` (Eq. (4))."""
    from dnpsim.sample.dipolar import bulk_coupling_scale

    allowed = {"gaussian": {"scale", "concentration"}}
    if dipolar:
        allowed["dipolar"] = {"concentration"}
    name = value.get("distribution")
    if name not in allowed:
        raise SpecError(f"{field}.distribution", f"must be one of {sorted(allowed)}, got {name!r}")
    check_keys(value, allowed[name] | {"distribution"}, field)
    if name == "gaussian" and "scale" in value and "concentration" in value:
        raise SpecError(f"{field}.concentration", "give either scale (U) or concentration (U from the bulk "
                        "mapping), not both")
    if name == "gaussian" and "concentration" not in value:
        return name, read_gaussian_scale(value, field), None
    if "concentration" not in value:
        raise SpecError(f"{field}.concentration", f"is required for distribution {name!r}")
    c = read_number(value["concentration"], f"{field}.concentration", "concentration")
    if not c > 0:
        raise SpecError(f"{field}.concentration", f"must be positive, got {shown(c)} mol/m^3")
    return name, (bulk_coupling_scale(c) if name == "gaussian" else None), c


def _read_point(value: Any, field: str) -> np.ndarray:
    """[x, y, z] in nm (numbers in nm, or strings with a length unit)."""
    if not isinstance(value, list) or len(value) != 3:
        raise SpecError(field, "must be [x, y, z] (nm)")
    return np.array([v * 1.0 if isinstance(v, (int, float)) and not isinstance(v, bool)
                     else read_number(v, f"{field}[{k}]", "length") * 1e9 for k, v in enumerate(value)], dtype=float)


def _read_positions(model: dict, n: int) -> tuple[np.ndarray | None, float | None]:
    """``model.positions`` (N x [x, y, z], nm) and ``model.box`` (periodic cube side, nm)."""
    if "box" in model and "positions" not in model:
        raise SpecError("model.box", "is read with model.positions only")
    if "positions" not in model:
        return None, None
    value = model["positions"]
    if not isinstance(value, list) or len(value) != n:
        raise SpecError("model.positions", f"must be a list of {n} [x, y, z] positions (nm), one per electron")
    positions = np.array([_read_point(p, f"model.positions[{i}]") for i, p in enumerate(value)])
    if not np.all(np.isfinite(positions)):
        raise SpecError("model.positions", "must be finite")
    box = None
    if "box" in model:
        b = model["box"]
        box = float(b) if isinstance(b, (int, float)) and not isinstance(b, bool) else read_number(b, "model.box", "length") * 1e9
        if not box > 0:
            raise SpecError("model.box", f"must be positive (nm), got {shown(box)}")
    return positions, box


def _dipolar_hyperfine(value: dict, nucleus: dict, positions, box, electron_larmor: float, nuclear_larmor: float,
                       field: float | None, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """D_i (Hz) of Eq. (5) from the nucleus position (``model.nuclei.position``, nm, or
    drawn uniform in the box) and the electron positions; gamma_n = omega_n / B0 with
    B0 = ``field`` (model.field, T), else omega_e / (g_free mu_B / h)."""
    from dnpsim.sample.dipolar import nuclear_hyperfine
    from dnpsim.units import G_FREE_ELECTRON, H_PLANCK, MU_B

    check_keys(value, {"distribution"}, "model.nuclei.hyperfine")
    if positions is None:
        raise SpecError("model.nuclei.hyperfine", "distribution 'dipolar' needs electron positions: "
                        "model.couplings = {distribution = \"dipolar\", ...} or model.positions")
    if "position" in nucleus:
        point = _read_point(nucleus["position"], "model.nuclei.position")
    elif box is None:
        raise SpecError("model.nuclei.position", "is required with hyperfine distribution 'dipolar' and no periodic box")
    else:
        point = rng.random(3) * box
    # gamma_n = omega_n / B0: B0 from model.field, else from omega_e with the free-electron g
    b0 = field if field is not None else electron_larmor * H_PLANCK / (G_FREE_ELECTRON * MU_B)
    try:
        d = nuclear_hyperfine(positions * 1e-9, point * 1e-9, nuclear_larmor / b0, None if box is None else box * 1e-9)
    except ValueError as exc:
        raise SpecError("model.nuclei.position", str(exc)) from None
    return d, point


def _check_open_memory(n: int, method: Nonsecular) -> None:
    """Nonsecular steady state: Krylov vectors of length 4^N (complex) plus ~8 work
    vectors; the dense solver needs the 16^N superoperator."""
    from dnpsim.memory import check_fits

    if method.times is not None and n > 5:  # the evolution uses the dense superoperator (OpenSystemEngine.evolve)
        raise SpecError("method.times", f"the nonsecular evolution forms the dense 4^N x 4^N superoperator; "
                        f"use it for N <= 5 (got N = {n}), or method.kind = 'hilbert'")
    if method.solver == "dense":
        if n > 5:
            raise SpecError("method.solver", f"'dense' forms the 4^N x 4^N superoperator; use it for N <= 5 (got N = {n})")
        need = 16 * 16**n * 2
    else:
        if n > MAX_NONSECULAR_ELECTRONS:
            raise SpecError("model.n_electrons", f"the nonsecular engine handles at most {MAX_NONSECULAR_ELECTRONS} "
                            f"electrons (4^N density matrix), got {n}")
        vectors = (method.restart + 10) if method.solver == "gmres" else 12
        need = 16 * 4**n * vectors
    check_fits(need, "model.n_electrons", f"{n} electrons with method 'nonsecular' ({method.solver})")


def _check_memory(n: int, with_nucleus: bool) -> None:
    from dnpsim.experiments.spin_temperature import estimate_engine_memory
    from dnpsim.memory import check_fits

    check_fits(estimate_engine_memory(n, with_nucleus), "model.n_electrons",
               f"{n} electrons{' with the nucleus' if with_nucleus else ''}")
