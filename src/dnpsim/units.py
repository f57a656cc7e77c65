"""The one unit system of dnpsim.

Conventions (docs/conventions.md):

* Inside the code every frequency or energy is an **angular frequency in rad/s**
  (hbar = 1), every time is in s, every temperature in K.
* At the boundary (spec files, command line, public constructors) frequencies are
  **cyclic, in Hz**; strings with units are accepted ("93.9 GHz", "25 kHz", "1 us",
  "1.2 K") and parsed with pint.
* The inverse temperature is ``beta = hbar / (k_B T)`` in s/rad, so ``beta * omega``
  is dimensionless.  At 1.2 K and 93.9 GHz, ``beta * omega_e = 3.755`` and the thermal
  electron polarization is ``-tanh(3.755 / 2) = -0.954``.
* Detailed balance: ``h_beta(x) = e^{beta x} / (1 + e^{beta x})``; a transition
  n -> m carries ``h_beta(E_n - E_m)`` (Eq. (12) of the spin-temperature paper).
"""

from __future__ import annotations

import functools
import math
import re
from numbers import Real
from typing import Any, NamedTuple

import numpy as np
from scipy import constants as _c
from scipy.special import expit

from dnpsim.errors import SpecError, UnitError, shown

#: Reduced Planck constant, J s.
HBAR: float = _c.hbar
#: Boltzmann constant, J / K.
K_B: float = _c.k
#: 2 pi, the factor between cyclic (Hz) and angular (rad/s) frequencies.
TWO_PI: float = 2.0 * math.pi
#: Planck constant, J s.
H_PLANCK: float = _c.h
#: Bohr magneton, J / T.
MU_B: float = _c.physical_constants["Bohr magneton"][0]
#: Vacuum permeability, N / A^2.
MU_0: float = _c.mu_0
#: Avogadro constant, 1 / mol.
N_A: float = _c.N_A
#: Free-electron g factor (CODATA, positive convention: g_e = -g here).
G_FREE_ELECTRON: float = -_c.physical_constants["electron g factor"][0]

#: Physical dimensions a boundary quantity can have, with their SI unit.
SI_UNITS = {
    "frequency": "Hz",
    "time": "s",
    "temperature": "K",
    "length": "m",
    "magnetic_field": "T",
    "concentration": "mol / m**3",
    "power": "W",
    "field_per_root_power": "T / W**0.5",
    "dimensionless": "",
}
#: How messages name each dimension.
_DIMENSION_NAMES = {"frequency": "a frequency", "time": "a time", "temperature": "a temperature",
                    "length": "a length", "magnetic_field": "a magnetic field",
                    "concentration": "a concentration", "power": "a power",
                    "field_per_root_power": "a field per square-root power (e.g. 'G/W**0.5')",
                    "dimensionless": "a pure number"}
#: The dimensions a quantity string outside a known field (a sweep value, a --vary
#: bound) is tried against, in this order: every dimension but lengths (positions).
QUANTITY_DIMENSIONS = ("frequency", "time", "temperature", "magnetic_field", "concentration", "power",
                       "field_per_root_power", "dimensionless")


class Quantity(NamedTuple):
    """Unit (as pint writes it, "1" for pure numbers) and one-line description of a
    named output quantity."""

    unit: str
    description: str


