"""Power curves: ``environment.mw_power`` with ``environment.mw_conversion_factor``
(B1 = factor x sqrt(P)), powers in W or dBm, comparing and fitting data along
``mw_power``, and a microwave-strength axis replacing the spec's own strength."""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import dnpsim
from dnpsim.cli import main as cli_main
from dnpsim.data.compare import compare, point_spec_for, simulate_measurement, sweep_spec_for
from dnpsim.data.fit import fit
from dnpsim.data.measured import AXES, load_measurement
from dnpsim.errors import SpecError, UnitError
from dnpsim.spec import validate_spec
from dnpsim.units import G_FREE_ELECTRON, H_PLANCK, MU_B, dbm_to_watt, parse_quantity, quantity_to_si

ROOT = Path(__file__).resolve().parent.parent


def _spec(**environment) -> dict:
    """Two electrons and a nucleus (2016 engine), the microwave strength as given."""
    env = {"temperature": "1.2 K", "mw_frequency": "93.9 GHz", **environment}
    return {"model": {"kind": "dipolar_electrons", "electron_larmor": "93.9 GHz", "offsets": [-3e6, 2e6],
                      "couplings": [[0.0, 1.5e6], [1.5e6, 0.0]], "nuclei": {"larmor": "20 MHz", "hyperfine": [1e6, -0.6e6]}},
            "environment": env}


def _profile_spec(electrons: int = 3, realizations: int = 4) -> dict:
    """examples/dnp_profile.toml, reduced, at 93.92 GHz, its strength given by a power."""
    spec = tomllib.loads((ROOT / "examples" / "dnp_profile.toml").read_text())
    spec["model"]["n_electrons"] = electrons
    environment = spec["environment"]
    del environment["mw_amplitude"]
    environment["mw_frequency"] = 93.92e9
    environment["mw_conversion_factor"] = "0.5 uT/W**0.5"
    spec["sweep"] = {"realizations": realizations, "seed": 1}
    return spec


def _measurement(axis: str, values, observable="nuclear_enhancement", data=None, sigma=None):
    x = np.asarray(values, dtype=float)
    variables = {observable: (axis, np.zeros_like(x) if data is None else np.asarray(data, dtype=float))}
    if sigma is not None:
        variables[f"{observable}_uncertainty"] = (axis, np.full_like(x, sigma))
    return load_measurement(xr.Dataset(variables, coords={axis: (axis, x, {"units": AXES[axis].unit})}))


def test_power_units():
    """W, mW and dBm are powers; G/W**0.5 and uT/W**0.5 are conversion factors; a
    dBm is refused for any other dimension, naming the field."""
    assert parse_quantity("30 mW", "power") == pytest.approx(0.03)
    assert parse_quantity("20 dBm", "power") == pytest.approx(0.1)
    assert parse_quantity("-10 dBm", "power") == pytest.approx(1e-4)
    assert dbm_to_watt(np.array([0.0, 30.0])) == pytest.approx([1e-3, 1.0])
    assert parse_quantity("0.5 G/W**0.5", "field_per_root_power") == pytest.approx(5e-5)
    assert parse_quantity("2 uT/W^0.5", "field_per_root_power") == pytest.approx(2e-6)
    assert quantity_to_si("36 dBm", with_unit=True) == (pytest.approx(10 ** 0.6), "W")
    assert quantity_to_si("0.5 G/W**0.5", with_unit=True) == (pytest.approx(5e-5), "T / W**0.5")
    with pytest.raises(UnitError, match="environment.mw_frequency: '20 dBm' is a power"):
        parse_quantity("20 dBm", "frequency", "environment.mw_frequency")
    with pytest.raises(UnitError, match="environment.mw_power: '2 T' is not a power"):
        parse_quantity("2 T", "power", "environment.mw_power")


