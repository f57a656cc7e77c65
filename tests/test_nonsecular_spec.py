"""Spec integration of the 2021 engine: method.kind = "nonsecular" / "hilbert"."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from dnpsim.errors import SpecError
import dnpsim
from dnpsim.spec import load_spec, resolve_spec


def run_spec(spec):
    return dnpsim.run(spec).to_dict()

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "nonsecular_point.toml"


def small_spec(kind="nonsecular", n=3):
    spec = load_spec(EXAMPLE)
    spec["model"]["n_electrons"] = n
    spec["method"] = {"kind": kind}
    return spec


def test_example_resolves_and_ties_ising_to_couplings():
    setup = resolve_spec(load_spec(EXAMPLE))
    np.testing.assert_array_equal(setup.ising, -4.0 * setup.couplings)


@pytest.mark.parametrize("solver", ["gmres", "bicgstab", "dense"])
def test_nonsecular_solvers_agree_with_each_other(solver):
    spec = small_spec()
    spec["method"].update({"solver": solver, "tol": 1e-11})
    ref = small_spec()
    ref["method"].update({"solver": "dense"})
    got = run_spec(spec)
    want = run_spec(ref)
    np.testing.assert_allclose(got["electron_polarization"], want["electron_polarization"], atol=1e-9)
    assert got["residual"] < 1e-9
    assert len(got["electron_polarization"]) == 3


def test_hilbert_runs_and_is_close_to_nonsecular_at_low_drive():
    spec = small_spec("hilbert")
    spec["environment"]["mw_amplitude"] = 0.0
    res = run_spec(spec)
    from dnpsim.units import TWO_PI, inverse_temperature

    p0 = -np.tanh(0.5 * inverse_temperature(12.0) * TWO_PI * 93.9e9)
    np.testing.assert_allclose(res["electron_polarization"], p0, atol=1e-4)
    # without drive the Hilbert state is Boltzmann: the fitted spin temperature is the lattice one
    assert res["spin_temperature"] == pytest.approx(12.0, rel=1e-6)
    assert abs(res["spin_temperature_field"]) < 1e-9 * 93.9e9  # Hz, fit tolerance relative to omega_e


def test_single_irradiated_spin_key():
    spec = small_spec()
    spec["environment"]["irradiated"] = 1
    res = run_spec(spec)
    spec_h = small_spec("hilbert")
    spec_h["environment"]["irradiated"] = 1
    assert len(run_spec(spec_h)["electron_polarization"]) == 3
    assert len(res["electron_polarization"]) == 3


@pytest.mark.parametrize("mutate,field", [
    (lambda s: s["environment"].pop("t_star"), "environment.t_star"),
    (lambda s: s["environment"].update(t1=-1.0), "environment.t1"),
    (lambda s: s["environment"].update(t_zero="1 K"), "environment.t_zero"),
    (lambda s: s["environment"].update(t1e=1.0), "environment.t1e"),
    (lambda s: s["environment"].update(irradiated=3), "environment.irradiated"),
    (lambda s: s["method"].update(solver="lu"), "method.solver"),
    (lambda s: s["method"].update(tol=2.0), "method.tol"),
    (lambda s: s["method"].update(restart=1), "method.restart"),
    (lambda s: s["method"].update(foo=1), "method.foo"),
    (lambda s: s["model"].update(nuclei={"larmor": 1e6, "hyperfine": [1e5] * 3}), "model.nuclei"),
    (lambda s: s["model"].update(n_electrons=13), "model.n_electrons"),
    (lambda s: s["method"].update(solver="dense") or s["model"].update(n_electrons=6), "method.solver"),
])
def test_bad_inputs_name_the_field(mutate, field):
    spec = small_spec()
    mutate(spec)
    with pytest.raises(SpecError) as err:
        resolve_spec(spec)
    assert err.value.field == field


def test_rate_equation_rejects_2021_keys():
    spec = small_spec()
    spec["method"] = {"kind": "rate_equation"}
    with pytest.raises(SpecError) as err:
        resolve_spec(spec)
    assert err.value.field in ("environment.t1", "environment.t_star", "environment.t_zero")


@pytest.mark.parametrize("kind", ["nonsecular", "hilbert"])
def test_run_group_equals_single_runs(kind):
    from dnpsim.api import run_points
    from dnpsim.spec import set_dotted

    spec = small_spec(kind)
    variants = [{"environment.mw_frequency": 93.8990e9}, {"environment.temperature": 1.2, "environment.t1": 160e-6,
                                                          "environment.t_star": 80e-6, "environment.t_zero": 1.6e-6}]
    grouped = [r.to_dict() for r in run_points(copy.deepcopy(spec), variants)]
    for variant, result in zip(variants, grouped):
        single_spec = copy.deepcopy(spec)
        for key, value in variant.items():
            single_spec = set_dotted(single_spec, key, value)
        single = run_spec(single_spec)
        np.testing.assert_allclose(result["electron_polarization"], single["electron_polarization"], atol=1e-9)
