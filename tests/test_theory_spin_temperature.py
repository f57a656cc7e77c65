"""Tests of the perturbative spin-temperature theory (PRB 94, 014203, Sec. III B, App. A-C).

Physical parameters: Table I of the paper, converted to rad/s.  No test compares
with numbers produced by the code itself; each checks a limit, an independent
formula, a convergence property or a claim of the paper.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import brentq

from dnpsim.theory.spin_temperature import (
    PerturbativeSpinTemperature,
    bloch_polarization,
    discrete_flows,
    kappa,
    spin_temperature_continuum,
    spin_temperature_discrete,
)
from dnpsim.units import angular, inverse_temperature

# Table I (angular frequencies in rad/s, times in s, beta in s/rad)
OMEGA_E = angular(93.9e9)
HALF_WIDTH = angular(54e6)
BETA = inverse_temperature(1.2)
OMEGA_1 = angular(25e3)
T1E = 1.0
T2E = 1e-6
OMEGA_N = angular(20e6)
COMMON = dict(beta=BETA, omega_1=OMEGA_1, t1e=T1E, t2e=T2E)


def mw(offset_mhz):
    return OMEGA_E + angular(offset_mhz * 1e6)


def grid(n):
    """The paper's equally spaced Zeeman energies omega_e + hw (2i - N - 1)/N."""
    i = np.arange(1, n + 1)
    return OMEGA_E + HALF_WIDTH * (2.0 * i - n - 1) / n


def continuum(offset_mhz, u_mhz=0.0, **kw):
    params = {**COMMON, **kw}
    return spin_temperature_continuum(
        electron_larmor=OMEGA_E,
        half_width=HALF_WIDTH,
        omega_mw=mw(offset_mhz),
        coupling=angular(u_mhz * 1e6),
        **params,
    )


def discrete(n, offset_mhz, u_mhz=0.0, **kw):
    params = {**COMMON, **kw}
    return spin_temperature_discrete(grid(n), omega_mw=mw(offset_mhz), coupling=angular(u_mhz * 1e6), **params)


# --------------------------------------------------------------------------------------
# (a) single spin: kappa = 0 is the Bloch saturation law
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("detuning_t2", [0.0, 0.3, 1.0, -5.0, 50.0, 300.0])
def test_kappa_zero_is_bloch_saturation(detuning_t2):
    omega = OMEGA_E + angular(7e6)
    omega_mw = omega - detuning_t2 / T2E
    beta_s = 1e-8  # arbitrary: only P_e(omega) matters for a single frequency

    def k_of(u):  # u = beta_s (omega - omega_c)
        return kappa(omega, beta_s=beta_s, omega_c=omega - u / beta_s, omega_mw=omega_mw, **COMMON)

    u = brentq(k_of, -60.0, 60.0, xtol=1e-15, rtol=1e-15)
    p_e = -math.tanh(u / 2)
    # Bloch form typed independently of the module.
    p0 = -math.tanh(BETA * omega / 2)
    d2 = (T2E * (omega - omega_mw)) ** 2
    expected = p0 * (1 + d2) / (1 + d2 + 2 * OMEGA_1**2 * T1E * T2E)
    assert p_e == pytest.approx(expected, rel=1e-6)
    assert bloch_polarization(omega, beta=BETA, omega_mw=omega_mw, omega_1=OMEGA_1, t1e=T1E, t2e=T2E) == pytest.approx(
        expected, rel=1e-12
    )


def test_kappa_matches_eq21_with_omega1_squared_and_vectorizes():
    omega = OMEGA_E + np.linspace(-1, 1, 7) * HALF_WIDTH
    beta_s, omega_c, omega_mw = 2e-8, OMEGA_E + angular(3e6), mw(-10)
    p0 = -np.tanh(BETA * omega / 2)
    pe = -np.tanh(beta_s * (omega - omega_c) / 2)
    expected = (p0 - pe) / (2 * T1E) - T2E * OMEGA_1**2 * pe / (T2E**2 * (omega - omega_mw) ** 2 + 1)
    got = kappa(omega, beta_s=beta_s, omega_c=omega_c, omega_mw=omega_mw, **COMMON)
    assert got.shape == omega.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert isinstance(kappa(omega[0], beta_s=beta_s, omega_c=omega_c, omega_mw=omega_mw, **COMMON), float)


