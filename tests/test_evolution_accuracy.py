"""Accuracy of the time evolution of every deterministic engine against a
high-precision reference (tests/hp_reference.py: 320-bit fixed-point exp(M t) of the
generator, built independently of dnpsim's Liouville-space code), trace / probability
conservation, and stay-at-equilibrium without microwaves.

* Full master equation, Eq. (1) of Karabanov et al. 2018 (dynamics/liouville.py):
  the e1-e2-n model of Fig. 2(a, b) at omega_1 = 10 kHz, D = 100 kHz and an
  e1-e2-2n variant; p_I(t) to 1e-9 relative over the build-up (a plain float64
  eigendecomposition or expm of the Liouvillian errs by 1e-7 .. 1e-5 there).
* Zeeman-projected rate equation, Eq. (4) (dynamics/zeeman_rate_equation.py), generic
  and local rates.
* Pauli rate equation of the 2016 spin-temperature engine, Eq. (11)
  (SpinTemperatureEngine.evolve through solvers/propagation.evolve_populations).

The reference values of the Lindblad cases are stored (computing them takes 3 s for
3 spins and minutes for 4); the ``slow`` tests recompute them.
"""

import numpy as np
import pytest

from dnpsim.dynamics import liouville as lv
from dnpsim.dynamics.gksl import trace_functional, vec
from dnpsim.dynamics.rates import Environment
from dnpsim.dynamics.zeeman_local_rates import local_rates
from dnpsim.dynamics.zeeman_projection import projected_rates
from dnpsim.dynamics.zeeman_rate_equation import rate_evolve, thermal_populations
from dnpsim.experiments.cross_effect import paper_model
from dnpsim.experiments.spin_temperature import SpinTemperatureEngine
from dnpsim.models.cross_effect import CrossEffectModel
from dnpsim.observables.polarization import polarization
from dnpsim.solvers import propagation
from tests import hp_reference as hp
from tests.conftest import ELECTRON_LARMOR, make_model


def e1e2n(**kw):
    """Fig. 2(a, b): nucleus on electron 2 (B_2 = 0.1 MHz), omega_1 = 10 kHz, D = 100 kHz."""
    return paper_model("e1-e2-n", **{"omega1": 10e3, "D": 100e3, **kw})


def e1e2_2n(**kw):
    """Two nuclei on electron 2 with secular and complex pseudo-secular hyperfine
    couplings and a nuclear dipolar coupling."""
    base = {"offsets": [0.0, 145e6], "omega1": 10e3, "D": 100e3, "omega_I": 145e6,
            "A": [[0.0, 0.0], [20e3, -10e3]], "B": [[0.0, 0.0], [1e5, 0.5e5 + 0.2e5j]],
            "d": [[0.0, 10.0], [10.0, 0.0]], "R1": 1.0, "R2": 1e5, "t1n": 100.0, "t2n": 1e-3, "p": 0.984}
    base.update(kw)
    return CrossEffectModel.from_hz(**base)


# t: (p_I per nucleus, 2<S_jz> per electron) from the thermal state, 320-bit reference
# (hp.reference_evolution(model, 1e-3, 6)), rounded to float64
REFERENCE_E1E2N = {
    0.001: ([2.098893738620941e-05], [-0.3711036167306014, -0.983961699252478]),
    0.01: ([0.000523457314988516], [-0.0011770184693663387, -0.983057061901523]),
    0.1: ([0.005732639754543247], [-0.0011146862934742448, -0.9741135474092641]),
    1.0: ([0.054225344025077594], [-0.0011059033819364448, -0.9213338776834351]),
    10.0: ([0.3876573245515538], [-0.001084061607219676, -0.9080108648832582]),
    100.0: ([0.794460702264083], [-0.0010617633913254656, -0.9312042907992166]),
}
REFERENCE_E1E2_2N = {
    0.001: ([2.049988629265933e-05, 5.546427451728943e-06], [-0.3711072684075408, -0.983956643830567]),
    0.01: ([0.0005110250465780114, 0.00013814297893119772], [-0.0011914138474081587, -0.9829319478802653]),
    0.1: ([0.0055931539471908535, 0.0015148687308566343], [-0.0011288051421073236, -0.9728067100303861]),
    1.0: ([0.052694722458281266, 0.014558264615860015], [-0.0011183485621213, -0.9132961325982792]),
    10.0: ([0.3759101897146666, 0.12439775471497452], [-0.0010952717118713575, -0.8970589791074821]),
    100.0: ([0.7841696315087544, 0.5237665700347526], [-0.0010679907509624832, -0.9251355424917086]),
}

