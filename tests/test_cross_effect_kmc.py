"""Kinetic Monte Carlo of the Zeeman-projected cross-effect dynamics (Eq. (4)):
trajectory mean vs the deterministic rate equation with the same local rates, local
rates vs the generic projection, reproducibility, build-up fit."""

import numpy as np
import pytest
from scipy import stats

from dnpsim.dynamics.cross_effect_kmc import kmc
from dnpsim.dynamics.kmc_bounds import nucleus_bound, pair_bound, strongest_partners
from dnpsim.dynamics.zeeman_local_rates import local_rates, nuclear_pairs, nucleus_rates, packed_parameters, pair_rate
from dnpsim.dynamics.zeeman_projection import projected_rates
from dnpsim.dynamics.zeeman_rate_equation import rate_evolve, rate_steady_state
from dnpsim.errors import ConvergenceError
from dnpsim.models.cross_effect import CrossEffectModel
from dnpsim.observables.build_up import fit_build_up


def small_system():
    """Two electrons + 3 nuclei with every kind of coupling (A, complex B, d)."""
    B = np.zeros((2, 3), complex)
    B[0, 0], B[1, 1], B[0, 2] = 1e5, 1e5 + 3e4j, 2e4
    A = np.zeros((2, 3))
    A[0, 0], A[1, 1], A[1, 2] = 3e4, -2e4, 5e3
    d = np.zeros((3, 3))
    d[0, 2] = d[2, 0] = 40.0
    d[1, 2] = d[2, 1] = 25.0
    d[0, 1] = d[1, 0] = 5.0
    return CrossEffectModel.from_hz(offsets=[0, 145e6], omega1=10e3, D=100e3, omega_I=145e6, A=A, B=B, d=d,
                                    R1=1.0, R2=1e5, t1n=100.0, t2n=1e-3, p=0.984)


def test_local_rates_match_generic_projection():
    """The O(1)-per-process rates of the kMC equal the generic second-order projection
    up to the second-order level shifts (relative O(D^2/omega_I^2))."""
    model = small_system()
    generic = projected_rates(model)
    local = local_rates(model)
    big = generic.W > 1e-6 * generic.W.max()
    assert np.array_equal(big, local.W > 1e-6 * generic.W.max())
    rel = np.abs(local.W - generic.W)[big] / generic.W[big]
    assert rel.max() < 0.01
    a = rate_steady_state(generic).nuclear_polarization
    b = rate_steady_state(local).nuclear_polarization
    assert np.abs(a - b).max() < 1e-3


def strong_hyperfine_system(A_scale=1.0):
    """Two electrons + 6 nuclei with strong secular hyperfine couplings (A_jk up to
    60 kHz, against the 16 kHz SE and 32 kHz CE Lorentzian widths, so the SE/CE
    mismatches depend on the total hyperfine field hA of the other nuclei) and a network
    of nuclear pairs (d from 40 Hz to 300 Hz, 2 gamma_n = 318 Hz)."""
    N = 6
    B = np.zeros((2, N), complex)
    B[0, 0], B[1, 1], B[0, 2], B[1, 3], B[0, 4] = 1.2e5, 1e5 + 4e4j, 6e4, -5e4, 3e4
    A = A_scale * np.array([[60e3, -25e3, 30e3, 8e3, 15e3, 2e3],
                            [-10e3, 45e3, -5e3, -35e3, 4e3, 12e3]])
    d = np.zeros((N, N))
    for k, l, v in ((2, 3, 150.0), (3, 4, 300.0), (4, 5, 250.0), (2, 5, 60.0), (0, 2, 80.0), (1, 4, 40.0)):
        d[k, l] = d[l, k] = v
    return CrossEffectModel.from_hz(offsets=[0, 145e6], omega1=10e3, D=100e3, omega_I=145e6, A=A, B=B, d=d,
                                    R1=1.0, R2=1e5, t1n=100.0, t2n=1e-3, p=0.984)


