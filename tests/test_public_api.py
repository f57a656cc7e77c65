"""The public Python API: one import, inputs in the units of the spec files (Hz, s, K or
strings with units), typed options with the spec defaults, physically impossible input
refused at construction, every engine agreeing with the spec path."""

import copy
from pathlib import Path

import numpy as np
import pytest

import dnpsim

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TABLE = {"kind": "dipolar_electrons", "n_electrons": 4, "electron_larmor": "93.9 GHz", "seed": 1,
         "offsets": {"distribution": "equally_spaced", "half_width": "54 MHz"},
         "couplings": {"distribution": "gaussian", "scale": "15 MHz"},
         "nuclei": {"larmor": "20 MHz", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}}


def test_one_import_exposes_the_api():
    for name in ("load_spec", "run", "sweep", "make_model", "Result", "RateEquation", "SpinTemperatureEngine",
                 "OpenSystemEngine", "ExactAnderson", "CrossEffectEngine", "DipolarElectrons", "Environment",
                 "OpenEnvironment", "AndersonLattice", "NuclearBath", "CrossEffectModel", "SpecError"):
        assert name in dir(dnpsim) and getattr(dnpsim, name) is not None
    with pytest.raises(AttributeError):
        dnpsim.NoSuchThing


def test_environment_in_hz_matches_the_spec_run():
    """The issue's trap: Environment(1.2, 93.88e9, 25e3, 1.0, 1e-6) is read in Hz, as a user
    writes it, and gives the same P_n as the spec file with the same numbers."""
    spec = {"model": dict(TABLE), "environment": {"temperature": 1.2, "mw_frequency": 93.88e9,
                                                  "mw_amplitude": 25e3, "t1e": 1.0, "t2e": 1e-6}}
    by_spec = dnpsim.run(spec)
    model = dnpsim.make_model(TABLE)
    point = dnpsim.SpinTemperatureEngine(model).stationary(dnpsim.Environment(1.2, 93.88e9, 25e3, 1.0, 1e-6))
    assert point.nuclear_polarization == pytest.approx(by_spec.nuclear_polarization, rel=1e-12)
    assert abs(point.nuclear_polarization) > 0.05  # a real DNP effect, not the 2 pi-wrong 4e-4
    np.testing.assert_allclose(point.electron_polarization, by_spec.electron_polarization, rtol=1e-12)
    # unit strings and pint quantities are the same numbers
    import pint

    u = pint.UnitRegistry()
    strings = dnpsim.Environment("1.2 K", "93.88 GHz", "25 kHz", "1 s", "1 us")
    quantities = dnpsim.Environment(1.2 * u.K, 93.88 * u.GHz, 25 * u.kHz, 1 * u.s, 1 * u.us)
    assert strings == quantities == dnpsim.Environment(1.2, 93.88e9, 25e3, 1.0, 1e-6)
    assert strings.omega_mw == pytest.approx(2 * np.pi * 93.88e9, rel=1e-15)


def test_profile_is_a_dataset_over_frequency_in_hz():
    engine = dnpsim.SpinTemperatureEngine(dnpsim.make_model(TABLE))
    env = dnpsim.Environment(1.2, 93.88e9, 25e3, 1.0, 1e-6)
    profile = engine.profile(env, {"start": "93.86 GHz", "stop": "93.90 GHz", "num": 3})
    np.testing.assert_allclose(profile["mw_frequency"], [93.86e9, 93.88e9, 93.90e9])
    assert profile["mw_frequency"].attrs["units"] == "Hz"
    assert float(profile["nuclear_polarization"].sel(mw_frequency=93.88e9)) == pytest.approx(
        engine.stationary(env).nuclear_polarization, rel=1e-12)
    assert profile["nuclear_enhancement"].attrs["units"] == "1"


@pytest.mark.parametrize("make, field", [
    (lambda: dnpsim.Environment(1.2, 93.88e9, 25e3, 1e-6, 1.0), "environment.t2e"),   # T1e and T2e swapped
    (lambda: dnpsim.Environment(1.2, 93.88e9, 25e3, -1.0, 1e-6), "environment.t1e"),
    (lambda: dnpsim.Environment(0.0, 93.88e9, 25e3, 1.0, 1e-6), "environment.temperature"),
    (lambda: dnpsim.DipolarElectrons(93.9e9, [0.0, 1e6], [[0.0, 1.0], [2.0, 0.0]]), "model.couplings"),
    (lambda: dnpsim.NuclearBath(20e6, 4.47e3, -1.0, 1e-5, 1e3), "environment.t1n"),
])
def test_impossible_inputs_are_refused_naming_the_field(make, field):
    with pytest.raises(dnpsim.ModelError) as info:
        make()
    assert info.value.field == field


@pytest.mark.parametrize("make, field", [
    (lambda: dnpsim.Environment(1.2, "93.88 K", 25e3, 1.0, 1e-6), "environment.mw_frequency"),
    (lambda: dnpsim.Environment(1.2, 93.88e9, float("inf"), 1.0, 1e-6), "environment.mw_amplitude"),
    (lambda: dnpsim.AndersonLattice(3, "6.6 s", np.zeros((3, 3, 3)), 93.9e9), "model.hopping"),
    (lambda: dnpsim.DipolarElectrons(93.9e9, [0.0, "1 K"], np.zeros((2, 2))), "model.offsets[1]"),
    (lambda: dnpsim.NuclearBath("20 MHz", 4.47e3, "1e4 Hz", 1e-5, 1e3), "environment.t1n"),
])
def test_wrong_units_are_refused_naming_the_field(make, field):
    with pytest.raises(dnpsim.UnitError) as info:
        make()
    assert info.value.field == field


