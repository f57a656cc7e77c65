"""Sweep runner (dnpsim.experiments.sweep) and executors, with fake engines.

The engines are replaced by the module-level fakes below (picklable, so they also run
in worker processes); calls are counted through files in ``tmp_path`` because worker
processes share no memory with the test.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tomllib
import uuid
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import dnpsim
from dnpsim.experiments import sweep as sweep_module
from dnpsim.experiments.executors import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
)
from dnpsim.experiments.sweep import (
    SweepResumeError,
    git_revision,
    parse_sweep,
    parts_directory,
    realization_seeds,
    run_sweep,
)
from dnpsim.errors import SpecError
from dnpsim.spec import get_dotted

# ----------------------------------------------------------------------------- fakes

N_ELECTRONS = 3


def make_spec(sweep: dict | None = None, **method) -> dict:
    """A small spec in the layout of the spec files (docs/reference/spec.md); ``method`` adds keys the fakes read."""
    spec = {
        "model": {
            "kind": "dipolar_electrons",
            "electron_larmor": 93.9e9,
            "couplings": {"distribution": "gaussian", "scale": 15e6},
            "n_electrons": N_ELECTRONS,
        },
        "environment": {"temperature": 1.2, "mw_frequency": 93.9e9, "mw_amplitude": 25e3},
        "method": {"kind": "rate_equation", **method},
    }
    if sweep is not None:
        spec["sweep"] = sweep
    return spec


def default_sweep() -> dict:
    return {
        "environment.mw_frequency": {"start": 93.85e9, "stop": 93.95e9, "num": 3},
        "model.couplings.scale": [5e6, 10e6],
        "realizations": 3,
        "seed": 7,
    }


def accept(spec: dict) -> None:
    """Fake validate: every point must be a full spec without a sweep section."""
    assert "sweep" not in spec
    for section in ("model", "environment", "method"):
        assert section in spec


def point_value(spec: dict, variant: dict, key: str):
    return variant.get(key, get_dotted(spec, key))


def fake_compute(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """Fake engine: a deterministic function of the point plus one disorder draw per
    realization (the same draw at every point of the group: common random numbers)."""
    rng = np.random.default_rng(seed)
    disorder = rng.normal(size=N_ELECTRONS)
    scale = get_dotted(spec, "model.couplings.scale")
    results = []
    for variant in variants:
        frequency = point_value(spec, variant, "environment.mw_frequency")
        temperature = point_value(spec, variant, "environment.temperature")
        signal = np.sin((frequency - 93.9e9) / 2e7) * scale / 1e7 / temperature
        results.append(
            {
                "nuclear_polarization": signal + 0.01 * disorder[0],
                "electron_polarization": -0.95 + 0.01 * disorder,
                "residual": 1e-12,
                "iterations": 4,
                "converged": True,
                "method": "fake",  # a string: skipped
                "spec": {"seed": seed},  # skipped
                "dims": {"electron_polarization": ("electron",)},
            }
        )
    return results


def logging_compute(spec: dict, variants: list[dict], seed: int) -> list[dict]:
    """``fake_compute`` that records each call in ``method.log_dir`` and raises when the
    file ``method.fail.flag`` exists and the call is the task ``method.fail`` names."""
    options = spec["method"]
    scale = get_dotted(spec, "model.couplings.scale")
    record = {"scale": scale, "seed": seed, "variants": variants, "spec": spec}
    Path(options["log_dir"], f"{uuid.uuid4().hex}.json").write_text(json.dumps(record))
    fail = options.get("fail")
    if fail and os.path.exists(fail["flag"]) and scale == fail["scale"] and seed == fail["seed"]:
        if fail.get("interrupt"):
            raise KeyboardInterrupt  # as Ctrl-C does in a serial run
        raise RuntimeError("injected failure")
    return fake_compute(spec, variants, seed)


def read_log(log_dir: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(log_dir.glob("*.json"))]


class ReorderingExecutor(SerialExecutor):
    """Runs the tasks in a given permutation of their submission order."""

    def __init__(self, seed: int | None = None):
        super().__init__()
        self.seed = seed

    def as_completed(self, futures):
        futures = list(futures)
        if self.seed is None:
            futures.reverse()
        else:
            random.Random(self.seed).shuffle(futures)
        return super().as_completed(futures)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> xr.Dataset:
    """The default sweep, run serially (the baseline other runs must reproduce)."""
    output = tmp_path_factory.mktemp("reference") / "reference.nc"
    return run_sweep(make_spec(default_sweep()), output, compute=fake_compute, validate=accept, progress=False)


# --------------------------------------------------------------------------- parsing


def test_parse_list_grid_and_product():
    plan = parse_sweep(make_spec(default_sweep()))
    assert plan.keys == ("environment.mw_frequency", "model.couplings.scale")
    assert plan.dims == ("mw_frequency", "scale")
    assert plan.shape == (3, 2) and plan.size == 6
    assert plan.realizations == 3 and plan.seed == 7
    np.testing.assert_allclose(plan.axes[0].values, [93.85e9, 93.9e9, 93.95e9])  # inclusive
    assert plan.axes[1].values == (5e6, 10e6)

    points = list(plan.point_specs())
    assert [index for index, _ in points] == [(i, j) for i in range(3) for j in range(2)]
    index, spec = points[3]  # (1, 1): C order, the last entry varies fastest
    assert index == (1, 1)
    assert "sweep" not in spec
    assert spec["environment"]["mw_frequency"] == pytest.approx(93.9e9)
    assert spec["model"]["couplings"] == {"distribution": "gaussian", "scale": 10e6}
    # the input spec is not modified
    assert make_spec()["model"]["couplings"]["scale"] == 15e6


def test_parse_defaults_single_value_grid_and_strings():
    plan = parse_sweep(make_spec({"environment.temperature": {"start": 1.2, "stop": 5, "num": 1}}))
    assert plan.realizations == 1 and plan.seed == 0
    assert plan.axes[0].values == (1.2,)

    # strings with units become SI numbers, so the coordinate is numeric (Hz)
    plan = parse_sweep(make_spec({"environment.mw_frequency": ["93.88 GHz", "93.9 GHz"]}))
    assert plan.axes[0].values == (93.88e9, 93.9e9)
    assert plan.axes[0].coordinate().dtype.kind == "f"
    plan = parse_sweep(make_spec({"environment.mw_frequency": {"start": "93.84 GHz", "stop": "93.96 GHz", "num": 3}}))
    assert plan.axes[0].values == pytest.approx((93.84e9, 93.9e9, 93.96e9), rel=1e-15)
    plan = parse_sweep(make_spec({"method.solver": ["gmres", "bicgstab"]}))  # other strings are kept
    assert plan.axes[0].values == ("gmres", "bicgstab")
    with pytest.raises(SpecError, match="is not a frequency, time, temperature"):
        parse_sweep(make_spec({"environment.mw_frequency": ["93.88 GHz", "3 m"]}))

    plan = parse_sweep(make_spec({"realizations": 4}))  # realizations only
    assert plan.shape == () and plan.size == 1 and len(plan.groups()) == 1


def test_parse_toml_as_written_in_design():
    text = """
