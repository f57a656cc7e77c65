"""Issue 17 (sample inputs): the static field ``model.field``, nuclear ``species``,
the sign of gamma, ``environment.mw_field`` and the absolute polarization in percent."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dnpsim
from dnpsim.errors import SpecError
from dnpsim.result import boltzmann_polarization
from dnpsim.sample.nuclei import (GYROMAGNETIC_RATIOS, SOURCES, gamma_sign, gyromagnetic_ratio, known_species,
                                  nuclear_larmor_hz, signed_larmor_hz)
from dnpsim.spec import resolve_spec
from dnpsim.specs.readers import electron_larmor_hz
from dnpsim.units import G_FREE_ELECTRON, H_PLANCK, HBAR, K_B, MU_B, TWO_PI


def test_larmor_frequencies_at_3_35_tesla():
    assert round(electron_larmor_hz({"field": "3.35 T"}, 2.0023) / 1e9, 2) == 93.88
    assert round(electron_larmor_hz({"field": 3.35}) / 1e9, 2) == 93.88  # free-electron g
    assert round(nuclear_larmor_hz("1H", 3.35) / 1e6, 2) == 142.63
    assert round(nuclear_larmor_hz("13C", 3.35) / 1e6, 2) == 35.87


def test_species_table():
    for name in ("1H", "2H", "13C", "14N", "15N", "17O", "19F", "29Si", "31P", "89Y"):
        assert name in GYROMAGNETIC_RATIOS and SOURCES[name]
    negative = {name for name, gamma in GYROMAGNETIC_RATIOS.items() if gamma < 0}
    assert {"15N", "17O", "29Si", "89Y"} <= negative and not {"1H", "2H", "13C", "19F", "31P"} & negative
    assert gyromagnetic_ratio("1H") == pytest.approx(2.6752218744e8, rel=1e-8)  # CODATA (2018: ...744, 2022: ...708)
    assert GYROMAGNETIC_RATIOS["1H"] / GYROMAGNETIC_RATIOS["2H"] == pytest.approx(6.514, rel=1e-3)
    assert gamma_sign("15N") == -1.0 and gamma_sign("13C") == 1.0 and gamma_sign(None) == 1.0
    assert signed_larmor_hz("15N", 3.35) == -nuclear_larmor_hz("15N", 3.35) < 0
    with pytest.raises(SpecError, match="model.nuclei.species.*known: 1H, 2H"):
        gyromagnetic_ratio("1X")
    assert known_species()[0] == "1H"


def _spec_2016(species=None, amplitude="0 kHz", **environment):
    nuclei = {"hyperfine": [1e6, -0.6e6]}
    if species is None:
        nuclei["larmor"] = "20 MHz"
    else:
        nuclei["species"] = species
    env = {"temperature": "1.2 K", "mw_frequency": "93.88 GHz", "mw_amplitude": amplitude, **environment}
    if "mw_field" in environment:
        del env["mw_amplitude"]
    return {"model": {"kind": "dipolar_electrons", "field": "3.35 T", "offsets": [-3e6, 2e6],
                      "couplings": [[0.0, 1.5e6], [1.5e6, 0.0]], "nuclei": nuclei},
            "environment": env}


def test_2016_point_with_field_and_species_runs_and_resolves():
    result = dnpsim.run(_spec_2016("13C", "25 kHz"))
    model = result.parameters["model"]
    assert model["field"] == 3.35 and model["nuclei"]["species"] == "13C"
    assert model["electron_larmor"] == G_FREE_ELECTRON * MU_B * 3.35 / H_PLANCK
    assert model["nuclei"]["larmor"] == nuclear_larmor_hz("13C", 3.35)
    again = dnpsim.run(result.parameters)  # the resolved spec is a valid spec: same numbers
    assert again.nuclear_polarization == result.nuclear_polarization
    assert result.nuclear_polarization_percent == 100 * result.nuclear_polarization
    out = result.to_dict()
    assert out["nuclear_polarization_percent"] == 100 * result.nuclear_polarization
    assert out["units"]["nuclear_polarization_percent"] == "%"


def _gibbs_nuclear_polarization(model, temperature):
    """2 <I_z> in exp(-beta H) of the 2016 Hamiltonian built here from scratch, with the
    nuclear Zeeman term -gamma B0 I_z (signed omega_n)."""
    sz, sp = np.diag([0.5, -0.5]), np.array([[0.0, 1.0], [0.0, 0.0]])
    sx, one = np.array([[0.0, 0.5], [0.5, 0.0]]), np.eye(2)

    def op(a, site):  # sites 0, 1: electrons; 2: nucleus
        mats = [one, one, one]
        mats[site] = a
        return np.kron(np.kron(mats[0], mats[1]), mats[2])

    omega_e, delta, u = model.omega_e, model.Delta, model.U
    h = sum((omega_e + delta[i]) * op(sz, i) for i in range(2))
    h = h + u[0, 1] * (op(sp, 0) @ op(sp.T, 1) + op(sp.T, 0) @ op(sp, 1))
    h = h - model.nucleus.omega_n * op(sz, 2) + sum(model.nucleus.D[i] * op(sz, i) @ op(sx, 2) for i in range(2))
    energies, vectors = np.linalg.eigh(h)
    weights = np.exp(-HBAR / (K_B * temperature) * (energies - energies[0]))
    iz = np.einsum("an,ab,bn->n", vectors, op(sz, 2), vectors)
    return 2 * float(weights @ iz / weights.sum())


@pytest.mark.parametrize("species", ["13C", "15N", "29Si"])
def test_2016_thermal_sign_follows_gamma(species):
    setup = resolve_spec(_spec_2016(species))
    gamma = gyromagnetic_ratio(species)
    assert setup.model().nucleus.larmor == pytest.approx(gamma * 3.35 / TWO_PI, rel=1e-12)  # signed omega_n
    result = dnpsim.run(_spec_2016(species))
    pn = result.nuclear_polarization
    assert math.copysign(1.0, pn) == math.copysign(1.0, gamma)
    assert pn == pytest.approx(_gibbs_nuclear_polarization(setup.model(), 1.2), rel=1e-6)
    p_b = boltzmann_polarization(setup.model().nucleus.larmor, 1.2, "nuclear")
    assert math.copysign(1.0, p_b) == math.copysign(1.0, gamma)
    # enhancement 1 up to the hyperfine mixing of the thermometer
    assert result.enhancement.nuclear == pytest.approx(1.0, abs=1e-2)
    assert result.enhancement.nuclear > 0


def test_2016_negative_gamma_is_the_mirror_of_positive_gamma():
    """H(-omega_n) = R H(omega_n) R^-1 with R a pi rotation of the nucleus about x
    (I_z -> -I_z, I_x -> I_x), and the bath and microwaves act on the electrons only:
    P_n flips sign, the enhancement does not."""
    b0 = 3.35
    larmor = nuclear_larmor_hz("15N", b0)
    plus = _spec_2016(None, "25 kHz")
    plus["model"]["nuclei"]["larmor"] = larmor
    minus = _spec_2016("15N", "25 kHz")
    r_plus, r_minus = dnpsim.run(plus), dnpsim.run(minus)
    assert r_minus.nuclear_polarization == pytest.approx(-r_plus.nuclear_polarization, rel=1e-7)
    assert r_minus.enhancement.nuclear == pytest.approx(r_plus.enhancement.nuclear, rel=1e-7)
    np.testing.assert_allclose(r_minus.electron_polarization, r_plus.electron_polarization, rtol=1e-9)


def test_mw_field_is_mw_amplitude():
    b1 = 0.9e-6
    amplitude = G_FREE_ELECTRON * MU_B * b1 / H_PLANCK
    by_field = dnpsim.run(_spec_2016("1H", mw_field="0.9 uT"))
    by_amplitude = dnpsim.run(_spec_2016("1H", amplitude))
    assert by_field.parameters["environment"]["mw_amplitude"] == amplitude
    assert by_field.nuclear_polarization == by_amplitude.nuclear_polarization
    assert by_field.to_dict()["nuclear_polarization"] == by_amplitude.to_dict()["nuclear_polarization"]
    assert round(amplitude / 1e3, 2) == 25.22


def _anderson(species=None, amplitude="25 kHz"):
    nuclei = {"hyperfine": "4.47 kHz", "per_electron": 1e4}
    if species is None:
        nuclei["larmor"] = nuclear_larmor_hz("15N", 3.35)
    else:
        nuclei["species"] = species
    return {"model": {"kind": "anderson", "L": 2, "hopping": "6 MHz", "field": "3.35 T",
                      "onsite": {"distribution": "uniform", "width": "100 MHz"}, "seed": 3, "nuclei": nuclei},
            "environment": {"temperature": "1.2 K", "mw_frequency": "93.87 GHz", "mw_amplitude": amplitude}}


def test_anderson_negative_gamma_flips_polarization_not_enhancement():
    plus, minus = dnpsim.run(_anderson()), dnpsim.run(_anderson("15N"))
    assert minus.parameters["model"]["nuclei"]["species"] == "15N"
    assert minus.parameters["model"]["nuclei"]["larmor"] == plus.parameters["model"]["nuclei"]["larmor"]
    assert plus.nuclear_polarization != 0
    assert minus.nuclear_polarization == -plus.nuclear_polarization
    assert minus.enhancement.nuclear == pytest.approx(plus.enhancement.nuclear, rel=1e-12)
    assert dnpsim.run(minus.parameters).nuclear_polarization == minus.nuclear_polarization


def test_cross_effect_species_and_field():
    spec = {"model": {"kind": "cross_effect", "field": "3.35 T", "offsets": [0.0, "142.63 MHz"],
                      "electron_coupling": "100 kHz",
                      "nuclei": {"species": "1H", "hyperfine_pseudo_secular": [[0.0], [1e5]]}},
            "environment": {"mw_field": "0.36 uT", "temperature": 1.0, "t1e": 1.0, "t2e": 1e-5, "t1n": 100.0,
                            "t2n": 1e-3},
            "method": {"kind": "lindblad"}}
    resolved = resolve_spec(spec).resolved_spec()
    assert resolved["model"]["nuclei"]["larmor"] == nuclear_larmor_hz("1H", 3.35)
    assert resolved["model"]["nuclei"]["species"] == "1H" and resolved["model"]["field"] == 3.35
    assert resolved["model"]["electron_larmor"] == electron_larmor_hz({"field": 3.35})
    assert "mw_field" not in resolved["environment"] and resolved["environment"]["mw_amplitude"] > 0
    # A negative-gamma species is handled (tests/test_cross_effect_negative_gamma.py):
    # the larmor written out is |gamma| B0 / 2pi, the sign stays with the species.
    spec["model"]["nuclei"]["species"] = "15N"
    resolved = resolve_spec(spec).resolved_spec()
    assert resolved["model"]["nuclei"]["larmor"] == nuclear_larmor_hz("15N", 3.35) > 0
    assert resolved["model"]["nuclei"]["species"] == "15N"


def test_fields_in_gauss_are_read_as_tesla():
    """EPR writes fields in gauss: G, Gs, kG, mG are 1e-4 T in the shared registry
    (pint alone reads G as the gravitational constant)."""
    from dnpsim.units import parse_quantity

    assert parse_quantity("33500 G", "magnetic_field") == pytest.approx(3.35)
    assert parse_quantity("33.5 kG", "magnetic_field") == pytest.approx(3.35)
    assert parse_quantity("2 Gs", "magnetic_field") == pytest.approx(2e-4)
    spec = _spec_2016("1H")
    spec["model"]["field"] = "33500 G"
    assert resolve_spec(spec).resolved_spec()["model"]["field"] == pytest.approx(3.35)
