"""Build-up from a spec for every engine (``method.times``): P_n(t) and P_e(t) from the
thermal state (the stationary state without microwaves) after the microwaves switch
on, through each engine's own generator, with the build-up fit; the long-time limit
equals ``dnpsim.run``'s stationary answer of the same spec.

Tolerances of the long-time limit against the stationary solve:

* 2016 ``rate_equation``: the same generator, dense conservative propagator vs block
  elimination: 1e-10 (measured ~1e-13 for P_n);
* 2018 ``free_fermion``: the closed form at t -> inf is the stationary formula:
  1e-12 (exact up to exp(-W t_max));
* 2021 ``hilbert``: the same rate matrix: 1e-10 (measured ~1e-16);
* 2021 ``nonsecular``: the dense superoperator's propagation against the GMRES steady
  state of the eigenbasis Liouvillian at tol = 1e-8: 1e-7 (measured ~1e-9).

(The cross effect's build-up is tested in tests/test_cross_effect_spec.py.)
"""

import copy
import math
from dataclasses import replace

import numpy as np
import pytest

import dnpsim
from dnpsim.observables.build_up import build_up_extras

RATE_EQUATION = {
    "model": {"kind": "dipolar_electrons", "electron_larmor": "93.9 GHz", "n_electrons": 4, "seed": 1,
              "offsets": {"distribution": "equally_spaced", "half_width": "54 MHz"},
              "couplings": {"distribution": "gaussian", "scale": "15 MHz"},
              "nuclei": {"larmor": "20 MHz", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}},
    "environment": {"temperature": "1.2 K", "mw_frequency": "93.88 GHz", "mw_amplitude": "25 kHz"},
    "method": {"kind": "rate_equation"},
}
# build-up time ~38 s: 2000 s is ~50 build-up times
RATE_TIMES = {"start": 0.0, "stop": 2000.0, "num": 41}

ANDERSON = {
    "model": {"kind": "anderson", "L": 3, "boundary": "periodic", "hopping": 6.6e6, "electron_larmor": 93.9e9,
              "onsite": {"distribution": "uniform", "width": 108e6}, "seed": 1,
              "nuclei": {"larmor": 20e6, "hyperfine": 4.47e3, "per_electron": 1000}},
    "environment": {"temperature": 1.2, "t1n": 1e4, "t2n": 1e-5, "t1e": 1.0, "t2e": 1e-6,
                    "mw_frequency": 93.86e9, "mw_amplitude": 25e3},
    "method": {"kind": "free_fermion"},
}
# W = 1/T1n + hyperfine rates: 1/W < 1e4 s, so 1e6 s is > 100 build-up times
ANDERSON_TIMES = {"start": 0.0, "stop": 1e6, "num": 41}

OPEN = {
    "model": {"kind": "dipolar_electrons", "electron_larmor": 93.9e9, "n_electrons": 4, "seed": 1,
              "offsets": {"distribution": "uniform", "width": 5e6},
              "couplings": {"distribution": "gaussian", "scale": 0.75e6}, "ising": "dipolar"},
    "environment": {"temperature": 12.0, "mw_frequency": 93.8988e9, "mw_amplitude": 0.628e6,
                    "t1": 1.6e-6, "t_star": 0.16e-6, "t_zero": 0.16e-6},
    "method": {"kind": "nonsecular"},
}
# build-up time ~0.8 us: 1e-4 s is > 100 build-up times
OPEN_TIMES = {"start": 0.0, "stop": 1e-4, "num": 41}

CASES = {
    "rate_equation": (RATE_EQUATION, RATE_TIMES, 1e-10),
    "free_fermion": (ANDERSON, ANDERSON_TIMES, 1e-12),
    "nonsecular": (OPEN, OPEN_TIMES, 1e-7),
    "hilbert": (OPEN, OPEN_TIMES, 1e-10),
}


def spec_of(kind, *, times=True, dark=False):
    base, grid, _ = CASES[kind]
    spec = copy.deepcopy(base)
    spec["method"]["kind"] = kind
    if times:
        spec["method"]["times"] = grid
    if dark:
        spec["environment"]["mw_amplitude"] = 0.0
    return spec