#: Every quantity dnpsim writes (result JSON, NetCDF variables), by name: its unit and
#: what it is.  Frequencies are cyclic (Hz), as at every boundary.
QUANTITIES: dict[str, Quantity] = {
    "nuclear_polarization": Quantity("1", "nuclear polarization 2<I_z> along B0"),
    "nuclear_polarization_percent": Quantity("%", "nuclear polarization 2<I_z> along B0, in percent (100 P_n)"),
    "electron_polarization": Quantity("1", "electron polarization 2<S_z> along B0, per electron (or site)"),
    "enhancement": Quantity("1", "polarization over its Boltzmann value at the sample temperature, per species"),
    "nuclear_enhancement": Quantity("1", "nuclear polarization over its Boltzmann value tanh(beta omega_n / 2)"),
    "electron_enhancement": Quantity("1", "electron polarization over its Boltzmann value -tanh(beta omega_e / 2)"),
    "residual": Quantity("1", "stationary residual ||L x||_1 / sum_n |L_nn| |x_n| (net flux left over)"),
    "iterations": Quantity("1", "solver iterations"),
    "wall_time": Quantity("s", "wall-clock time of the computation"),
    "times": Quantity("s", "time since the microwaves were switched on"),
    "electron_polarization_t": Quantity("1", "electron polarization 2<S_z> vs time"),
    "nuclear_polarization_t": Quantity("1", "nuclear polarization 2<I_z> vs time"),
    "nuclear_polarization_stderr": Quantity("1", "standard error of nuclear_polarization (stochastic methods)"),
    "nuclear_polarization_t_stderr": Quantity("1", "standard error of nuclear_polarization_t"),
    "spin_temperature": Quantity("K", "fitted spin temperature T_s = hbar / (k_B beta_s)"),
    "inverse_spin_temperature": Quantity("s/rad", "fitted inverse spin temperature beta_s"),
    "spin_temperature_field": Quantity("Hz", "fitted effective field h of the spin-temperature ansatz"),
    "kl_divergence": Quantity("1", "Kullback-Leibler distance of the stationary state from the ansatz"),
    "nuclear_polarization_ansatz": Quantity("1", "nuclear polarization tanh(beta_s (omega_n - h) / 2) of the ansatz"),
    "ipr": Quantity("1", "mean inverse participation ratio of the one-electron eigenmodes"),
    "diag_time": Quantity("s", "time spent diagonalizing"),
    "nuclear_polarization_mean": Quantity("1", "nuclear polarization averaged over the nuclei"),
    "build_up_enhancement": Quantity("1", "plateau p(0) + eps of the build-up fit "
                                          "p(t) - p(0) = eps (1 - exp(-t / tau))"),
    "build_up_time": Quantity("s", "tau of the build-up fit p(t) - p(0) = eps (1 - exp(-t / tau))"),
    "efficiency_eta": Quantity("1", "cross-effect efficiency eta (Eq. (3))"),
    "efficiency_eta1": Quantity("1", "largest eta_1 of Eq. (3)"),
    "efficiency_eta2": Quantity("1", "smallest eta_2 of Eq. (3)"),
    "events": Quantity("1", "kinetic Monte Carlo events"),
    "offsets": Quantity("Hz", "electron Zeeman offsets Delta_i"),
    "couplings": Quantity("Hz", "electron flip-flop couplings U_ij"),
    "electron_coupling": Quantity("Hz", "cross-effect e-e dipolar coupling D, H_SS = D (3 S_1z S_2z - S_1.S_2)"),
    "ising": Quantity("Hz", "electron Ising couplings J_ij"),
    "hyperfine": Quantity("Hz", "hyperfine couplings D_i of the thermometer nucleus"),
    "onsite": Quantity("Hz", "on-site offsets of the Anderson lattice"),
    "mw_frequency": Quantity("Hz", "microwave frequency"),
    "mw_amplitude": Quantity("Hz", "microwave amplitude omega_1 / 2 pi"),
    "mw_field": Quantity("T", "microwave field B1 (rotating-frame amplitude), omega_1 = g mu_B B1 / hbar"),
    "mw_power": Quantity("W", "microwave power P at the probe, B1 = mw_conversion_factor sqrt(P)"),
    "mw_conversion_factor": Quantity("T/W^0.5", "the probe's conversion factor B1 / sqrt(P)"),
    "field": Quantity("T", "static field B0"),
    "temperature": Quantity("K", "sample (lattice) temperature"),
}




def angular(frequency_hz):
    """Cyclic frequency (Hz) -> angular frequency (rad/s); scalars stay floats."""
    if np.ndim(frequency_hz):
        return TWO_PI * np.asarray(frequency_hz, dtype=float)
    return TWO_PI * float(frequency_hz)


def cyclic(omega):
    """Angular frequency (rad/s) -> cyclic frequency (Hz); scalars stay floats."""
    if np.ndim(omega):
        return np.asarray(omega, dtype=float) / TWO_PI
    return float(omega) / TWO_PI


def inverse_temperature(temperature_k: float) -> float:
    """beta = hbar / (k_B T) in s/rad, for a temperature in K (> 0)."""
    temperature_k = float(temperature_k)
    if not temperature_k > 0.0:
        raise UnitError("temperature", f"must be positive, got {temperature_k} K")
    return HBAR / (K_B * temperature_k)


def detailed_balance(x, beta: float):
    """h_beta(x) = e^{beta x} / (1 + e^{beta x}) = (1 + tanh(beta x / 2)) / 2.

    ``x`` is an energy difference in rad/s (array or scalar), ``beta`` in s/rad.
    Evaluated as a logistic function, so it never overflows.
    """
    return expit(beta * np.asarray(x, dtype=float))


def thermal_electron_polarization(omega, beta: float):
    """Thermal polarization 2<S_z> = -tanh(beta omega / 2) of a spin with Zeeman
    term +omega S_z (electrons polarize down; docs/conventions.md)."""
    return -np.tanh(0.5 * beta * np.asarray(omega, dtype=float))


