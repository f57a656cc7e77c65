"""``dnpsim optimize``: the map, the optimum and its uncertainty, the files, the --vary errors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import xarray as xr

from dnpsim.cli import main
from dnpsim.errors import SpecError
from dnpsim.experiments.optimize import (
    optimize_spec,
    optimum_lines,
    parse_vary,
    plot_map,
    reduce_map,
)

SPEC = """
[model]
kind = "dipolar_electrons"
field = "3.35 T"
n_electrons = 4
seed = 3
offsets = {distribution = "powder", radical = "TEMPO"}
couplings = {distribution = "gaussian", concentration = "40 mM"}
nuclei = {larmor = "142.6 MHz", hyperfine = {distribution = "gaussian", scale = "1 MHz"}}

[environment]
temperature = "1.2 K"
mw_frequency = "94.05 GHz"
mw_amplitude = "25 kHz"

[sweep]
realizations = 2
seed = 1
"""


def _synthetic(shape=(4,), R=3, seed=0):
    """A sweep-like Dataset: P_n = a bump in the grid + noise per realization."""
    rng = np.random.default_rng(seed)
    dims = ("concentration", "mw_frequency")[:len(shape)]
    coords = {d: (d, np.linspace(1.0, 2.0, n), {"spec_key": f"model.x.{d}", "units": "Hz", "long_name": d})
              for d, n in zip(dims, shape)}
    coords["realization"] = ("realization", np.arange(R), {"units": "1", "long_name": "realization"})
    grid = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    bump = -sum((g - (n - 1) / 2.5) ** 2 for g, n in zip(grid, shape)) * 0.05
    pn = bump[..., None] + 0.01 * rng.standard_normal(shape + (R,))
    kl = 0.1 + 0.01 * rng.random(shape + (R,))
    beta = 1e-11 * rng.standard_normal(shape + (R,))  # s/rad, either sign
    return xr.Dataset({"nuclear_polarization": (dims + ("realization",), pn, {"units": "1", "long_name": "P_n"}),
                       "kl_divergence": (dims + ("realization",), kl, {"units": "1", "long_name": "KL"}),
                       "inverse_spin_temperature": (dims + ("realization",), beta,
                                                    {"units": "s/rad", "long_name": "beta_s"})},
                      coords=coords)


@pytest.mark.parametrize("shape", [(5,), (3, 4)])
def test_reduce_map_locates_argmax_of_means(shape):
    data = reduce_map(_synthetic(shape), "nuclear_polarization", bootstrap=200)
    assert data["objective_mean"].shape == shape and data["objective_stderr"].shape == shape
    means = data["nuclear_polarization"].mean("realization").values
    np.testing.assert_allclose(data["objective_mean"].values, means)
    np.testing.assert_allclose(data["objective_stderr"].values,
                               data["nuclear_polarization"].std("realization", ddof=1).values / math.sqrt(3))
    where = np.unravel_index(np.argmax(means), shape)
    assert data.attrs["optimum_value"] == pytest.approx(means[where])
    assert data.attrs["optimum_stderr"] == pytest.approx(data["objective_stderr"].values[where])
    for axis, dim in enumerate(data["objective_mean"].dims):
        assert data.attrs[f"optimum_{dim}"] == pytest.approx(data[dim].values[where[axis]])
        assert data.attrs[f"optimum_{dim}_low"] <= data.attrs[f"optimum_{dim}"] <= data.attrs[f"optimum_{dim}_high"]
        assert math.isfinite(data.attrs[f"optimum_{dim}_bootstrap_std"])
    assert 0.0 <= data.attrs["optimum_bootstrap_agreement"] <= 1.0
    assert math.isfinite(data.attrs["optimum_stderr"])
    assert any("optimum of nuclear_polarization" in line for line in optimum_lines(data))


def test_optimum_lines_show_each_key_in_a_readable_unit():
    """The terminal lines give a concentration in mM and a frequency in GHz (the
    Dataset keeps mol/m^3 and Hz), every number of a line in the same unit."""
    synthetic = _synthetic((3, 4))
    synthetic = synthetic.assign_coords(
        concentration=("concentration", [10.0, 40.0, 160.0], {"spec_key": "model.couplings.concentration",
                                                             "units": "mol / m**3"}),
        mw_frequency=("mw_frequency", [93.9e9, 94.0e9, 94.1e9, 94.2e9], {"spec_key": "environment.mw_frequency",
                                                                       "units": "Hz"}))
    data = reduce_map(synthetic, "nuclear_polarization", bootstrap=50)
    lines = "\n".join(optimum_lines(data))
    for dim, unit, factor in (("concentration", "mM", 1.0), ("mw_frequency", "GHz", 1e9)):
        key = synthetic[dim].attrs["spec_key"]
        shown = re.search(rf"{re.escape(key)} = (\S+) {unit} \(within one standard error: (\S+) {unit} \.\. "
                          rf"(\S+) {unit}; bootstrap std (\S+) {unit}\)", lines)
        assert shown, lines
        for group, attr in zip(shown.groups(), ("", "_low", "_high", "_bootstrap_std")):
            assert float(group) * factor == pytest.approx(data.attrs[f"optimum_{dim}{attr}"], rel=1e-5)


def test_abs_objective_and_one_stderr_set():
    data = _synthetic((5,))
    data["nuclear_polarization"] = -data["nuclear_polarization"] - 1.0  # all negative: abs picks the most negative
    out = reduce_map(data, "abs", bootstrap=50)
    means = data["nuclear_polarization"].mean("realization").values
    assert out.attrs["optimum_value"] == pytest.approx(np.abs(means).max())
    inside = out["objective_mean"].values >= out.attrs["optimum_value"] - out.attrs["optimum_stderr"]
    covered = out["concentration"].values[inside]
    assert out.attrs["optimum_concentration_low"] == covered.min()
    assert out.attrs["optimum_concentration_high"] == covered.max()


def test_plot_map_writes_png(tmp_path):
    for shape in [(4,), (3, 3)]:
        path = plot_map(reduce_map(_synthetic(shape), bootstrap=20), tmp_path / f"m{len(shape)}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_inverse_spin_temperature_is_the_mean_over_realizations(shape):
    """1 / T_s = k_B beta_s / hbar averaged over realizations (1/K), with its standard
    error; the T_s of the sweep (if only that is given) leads to the same numbers."""
    from dnpsim.units import HBAR, K_B

    data = _synthetic(shape, R=4, seed=2)
    out = reduce_map(data, bootstrap=0)
    per_realization = data["inverse_spin_temperature"].values * K_B / HBAR  # 1/K
    for name in ("inverse_spin_temperature_mean", "inverse_spin_temperature_stderr"):
        assert out[name].attrs["units"] == "1/K" and out[name].attrs["long_name"]
        assert out[name].dims == data["nuclear_polarization"].dims[:-1]
    np.testing.assert_allclose(out["inverse_spin_temperature_mean"].values, per_realization.mean(-1), rtol=1e-12)
    np.testing.assert_allclose(out["inverse_spin_temperature_stderr"].values,
                               per_realization.std(-1, ddof=1) / 2.0, rtol=1e-12)
    # values of a few 1/K for beta_s ~ 1e-11 s/rad: the conversion is k_B / hbar ~ 1.3e11 rad/(s K)
    assert 0.1 < np.abs(out["inverse_spin_temperature_mean"].values).max() < 10
    only_t = data.drop_vars("inverse_spin_temperature")
    only_t["spin_temperature"] = (data["inverse_spin_temperature"].dims, 1.0 / per_realization,
                                  {"units": "K", "long_name": "T_s"})
    np.testing.assert_allclose(reduce_map(only_t, bootstrap=0)["inverse_spin_temperature_mean"].values,
                               out["inverse_spin_temperature_mean"].values, rtol=1e-12)
    assert "inverse_spin_temperature_mean" not in reduce_map(
        data.drop_vars("inverse_spin_temperature"), bootstrap=0)


@pytest.mark.parametrize("shape", [(4,), (3, 3)])
def test_plot_map_has_the_spin_temperature_panel(tmp_path, monkeypatch, shape):
    import matplotlib.figure

    seen = []
    original = matplotlib.figure.Figure.savefig

    def record(fig, *args, **kwargs):
        seen.append([(ax.get_title(), ax.get_ylabel()) for ax in fig.axes])
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    plot_map(reduce_map(_synthetic(shape), bootstrap=20), tmp_path / "m.png")
    (panels,) = seen
    assert ("fitted spin temperature: 1/T_s" in [title for title, _ in panels])
    if len(shape) == 1:
        assert ("fitted spin temperature: 1/T_s", "inverse spin temperature 1/T_s (1/K)") in panels
    else:  # the colour bar carries the label
        assert any(label == "inverse spin temperature 1/T_s (1/K) (mean)" for _, label in panels)


def test_parse_vary():
    v = parse_vary("model.couplings.concentration=10mM:100mM:3:log")
    assert v.key == "model.couplings.concentration" and v.log and v.dim == "concentration"
    np.testing.assert_allclose(v.values, [10.0, math.sqrt(1000.0), 100.0])
    v = parse_vary("environment.mw_frequency=93.8GHz:94GHz:5")
    np.testing.assert_allclose(v.values, np.linspace(93.8e9, 94e9, 5))
    assert parse_vary("environment.temperature=1:2").values == tuple(np.linspace(1, 2, 5))
    for bad in ["concentration=1:2", "model.couplings.concentration", "model.couplings.concentration=1",
                "model.couplings.concentration=a:2", "model.couplings.concentration=1:2:0",
                "model.couplings.concentration=0:2:3:log", "model.seed=1:3", "model.x=1:2:3:4",
                "model.x=1:1:3", "model.x=10mM:2GHz"]:
        with pytest.raises(SpecError) as info:
            parse_vary(bad)
        assert info.value.field == "--vary", bad


def test_optimize_spec_replaces_grid_keeps_realizations():
    spec = {"model": {}, "sweep": {"environment.mw_frequency": [1.0, 2.0], "realizations": 4, "seed": 7}}
    out = optimize_spec(spec, [parse_vary("model.couplings.concentration=1:3:3")])
    assert out["sweep"] == {"model.couplings.concentration": [1.0, 2.0, 3.0], "seed": 7, "realizations": 4}
    assert optimize_spec(spec, [parse_vary("model.a=1:2")], realizations=2)["sweep"]["realizations"] == 2
    with pytest.raises(SpecError, match="at most 2"):
        optimize_spec(spec, [parse_vary(f"model.k{i}=1:2") for i in range(3)])
    assert spec["sweep"]["environment.mw_frequency"] == [1.0, 2.0]  # not modified


@pytest.mark.parametrize("vary", ["model.couplings.concentration=1:x", "nonsense", "model.seed=1:2:2"])
def test_cli_bad_vary_exits_2_naming_vary(tmp_path, capsys, vary):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    code = main(["optimize", str(spec), "--vary", vary, "--output", str(tmp_path / "m.nc"), "-q"])
    assert code == 2
    assert "--vary" in capsys.readouterr().err
    assert not (tmp_path / "m.nc").exists()


def test_cli_without_vary_exits_2(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    assert main(["optimize", str(spec), "--output", str(tmp_path / "m.nc"), "-q"]) == 2
    assert "--vary" in capsys.readouterr().err


def test_cli_tiny_concentration_map(tmp_path, capsys):
    spec = tmp_path / "tempo.toml"
    spec.write_text(SPEC)
    out = tmp_path / "map.nc"
    code = main(["optimize", str(spec), "--vary", "model.couplings.concentration=10mM:160mM:3:log",
                 "--output", str(out), "--quiet"])
    assert code == 0
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "map.nc.parts").exists()
    with xr.open_dataset(out) as data:
        assert data["objective_mean"].dims == ("concentration",) and data.sizes == {
            **data.sizes, "concentration": 3, "realization": 2}
        for name, variable in data.variables.items():
            assert variable.attrs.get("units"), name
            assert variable.attrs.get("long_name"), name
        assert data["concentration"].attrs["units"] == "mol / m**3"
        np.testing.assert_allclose(data["concentration"].values, [10.0, 40.0, 160.0])
        means = data["nuclear_polarization"].mean("realization").values
        np.testing.assert_allclose(data["objective_mean"].values, means)
        from dnpsim.units import HBAR, K_B
        assert data["inverse_spin_temperature_mean"].attrs["units"] == "1/K"
        np.testing.assert_allclose(data["inverse_spin_temperature_mean"].values,
                                   data["inverse_spin_temperature"].mean("realization").values * K_B / HBAR)
        assert data.attrs["lattice_inverse_temperature"] == pytest.approx(1 / 1.2)
        assert data.attrs["optimum_concentration"] == pytest.approx(data["concentration"].values[np.argmax(means)])
        assert math.isfinite(data.attrs["optimum_stderr"])
        assert math.isfinite(data.attrs["optimum_concentration_bootstrap_std"])
    main(["optimize", str(spec), "--vary", "model.couplings.concentration=10mM:160mM:3:log",
          "--output", str(out)])
    printed = capsys.readouterr().out
    assert "optimum of nuclear_polarization" in printed and "model.couplings.concentration = " in printed


UNIFORM = """
[model]
kind = "dipolar_electrons"
electron_larmor = 93.9e9
offsets = { distribution = "equally_spaced", half_width = 54e6 }
couplings = { distribution = "gaussian", scale = 5e6 }
n_electrons = 6
seed = 0