# --------------------------------------------------------------------------------------
# (b) no microwaves: the thermal state beta_s = beta, h = 0
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "solver, u_mhz",
    [("discrete", 0.0), ("discrete", 15.0), ("continuum", 0.0), ("continuum", 15.0), ("borghini", 0.0)],
)
def test_no_microwaves_gives_thermal_state(solver, u_mhz):
    params = dict(COMMON, omega_1=0.0)
    if solver == "discrete":
        res = spin_temperature_discrete(grid(400), omega_mw=mw(-30), coupling=angular(u_mhz * 1e6), **params)
    else:
        res = spin_temperature_continuum(
            electron_larmor=OMEGA_E,
            half_width=HALF_WIDTH,
            omega_mw=mw(-30),
            coupling=angular(u_mhz * 1e6),
            kind="lorentzian" if solver == "continuum" else "borghini",
            **params,
        )
    assert isinstance(res, PerturbativeSpinTemperature)
    assert res.beta_s == pytest.approx(BETA, rel=1e-9)
    assert abs(res.h) < 1e-6 * OMEGA_E  # DNP states have h ~ -omega_e
    assert res.h == -res.omega_c
    w = grid(11)
    np.testing.assert_allclose(res.electron_polarization(w), -np.tanh(BETA * w / 2), rtol=1e-9)
    assert res.nuclear_polarization(OMEGA_N) == pytest.approx(math.tanh(BETA * OMEGA_N / 2), rel=1e-9)


def test_kappa_has_no_cancellation_when_polarization_saturates():
    """At 0.05 K, P0 = -tanh(45) = -1 in double precision; P0 - P_e must still be exact."""
    beta = inverse_temperature(0.05)
    u0 = beta * OMEGA_E / 2
    u = 1.01 * u0
    got = kappa(OMEGA_E, beta=beta, beta_s=1.01 * beta, omega_c=0.0, omega_mw=mw(0), omega_1=0.0, t1e=T1E, t2e=T2E)
    # tanh(u) - tanh(u0) = 2 (e^{-2 u0} - e^{-2 u}) / ((1 + e^{-2 u0})(1 + e^{-2 u}))
    expected = (2 * (math.exp(-2 * u0) - math.exp(-2 * u))) / (2 * T1E)
    assert expected > 0
    assert got == pytest.approx(expected, rel=1e-12)


def test_thermal_state_at_very_low_temperature():
    """beta omega_e / 2 ~ 45 at 0.05 K: |P0| = 1 in double precision, yet P0 - P_e is
    evaluated without cancellation and the thermal state is still recovered."""
    beta = inverse_temperature(0.05)
    params = dict(COMMON, beta=beta, omega_1=0.0)
    res = spin_temperature_continuum(electron_larmor=OMEGA_E, half_width=HALF_WIDTH, omega_mw=mw(-30), **params)
    assert res.beta_s == pytest.approx(beta, rel=1e-9)
    assert abs(res.h) < 1e-6 * OMEGA_E
    res = spin_temperature_discrete(grid(101), omega_mw=mw(-30), coupling=angular(10e6), **params)
    assert res.beta_s == pytest.approx(beta, rel=1e-9)
    assert abs(res.h) < 1e-6 * OMEGA_E