#: Relative accuracy of p_I(t) reached from t = 10 ms on (measured: <= 2e-10 for 3
#: spins with "expm", <= 2e-10 with "eig"; <= 1e-9 for 4 spins with "expm", <= 2e-9
#: with "eig"); at 1 ms (p_I ~ 1e-5) the absolute error, < 1e-13, is what counts.  The
#: electron polarizations to 1e-10 absolute (measured <= 3e-11).
RTOL = {("e1e2n", "expm"): 1e-9, ("e1e2n", "eig"): 1e-9, ("e1e2n", "auto"): 1e-9,
        ("e1e2_2n", "expm"): 2e-9, ("e1e2_2n", "eig"): 4e-9, ("e1e2_2n", "auto"): 2e-9}


def _check_lindblad(name, model, reference, times, method):
    tr = lv.evolve(model, times, method=method)
    for i, t in enumerate(times):
        if t not in reference:
            continue
        nuclear, electron = (np.array(v) for v in reference[t])
        assert tr.nuclear_polarization[i] == pytest.approx(nuclear, rel=RTOL[name, method], abs=1e-13), (t, method)
        assert tr.electron_polarization[i] == pytest.approx(electron, rel=0, abs=1e-10), (t, method)
    np.testing.assert_allclose(tr.trace, 1.0, rtol=0, atol=2e-15)


@pytest.mark.parametrize("method", ["auto", "eig", "expm"])
def test_lindblad_build_up_matches_the_high_precision_reference(method):
    """p_I(t) of Eq. (1) on a logarithmic grid (every step distinct) and on the
    uniform grid of a build-up curve (0 .. 100 s in 1 s)."""
    for name, model, reference in (("e1e2n", e1e2n(), REFERENCE_E1E2N), ("e1e2_2n", e1e2_2n(), REFERENCE_E1E2_2N)):
        _check_lindblad(name, model, reference, np.array(sorted(reference)), method)
    _check_lindblad("e1e2n", e1e2n(), REFERENCE_E1E2N, np.arange(101.0), method)