def test_mw_power_is_mw_field():
    """omega_1 / 2 pi = g mu_B (factor sqrt(P)) / h: a power of 4 W through 0.5 uT/W^0.5
    is the B1 of 1 uT, in W and in dBm (36.0206 dBm = 4 W)."""
    by_field = dnpsim.run(_spec(mw_field="1 uT"))
    by_power = dnpsim.run(_spec(mw_power="4 W", mw_conversion_factor="0.5 uT/W**0.5"))
    expected = G_FREE_ELECTRON * MU_B * 1e-6 / H_PLANCK
    assert by_field.parameters["environment"]["mw_amplitude"] == pytest.approx(expected, rel=1e-15)
    assert by_power.parameters["environment"]["mw_amplitude"] == pytest.approx(expected, rel=1e-15)
    assert "mw_power" not in by_power.parameters["environment"]
    assert by_power.nuclear_polarization == pytest.approx(by_field.nuclear_polarization, rel=1e-12)
    in_dbm = dnpsim.run(_spec(mw_power=f"{10 * math.log10(4e3)!r} dBm", mw_conversion_factor="5 mG/W**0.5"))
    assert in_dbm.parameters["environment"]["mw_amplitude"] == pytest.approx(expected, rel=1e-12)
    # a resolved spec runs again (it writes the derived mw_amplitude)
    assert dnpsim.run(by_power.parameters).nuclear_polarization == by_power.nuclear_polarization


def test_every_engine_reads_mw_power():
    """The cross-effect and Anderson engines read the power too (one reader)."""
    cross = tomllib.loads((ROOT / "examples" / "cross_effect_e1e2n.toml").read_text())
    b1 = 10e3 * H_PLANCK / (G_FREE_ELECTRON * MU_B)
    del cross["environment"]["mw_amplitude"]
    cross["environment"].update(mw_power=1.0, mw_conversion_factor=b1)
    assert dnpsim.run(cross).nuclear_polarization == pytest.approx(0.795251, abs=5e-7)
    anderson = tomllib.loads((ROOT / "examples" / "anderson_point.toml").read_text())
    amplitude = parse_quantity(anderson["environment"].pop("mw_amplitude"), "frequency")
    b1 = amplitude * H_PLANCK / (G_FREE_ELECTRON * MU_B)
    reference = dnpsim.run({**anderson, "environment": {**anderson["environment"], "mw_amplitude": amplitude}})
    anderson["environment"].update(mw_power="100 mW", mw_conversion_factor=b1 / math.sqrt(0.1))
    assert dnpsim.run(anderson).nuclear_polarization == pytest.approx(reference.nuclear_polarization, rel=1e-10)


@pytest.mark.parametrize("environment, field, message", [
    ({"mw_power": "1 W"}, "environment.mw_conversion_factor", "is required with environment.mw_power"),
    ({"mw_amplitude": "25 kHz", "mw_conversion_factor": "0.5 G/W**0.5"}, "environment.mw_conversion_factor",
     "is not read with environment.mw_amplitude"),
    ({"mw_field": "1 uT", "mw_power": "1 W", "mw_conversion_factor": "0.5 G/W**0.5"}, "environment.mw_power",
     "not mw_field and mw_power"),
    ({"mw_power": "-1 W", "mw_conversion_factor": "0.5 G/W**0.5"}, "environment.mw_power", "non-negative"),
    ({"mw_power": "1 W", "mw_conversion_factor": 0.0}, "environment.mw_conversion_factor", "must be positive"),
    ({"mw_power": "1 W", "mw_conversion_factor": "2 T"}, "environment.mw_conversion_factor",
     "not a field per square-root power"),
    ({"mw_power": "1 Hz", "mw_conversion_factor": "0.5 G/W**0.5"}, "environment.mw_power", "not a power"),
    ({}, "environment.mw_amplitude", "mw_power with environment.mw_conversion_factor"),
])
def test_mw_power_errors(environment, field, message):
    """Each wrong combination is one SpecError naming the field."""
    with pytest.raises(SpecError, match=message) as info:
        validate_spec(_spec(**environment))
    assert info.value.field == field


def test_sweep_over_power_without_a_strength_in_the_spec():
    """A [sweep] over environment.mw_power (the spec itself giving no strength) runs,
    point by point equal to single runs (the group's model comes from its first point)."""
    spec = _spec(mw_conversion_factor="0.5 uT/W**0.5")
    spec["sweep"] = {"environment.mw_power": ["10 mW", "1 W", "33 dBm"]}
    swept = dnpsim.sweep(spec, progress=False)
    powers = [0.01, 1.0, 10 ** 0.3]
    np.testing.assert_allclose(swept["mw_power"].values, powers)
    for index, power in enumerate(powers):
        single = dnpsim.run(_spec(mw_conversion_factor="0.5 uT/W**0.5", mw_power=power))
        assert float(swept["nuclear_polarization"].isel(mw_power=index).squeeze()) == pytest.approx(
            single.nuclear_polarization, rel=1e-12)


