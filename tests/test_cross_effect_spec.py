"""The ``cross_effect`` spec kind: keys, results, bad input (one SpecError naming the field)."""

import copy

import numpy as np
import pytest

from dnpsim.errors import SpecError
import dnpsim
from dnpsim.spec import load_spec, resolve_spec


def run_spec(spec):
    return dnpsim.run(spec).to_dict()

BASE = {
    "model": {"kind": "cross_effect", "offsets": [0.0, "145 MHz"], "electron_coupling": "100 kHz",
              "electron_larmor": "100 GHz",
              "nuclei": {"larmor": "145 MHz", "hyperfine_pseudo_secular": [[0.0], [1e5]]}},
    "environment": {"mw_amplitude": "10 kHz", "temperature": 1.0, "t1e": 1.0, "t2e": 1e-5, "t1n": 100.0,
                    "t2n": 1e-3},
    "method": {"kind": "lindblad"},
}


def with_(key, value):
    spec = copy.deepcopy(BASE)
    node = spec
    parts = key.split(".")
    for part in parts[:-1]:
        node = node[part]
    if value is None:
        del node[parts[-1]]
    else:
        node[parts[-1]] = value
    return spec


def test_lindblad_and_zeeman_rates_agree_through_the_spec():
    full = run_spec(BASE)
    rates = run_spec(with_("method", {"kind": "zeeman_rates"}))
    assert full["electron_polarization"][0] == pytest.approx(rates["electron_polarization"][0], abs=0.02)
    assert full["nuclear_polarization"][0] == pytest.approx(rates["nuclear_polarization"][0], abs=0.02)
    assert 0.7 < full["nuclear_polarization"][0] < 0.9  # CE enhancement of Fig. 2(a) at D = 100 kHz
    assert full["residual"] < 1e-12
    model = resolve_spec(BASE).model()
    assert model.p == pytest.approx(np.tanh(6.62607015e-34 * 100e9 / (2 * 1.380649e-23 * 1.0)))
    assert full["spec"]["model"]["nuclei"]["n"] == 1


def test_time_evolution_and_kmc_results():
    times = {"start": 0.0, "stop": 100.0, "num": 6}
    rates = run_spec(with_("method", {"kind": "zeeman_rates", "times": times, "rates": "local"}))
    kmc = run_spec(with_("method", {"kind": "kmc", "times": times, "trajectories": 400, "seed": 2}))
    assert kmc["solution"] == "time_resolved" and kmc["residual"] is None
    assert kmc["spec"]["method"]["trajectories"] == 400 and kmc["spec"]["method"]["seed"] == 2
    assert len(kmc["nuclear_polarization_t"]) == 6
    assert kmc["nuclear_polarization"][0] == pytest.approx(rates["nuclear_polarization"][0],
                                                           abs=5 * kmc["nuclear_polarization_stderr"][0] + 0.03)
    assert rates["build_up_time"] > 0 and 0 < rates["build_up_enhancement"] <= 1


def test_geometry_spec_draws_and_writes_out_couplings():
    spec = with_("model", {"kind": "cross_effect", "offsets": [0.0, 145e6], "seed": 3, "electron_larmor": 100e9,
                           "nuclei": {"larmor": 145e6},
                           "geometry": {"electron_positions": [[-3.2e-9, 0, 0], [3.2e-9, 0, 0]],
                                        "nuclear_positions": {"distribution": "random_sphere", "n": 2,
                                                              "radius": 4e-9, "min_distance": 0.5e-9}}})
    setup = resolve_spec(spec)
    model = setup.model()
    assert model.n_nuclei == 2
    assert model.D / (2 * np.pi) == pytest.approx(-26.0e6 * 1e-27 / (6.4e-9) ** 3 * -1, rel=0.01)
    again = resolve_spec({**spec, **setup.resolved_spec()}).model()
    assert np.allclose(again.A, model.A) and np.allclose(again.B, model.B) and again.D == pytest.approx(model.D)
    assert np.any(model.A != 0)
    # secular_hyperfine = false drops A_jk only (Fig. 2(d, e) choice), and is written out
    spec["model"]["geometry"]["secular_hyperfine"] = False
    no_secular = resolve_spec(spec)
    assert np.all(no_secular.model().A == 0)
    assert np.allclose(no_secular.model().B, model.B) and no_secular.model().D == pytest.approx(model.D)
    assert not np.any(no_secular.resolved_spec()["model"]["nuclei"]["hyperfine_secular"])  # written out as zeros
    spec["model"]["geometry"]["secular_hyperfine"] = "no"
    with pytest.raises(SpecError) as info:
        resolve_spec(spec)
    assert info.value.field == "model.geometry.secular_hyperfine"


