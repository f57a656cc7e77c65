"""Spec kind ``dipolar_electrons``: the 2016 spin-temperature engine (rate equation).

Keys (README, "One run, one file"): ``model.electron_larmor``, ``offsets`` (list or
``equally_spaced`` / ``uniform`` table), ``couplings`` / ``ising`` (matrix or
``gaussian`` table), ``n_electrons``, ``seed``, ``nuclei.larmor``,
``nuclei.hyperfine`` (the one thermometer nucleus; ``[model.nucleus]`` is its old
name, :data:`dnpsim.spec.KEY_ALIASES`); ``environment.temperature``,
``mw_frequency``, ``mw_amplitude``, ``t1e``, ``t2e``; ``method.kind =
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
from dnpsim.specs.readers import (check_keys, checked_inputs, read_coupling_matrix, read_distribution, read_frequencies,
                                  read_gaussian_scale, read_integer, read_microwave_environment, read_model_seed,
                                  read_number, read_positive)

OPEN_METHODS = ("nonsecular", "hilbert")
DIPOLAR_KEYS = {"kind", "electron_larmor", "offsets", "couplings", "ising", "n_electrons", "seed", "nuclei"}
NUCLEI_KEYS = {"larmor", "hyperfine"}
ENVIRONMENT_KEYS = {"temperature", "mw_frequency", "mw_amplitude", "t1e", "t2e", "t1", "t_star", "t_zero", "irradiated"}
OPEN_ENVIRONMENT_KEYS = {"temperature", "mw_frequency", "mw_amplitude", "t1", "t_star", "t_zero", "irradiated"}
#: Largest N of the 4^N nonsecular problem accepted by a spec (memory, see _check_open_memory).
MAX_NONSECULAR_ELECTRONS = 12
#: Table I of the 2016 paper, used when a spec leaves the relaxation times out.
DEFAULT_T1E = 1.0
DEFAULT_T2E = 1e-6
MAX_ELECTRONS = 16


def reuses_model(dotted_key: str) -> bool:
    """Environment keys (temperature, microwaves, relaxation times) keep the spectrum."""
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
    #: the distribution tables of the spec (SI numbers) by model key, for resolved_spec(drawn=False)
    distributions: dict = field(default_factory=dict, compare=False)

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
        if not drawn:
            for key, table in self.distributions.items():
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
    if "electron_larmor" not in model:
        raise SpecError("model.electron_larmor", "is required")
    larmor = read_positive(model["electron_larmor"], "model.electron_larmor", "frequency")
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
    if isinstance(offsets_value, dict):
        name, table = read_distribution(offsets_value, "model.offsets",
                                    {"equally_spaced": {"half_width"}, "uniform": {"width"}})
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

    def couplingread_coupling_matrix(key: str) -> np.ndarray:
        nonlocal draws_need_seed
        value = model[key]
        if isinstance(value, dict):
            draws_need_seed = True
            scale = read_gaussian_scale(value, f"model.{key}")
            distributions[key] = {"distribution": "gaussian", "scale": scale}
            return disorder.gaussian_couplings(n, scale, rng)
        return read_coupling_matrix(value, f"model.{key}", n)

    couplings = couplingread_coupling_matrix("couplings")
    if isinstance(model.get("ising"), str) and model["ising"] != "dipolar":
        raise SpecError("model.ising", f"must be \"dipolar\" (J_ij = -4 U_ij), an N x N matrix or a gaussian "
                        f"table, got {shown(model['ising'])}")
    if model.get("ising") == "dipolar":
        # Eq. (2) of the 2021 paper: U_ij (S+S- + S-S+ - 4 S^z S^z), so J_ij = -4 U_ij
        ising = -4.0 * couplings
        distributions["ising"] = "dipolar"
    else:
        ising = couplingread_coupling_matrix("ising") if "ising" in model else None

    nuclear_larmor = hyperfine = None
    if "nuclei" in model:
        nucleus = check_keys(model["nuclei"], NUCLEI_KEYS, "model.nuclei")
        for key in ("larmor", "hyperfine"):
            if key not in nucleus:
                raise SpecError(f"model.nuclei.{key}", "is required")
        nuclear_larmor = read_number(nucleus["larmor"], "model.nuclei.larmor", "frequency")
        value = nucleus["hyperfine"]
        if isinstance(value, dict):
            scale = read_gaussian_scale(value, "model.nuclei.hyperfine")
            hyperfine = disorder.gaussian_hyperfine(n, scale, rng)
            draws_need_seed = True
            distributions["hyperfine"] = {"distribution": "gaussian", "scale": scale}
        else:
            hyperfine = read_frequencies(value, "model.nuclei.hyperfine", n)
    if draws_need_seed and model_seed is None:
        raise SpecError("model.seed", "is required when offsets, couplings or hyperfine couplings are drawn")
    return {"electron_larmor": larmor, "offsets": offsets, "couplings": couplings, "ising": ising,
            "nuclear_larmor": nuclear_larmor, "hyperfine": hyperfine, "seed": model_seed,
            "distributions": distributions}


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