def thermal_nuclear_polarization(omega_n, beta: float):
    """Thermal polarization 2<I_z> = +tanh(beta omega_n / 2) of a nucleus with Zeeman
    term -omega_n I_z (docs/conventions.md)."""
    return np.tanh(0.5 * beta * np.asarray(omega_n, dtype=float))


@functools.lru_cache(maxsize=1)
def _registry():
    """The one pint registry of dnpsim (building one costs ~0.2 s).  EPR writes fields
    in gauss: ``G``, ``Gs`` (and ``kG``, ``mG``) are 1e-4 T here, where pint's ``G`` is
    the gravitational constant (pint's word ``gauss`` stays its Gaussian-CGS unit,
    which does not convert to tesla)."""
    import pint

    registry = pint.UnitRegistry(on_redefinition="ignore")
    registry.define("gauss_field = 1e-4 * tesla = G = Gs")
    return registry


#: What a quantity string may look like: a number, then optionally a unit that starts
#: with a letter (or micro / degree sign): "93.9 GHz", "1 us", "2.5e-3 rad/s", "300 mK".
_QUANTITY_TEXT = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*([A-Za-z\u00b5\u03bc\u00b0\u03a9][^\n]*)?$")
#: Unit exponents beyond two digits are never units, only ways to make pint compute.
_BIG_EXPONENT = re.compile(r"(\*\*|\^)\s*[-+]?\d{3,}|(\*\*|\^)[^\n]*(\*\*|\^)\s*[-+]?\d+\s*(\*\*|\^)")


#: A power in dBm, the logarithmic unit pint cannot convert by a factor.
_DBM = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*dBm\s*$")


def dbm_to_watt(level):
    """A power level in dBm as watts: P = 1 mW x 10^(level / 10).  Scalars or arrays."""
    return 1e-3 * 10.0 ** (np.asarray(level, dtype=float) / 10.0) if np.ndim(level) else 1e-3 * 10.0 ** (float(level) / 10.0)


#: SI prefixes offered for display, largest first (micro written "u", plain ASCII).
_DISPLAY_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"))


def display_scale(values, unit: str) -> tuple[float, str]:
    """A readable unit for values given in the SI ``unit``: (factor, unit text) with
    values / factor between 1 and 1000 where a prefix allows (GHz for 94e9 Hz, ms for
    2e-3 s, 3.35 T, nT/W^0.5 for 4.8e-7 T/W^0.5).  ``mol / m**3`` is shown as mM
    (numerically equal); pure numbers (unit ``"1"`` or ``""``) are returned unscaled.
    ``values`` may be a number or an array (the largest finite nonzero magnitude sets
    the prefix).

    The prefix goes on the unit's first symbol: ``"T/W^0.5"`` -> ``"uT/W^0.5"``."""
    if unit == "mol / m**3":
        return 1.0, "mM"
    if unit in ("", "1"):
        return 1.0, unit
    values = np.abs(np.asarray(values, dtype=float))
    values = values[np.isfinite(values) & (values > 0)]
    largest = float(values.max()) if values.size else 1.0
    for factor, prefix in _DISPLAY_PREFIXES:
        if largest >= factor:
            return factor, prefix + unit
    return _DISPLAY_PREFIXES[-1][0], _DISPLAY_PREFIXES[-1][1] + unit


def _parse_quantity(value, dimension: str, field: str = "value") -> float:
    """:func:`parse_quantity` without the finiteness check."""
    if dimension not in SI_UNITS:
        raise ValueError(f"unknown dimension {dimension!r}")
    if isinstance(value, bool):
        raise UnitError(field, f"expected a number or a string with a unit, got {shown(value)}")
    if isinstance(value, Real):
        try:
            return float(value)
        except OverflowError:  # an integer beyond the float range
            raise UnitError(field, f"must be finite, got an integer of {len(str(abs(int(value))))} digits") from None
    if hasattr(value, "magnitude") and hasattr(value, "units") and np.ndim(value.magnitude) == 0:
        value = f"{shown(value.magnitude)} {value.units}"  # a pint Quantity (of any registry, any magnitude type)
    if not isinstance(value, str):
        raise UnitError(field, f"expected a number or a string with a unit, got {type(value).__name__} {shown(value)}")
    try:
        return _text_quantity(value, dimension)
    except _BadQuantity as exc:
        raise UnitError(field, str(exc)) from None


class _BadQuantity(ValueError):
    """A quantity string that cannot be read (the caller adds the field name)."""