def assert_matches_rate_equation(res, det, alpha=1e-3):
    """Every spin at every time: the number of trajectories with the spin up is exactly
    Binomial(n, q) with q from the deterministic rate equation (trajectories are
    independent samples of the same Markov process), so each comparison is an exact
    two-sided binomial test.  Bonferroni over the m = times x spins comparisons: the
    smallest p-value must exceed alpha / m (family-wise false-alarm rate alpha for any
    seed).  The z-scores against the exact standard error sqrt((1 - P^2) / n) are
    reported.  (The earlier check, |P - P_det| / stderr < 4.5 with the spread of 16
    groups as stderr, compared 35 t-statistics with 15 degrees of freedom:
    P(|t_15| > 4.5) = 4e-4 each, a ~1.5% false alarm per seed.)"""
    n = res.trajectories
    up_e = np.rint(n * (1 + res.electron_polarization) / 2)      # electrons: P = 2<S_z>
    up_n = np.rint(n * (1 - res.nuclear_polarization) / 2)        # nuclei: P = -2<I_z>
    q_e = (1 + det.electron_polarization) / 2
    q_n = (1 - det.nuclear_polarization) / 2
    ups = np.concatenate([up_e, up_n], axis=1).ravel()
    qs = np.clip(np.concatenate([q_e, q_n], axis=1).ravel(), 0.0, 1.0)
    pvals = np.array([stats.binomtest(int(k), n, q).pvalue if 0 < q < 1 else float(k == n * q)
                      for k, q in zip(ups, qs)])
    z = (ups - n * qs) / np.sqrt(np.maximum(n * qs * (1 - qs), 1e-300))
    m = pvals.size
    assert pvals.min() > alpha / m, (pvals.min(), alpha / m, np.abs(z).max())
    return np.abs(z).max()


def test_kmc_mean_equals_deterministic_rate_equation():
    """The trajectory average agrees with exp(Q t) p0 of the same rates: exact binomial
    tests with a Bonferroni threshold over the 35 comparisons (7 times x 5 spins)."""
    model = small_system()
    times = np.linspace(0, 60.0, 7)
    res = kmc(model, times, 2000, np.random.default_rng(7))
    det = rate_evolve(local_rates(model), times)
    assert_matches_rate_equation(res, det)
    assert det.nuclear_polarization[-1].min() > 0.2  # the comparison is not trivially at zero
    assert np.all(np.abs(res.nuclear_polarization) <= 1)
    assert res.event_counts["bound_violations"] == 0
    assert res.events + res.event_counts["rejected_nuclear"] + res.event_counts["rejected_pair"] == res.proposals


@pytest.mark.parametrize("windows", [(None, None), (0.0, 0.0), (2e5, 5e3)],
                         ids=["default-windows", "zero-windows", "wide-windows"])
def test_tree_kmc_strong_hyperfine_and_pairs(windows):
    """Tree kMC (thinning) vs the deterministic rate equation of the same local rates on
    a system where the SE/CE rates depend strongly on the total hyperfine field and
    nuclear pairs flip-flop: exact binomial tests, Bonferroni over 4 times x 8 spins.
    The windows change only the cost: zero width (a refresh after every flip), default,
    and wide (rare refreshes, many rejections) must all sample the same process."""
    model = strong_hyperfine_system()
    times = np.linspace(0, 30.0, 4)
    det = rate_evolve(local_rates(model), times)
    # the hyperfine field matters: without A the build-up differs by >> the statistical error
    flat = rate_evolve(local_rates(strong_hyperfine_system(0.0)), times)
    assert np.abs(flat.nuclear_polarization[-1] - det.nuclear_polarization[-1]).max() > 0.15
    res = kmc(model, times, 3000, np.random.default_rng(11), hyperfine_window=windows[0],
                 dipolar_window=windows[1])
    assert_matches_rate_equation(res, det)
    counts = res.event_counts
    assert counts["bound_violations"] == 0 and counts["singular_bounds"] == 0
    assert counts["flip_flop"] > 1000 and counts["cross_effect"] > 1000
    assert counts["hyperfine_window_refreshes"] > 0
    assert res.acceptance <= 1.0


