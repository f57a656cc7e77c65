"""Free-fermion rates and nuclear polarization (2018 paper, Eqs. (10)-(24), (C7)).

The brute-force reference builds the rate equation of Eqs. (10), (14), (16), (17) for
N fermion modes and one nucleus on all 2^(N+1) states, with the ISS Lorentzian of the
*total* energy mismatch (Eq. (B4)), and solves for its stationary state.  It fixes the
prefactor (A^2 T2n/16) and the sign of the resonance that the printed Eqs. (19), (22)
disagree on (see dnpsim.theory.free_fermion)."""

import itertools

import numpy as np
import pytest

from dnpsim.dynamics.free_fermion import (
    NuclearBath,
    bloch_bias,
    hyperfine_rates,
    lorentzian,
    many_body_rates,
    mode_rates,
    product_state_probabilities,
)
from dnpsim.dynamics.rates import Environment
from dnpsim.theory import free_fermion as theory
from dnpsim.units import HBAR, K_B, TWO_PI, detailed_balance


def stationary(q):
    """Null vector of a rate matrix (columns sum to 0), normalized."""
    n = q.shape[0]
    a = np.vstack([q, np.ones(n)])
    b = np.zeros(n + 1)
    b[-1] = 1.0
    return np.linalg.lstsq(a, b, rcond=None)[0]


def env_in_units(beta, omega_mw, omega_1, t1e, t2e):
    """Environment with a given beta (s/rad) and angular omega_mw, omega_1 (rad/s; tiny
    systems use O(1) frequencies)."""
    return Environment(HBAR / (K_B * beta), omega_mw / TWO_PI, omega_1 / TWO_PI, t1e, t2e)


def nuclear_bath(omega_n, a0, t1n, t2n, per_electron):
    """NuclearBath from angular omega_n, A_0 (rad/s; O(1) units in the tiny systems)."""
    return NuclearBath(omega_n / TWO_PI, a0 / TWO_PI, t1n, t2n, per_electron)


TABLE_ENV = Environment(1.2, 93.86e9, 25e3, 1.0, 1e-6)


def test_table_one_thermal_numbers():
    # docs/conventions.md: beta omega_e = 3.755 at 1.2 K, 93.9 GHz; no drive -> P_B = tanh
    env = Environment(1.2, 93.86e9, 0.0, 1.0, 1e-6)
    assert bloch_bias(TWO_PI * 93.9e9, env) == pytest.approx(np.tanh(3.755 / 2), abs=2e-4)
    # on resonance the Table I drive saturates: 2 w1^2 T1 T2 = 2 (2 pi 25 kHz)^2 1e-6 = 49.3
    sat = bloch_bias(TWO_PI * 93.86e9, TABLE_ENV) / np.tanh(0.5 * TABLE_ENV.beta * TWO_PI * 93.86e9)
    assert sat == pytest.approx(1 / (1 + 2 * (TWO_PI * 25e3) ** 2 * 1e-6), rel=1e-12)


@pytest.mark.parametrize("omega_1", [0.0, 0.7, 3.0])
def test_bloch_bias_is_stationary_for_eqs_10(omega_1):
    # 4 modes, O(1) units: the many-body rate matrix of Eqs. (10a)-(10b) has the
    # product state of Eq. (12) with the biases of Eq. (11) as its stationary vector
    eps = np.array([0.8, 1.1, 1.35, 1.9])
    env = env_in_units(beta=1.3, omega_mw=1.2, omega_1=omega_1, t1e=2.0, t2e=1.5)
    states, q = many_body_rates(eps, env)
    p = product_state_probabilities(states, bloch_bias(eps, env))
    assert np.allclose(q.sum(axis=0), 0, atol=1e-14)
    assert np.max(np.abs(q @ p)) < 1e-14 * np.max(np.abs(q))
    assert np.allclose(stationary(q), p, atol=1e-13)
    # single-mode view: the fill/empty rates have bias P_B
    up, down = mode_rates(eps, env)
    assert np.allclose((up - down) / (up + down), bloch_bias(eps, env), atol=1e-15)


