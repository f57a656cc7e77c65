"""The radical library (``radicals.toml``, listed by ``dnpsim radicals``) and radicals a
spec defines itself.

A :class:`Radical` holds the principal g values, the hyperfine couplings of its
nuclei (groups of equivalent nuclei, principal values in Hz along the g axes) and,
for a biradical, the electron-electron distance and the relative orientation of the
two moieties.  Every number of the library carries the DOI of its literature source;
the entries' ``note`` says where a value is nominal or uncertain.

``load_radicals()`` reads the library; ``radical(name)`` finds an entry by name or
alias, case-insensitively.  A spec gives its own radical in the offsets table::

    offsets = {distribution = "powder", g = [2.0094, 2.0061, 2.0021],
               hyperfine = {species = "14N", principal = ["18 MHz", "18 MHz", "101 MHz"]}}

(``hyperfine`` may be a list of such tables, each with an optional ``count`` of
equivalent nuclei).
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from dnpsim.errors import SpecError, shown

#: Nuclear spin quantum numbers I of the species a hyperfine coupling may name.
NUCLEAR_SPINS = {"1H": 0.5, "2H": 1.0, "13C": 0.5, "14N": 1.0, "15N": 0.5, "17O": 2.5, "19F": 0.5, "31P": 0.5}
#: Keys of a hyperfine table (library entry or spec).
HYPERFINE_FIELDS = ("species", "principal", "count")
_ENTRY_FIELDS = {"aliases", "description", "g", "g_source", "hyperfine", "moiety", "distance", "distance_source",
                 "relative_orientation", "orientation_source", "note"}


@dataclass(frozen=True)
class Hyperfine:
    """A group of ``count`` equivalent nuclei of ``species`` (spin ``spin``), each with
    principal hyperfine values ``principal`` (Hz, along the g axes)."""

    species: str
    principal: tuple[float, float, float]
    count: int = 1
    source: str = ""

    @property
    def spin(self) -> float:
        return NUCLEAR_SPINS[self.species]

    def to_table(self) -> dict:
        """The spec form (SI numbers)."""
        return {"species": self.species, "principal": list(self.principal), "count": self.count}


@dataclass(frozen=True)
class Radical:
    """One radical: principal g values, hyperfine groups, and for a biradical the
    electron-electron ``distance`` (m) and ``relative_orientation`` (z-y-z Euler
    angles, deg).  ``sources`` maps each quantity to its DOI."""

    name: str
    g: tuple[float, float, float]
    hyperfine: tuple[Hyperfine, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""
    moiety: str | None = None
    distance: float | None = None
    relative_orientation: tuple[float, float, float] | None = None
    sources: dict = field(default_factory=dict, compare=False)
    note: str = ""
    #: the concentration-mapping coefficient U / 2 pi per mM of electron spins (Hz / mM)
    #: of the 2016 engine's couplings, the bulk mapping
    #: (:data:`dnpsim.sample.dipolar.BULK_COUPLING_HZ_PER_MM`): it uses the free-electron
    #: gamma_e, so it is the same for every radical (filled for library entries).
    coupling_per_mM: float | None = None

    @property
    def g_iso(self) -> float:
        return float(np.mean(self.g))

    @property
    def is_biradical(self) -> bool:
        return self.distance is not None

    @property
    def dipolar_coupling(self) -> float | None:
        """The electron-electron dipolar coupling constant D = mu0 g^2 mu_B^2 / (4 pi h r^3)
        (Hz, g = g_iso) of a biradical, None for a monoradical."""
        if self.distance is None:
            return None
        return dipolar_coupling_hz(self.distance, self.g_iso)


def dipolar_coupling_hz(distance: float, g: float) -> float:
    """D = mu0 / (4 pi) g^2 mu_B^2 / (h r^3) in Hz for two electrons ``distance`` (m) apart."""
    from scipy import constants

    from dnpsim.units import H_PLANCK, MU_B

    return constants.mu_0 / (4 * math.pi) * g * g * MU_B**2 / (H_PLANCK * distance**3)


def _key(name: str) -> str:
    return name.strip().lower()


def _quantity(value: Any, dimension: str, where: str) -> float:
    from dnpsim.units import parse_quantity

    return parse_quantity(value, dimension, where)


def read_g(value: Any, where: str) -> tuple[float, float, float]:
    """Three positive principal g values."""
    if not isinstance(value, list) or len(value) != 3:
        raise SpecError(where, f"must be a list of 3 principal g values [g_x, g_y, g_z], got {shown(value)}")
    out = tuple(_quantity(v, "dimensionless", f"{where}[{i}]") for i, v in enumerate(value))
    for i, g in enumerate(out):
        if g <= 0:
            raise SpecError(f"{where}[{i}]", f"must be positive, got {shown(value[i])}")
    return out  # type: ignore[return-value]


def read_hyperfine(value: Any, where: str, source: str = "") -> tuple[Hyperfine, ...]:
    """Hyperfine groups from a table or a list of tables {species, principal, count}."""
    tables = value if isinstance(value, list) else [value]
    out = []
    for k, table in enumerate(tables):
        here = f"{where}[{k}]" if isinstance(value, list) else where
        if not isinstance(table, dict):
            raise SpecError(here, f"must be a table {{species, principal, count}}, got {shown(table)}")
        unknown = set(table) - set(HYPERFINE_FIELDS) - {"source", "note"}
        if unknown:
            bad = sorted(unknown)[0]
            raise SpecError(f"{here}.{bad}", f"unknown key (allowed here: {', '.join(HYPERFINE_FIELDS)})")
        for key in ("species", "principal"):
            if key not in table:
                raise SpecError(f"{here}.{key}", "is required")
        species = table["species"]
        if species not in NUCLEAR_SPINS:
            raise SpecError(f"{here}.species", f"must be one of {sorted(NUCLEAR_SPINS)}, got {shown(species)}")
        principal = table["principal"]
        if not isinstance(principal, list) or len(principal) != 3:
            raise SpecError(f"{here}.principal", f"must be a list of 3 principal values [A_x, A_y, A_z] (Hz), "
                            f"got {shown(principal)}")
        values = tuple(_quantity(v, "frequency", f"{here}.principal[{i}]") for i, v in enumerate(principal))
        count = table.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise SpecError(f"{here}.count", f"must be a positive integer, got {shown(count)}")
        out.append(Hyperfine(species, values, count, table.get("source", source)))  # type: ignore[arg-type]
    return tuple(out)


def _entry(name: str, table: dict, raw: dict) -> Radical:
    where = f"radicals.toml [{name}]"
    unknown = set(table) - _ENTRY_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    base = table
    sources = {}
    if "moiety" in table:
        base = raw[table["moiety"]]
        sources["g"] = base["g_source"]
        sources["hyperfine"] = [h["source"] for h in base.get("hyperfine", [])]
    else:
        sources["g"] = table["g_source"]
        sources["hyperfine"] = [h["source"] for h in table.get("hyperfine", [])]
    distance = orientation = None
    if "distance" in table:
        distance = _quantity(table["distance"], "length", f"{where}.distance")
        sources["distance"] = table["distance_source"]
    if "relative_orientation" in table:
        orientation = tuple(float(a) for a in table["relative_orientation"])
        sources["relative_orientation"] = table["orientation_source"]
    from dnpsim.sample.dipolar import BULK_COUPLING_HZ_PER_MM

    return Radical(name=name, g=read_g(base["g"], f"{where}.g"),
                   hyperfine=read_hyperfine(base.get("hyperfine", []), f"{where}.hyperfine"),
                   aliases=tuple(table.get("aliases", ())), description=table.get("description", ""),
                   moiety=table.get("moiety"), distance=distance, relative_orientation=orientation,
                   sources=sources, note=" ".join(table.get("note", "").split()),
                   coupling_per_mM=BULK_COUPLING_HZ_PER_MM)


@functools.lru_cache(maxsize=1)
def _library() -> dict[str, Radical]:
    text = resources.files("dnpsim.sample").joinpath("radicals.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    return {name: _entry(name, table, raw) for name, table in raw.items()}


def load_radicals() -> dict[str, Radical]:
    """The library: name -> :class:`Radical`, in the file's order."""
    return dict(_library())


