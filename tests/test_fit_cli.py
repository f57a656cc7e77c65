"""``dnpsim compare`` and ``dnpsim fit`` from the command line (issue 18): what they
write, and bad input refused before any model runs, with nothing written."""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pytest
import xarray as xr

import dnpsim
from dnpsim.cli import main
from dnpsim.data import load_measurement
from dnpsim.data.compare import simulate_measurement

SPEC = """
[model]
kind = "dipolar_electrons"
electron_larmor = "93.9 GHz"
offsets = { distribution = "equally_spaced", half_width = "30 MHz" }
couplings = { distribution = "gaussian", scale = "SCALE" }
n_electrons = 3
seed = 0

[model.nuclei]
larmor = "20 MHz"
hyperfine = { distribution = "gaussian", scale = "1 MHz" }

[environment]
temperature = "1.2 K"
mw_frequency = "93.88 GHz"
mw_amplitude = "25 kHz"

[sweep]
realizations = 2
seed = 1
"""
FREQUENCIES = np.linspace(93.86e9, 93.94e9, 7)


@pytest.fixture()
def problem(tmp_path):
    """A tiny profile: data made at couplings 8 MHz plus noise, and a spec starting at 5 MHz."""
    truth = tomllib.loads(SPEC.replace("SCALE", "8 MHz"))
    layout = load_measurement(xr.Dataset({"nuclear_polarization": ("mw_frequency", np.zeros(FREQUENCIES.size))},
                                         coords={"mw_frequency": ("mw_frequency", FREQUENCIES, {"units": "Hz"})}))
    clean = simulate_measurement(truth, layout)["model_mean"].values
    sigma = 0.01
    noisy = clean + np.random.default_rng(5).normal(0.0, sigma, clean.shape)
    data = tmp_path / "profile.csv"
    data.write_text("mw_frequency [GHz], polarization, polarization_err\n"
                    + "".join(f"{f / 1e9:.6f}, {y:.8f}, {sigma}\n" for f, y in zip(FREQUENCIES, noisy)))
    spec = tmp_path / "start.toml"
    spec.write_text(SPEC.replace("SCALE", "5 MHz"))
    return spec, data, tmp_path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fit_writes_report_plot_data_and_a_spec_that_reruns(problem, capsys):
    spec, data, tmp = problem
    code, out, err = _run(capsys, "fit", spec, "--data", data, "--vary", "model.couplings.scale=2MHz:20MHz",
                          "--start-grid", "5", "-o", tmp / "fit.nc", "-q")
    assert code == 0, err
    for suffix in (".nc", ".png", ".txt", ".toml"):
        assert (tmp / f"fit{suffix}").stat().st_size > 0
    report = (tmp / "fit.txt").read_text()
    assert "model.couplings.scale" in report and "chi-square" in report
    result = xr.open_dataset(tmp / "fit.nc")
    fitted = result.attrs["fit_model.couplings.scale"]
    # The report shows the fitted value in MHz, the NetCDF keeps it in Hz.
    shown = re.search(r"model\.couplings\.scale = (\S+) \+- (\S+) MHz", report)
    assert shown, report
    assert float(shown.group(1)) * 1e6 == pytest.approx(fitted, rel=1e-5)
    assert float(shown.group(2)) * 1e6 == pytest.approx(result.attrs["fit_model.couplings.scale_stderr"], rel=0.05)
    assert abs(fitted - 8e6) < 3 * result.attrs["fit_model.couplings.scale_stderr"] + 1e3
    # The fitted spec is a runnable sweep over the data's axis that reproduces the fitted curve.
    rerun = dnpsim.sweep(dnpsim.load_spec(tmp / "fit.toml"), progress=False)
    assert rerun["nuclear_polarization"].mean("realization").values == pytest.approx(result["model_mean"].values,
                                                                                     rel=1e-12, abs=1e-15)


