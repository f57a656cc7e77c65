"""Paper claims of Maimbourg et al. 2021 (Fig. 2, Figs. S5-S6) at reduced N.

Metric: r = rms_i(P_i - P_i^ansatz) / rms_i(P_i - P_thermal), the departure of the
stationary polarization profile from its fitted spin-temperature ansatz (S78-S80)
relative to the microwave-induced depolarization; r ~ 0 is thermal mixing, a hole
burning makes r large.  Claims:

* 1.2 K, ETH (U = 0.75 MHz): both dynamics close to the spin-temperature ansatz;
* 12 K, ETH: the nonsecular profile departs from the ansatz (hole burning), the
  Hilbert one stays close to it;
* MBL (U = 0.1 MHz): both dynamics depart from the ansatz more than the ETH Hilbert
  profile does.

The fast variants (N = 6, 4 realizations; 2-3 s) run in the default suite; the slow
ones (N = 7, 8 realizations) are marked slow.  With the sweep's seeding, four
realizations of five spins were too few for these margins (the three claims held for
10-12 of 16 root seeds); at N = 6 they hold for every root seed tried, 2015-2023.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from dnpsim.experiments.figures.zeno_figs import TABLE_I, U_ETH_HZ, U_MBL_HZ, profile_dataset
from dnpsim.units import TWO_PI, inverse_temperature

SIZES = [pytest.param(6, 4, id="fast"), pytest.param(7, 8, id="slow", marks=pytest.mark.slow)]


@functools.lru_cache(maxsize=None)
def ratios(n: int, realizations: int, coupling: float) -> dict:
    ds = profile_dataset(n, realizations, [1.2, 12.0], [TABLE_I[1.2], TABLE_I[12.0]], coupling_hz=coupling,
                         progress=False)
    out = {}
    for temp in (1.2, 12.0):
        s = ds.sel(temperature=temp)
        thermal = -np.tanh(0.5 * inverse_temperature(temp) * TWO_PI * 93.9e9)
        for dyn in ("nonsecular", "hilbert"):
            p = s[f"polarization_{dyn}"].values
            a = s[f"ansatz_polarization_{dyn}"].values
            out[temp, dyn] = float(np.sqrt(np.mean((p - a) ** 2)) / np.sqrt(np.mean((p - thermal) ** 2)))
        assert np.all(s["krylov_residual_nonsecular"].values < 1e-8)  # the solver converged to its tol
    return out


@pytest.mark.parametrize("n,realizations", SIZES)
def test_low_temperature_both_dynamics_follow_spin_temperature(n, realizations):
    r = ratios(n, realizations, U_ETH_HZ)
    assert r[1.2, "nonsecular"] < 0.05
    assert r[1.2, "hilbert"] < 0.05


@pytest.mark.parametrize("n,realizations", SIZES)
def test_high_temperature_nonsecular_hole_burning_hilbert_thermal(n, realizations):
    r = ratios(n, realizations, U_ETH_HZ)
    assert r[12.0, "nonsecular"] > 1.5 * r[12.0, "hilbert"]
    assert r[12.0, "nonsecular"] > 2.0 * r[1.2, "nonsecular"]


@pytest.mark.parametrize("n,realizations", SIZES)
def test_mbl_both_dynamics_hole_burning(n, realizations):
    eth = ratios(n, realizations, U_ETH_HZ)
    mbl = ratios(n, realizations, U_MBL_HZ)
    for temp in (1.2, 12.0):
        assert mbl[temp, "hilbert"] > 1.4 * eth[temp, "hilbert"]
        assert mbl[temp, "nonsecular"] > 1.4 * eth[temp, "hilbert"]