[model]
kind = "dipolar_electrons"
couplings = { distribution = "gaussian", scale = 15e6 }
[environment]
mw_frequency = 93.88e9
[method]
kind = "rate_equation"
[sweep]
"environment.mw_frequency" = { start = 93.84e9, stop = 93.96e9, num = 41 }
model.couplings.scale = [2e6, 5e6, 10e6, 15e6, 30e6, 45e6]
realizations = 100
seed = 1
dims = { "model.couplings.scale" = "coupling_scale" }
"""
    plan = parse_sweep(tomllib.loads(text))
    assert plan.dims == ("mw_frequency", "coupling_scale")
    assert plan.shape == (41, 6) and plan.realizations == 100 and plan.seed == 1
    assert len(plan.groups()) == 6  # one model per coupling scale, reused over 41 frequencies
    assert all(len(group.variants) == 41 for group in plan.groups())
    assert plan.n_tasks == 600


def test_parse_nested_tables_and_dims_override():
    # TOML reads unquoted dotted keys as nested tables; both spellings work.
    sweep = {
        "environment": {"mw_frequency": [93.88e9, 93.9e9]},
        "model.couplings.scale": [1e6, 2e6],
        "method.scale": [1, 2, 3],
        "dims": {"model.couplings.scale": "coupling_scale"},
    }
    plan = parse_sweep(make_spec(sweep))
    assert plan.keys == ("environment.mw_frequency", "model.couplings.scale", "method.scale")
    assert plan.dims == ("mw_frequency", "coupling_scale", "scale")

    del sweep["dims"]
    with pytest.raises(SpecError) as info:
        parse_sweep(make_spec(sweep))
    assert info.value.field == "sweep.method.scale"
    assert "dims" in str(info.value) and "model.couplings.scale" in str(info.value)


F = "sweep.environment.mw_frequency"
BAD_SWEEPS = [
    ({"environment.mw_frequency": []}, F, "empty"),
    ({"environment.mw_frequency": {"start": 1.0, "stop": 2.0, "num": 0}}, F, "num"),
    ({"environment.mw_frequency": {"start": 1.0, "stop": 2.0, "num": 2.5}}, F, "num"),
    ({"environment.mw_frequency": {"start": "fast", "stop": 2.0, "num": 3}}, F, "start"),
    ({"environment.mw_frequency": {"start": 1.0, "num": 3}}, F, "stop"),
    ({"environment.mw_frequency": {"start": 1.0, "stop": 2.0, "num": 3, "step": 1}}, F, "step"),
    ({"environment.mw_frequency": 93.9e9}, F, "list"),
    ({"environment.temperature": {"from": 1, "to": 2}}, "sweep.environment.temperature", "list"),
    ({"environment.temperature": [1.2, 1.2]}, "sweep.environment.temperature", "twice"),
    ({"sweep.temperature": [1, 2]}, "sweep.sweep.temperature", "model, environment, method"),
    ({"environment": [1, 2]}, "sweep.environment", "dotted"),
    ({"model.couplings.scale": [1, 2], "method.scale": [1, 2]}, "sweep.method.scale", "dims"),
    (
        {"environment.temperature": [1, 2], "dims": {"environment.mw_frequency": "f"}},
        "sweep.dims.environment.mw_frequency",
        "not swept",
    ),
    (
        {"environment.temperature": [1, 2], "dims": {"environment.temperature": "realization"}},
        "sweep.environment.temperature",
        "reserved",
    ),
    ({"environment.temperature": [1, 2], "realizations": 0}, "sweep.realizations", ">= 1"),
    ({"environment.temperature": [1, 2], "realizations": True}, "sweep.realizations", ">= 1"),
    ({"environment.temperature": [1, 2], "seed": -1}, "sweep.seed", ">= 0"),
    (None, "sweep", "no [sweep]"),
]


@pytest.mark.parametrize("sweep, field, words", BAD_SWEEPS)
def test_bad_sweep_names_the_field_and_writes_nothing(tmp_path, sweep, field, words):
    with pytest.raises(SpecError) as info:
        parse_sweep(make_spec(sweep))
    assert info.value.field == field
    assert words in str(info.value)

    output = tmp_path / "out.nc"
    with pytest.raises(SpecError):
        run_sweep(make_spec(sweep), output, compute=fake_compute, validate=accept, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_invalid_point_is_reported_before_any_work(tmp_path):
    def validate(spec):
        if spec["environment"]["temperature"] > 2:
            raise SpecError("environment.temperature", "too hot for this test")

    log_dir = tmp_path / "log"
    log_dir.mkdir()
    spec = make_spec({"environment.temperature": [1.2, 1.5, 3.0], "realizations": 2}, log_dir=str(log_dir))
    output = tmp_path / "out.nc"
    with pytest.raises(SpecError) as info:
        run_sweep(spec, output, compute=logging_compute, validate=validate, progress=False)
    assert info.value.field == "environment.temperature"
    assert any("3.0" in note for note in getattr(info.value, "__notes__", []))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log"]
    assert read_log(log_dir) == []


def test_output_path_is_checked_first(tmp_path):
    spec = make_spec(default_sweep())
    with pytest.raises(ValueError, match=r"\.nc"):
        run_sweep(spec, tmp_path / "out.json", compute=fake_compute, validate=accept, progress=False)
    with pytest.raises(SpecError, match="does not exist"):
        run_sweep(spec, tmp_path / "missing" / "out.nc", compute=fake_compute, validate=accept, progress=False)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ results & seeds


def test_dataset_layout_and_common_random_numbers(reference):
    ds = reference
    assert dict(ds.sizes) == {"mw_frequency": 3, "scale": 2, "realization": 3, "electron": N_ELECTRONS}
    assert ds["nuclear_polarization"].dims == ("mw_frequency", "scale", "realization")
    assert ds["electron_polarization"].dims == ("mw_frequency", "scale", "realization", "electron")
    assert set(ds.data_vars) == {"nuclear_polarization", "electron_polarization", "residual", "iterations", "converged"}
    assert ds["converged"].dtype == bool and ds["iterations"].dtype.kind == "i"
    np.testing.assert_allclose(ds["mw_frequency"], [93.85e9, 93.9e9, 93.95e9])
    np.testing.assert_array_equal(ds["scale"], [5e6, 10e6])
    np.testing.assert_array_equal(ds["realization"], [0, 1, 2])
    assert ds["scale"].attrs["spec_key"] == "model.couplings.scale"

    # realization r gets child r of SeedSequence(seed) ...
    children = np.random.SeedSequence(7).spawn(3)
    expected_seeds = [int(c.generate_state(1, dtype=np.uint64)[0]) for c in children]
    assert ds["realization_seed"].values.tolist() == expected_seeds
    assert realization_seeds(7, 3) == tuple(expected_seeds)
    assert realization_seeds(7, 5)[:3] == tuple(expected_seeds)  # more realizations extend the list
    # ... at every grid point: the disorder draw is common across the grid.
    for r, seed in enumerate(expected_seeds):
        draw = np.random.default_rng(seed).normal(size=N_ELECTRONS)
        np.testing.assert_allclose(
            ds["electron_polarization"].isel(realization=r), np.broadcast_to(-0.95 + 0.01 * draw, (3, 2, 3))
        )
        f = ds["mw_frequency"].values[:, None]
        s = ds["scale"].values[None, :]
        signal = np.sin((f - 93.9e9) / 2e7) * s / 1e7 / 1.2
        np.testing.assert_allclose(ds["nuclear_polarization"].isel(realization=r), signal + 0.01 * draw[0])
    assert np.ptp(ds["electron_polarization"].isel(mw_frequency=0, scale=0, electron=0).values) > 0


def test_netcdf_round_trip_and_provenance(tmp_path, reference):
    spec = make_spec(default_sweep())
    output = tmp_path / "result.nc"
    ds = run_sweep(spec, output, compute=fake_compute, validate=accept, progress=False)
    assert output.exists()
    assert not parts_directory(output).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.nc"]  # no temp files left

    with xr.open_dataset(output, engine="h5netcdf") as loaded:
        loaded = loaded.load()
    xr.testing.assert_identical(loaded, ds)
    xr.testing.assert_identical(ds, reference)
    assert json.loads(loaded.attrs["spec"]) == spec
    assert loaded.attrs["dnpsim_version"] == dnpsim.__version__
    assert loaded.attrs["git_revision"] == git_revision()
    assert loaded.attrs["root_seed"] == 7
    assert loaded.attrs["realizations"] == 3


def test_git_revision_is_a_hash_or_unknown():
    revision = git_revision().removesuffix("-dirty")
    assert revision == "unknown" or (len(revision) in (40, 64) and int(revision, 16) >= 0)


def varying_size_compute(spec, variants, seed):
    """Results whose extra dimension changes size along the grid, without dims names."""
    n = spec["model"]["n_electrons"]
    return [
        {
            "electron_polarization": np.full(n, -0.5),
            "matrix": np.ones((2, 2)) * n,
            "labels": ["a"] * n,  # strings: skipped
            "ragged": [[1], [1, 2]],  # not an array: skipped
        }
        for _ in variants
    ]


def test_results_of_varying_size_are_padded(tmp_path):
    spec = make_spec({"model.n_electrons": [2, 3]})
    ds = run_sweep(spec, tmp_path / "out.nc", compute=varying_size_compute, validate=accept, progress=False)
    assert set(ds.data_vars) == {"electron_polarization", "matrix"}
    assert ds["electron_polarization"].dims == ("n_electrons", "realization", "electron_polarization_dim_0")
    assert ds["matrix"].dims == ("n_electrons", "realization", "matrix_dim_0", "matrix_dim_1")
    values = ds["electron_polarization"].sel(n_electrons=2, realization=0).values
    np.testing.assert_array_equal(values[:2], [-0.5, -0.5])
    assert np.isnan(values[2])


# ------------------------------------------------------------------------ executors


def test_executors_give_identical_results(tmp_path, reference):
    spec = make_spec(default_sweep())
    common = dict(compute=fake_compute, validate=accept, progress=False)
    processes = run_sweep(spec, tmp_path / "processes.nc", executor="processes", workers=2, **common)
    with DaskExecutor(n_workers=2, processes=False, threads_per_worker=1) as dask_executor:
        dask_threads = run_sweep(spec, tmp_path / "dask_threads.nc", executor=dask_executor, **common)
    dask_processes = run_sweep(spec, tmp_path / "dask.nc", executor="dask", workers=2, **common)
    xr.testing.assert_identical(processes, reference)
    xr.testing.assert_identical(dask_threads, reference)
    xr.testing.assert_identical(dask_processes, reference)


@pytest.mark.parametrize("order", [None, 0, 1])
def test_completion_order_does_not_matter(tmp_path, reference, order):
    ds = run_sweep(
        make_spec(default_sweep()),
        tmp_path / "out.nc",
        compute=fake_compute,
        validate=accept,
        executor=ReorderingExecutor(order),
        progress=False,
    )
    xr.testing.assert_identical(ds, reference)


def test_serial_executor_is_lazy_and_in_order():
    calls = []
    with SerialExecutor() as executor:
        futures = [executor.submit(calls.append, i) for i in range(3)]
        assert calls == []
        for i, future in enumerate(executor.as_completed(futures)):
            assert calls == list(range(i + 1))
            assert future.result() is None
        failing = executor.submit(int, "not a number")
        with pytest.raises(ValueError):
            next(iter(executor.as_completed([failing]))).result()


def test_make_executor_kinds(monkeypatch):
    with make_executor("serial") as executor:
        assert isinstance(executor, SerialExecutor)
    with pytest.raises(ValueError, match="serial, processes, dask"):
        make_executor("threads")
    with pytest.raises(ValueError, match="workers"):
        make_executor("processes", workers=0)
    with pytest.raises(ValueError, match="address"):
        make_executor("processes", address="tcp://127.0.0.1:8786")
    monkeypatch.setitem(sys.modules, "distributed", None)  # dask not installed
    with pytest.raises(SpecError, match=r'executor: .*pip install "dnpsim\[dask\]"'):
        make_executor("dask")


def test_process_executor_limits_threads_and_restores_environment(monkeypatch):
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "5")  # set by the user: respected
    executor = ProcessExecutor(workers=2, threads_per_worker=1)
    try:
        assert os.environ["OMP_NUM_THREADS"] == "1"
        assert os.environ["MKL_NUM_THREADS"] == "5"
    finally:
        executor.close()
    assert "OMP_NUM_THREADS" not in os.environ
    assert os.environ["MKL_NUM_THREADS"] == "5"


# ------------------------------------------------------------------ grouping, resume


def test_points_sharing_a_model_are_one_call(tmp_path):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    sweep = {
        "environment.mw_frequency": [93.88e9, 93.9e9, 93.92e9],
        "model.couplings.scale": [5e6, 10e6],
        "environment.temperature": [1.2, 2.4],
        "realizations": 2,
    }
    plan = parse_sweep(make_spec(sweep))
    assert len(plan.groups()) == 2 and plan.n_tasks == 4
    spec = make_spec(sweep, log_dir=str(log_dir))
    ds = run_sweep(spec, tmp_path / "out.nc", compute=logging_compute, validate=accept, progress=False)

    calls = read_log(log_dir)
    assert len(calls) == 4
    assert sorted((c["scale"], c["seed"]) for c in calls) == sorted(
        (s, seed) for s in (5e6, 10e6) for seed in realization_seeds(0, 2)
    )
    for call in calls:
        assert call["spec"]["model"]["couplings"]["scale"] == call["scale"]
        assert "sweep" not in call["spec"]
        assert call["variants"] == [
            {"environment.mw_frequency": f, "environment.temperature": t}
            for f in (93.88e9, 93.9e9, 93.92e9)
            for t in (1.2, 2.4)
        ]
    assert ds["nuclear_polarization"].dims == ("mw_frequency", "scale", "temperature", "realization")
    # the variant results land at their own grid points
    one = ds["nuclear_polarization"].sel(mw_frequency=93.92e9, scale=10e6, realization=1)
    draw = np.random.default_rng(realization_seeds(0, 2)[1]).normal(size=N_ELECTRONS)[0]
    expected = np.sin(0.02e9 / 2e7) * 1.0 / np.array([1.2, 2.4]) + 0.01 * draw
    np.testing.assert_allclose(one, expected)


@pytest.mark.parametrize("executor, workers", [("serial", None), ("processes", 2)])
def test_interrupted_sweep_resumes_with_the_missing_tasks(tmp_path, executor, workers):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    flag = tmp_path / "fail.flag"
    seeds = realization_seeds(3, 2)
    sweep = {
        "environment.mw_frequency": [93.89e9, 93.91e9],
        "model.couplings.scale": [1e6, 2e6, 3e6],
        "realizations": 2,
        "seed": 3,
    }
    spec = make_spec(sweep, log_dir=str(log_dir), fail={"flag": str(flag), "scale": 2e6, "seed": seeds[1]})
    common = dict(compute=logging_compute, validate=accept, progress=False, executor=executor, workers=workers)
    all_tasks = {(s, seed) for s in (1e6, 2e6, 3e6) for seed in seeds}

    uninterrupted = run_sweep(spec, tmp_path / "uninterrupted.nc", **common)
    assert len(read_log(log_dir)) == 6
    for path in log_dir.iterdir():
        path.unlink()

    output = tmp_path / "out.nc"
    parts = parts_directory(output)
    flag.touch()
    with pytest.raises(RuntimeError, match="injected failure"):
        run_sweep(spec, output, **common)
    assert not output.exists()
    assert (parts / "plan.json").exists()
    finished = sorted(p.name for p in parts.glob("g*_r*.npz"))
    assert "g000001_r000001.npz" not in finished  # the failed task (scale 2e6, realization 1)
    if executor == "serial":  # in order: the three tasks before the failing one
        assert finished == ["g000000_r000000.npz", "g000000_r000001.npz", "g000001_r000000.npz"]
    group_scale = {0: 1e6, 1: 2e6, 2: 3e6}
    done = {(group_scale[int(name[1:7])], seeds[int(name[9:15])]) for name in finished}

    flag.unlink()
    for path in log_dir.iterdir():
        path.unlink()
    resumed = run_sweep(spec, output, **common)
    recomputed = {(c["scale"], c["seed"]) for c in read_log(log_dir)}
    assert len(read_log(log_dir)) == 6 - len(finished)
    assert recomputed == all_tasks - done
    assert not parts.exists()
    xr.testing.assert_identical(resumed, uninterrupted)
    with xr.open_dataset(output, engine="h5netcdf") as loaded:
        xr.testing.assert_identical(loaded.load(), uninterrupted)



def failing_task_files(tmp_path):
    """A call-log directory and an armed failure flag file for the resume tests."""
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    flag = tmp_path / "fail.flag"
    flag.touch()
    return log_dir, flag

def test_ctrl_c_keeps_finished_parts(tmp_path):
    log_dir, flag = failing_task_files(tmp_path)
    seeds = realization_seeds(0, 3)
    fail = {"flag": str(flag), "scale": 1e6, "seed": seeds[2], "interrupt": True}
    spec = make_spec({"model.couplings.scale": [1e6, 2e6], "realizations": 3}, log_dir=str(log_dir), fail=fail)
    output = tmp_path / "out.nc"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, output, compute=logging_compute, validate=accept, progress=False)
    parts = sorted(p.name for p in parts_directory(output).glob("g*.npz"))
    assert parts == ["g000000_r000000.npz", "g000000_r000001.npz"]
    assert len(read_log(log_dir)) == 3  # the tasks after the interrupted one never ran

    flag.unlink()
    run_sweep(spec, output, compute=logging_compute, validate=accept, progress=False)
    assert len(read_log(log_dir)) == 3 + 4
    assert output.exists() and not parts_directory(output).exists()


def test_parts_of_another_spec_are_not_mixed_in(tmp_path):
    log_dir, flag = failing_task_files(tmp_path)
    seeds = realization_seeds(0, 2)
    sweep = {"model.couplings.scale": [1e6, 2e6], "realizations": 2}
    spec = make_spec(sweep, log_dir=str(log_dir), fail={"flag": str(flag), "scale": 2e6, "seed": seeds[0]})
    output = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        run_sweep(spec, output, compute=logging_compute, validate=accept, progress=False)
    assert len(list(parts_directory(output).glob("g*.npz"))) == 2

    other = make_spec({**sweep, "seed": 1}, log_dir=str(log_dir))
    with pytest.raises(SweepResumeError, match="delete it"):
        run_sweep(other, output, compute=logging_compute, validate=accept, progress=False)
    # renaming a dimension does not change the results: the parts are reused
    renamed = json.loads(json.dumps(spec))
    renamed["sweep"]["dims"] = {"model.couplings.scale": "coupling_scale"}
    flag.unlink()
    before = len(read_log(log_dir))
    ds = run_sweep(renamed, output, compute=logging_compute, validate=accept, progress=False)
    assert len(read_log(log_dir)) == before + 2
    assert ds["nuclear_polarization"].dims == ("coupling_scale", "realization")

    # resume=False starts afresh
    flag.touch()
    with pytest.raises(RuntimeError):
        run_sweep(spec, output, compute=logging_compute, validate=accept, progress=False)
    before = len(read_log(log_dir))
    flag.unlink()
    run_sweep(other, output, compute=logging_compute, validate=accept, progress=False, resume=False)
    assert len(read_log(log_dir)) == before + 4
    assert not parts_directory(output).exists()


def test_spec_can_be_a_file(tmp_path, reference):
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(make_spec(default_sweep())))
    ds = run_sweep(path, tmp_path / "out.nc", compute=fake_compute, validate=accept, progress=False)
    xr.testing.assert_identical(ds, reference)


def test_module_exports():
    for name in sweep_module.__all__:
        assert hasattr(sweep_module, name)