def test_method_options_are_typed_with_the_spec_defaults():
    from dnpsim.methods import method_from_table

    assert method_from_table({"kind": "nonsecular"}, "dipolar_electrons") == dnpsim.Nonsecular()
    assert dnpsim.Nonsecular().tol == 1e-8 and dnpsim.Nonsecular().restart == 30
    with pytest.raises(TypeError):
        dnpsim.RateEquation(tolerance=1e-9)  # unknown option
    with pytest.raises(dnpsim.SpecError) as info:
        method_from_table({"kind": "rate_equation", "tolerance": 1e-9}, "dipolar_electrons")
    assert info.value.field == "method.tolerance"
    with pytest.raises(dnpsim.SpecError) as info:
        dnpsim.Nonsecular(solver="lu")
    assert info.value.field == "method.solver"
    with pytest.raises(dnpsim.SpecError):
        dnpsim.KineticMonteCarlo()  # times are required
    method = dnpsim.KineticMonteCarlo(times={"start": "0 s", "stop": "10 s", "num": 3}, min_pair_coupling="5 Hz")
    assert method.times == (0.0, 5.0, 10.0) and method.min_pair_coupling == 5.0
    with pytest.raises(Exception):
        method.seed = 3  # frozen


def test_open_system_engine_equals_the_spec_run():
    spec = dnpsim.load_spec(EXAMPLES / "nonsecular_point.toml")
    spec["model"]["n_electrons"] = 3
    by_spec = dnpsim.run(spec)
    setup = dnpsim.spec.resolve_spec(spec)
    env = dnpsim.OpenEnvironment(12.0, "93.8988 GHz", "0.628 MHz", dnpsim.BathTimescales(1.6e-6, 0.16e-6, 0.16e-6))
    result = dnpsim.OpenSystemEngine(setup.model()).stationary(env)
    np.testing.assert_allclose(result.electron_polarization, by_spec.electron_polarization, rtol=1e-9)
    hilbert = dnpsim.OpenSystemEngine(setup.model(), dnpsim.Hilbert()).profile(env, [93.8988e9, 93.9e9])
    assert hilbert.sizes["mw_frequency"] == 2 and hilbert.attrs["method"] == "hilbert"


def test_anderson_engine_equals_the_spec_run():
    from dnpsim.spec import canonical_spec

    spec = canonical_spec(dnpsim.load_spec(EXAMPLES / "anderson_point.toml"), warn=False)  # current key names
    spec["model"]["L"] = 3
    by_spec = dnpsim.run(spec)
    table = {k: v for k, v in spec["model"].items() if k != "nuclei"}
    lattice = dnpsim.make_model(table)
    values = dict(spec["environment"])
    nuclei = dnpsim.NuclearBath(**spec["model"]["nuclei"], t1n=values.pop("t1n"), t2n=values.pop("t2n"))
    env = dnpsim.Environment(**values)
    result = dnpsim.ExactAnderson(lattice).stationary(env, nuclei)
    assert result.solution == "closed_form" and result.residual is None
    assert result.nuclear_polarization == pytest.approx(by_spec.nuclear_polarization, rel=1e-12)
    with pytest.raises(dnpsim.SpecError) as info:
        dnpsim.make_model(spec["model"])  # nuclei go to the engine, not into the lattice
    assert info.value.field == "model.nuclei"


def test_cross_effect_engine_equals_the_spec_run():
    spec = dnpsim.load_spec(EXAMPLES / "cross_effect_e1e2n.toml")
    by_spec = dnpsim.run(spec)
    model = dnpsim.CrossEffectModel.from_hz(offsets=[0.0, 145e6], omega1=10e3, D=100e3, omega_I=145e6,
                                            B=[[0.0], [1e5]], t1e=1.0, t2e=1e-5, t1n=100.0, t2n=1e-3,
                                            temperature=1.0, electron_larmor=100e9)
    engine = dnpsim.CrossEffectEngine(model, dnpsim.Lindblad(), temperature=1.0)
    result = engine.stationary()
    np.testing.assert_allclose(result.nuclear_polarization, by_spec.nuclear_polarization, rtol=1e-9)
    np.testing.assert_allclose(result.enhancement.nuclear, by_spec.enhancement.nuclear, rtol=1e-9)
    with pytest.raises(dnpsim.SpecError):
        dnpsim.CrossEffectEngine(model, dnpsim.KineticMonteCarlo(times=[0.0, 1.0])).stationary()
    build_up = dnpsim.CrossEffectEngine(model, dnpsim.ZeemanRates()).evolve([0.0, 10.0, 100.0])
    assert build_up.solution == "time_resolved" and build_up.times.tolist() == [0.0, 10.0, 100.0]


def test_make_model_names_bad_fields():
    bad = copy.deepcopy(TABLE)
    bad["couplings"] = {"distribution": "gaussian", "scale": "15 K"}
    with pytest.raises(dnpsim.SpecError) as info:
        dnpsim.make_model(bad)
    assert info.value.field == "model.couplings.scale"
    with pytest.raises(dnpsim.SpecError) as info:
        dnpsim.make_model({"kind": "cross_effect"})
    assert info.value.field == "model.kind"