def test_compare_writes_the_overlay_and_residuals(problem, capsys):
    spec, data, tmp = problem
    code, out, err = _run(capsys, "compare", spec, "--data", data, "-o", tmp / "cmp.nc")
    assert code == 0, err
    assert "chi-square" in out and "cmp.png" in out
    result = xr.open_dataset(tmp / "cmp.nc")
    assert np.allclose(result["residual"].values, result["data"].values - result["model_mean"].values)
    assert (tmp / "cmp.png").stat().st_size > 0


@pytest.mark.parametrize(("argv", "field"), [
    (["fit"], "--vary"),
    (["fit", "--vary", "model.couplings.scale=20MHz:2MHz"], "--vary"),
    (["fit", "--vary", "model.seed=1:5"], "--vary"),
    (["fit", "--vary", "environment.t1e=0:1:log"], "--vary"),
    (["fit", "--vary", "environment.mw_frequency=93GHz:94GHz"], "--vary"),  # the data's own axis
    (["fit", "--vary", "model.couplings.scale=6MHz:20MHz"], "--vary"),      # the spec's 5 MHz lies outside
    (["fit", "--vary", "model.couplings.scale=2MHz:20MHz", "--start-grid", "-1"], "--start-grid"),
    (["fit", "--vary", "model.couplings.scale=2MHz:20MHz", "--workers", "0", "--executor", "processes"], "--workers"),
    (["compare", "--axis", "field"], "column"),
])
def test_bad_input_is_one_message_and_writes_nothing(problem, capsys, argv, field):
    spec, data, tmp = problem
    before = sorted(p.name for p in tmp.iterdir())
    code, out, err = _run(capsys, argv[0], spec, "--data", data, *argv[1:], "-o", tmp / "out.nc")
    assert code == 2
    assert err.startswith("dnpsim: error:") and field in err and "Traceback" not in err
    assert sorted(p.name for p in tmp.iterdir()) == before


def test_an_output_next_to_the_data_may_not_overwrite_it(problem, capsys):
    spec, data, tmp = problem
    csv_as_companion = data.with_suffix(".nc")  # its .txt/.toml/.png companions are fine, but not the spec
    code, _, err = _run(capsys, "fit", spec, "--data", data, "--vary", "model.couplings.scale=2MHz:20MHz",
                        "-o", spec.with_suffix(".nc"))
    assert code == 2 and "--output" in err and "overwrite" in err
    assert not csv_as_companion.exists()


def test_missing_data_file_is_named(problem, capsys):
    spec, _, tmp = problem
    code, _, err = _run(capsys, "compare", spec, "--data", tmp / "nope.csv", "-o", tmp / "c.nc")
    assert code == 2 and "nope.csv" in err


def test_a_power_curve_needs_a_conversion(problem, capsys):
    spec, _, tmp = problem
    power = tmp / "power.csv"
    power.write_text("power [W], enhancement\n0.1, 10\n0.2, 20\n0.4, 30\n")
    code, _, err = _run(capsys, "compare", spec, "--data", power, "-o", tmp / "c.nc")
    assert code == 2 and "environment.mw_conversion_factor: is required with environment.mw_power" in err
    assert not (tmp / "c.nc").exists() and not (tmp / "c.png").exists()


def test_signal_data_fit_a_scale_factor(tmp_path):
    """Data in arbitrary units (a 'signal' column): the model is scaled by a fitted
    factor, started at its closed-form value; the factor and the couplings are
    recovered, and the written chi-square is that of the scaled residuals."""
    truth = tomllib.loads(SPEC.replace("SCALE", "8 MHz"))
    layout = load_measurement(xr.Dataset({"nuclear_polarization": ("mw_frequency", np.zeros(FREQUENCIES.size))},
                                         coords={"mw_frequency": ("mw_frequency", FREQUENCIES, {"units": "Hz"})}))
    clean = 37.0 * simulate_measurement(truth, layout)["model_mean"].values
    sigma = 0.3
    data = tmp_path / "signal.csv"
    noisy = clean + np.random.default_rng(2).normal(0.0, sigma, clean.shape)
    data.write_text("mw_frequency [GHz], signal, signal_err\n"
                    + "".join(f"{f / 1e9:.6f}, {y:.8f}, {sigma}\n" for f, y in zip(FREQUENCIES, noisy)))
    start = tomllib.loads(SPEC.replace("SCALE", "5 MHz"))
    result = dnpsim.fit(start, data, ["model.couplings.scale=2MHz:20MHz"], start_grid=5, progress=False)
    assert result.names == ("model.couplings.scale", "scale")
    assert abs(result.values["scale"] - 37.0) < 3 * result.stderr["scale"]
    assert abs(result.values["model.couplings.scale"] - 8e6) < 3 * result.stderr["model.couplings.scale"]
    residual = result.comparison["residual"].values
    assert np.allclose(residual, noisy - result.comparison["model_mean"].values)
    assert result.comparison.attrs["chi_square"] == pytest.approx(result.chi_square, rel=1e-6)