def test_compare_on_power_axis_is_compare_on_b1_axis():
    """A power curve is the B1 curve at B1 = factor sqrt(P); the spec's own microwave
    strength (here mw_amplitude) is replaced by the data's axis, and a spec giving
    mw_field is compared along an mw_amplitude axis alike."""
    powers = np.array([0.01, 0.1, 1.0, 10.0])
    spec = _profile_spec()
    by_power = simulate_measurement(spec, _measurement("mw_power", powers))
    by_field_spec = copy.deepcopy(spec)
    by_field_spec["environment"] = {k: v for k, v in spec["environment"].items() if k != "mw_conversion_factor"}
    by_field_spec["environment"]["mw_amplitude"] = "25 kHz"  # replaced by the axis
    by_field = compare(by_field_spec, _measurement("mw_field", 0.5e-6 * np.sqrt(powers)))
    np.testing.assert_allclose(by_power["model"].values, by_field["model"].values, rtol=1e-12)
    assert np.ptp(by_power["model_mean"].values) > 100  # a curve, not a constant
    amplitudes = G_FREE_ELECTRON * MU_B * 0.5e-6 * np.sqrt(powers) / H_PLANCK
    by_field_spec["environment"]["mw_field"] = "1 uT"
    del by_field_spec["environment"]["mw_amplitude"]
    by_amplitude = simulate_measurement(by_field_spec, _measurement("mw_amplitude", amplitudes))
    np.testing.assert_allclose(by_amplitude["model"].values, by_power["model"].values, rtol=1e-10)
    # the sweep spec keeps the factor for a power axis and drops it for the others
    assert "mw_conversion_factor" in sweep_spec_for(spec, _measurement("mw_power", powers))["environment"]
    assert "mw_conversion_factor" not in point_spec_for(spec, _measurement("mw_field", [1e-7, 2e-7]))["environment"]


def test_power_curve_without_factor_is_one_error_before_work():
    spec = _profile_spec()
    spec["environment"]["mw_amplitude"] = "25 kHz"
    del spec["environment"]["mw_conversion_factor"]
    with pytest.raises(SpecError, match="is required with environment.mw_power") as info:
        fit(spec, _measurement("mw_power", [0.1, 1.0], data=[1.0, 2.0]),
            ["environment.t1e=1ms:10s:log"], progress=False)
    assert info.value.field == "environment.mw_conversion_factor"


def test_fit_recovers_the_conversion_factor():
    """Noise-free power curve (common random numbers): the fit of the conversion factor
    from 0.2 uT/W^0.5 returns the true 0.5 uT/W^0.5 to 1e-4."""
    spec = _profile_spec()
    powers = np.logspace(-2, 1, 9)
    clean = simulate_measurement(spec, _measurement("mw_power", powers))["model_mean"].values
    measurement = _measurement("mw_power", powers, data=clean, sigma=20.0)
    start = copy.deepcopy(spec)
    start["environment"]["mw_conversion_factor"] = "0.2 uT/W**0.5"
    result = fit(start, measurement, ["environment.mw_conversion_factor=0.05uT/W**0.5:5uT/W**0.5:log"],
                 progress=False)
    assert result.values["environment.mw_conversion_factor"] == pytest.approx(0.5e-6, rel=1e-4)
    assert result.fitted_spec["sweep"]["environment.mw_power"] == pytest.approx(list(powers))


def test_cli_compare_power_curve_in_dbm(tmp_path, capsys):
    """`dnpsim compare --axis mw_power` on a CSV in dBm."""
    spec = _profile_spec(electrons=3, realizations=2)
    spec_path = tmp_path / "power.toml"
    import tomli_w

    spec_path.write_text(tomli_w.dumps(spec))
    data = tmp_path / "power.csv"
    data.write_text("P [dBm], enhancement\n10, 100\n20, 300\n30, 200\n")
    assert cli_main(["compare", str(spec_path), "--data", str(data), "--axis", "mw_power", "-o",
                     str(tmp_path / "cmp.nc"), "--quiet"]) == 0
    result = xr.open_dataset(tmp_path / "cmp.nc", engine="h5netcdf")
    np.testing.assert_allclose(result["mw_power"].values, [0.01, 0.1, 1.0])
    assert (tmp_path / "cmp.png").exists()