def radical(name: str, field: str = "radical") -> Radical:
    """The library entry named ``name`` or with ``name`` among its aliases
    (case-insensitive); a :class:`SpecError` naming ``field`` when there is none."""
    if not isinstance(name, str):
        raise SpecError(field, f"must be a radical name (a string), got {shown(name)}")
    wanted = _key(name)
    for entry in _library().values():
        if wanted == _key(entry.name) or wanted in (_key(a) for a in entry.aliases):
            return entry
    raise SpecError(field, f"unknown radical {name!r}; the library has {', '.join(_library())} "
                    "(`dnpsim radicals` lists them); or give g = [...] and hyperfine = {...}")


def radical_table() -> str:
    """The library as text: name, g, hyperfine, biradical geometry, the bulk mapping's
    coupling per mM, sources, notes."""
    from dnpsim.sample.dipolar import BULK_COUPLING_HZ_PER_MM

    lines = [f"Couplings from a concentration (2016 engine, model.couplings = {{distribution = \"gaussian\", "
             f"concentration}}): U / 2pi = {BULK_COUPLING_HZ_PER_MM / 1e3:.2f} kHz per mM "
             f"({BULK_COUPLING_HZ_PER_MM / 1e6:.5f} MHz per mM, linear in c; free-electron gamma_e, "
             "the same for every radical; see the 'Sample inputs' page of the documentation).", ""]
    for entry in _library().values():
        names = entry.name + (f" (also: {', '.join(entry.aliases)})" if entry.aliases else "")
        lines.append(names)
        if entry.description:
            lines.append(f"  {entry.description}")
        moiety = f" (each electron a {entry.moiety})" if entry.moiety else ""
        lines.append(f"  g = ({', '.join(f'{g:.5f}' for g in entry.g)}), g_iso = {entry.g_iso:.5f}{moiety}"
                     f"  [doi:{entry.sources['g']}]")
        for h, src in zip(entry.hyperfine, entry.sources["hyperfine"]):
            values = ", ".join(f"{a / 1e6:g}" for a in h.principal)
            lines.append(f"  hyperfine {h.count} x {h.species} (I = {h.spin:g}): A = ({values}) MHz  [doi:{src}]")
        if entry.is_biradical:
            lines.append(f"  e-e distance {entry.distance * 1e9:g} nm -> dipolar coupling D = "
                         f"{entry.dipolar_coupling / 1e6:.1f} MHz  [doi:{entry.sources['distance']}]")
        if entry.relative_orientation is not None:
            angles = ", ".join(f"{a:g}" for a in entry.relative_orientation)
            lines.append(f"  relative orientation (z-y-z Euler, deg) = ({angles})  "
                         f"[doi:{entry.sources['relative_orientation']}]")
        if entry.coupling_per_mM is not None:
            per = "electron spins: a biradical molecule carries two" if entry.is_biradical else "radicals"
            lines.append(f"  coupling per mM (bulk mapping, U / 2pi / c): {entry.coupling_per_mM / 1e3:.2f} kHz per mM "
                         f"= {entry.coupling_per_mM / 1e6:.5f} MHz per mM of {per}")
        if entry.note:
            lines.append(f"  note: {entry.note}")
    return "\n".join(lines)


