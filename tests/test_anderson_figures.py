"""Figure commands of the 2018 paper run end to end at a tiny size (L = 4)."""

import pytest
import xarray as xr

from dnpsim.experiments.figures import FIGURES

#: What each figure's data file holds (the observables its plot draws, per realization).
VARIABLES = {"anderson-fig2": {"dos"}, "anderson-fig3": {"pn_mw", "pn_goe_mw"}, "anderson-fig4": {"pn_mw", "pn_wn"},
             "anderson-fig5": {"numerator", "iss_denominator", "leakage"}, "anderson-fig7": {"c_omega"}}


def run(names, tmp_path):
    for name in names:
        nc, png = FIGURES[name](True, tmp_path, progress=False, realizations=2, L=4)
        assert png.exists() and png.stat().st_size > 1000
        with xr.open_dataset(nc, engine="h5netcdf") as data:
            assert data.attrs["L"] == 4
            assert data.sizes["realization"] == 2
            assert set(data.data_vars) == VARIABLES[name]
            if "pn_mw" in data:
                assert float(abs(data["pn_mw"]).max()) < 1


def test_anderson_fig3_tiny(tmp_path):
    run(["anderson-fig3"], tmp_path)


@pytest.mark.slow
def test_anderson_all_figures_tiny(tmp_path):
    run(["anderson-fig2", "anderson-fig3", "anderson-fig4", "anderson-fig5", "anderson-fig7"], tmp_path)