def brute_force_nucleus(eps, w_site, omega_n, a0, t2n, t1n, env, loss=True):
    """Stationary P_n of one nucleus coupled (A_0 S_z I_x) to a site whose mode weights
    are ``w_site`` (|phi_alpha j|^2), plus the electron rates of Eqs. (10)."""
    n = eps.size
    beta = env.beta
    states = np.array(list(itertools.product((0, 1), repeat=n)), dtype=int)
    index = {tuple(s): k for k, s in enumerate(states)}
    _, qe = many_body_rates(eps, env)
    ns = len(states)
    q = np.zeros((2 * ns, 2 * ns))  # index = nucleus * ns + mu; nucleus 0 = up, 1 = down
    e_nuc = (-omega_n / 2, omega_n / 2)  # -omega_n I_z
    for s in (0, 1):
        q[s * ns:(s + 1) * ns, s * ns:(s + 1) * ns] += qe - np.diag(np.diag(qe))
    e_el = -states @ eps
    for s in (0, 1):
        t = 1 - s
        for k, mu in enumerate(states):
            src = s * ns + k
            # leakage (Eq. (17)/(19): h(Delta E)/T1n per nucleus)
            q[t * ns + k, src] += detailed_balance(e_nuc[s] - e_nuc[t], beta) / t1n
            # polarization loss (Eq. (16)/(B6)): |<I_x>|^2 = 1/4
            if loss:
                q[t * ns + k, src] += t2n * a0 ** 2 / 4 * (w_site @ (mu - 0.5)) ** 2 * lorentzian(omega_n, t2n)
            # ISS (Eq. (14)/(B7)): fermion a (occupied) -> b (empty), total-energy mismatch
            for a in range(n):
                for b in range(n):
                    if mu[a] == 1 and mu[b] == 0:
                        nu = mu.copy()
                        nu[a], nu[b] = 0, 1
                        m = index[tuple(nu)]
                        mismatch = (e_el[k] + e_nuc[s]) - (e_el[m] + e_nuc[t])
                        q[t * ns + m, src] += t2n * a0 ** 2 / 4 * w_site[a] * w_site[b] * lorentzian(mismatch, t2n)
    q -= np.diag(q.sum(axis=0))
    p = stationary(q)
    return p[:ns].sum() - p[ns:].sum()


def small_system(n=4, seed=0):
    rng = np.random.default_rng(seed)
    eps = np.sort(rng.uniform(0.8, 2.0, n))
    u = np.linalg.qr(rng.normal(size=(n, n)))[0]
    return eps, u ** 2  # weights [site, mode]


@pytest.mark.parametrize("omega_mw,omega_1", [(1.2, 0.0), (1.2, 0.8), (1.6, 2.0)])
def test_eq20_matches_brute_force_rate_equation_weak_hyperfine(omega_mw, omega_1):
    eps, w = small_system()
    env = env_in_units(beta=2.0, omega_mw=omega_mw, omega_1=omega_1, t1e=1.0, t2e=2.0)
    omega_n, t2n = 0.3, 4.0
    a0 = 1e-3
    t1n = 3.0 / a0 ** 2  # keep A^2 T1n fixed (Table I caption) as A -> 0
    nuclei = nuclear_bath(omega_n, a0, t1n, t2n, 1.0)
    p_b = bloch_bias(eps, env)
    for j in range(w.shape[0]):
        exact = brute_force_nucleus(eps, w[j], omega_n, a0, t2n, t1n, env)
        emit = hyperfine_rates(w[j:j + 1], eps, p_b, omega_n, nuclei, env.beta)[0]
        absorb = hyperfine_rates(w[j:j + 1], eps, p_b, -omega_n, nuclei, env.beta)[0]
        eq20 = (emit - absorb) / (emit + absorb)
        # factorization error is O(A^2 T2n T1e) ~ 1e-6; the solve is good to ~1e-10
        assert eq20 == pytest.approx(exact, abs=1e-5 * max(1.0, abs(exact)) + 1e-8)
        assert abs(exact) > 1e-3  # a non-trivial polarization is tested


