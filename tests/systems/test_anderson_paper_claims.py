"""Claims of the 2018 paper at reduced size (slow) with fast variants.

Fig. 3/4: P_n (Eq. (22)) is maximal near t_c = w/16.5 for the Anderson model, while the
GOE surrogate (Eq. (23)) increases monotonically as t decreases below t_c.
Fig. 7: C(omega_n) peaks near t_c and is larger for smaller omega_n."""

import itertools

import numpy as np
import pytest

from dnpsim.experiments.anderson import TABLE_I, realization_observables
from dnpsim.models.anderson import critical_hopping

TC = critical_hopping(TABLE_I["width"])


def run(L, hoppings, realizations):
    seeds = np.random.SeedSequence(7).spawn(realizations)
    keys = ("pn_mw", "pn_goe_mw", "c_omega")
    out = {k: np.zeros((len(hoppings), realizations)) for k in ("pn", "goe", "c1", "c5")}
    for i, t in enumerate(hoppings):
        for r in range(realizations):
            res = realization_observables(L, t, seeds[r], mw_frequencies_hz=[TABLE_I["mw_frequency"]],
                                          nuclear_larmors_hz=[], c_omegas_hz=[1e6, 5e6], c_window_hz=0.5e6,
                                          dos_edges_hz=np.linspace(-1e8, 1e8, 3))
            out["pn"][i, r] = res[keys[0]][0]
            out["goe"][i, r] = res[keys[1]][0]
            out["c1"][i, r], out["c5"][i, r] = res[keys[2]]
    return out


def check_claims(L, hoppings, realizations, window):
    h = np.asarray(hoppings)
    d = run(L, h, realizations)
    pn = d["pn"].mean(axis=1)
    # P_n maximal near t_c (within the stated window of t / t_c)
    t_max = h[np.argmax(pn)]
    assert window[0] <= t_max / TC <= window[1], (t_max / TC, pn)
    assert pn.max() > 1.3 * pn[0] and pn.max() > 1.3 * pn[-1]
    # GOE: increases as t decreases below t_c, within two standard errors
    goe = d["goe"].mean(axis=1)
    err = d["goe"].std(axis=1, ddof=1) / np.sqrt(realizations)
    below = np.where(h <= TC * 1.05)[0]
    for i, j in itertools.pairwise(below):  # h[i] < h[j]
        assert goe[i] >= goe[j] - 2 * np.hypot(err[i], err[j]), (h[i], goe[i], goe[j])
    assert goe[below[0]] > goe[-1]
    # below t_c the Anderson model is suppressed relative to GOE
    assert pn[0] < 0.5 * goe[0]
    # C(omega_n): peak near t_c, larger for smaller omega_n there
    c1 = d["c1"].mean(axis=1)
    c5 = d["c5"].mean(axis=1)
    assert window[0] <= h[np.argmax(c1)] / TC <= window[1]
    i_c = np.argmin(np.abs(h - TC))
    assert c1[i_c] > c5[i_c]
    assert c1.max() > 1.5 * c1[-1] and c1.max() > 1.5 * c1[0]


def test_claims_fast():
    check_claims(6, [1e6, TC, 14e6, 32e6], 4, (0.4, 2.2))


@pytest.mark.slow
def test_claims_slow():
    hops = [1e6, 2e6, 3e6, 4.5e6, TC, 9e6, 14e6, 24e6, 32e6]
    check_claims(10, hops, 8, (0.6, 1.6))