[model.nuclei]
larmor = 20e6
hyperfine = { distribution = "gaussian", scale = 1e6 }

[environment]
temperature = 1.2
mw_frequency = 93.88e9
mw_amplitude = 25e3
"""


def test_perturbative_map_matches_the_figure_theory(tmp_path):
    from dnpsim.experiments.figures.spin_temperature_figs import (
        perturbative_polarization,
    )
    from dnpsim.experiments.optimize import perturbative_map
    from dnpsim.spec import load_spec

    spec = tmp_path / "u.toml"
    spec.write_text(UNIFORM)
    data = perturbative_map(load_spec(spec), [parse_vary("model.couplings.scale=2e6:15e6:2")])
    assert data["nuclear_polarization"].shape == (2, 1)
    for scale, pn in zip(data["scale"].values, data["nuclear_polarization"].values[:, 0]):
        assert pn == pytest.approx(perturbative_polarization(scale), rel=1e-9)
    out = tmp_path / "pe.nc"
    assert main(["optimize", str(spec), "--method", "perturbative", "--vary", "model.couplings.scale=2e6:15e6:3",
                 "-o", str(out), "-q"]) == 0
    with xr.open_dataset(out) as m:
        assert m.attrs["optimum_found"] == 1 and (tmp_path / "pe.png").exists()
        for name, variable in m.variables.items():
            assert variable.attrs.get("units") and variable.attrs.get("long_name"), name


def test_perturbative_refuses_powder_offsets(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    code = main(["optimize", str(spec), "--method", "perturbative", "--vary",
                 "model.couplings.concentration=10mM:20mM:2", "-o", str(tmp_path / "m.nc"), "-q"])
    assert code == 2 and "--method" in capsys.readouterr().err
