"""The one Result contract, checked for every engine through ``dnpsim.run`` (in the
spirit of dynamiqs' shared solver testers): fields, ranges, the residual definition,
enhancements against independently computed Boltzmann polarizations, the JSON of
``dnpsim run``, the xarray round trip, and the signs without microwaves."""

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

import dnpsim
from dnpsim.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
H = 6.62607015e-34
K_B = 1.380649e-23


def _load(name, **sections):
    spec = dnpsim.load_spec(EXAMPLES / name)
    for section, values in sections.items():
        spec[section].update(values)
    return spec


def small_specs():
    """(id, spec) for every (model.kind, method.kind) runner, small enough for seconds."""
    dipolar = _load("single_point.toml", model={"n_electrons": 4})
    nonsecular = _load("nonsecular_point.toml", model={"n_electrons": 3})
    hilbert = copy.deepcopy(nonsecular)
    hilbert["method"] = {"kind": "hilbert"}
    anderson = _load("anderson_point.toml", model={"L": 3})
    lindblad = _load("cross_effect_e1e2n.toml")
    rates = copy.deepcopy(lindblad)
    rates["method"] = {"kind": "zeeman_rates"}
    rates_t = copy.deepcopy(lindblad)
    rates_t["method"] = {"kind": "zeeman_rates", "times": {"start": 0, "stop": 100, "num": 5}}
    lindblad_t = copy.deepcopy(lindblad)
    lindblad_t["method"] = {"kind": "lindblad", "times": [0.0, 1.0, 10.0]}
    kmc = copy.deepcopy(lindblad)
    kmc["method"] = {"kind": "kmc", "times": {"start": 0, "stop": 50, "num": 4}, "trajectories": 50, "seed": 3}
    return [("rate_equation", dipolar), ("nonsecular", nonsecular), ("hilbert", hilbert),
            ("free_fermion", anderson), ("lindblad", lindblad), ("lindblad_t", lindblad_t),
            ("zeeman_rates", rates), ("zeeman_rates_t", rates_t), ("kmc", kmc)]


SPECS = small_specs()
IDS = [name for name, _ in SPECS]


def _boltzmann(spec):
    """(electron, nuclear) Boltzmann polarizations from the spec alone, written here
    without the package: -tanh(h nu_e / 2 k T) and +tanh(h nu_n / 2 k T)."""
    kind = spec["model"]["kind"]
    env = spec["environment"]
    if kind == "cross_effect":
        t, nu_e, nu_n = 1.0, 100e9, 145e6
    elif kind == "anderson":
        t, nu_e, nu_n = env["temperature"], spec["model"]["electron_larmor"], spec["model"]["nuclei"]["larmor"]
    else:
        t = float(str(env["temperature"]).split()[0])
        nu_e = float(str(spec["model"]["electron_larmor"]).replace(" GHz", "e9"))
        nu_n = 20e6 if {"nucleus", "nuclei"} & set(spec["model"]) else None
    pe = -math.tanh(H * nu_e / (2 * K_B * t))
    pn = None if nu_n is None else math.tanh(H * nu_n / (2 * K_B * t))
    return pe, pn


@pytest.fixture(scope="module")
def results():
    return {name: dnpsim.run(spec) for name, spec in SPECS}


@pytest.mark.parametrize("name", IDS)
def test_result_fields_and_ranges(results, name):
    spec = dict(SPECS)[name]
    r = results[name]
    assert isinstance(r, dnpsim.Result)
    assert r.model == spec["model"]["kind"] and r.method == spec["method"]["kind"]
    assert r.solution in ("stationary", "time_resolved", "closed_form")
    pe = r.electron_polarization
    assert pe.ndim == 1 and pe.size >= 1 and np.all(np.abs(pe) <= 1 + 1e-12)
    pn = r.nuclear_polarization
    if pn is not None:
        assert np.all(np.abs(pn) <= 1 + 1e-12)
    assert r.wall_time > 0 and r.dnpsim_version == dnpsim.__version__ and r.git_revision
    # the resolved spec reruns to the same numbers
    assert r.parameters["model"]["kind"] == spec["model"]["kind"]
    with pytest.raises(AttributeError, match="no field or extra"):
        r.not_a_quantity
    with pytest.raises(Exception):
        r.residual = 0.0  # frozen