@pytest.mark.parametrize("method", ["auto", "eig", "expm"])
def test_lindblad_thermal_state_stays_thermal_without_microwaves(method):
    """Without drive rho_th is stationary (tests/systems/test_cross_effect_closed_forms.py);
    the evolution must keep it to round-off (the plain eigen-propagator drifted by
    ~1e-7 / s)."""
    for model in (e1e2n(omega1=0.0), e1e2_2n(omega1=0.0)):
        tr = lv.evolve(model, [0.0, 1.0, 10.0, 100.0, 1000.0], method=method)
        np.testing.assert_allclose(tr.electron_polarization, -model.p, rtol=0, atol=1e-13)
        np.testing.assert_allclose(tr.nuclear_polarization, 0.0, rtol=0, atol=1e-13)
        np.testing.assert_allclose(tr.trace, 1.0, rtol=0, atol=2e-15)
        np.testing.assert_allclose(tr.electron_x, 0.0, rtol=0, atol=1e-13)
        rho = propagation.propagate_conserving(lv.liouvillian(model), vec(lv.thermal_state(model)), [1000.0],
                                               trace_functional(2**model.n_spins), method=method)
        assert np.abs(rho - vec(lv.thermal_state(model))).max() < 1e-13
        # from polarized nuclei back to rho_th (T_1n = 100 s): no drift on the way
        tr = lv.evolve(model, [0.0, 10.0, 5000.0], rho0=lv.thermal_state(model, nuclear_polarization=0.3),
                       method=method)
        np.testing.assert_allclose(tr.nuclear_polarization[0], 0.3, rtol=0, atol=1e-14)
        np.testing.assert_allclose(tr.nuclear_polarization[-1], 0.0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(tr.electron_polarization[[0, -1]], -model.p, rtol=0, atol=1e-12)
        np.testing.assert_allclose(tr.trace, 1.0, rtol=0, atol=2e-15)


def test_lindblad_long_time_limit_is_the_steady_state():
    model = e1e2n()
    tr = lv.evolve(model, [0.0, 5e3])
    ss = lv.steady_state(model)
    assert tr.nuclear_polarization[-1] == pytest.approx(ss.nuclear_polarization, rel=1e-10)
    assert tr.electron_polarization[-1] == pytest.approx(ss.electron_polarization, rel=1e-10)


def test_block_diagonalization_is_invariant():
    """The fast/slow split of the Liouvillian: L [1; Z] = [1; Z] M_s and
    L [W; 1] = [W; 1] M_f to round-off (relative to the largest entry of L)."""
    L = lv.liouvillian(e1e2n())
    slow, fast = propagation.fast_slow_split(L)
    d = 8
    assert set(np.arange(d) * (d + 1)) <= set(slow)  # populations are slow
    blocks = propagation.block_diagonalize(L, slow, fast)
    dense = L.toarray()
    basis = np.zeros((L.shape[0], slow.size), complex)
    basis[slow] = np.eye(slow.size)
    basis[fast] = blocks.Z
    residual = dense @ basis - basis @ blocks.slow_generator
    assert np.abs(residual).max() < 1e-13 * np.abs(dense).max()
    fast_basis = np.zeros((L.shape[0], fast.size), complex)
    fast_basis[slow] = blocks.W
    fast_basis[fast] = np.eye(fast.size)
    residual = dense @ fast_basis - fast_basis @ blocks.fast_generator
    assert np.abs(residual).max() < 1e-13 * np.abs(dense).max()
    # a rate matrix has no gap between its diagonal and its off-diagonal couplings
    assert propagation.fast_slow_split(projected_rates(e1e2n()).generator) is None


def test_propagate_conserving_small_generators():
    """Without a split: equals scipy expm for a generic conservative generator,
    conserves u^T x exactly, keeps a stationary start, and refuses unknown methods."""
    import scipy.linalg as sla

    rng = np.random.default_rng(5)
    W = rng.uniform(0.0, 3.0, (6, 6))
    np.fill_diagonal(W, 0.0)
    Q = W - np.diag(W.sum(axis=0))
    p0 = rng.uniform(0.0, 1.0, 6)
    p0 /= p0.sum()
    times = np.array([0.0, 0.1, 0.7, 2.0])
    for method in ("auto", "eig", "expm"):
        P = np.real(propagation.propagate_conserving(Q, p0, times, method=method))
        np.testing.assert_allclose(P, [sla.expm(Q * t) @ p0 for t in times], rtol=0, atol=1e-14)
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-15)
        stationary = sla.null_space(Q)[:, 0]
        stationary /= stationary.sum()
        S = np.real(propagation.propagate_conserving(Q, stationary, times, method=method))
        np.testing.assert_allclose(S, np.broadcast_to(stationary, S.shape), rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="method"):
        propagation.propagate_conserving(Q, p0, times, method="rk4")


# ------------------------------------------------------------------ rate equations
@pytest.mark.parametrize("build", [projected_rates, local_rates], ids=["generic", "local"])
def test_zeeman_rate_equation_evolution(build):
    """Eq. (4) projected on populations: p_I(t) against the 320-bit exp(Q t), total
    probability conserved, thermal populations kept without microwaves."""
    times = [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0]
    for mk in (e1e2n, e1e2_2n):
        model = mk()
        rates = build(model)
        p0 = thermal_populations(model)
        ref = hp.matrix_evolution(rates.generator, p0, 1e-3, 6)
        sol = rate_evolve(rates, times)
        for i, t in enumerate(times):
            reference = lv.population_polarizations(model, ref[t])[1]
            assert sol.nuclear_polarization[i] == pytest.approx(reference, rel=1e-10)
        np.testing.assert_allclose(sol.populations.sum(axis=1), 1.0, rtol=0, atol=1e-15)
        off = rate_evolve(build(model.replace(omega1=0.0)), [1.0, 100.0, 1e4])
        np.testing.assert_allclose(off.populations, np.broadcast_to(p0, off.populations.shape), rtol=0, atol=1e-13)


