"""Nuclear species: signed gyromagnetic ratios and Larmor frequencies in a field B0.

``model.nuclei.species`` (e.g. ``"13C"``) with ``model.field`` replaces
``model.nuclei.larmor``: the spec's ``larmor`` is then |gamma| B0 / 2 pi (Hz, always
positive, as every ``larmor`` of a spec) and the **sign** of gamma is carried by the
species.  The nuclear Zeeman term is -gamma B0 I_z = -omega_n I_z with the *signed*
omega_n = gamma B0 (docs/conventions.md): a negative-gamma nucleus (15N, 29Si, 89Y, ...)
has its ground state spin down and thermal polarization
P_B = 2<I_z> = tanh(beta omega_n / 2) < 0.

Sources of the gyromagnetic ratios (rad s^-1 T^-1, signed):

* 1H: CODATA (the unshielded proton, ``scipy.constants`` "proton gyromag. ratio").
* every other nucleus: R. K. Harris, E. D. Becker, S. M. Cabral de Menezes,
  R. Goodfellow, P. Granger, "NMR nomenclature. Nuclear spin properties and
  conventions for chemical shifts", Pure Appl. Chem. 73, 1795 (2001),
  doi:10.1351/pac200173111795, Table 1 (gamma / 10^7 rad s^-1 T^-1).
"""

from __future__ import annotations

import math

from scipy import constants as _c

from dnpsim.errors import SpecError, shown

__all__ = ["GYROMAGNETIC_RATIOS", "SOURCES", "gyromagnetic_ratio", "nuclear_larmor_hz", "signed_larmor_hz", "gamma_sign", "gamma_sign",
           "known_species"]

_HARRIS_2001 = "Harris et al., Pure Appl. Chem. 73, 1795 (2001), Table 1"
_CODATA = "CODATA (scipy.constants 'proton gyromag. ratio')"

#: Signed gyromagnetic ratio gamma (rad s^-1 T^-1) by species, and where it comes from.
_TABLE: dict[str, tuple[float, str]] = {
    "1H": (_c.physical_constants["proton gyromag. ratio"][0], _CODATA),
    "2H": (4.10662791e7, _HARRIS_2001),
    "3He": (-20.3801587e7, _HARRIS_2001),
    "6Li": (3.9371709e7, _HARRIS_2001),
    "7Li": (10.3977013e7, _HARRIS_2001),
    "11B": (8.5847044e7, _HARRIS_2001),
    "13C": (6.728284e7, _HARRIS_2001),
    "14N": (1.9337792e7, _HARRIS_2001),
    "15N": (-2.71261804e7, _HARRIS_2001),
    "17O": (-3.62808e7, _HARRIS_2001),
    "19F": (25.18148e7, _HARRIS_2001),
    "23Na": (7.0808493e7, _HARRIS_2001),
    "27Al": (6.9762715e7, _HARRIS_2001),
    "29Si": (-5.3190e7, _HARRIS_2001),
    "31P": (10.8394e7, _HARRIS_2001),
    "77Se": (5.1253857e7, _HARRIS_2001),
    "89Y": (-1.3162791e7, _HARRIS_2001),
    "113Cd": (-5.9609155e7, _HARRIS_2001),
    "119Sn": (-10.0317e7, _HARRIS_2001),
    "129Xe": (-7.452103e7, _HARRIS_2001),
}
#: gamma (rad s^-1 T^-1, signed) by species name ("1H", "13C", ...).
GYROMAGNETIC_RATIOS: dict[str, float] = {name: value for name, (value, _) in _TABLE.items()}
#: The source of each value of :data:`GYROMAGNETIC_RATIOS`.
SOURCES: dict[str, str] = {name: source for name, (_, source) in _TABLE.items()}


def known_species() -> list[str]:
    """The species names :func:`gyromagnetic_ratio` knows, lightest first."""
    return list(_TABLE)


def gyromagnetic_ratio(species: str, field: str = "model.nuclei.species") -> float:
    """The signed gyromagnetic ratio gamma of ``species`` ("1H", "13C", "15N", ...) in
    rad s^-1 T^-1; :class:`SpecError` naming ``field`` (and listing the known species)
    for anything else."""
    if not isinstance(species, str) or species not in _TABLE:
        raise SpecError(field, f"unknown nuclear species {shown(species)} (known: {', '.join(known_species())})")
    return GYROMAGNETIC_RATIOS[species]


def nuclear_larmor_hz(species: str, b0: float, field: str = "model.nuclei.species") -> float:
    """The Larmor frequency |gamma| B0 / 2 pi (Hz, >= 0) of ``species`` in a field of
    ``b0`` tesla: the ``larmor`` a resolved spec writes.  The sign of gamma is
    :func:`gamma_sign`."""
    return abs(gyromagnetic_ratio(species, field)) * float(b0) / (2.0 * math.pi)


def gamma_sign(species: str | None, field: str = "model.nuclei.species") -> float:
    """+1.0 or -1.0, the sign of gamma of ``species`` (+1.0 for None: a spec that gives
    only ``larmor`` describes a positive-gamma nucleus)."""
    if species is None:
        return 1.0
    return math.copysign(1.0, gyromagnetic_ratio(species, field))


def signed_larmor_hz(species: str, b0: float, field: str = "model.nuclei.species") -> float:
    """omega_n / 2 pi = gamma B0 / 2 pi (Hz), signed: the frequency of the Zeeman term
    -omega_n I_z that the engines use, negative for a negative-gamma nucleus."""
    return gyromagnetic_ratio(species, field) * float(b0) / (2.0 * math.pi)