# --------------------------------------------------------------------------------------
# (c) finite N -> N = infinity
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("offset_mhz", [-30.0, 10.0, -57.0])
@pytest.mark.parametrize("u_mhz", [0.0, 15.0])
def test_discrete_converges_to_continuum(offset_mhz, u_mhz):
    ref = continuum(offset_mhz, u_mhz)
    errs = []
    for n in (2000, 4000):
        d = discrete(n, offset_mhz, u_mhz)
        errs.append(max(abs(d.beta_s / ref.beta_s - 1), abs(d.theta - ref.theta) / abs(ref.theta)))
    if u_mhz == 0:
        # midpoint rule for a smooth integrand (the Lorentzian is resolved): O(N^-2)
        assert errs[1] < 1e-6
        assert errs[0] / errs[1] > 3.0
    else:
        # the pair sums Sum_l 1/(w_j - w_l) converge to the log kernel at O(N^-1)
        assert errs[1] < 1e-4
        assert errs[0] / errs[1] > 1.6


def test_discrete_solution_zeroes_physical_flows():
    """The scaled solver and the physical-unit (C4)-(C5) evaluation agree."""
    zee = grid(300)
    res = spin_temperature_discrete(zee, omega_mw=mw(-20), coupling=angular(10e6), **COMMON)
    kw = dict(beta_s=res.beta_s, omega_c=res.omega_c, omega_mw=mw(-20), coupling=angular(10e6), **COMMON)
    m_flow, e_flow = discrete_flows(zee, **kw)
    size = np.sum(np.abs(kappa(zee, **{k: v for k, v in kw.items() if k != "coupling"})))
    assert abs(m_flow) < 1e-9 * size
    assert abs(e_flow - res.omega_ref * m_flow) < 1e-9 * size * HALF_WIDTH
    np.testing.assert_allclose(
        res.electron_polarization(zee), -np.tanh(res.beta_s * (zee - res.omega_c) / 2), rtol=1e-9, atol=1e-12
    )


# --------------------------------------------------------------------------------------
# (C4)-(C5) against the microscopic master equation (two spins) and brute force
# --------------------------------------------------------------------------------------
def _two_spin_flows(j, wa, wb, p):
    """Magnetization and energy flows Sum (s_n - s_m) W_{m->n} p_m (Eqs. (11), (12), (16),
    (A7)) for H = wa S1z + wb S2z + J (S1+ S2- + h.c.) with ansatz populations; bath
    through S_x, S_y only (App. A)."""
    sp = np.array([[0.0, 1.0], [0.0, 0.0]])
    sz = np.diag([0.5, -0.5])
    eye = np.eye(2)
    s1p, s2p = np.kron(sp, eye), np.kron(eye, sp)
    s1z, s2z = np.kron(sz, eye), np.kron(eye, sz)
    ham = wa * s1z + wb * s2z + j * (s1p @ s2p.T + s1p.T @ s2p)
    e, v = np.linalg.eigh(ham)
    s = np.diag(v.T @ (s1z + s2z) @ v)
    pop = np.exp(-p["beta_s"] * (e + p["h"] * s))
    pop /= pop.sum()
    sx = [v.T @ (0.5 * (a + a.T)) @ v for a in (s1p, s2p)]
    sy = [v.T @ (-0.5j * (a - a.T)) @ v for a in (s1p, s2p)]
    sx_tot = sx[0] + sx[1]
    flows = np.zeros(2)
    for n in range(4):
        for m in range(4):
            if abs(s[n] - s[m]) < 0.5:
                continue
            h_beta = 1.0 / (1.0 + np.exp(-p["beta"] * (e[m] - e[n])))
            w_bath = 2 * h_beta / p["t1e"] * sum(abs(sx[i][n, m]) ** 2 + abs(sy[i][n, m]) ** 2 for i in range(2))
            w_mw = 4 * p["omega_1"] ** 2 * p["t2e"] * abs(sx_tot[n, m]) ** 2
            w_mw /= 1 + p["t2e"] ** 2 * (abs(e[n] - e[m]) - p["omega_mw"]) ** 2
            flows += np.array([s[n] - s[m], e[n] - e[m]]) * (w_bath + w_mw) * pop[m]
    return flows