@pytest.mark.parametrize("kind", list(CASES))
def test_long_time_limit_is_the_stationary_result(kind):
    tol = CASES[kind][2]
    stationary = dnpsim.run(spec_of(kind, times=False))
    build_up = dnpsim.run(spec_of(kind))
    assert build_up.solution == "time_resolved" and build_up.residual is None
    assert build_up.method == kind
    times = build_up.times
    assert times[0] == 0.0 and times.size == 41
    assert build_up.electron_polarization_t.shape == (41, np.size(stationary.electron_polarization))
    np.testing.assert_allclose(build_up.electron_polarization, stationary.electron_polarization, rtol=0, atol=tol)
    np.testing.assert_array_equal(build_up.electron_polarization, build_up.electron_polarization_t[-1])
    if stationary.nuclear_polarization is not None:
        assert build_up.nuclear_polarization == build_up.nuclear_polarization_t[-1]
        assert build_up.nuclear_polarization == pytest.approx(stationary.nuclear_polarization, rel=0, abs=tol)
        curve = build_up.nuclear_polarization_t
    else:
        assert build_up.nuclear_polarization is None and build_up.nuclear_polarization_t is None
        curve = build_up.electron_polarization_t.mean(axis=1)
    # the build-up is fitted from the thermal start, and it moves towards the stationary value
    assert math.isfinite(build_up.build_up_time) and 0 < build_up.build_up_time < times[-1] / 10
    plateau = curve[-1]
    assert build_up.build_up_enhancement == pytest.approx(plateau, abs=0.05 * abs(plateau - curve[0]))
    # the resolved spec stores the time grid and runs again to the same numbers
    assert list(build_up.parameters["method"]["times"]) == list(times)


@pytest.mark.parametrize("kind", list(CASES))
def test_starts_from_the_thermal_state_and_without_microwaves_nothing_moves(kind):
    dark_stationary = dnpsim.run(spec_of(kind, times=False, dark=True))
    dark = dnpsim.run(spec_of(kind, dark=True))
    driven = dnpsim.run(spec_of(kind))
    tol = CASES[kind][2]
    # P(0) is the state without microwaves, with and without them switched on
    for result in (dark, driven):
        np.testing.assert_allclose(result.electron_polarization_t[0], dark_stationary.electron_polarization,
                                   rtol=0, atol=tol)
        if dark_stationary.nuclear_polarization is not None:
            assert result.nuclear_polarization_t[0] == pytest.approx(dark_stationary.nuclear_polarization,
                                                                     rel=0, abs=tol)
    # without microwaves the thermal state stays put and no build-up is fitted
    assert np.ptp(dark.electron_polarization_t, axis=0).max() <= tol
    if dark.nuclear_polarization_t is not None:
        assert np.ptp(dark.nuclear_polarization_t) <= tol
    assert math.isnan(dark.build_up_time) and math.isnan(dark.build_up_enhancement)
    # with them, it moves
    assert np.ptp(driven.electron_polarization_t, axis=0).max() > 1e-3


def test_2016_thermal_start_is_boltzmann():
    from dnpsim.result import boltzmann_polarization

    result = dnpsim.run(spec_of("rate_equation"))
    # the Boltzmann state of the full Hamiltonian: the thermometer at its Boltzmann
    # polarization up to the hyperfine mixing (< 1e-3 relative, docs/conventions.md)
    assert result.nuclear_polarization_t[0] == pytest.approx(boltzmann_polarization(20e6, 1.2, "nuclear"), rel=1e-3)
    assert result.electron_polarization_t[0].mean() == pytest.approx(
        boltzmann_polarization(93.9e9, 1.2, "electron"), rel=1e-2)


