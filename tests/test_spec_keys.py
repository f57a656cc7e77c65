"""Spec key names and resolved specs (issue 16).

* One name per meaning: the old names of :data:`dnpsim.spec.KEY_ALIASES` are still read,
  with a FutureWarning naming old -> new, give the same numbers as the new names, and
  errors about them name the key as the spec wrote it; giving both is refused naming
  the old key.  Look-alikes that are different quantities (the 2016 t1e/t2e, the 2021
  t1/t_star/t_zero) are not aliases.
* The resolved spec of every example (what ``Result.to_dict()["spec"]`` holds) has the
  new names, every default written out, numbers in SI units and no unit strings, and
  running it gives the same result bit for bit; so does :func:`dnpsim.spec.complete_spec`
  (the disorder kept as tables), sweeps included.
"""

from __future__ import annotations

import copy
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import dnpsim
from dnpsim.errors import SpecError
from dnpsim.methods import METHODS
from dnpsim.spec import (
    KEY_ALIASES,
    canonical_key,
    complete_spec,
    get_dotted,
    load_spec,
    resolve_spec,
    reuses_model,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NUMBER_FIRST = re.compile(r"^\s*[-+]?(\d|\.\d)")

DIPOLAR = {
    "model": {"kind": "dipolar_electrons", "electron_larmor": "93.9 GHz", "n_electrons": 3, "seed": 4,
              "offsets": {"distribution": "equally_spaced", "half_width": "54 MHz"},
              "couplings": {"distribution": "gaussian", "scale": "15 MHz"},
              "nuclei": {"larmor": "20 MHz", "hyperfine": {"distribution": "gaussian", "scale": "1 MHz"}}},
    "environment": {"temperature": "1.2 K", "mw_frequency": "93.88 GHz", "mw_amplitude": "25 kHz"},
}
ANDERSON = {
    "model": {"kind": "anderson", "L": 3, "hopping": 6.6e6, "electron_larmor": 93.9e9, "seed": 1,
              "onsite": {"distribution": "uniform", "width": "108 MHz"},
              "nuclei": {"larmor": 20e6, "hyperfine": 4.47e3, "per_electron": 1000}},
    "environment": {"temperature": 1.2, "mw_frequency": 93.86e9, "mw_amplitude": 25e3, "t1n": "2e4 s", "t2n": 2e-5},
}
CROSS = {
    "model": {"kind": "cross_effect", "offsets": [0.0, "145 MHz"], "electron_coupling": "100 kHz",
              "electron_larmor": "100 GHz",
              "nuclei": {"larmor": "145 MHz", "hyperfine_pseudo_secular": [[0.0], [1e5]]}},
    "environment": {"mw_amplitude": "10 kHz", "temperature": 1.0, "t1e": 1.0, "t2e": 1e-5, "t1n": 100.0,
                    "t2n": 1e-3},
    "method": {"kind": "lindblad"},
}


def _moved(spec: dict, new: str, old: str) -> dict:
    """``spec`` with the key ``new`` written under its old name ``old``."""
    out = copy.deepcopy(spec)
    value = get_dotted(out, new)
    node = out
    *path, last = new.split(".")
    for part in path:
        node = node[part]
    del node[last]
    node = out
    *path, last = old.split(".")
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value
    return out


def _same(a: dnpsim.Result, b: dnpsim.Result, spec: bool = True) -> None:
    """Bit-identical results (wall times aside)."""
    da, db = a.to_dict(), b.to_dict()
    for key in ("wall_time", "diag_time") + (() if spec else ("spec",)):
        da.pop(key, None), db.pop(key, None)
    assert da == db


# ------------------------------------------------------------------------ old names


OLD_NAMES = [
    ("model.nucleus", "model.nuclei", DIPOLAR),
    ("environment.electron_larmor", "model.electron_larmor", CROSS),
    ("model.nuclei.t1n", "environment.t1n", ANDERSON),
    ("model.nuclei.t2n", "environment.t2n", ANDERSON),
]


def test_the_alias_table_is_what_the_tests_cover():
    assert {(old, new) for old, new, _ in OLD_NAMES} == set(KEY_ALIASES.items())


@pytest.mark.parametrize("old, new, spec", OLD_NAMES, ids=[old for old, *_ in OLD_NAMES])
def test_old_name_is_read_with_a_future_warning_and_gives_the_same_numbers(old, new, spec):
    with pytest.warns(FutureWarning, match=re.escape(f"'{old}' -> '{new}'")):
        result = dnpsim.run(_moved(spec, new, old))
    _same(result, dnpsim.run(spec))  # the resolved spec too: it writes the new name
    assert get_dotted(result.parameters, new) is not None and get_dotted(result.parameters, old) is None


@pytest.mark.parametrize("old, new, spec", OLD_NAMES, ids=[old for old, *_ in OLD_NAMES])
def test_both_names_are_refused_naming_the_old_one(old, new, spec):
    both = _moved(spec, new, old)
    node = both
    *path, last = new.split(".")
    for part in path:
        node = node.setdefault(part, {})
    node[last] = get_dotted(spec, new)
    with pytest.raises(SpecError) as info:
        resolve_spec(both)
    assert info.value.field == old and new in info.value.message


ANDERSON_OLD = _moved(_moved(ANDERSON, "environment.t1n", "model.nuclei.t1n"), "environment.t2n", "model.nuclei.t2n")


@pytest.mark.parametrize("spec, key, bad, field", [
    (_moved(DIPOLAR, "model.nuclei", "model.nucleus"), "model.nucleus.larmor", "0.47 T", "model.nucleus.larmor"),
    (_moved(DIPOLAR, "model.nuclei", "model.nucleus"), "model.nucleus.hyperfine.scale", -1.0,
     "model.nucleus.hyperfine.scale"),
    (_moved(DIPOLAR, "model.nuclei", "model.nucleus"), "model.nucleus.spin", 1, "model.nucleus.spin"),
    (_moved(CROSS, "model.electron_larmor", "environment.electron_larmor"), "environment.electron_larmor", "3 s",
     "environment.electron_larmor"),
    (ANDERSON_OLD, "model.nuclei.t2n", "5 Hz", "model.nuclei.t2n"),
    (ANDERSON_OLD, "model.nuclei.t1n", 1e-6, "model.nuclei.t2n"),  # T2n = 2e-5 s > 2 T1n
])
def test_errors_name_the_key_as_the_spec_wrote_it(spec, key, bad, field):
    spec = copy.deepcopy(spec)
    node = spec
    *path, last = key.split(".")
    for part in path:
        node = node[part]
    node[last] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(SpecError) as info:
            resolve_spec(spec)
    assert info.value.field == field


def test_the_open_system_engine_refuses_the_thermometer_nucleus_under_either_name():
    spec = copy.deepcopy(DIPOLAR)
    spec["method"] = {"kind": "hilbert"}
    spec["environment"].update(t1=1.6e-6, t_star=0.16e-6, t_zero=0.16e-6)
    with pytest.raises(SpecError, match="no thermometer nucleus") as info:
        resolve_spec(spec)
    assert info.value.field == "model.nuclei"
    with pytest.warns(FutureWarning), pytest.raises(SpecError) as info:
        resolve_spec(_moved(spec, "model.nuclei", "model.nucleus"))
    assert info.value.field == "model.nucleus"


def test_old_names_in_make_model_and_in_reuses_model():
    table = _moved(DIPOLAR, "model.nuclei", "model.nucleus")["model"]
    with pytest.warns(FutureWarning, match="model.nucleus"):
        old = dnpsim.make_model(table)
    new = dnpsim.make_model(DIPOLAR["model"])
    assert old.nucleus.larmor == new.nucleus.larmor and np.array_equal(old.nucleus.hyperfine, new.nucleus.hyperfine)
    # sweep grouping asks reuses_model: an old key is judged as its new one
    assert canonical_key("model.nucleus.hyperfine.scale") == "model.nuclei.hyperfine.scale"
    assert canonical_key("model.nuclei.t1n") == "environment.t1n"
    assert reuses_model("model.nuclei.t1n", ANDERSON) and reuses_model("environment.t1n", ANDERSON)
    assert not reuses_model("model.nucleus.larmor", DIPOLAR)


def test_sweep_tasks_read_old_names_without_warning():
    """A sweep warns when it validates its points; its tasks (api.run_points, in every
    worker process) read old names quietly, variant keys included."""
    from dnpsim.api import run_points

    old = _moved(ANDERSON, "environment.t1n", "model.nuclei.t1n")
    variants = [{"model.nuclei.t1n": 3e4}, {"environment.mw_frequency": 93.87e9}]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        quiet = run_points(old, variants)
    loud = run_points(ANDERSON, [{"environment.t1n": 3e4}, {"environment.mw_frequency": 93.87e9}])
    for a, b in zip(quiet, loud):
        _same(a, b, spec=False)
    assert quiet[0].nuclear_polarization != quiet[1].nuclear_polarization


def test_2016_and_2021_relaxation_times_are_not_aliases():
    """T1e / T2e (2016: every bath transition, the microwave linewidth) and T_1, T*, T(0)
    (2021: one bath timescale per kind of gap) are different quantities: no alias maps
    one onto the other, and each method refuses the other's keys."""
    names = {"t1e", "t2e", "t1", "t_star", "t_zero"}
    assert not {key.rsplit(".", 1)[-1] for key in (*KEY_ALIASES, *KEY_ALIASES.values())} & names
    with pytest.raises(SpecError) as info:
        resolve_spec({**DIPOLAR, "environment": {**DIPOLAR["environment"], "t1": 1e-6}})
    assert info.value.field == "environment.t1"
    no_nucleus = {**DIPOLAR, "model": {k: v for k, v in DIPOLAR["model"].items() if k != "nuclei"},
                  "method": {"kind": "nonsecular"},
                  "environment": {**DIPOLAR["environment"], "t1": 1e-6, "t_star": 1e-7, "t_zero": 1e-7, "t2e": 1e-6}}
    with pytest.raises(SpecError) as info:
        resolve_spec(no_nucleus)
    assert info.value.field == "environment.t2e"


# ------------------------------------------------------------------- resolved specs


def _example(name: str) -> dict:
    """An example spec without its sweep, small enough for seconds (old names kept)."""
    spec = load_spec(EXAMPLES / name)
    spec.pop("sweep", None)
    kind = spec["model"]["kind"]
    if kind == "dipolar_electrons":
        spec["model"]["n_electrons"] = 3
    elif kind == "anderson":
        spec["model"]["L"] = 3
    if spec.get("method", {}).get("kind") == "kmc":
        spec["method"].update(trajectories=4, times=[0.0, 1.0])
        if isinstance(get_dotted(spec, "model.geometry.nuclear_positions"), dict):
            spec["model"]["geometry"]["nuclear_positions"]["n"] = 8
    return spec


def _swapped(name: str, method: dict) -> dict:
    spec = _example(name)
    spec["method"] = method
    return spec


SPECS = {name.removesuffix(".toml"): (lambda n=name: _example(n)) for name in
         sorted(p.name for p in EXAMPLES.glob("*.toml"))}
SPECS.update({
    "hilbert": lambda: _swapped("nonsecular_point.toml", {"kind": "hilbert"}),
    "lindblad_evolution": lambda: _swapped("cross_effect_e1e2n.toml", {"kind": "lindblad", "times": [0.0, 1.0]}),
    "zeeman_rates_steady": lambda: _swapped("cross_effect_pentagon.toml", {"kind": "zeeman_rates", "rates": "local"}),
})
#: The [environment] keys every resolved spec of a method holds (defaults written out).
ENVIRONMENT = {
    "rate_equation": {"temperature", "mw_frequency", "mw_amplitude", "t1e", "t2e"},
    "nonsecular": {"temperature", "mw_frequency", "mw_amplitude", "t1", "t_star", "t_zero"},
    "hilbert": {"temperature", "mw_frequency", "mw_amplitude", "t1", "t_star", "t_zero"},
    "free_fermion": {"temperature", "mw_frequency", "mw_amplitude", "t1e", "t2e", "t1n", "t2n"},
    "cross_effect": {"mw_amplitude", "t1e", "t2e", "t1n", "t2n"},
}


def _strings(value, where=""):
    """(dotted key, string) of every string in a nested table."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _strings(child, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _strings(child, f"{where}[{i}]")
    elif isinstance(value, str):
        yield where, value


def _check_written_out(resolved: dict, spec: dict) -> None:
    """No unit strings, the new key names, every default applied written out."""
    unit_strings = [(k, v) for k, v in _strings(resolved) if NUMBER_FIRST.match(v)
                    and not k.endswith(".species")]  # nuclide names ("1H", "13C") are not quantities
    assert not unit_strings, unit_strings
    for old in KEY_ALIASES:
        assert get_dotted(resolved, old) is None, old
    method = resolve_spec(spec).method
    options = {f for f in method.options() if getattr(method, f) is not None}
    assert resolved["method"]["kind"] == method.kind and set(resolved["method"]) == {"kind"} | options
    assert type(method)(**{k: v for k, v in resolved["method"].items() if k != "kind"}) == method
    expected = ENVIRONMENT.get(method.kind) or ENVIRONMENT[resolved["model"]["kind"]]
    assert expected <= set(resolved["environment"]), expected - set(resolved["environment"])
    for key, value in resolved["environment"].items():
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (key, value)


@pytest.mark.parametrize("name", list(SPECS))
def test_resolved_spec_is_complete_in_si_and_reruns_bit_for_bit(name):
    spec = SPECS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the examples may still use old names
        first = dnpsim.run(spec)
        completed = complete_spec(spec)
    resolved = first.to_dict()["spec"]
    _check_written_out(resolved, resolved)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the resolved spec uses the new names only
        again = dnpsim.run(resolved)
        _same(first, again)  # the spec of the rerun too: resolving is idempotent
        # the completed spec (disorder as tables) is a valid spec with the same numbers
        _check_written_out(completed, completed)
        _same(first, dnpsim.run(completed))
    assert completed["model"].get("seed") == spec["model"].get("seed")
    for key in ("offsets", "couplings", "onsite"):
        if isinstance(spec["model"].get(key), dict):
            assert completed["model"][key]["distribution"] == spec["model"][key]["distribution"]
            assert isinstance(resolved["model"][key], list)  # the run's own draw is written out
    if name == "cross_effect_e1e2n":  # its spec gives unit strings ("10 kHz", "100 GHz")
        assert resolved["environment"]["mw_amplitude"] == 10e3 and resolved["model"]["electron_larmor"] == 100e9
    if name == "single_point":  # t1e, t2e and the method options from the 2016 defaults
        assert resolved["environment"]["t2e"] == 1e-6 and resolved["method"]["solver"] == "auto"


def test_default_relaxation_times_and_method_are_written_out():
    resolved = resolve_spec(DIPOLAR).resolved_spec()
    assert resolved["environment"] == {"temperature": 1.2, "mw_frequency": 93.88e9, "mw_amplitude": 25e3,
                                       "t1e": 1.0, "t2e": 1e-6}
    assert resolved["method"] == METHODS["rate_equation"]().to_table()
    anderson = resolve_spec(ANDERSON).resolved_spec()
    assert anderson["environment"] == {"temperature": 1.2, "mw_frequency": 93.86e9, "mw_amplitude": 25e3,
                                   "t1e": 1.0, "t2e": 1e-6, "t1n": 2e4, "t2n": 2e-5}
    assert anderson["method"] == {"kind": "free_fermion", "formula": "eq22", "surrogate": "anderson"}


def test_completed_sweep_reruns_bit_for_bit():
    """A sweep's completed spec (what a sweep can store: defaults written out, SI
    numbers, the sweep's entries under their new names) runs the same sweep."""
    spec = load_spec(EXAMPLES / "dnp_profile.toml")
    spec["model"]["n_electrons"] = 3
    spec["sweep"] = {"environment": {"mw_frequency": {"start": "93.86 GHz", "stop": "93.90 GHz", "num": 3}},
                     "model.couplings.scale": ["2 MHz", 15e6], "realizations": 2, "seed": 3,
                     "dims": {"model.couplings.scale": "coupling"}}
    spec = _moved(spec, "model.nuclei", "model.nucleus") if "nuclei" in spec["model"] else spec
    spec["sweep"]["model.nucleus.larmor"] = [20e6]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        completed = complete_spec(spec)
        first = dnpsim.sweep(spec, progress=False)
    assert completed["sweep"] == {"environment.mw_frequency": {"start": 93.86e9, "stop": 93.90e9, "num": 3},
                                  "model.couplings.scale": [2e6, 15e6], "model.nuclei.larmor": [20e6],
                                  "realizations": 2, "seed": 3, "dims": {"model.couplings.scale": "coupling"}}
    assert completed["model"]["seed"] == spec["model"]["seed"] and "nucleus" not in completed["model"]
    assert completed["model"]["couplings"] == {"distribution": "gaussian", "scale": 15e6}
    assert completed["environment"]["t1e"] == 1.0 and completed["method"]["kind"] == "rate_equation"
    assert not [v for _, v in _strings(completed) if NUMBER_FIRST.match(v)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        again = dnpsim.sweep(completed, progress=False)
    assert set(again.data_vars) == set(first.data_vars)
    for name in set(first.data_vars) - {"wall_time", "diag_time"}:
        np.testing.assert_array_equal(again[name].values, first[name].values, err_msg=name)
    for name in first.coords:
        np.testing.assert_array_equal(again[name].values, first[name].values, err_msg=name)


def test_completed_spec_of_a_sweep_whose_base_lacks_a_swept_key():
    spec = copy.deepcopy(DIPOLAR)
    del spec["environment"]["mw_frequency"]  # only the sweep sets it
    spec["sweep"] = {"environment.mw_frequency": ["93.87 GHz", 93.88e9]}
    completed = complete_spec(spec)
    assert completed["environment"]["mw_frequency"] == 93.87e9  # the first grid value
    assert completed["sweep"] == {"environment.mw_frequency": [93.87e9, 93.88e9]}
    with pytest.raises(SpecError) as info:
        complete_spec({k: v for k, v in spec.items() if k != "sweep"})
    assert info.value.field == "environment.mw_frequency"


def test_completed_spec_of_a_sweep_over_method_kind_keeps_method_and_environment_as_given():
    spec = copy.deepcopy(DIPOLAR)
    del spec["model"]["nuclei"]
    spec["environment"].update(t1="1.6 us", t_star=0.16e-6, t_zero=0.16e-6)
    spec["method"] = {"kind": "hilbert"}
    spec["sweep"] = {"method.kind": ["hilbert", "nonsecular"]}
    completed = complete_spec(spec)
    assert completed["method"] == {"kind": "hilbert"} and completed["environment"]["t1"] == 1.6e-6
    assert "t1e" not in completed["environment"]
    for kind in ("hilbert", "nonsecular"):
        resolve_spec({**{k: v for k, v in completed.items() if k != "sweep"}, "method": {"kind": kind}})