def test_c4_c5_match_two_spin_master_equation_at_order_u2():
    """U^2/N per pair in (C4)-(C5) (hence U^2, not U^2/2, in the continuum)."""
    p = dict(beta=0.8, beta_s=2.0, h=-0.9, omega_mw=1.1, omega_1=0.3, t1e=1.0, t2e=5.0)  # toy units
    wa, wb = 1.0, 1.3
    kw = dict(beta=p["beta"], beta_s=p["beta_s"], omega_c=-p["h"], omega_mw=p["omega_mw"],
              omega_1=p["omega_1"], t1e=p["t1e"], t2e=p["t2e"])  # fmt: skip
    f0 = _two_spin_flows(0.0, wa, wb, p)
    np.testing.assert_allclose(f0, discrete_flows([wa, wb], **kw), rtol=1e-12)  # (C2)-(C3)
    errs = []
    for j in (3e-3, 1e-3):
        exact = 0.5 * (_two_spin_flows(j, wa, wb, p) + _two_spin_flows(-j, wa, wb, p))  # <U_12> = 0
        # N = 2: <U_12^2> = U^2 / N  =>  U = sqrt(2) |J|
        pred = np.array(discrete_flows([wa, wb], coupling=math.sqrt(2) * j, **kw))
        coef_exact, coef_pred = (exact - f0) / j**2, (pred - f0) / j**2
        errs.append(np.max(np.abs(coef_exact / coef_pred - 1)))
    assert errs[1] < 1e-4
    assert errs[0] / errs[1] > 5  # the remainder is O(J^4)


def _kappa_complex(z, p):
    p0 = -np.tanh(p["beta"] * z / 2)
    pe = -np.tanh(p["beta_s"] * (z - p["omega_c"]) / 2)
    return (p0 - pe) / (2 * p["t1e"]) - p["omega_1"] ** 2 * p["t2e"] * pe / (1 + p["t2e"] ** 2 * (z - p["omega_mw"]) ** 2)


def test_discrete_flows_against_brute_force_double_sum():
    """(C4)-(C5) literally: derivative of each divided difference by complex step."""
    rng = np.random.default_rng(1)
    w = np.sort(1.0 + rng.uniform(-0.4, 0.4, 6))
    p = dict(beta=0.7, beta_s=3.0, omega_c=0.95, omega_mw=1.05, omega_1=0.4, t1e=1.0, t2e=6.0)
    u = 0.05
    step = 1e-20
    m_bf = e_bf = 0.0
    for j in range(w.size):
        kj = _kappa_complex(w[j], p).real
        m_bf += kj
        e_bf += w[j] * kj
        zj = w[j] + 1j * step
        for l in range(w.size):
            if l == j:
                continue
            kl = _kappa_complex(w[l], p).real
            d1 = (_kappa_complex(zj, p) - kl) / (zj - w[l])
            d2 = (zj * _kappa_complex(zj, p) - w[l] * kl) / (zj - w[l])
            m_bf += u**2 / w.size * d1.imag / step
            e_bf += u**2 / w.size * d2.imag / step
    m, e = discrete_flows(w, coupling=u, **p)
    assert m == pytest.approx(m_bf, rel=1e-10)
    assert e == pytest.approx(e_bf, rel=1e-10)


# --------------------------------------------------------------------------------------
# (d) the DNP profile
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("u_mhz", [0.0, 15.0])
def test_dnp_profile_is_dispersive_and_enhanced(u_mhz):
    pn = {f: continuum(f, u_mhz).nuclear_polarization(OMEGA_N) for f in (-30.0, -10.0, -1.0, 1.0, 10.0, 30.0)}
    for f in (1.0, 10.0, 30.0):
        assert pn[-f] > 0.0 > pn[f]  # sign change across omega_e
        # P0 is almost flat over the band (beta hw ~ 2e-3): nearly odd profile
        assert abs(pn[-f] + pn[f]) < 1e-2 * abs(pn[-f] - pn[f])
    assert pn[-30.0] > pn[-10.0] > pn[-1.0]
    thermal = math.tanh(BETA * OMEGA_N / 2)  # 4.0e-4 at 1.2 K, 20 MHz
    assert pn[-30.0] > 100 * thermal


