"""Closed-form checks of the cross-effect full master equation (Eq. (1) of Karabanov
et al. 2018), tests/README.md "Cross effect".

* Without microwaves the product state rho_th = prod_j (1 - 2 p S_jz)/2 x 1/2^N is
  stationary (every flip term of H connects Zeeman states of equal rho_th weight) and
  is reached from any initial state.
* One driven electron (D = 0, no nuclei, electron 2 far off resonance) follows the
  Bloch equations (2) with R_2 -> R_2 + R_1/2 (the T_1 jumps of the Lindblad
  dissipator dephase too), steady state Z = (1 + eta/eta')^-1.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from dnpsim.dynamics import liouville as lv
from dnpsim.models.cross_effect import CrossEffectModel
from dnpsim.theory.bloch import bloch_rhs, bloch_steady_state, efficiency, saturation_ratio

TWO_PI = 2 * np.pi


def three_spin(**kw):
    base = dict(offsets=[0.0, 145e6], omega1=10e3, D=100e3, omega_I=145e6, A=[[20e3], [-30e3]],
                B=[[40e3], [100e3 + 30e3j]], R1=1.0, R2=1e5, t1n=100.0, t2n=1e-3, p=0.984)
    base.update(kw)
    return CrossEffectModel.from_hz(**base)


def test_thermal_state_is_stationary_without_drive():
    model = three_spin(omega1=0.0)
    ss = lv.steady_state(model)
    assert np.abs(ss.rho - lv.thermal_state(model)).max() < 1e-10
    assert ss.electron_polarization == pytest.approx([-0.984, -0.984], abs=1e-10)
    assert ss.nuclear_polarization == pytest.approx([0.0], abs=1e-10)


def test_relaxes_to_thermal_state_without_drive():
    """From an inverted, nuclear-polarized start the evolution ends in rho_th."""
    model = three_spin(omega1=0.0, R1=50.0, t1n=0.05, d=None)
    rho0 = lv.thermal_state(model.replace(p=0.5), nuclear_polarization=0.7)
    rho0 = rho0[::-1, ::-1].copy()  # invert every spin
    tr = lv.evolve(model, [0.0, 0.5, 2.0])
    tr0 = lv.evolve(model, [0.0, 2.0], rho0=rho0)
    assert tr0.electron_polarization[0] == pytest.approx([0.5, 0.5])
    assert tr0.nuclear_polarization[0] == pytest.approx([-0.7])
    # the relaxation is complete by t = 2 s (exp(-2 r_1 t) ~ 1e-35); the conservative
    # propagator keeps the trace and reaches rho_th to round-off (liouville doc)
    for method in ("auto", "eig", "expm"):
        tr0 = lv.evolve(model, [0.0, 2.0], rho0=rho0, method=method)
        assert tr0.electron_polarization[-1] == pytest.approx([-0.984, -0.984], abs=1e-12)
        assert abs(tr0.nuclear_polarization[-1][0]) < 1e-12
        assert tr0.trace == pytest.approx(1.0, abs=1e-14)
        assert tr.electron_polarization[-1] == pytest.approx([-0.984, -0.984], abs=1e-12)


@pytest.mark.parametrize("offset_khz", [0.0, 10.0, -35.0, 200.0])
@pytest.mark.parametrize("omega1_khz", [2.0, 20.0, 100.0])
def test_single_driven_electron_is_bloch(offset_khz, omega1_khz):
    model = CrossEffectModel.from_hz(offsets=[offset_khz * 1e3, 3e9], omega1=omega1_khz * 1e3, D=0.0,
                                     omega_I=145e6, n_nuclei=0, R1=300.0, R2=2e5, r1=1.0, r2=1.0, p=0.9)
    ss = lv.steady_state(model)
    X, Y, Z = bloch_steady_state(model.offsets[0], model.omega1, model.R1, model.R2 + model.R1 / 2)
    assert ss.electron_polarization[0] == pytest.approx(-0.9 * Z, rel=1e-9, abs=1e-12)
    # transverse components: rho = 1/2 - p (X S_x + Y S_y + Z S_z) -> 2<S_x> = -p X
    rho1 = np.einsum("iaib->ab", ss.rho.reshape(2, 2, 2, 2))  # trace out electron 2 (bit 1)
    sx = 2 * np.real(rho1[0, 1] + rho1[1, 0]) / 2
    sy = 2 * np.real(1j * (rho1[1, 0] - rho1[0, 1])) / 2
    assert sx == pytest.approx(-0.9 * X, rel=1e-8, abs=1e-12)
    assert sy == pytest.approx(-0.9 * Y, rel=1e-8, abs=1e-12)


def test_single_driven_electron_dynamics_is_bloch():
    """Rabi oscillations of Fig. 1(c) regime: time evolution equals Eq. (2)."""
    model = CrossEffectModel.from_hz(offsets=[50e3, 3e9], omega1=500e3, D=0.0, omega_I=145e6, n_nuclei=0,
                                     R1=1e3, R2=2e4, r1=1.0, r2=1.0, p=0.5)
    times = np.linspace(0, 20e-6, 41)
    tr = lv.evolve(model, times)
    r2 = model.R2 + model.R1 / 2
    sol = solve_ivp(lambda t, y: bloch_rhs(y, model.offsets[0], model.omega1, model.R1, r2), (0, times[-1]),
                    [0.0, 0.0, 1.0], t_eval=times, rtol=1e-11, atol=1e-13)
    assert tr.electron_polarization[:, 0] == pytest.approx(-0.5 * sol.y[2], abs=1e-7)
    assert tr.electron_x[:, 0] == pytest.approx(-0.5 * sol.y[0], abs=1e-7)
    assert tr.electron_y[:, 0] == pytest.approx(-0.5 * sol.y[1], abs=1e-7)
    assert np.ptp(np.diff(np.sign(np.diff(tr.electron_polarization[:, 0])))) > 0  # oscillates


def test_efficiency_conditions():
    """Eq. (3) at the Fig. 2 parameters (omega_1 = 10 kHz, D = 100 kHz) holds, and the
    incoherent condition eta_1 >> 1 too; at omega_1 = D = 0.5 MHz (Fig. 1c, T_1e = 3 ms,
    T_2e = 50 us) eta_1 ~ 1 (coherent)."""
    eff = efficiency(three_spin(A=[[0.0], [0.0]], B=[[0.0], [1e5]]))
    assert eff.eta == pytest.approx(1e5)
    assert eff.holds(10) and eff.incoherent(10)
    coherent = efficiency(three_spin(omega1=0.5e6, D=0.5e6, A=[[0.0], [0.0]], B=[[1e5], [0.0]], R1=None, R2=None,
                                     t1e=3e-3, t2e=50e-6))
    assert 0.1 < coherent.eta1_min < 10 and not coherent.incoherent(10)
    assert saturation_ratio(0.0, 1.0, 1.0, 4.0) == pytest.approx(0.25)
