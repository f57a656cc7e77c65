"""``dnpsim figure``: every figure writes exactly ``NAME.nc`` and ``NAME.png``, its data
file describes itself (units and long_name on every variable and coordinate, version,
git revision, spec and caption in the attributes), and ``dnpsim figure --help`` says
what each figure shows and costs.

The quick modes that take more than a few seconds on the 2-core development machine
(the ``quick_cost`` of each registry entry) run only with ``-m slow``.
"""

from __future__ import annotations

import re

import h5netcdf
import pytest
import xarray as xr

from dnpsim.cli import main
from dnpsim.experiments.figures import FIGURES

#: Quick modes cheap enough for the default suite (a few seconds each, one or more per
#: figure module); the rest are marked slow.
CHEAP = {"spin-temperature-fig4", "spin-temperature-fig5", "cross-effect-fig1c", "zeno-fig2", "zeno-fig3",
         "zeno-figS8", "zeno-figS11", "sample-profiles", "sample-field-profiles", "sample-build-up"}


def _groups(path) -> list[str | None]:
    with h5netcdf.File(path, "r") as handle:
        return list(handle.groups) or [None]


def check_self_describing(path) -> None:
    """Every variable and coordinate of every group has units and long_name; the
    attributes carry version, git revision, spec and caption."""
    for group in _groups(path):
        with xr.open_dataset(path, engine="h5netcdf", group=group) as data:
            undescribed = [name for name, variable in data.variables.items()
                           if not variable.attrs.get("units") or not variable.attrs.get("long_name")]
            assert not undescribed, f"{path.name} ({group}): no units or long_name on {undescribed}"
            for key in ("dnpsim_version", "git_revision", "spec", "caption", "figure_parameters"):
                assert data.attrs.get(key), f"{path.name} ({group}) has no attribute {key}"
            assert "error bars" in data.attrs["caption"]


@pytest.mark.parametrize("name", [pytest.param(name, marks=() if name in CHEAP else pytest.mark.slow)
                                  for name in FIGURES])
def test_quick_figure_writes_its_two_self_describing_files(name, tmp_path):
    assert main(["figure", name, "--quick", "--quiet", "--output-dir", str(tmp_path)]) == 0
    # named after the command, nothing else left behind (no raw sweeps, no .parts)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.nc", f"{name}.png"]
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    check_self_describing(tmp_path / f"{name}.nc")


def test_help_lists_every_figure_with_what_it_shows_and_costs(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["figure", "--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for name, make in FIGURES.items():
        assert make.description and make.quick_cost and make.full_cost, name
        entry = re.escape(f"{name} {make.description}")
        assert re.search(entry, text), f"--help does not describe {name}"
        assert f"quick {make.quick_cost}; full {make.full_cost}" in text, name


def test_unknown_figure_lists_the_figures(tmp_path, capsys):
    assert main(["figure", "spin-temperature-fig9", "--output-dir", str(tmp_path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "unknown figure 'spin-temperature-fig9'" in err
    for name, make in FIGURES.items():
        assert f"{name} {make.description}" in err
    assert list(tmp_path.iterdir()) == []


def test_a_finished_figure_is_reused_and_only_redrawn(tmp_path):
    """The same command again reads the data file instead of recomputing it."""
    args = ["figure", "spin-temperature-fig2", "--quick", "--electrons", "4", "--realizations", "2", "-q",
            "--output-dir", str(tmp_path)]
    assert main(args) == 0
    nc, png = tmp_path / "spin-temperature-fig2.nc", tmp_path / "spin-temperature-fig2.png"
    stamp = nc.stat().st_mtime_ns
    png.unlink()
    assert main(args) == 0
    assert nc.stat().st_mtime_ns == stamp and png.exists()
    # other parameters: computed again
    assert main(args[:-4] + ["3", "-q", "--output-dir", str(tmp_path)]) == 0
    with xr.open_dataset(nc, engine="h5netcdf") as data:
        assert data.sizes["realization"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [nc.name, png.name]


def test_demo_files_are_self_describing(tmp_path):
    """`dnpsim demo` writes its two files (creating the directory) with units and
    long_name on every variable and coordinate, and the spec and provenance."""
    out = tmp_path / "new"
    assert main(["demo", "--quiet", "--output-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["dnpsim-demo.nc", "dnpsim-demo.png"]
    with xr.open_dataset(out / "dnpsim-demo.nc", engine="h5netcdf") as data:
        undescribed = [name for name, variable in data.variables.items()
                       if not variable.attrs.get("units") or not variable.attrs.get("long_name")]
        assert not undescribed
        for key in ("dnpsim_version", "git_revision", "spec"):
            assert data.attrs.get(key)


def test_sample_figures_show_their_samples(tmp_path):
    """The quick sample figures: one group per sample, the means are the means over the
    realizations, the trityl profile (line narrower than the 1H Larmor frequency) has
    its extrema about one 1H Larmor frequency on either side of the g_iso resonance,
    and the build-up starts thermal, rises, and has a finite fitted build-up time."""
    import numpy as np

    from dnpsim.units import HBAR, K_B

    assert main(["figure", "sample-profiles", "--quick", "--quiet", "--output-dir", str(tmp_path)]) == 0
    for sample in ("tempo", "trityl"):
        with xr.open_dataset(tmp_path / "sample-profiles.nc", engine="h5netcdf", group=sample) as data:
            pn = data["nuclear_polarization"]
            np.testing.assert_allclose(data["nuclear_polarization_mean"], pn.mean("realization"))
            assert data.sizes["realization"] == 2 and data.sizes["mw_frequency"] == 11
            thermal = np.tanh(HBAR * 2 * np.pi * data.attrs["nuclear_larmor"] / (2 * K_B * 1.2))
            assert data.attrs["thermal_nuclear_polarization"] == pytest.approx(thermal)
            if sample == "trityl":
                f = data["mw_frequency"].values
                mean = data["nuclear_polarization_mean"].values
                centre, larmor = data.attrs["electron_larmor_at_3.35T"], data.attrs["nuclear_larmor"]
                assert abs(f[np.argmax(mean)] - (centre - larmor)) < 30e6
                assert abs(f[np.argmin(mean)] - (centre + larmor)) < 30e6
                assert mean.max() > 0.5 > -0.5 > mean.min()
    assert main(["figure", "sample-build-up", "--quick", "--quiet", "--output-dir", str(tmp_path)]) == 0
    for sample in ("tempo", "trityl"):
        with xr.open_dataset(tmp_path / "sample-build-up.nc", engine="h5netcdf", group=sample) as data:
            curve = data["nuclear_polarization_t_mean"].values
            assert curve[0] == pytest.approx(data.attrs["thermal_nuclear_polarization"], rel=1e-6)
            assert curve[-1] > 10 * curve[0]
            assert np.isfinite(data["build_up_time"].values).all() and float(data["build_up_time_mean"]) > 0
