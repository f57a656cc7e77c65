"""Outputs describe themselves (issue: docs and self-describing outputs): every variable
and coordinate of a sweep's NetCDF has ``units`` and ``long_name``, and every JSON
result has a ``units`` map covering its numeric keys, for every shipped example."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import xarray as xr

import dnpsim
from dnpsim.cli import main

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.toml"))


def _small(spec: dict) -> dict:
    """The example at a size that runs in about a second (the keys stay the same)."""
    spec = copy.deepcopy(spec)
    if spec["model"].get("n_electrons", 0) > 6:
        spec["model"]["n_electrons"] = 6
    method = spec.get("method", {})
    if "trajectories" in method:
        method["trajectories"] = 2
    if isinstance(method.get("times"), dict) and method["times"].get("num", 0) > 6:
        method["times"]["num"] = 6
    sweep = spec.get("sweep")
    if sweep is not None:
        sweep["realizations"] = 1
        for value in sweep.values():
            if isinstance(value, dict) and "num" in value:
                value["num"] = 3
    return spec


def _numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, dict):
        return any(_numeric(v) for v in value.values())
    return isinstance(value, list) and any(_numeric(v) for v in value)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_json_result_has_units_for_every_numeric_key(path, tmp_path):
    spec = _small(dnpsim.load_spec(path))
    spec.pop("sweep", None)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    out = tmp_path / "r.json"
    assert main(["run", str(spec_file), "-o", str(out), "-q"]) == 0
    data = json.loads(out.read_text())
    numeric = {k for k, v in data.items() if k not in ("spec", "units") and _numeric(v)}
    assert numeric, data
    assert numeric <= set(data["units"]), sorted(numeric - set(data["units"]))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_sweep_netcdf_has_units_and_long_name_everywhere(path, tmp_path):
    spec = _small(dnpsim.load_spec(path))
    spec.setdefault("sweep", {"realizations": 1})
    out = tmp_path / "r.nc"
    dnpsim.sweep(spec, output=out, progress=False)
    with xr.open_dataset(out, engine="h5netcdf") as data:
        for name in list(data.data_vars) + list(data.coords):
            attrs = data[name].attrs
            assert "units" in attrs and "long_name" in attrs, (name, attrs)
        assert data.attrs["dnpsim_version"] and "git_revision" in data.attrs and "spec" in data.attrs


def test_swept_field_and_concentration_coordinates_have_units(tmp_path):
    """Sample keys swept (model.field in T, a concentration in mol/m^3 = mM) label
    their coordinates like every other key."""
    spec = dnpsim.load_spec(Path(__file__).resolve().parents[1] / "examples" / "tempo_40mM_3.35T.toml")
    spec["model"]["n_electrons"] = 4
    spec["sweep"] = {"model.field": ["3.35 T", "3.351 T"], "model.couplings.concentration": ["20 mM", "40 mM"],
                     "realizations": 1}
    data = dnpsim.sweep(spec, progress=False)
    assert data["field"].attrs["units"] == "T"
    assert data["concentration"].attrs["units"] == "mol / m**3"


@pytest.mark.parametrize("value, unit", [(93.9e9, "Hz"), (1.75e7, "Hz"), (25e3, "Hz"), (1.0, "s"), (5e-4, "s"),
                                         (3.35, "T"), (0.0123, "T"), (2.5e-8, "T"), (4.8e-7, "T/W^0.5"),
                                         (0.3, "K"), (40.0, "mol / m**3"), (12.0, "W")])
def test_display_scale_shows_the_same_quantity_in_a_readable_unit(value, unit):
    """The fit report and plot axes show SI values in a prefixed unit: pint agrees that
    the shown number in the shown unit is the SI quantity, and the number lies in
    [1, 1000)."""
    from dnpsim.units import _registry, display_scale

    factor, shown = display_scale(value, unit)
    ureg = _registry()
    assert ureg.Quantity(value, unit.replace("^", "**")).to(shown.replace("^", "**")).magnitude == pytest.approx(
        value / factor, rel=1e-12)
    assert 1.0 <= value / factor < 1000.0