def test_printed_prefactor_and_sign_would_fail():
    # the printed A^2 T2n / 4 (4x the ISS weight) or the printed resonance sign
    # (L(eps - eps' + omega_n)) disagree with the brute force: these checks can fail
    eps, w = small_system()
    env = env_in_units(beta=2.0, omega_mw=1.2, omega_1=0.8, t1e=1.0, t2e=2.0)
    omega_n, t2n, a0 = 0.3, 4.0, 1e-3
    t1n = 3.0 / a0 ** 2
    exact = brute_force_nucleus(eps, w[0], omega_n, a0, t2n, t1n, env)
    p_b = bloch_bias(eps, env)
    four = nuclear_bath(omega_n, 2 * a0, t1n, t2n, 1.0)  # A -> 2A == prefactor x4 on ISS/PL only
    emit = hyperfine_rates(w[:1], eps, p_b, omega_n, four, env.beta)[0]
    absorb = hyperfine_rates(w[:1], eps, p_b, -omega_n, four, env.beta)[0]
    assert abs((emit - absorb) / (emit + absorb) - exact) > 1e-2
    # the printed resonance L(eps - eps' + omega_n) is our formula at -omega_n
    wrong = theory.per_nucleus_polarization(w[:1], eps, p_b, -omega_n, t2n)[0]
    right = theory.per_nucleus_polarization(w[:1], eps, p_b, omega_n, t2n)[0]
    assert abs(wrong - right) > 1e-2


def test_eq20_eq22_c7_identities():
    # algebra: the pair-sum forms equal Eq. (20) built from Omega_j of Eq. (19)
    rng = np.random.default_rng(3)
    n = 12
    eps = np.sort(rng.uniform(0.5, 2.5, n))
    w = np.linalg.qr(rng.normal(size=(n, n)))[0] ** 2
    env = env_in_units(beta=1.5, omega_mw=1.3, omega_1=1.0, t1e=1.0, t2e=2.0)
    p_b = bloch_bias(eps, env)
    nuclei = nuclear_bath(0.25, 0.05, 50.0, 3.0, 7.0)
    beta = env.beta
    om_e = hyperfine_rates(w, eps, p_b, nuclei.omega_n, nuclei, beta).sum() \
        + (nuclei.per_electron - 1) * n * detailed_balance(nuclei.omega_n, beta) / nuclei.t1n
    om_a = hyperfine_rates(w, eps, p_b, -nuclei.omega_n, nuclei, beta).sum() \
        + (nuclei.per_electron - 1) * n * detailed_balance(-nuclei.omega_n, beta) / nuclei.t1n
    eq20 = (om_e - om_a) / (om_e + om_a)
    full = theory.nuclear_polarization(w, eps, p_b, nuclei, beta=beta, loss=True)
    assert full == pytest.approx(eq20, rel=1e-12)
    # Eq. (22): drop polarization loss and the leakage numerator
    om_e22 = hyperfine_rates(w, eps, p_b, nuclei.omega_n, nuclei, beta, loss=False).sum() \
        + (nuclei.per_electron - 1) * n * detailed_balance(nuclei.omega_n, beta) / nuclei.t1n
    om_a22 = hyperfine_rates(w, eps, p_b, -nuclei.omega_n, nuclei, beta, loss=False).sum() \
        + (nuclei.per_electron - 1) * n * detailed_balance(-nuclei.omega_n, beta) / nuclei.t1n
    leak_diff = nuclei.per_electron * n * np.tanh(0.5 * beta * nuclei.omega_n) / nuclei.t1n
    eq22 = (om_e22 - om_a22 - leak_diff) / (om_e22 + om_a22)
    assert theory.nuclear_polarization(w, eps, p_b, nuclei) == pytest.approx(eq22, rel=1e-12)
    # C7: per nucleus, no leakage
    huge = nuclear_bath(nuclei.omega_n, nuclei.A0, 1e300, nuclei.t2n, 1.0)
    e = hyperfine_rates(w, eps, p_b, nuclei.omega_n, huge, beta)
    a = hyperfine_rates(w, eps, p_b, -nuclei.omega_n, huge, beta)
    c7 = theory.per_nucleus_polarization(w, eps, p_b, nuclei.omega_n, nuclei.t2n)
    assert np.allclose(c7, (e - a) / (e + a), rtol=1e-12)
    # several biases at once == one at a time
    env2 = env_in_units(beta=1.5, omega_mw=1.9, omega_1=0.5, t1e=1.0, t2e=2.0)
    both = theory.nuclear_polarization(w, eps, np.array([p_b, bloch_bias(eps, env2)]), nuclei)
    assert both[1] == pytest.approx(theory.nuclear_polarization(w, eps, bloch_bias(eps, env2), nuclei), rel=1e-13)