def test_example_specs_resolve():
    for name in ("e1e2n", "pentagon", "kmc_geometry"):
        resolve_spec(load_spec(f"examples/cross_effect_{name}.toml"))


@pytest.mark.parametrize("key,value,field", [
    ("model.offsets", [0.0], "model.offsets"),
    ("model.electron_coupling", None, "model.electron_coupling"),
    ("model.nuclei.larmor", -1.0, "model.nuclei.larmor"),
    ("model.nuclei.hyperfine_pseudo_secular", [[0.0, 1.0], [1e5]], "model.nuclei.hyperfine_pseudo_secular"),
    ("model.nuclei.dipolar", [[1.0]], "model.nuclei.dipolar[0][0]"),
    ("model.bogus", 1, "model.bogus"),
    ("environment.mw_amplitude", -5.0, "environment.mw_amplitude"),
    ("environment.t2e", "-1 us", "environment.t2e"),
    ("environment.t1n", None, "environment.t1n"),
    ("environment.electron_polarization", 1.5, "environment.temperature"),
    ("method.kind", "nonsecular", "method.kind"),
    ("method.times", [2.0, 1.0], "method.times"),
    ("method.trajectories", 10, "method.trajectories"),
])
def test_bad_input_names_the_field(key, value, field):
    spec = with_(key, value)
    with pytest.raises(SpecError) as info:
        resolve_spec(spec)
    assert info.value.field == field


def test_bad_input_kmc_and_sizes():
    with pytest.raises(SpecError) as info:
        resolve_spec(with_("method", {"kind": "kmc"}))
    assert info.value.field == "method.times"
    with pytest.raises(SpecError) as info:  # the kmc has one kernel: "algorithm" is no key
        resolve_spec(with_("method", {"kind": "kmc", "times": [0.0, 1.0], "algorithm": "tree"}))
    assert info.value.field == "method.algorithm" and "unknown key" in info.value.message
    big = with_("model.nuclei", {"larmor": 145e6, "n": 5})
    with pytest.raises(SpecError) as info:
        resolve_spec(big)
    assert info.value.field == "model.nuclei.n"  # the key that sets the size
    with pytest.raises(SpecError) as info:
        resolve_spec(with_("environment.electron_polarization", 1.2) | {"environment": {
            **{k: v for k, v in BASE["environment"].items() if k != "temperature"},
            "electron_polarization": 1.2}})
    assert info.value.field == "environment.electron_polarization"


def test_no_build_up_without_microwaves_reports_no_build_up_time():
    """A curve that does not move has no build-up time: NaN (null in the JSON), not the
    tau of a fit to round-off."""
    import math
    import tomllib
    from pathlib import Path

    import dnpsim

    spec = tomllib.loads((Path(__file__).resolve().parents[1] / "examples" / "cross_effect_e1e2n.toml").read_text())
    spec["method"]["times"] = {"start": 0.0, "stop": 100.0, "num": 11}
    driven = dnpsim.run(spec)
    assert driven.build_up_time > 0 and math.isfinite(driven.build_up_time)
    spec["environment"]["mw_amplitude"] = 0.0
    result = dnpsim.run(spec)
    assert math.isnan(result.build_up_time) and math.isnan(result.build_up_enhancement)
    assert result.to_dict()["build_up_time"] is None