def test_polarization_decreases_with_u():
    """Paper, Sec. IV: increasing U (radical concentration) decreases P_n."""
    for f in (-30.0, 20.0):
        pn = [abs(continuum(f, u).nuclear_polarization(OMEGA_N)) for u in (0.0, 2.0, 15.0)]
        assert pn[0] > pn[1] > pn[2]


# --------------------------------------------------------------------------------------
# (e) Borghini's delta absorption, Eq. (22)
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("offset_mhz", [-30.0, -10.0, 20.0])
def test_borghini_gives_colder_spin_temperature(offset_mhz):
    """Paper: Eq. (22) leads to a substantial underestimation of the spin temperature."""
    lor = continuum(offset_mhz)
    borg = continuum(offset_mhz, kind="borghini")
    assert np.sign(borg.beta_s) == np.sign(lor.beta_s)
    assert abs(borg.beta_s) > 1.5 * abs(lor.beta_s)


def test_lorentzian_tends_to_borghini_for_long_t2():
    """Eq. (22) is the T2e -> infinity limit of Eq. (21) (T2e/(1 + T2e^2 x^2) -> pi delta(x))
    at fixed omega_1; checks the factor pi omega_1^2 of the delta absorption."""
    w1 = angular(2.5e3)
    borg = continuum(-20.0, kind="borghini", omega_1=w1).beta_s
    errs = [abs(continuum(-20.0, omega_1=w1, t2e=t2).beta_s / borg - 1) for t2 in (1e-5, 1e-4, 1e-3)]
    assert errs[0] / errs[1] > 5 and errs[1] / errs[2] > 5
    assert errs[2] < 1e-4


def test_borghini_outside_band_is_thermal():
    """With delta absorption no spin resonates when omega_MW is outside the band."""
    res = continuum(-58.0, kind="borghini")
    assert res.beta_s == pytest.approx(BETA, rel=1e-9)
    assert abs(res.h) < 1e-6 * OMEGA_E
    # the Lorentzian tails still drive the band edge (2 w1^2 T1 T2 L ~ 10 there)
    assert continuum(-58.0).beta_s > 100 * BETA


def test_borghini_rejects_coupling_and_bad_kind():
    with pytest.raises(ValueError):
        continuum(-30.0, 2.0, kind="borghini")
    with pytest.raises(ValueError):
        continuum(-30.0, kind="gaussian")


def test_discrete_needs_two_distinct_frequencies():
    with pytest.raises(ValueError):
        spin_temperature_discrete([OMEGA_E, OMEGA_E], omega_mw=mw(0), **COMMON)
    with pytest.raises(ValueError):
        spin_temperature_discrete([OMEGA_E, OMEGA_E, OMEGA_E + 1e6], omega_mw=mw(0), coupling=1e6, **COMMON)


# --------------------------------------------------------------------------------------
# (f) the U^2 correction
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("offset_mhz", [-30.0, 15.0])
def test_u2_correction_scales_as_u_squared(offset_mhz):
    b0 = continuum(offset_mhz).beta_s
    d = [continuum(offset_mhz, u).beta_s - b0 for u in (1.0, 2.0, 4.0)]
    assert abs(d[0]) < 1e-3 * abs(b0)
    assert d[1] / d[0] == pytest.approx(4.0, rel=0.02)
    assert d[2] / d[1] == pytest.approx(4.0, rel=0.02)


def test_warning_beyond_perturbative_validity():
    """At omega_MW = omega_e - 30 MHz the U^2 term outweighs the absorption for U >~ 45 MHz."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        discrete(400, -30.0, 15.0)  # within range: no warning
    with pytest.warns(RuntimeWarning, match="validity"):
        try:
            discrete(400, -30.0, 46.0)
        except RuntimeError:
            pass  # the order-U^2 equations may have no solution there
