"""ETH diagnostics of Fig. 4 (De Luca et al. 2016): closed forms, a brute-force
full-space check, a sum rule and a small-N physics check."""

import math

import numpy as np
import pytest

from dnpsim.experiments.eth import eth_model, eth_scaling, realization_delta_m
from dnpsim.experiments.executors import SerialExecutor
from dnpsim.experiments.sweep import realization_seeds
from dnpsim.models import disorder
from dnpsim.models.electrons import DipolarElectrons
from dnpsim.observables.localization import consecutive_spin_z_difference, default_site, sector_spin_z
from dnpsim.spin.operators import full_operator
from dnpsim.units import TWO_PI

U_WEAK, U_STRONG = 2e6, 45e6  # Hz, Fig. 4


# ------------------------------------------------------------------ closed forms


@pytest.mark.parametrize("n", [4, 8])
def test_no_coupling_eigenstates_are_product_states(n):
    # U = 0: H is diagonal in the S_z basis, every eigenstate is a product state and
    # <n|S_z^i|n> = +-1/2 exactly (also with the degenerate equally spaced offsets:
    # the block is exactly diagonal, so LAPACK returns unit vectors)
    model = eth_model(n, 0.0, seed=1)
    for site in range(n):
        energies, values = sector_spin_z(model, site)
        assert values.shape == energies.shape == (math.comb(n, n // 2),)
        np.testing.assert_allclose(np.abs(values), 0.5, rtol=0, atol=1e-13)
    # generic (non-degenerate) offsets: energies are sums of the up-spin offsets
    rng = np.random.default_rng(5)
    offsets = disorder.uniform_offsets(n, 100e6, rng)  # Hz
    model = DipolarElectrons(93.9e9, offsets, np.zeros((n, n)))
    energies, values = sector_spin_z(model, 0)  # rad/s
    assert set(np.round(values, 13)) <= {-0.5, 0.5}
    all_z = np.array([sector_spin_z(model, i)[1] for i in range(n)]).T  # (d, N)
    np.testing.assert_allclose(energies, all_z @ (TWO_PI * offsets), rtol=1e-12, atol=1e-6)


def test_consecutive_difference_closed_form():
    assert consecutive_spin_z_difference([0.5, -0.5, 0.5, 0.5]) == pytest.approx(2.0 / 3.0)
    assert consecutive_spin_z_difference(np.zeros(7)) == 0.0
    # absolute value before averaging: signed differences would telescope to 0
    assert consecutive_spin_z_difference([0.1, 0.3, 0.1]) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        consecutive_spin_z_difference([0.5])
    with pytest.raises(ValueError):
        consecutive_spin_z_difference(np.zeros((2, 2)))


# ------------------------------------------------------------- brute force


def _dense_spin_z(model, n_up):
    """Dense Kronecker-product reference: H of Eq. (9) without nucleus on 2^N states,
    restricted to the states with n_up bits set."""
    n = model.n_electrons
    sz = [full_operator(n, i, "z") for i in range(n)]
    sp = [full_operator(n, i, "+") for i in range(n)]
    sm = [full_operator(n, i, "-") for i in range(n)]
    h = sum(model.Delta[i] * sz[i] for i in range(n))  # rad/s, like the engine
    for i in range(n):
        for j in range(i + 1, n):
            h = h + model.U[i, j] * (sp[i] @ sm[j] + sm[i] @ sp[j])
    states = np.array([s for s in range(2**n) if bin(s).count("1") == n_up])
    energies, vectors = np.linalg.eigh(h[np.ix_(states, states)])
    values = np.array([np.einsum("an,ab,bn->n", vectors, sz[i][np.ix_(states, states)], vectors) for i in range(n)])
    return energies, values.T  # (d,), (d, N)


@pytest.mark.parametrize("n_up", [2, 1])
def test_sector_spin_z_matches_dense_kronecker(n_up):
    model = eth_model(4, 15e6, seed=7)
    ref_e, ref_z = _dense_spin_z(model, n_up)
    assert np.min(np.diff(ref_e)) > 1e-6 * np.ptp(ref_e)  # non-degenerate: states match one to one
    for site in range(4):
        energies, values = sector_spin_z(model, site, n_up=n_up)
        np.testing.assert_allclose(energies, ref_e, rtol=0, atol=1e-9 * np.abs(ref_e).max())
        np.testing.assert_allclose(values, ref_z[:, site], rtol=0, atol=1e-10)


# --------------------------------------------------------------- sum rule


@pytest.mark.parametrize("n,n_up", [(8, 4), (7, 2)])
def test_site_sum_is_sector_magnetization(n, n_up):
    model = eth_model(n, 15e6, seed=3)
    total = sum(sector_spin_z(model, i, n_up=n_up)[1] for i in range(n))
    np.testing.assert_allclose(total, n_up - n / 2, rtol=0, atol=1e-11)
    # default sector: n_up = N // 2 (M = 0 for even N)
    assert sector_spin_z(model, 0)[1].size == math.comb(n, n // 2)


def test_site_validation():
    model = eth_model(6, 15e6, seed=0)
    with pytest.raises(ValueError, match="site"):
        sector_spin_z(model, 6)
    with pytest.raises(ValueError, match="sizes"):
        eth_scaling([5], [U_STRONG], 1)
    with pytest.raises(ValueError, match="site"):
        eth_scaling([6, 8], [U_STRONG], 1, site=7)
    assert default_site(12) == 6


# ------------------------------------------------------------ eth_scaling


def test_eth_scaling_dataset_and_seeding():
    ds = eth_scaling([6, 4], [U_WEAK, U_STRONG], {4: 3, 6: 1}, seed=11)
    assert ds["delta_m"].dims == ("n_electrons", "coupling")
    assert ds["delta_m_samples"].dims == ("n_electrons", "coupling", "realization")
    assert list(ds["n_electrons"].values) == [6, 4]
    assert list(ds["realizations"].values) == [1, 3]
    assert list(ds["site"].values) == [3, 2]
    assert np.all(np.isnan(ds["delta_m_error"].sel(n_electrons=6)))  # one realization: no error
    assert np.all(np.isnan(ds["delta_m_samples"].sel(n_electrons=6).isel(realization=slice(1, None))))
    samples = ds["delta_m_samples"].sel(n_electrons=4).values
    np.testing.assert_allclose(ds["delta_m"].sel(n_electrons=4), samples.mean(axis=1))
    np.testing.assert_allclose(ds["delta_m_error"].sel(n_electrons=4), samples.std(axis=1, ddof=1) / np.sqrt(3))
    # realization r uses the sweep's seed r (child r of SeedSequence(seed).spawn) at
    # every N: independent of the order of sizes and of the executor
    again = eth_scaling([4], [U_WEAK, U_STRONG], 3, seed=11, executor=SerialExecutor())
    # (equal up to rounding: BLAS results may depend on its thread count)
    np.testing.assert_allclose(again["delta_m_samples"].sel(n_electrons=4), samples, rtol=0, atol=1e-10)
    child = realization_seeds(11, 3)[2]
    np.testing.assert_allclose(realization_delta_m(4, [U_WEAK, U_STRONG], child), samples[:, 2], rtol=0, atol=1e-10)


# ------------------------------------------------------------- physics


def test_strong_coupling_thermalizes_and_decays_with_size():
    # Fig. 4(b): mean |delta M| is much smaller at U = 45 MHz than at U = 2 MHz, and at
    # U = 45 MHz it decreases with N (ETH); 3 realizations, N <= 10 (d <= 252).  The
    # margins hold for every seed 0..11 tried.
    ds = eth_scaling([6, 8, 10], [U_STRONG], 3, seed=2)
    weak = eth_scaling([8], [U_WEAK], 3, seed=2)  # same disorder patterns, rescaled
    strong = ds["delta_m"].sel(coupling=U_STRONG).values
    assert strong[1] < 0.5 * float(weak["delta_m"].item())
    assert np.all(np.diff(strong) < 0), strong
    assert strong[-1] < 0.7 * strong[0]


@pytest.mark.slow
def test_quick_figure(tmp_path):
    import xarray as xr

    from dnpsim.experiments.figures.fig4_eth import make_figure

    nc_path, png_path = make_figure(True, tmp_path, progress=False)
    assert nc_path.exists() and png_path.exists() and png_path.stat().st_size > 10_000
    with xr.open_dataset(nc_path, engine="h5netcdf") as ds:
        assert ds["delta_m"].dims == ("n_electrons", "coupling")
        assert ds["spin_z_a"].dims == ("coupling", "eigenstate")
        assert list(ds["n_electrons"].values) == [6, 8, 10]
        np.testing.assert_allclose(ds["coupling"].values, [2e6, 15e6, 45e6])
        assert ds.sizes["eigenstate"] == math.comb(10, 5)
        assert ds.attrs["dnpsim_version"] and ds.attrs["git_revision"]
        assert np.all(np.isfinite(ds["delta_m"].values))
        # ETH at 45 MHz: decreasing with N and below the 2 MHz curve
        strong = ds["delta_m"].sel(coupling=45e6).values
        assert np.all(np.diff(strong) < 0)
        assert np.all(strong < ds["delta_m"].sel(coupling=2e6).values)
