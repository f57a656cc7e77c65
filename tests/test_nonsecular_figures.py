"""Figure registry entries of the 2021 paper (the heavy ones are exercised through
``profile_dataset`` in tests/systems/test_zeno_paper_claims.py)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from dnpsim.experiments.figures import FIGURES


def test_zeno_figures_are_registered():
    for name in ("fig2", "fig3", "figS5", "figS6", "figS7", "figS8", "figS11"):
        assert f"zeno-{name}" in FIGURES


def test_figS11_writes_the_toy_model_curves(tmp_path):
    nc, png = FIGURES["zeno-figS11"](True, tmp_path, progress=False)
    assert png.exists() and png.stat().st_size > 0
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        r11 = ds["rho11"].sel(regime="Anderson").values
        r22 = ds["rho22"].sel(regime="Anderson").values
        # Anderson limit: the driven level keeps the population, the other stays empty
        assert r11.max() > 10 * r22.max()
        zeno = ds["rho22"].sel(regime="Zeno").values / ds["rho11"].sel(regime="Zeno").values
        assert np.all(zeno < 1.0)