@functools.lru_cache(maxsize=4096)
def _text_quantity(value: str, dimension: str) -> float:
    """A quantity string in SI units of ``dimension``.  Cached: a sweep resolves the
    same spec strings ("93.9 GHz") for every point and realization, and pint's parser
    costs ~0.2 ms a string.  Raises :class:`_BadQuantity` (not cached)."""
    if not _QUANTITY_TEXT.match(value) or _BIG_EXPONENT.search(value):
        # a number and a unit, not arithmetic: pint would evaluate "9**9**9 Hz" forever
        raise _BadQuantity(f"expected a number followed by a unit (e.g. '93.9 GHz'), got {shown(value)}")
    level = _DBM.match(value)
    if level:
        if dimension != "power":
            raise _BadQuantity(f"{shown(value)} is a power (dBm), not {_DIMENSION_NAMES[dimension]}")
        return dbm_to_watt(float(level.group(1)))
    ureg = _registry()
    try:
        quantity = ureg.Quantity(value.strip())
    except Exception as exc:  # pint raises several exception types
        raise _BadQuantity(f"cannot parse {shown(value)} as a quantity ({exc})") from None
    unit = SI_UNITS[dimension]
    if dimension == "temperature":
        # offset units (degC) need to_base semantics
        try:
            return float(quantity.to("kelvin").magnitude)
        except Exception:
            raise _BadQuantity(f"{shown(value)} is not a temperature") from None
    if dimension == "frequency" and "radian" in str(quantity.units):
        try:
            return float(quantity.to("radian / second").magnitude) / TWO_PI
        except Exception:
            raise _BadQuantity(f"{shown(value)} is not a frequency") from None
    try:
        return float(quantity.to(unit).magnitude) if unit else float(quantity.to("dimensionless").magnitude)
    except Exception:
        raise _BadQuantity(f"{shown(value)} is not {_DIMENSION_NAMES[dimension]} (expected units convertible to "
                           f"{unit or 'a pure number'})") from None


def parse_quantity(value, dimension: str, field: str = "value") -> float:
    """Parse a boundary quantity into SI (Hz for frequencies, s, K); finite.

    Parameters
    ----------
    value : number, str or pint Quantity
        A plain number is taken to be in SI units already (Hz, s, K).  A string may
        carry a unit: ``"93.9 GHz"``, ``"25 kHz"``, ``"1 us"``, ``"1.2 K"``.  Angular
        units ("rad/s") are converted to cyclic Hz.
    dimension : a key of :data:`SI_UNITS` ("frequency", "time", "temperature", "length",
        "magnetic_field", "concentration", "power" (also "20 dBm"), "field_per_root_power",
        "dimensionless")
    field : str
        Name used in error messages (e.g. ``"environment.temperature"``).

    Returns a float in Hz, s, K or dimensionless; raises :class:`UnitError` (naming
    ``field``) for a wrong unit, an unparsable or a non-finite value.
    """
    out = _parse_quantity(value, dimension, field)
    if not math.isfinite(out):
        raise UnitError(field, f"must be finite, got {shown(value)}")
    if dimension == "frequency" and not math.isfinite(TWO_PI * out):
        raise UnitError(field, f"is too large: {shown(value)} Hz overflows as an angular frequency")
    return out


def parse_fields(instance, dimensions: dict[str, str], section: str) -> None:
    """Parse the fields ``dimensions`` (name -> dimension) of a frozen dataclass
    ``instance`` in place into SI floats (:func:`parse_quantity`; errors name
    ``section.name``): how every public parameter class accepts numbers, strings with
    units and pint quantities."""
    for name, dimension in dimensions.items():
        object.__setattr__(instance, name, parse_quantity(getattr(instance, name), dimension, f"{section}.{name}"))


class Angular:
    """Read-only attribute 2 pi x ``field``: the angular frequency (rad/s) of a
    parameter given in Hz, which is what the engines compute with.  Used in the body
    of a parameter class, e.g. ``omega_e = Angular("electron_larmor")``."""

    def __init__(self, field: str):
        self.field = field

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = getattr(instance, self.field)
        if value is None:
            return None
        return TWO_PI * value if np.ndim(value) == 0 else TWO_PI * np.asarray(value)


def parse_array(values, dimension: str, field: str = "value") -> np.ndarray:
    """:func:`parse_quantity` for an array: a numeric array-like (SI units), a pint
    Quantity array, or a (nested) list whose entries may be strings with units.
    Returns a float ndarray of the same shape; :class:`UnitError` (naming ``field``)
    for a wrong unit or a non-finite entry."""
    if hasattr(values, "magnitude") and hasattr(values, "units"):
        unit = parse_quantity(f"1 {values.units}", dimension, field)
        out = np.asarray(values.magnitude, dtype=float) * unit
    else:
        try:
            out = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            array = np.asarray(values, dtype=object)
            out = np.empty(array.shape)
            for index in np.ndindex(array.shape):
                out[index] = parse_quantity(array[index], dimension, f"{field}{list(index)}")
    if not np.all(np.isfinite(out)):
        raise UnitError(field, "has non-finite entries")
    return out