@pytest.mark.parametrize("name", IDS)
def test_residual_has_one_meaning(results, name):
    """Stationary results carry the scale-free residual (below the method's tol);
    time-resolved and closed-form results say what they are and carry none."""
    r = results[name]
    if r.solution == "stationary":
        tol = dnpsim.methods.METHODS[r.method]().tol if r.method != "kmc" else None
        assert isinstance(r.residual, float) and 0.0 <= r.residual < tol
    else:
        assert r.residual is None
        assert r.to_dict()["residual"] is None
    if r.solution == "time_resolved":
        t = r.times
        assert t.ndim == 1 and t.size == r.nuclear_polarization_t.shape[0] == r.electron_polarization_t.shape[0]
        np.testing.assert_array_equal(r.nuclear_polarization_t[-1], r.nuclear_polarization)


@pytest.mark.parametrize("name", IDS)
def test_enhancement_is_polarization_over_boltzmann(results, name):
    spec = dict(SPECS)[name]
    r = results[name]
    pe_b, pn_b = _boltzmann(spec)
    np.testing.assert_allclose(r.enhancement.electron, r.electron_polarization / pe_b, rtol=1e-9)
    if r.nuclear_polarization is None:
        assert r.enhancement.nuclear is None
    else:
        np.testing.assert_allclose(r.enhancement.nuclear, np.asarray(r.nuclear_polarization) / pn_b, rtol=1e-9)


@pytest.mark.parametrize("name", IDS)
def test_xarray_round_trip(results, name, tmp_path):
    import xarray as xr

    r = results[name]
    ds = r.to_xarray()
    assert ds["electron_polarization"].attrs["units"] == "1"
    assert ds["wall_time"].attrs["units"] == "s"
    back = dnpsim.Result.from_xarray(ds)
    np.testing.assert_equal(back.to_dict(), r.to_dict())
    ds.to_netcdf(tmp_path / "r.nc", engine="h5netcdf")
    with xr.open_dataset(tmp_path / "r.nc", engine="h5netcdf") as loaded:
        again = dnpsim.Result.from_xarray(loaded.load())
    np.testing.assert_equal(again.to_dict(), r.to_dict())


@pytest.mark.parametrize("name", ["rate_equation", "free_fermion", "kmc", "lindblad_t"])
def test_to_dict_is_the_json_of_dnpsim_run(name, tmp_path):
    """`dnpsim run` writes exactly Result.to_dict() (numbers identical; only the wall
    and diagonalization times of the two runs differ)."""
    spec = dict(SPECS)[name]
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert main(["run", str(path), "-o", str(tmp_path / "r.json"), "-q"]) == 0
    written = json.loads((tmp_path / "r.json").read_text())
    expected = dnpsim.run(spec).to_dict()
    for d in (written, expected):  # timings of the two runs
        d.pop("wall_time")
        d.pop("diag_time", None)
    assert set(written) == set(expected)
    np.testing.assert_equal(written, expected)


@pytest.mark.parametrize("name", IDS)
def test_no_microwaves_signs(name):
    """Without microwaves electrons polarize down (P < 0) and a positive-gamma nucleus
    up (P >= 0, up to round-off where a model relaxes it to zero), in every engine."""
    spec = copy.deepcopy(dict(SPECS)[name])
    spec["environment"]["mw_amplitude"] = 0.0
    if name == "kmc":  # no build-up to fit: the engine says so
        with pytest.warns(UserWarning, match="does not rise above its statistical noise"):
            r = dnpsim.run(spec)
        assert np.isnan(r.build_up_time)
    else:
        r = dnpsim.run(spec)
    assert np.all(r.electron_polarization < 0)
    # round-off of the solve (the time evolution keeps the thermal start to round-off,
    # solvers.propagation.propagate_conserving)
    roundoff = 1e-12
    if r.nuclear_polarization_stderr is not None:  # kMC: within 4 standard errors
        roundoff = 4 * np.asarray(r.nuclear_polarization_stderr)
        assert np.all(roundoff > 0)
    if r.nuclear_polarization is not None:
        assert np.all(np.asarray(r.nuclear_polarization) >= -roundoff)