def _random_model(rng, trial, N=3):
    """A random N-nucleus model for the bound tests: offsets in five matching /
    non-matching arrangements (both second-order paths active in some), couplings over
    three decades, real or complex B, all pairs coupled."""
    offsets = [(0, 145e6), (145e6, 0), (0, -145e6), (40e6, 185e6), (-145e6, 0)][trial % 5]
    scale = 10 ** rng.uniform(2, 5.5)
    A = rng.normal(0, scale, (2, N))
    B = rng.normal(0, scale, (2, N)) + 1j * rng.normal(0, scale, (2, N)) * (rng.random() < 0.5)
    d = rng.normal(0, 10 ** rng.uniform(1, 3.5), (N, N))
    d = np.triu(d, 1) + np.triu(d, 1).T
    return CrossEffectModel.from_hz(offsets=offsets, omega1=10 ** rng.uniform(3, 5),
                                    D=rng.choice([-1, 1]) * 10 ** rng.uniform(4, 6), omega_I=145e6, A=A, B=B, d=d,
                                    R1=1.0, R2=10 ** rng.uniform(3, 6), t1n=100.0, t2n=10 ** rng.uniform(-4, -2), p=0.9)


def test_nucleus_bounds_dominate_true_rates():
    """Over random models, spins, window centres and widths (zero to 1e6 rad/s), the
    nucleus bound (single flip + SE + CE, max over electron configurations) is >= the
    exact local rate at every sampled point of the windows (corners included), and at
    zero width it equals the largest exact rate to 1e-9."""
    rng = np.random.default_rng(2024)
    out = np.zeros(4)
    for trial in range(150):
        model = _random_model(rng, trial)
        par = packed_parameters(model, [None, 0.9 * model.omega_I][trial % 2])
        A, Bre, Bim = model.A, np.ascontiguousarray(model.B.real), np.ascontiguousarray(model.B.imag)
        sigma = np.sqrt((model.A ** 2).sum(axis=1)) / 2 + 1.0
        for _ in range(10):
            k = rng.integers(3)
            sk = rng.choice([-0.5, 0.5])
            hdc = rng.normal(0, 1e4)
            wd = rng.choice([0.0, 1e-3, 10 ** rng.uniform(0, 5)])
            hc = rng.normal(0, sigma)
            wh = rng.choice([0.0, 10 ** rng.uniform(0, 6)])
            bound = nucleus_bound(k, sk, hdc - wd, hdc + wd, hdc, hc[0] - wh, hc[0] + wh, hc[0],
                                  hc[1] - wh, hc[1] + wh, hc[1], A, Bre, Bim, par)
            worst = 0.0
            for point in range(12):
                u = rng.uniform(-1, 1, 3)
                if point < 4:
                    u = np.sign(u)      # corners
                hd = np.clip(hdc + u[0] * wd, hdc - wd, hdc + wd)
                h = np.clip(hc + u[1:] * wh, hc - wh, hc + wh)
                for c in range(4):
                    nucleus_rates(k, (c & 1) - 0.5, (c >> 1) - 0.5, sk, hd, h[0], h[1], A, Bre, Bim, par, out)
                    worst = max(worst, out.sum())
            assert worst <= bound, (trial, worst, bound)
            if wd == 0 and wh == 0:
                assert bound <= worst * (1 + 1e-9)


