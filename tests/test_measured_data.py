"""Measured data load into the one layout "dnpsim-measurement/1" (issue 18): every
source (CSV / TSV / whitespace text, NetCDF, xarray in memory, DNPLab object and HDF5
file) gives the same Dataset, units are converted to SI, and every bad input gives one
SpecError naming the file and the column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from dnpsim.data import AXES, LAYOUT, OBSERVABLES, load_measurement, validate_measurement
from dnpsim.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
GHZ = np.array([93.84, 93.86, 93.9, 93.94, 93.96])
EPS = np.array([310.0, 250.5, -3.0, -240.0, -300.25])
ERR = np.array([10.0, 11.0, 9.5, 12.0, 10.5])


def write(path: Path, header: str, rows, sep: str = ", ", comments: str = "") -> Path:
    path.write_text(comments + header + "\n" + "\n".join(sep.join(repr(float(v)) for v in row) for row in rows) + "\n")
    return path


def reference(source: str, with_error: bool = True) -> xr.Dataset:
    """The layout of the GHZ / EPS / ERR profile, built by hand."""
    coord = {"mw_frequency": ("mw_frequency", GHZ * 1e9, {"units": "Hz", "long_name": "microwave frequency"})}
    variables = {"nuclear_enhancement": ("mw_frequency", EPS, {"units": "1", "long_name":
                                                                 OBSERVABLES["nuclear_enhancement"].long_name})}
    if with_error:
        variables["nuclear_enhancement_uncertainty"] = (
            "mw_frequency", ERR, {"units": "1", "long_name": "uncertainty of nuclear_enhancement (one standard deviation)"})
    return xr.Dataset(variables, coords=coord, attrs={"layout": LAYOUT, "observable": "nuclear_enhancement",
                                                      "axis": "mw_frequency",
                                                      "axis_key": "environment.mw_frequency", "source": source})


@pytest.mark.parametrize("header", ["mw_frequency [GHz], enhancement, enhancement_err",
                                    "frequency (GHz), epsilon, epsilon error",
                                    "Microwave Frequency / GHz, eps, sigma",
                                    "f [GHz], nuclear_enhancement [1], uncertainty"])
def test_csv_header_forms_give_the_layout(tmp_path, header):
    path = write(tmp_path / "p.csv", header, zip(GHZ, EPS, ERR))
    ds = load_measurement(path)
    xr.testing.assert_identical(ds, reference(str(path)))
    validate_measurement(ds)


def test_tsv_whitespace_and_comments(tmp_path):
    tsv = write(tmp_path / "p.tsv", "frequency [GHz]\tenhancement\tenhancement_std", zip(GHZ, EPS, ERR), sep="\t")
    xr.testing.assert_identical(load_measurement(tsv), reference(str(tsv)))
    txt = write(tmp_path / "p.dat", "frequency [GHz]   enhancement   enhancement_stderr", zip(GHZ, EPS, ERR),
                sep="   ", comments="# measured on the 3.35 T rig\n# temperature: 1.2 K\n# field = 3.35 T\n\n")
    ds = load_measurement(txt)
    assert ds.attrs["temperature"] == 1.2 and ds.attrs["field"] == 3.35
    assert ds.attrs["comment"] == "measured on the 3.35 T rig"
    xr.testing.assert_identical(ds.drop_attrs(deep=False).assign_attrs(reference(str(txt)).attrs), reference(str(txt)))


def test_descending_axis_is_sorted_with_its_values(tmp_path):
    path = write(tmp_path / "p.csv", "frequency [GHz], enhancement, enhancement_err",
                 list(zip(GHZ, EPS, ERR))[::-1])
    xr.testing.assert_identical(load_measurement(path), reference(str(path)))


@pytest.mark.parametrize("header, axis, factor", [
    ("frequency [MHz]", "mw_frequency", 1e6), ("B0 [mT]", "field", 1e-3), ("time [ms]", "time", 1e-3),
    ("delay (min)", "time", 60.0), ("power [mW]", "mw_power", 1e-3), ("rabi [kHz]", "mw_amplitude", 1e3),
    ("B1 [uT]", "mw_field", 1e-6), ("field / G", "field", 1e-4)])
def test_units_are_converted_to_si(tmp_path, header, axis, factor):
    x = np.array([1.0, 2.5, 4.0])
    path = write(tmp_path / "p.csv", header + ", signal [a.u.]", zip(x, [1.0, 2.0, 3.0]))
    ds = load_measurement(path)
    assert ds.attrs["axis"] == axis and ds.attrs["axis_key"] == AXES[axis].key
    assert ds.attrs["observable"] == "signal"
    np.testing.assert_allclose(ds[axis].values, x * factor, rtol=1e-15)
    assert ds[axis].attrs["units"] == AXES[axis].unit


def test_angular_frequency_and_dbm_convert(tmp_path):
    path = write(tmp_path / "a.csv", "mw_amplitude [rad/s], enhancement", zip([2 * np.pi * 1e3, 2 * np.pi * 2e3], [1, 2]))
    np.testing.assert_allclose(load_measurement(path).mw_amplitude.values, [1e3, 2e3], rtol=1e-14)
    path = write(tmp_path / "b.csv", "power [dBm], enhancement", zip([0.0, 10.0, 30.0], [1, 2, 3]))
    np.testing.assert_allclose(load_measurement(path).mw_power.values, [1e-3, 1e-2, 1.0], rtol=1e-14)


def test_percent_polarization_is_a_fraction(tmp_path):
    path = write(tmp_path / "p.csv", "time [s], P_n [%], P_n_err [%]", zip([1.0, 2.0, 10.0], [5.0, 9.0, 20.0],
                                                                          [0.5, 0.5, 1.0]))
    ds = load_measurement(path)
    assert ds.attrs["observable"] == "nuclear_polarization" and ds.attrs["axis_key"] == "method.times"
    np.testing.assert_allclose(ds.nuclear_polarization.values, [0.05, 0.09, 0.20], rtol=1e-15)
    np.testing.assert_allclose(ds.nuclear_polarization_uncertainty.values, [0.005, 0.005, 0.01], rtol=1e-15)


def test_overrides_name_unrecognised_columns(tmp_path):
    path = write(tmp_path / "p.csv", "x [GHz], y", zip(GHZ, EPS))
    with pytest.raises(SpecError, match="no column names the measurement axis"):
        load_measurement(path)
    ds = load_measurement(path, axis="mw_frequency", observable="nuclear_enhancement")
    xr.testing.assert_identical(ds, reference(str(path), with_error=False))


@settings(max_examples=25, deadline=None)
@given(unit=st.sampled_from([("Hz", 1.0), ("kHz", 1e3), ("MHz", 1e6), ("GHz", 1e9), ("THz", 1e12)]),
       x=st.lists(st.floats(1e-3, 1e3, allow_nan=False), min_size=2, max_size=8, unique=True),
       descending=st.booleans())
def test_any_unit_scaled_axis_round_trips(tmp_path_factory, unit, x, descending):
    """Writing SI frequencies in any prefix and loading them gives back the sorted
    frequencies times the prefix (to rounding), and the NetCDF of the result loads
    back identical."""
    name, factor = unit
    x = np.array(sorted(x, reverse=descending))
    if np.any(np.diff(np.sort(x * factor)) == 0):
        return
    directory = tmp_path_factory.mktemp("h")
    ds = load_measurement(write(directory / "p.csv", f"frequency [{name}], signal", zip(x, np.arange(x.size))))
    order = np.argsort(x)
    np.testing.assert_allclose(ds.mw_frequency.values, x[order] * factor, rtol=1e-15)
    np.testing.assert_array_equal(ds.signal.values, np.arange(x.size)[order])
    ds.to_netcdf(directory / "p.nc", engine="h5netcdf")
    back = load_measurement(directory / "p.nc")
    xr.testing.assert_identical(back, ds.assign_attrs(source=str(directory / "p.nc")))


def test_netcdf_and_in_memory_objects(tmp_path):
    # a plain Dataset: one dim with a units attr, a recognisable variable
    raw = xr.Dataset({"enhancement": ("frequency", EPS), "enhancement_err": ("frequency", ERR)},
                     coords={"frequency": ("frequency", GHZ, {"units": "GHz"})})
    xr.testing.assert_identical(load_measurement(raw), reference("xarray object"))
    raw.to_netcdf(tmp_path / "raw.nc", engine="h5netcdf")
    xr.testing.assert_identical(load_measurement(tmp_path / "raw.nc"), reference(str(tmp_path / "raw.nc")))
    # a DataArray named after the observable
    da = xr.DataArray(EPS, dims="f", coords={"f": ("f", GHZ * 1e3, {"units": "MHz"})}, name="epsilon")
    xr.testing.assert_identical(load_measurement(da), reference("xarray object", with_error=False))
    # a Dataset already in the layout is checked and kept
    xr.testing.assert_identical(load_measurement(reference("x")), reference("xarray object"))


def test_validate_measurement_refuses_broken_layouts():
    good = reference("x")
    validate_measurement(good)
    broken = [good.assign_attrs(layout="other"), good.assign_attrs(axis_key="model.field"),
              good.assign(nuclear_enhancement_uncertainty=-good.nuclear_enhancement_uncertainty),
              good.isel(mw_frequency=[1, 0, 2]), good.assign(extra=good.nuclear_enhancement),
              good.assign_coords(mw_frequency=good.mw_frequency.assign_attrs(units="GHz"))]
    for ds in broken:
        with pytest.raises(SpecError):
            validate_measurement(ds)
    with pytest.raises(SpecError, match="xarray object: coordinate 'mw_frequency'"):
        load_measurement(good.isel(mw_frequency=[1, 0, 2]))


@pytest.mark.parametrize("text, where, what", [
    ("frequency [T], enhancement\n1, 2\n3, 4\n", "column 'frequency [T]'", "is not a frequency"),
    ("frequency [GHz], enhancement [GHz]\n1, 2\n3, 4\n", "column 'enhancement [GHz]'", "is not a pure number"),
    ("frequency, enhancement\n1, 2\n3, 4\n", "column 'frequency'", "has no unit"),
    ("frequency [GHz], enhancement\n1, 2\n3, abc\n", "column 'enhancement'", "'abc' is not a number"),
    ("frequency [GHz], enhancement\n1, 2\n3, nan\n", "column 'enhancement'", "finite number"),
    ("frequency [GHz], enhancement\n1, 2\n1, 4\n", "column 'frequency [GHz]'", "twice"),
    ("frequency [GHz], enhancement\n1, 2\n", "p.csv", "at least 2"),
    ("", "p.csv", "holds no data"),
    ("# only a comment\n", "p.csv", "holds no data"),
    ("1, 2\n3, 4\n", "p.csv", "not a header"),
    ("voltage [V], enhancement\n1, 2\n3, 4\n", "p.csv", "no column names the measurement axis"),
    ("frequency [GHz], temperature [K]\n1, 2\n3, 4\n", "p.csv", "no column names the observable"),
    ("frequency [GHz], enhancement, signal\n1, 2, 3\n3, 4, 5\n", "p.csv", "observable columns"),
    ("frequency [GHz], enhancement, enhancement_err\n1, 2, 0\n3, 4, 1\n", "column 'enhancement_err'", "positive"),
    ("frequency [GHz], enhancement [%]\n1, 2\n3, 4\n", "column 'enhancement [%]'", "polarization only"),
    ("frequency [GHz], enhancement\n1, 2, 3\n3, 4\n", "p.csv", "line 2 has 3 values"),
    ("frequency [frobs], enhancement\n1, 2\n3, 4\n", "column 'frequency [frobs]'", "cannot read the unit"),
])
def test_each_bad_file_gives_one_clear_spec_error(tmp_path, text, where, what):
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_measurement(path)
    assert str(path) in info.value.field and where in info.value.field, info.value.field
    assert what in info.value.message, info.value.message


def test_bad_sources_and_arguments(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_measurement(tmp_path / "missing.csv")
    (tmp_path / "p.xlsx").write_text("x")
    with pytest.raises(SpecError, match="unknown file type"):
        load_measurement(tmp_path / "p.xlsx")
    with pytest.raises(SpecError, match="must be one of"):
        load_measurement(reference("x"), axis="frequency")
    with pytest.raises(SpecError, match="exactly one"):
        load_measurement(xr.Dataset({"enhancement": (("a", "b"), np.ones((2, 2)))}))
    with pytest.raises(SpecError, match="expected a file path"):
        load_measurement(42)


def test_shipped_synthetic_profile_loads():
    ds = load_measurement(ROOT / "examples" / "data" / "profile_synthetic.csv")
    assert ds.attrs["axis"] == "mw_frequency" and ds.attrs["temperature"] == 1.2
    assert ds.sizes["mw_frequency"] == 13 and float(ds.mw_frequency[0]) == pytest.approx(93.84e9)
    # the two lobes of a solid-effect / cross-effect profile around the line centre 93.9 GHz
    assert ds.nuclear_enhancement.sel(mw_frequency=93.85e9).item() > 300
    assert ds.nuclear_enhancement.sel(mw_frequency=93.95e9).item() < -300


def test_dnplab_round_trip_matches_the_csv(tmp_path):
    """Acceptance of issue 18: a DNPLab object, and the HDF5 file DNPLab writes from it,
    load into the same layout as the equivalent CSV file."""
    dnplab = pytest.importorskip("dnplab")
    data = dnplab.DNPData(EPS.copy(), ["f"], [GHZ.copy()], attrs={"experiment_type": "enhancements", "f_unit": "GHz",
                                                                  "temperature": 1.2})
    data.error = ERR.copy()
    csv = write(tmp_path / "p.csv", "mw_frequency [GHz], enhancement, enhancement_err", zip(GHZ, EPS, ERR),
                comments="# temperature: 1.2 K\n")
    from_csv = load_measurement(csv)
    from_csv.attrs.pop("comment", None)
    from_object = load_measurement(data)
    xr.testing.assert_identical(from_object, from_csv.assign_attrs(source="dnplab object"))
    # DNPLab's HDF5 writer keeps values, dims, coords and attrs, but not the error
    dnplab.save(data, str(tmp_path / "p.h5"), overwrite=True)
    from_h5 = load_measurement(tmp_path / "p.h5")
    expected = from_csv.drop_vars("nuclear_enhancement_uncertainty").assign_attrs(source=str(tmp_path / "p.h5"))
    xr.testing.assert_identical(from_h5, expected)


def test_dnplab_dimension_names_and_missing_units(tmp_path):
    dnplab = pytest.importorskip("dnplab")
    build = dnplab.DNPData(np.array([1.0, 5.0, 8.0]), ["t1"], [np.array([0.5, 2.0, 8.0])],
                           attrs={"experiment_type": "integrals"})
    ds = load_measurement(build)
    assert ds.attrs["axis"] == "time" and ds.attrs["observable"] == "signal"
    power = dnplab.DNPData(np.array([1.0, 5.0, 8.0]), ["Power"], [np.array([0.0, 10.0, 20.0])],
                           attrs={"experiment_type": "enhancements_P"}, dnplab_attrs={"power_unit": "dBm"})
    np.testing.assert_allclose(load_measurement(power).mw_power.values, [1e-3, 1e-2, 1e-1], rtol=1e-14)
    field = dnplab.DNPData(np.array([1.0, 5.0]), ["B0"], [np.array([3340.0, 3350.0])], attrs={})
    with pytest.raises(SpecError) as info:
        load_measurement(field, observable="signal")
    assert info.value.field == "dnplab object: dim 'B0'" and "has no unit" in info.value.message
    with pytest.raises(SpecError, match="do not say what they are"):
        load_measurement(field.copy())


def test_dnplab_missing_gives_the_extra(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "dnplab", None)  # import dnplab now fails
    (tmp_path / "p.h5").write_bytes(b"")
    with pytest.raises(SpecError, match=r"pip install 'dnpsim\[data\]'"):
        load_measurement(tmp_path / "p.h5")


def test_import_dnpsim_data_does_not_import_dnplab():
    import subprocess
    import sys

    code = "import sys, dnpsim.data; assert 'dnplab' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(ROOT / "src"),
                                                                  "PATH": "/usr/bin:/bin"})