_NUMBER_FIRST = re.compile(r"^\s*[-+]?(\d|\.\d)")


def quantity_to_si(value, field: str = "value", *, with_unit: bool = False):
    """A string with a unit (starting with a number, e.g. "93.9 GHz", "1 us", "1.2 K",
    "3.35 T", "40 mM", "2 W", "20 dBm", "0.5 G/W**0.5") as a float in the SI unit of its
    dimension (Hz, s, K, T, mol/m^3, W, T/W^0.5, pure numbers; :data:`QUANTITY_DIMENSIONS`); any other value is returned unchanged.  Raises :class:`UnitError` for a
    number with a unit of another dimension.  ``with_unit=True`` returns
    ``(value, unit)`` with the SI unit of the string's dimension (:data:`SI_UNITS`), or
    None for a value that was not a string with a unit."""
    if not isinstance(value, str) or not _NUMBER_FIRST.match(value):
        return (value, None) if with_unit else value
    for dimension in QUANTITY_DIMENSIONS:
        try:
            number = parse_quantity(value, dimension, field)
        except UnitError:
            continue
        return (number, SI_UNITS[dimension]) if with_unit else number
    raise UnitError(field, f"{shown(value)} is not a frequency, time, temperature, magnetic field, concentration, "
                    "power, field per square-root power or pure number")


#: Bytes per point of a ``{start, stop, num}`` grid while it is built: the float64
#: array and a tuple of Python floats (:func:`time_grid`), checked before building it.
GRID_BYTES_PER_POINT = 48


def parse_grid(value: Any, dimension: str, field_name: str, minimum: int = 1) -> np.ndarray:
    """A grid of quantities in SI units (Hz, s, K): a non-empty list or array (numbers
    or strings with units), a single value, or a ``{start, stop, num}`` table
    (``numpy.linspace``, ``num`` >= ``minimum``).  Finite, else :class:`SpecError`
    naming ``field_name``.  Returns a 1-D float array."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"start", "stop", "num"})
        if unknown:
            raise SpecError(f"{field_name}.{unknown[0]}", "unknown key (a grid is {start, stop, num})")
        for key in ("start", "stop", "num"):
            if key not in value:
                raise SpecError(f"{field_name}.{key}", "is required")
        start = parse_quantity(value["start"], dimension, f"{field_name}.start")
        stop = parse_quantity(value["stop"], dimension, f"{field_name}.stop")
        num = value["num"]
        if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < minimum:
            raise SpecError(f"{field_name}.num", f"must be an integer >= {minimum}, got {shown(num)}")
        from dnpsim.memory import check_fits

        # the array, and the tuple of floats a time grid becomes
        check_fits(GRID_BYTES_PER_POINT * int(num), f"{field_name}.num", f"a grid of {int(num)} points")
        out = np.linspace(start, stop, int(num))
    elif isinstance(value, (list, tuple, np.ndarray)) and len(value):
        out = np.atleast_1d(parse_array(value, dimension, field_name)).ravel()
    elif isinstance(value, (Real, str)) and not isinstance(value, bool):
        out = np.array([parse_quantity(value, dimension, field_name)])
    else:
        raise SpecError(field_name, f"must be a non-empty list or a {{start, stop, num}} table, got {shown(value)}")
    if out.size < minimum:
        raise SpecError(field_name, f"needs at least {minimum} values")
    if not np.all(np.isfinite(out)):
        raise SpecError(field_name, "must be finite")
    return out


def time_grid(value: Any, field_name: str = "method.times") -> tuple[float, ...]:
    """Output times (s) as a tuple of floats (:func:`parse_grid`: a list, an array or a
    ``{start, stop, num}`` table with ``num`` >= 2), non-negative and increasing, else
    :class:`~dnpsim.errors.SpecError` naming ``field_name``.  The one time-grid check
    of the package."""
    if not isinstance(value, (dict, list, tuple, np.ndarray)):
        raise SpecError(field_name, "must be a non-empty list of times or a {start, stop, num} table")
    times = parse_grid(value, "time", field_name, minimum=2 if isinstance(value, dict) else 1)
    if np.any(times < 0) or np.any(np.diff(times) < 0):
        raise SpecError(field_name, "must be non-negative and increasing")
    return tuple(float(t) for t in times)