def test_pair_bounds_dominate_true_rates():
    """The spin-independent pair bound over reduced-field windows (h*_k = hd_k minus the
    field of k's most strongly coupled neighbour) is >= the exact flip-flop rate for
    every spin state of the pair and of its partners, every electron configuration and
    every sampled point of the windows; for a mutual partner pair at zero width it
    equals the largest exact rate up to the round-off padding (1e-6 relative)."""
    rng = np.random.default_rng(99)
    for trial in range(200):
        N = [2, 4, 5][trial % 3]
        model = _random_model(rng, trial, N)
        par = packed_parameters(model)
        pk, pl, pd, *_ = nuclear_pairs(model)
        partner, partner_d = strongest_partners(N, pk, pl, pd)
        for _ in range(5):
            p = rng.integers(pk.size)
            k, l = pk[p], pl[p]
            c0 = rng.normal(0, 3e3, N)
            w = rng.choice([0.0, 1e-3, 10 ** rng.uniform(0, 4)])
            bound = pair_bound(k, l, pd[p], c0[k] - w, c0[k] + w, c0[l] - w, c0[l] + w, partner, partner_d,
                               model.A, par)
            worst = 0.0
            for point in range(20):
                spins = rng.choice([-0.5, 0.5], N)
                u = rng.uniform(-1, 1, N)
                if point < 4:
                    u = np.sign(u)
                hstar = c0 + u * w
                hd = np.array([hstar[x] + (2 * partner_d[x] * spins[partner[x]] if partner[x] >= 0 else 0.0)
                               for x in range(N)])
                for c in range(4):
                    r = pair_rate(k, l, pd[p], (c & 1) - 0.5, (c >> 1) - 0.5, spins[k], spins[l], hd[k], hd[l],
                                  model.A, par)
                    worst = max(worst, r)
            assert worst <= bound, (trial, worst, bound)
            if w == 0 and partner[k] == l and partner[l] == k:
                # enumerate both antiparallel orientations exactly
                best = 0.0
                for sk in (-0.5, 0.5):
                    hd_k, hd_l = c0[k] + 2 * pd[p] * (-sk), c0[l] + 2 * pd[p] * sk
                    for c in range(4):
                        best = max(best, pair_rate(k, l, pd[p], (c & 1) - 0.5, (c >> 1) - 0.5, sk, -sk, hd_k,
                                                   hd_l, model.A, par))
                # the mismatch interval is padded by 16 ulps (~7e-6 rad/s at omega_I = 2 pi 145 MHz):
                # relative excess <= pad / (2 gamma_n) ~ 4e-8 for 2 gamma_n >= 200 s^-1 here
                assert bound <= best * (1 + 1e-6)


def test_tree_kmc_max_events_and_result_fields():
    model = small_system()
    with pytest.raises(ConvergenceError, match="max_events"):
        kmc(model, [0.0, 50.0], 4, np.random.default_rng(0), max_events=100)
    with pytest.raises(ValueError, match="hyperfine_window"):
        kmc(model, [0.0, 1.0], 4, np.random.default_rng(0), hyperfine_window=-1.0)
    res = kmc(model, [0.0, 1.0], 4, np.random.default_rng(0))
    assert 0 < res.acceptance <= 1 and res.proposals >= res.events > 0


def test_kmc_reproducible_and_thread_independent():
    model = strong_hyperfine_system()
    times = np.array([0.0, 5.0, 20.0])
    a = kmc(model, times, 64, np.random.default_rng(3), threads=1)
    b = kmc(model, times, 64, np.random.default_rng(3), threads=2)
    assert np.array_equal(a.nuclear_polarization, b.nuclear_polarization)
    assert np.array_equal(a.electron_polarization, b.electron_polarization)
    assert a.event_counts == b.event_counts and a.events == b.events
    c = kmc(model, times, 64, np.random.default_rng(4))
    assert not np.array_equal(a.nuclear_polarization, c.nuclear_polarization)


def test_kmc_bad_input():
    model = small_system()
    with pytest.raises(ValueError, match="times"):
        kmc(model, [1.0, 0.5], 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="trajectories"):
        kmc(model, [0.0, 1.0], 1, np.random.default_rng(0))


def test_build_up_fit_recovers_parameters():
    t = np.linspace(0, 50, 40)
    fit = fit_build_up(t, 0.7 * (1 - np.exp(-t / 12.0)))
    assert fit.eps == pytest.approx(0.7, rel=1e-8)
    assert fit.tau == pytest.approx(12.0, rel=1e-8)
    noisy = 0.7 * (1 - np.exp(-t / 12.0)) + np.random.default_rng(0).normal(0, 0.01, t.size)
    fit = fit_build_up(t, noisy)
    assert fit.eps == pytest.approx(0.7, rel=0.03) and fit.tau == pytest.approx(12.0, rel=0.1)