def test_thermal_limit_sign():
    # no microwaves, perfectly resonant narrow lines: Eq. (20) -> +tanh(beta omega_n/2)
    eps = np.array([1.0, 1.3, 1.6, 1.9])
    w = np.full((4, 4), 0.25)
    env = env_in_units(beta=2.0, omega_mw=1.0, omega_1=0.0, t1e=1.0, t2e=1.0)
    nuclei = nuclear_bath(0.3, 1.0, 1e300, 1e4, 1.0)
    pn = theory.nuclear_polarization(w, eps, bloch_bias(eps, env), nuclei)
    # resonant pairs (a, b) with eps_a - eps_b = omega_n: (P_a - P_b)/(1 - P_a P_b) = tanh(beta omega_n/2)
    assert pn == pytest.approx(np.tanh(0.5 * 2.0 * 0.3), rel=1e-6)


def test_goe_surrogate_equals_uniform_weights():
    eps, _ = small_system(6, seed=4)
    env = env_in_units(beta=1.0, omega_mw=1.2, omega_1=1.0, t1e=1.0, t2e=2.0)
    nuclei = nuclear_bath(0.3, 0.1, 100.0, 3.0, 5.0)
    p_b = bloch_bias(eps, env)
    uniform = np.full((6, 6), 1 / 6)
    assert theory.nuclear_polarization(None, eps, p_b, nuclei) == pytest.approx(
        theory.nuclear_polarization(uniform, eps, p_b, nuclei), rel=1e-13)


def test_resonant_approximation_eq24_matches_eq22_for_dense_levels():
    # GOE correlator (Eq. 23) with a box DOS: many equally spaced levels, Lorentzian
    # (1/T2n) much wider than the spacing and much narrower than the MW hole (1/T2e),
    # leakage-dominated denominator -> Eq. (22) approaches Eq. (24)
    w = TWO_PI * 108e6
    n = 3000
    eps = TWO_PI * 93.9e9 + np.linspace(-w / 2, w / 2, n)
    env = Environment(1.2, 93.86e9, 250e3, 1.0, 1e-7)
    nuclei = NuclearBath(20e6, 4.47e3, 1e4, 1e-6, 1e7)
    p_b = bloch_bias(eps, env)
    eq22 = theory.nuclear_polarization(None, eps, p_b, nuclei)
    rho = 1.0 / w
    grid = np.linspace(eps[0] - nuclei.omega_n, eps[-1], 200001)

    def k_goe(e1, e2):
        inside = lambda e: ((e >= eps[0]) & (e <= eps[-1])).astype(float)
        return rho * rho * inside(e1) * inside(e2)

    eq24 = theory.resonant_polarization(k_goe, grid, lambda e: bloch_bias(e, env), nuclei)
    assert eq22 > 0 and eq24 > 0
    assert eq22 == pytest.approx(eq24, rel=0.03)