@pytest.mark.parametrize("swept, environment", [
    ({"environment.mw_power": ["10 mW", "1 W"]}, {"mw_conversion_factor": "0.5 uT/W**0.5"}),
    ({"environment.mw_field": ["0.1 uT", "1 uT"]}, {}),
    ({"environment.mw_conversion_factor": ["0.1 uT/W**0.5", "1 uT/W**0.5"]}, {"mw_power": "1 W"}),
])
def test_completed_sweep_over_a_strength_runs_again(swept, environment):
    """complete_spec keeps the strength as the spec gave it, not the first point's
    derived mw_amplitude (which with the swept key would not validate): the completed
    spec sweeps to the same numbers."""
    from dnpsim.spec import complete_spec

    spec = _spec(**environment)
    spec["sweep"] = swept
    completed = complete_spec(spec)
    assert "mw_amplitude" not in completed["environment"]
    np.testing.assert_array_equal(dnpsim.sweep(completed, progress=False)["nuclear_polarization"].values,
                                  dnpsim.sweep(spec, progress=False)["nuclear_polarization"].values)


def test_shipped_power_curve_example_runs_reduced(tmp_path):
    """examples/data/power_curve_synthetic.csv (dBm) loads onto the mw_power axis, and
    the documented command on examples/data/power_fit.toml, reduced to 3 electrons and 4
    realizations, fits the factor within its bounds and writes its outputs."""
    import tomli_w

    data = ROOT / "examples" / "data" / "power_curve_synthetic.csv"
    measurement = load_measurement(data)
    assert measurement.attrs["axis"] == "mw_power" and measurement.attrs["observable"] == "nuclear_enhancement"
    np.testing.assert_allclose(measurement["mw_power"].values[[0, -1]], [0.01, 10.0])
    spec = tomllib.loads((ROOT / "examples" / "data" / "power_fit.toml").read_text())
    validate_spec(point_spec_for(spec, measurement))
    spec["model"]["n_electrons"] = 3
    spec["sweep"]["realizations"] = 4
    reduced = tmp_path / "power_fit.toml"
    reduced.write_text(tomli_w.dumps(spec))
    code = cli_main(["fit", str(reduced), "--data", str(data), "--vary",
                     "environment.mw_conversion_factor=0.1uT/W**0.5:10uT/W**0.5:log", "--start-grid", "5",
                     "--quiet", "-o", str(tmp_path / "fit.nc")])
    assert code == 0
    fitted = tomllib.loads((tmp_path / "fit.toml").read_text())
    assert 1e-7 <= fitted["environment"]["mw_conversion_factor"] <= 1e-5
    assert all((tmp_path / f"fit{suffix}").exists() for suffix in (".txt", ".png", ".nc"))


def test_power_curve_depends_on_factor_squared_times_t1e():
    """2016 rate equation: microwave rates ~ omega_1^2, bath rates ~ 1 / T1e, so the
    stationary state depends on omega_1^2 T1e only: (2 Lambda, T1e / 4) is (Lambda, T1e)
    to rounding, while (2 Lambda, T1e) is not (the docs' statement about power fits)."""
    spec = _spec(mw_power="1 W", mw_conversion_factor="0.5 uT/W**0.5", t1e=1.0)
    reference = dnpsim.run(spec).nuclear_polarization
    spec["environment"].update(mw_conversion_factor="1 uT/W**0.5", t1e=0.25)
    assert dnpsim.run(spec).nuclear_polarization == pytest.approx(reference, rel=1e-12)
    spec["environment"]["t1e"] = 1.0
    assert abs(dnpsim.run(spec).nuclear_polarization - reference) > 1e-3


def test_fitting_factor_and_t1e_together_warns_they_are_degenerate():
    """A power curve fixes factor^2 x T1e only (the test above): fitting both, the
    report says the data fix a combination of them instead of printing two meaningless
    standard errors without comment."""
    spec = _profile_spec(electrons=3, realizations=2)
    powers = np.logspace(-2, 1, 7)
    clean = simulate_measurement(spec, _measurement("mw_power", powers))["model_mean"].values
    measurement = _measurement("mw_power", powers, data=clean * 1.02, sigma=20.0)
    result = fit(spec, measurement, ["environment.mw_conversion_factor=0.1uT/W**0.5:2uT/W**0.5:log",
                                     "environment.t1e=0.1:10:log"], start_grid=0, progress=False)
    report = result.report()
    pairs = result.degenerate_pairs()
    assert [pair[:2] for pair in pairs] == [("environment.mw_conversion_factor", "environment.t1e")]
    assert pairs[0][2] < -0.99
    assert "warning: environment.mw_conversion_factor and environment.t1e are correlated" in report
