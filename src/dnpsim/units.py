"""The one unit system of dnpsim.

Conventions (DESIGN.md, "Conventions"):

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
from numbers import Real

import numpy as np
from scipy import constants as _c
from scipy.special import expit

from dnpsim.errors import UnitError

#: Reduced Planck constant, J s.
HBAR: float = _c.hbar
#: Boltzmann constant, J / K.
K_B: float = _c.k
#: 2 pi, the factor between cyclic (Hz) and angular (rad/s) frequencies.
TWO_PI: float = 2.0 * math.pi

#: Physical dimensions a boundary quantity can have, with their SI unit.
SI_UNITS = {
    "frequency": "Hz",
    "time": "s",
    "temperature": "K",
    "dimensionless": "",
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
    term +omega S_z (electrons polarize down; DESIGN.md, "Signs")."""
    return -np.tanh(0.5 * beta * np.asarray(omega, dtype=float))


def thermal_nuclear_polarization(omega_n, beta: float):
    """Thermal polarization 2<I_z> = +tanh(beta omega_n / 2) of a nucleus with Zeeman
    term -omega_n I_z (DESIGN.md, "Signs")."""
    return np.tanh(0.5 * beta * np.asarray(omega_n, dtype=float))


@functools.lru_cache(maxsize=1)
def _registry():
    import pint

    return pint.UnitRegistry()


def parse_quantity(value, dimension: str, field: str = "value") -> float:
    """Parse a boundary quantity into SI (Hz for frequencies, s, K).

    Parameters
    ----------
    value : number or str
        A plain number is taken to be in SI units already (Hz, s, K).  A string may
        carry a unit: ``"93.9 GHz"``, ``"25 kHz"``, ``"1 us"``, ``"1.2 K"``.  Angular
        units ("rad/s") are converted to cyclic Hz.
    dimension : {"frequency", "time", "temperature", "dimensionless"}
    field : str
        Name used in error messages (e.g. ``"environment.temperature"``).

    Returns
    -------
    float in Hz, s, K or dimensionless.
    """
    if dimension not in SI_UNITS:
        raise ValueError(f"unknown dimension {dimension!r}")
    if isinstance(value, bool):
        raise UnitError(field, f"expected a number or a string with a unit, got {value!r}")
    if isinstance(value, Real):
        return float(value)
    if not isinstance(value, str):
        raise UnitError(field, f"expected a number or a string with a unit, got {type(value).__name__} {value!r}")
    ureg = _registry()
    try:
        quantity = ureg.Quantity(value.strip())
    except Exception as exc:  # pint raises several exception types
        raise UnitError(field, f"cannot parse {value!r} as a quantity ({exc})") from None
    unit = SI_UNITS[dimension]
    if dimension == "temperature":
        # offset units (degC) need to_base semantics
        try:
            return float(quantity.to("kelvin").magnitude)
        except Exception:
            raise UnitError(field, f"{value!r} is not a temperature") from None
    if dimension == "frequency" and "radian" in str(quantity.units):
        try:
            return float(quantity.to("radian / second").magnitude) / TWO_PI
        except Exception:
            raise UnitError(field, f"{value!r} is not a frequency") from None
    try:
        return float(quantity.to(unit).magnitude) if unit else float(quantity.to("dimensionless").magnitude)
    except Exception:
        raise UnitError(field, f"{value!r} is not a {dimension} (expected units convertible to {unit or 'a pure number'})") from None