# ------------------------------------------------------------------ Monte Carlo
def _mc_case(a0, t1n, steps, seed=0, t1e=1.0, omega_1=0.8):
    from tests.free_fermion_mc import simulate

    # modes 0, 1 resonant with the nucleus (eps_1 - eps_0 = omega_n), mode 0 driven
    eps = np.array([1.0, 1.3, 1.75])
    w = small_system(3, seed=1)[1]
    env = env_in_units(beta=2.0, omega_mw=1.0, omega_1=omega_1, t1e=t1e, t2e=2.0)
    omega_n, t2n = 0.3, 20.0  # narrow lines: polarization loss ~ L(omega_n) small
    hyper = np.array([a0, 0.0, 0.0])
    res = simulate(w, eps, hyper, omega_n, t2n, t1n, env, steps=steps, burn=steps // 20,
                   rng=np.random.default_rng(seed), n_batches=25)
    exact = brute_force_nucleus(eps, w[0], omega_n, a0, t2n, t1n, env)
    nuclei = nuclear_bath(omega_n, a0, t1n, t2n, 1.0)
    p_b = bloch_bias(eps, env)
    emit = hyperfine_rates(w[:1], eps, p_b, omega_n, nuclei, env.beta)[0]
    absorb = hyperfine_rates(w[:1], eps, p_b, -omega_n, nuclei, env.beta)[0]
    return res, exact, (emit - absorb) / (emit + absorb)


def test_monte_carlo_matches_full_rate_equation_and_eq20_weak_coupling():
    # weak hyperfine: factorization holds; MC = brute force = Eq. (20) within MC error
    res, exact, eq20 = _mc_case(a0=0.1, t1n=200.0, steps=3_000_000)
    err = res.nuclear_polarization_error[0]
    assert abs(exact - eq20) < 0.2 * err  # factorization error far below the MC error
    assert abs(res.nuclear_polarization[0] - exact) < 4 * err
    assert abs(exact) > 5 * err  # a polarization is resolved
    assert res.accepted[1] > 30  # ISS events happened


def test_monte_carlo_shows_factorization_failure_at_strong_hyperfine():
    # strong hyperfine (ISS faster than the electron relaxation, T1e = 20, weak drive):
    # MC follows the exact non-factorized rate equation, and both depart from Eq. (20)
    res, exact, eq20 = _mc_case(a0=3.0, t1n=20.0, steps=3_000_000, seed=3, t1e=20.0, omega_1=0.2)
    err = res.nuclear_polarization_error[0]
    assert abs(res.nuclear_polarization[0] - exact) < 4 * err
    assert abs(exact - eq20) > 6 * err


@pytest.mark.parametrize("shuffle", [False, True])
def test_k_histogram_window_restriction_equals_full_pair_histogram(shuffle, monkeypatch):
    """Eq. (25): the blocked K(omega) histogram only forms the columns of O whose
    energy difference can fall inside the edges (energies ascending); it must equal the
    histogram of the full N x N overlap matrix, and the unsorted fallback too."""
    from dnpsim.observables import overlaps

    rng = np.random.default_rng(11)
    n = 700
    a = rng.standard_normal((n, n))
    energies, vectors = np.linalg.eigh(a + a.T)
    weights = vectors**2
    edges = np.linspace(-3.05, 3.05, 62)   # a fraction of the band (~ +-75)
    full = weights.T @ weights
    diff = energies[None, :] - energies[:, None]
    ref, _ = np.histogram(diff.ravel(), bins=edges, weights=full.ravel())
    ref /= n * np.diff(edges)
    ref_goe, _ = np.histogram(diff.ravel(), bins=edges)
    ref_goe = ref_goe / (n * n * np.diff(edges))
    order = rng.permutation(n) if shuffle else np.arange(n)
    monkeypatch.setattr(overlaps, "BLOCK_BYTES", 8 * n * 37)   # many row blocks of 37 rows
    got = overlaps.overlap_difference_histogram(weights[:, order], energies[order], edges)
    got_goe = overlaps.overlap_difference_histogram(None, energies[order], edges)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got_goe, ref_goe, rtol=1e-12, atol=1e-15)
