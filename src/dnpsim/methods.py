"""Methods: typed, immutable options of every engine, with the defaults of the spec files.

One frozen dataclass per ``method.kind``; the spec's ``[method]`` table is read into
one of them (:func:`method_from_table`), and the same class is what a notebook passes
to an engine.  Every option is checked on construction (a :class:`~dnpsim.errors.SpecError`
naming ``method.<option>``); an unknown option is an error too.

======================  =================  ===========================================
``method.kind``         class              engine
======================  =================  ===========================================
``rate_equation``       RateEquation       2016 Pauli master equation (Eqs. 11, 12, 16)
``nonsecular``          Nonsecular         2021 GKSL steady state (Eqs. 7-8), Krylov
``hilbert``             Hilbert            2021 populations-only rate equation (S52)
``free_fermion``        FreeFermion        2018 free fermions, Eqs. (20) / (22)
``lindblad``            Lindblad           cross effect, full master equation (Eq. 1)
``zeeman_rates``        ZeemanRates        cross effect, projected rate equation (Eq. 4)
``kmc``                 KineticMonteCarlo  cross effect, kinetic Monte Carlo of Eq. (4)
======================  =================  ===========================================
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from dnpsim.errors import SpecError, shown
from dnpsim.units import time_grid

__all__ = ["Method", "RateEquation", "Nonsecular", "Hilbert", "FreeFermion", "Lindblad", "ZeemanRates", "KineticMonteCarlo",
           "METHODS", "method_from_table", "engine_method"]


def _number(value: Any, name: str, dimension: str = "dimensionless") -> float:
    from dnpsim.units import parse_quantity

    try:
        out = parse_quantity(value, dimension, f"method.{name}")
    except SpecError as exc:
        raise SpecError(f"method.{name}", exc.message) from None
    if not math.isfinite(out):
        raise SpecError(f"method.{name}", f"must be finite, got {shown(value)}")
    return out


def _tolerance(value: Any, name: str = "tol") -> float:
    tol = _number(value, name)
    if not 0.0 < tol < 1.0:
        raise SpecError(f"method.{name}", f"must be in (0, 1), got {shown(value)}")
    return tol


def _integer(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise SpecError(f"method.{name}", f"must be an integer, got {shown(value)}")
    if value < minimum:
        raise SpecError(f"method.{name}", f"must be >= {minimum}, got {value}")
    return int(value)


def _choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SpecError(f"method.{name}", f"must be one of {', '.join(map(repr, allowed))}, got {shown(value)}")
    return value


def _times(method) -> None:
    """Reads ``method.times`` (a list or ``{start, stop, num}``, s) when given."""
    if method.times is not None:
        object.__setattr__(method, "times", time_grid(method.times))


@dataclass(frozen=True)
class Method:
    """Common behaviour: ``kind`` (class constant), ``to_table()``."""

    kind: ClassVar[str] = ""
    #: model kinds this method runs
    models: ClassVar[tuple[str, ...]] = ()

    def to_table(self) -> dict:
        """The resolved ``[method]`` table (every option written out)."""
        out = {"kind": self.kind}
        for key, value in asdict(self).items():
            if value is None:
                continue
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def options(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class RateEquation(Method):
    """Pauli master equation of the 2016 paper (Eq. (11) with bath rates Eq. (12) and
    microwave rates Eq. (16)), stationary state by block elimination.

    solver : "auto" (float32 elimination refined to float64 accuracy for blocks of >= 384
        rows, float64 Grassmann-Taksar-Heyman elimination below), "elimination"
        (float64 GTH), "mixed" (float32 + refinement), "dense" (small-N cross-check).
    tol : largest accepted stationary residual.
    spin_temperature : also fit the spin-temperature ansatz (Eq. (18)) and its KL
        distance (Eq. (27)) (stationary state only).
    times : output times (s): the build-up under Eq. (11) from the thermal state
        instead of the stationary state (a time-resolved result).
    """

    kind: ClassVar[str] = "rate_equation"
    models: ClassVar[tuple[str, ...]] = ("dipolar_electrons",)
    solver: str = "auto"
    tol: float = 1e-8
    spin_temperature: bool = True
    times: tuple[float, ...] | None = None

    def __post_init__(self):
        _times(self)
        _choice(self.solver, "solver", ("auto", "elimination", "mixed", "dense"))
        object.__setattr__(self, "tol", _tolerance(self.tol))
        if not isinstance(self.spin_temperature, bool):
            raise SpecError("method.spin_temperature", f"must be true or false, got {shown(self.spin_temperature)}")


@dataclass(frozen=True)
class Nonsecular(Method):
    """Nonsecular GKSL steady state of the 2021 paper (jump operators Eqs. (7)-(8),
    S46), matrix-free Liouvillian and a preconditioned Krylov solver.

    solver : "gmres", "bicgstab", or "dense" (forms the 4^N x 4^N superoperator; N <= 5).
    tol : Krylov tolerance; maxiter : Krylov iterations; restart : GMRES restart length.
    times : output times (s): the evolution of the GKSL equation from the state without
        microwaves (dense 4^N superoperator, N <= 5) instead of the steady state.
    """

    kind: ClassVar[str] = "nonsecular"
    models: ClassVar[tuple[str, ...]] = ("dipolar_electrons",)
    solver: str = "gmres"
    tol: float = 1e-8
    maxiter: int = 500
    restart: int = 30
    times: tuple[float, ...] | None = None

    def __post_init__(self):
        _times(self)
        _choice(self.solver, "solver", ("gmres", "bicgstab", "dense"))
        object.__setattr__(self, "tol", _tolerance(self.tol))
        object.__setattr__(self, "maxiter", _integer(self.maxiter, "maxiter", 1))
        object.__setattr__(self, "restart", _integer(self.restart, "restart", 2))


@dataclass(frozen=True)
class Hilbert(Method):
    """Populations-only (Hilbert) rate equation of the 2021 paper (S52, rates S19).

    times : output times (s): the evolution of S52 from the state without microwaves
        instead of the steady state.
    """

    kind: ClassVar[str] = "hilbert"
    models: ClassVar[tuple[str, ...]] = ("dipolar_electrons",)
    tol: float = 1e-8
    times: tuple[float, ...] | None = None

    def __post_init__(self):
        _times(self)
        object.__setattr__(self, "tol", _tolerance(self.tol))


@dataclass(frozen=True)
class FreeFermion(Method):
    """Free-fermion nuclear polarization of the 2018 paper.

    formula : "eq22" (the paper's figures) or "eq20" (with polarization loss and the
        leakage numerator).
    surrogate : "anderson" (the lattice's eigenmodes) or "goe" (Eq. (23)).
    times : output times (s): the build-up from the state without microwaves, each
        mode relaxing to its Bloch bias (Eq. (11)) and P_n at the rates of Eq. (20) /
        (22) instead of the stationary P_n (see docs/engines/anderson.md).
    """

    kind: ClassVar[str] = "free_fermion"
    models: ClassVar[tuple[str, ...]] = ("anderson",)
    formula: str = "eq22"
    surrogate: str = "anderson"
    times: tuple[float, ...] | None = None

    def __post_init__(self):
        _times(self)
        _choice(self.formula, "formula", ("eq22", "eq20"))
        _choice(self.surrogate, "surrogate", ("anderson", "goe"))


@dataclass(frozen=True)
class Lindblad(Method):
    """Full Lindblad master equation of the cross-effect paper (Eq. (1)): the steady
    state, or the evolution from the thermal state at ``times`` (s)."""

    kind: ClassVar[str] = "lindblad"
    models: ClassVar[tuple[str, ...]] = ("cross_effect",)
    times: tuple[float, ...] | None = None
    tol: float = 1e-9

    def __post_init__(self):
        if self.times is not None:
            object.__setattr__(self, "times", time_grid(self.times))
        object.__setattr__(self, "tol", _tolerance(self.tol))


@dataclass(frozen=True)
class ZeemanRates(Method):
    """Zeeman-projected rate equation of the cross-effect paper (Eq. (4)): steady state
    or evolution at ``times`` (s).  rates : "generic" (projection) or "local" (the
    kinetic Monte Carlo's local rates)."""

    kind: ClassVar[str] = "zeeman_rates"
    models: ClassVar[tuple[str, ...]] = ("cross_effect",)
    times: tuple[float, ...] | None = None
    tol: float = 1e-9
    rates: str = "generic"

    def __post_init__(self):
        if self.times is not None:
            object.__setattr__(self, "times", time_grid(self.times))
        object.__setattr__(self, "tol", _tolerance(self.tol))
        _choice(self.rates, "rates", ("generic", "local"))


@dataclass(frozen=True)
class KineticMonteCarlo(Method):
    """Kinetic Monte Carlo of the Zeeman-projected dynamics (Eq. (4) of the
    cross-effect paper), averaged over ``trajectories`` from thermal electrons and
    unpolarized nuclei.

    times : output times (s), required.  seed : the trajectories' random stream.
    min_pair_coupling : drop nuclear pairs with |d_kk'| below this (Hz).
    threads : numba threads (default: all cores).
    """

    kind: ClassVar[str] = "kmc"
    models: ClassVar[tuple[str, ...]] = ("cross_effect",)
    times: tuple[float, ...] = field(default=None)  # type: ignore[assignment]
    trajectories: int = 1000
    seed: int = 0
    min_pair_coupling: float = 0.0
    threads: int | None = None

    def __post_init__(self):
        if self.times is None:
            raise SpecError("method.times", "is required for kmc (it has no steady-state solver)")
        object.__setattr__(self, "times", time_grid(self.times))
        object.__setattr__(self, "trajectories", _integer(self.trajectories, "trajectories", 2))
        object.__setattr__(self, "seed", _integer(self.seed, "seed", 0))
        coupling = _number(self.min_pair_coupling, "min_pair_coupling", "frequency")
        if coupling < 0:
            raise SpecError("method.min_pair_coupling", f"must be non-negative, got {shown(self.min_pair_coupling)}")
        object.__setattr__(self, "min_pair_coupling", coupling)
        if self.threads is not None:
            object.__setattr__(self, "threads", _integer(self.threads, "threads", 1))


#: ``method.kind`` -> options class.
METHODS: dict[str, type[Method]] = {cls.kind: cls for cls in (RateEquation, Nonsecular, Hilbert, FreeFermion,
                                                                 Lindblad, ZeemanRates, KineticMonteCarlo)}


def engine_method(method: Method | None, allowed: tuple[type[Method], ...], engine: str) -> Method:
    """The options an engine runs: ``method``, or the defaults of ``allowed[0]`` when
    None; :class:`SpecError` naming ``method`` when it is not one of ``allowed``."""
    method = allowed[0]() if method is None else method
    if not isinstance(method, allowed):
        names = " or ".join(cls.__name__ for cls in allowed)
        raise SpecError("method", f"the {engine} engine runs {names} options, got {shown(method)}")
    return method


def method_from_table(table: Any, model_kind: str, default: str | None = None) -> Method:
    """The options object of a spec's ``[method]`` table for ``model_kind``: ``kind``
    (``default`` when absent) picks the class, every other key is an option.  Raises
    :class:`SpecError` naming the field (unknown kind or key, bad value)."""
    if not isinstance(table, dict):
        raise SpecError("method", f"must be a table, got {type(table).__name__}")
    kinds = sorted(k for k, cls in METHODS.items() if model_kind in cls.models)
    kind = table.get("kind", default)
    if kind is None:
        raise SpecError("method.kind", f"is required (one of {', '.join(kinds)})")
    if kind not in kinds:
        raise SpecError("method.kind", f"must be one of {kinds} for model kind {model_kind!r}, got {kind!r}")
    cls = METHODS[kind]
    allowed = set(cls.options())
    for key in table:
        if key != "kind" and key not in allowed:
            raise SpecError(f"method.{key}", f"unknown key (allowed here: {', '.join(sorted(allowed | {'kind'}))})")
    return cls(**{k: v for k, v in table.items() if k != "kind"})
