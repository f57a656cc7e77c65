"""Paper claims of Figs. 2, 3 and 5 of De Luca et al. 2016 at reduced size.

Slow tests run the quick figures (N = 8) end to end; the fast variants check the same
claims with fewer realizations and frequencies (and N = 6 for the coupling sweep).  All draws are seeded, so the numbers are
reproducible; thresholds leave margin for BLAS round-off only.
"""

import numpy as np
import pytest
import xarray as xr

from dnpsim.experiments.figures import FIGURES
from dnpsim.experiments.figures.spin_temperature_figs import fig2_data, fig3_data


def profile_claims(data, fm_close):
    """Fig. 2: dispersive profile (positive below omega_e, negative above, sign change
    near omega_e) at U = 15 MHz, where Eq. (1) with beta_s^FM follows P_n; at U = 2 MHz
    the spin-temperature prediction misses P_n by far more."""
    f = data["mw_frequency"].values
    ergodic = data.sel(scale=15e6)
    mean = ergodic["nuclear_polarization"].mean("realization").values
    assert mean[f < 93.87e9].min() > 0.1
    assert mean[f > 93.93e9].max() < -0.1
    crossings = f[:-1][np.diff(np.sign(mean)) != 0]
    assert crossings.size >= 1 and np.all(np.abs(crossings - 93.9e9) < 10e6)
    miss_15 = np.abs(mean - ergodic["nuclear_polarization_fm"].values).mean()
    localized = data.sel(scale=2e6)
    miss_2 = np.abs(localized["nuclear_polarization"].mean("realization").values
                    - localized["nuclear_polarization_fm"].values).mean()
    assert miss_15 < fm_close
    assert miss_2 > 2 * miss_15


def breakdown_claims(vs_u, fm_close, fm_far, kl_ratio):
    """Fig. 3 (left) and Fig. 5: P_n peaks at intermediate U and collapses at small U,
    where the fitted spin temperature (FM) no longer predicts it; KL divergence and
    sample-to-sample fluctuations are larger at small U."""
    pn = vs_u["nuclear_polarization"].isel(mw_frequency=0)
    mean = pn.mean("realization")
    fm = vs_u["nuclear_polarization_fm"].isel(mw_frequency=0)
    kl = vs_u["kl_divergence"].isel(mw_frequency=0).mean("realization")
    assert float(mean.sel(scale=15e6)) > float(mean.sel(scale=2e6)) + 0.05
    assert float(mean.sel(scale=15e6)) > float(mean.sel(scale=45e6))
    assert abs(float(fm.sel(scale=15e6) - mean.sel(scale=15e6))) < fm_close
    assert abs(float(fm.sel(scale=2e6) - mean.sel(scale=2e6))) > fm_far
    assert float(kl.sel(scale=2e6)) > kl_ratio * float(kl.sel(scale=15e6))
    assert float(pn.std("realization").sel(scale=2e6)) > 2 * float(pn.std("realization").sel(scale=15e6))


def test_profile_claims_fast(tmp_path):
    data = fig2_data(8, 3, tmp_path, num=13, progress=False)
    profile_claims(data, fm_close=0.05)


def test_breakdown_claims_fast(tmp_path):
    vs_u, vs_b = fig3_data(6, 6, tmp_path, couplings=(2e6, 15e6, 45e6), fields=(3.35,), progress=False)
    # at N = 6 the ergodic side is less thermal (KL(15 MHz) is 2.5x its N = 8 value), so
    # the KL contrast asserted is 2x here and 3x in the N = 8 slow test
    breakdown_claims(vs_u, fm_close=0.05, fm_far=0.05, kl_ratio=2.0)
    # the field sweep at B = 3.35 T is the U = 15 MHz point of the coupling sweep
    np.testing.assert_allclose(vs_b["nuclear_polarization"].sel(field=3.35).values.ravel(),
                               vs_u["nuclear_polarization"].sel(scale=15e6).values.ravel(), atol=1e-12)


@pytest.mark.slow
def test_quick_figure_2(tmp_path):
    nc, png = FIGURES["spin-temperature-fig2"](quick=True, output_dir=tmp_path, progress=False)
    assert png.exists() and png.stat().st_size > 10_000
    with xr.open_dataset(nc, engine="h5netcdf") as data:
        profile_claims(data.load(), fm_close=0.03)


@pytest.mark.slow
def test_quick_figures_3_and_5(tmp_path):
    nc, png = FIGURES["spin-temperature-fig3"](quick=True, output_dir=tmp_path, progress=False)
    assert png.exists()
    with xr.open_dataset(nc, engine="h5netcdf", group="vs_coupling") as vs_u, \
            xr.open_dataset(nc, engine="h5netcdf", group="vs_field") as vs_b:
        breakdown_claims(vs_u.load(), fm_close=0.03, fm_far=0.08, kl_ratio=3.0)
        # breakdown at large fields: FM and P_n part at the highest B, agree at the lowest
        pn = vs_b["nuclear_polarization"].isel(mw_frequency=0).mean("realization")
        fm = vs_b["nuclear_polarization_fm"].isel(mw_frequency=0)
        assert abs(float(fm[-1] - pn[-1])) > 3 * abs(float(fm[0] - pn[0]))
        # the perturbative spin temperature agrees with the fit at small U (Sec. IV)
        pe = vs_u["nuclear_polarization_pe"]
        assert abs(float(pe.sel(scale=15e6) - vs_u["nuclear_polarization_fm"].isel(mw_frequency=0).sel(scale=15e6))) < 0.03
    nc5, png5 = FIGURES["spin-temperature-fig5"](quick=True, output_dir=tmp_path, progress=False)
    assert png5.exists() and nc5.exists()


def test_finished_figure_sweep_is_reused_with_its_coordinates(tmp_path):
    first = fig2_data(4, 2, tmp_path, num=5, progress=False)
    mtime = (tmp_path / "fig2.nc").stat().st_mtime_ns
    second = fig2_data(4, 2, tmp_path, num=5, progress=False)
    assert (tmp_path / "fig2.nc").stat().st_mtime_ns == mtime  # not recomputed
    np.testing.assert_array_equal(second["mw_frequency"].values, np.linspace(93.84e9, 93.96e9, 5))
    np.testing.assert_array_equal(second["nuclear_polarization"].values, first["nuclear_polarization"].values)