def test_spin_temperature_evolution():
    """Eq. (11) of the 2016 paper (SpinTemperatureEngine.evolve): P_n(t) against the
    320-bit exp(Q t), probability conserved, Boltzmann populations kept without
    microwaves."""
    engine = SpinTemperatureEngine(make_model(4, hyperfine_mhz=3.0))
    env = Environment(1.2, ELECTRON_LARMOR - 20e6, 25e3, 1.0, 1e-6)
    times = [1e-2, 0.1, 1.0, 10.0, 100.0, 1000.0]
    p0 = engine.thermal_populations(1.2)
    ref = hp.matrix_evolution(engine.generator(env).to_dense(), p0, 1e-2, 6)
    out = engine.evolve(env, times)
    nuclear_z = engine.basis.nuclear_z()
    for i, t in enumerate(times):
        assert out.nuclear_polarization_t[i] == pytest.approx(polarization(ref[t], nuclear_z), rel=1e-10)
    np.testing.assert_allclose(out.state.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    off = engine.evolve(Environment(1.2, ELECTRON_LARMOR - 20e6, 0.0, 1.0, 1e-6), [1.0, 100.0, 1e4])
    np.testing.assert_allclose(off.state, np.broadcast_to(p0, off.state.shape), rtol=0, atol=1e-14)


# ------------------------------------------------------------------ no drive: no warnings
@pytest.mark.filterwarnings("error")
def test_no_drive_gives_no_overflow_warnings_and_infinite_eta():
    from dnpsim.experiments.cross_effect import CrossEffectEngine
    from dnpsim.methods import Lindblad
    from dnpsim.theory.bloch import bloch_steady_state, efficiency

    for omega1 in (0.0, 1e-170, 5e-324):
        eff = efficiency(e1e2n(omega1=omega1))
        assert eff.eta1_max == np.inf and eff.eta2_min == np.inf and eff.margin == 0.0
        X, Y, Z = bloch_steady_state(np.array([0.0, 3e4]), omega1, 1.0, 1e5)
        assert np.all(np.abs(X) < 1e-100) and np.all(np.abs(Y) < 1e-100) and np.all(Z == 1.0)
    assert np.isnan(efficiency(e1e2n(omega1=0.0).replace(R1=0.0)).margin)  # inf / inf, silently
    result = CrossEffectEngine(e1e2n(omega1=0.0), Lindblad(times=(0.0, 1.0, 10.0))).evolve([0.0, 1.0, 10.0])
    assert result.to_dict()["efficiency_eta1"] is None
    np.testing.assert_allclose(result.nuclear_polarization_t, 0.0, atol=1e-14)


# ------------------------------------------------------------------ the references themselves
@pytest.mark.slow
def test_stored_reference_e1e2n_is_recomputed():
    model = e1e2n()
    ref = hp.reference_evolution(model, 1e-3, 6)
    for t, (nuclear, electron) in REFERENCE_E1E2N.items():
        assert hp.nuclear_polarizations(model, ref[t]) == pytest.approx(nuclear, rel=1e-14)
        assert hp.electron_polarizations(model, ref[t]) == pytest.approx(electron, rel=1e-14)
        assert ref[t][0] == 1.0  # trace


@pytest.mark.slow
def test_stored_reference_e1e2_2n_is_recomputed():
    """Four spins (256 x 256 fixed-point products): t = 1 s only (about 3 minutes)."""
    model = e1e2_2n()
    c = hp.reference_evolution(model, 1.0, 1)[1.0]
    nuclear, electron = REFERENCE_E1E2_2N[1.0]
    assert hp.nuclear_polarizations(model, c) == pytest.approx(nuclear, rel=1e-14)
    assert hp.electron_polarizations(model, c) == pytest.approx(electron, rel=1e-14)
