"""One result type for every engine: :class:`Result`.

Every computation that ``dnpsim.run`` (or ``dnpsim run``) performs returns a frozen
:class:`Result`, whatever the model and method.  Conventions (docs: "Conventions"):

* **Polarization** is P = 2<S_z> along the static field for every spin, electrons and
  nuclei alike: thermal electrons are negative (P_e = -tanh(beta omega_e / 2)), a
  positive-gamma nucleus at thermal equilibrium is positive (+tanh(beta omega_n / 2)).
* **Enhancement** is P / P_B per species, with P_B the Boltzmann polarization of that
  species at the sample temperature (:func:`boltzmann_polarization`), whatever the
  model's relaxation assumes.
* **Residual** (``solution == "stationary"``) is the one scale-free measure of a
  stationary equation L x = 0: ``||L x||_1 / sum_n |L_nn| |x_n|``, the net flux left
  over as a fraction of the total flux out of all states (populations or density-matrix
  elements).  Results that solve no stationary equation say so: ``solution`` is
  ``"time_resolved"`` (a trajectory) or ``"closed_form"`` (a formula), and ``residual``
  is None (``null`` in JSON).

:meth:`Result.to_dict` is exactly the JSON that ``dnpsim run`` writes;
:meth:`Result.to_xarray` a Dataset whose variables carry their units.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from dnpsim.units import QUANTITIES

__all__ = ["Result", "Enhancement", "SOLUTIONS", "boltzmann_polarization", "results_dataset"]

#: What a result's numbers come from.
SOLUTIONS = ("stationary", "time_resolved", "closed_form")


def boltzmann_polarization(larmor_hz, temperature_k: float, species: str):
    """Boltzmann polarization P_B = 2<S_z> at ``temperature_k`` (K) of a spin with
    Larmor frequency ``larmor_hz`` (Hz): ``-tanh(beta omega / 2)`` for electrons
    (Zeeman +omega S_z, omega > 0), ``+tanh(beta omega_n / 2)`` for a nucleus (Zeeman
    -omega_n I_z) with the *signed* omega_n = gamma B0: positive for a positive-gamma
    nucleus (1H, 13C), negative for a negative-gamma one (15N, 29Si), so that
    P_n / P_B is +1 at thermal equilibrium for both.  beta = hbar / (k_B T).  Scalars
    or arrays."""
    from dnpsim.units import TWO_PI, inverse_temperature, thermal_electron_polarization, \
        thermal_nuclear_polarization

    beta = inverse_temperature(temperature_k)
    omega = TWO_PI * np.asarray(larmor_hz, dtype=float)
    if species == "electron":
        out = thermal_electron_polarization(omega, beta)
    elif species == "nuclear":
        out = thermal_nuclear_polarization(omega, beta)
    else:
        raise ValueError(f"species must be 'electron' or 'nuclear', got {species!r}")
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class Enhancement:
    """P / P_B per species.  ``electron``: (n_electrons,) like ``electron_polarization``;
    ``nuclear``: like ``nuclear_polarization`` (a float or one per nucleus), or None
    when the model has no nucleus or P_B is not defined (no temperature given)."""

    electron: np.ndarray
    nuclear: float | np.ndarray | None = None

    def to_dict(self) -> dict:
        return {"electron": _plain(self.electron), "nuclear": _plain(self.nuclear)}


@dataclass(frozen=True, eq=False)
class Result:
    """The result of one computation (one point of a spec), for every engine.

    Attributes
    ----------
    model, method : the spec's ``model.kind`` and ``method.kind``.
    solution : ``"stationary"``, ``"time_resolved"`` or ``"closed_form"`` (:data:`SOLUTIONS`).
    electron_polarization : (n_electrons,) 2<S_z^i> per electron (or per lattice site),
        input order; at the last time of a time-resolved result.
    nuclear_polarization : 2<I_z>: a float (one nucleus, or a nuclear bath described by
        one number), an (n_nuclei,) array (one per nucleus), or None without nucleus.
    enhancement : :class:`Enhancement`, P / P_B per species.
    residual : the stationary residual (module docstring), None unless ``solution`` is
        ``"stationary"``.
    iterations : solver iterations (refinement steps, Krylov iterations), None where the
        method does not iterate.
    wall_time : seconds the computation took.
    parameters : the resolved spec (``model``, ``environment``, ``method`` tables): the
        current key names, every default that was applied written out, numbers in Hz,
        s, K (never strings with units), every drawn array written out; running it
        again gives the same result (``Result.to_dict()["spec"]``; :mod:`dnpsim.spec`).
    solver : the numerical algorithm that produced the numbers (e.g. ``"mixed"``,
        ``"gmres"``), None where there is no choice.
    times : (T,) s, for time-resolved results; ``electron_polarization_t`` (T, n_electrons),
        ``nuclear_polarization_t`` (T,) or (T, n_nuclei), and for stochastic methods the
        standard errors ``nuclear_polarization_stderr`` (like ``nuclear_polarization``)
        and ``nuclear_polarization_t_stderr`` (like ``nuclear_polarization_t``).
    extras : engine-specific quantities by name (``spin_temperature``,
        ``kl_divergence``, ``ipr``, ``build_up_time``, ...), also readable as attributes
        (``result.spin_temperature``); their units are in :data:`dnpsim.units.QUANTITIES`.
    dims : dimension names of array-valued extras (``{"onsite": ("x", "y", "z")}``).
    dnpsim_version, git_revision : provenance.
    state : the engine's raw state for custom observables (stationary populations in
        the engine's eigenstate order, populations vs time, or a density matrix); None
        for results read back from files.  Never written to files.
    """

    model: str
    method: str
    solution: str
    electron_polarization: np.ndarray
    nuclear_polarization: float | np.ndarray | None
    enhancement: Enhancement
    residual: float | None
    iterations: int | None
    wall_time: float
    parameters: Mapping[str, Any] = field(default_factory=dict, repr=False)
    solver: str | None = None
    times: np.ndarray | None = field(default=None, repr=False)
    electron_polarization_t: np.ndarray | None = field(default=None, repr=False)
    nuclear_polarization_t: np.ndarray | None = field(default=None, repr=False)
    nuclear_polarization_stderr: float | np.ndarray | None = field(default=None, repr=False)
    nuclear_polarization_t_stderr: np.ndarray | None = field(default=None, repr=False)
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)
    dims: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    dnpsim_version: str = ""
    git_revision: str = ""
    state: Any = field(default=None, repr=False)

    def __post_init__(self):
        if self.solution not in SOLUTIONS:
            raise ValueError(f"solution must be one of {SOLUTIONS}, got {self.solution!r}")
        if (self.residual is None) == (self.solution == "stationary"):
            raise ValueError(f"a {self.solution} result {'needs' if self.residual is None else 'has no'} residual")
        clash = set(self.extras) & _FIELD_NAMES
        if clash:
            raise ValueError(f"extras {sorted(clash)} have the names of Result fields")
        object.__setattr__(self, "electron_polarization", np.asarray(self.electron_polarization, dtype=float))
        for name in ("times", "electron_polarization_t", "nuclear_polarization_t", "nuclear_polarization_t_stderr"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float))
        for name in ("nuclear_polarization", "nuclear_polarization_stderr"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, float(value) if np.ndim(value) == 0 else np.asarray(value, float))

    def __getattr__(self, name: str):
        # engine extras read as attributes (only called when normal lookup fails)
        extras = self.__dict__.get("extras", {})
        if name in extras:
            return extras[name]
        raise AttributeError(f"Result has no field or extra {name!r} (extras: {', '.join(extras) or 'none'})")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.__dict__.get("extras", {})))

    @property
    def nuclear_polarization_percent(self) -> float | np.ndarray | None:
        """The absolute nuclear polarization P_n = 2<I_z> in percent (100 P_n), like
        ``nuclear_polarization``; None without nucleus."""
        pn = self.nuclear_polarization
        if pn is None:
            return None
        return 100.0 * pn if np.ndim(pn) == 0 else 100.0 * np.asarray(pn)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict:
        """The JSON of ``dnpsim run`` (plain lists, floats, None; NaN and infinite values,
        e.g. the spin temperature of a fully saturated state, are None): the contract keys
        ``nuclear_polarization``, ``electron_polarization``, ``residual`` and ``spec``,
        then ``nuclear_polarization_percent`` (100 P_n), ``enhancement`` ``{electron, nuclear}``, ``iterations``, ``solution``,
        ``method``, ``solver``, ``wall_time``, the time-resolved arrays when present,
        the extras by name, ``units`` (of every numeric key) and the provenance
        ``dnpsim_version``, ``git_revision``."""
        out: dict[str, Any] = {
            "nuclear_polarization": _plain(self.nuclear_polarization),
            "nuclear_polarization_percent": _plain(self.nuclear_polarization_percent),
            "electron_polarization": _plain(self.electron_polarization),
            "enhancement": self.enhancement.to_dict(),
            "residual": self.residual,
            "iterations": self.iterations,
            "solution": self.solution,
            "model": self.model,
            "method": self.method,
            "solver": self.solver,
            "wall_time": self.wall_time,
        }
        for name in _TIME_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = _plain(value)
        for name, value in self.extras.items():
            out[name] = _plain(value)
        out["units"] = {name: QUANTITIES[name].unit for name in out if name in QUANTITIES}
        out["spec"] = _plain(dict(self.parameters))
        out["dnpsim_version"] = self.dnpsim_version
        out["git_revision"] = self.git_revision
        return _finite_or_none(out)

    def to_json(self, **dump_options) -> str:
        """:meth:`to_dict` as JSON text (NaN written as ``NaN``, as Python does)."""
        return json.dumps(self.to_dict(), **dump_options)

    def variables(self) -> dict[str, tuple[tuple[str, ...], Any]]:
        """Every numeric quantity as ``{name: (dims, value)}``: the variables of
        :meth:`to_xarray` and of a sweep's Dataset.  Dimensions: ``electron`` (``site``
        for lattice models), ``nucleus``, ``time``; enhancements are
        ``electron_enhancement`` and ``nuclear_enhancement``.  None values are left out."""
        electron = "site" if self.model == "anderson" else "electron"
        out: dict[str, tuple[tuple[str, ...], Any]] = {}

        def put(name, value, dims):
            if value is None:
                return
            value = np.asarray(value)
            if value.dtype.kind not in "biuf":
                return
            if len(dims) != value.ndim:
                dims = tuple(f"{name}_dim_{i}" for i in range(value.ndim))
            out[name] = (tuple(dims), value)

        nuclear = ("nucleus",) if np.ndim(self.nuclear_polarization) else ()
        put("nuclear_polarization", self.nuclear_polarization, nuclear)
        put("nuclear_polarization_percent", self.nuclear_polarization_percent, nuclear)
        put("electron_polarization", self.electron_polarization, (electron,))
        put("nuclear_enhancement", self.enhancement.nuclear, nuclear)
        put("electron_enhancement", self.enhancement.electron, (electron,))
        put("residual", self.residual, ())
        put("iterations", self.iterations, ())
        put("wall_time", self.wall_time, ())
        put("times", self.times, ("time",))
        put("electron_polarization_t", self.electron_polarization_t, ("time", electron))
        put("nuclear_polarization_t", self.nuclear_polarization_t, ("time",) + nuclear)
        put("nuclear_polarization_stderr", self.nuclear_polarization_stderr, nuclear)
        put("nuclear_polarization_t_stderr", self.nuclear_polarization_t_stderr, ("time",) + nuclear)
        for name, value in self.extras.items():
            if isinstance(value, (str, bytes, Mapping)) or value is None:
                continue
            put(name, value, self.dims.get(name, ()))
        return out

    def to_xarray(self):
        """An :class:`xarray.Dataset` with every numeric quantity (:meth:`variables`),
        each with ``units`` and ``description`` attributes, a ``time`` coordinate for
        time-resolved results, and the method, solution, solver, resolved spec (JSON)
        and provenance in the attributes.  :meth:`from_xarray` reads it back."""
        import xarray as xr

        data_vars = {}
        for name, (dims, value) in self.variables().items():
            if name == "times":
                continue
            data_vars[name] = xr.Variable(dims, value, attrs=_attrs(name))
        coords = {}
        if self.times is not None:
            coords["time"] = xr.Variable(("time",), self.times, attrs=_attrs("times"))
        attrs = {"model": self.model, "method": self.method, "solution": self.solution,
                 "solver": self.solver or "", "spec": json.dumps(_plain(dict(self.parameters))),
                 "dims": json.dumps({k: list(v) for k, v in self.dims.items()}),
                 "extras": json.dumps(list(self.extras)),
                 "dnpsim_version": self.dnpsim_version, "git_revision": self.git_revision}
        text = {k: v for k, v in self.extras.items() if isinstance(v, str)}
        if text:
            attrs["text_extras"] = json.dumps(text)
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)

    @classmethod
    def from_xarray(cls, dataset) -> Result:
        """The :class:`Result` a Dataset of :meth:`to_xarray` was made from (also after a
        round trip through a NetCDF file)."""
        attrs = dataset.attrs

        def get(name):
            if name == "times":
                return dataset["time"].values if "time" in dataset.coords else None
            if name not in dataset:
                return None
            value = dataset[name].values
            return value.item() if value.ndim == 0 else value

        extras = {name: get(name) for name in json.loads(attrs["extras"]) if name in dataset}
        extras.update(json.loads(attrs.get("text_extras", "{}")))
        extras = {name: extras[name] for name in json.loads(attrs["extras"]) if name in extras}
        iterations = get("iterations")
        return cls(
            model=attrs["model"], method=attrs["method"], solution=attrs["solution"],
            electron_polarization=get("electron_polarization"), nuclear_polarization=get("nuclear_polarization"),
            enhancement=Enhancement(get("electron_enhancement"), get("nuclear_enhancement")),
            residual=get("residual"), iterations=None if iterations is None else int(iterations),
            wall_time=get("wall_time"), parameters=json.loads(attrs["spec"]), solver=attrs["solver"] or None,
            times=get("times"), electron_polarization_t=get("electron_polarization_t"),
            nuclear_polarization_t=get("nuclear_polarization_t"),
            nuclear_polarization_stderr=get("nuclear_polarization_stderr"),
            nuclear_polarization_t_stderr=get("nuclear_polarization_t_stderr"),
            extras=extras, dims={k: tuple(v) for k, v in json.loads(attrs["dims"]).items()},
            dnpsim_version=attrs["dnpsim_version"], git_revision=attrs["git_revision"])

    def with_provenance(self, parameters: Mapping[str, Any], wall_time: float | None = None) -> Result:
        """A copy carrying the resolved spec ``parameters``, the package version and git
        revision (and ``wall_time`` if given)."""
        from dnpsim import __version__
        from dnpsim.provenance import git_revision

        changes: dict[str, Any] = {"parameters": parameters, "dnpsim_version": __version__,
                                   "git_revision": git_revision()}
        if wall_time is not None:
            changes["wall_time"] = wall_time
        return replace(self, **changes)

    def summary(self) -> str:
        """A few lines for a terminal: the nuclear polarization (mean and range over the
        nuclei when there are several) with its enhancement, the mean electron
        polarization with its enhancement, the spin temperature and build-up time when
        the engine gives them, the time the values refer to (time-resolved results),
        and the residual or the kind of solution."""
        lines = []
        when = ""
        if self.times is not None and np.size(self.times):
            when = f" at t = {float(self.times[-1]):.4g} s (the last of {np.size(self.times)} times)"
        pn = self.nuclear_polarization
        eps = self.enhancement.nuclear
        if pn is not None and np.size(pn):
            if np.size(pn) == 1:
                text = f"nuclear polarization {float(np.ravel(pn)[0]):+.6f}"
            else:
                text = (f"nuclear polarization mean {np.mean(pn):+.6f} (range {np.min(pn):+.6f} .. "
                        f"{np.max(pn):+.6f} over {np.size(pn)} nuclei)")
            if eps is not None and np.size(eps) and np.all(np.isfinite(eps)):
                text += f", enhancement {np.mean(eps):+.4g}"
            lines.append(text + when)
        pe = self.electron_polarization
        if np.size(pe):
            text = f"mean electron polarization {np.mean(pe):+.6f}"
            eps_e = self.enhancement.electron
            if eps_e is not None and np.size(eps_e) and np.all(np.isfinite(eps_e)):
                text += f", enhancement {np.mean(eps_e):+.4g}"
            lines.append(text + ("" if lines else when))
        extras = self.extras
        if "spin_temperature" in extras and extras["spin_temperature"] is not None:
            ts = float(extras["spin_temperature"])
            if np.isfinite(ts):
                lines.append(f"spin temperature {ts:+.4g} K")
        if extras.get("build_up_time") is not None and np.isfinite(float(extras["build_up_time"])):
            lines.append(f"build-up time {float(extras['build_up_time']):.4g} s (fit of p(t) = eps (1 - exp(-t / tau)))")
        if self.residual is not None:
            how = self.method + (f", {self.solver}" if self.solver else "")
            lines.append(f"residual {self.residual:.2e} ({how}), wall time {self.wall_time:.3g} s")
        else:
            lines.append(f"{self.solution.replace('_', '-')} solution ({self.method}), wall time {self.wall_time:.3g} s")
        return "\n".join(lines)


def results_dataset(results, dim: str, coordinate, attrs: Mapping[str, Any] | None = None):
    """Stack Results that differ in one parameter into an :class:`xarray.Dataset` with
    the new leading dimension ``dim`` (coordinate values ``coordinate``, e.g. the
    microwave frequencies of a DNP profile): every variable of :meth:`Result.variables`
    with its units; ``attrs`` plus the method, the first result's spec and the
    provenance in the attributes."""
    import xarray as xr

    results = list(results)
    if not results:
        raise ValueError("results_dataset needs at least one result")
    names = results[0].variables()
    data_vars = {}
    for name, (dims, _) in names.items():
        if name == "times":
            continue
        stacked = np.stack([np.asarray(r.variables()[name][1]) for r in results])
        data_vars[name] = xr.Variable((dim,) + dims, stacked, attrs=_attrs(name))
    coords = {dim: xr.Variable((dim,), np.asarray(coordinate), attrs=_attrs(dim))}
    if results[0].times is not None:
        coords["time"] = xr.Variable(("time",), results[0].times, attrs=_attrs("times"))
    first = results[0]
    out_attrs = {"model": first.model, "method": first.method, "solution": first.solution,
                 "spec": json.dumps(_plain(dict(first.parameters))), "dnpsim_version": first.dnpsim_version,
                 "git_revision": first.git_revision, **(attrs or {})}
    return xr.Dataset(data_vars, coords=coords, attrs=out_attrs)


_FIELD_NAMES = frozenset(f.name for f in fields(Result)) | {"electron_enhancement", "nuclear_enhancement",
                                                             "spec", "units"}
_TIME_FIELDS = ("times", "electron_polarization_t", "nuclear_polarization_t", "nuclear_polarization_stderr",
                "nuclear_polarization_t_stderr")


def _attrs(name: str) -> dict:
    quantity = QUANTITIES.get(name)
    return {} if quantity is None else {"units": quantity.unit, "description": quantity.description}


def _finite_or_none(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (``null``): standard
    JSON has no NaN / Infinity, and a reader must not mistake them for numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """``value`` with numpy arrays and scalars as lists / Python numbers (for JSON)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return value
    return value