def test_probability_and_trace_are_conserved():
    from dnpsim.spec import resolve_spec
    from dnpsim.units import time_grid

    # 2016: the populations of every time sum to one
    result = dnpsim.run(spec_of("rate_equation"))
    np.testing.assert_allclose(result.state.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all(result.state > -1e-12)
    # 2021 nonsecular: the trace of rho(t) is one (propagate_conserving on the trace functional)
    from dnpsim.dynamics.gksl import stationary_density_matrix, trace_functional, vec
    from dnpsim.dynamics.lindblad_dense import dense_liouvillian
    from dnpsim.solvers.propagation import propagate_conserving

    setup = resolve_spec(spec_of("nonsecular"))
    model, env = setup.model(), setup.environment()
    dark = replace(env, mw_amplitude=0.0)
    rho0, _ = stationary_density_matrix(dense_liouvillian(model, dark))
    x = propagate_conserving(dense_liouvillian(model, env), vec(rho0), np.asarray(time_grid(OPEN_TIMES)),
                             trace_functional(16))
    np.testing.assert_allclose(x @ trace_functional(16), 1.0, rtol=0, atol=1e-12)


def test_2018_rate_is_the_sum_of_the_eq19_flip_rates():
    """W of theory.free_fermion.nuclear_rate is the per-nucleus mean of Omega_j(+omega_n)
    + Omega_j(-omega_n) of Eq. (19) (hyperfine_rates, itself checked against a
    brute-force rate equation in tests/test_anderson_theory.py), when every nucleus is a
    core nucleus (N_n = N_e)."""
    from dnpsim.dynamics.free_fermion import NuclearBath, bloch_bias, hyperfine_rates
    from dnpsim.dynamics.rates import Environment
    from dnpsim.theory.free_fermion import nuclear_rate

    rng = np.random.default_rng(0)
    n = 6
    eps = 2 * np.pi * (93.9e9 + np.sort(rng.uniform(-60e6, 60e6, n)))
    weights = np.linalg.qr(rng.normal(size=(n, n)))[0] ** 2
    env = Environment(1.2, 93.88e9, 25e3, 1.0, 1e-6)
    nuclei = NuclearBath(20e6, 4.47e3, 1e4, 1e-5, 1.0)
    p = bloch_bias(eps, env)
    for loss in (False, True):
        flips = sum(hyperfine_rates(weights, eps, p, s * nuclei.omega_n, nuclei, env.beta, loss=loss)
                    for s in (1, -1))
        assert nuclear_rate(weights, eps, p, nuclei, loss=loss) == pytest.approx(flips.mean(), rel=1e-12)


def test_2018_build_up_is_one_exponential_at_the_fitted_time():
    spec = spec_of("free_fermion")
    tau = dnpsim.run(spec).build_up_time
    spec["method"]["times"] = {"start": 0.0, "stop": 5 * tau, "num": 21}  # resolve the rise
    result = dnpsim.run(spec)
    t, pn = result.times, result.nuclear_polarization_t
    assert result.build_up_time == pytest.approx(tau, rel=1e-3)  # the coarse grid had one point on the rise
    # P_n(t) is exactly one exponential from P_n(0) to the stationary value: the fit is exact
    plateau = result.build_up_enhancement
    expected = plateau + (pn[0] - plateau) * np.exp(-t / result.build_up_time)
    np.testing.assert_allclose(pn, expected, rtol=0, atol=1e-7 * abs(pn[-1] - pn[0]))


def test_nonsecular_evolution_is_refused_above_five_spins():
    spec = spec_of("nonsecular")
    spec["model"]["n_electrons"] = 6
    with pytest.raises(dnpsim.SpecError, match="method.times"):
        dnpsim.run(spec)


def test_build_up_extras_guard():
    t = np.linspace(0, 10, 11)
    flat = np.full(11, 0.3)
    assert all(math.isnan(v) for v in build_up_extras(t, flat, start=0.3).values())
    assert all(math.isnan(v) for v in build_up_extras(t[:2], flat[:2]).values())
    curve = 0.3 + 0.5 * (1 - np.exp(-t / 2.0))
    out = build_up_extras(t, curve, start=0.3)
    assert out["build_up_time"] == pytest.approx(2.0, rel=1e-6)
    assert out["build_up_enhancement"] == pytest.approx(0.8, rel=1e-6)
    assert all(math.isnan(v) for v in build_up_extras(t, curve, start=0.3, rises=lambda c: False).values())


@pytest.mark.parametrize("kind", ["rate_equation", "free_fermion", "nonsecular", "hilbert"])
def test_sweep_has_a_time_dimension(kind):
    spec = spec_of(kind)
    spec["method"]["times"] = {"start": 0.0, "stop": CASES[kind][1]["stop"], "num": 5}
    base = spec["environment"]["mw_frequency"]
    base = 93.88e9 if isinstance(base, str) else base
    spec["sweep"] = {"environment.mw_frequency": [base, base + 1e6]}
    ds = dnpsim.sweep(spec, progress=False)
    assert ds.sizes["time"] == 5 and ds.sizes["mw_frequency"] == 2
    assert "time" in ds["electron_polarization_t"].dims
    # the time grid is a variable over the sweep (method.times may itself be swept)
    assert ds["times"].dims[-1] == "time" and ds["times"].attrs["units"] == "s"
    assert "build_up_time" in ds
    if kind in ("rate_equation", "free_fermion"):
        assert ds["nuclear_polarization_t"].dims[-1] == "time"