def test_model_noise_adds_the_start_point_standard_error_in_quadrature(tmp_path):
    """Data from a large disorder average (the 'sample'), a model of 16 realizations of
    another seed: with model_noise the fit weights each point by sqrt(sigma^2 +
    s_model^2) at the start (no start grid: the spec's values), so its chi-square is
    lower and its standard error larger than without."""
    truth = tomllib.loads(SPEC.replace("SCALE", "8 MHz"))
    truth["sweep"] = {"realizations": 64, "seed": 7}
    layout = load_measurement(xr.Dataset({"nuclear_polarization": ("mw_frequency", np.zeros(FREQUENCIES.size))},
                                         coords={"mw_frequency": ("mw_frequency", FREQUENCIES, {"units": "Hz"})}))
    sample = simulate_measurement(truth, layout)["model_mean"].values
    sigma = 0.01
    layout["nuclear_polarization"].values[:] = sample + np.random.default_rng(4).normal(0.0, sigma, sample.shape)
    layout["nuclear_polarization_uncertainty"] = ("mw_frequency", np.full(FREQUENCIES.size, sigma), {"units": "1"})
    start = tomllib.loads(SPEC.replace("SCALE", "7 MHz"))
    start["sweep"] = {"realizations": 16, "seed": 1}
    start_error = simulate_measurement(start, layout)["model_stderr"].values
    plain = dnpsim.fit(start, layout, ["model.couplings.scale=2MHz:20MHz"], start_grid=0, progress=False)
    noisy = dnpsim.fit(start, layout, ["model.couplings.scale=2MHz:20MHz"], start_grid=0, model_noise=True,
                       progress=False)
    np.testing.assert_allclose(noisy.comparison["fit_uncertainty"].values, np.sqrt(sigma**2 + start_error**2))
    np.testing.assert_allclose(plain.comparison["fit_uncertainty"].values, sigma)
    assert noisy.model_noise and "in quadrature" in noisy.report()
    assert noisy.chi_square < plain.chi_square
    assert noisy.stderr["model.couplings.scale"] > plain.stderr["model.couplings.scale"]
    # measured: reduced chi-square 4.8 without, 0.97 with the model noise
    assert noisy.reduced_chi_square < 2 < plain.reduced_chi_square
    with pytest.raises(dnpsim.SpecError, match="--model-noise"):
        dnpsim.fit(start, layout.drop_vars("nuclear_polarization_uncertainty"), ["model.couplings.scale=2MHz:20MHz"],
                   model_noise=True, progress=False)


def test_fit_says_where_the_start_grid_put_the_local_fit(problem, capsys):
    """Without -q, fit prints the best point of the start grid (in readable units) before
    the local fit, with or without --model-noise (it was printed only with it)."""
    spec, data, tmp = problem
    code, out, err = _run(capsys, "fit", spec, "--data", data, "--vary", "model.couplings.scale=2MHz:20MHz",
                          "--start-grid", "3", "--max-evaluations", "3", "-o", tmp / "fit.nc")
    assert code == 0, err
    line = re.search(r"fit: start grid of 3 points, best chi-square \S+ at model\.couplings\.scale = (\S+) MHz", err)
    assert line, err
    assert float(line.group(1)) in (2.0, 11.0, 20.0)