#: Keys of a ``{distribution = "powder", ...}`` offsets table besides ``distribution``.
POWDER_FIELDS = ("radical", "g", "hyperfine")


def powder_radical(table: dict, where: str) -> tuple[Radical, dict]:
    """The radical of a powder offsets table (``radical = NAME`` from the library, or
    ``g = [...]`` with optional ``hyperfine``) and the table in SI numbers (what a
    resolved spec keeps with ``drawn=False``).  Unknown keys and bad values are a
    :class:`SpecError` naming the field."""
    from dnpsim.specs.readers import check_keys

    check_keys(table, {"distribution", *POWDER_FIELDS}, where)
    if "radical" in table:
        for key in ("g", "hyperfine"):
            if key in table:
                raise SpecError(f"{where}.{key}", "give either radical = NAME (the library's values) or g and "
                                "hyperfine, not both")
        entry = radical(table["radical"], f"{where}.radical")
        return entry, {"distribution": "powder", "radical": entry.name}
    if "g" not in table:
        raise SpecError(f"{where}.radical", "is required for distribution 'powder' (a library radical, see "
                        "`dnpsim radicals`), or give g = [g_x, g_y, g_z] and optionally hyperfine")
    g = read_g(table["g"], f"{where}.g")
    hyperfine = read_hyperfine(table["hyperfine"], f"{where}.hyperfine") if "hyperfine" in table else ()
    si = {"distribution": "powder", "g": list(g)}
    if hyperfine:
        si["hyperfine"] = [h.to_table() for h in hyperfine]
    return Radical(name="(spec)", g=g, hyperfine=hyperfine), si