def test_spin_temperature_engine_nuclear_enhancement():
    """2016 engine, Table I parameters (N = 6): without microwaves the thermometer is at
    the lattice temperature up to its hyperfine mixing (enhancement 1 within 1e-3); with
    microwaves the enhancement is P_n / tanh(beta omega_n / 2)."""
    spec = _load("single_point.toml", model={"n_electrons": 6})
    off = copy.deepcopy(spec)
    off["environment"]["mw_amplitude"] = 0.0
    r0 = dnpsim.run(off)
    assert abs(r0.enhancement.nuclear - 1.0) < 1e-3
    np.testing.assert_allclose(r0.enhancement.electron, 1.0, atol=1e-3)
    r = dnpsim.run(spec)
    assert r.enhancement.nuclear == pytest.approx(r.nuclear_polarization / math.tanh(H * 20e6 / (2 * K_B * 1.2)),
                                                  rel=1e-12)
    assert abs(r.enhancement.nuclear) > 10


def test_run_refuses_a_sweep_and_sweep_needs_one():
    spec = dict(SPECS)["free_fermion"]
    with pytest.raises(dnpsim.SpecError) as info:
        dnpsim.run({**spec, "sweep": {"environment.temperature": [1.2, 2.0]}})
    assert info.value.field == "sweep"
    with pytest.raises(dnpsim.SpecError) as info:
        dnpsim.sweep(spec)
    assert info.value.field == "sweep"


def test_sweep_returns_a_dataset_in_memory_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = copy.deepcopy(dict(SPECS)["rate_equation"])
    spec["sweep"] = {"environment.mw_frequency": {"start": "93.86 GHz", "stop": "93.90 GHz", "num": 3},
                     "realizations": 2, "seed": 5}
    ds = dnpsim.sweep(spec, progress=False)
    assert list(tmp_path.iterdir()) == []
    assert ds.sizes["mw_frequency"] == 3 and ds.sizes["realization"] == 2 and ds.sizes["electron"] == 4
    assert ds["mw_frequency"].attrs["units"] == "Hz"
    assert ds["nuclear_polarization"].attrs["units"] == "1"
    assert "nuclear_enhancement" in ds and "offsets" in ds
    # a sweep point equals the single run of the same realization
    point = copy.deepcopy(spec)
    del point["sweep"]
    point["environment"]["mw_frequency"] = float(ds["mw_frequency"][1])
    point["model"]["seed"] = int(ds["realization_seed"][1])
    single = dnpsim.run(point)
    assert float(ds["nuclear_polarization"][1, 1]) == pytest.approx(single.nuclear_polarization, rel=1e-12)


def test_summary_line():
    r = dnpsim.Result(model="cross_effect", method="kmc", solution="time_resolved",
                      electron_polarization=[-0.9], nuclear_polarization=[0.1, 0.3],
                      enhancement=dnpsim.Enhancement(np.array([1.0]), np.array([10.0, 30.0])),
                      residual=None, iterations=None, wall_time=1.0)
    line = r.summary()
    assert "mean +0.200000" in line and "+0.100000 .. +0.300000 over 2" in line and "time-resolved" in line
    with pytest.raises(ValueError, match="needs residual"):
        dnpsim.Result(model="anderson", method="free_fermion", solution="stationary", electron_polarization=[0.1],
                      nuclear_polarization=None, enhancement=dnpsim.Enhancement(np.array([1.0])), residual=None,
                      iterations=None, wall_time=0.0)
