"""Sweeps that are killed, interrupted, run twice at once or find damaged state (issue:
reliability, items 1, 3, 4, 5, 10, 15).  These tests start ``dnpsim sweep`` as a real
process, kill processes by their own pids and check what is left on disk and in the
process table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import psutil
import pytest
import xarray as xr

import dnpsim
from dnpsim.errors import SweepTaskError
from dnpsim.experiments.sweep import parts_directory, run_sweep

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process-table checks use Linux")


def _profile_spec(tmp_path: Path, n_electrons: int, points: int, realizations: int) -> Path:
    """The example DNP-profile sweep, resized: one coupling scale, ``points`` microwave
    frequencies, ``realizations`` tasks of N = ``n_electrons`` electrons."""
    text = (EXAMPLES / "dnp_profile.toml").read_text()
    text = text.replace("n_electrons = 8", f"n_electrons = {n_electrons}")
    text = text.replace("num = 41", f"num = {points}")
    text = text.replace('"model.couplings.scale" = [2e6, 15e6]', '"model.couplings.scale" = [15e6]')
    text = text.replace("realizations = 20", f"realizations = {realizations}")
    text = text.replace("[model.nucleus]", "[model.nuclei]")  # the current name: no warning on stderr
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    return spec


def _start(spec: Path, output: Path, *options: str) -> subprocess.Popen:
    """``dnpsim sweep`` in its own session (so signals reach only what we aim at)."""
    return subprocess.Popen(
        [sys.executable, "-m", "dnpsim", "sweep", str(spec), "--output", str(output), "--quiet", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def _wait_for(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _alive(pids) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def _parts(output: Path) -> list[str]:
    directory = parts_directory(output)
    return sorted(p.name for p in directory.glob("g*_r*.npz")) if directory.is_dir() else []


def _workers(process: subprocess.Popen, n: int) -> list[psutil.Process]:
    """Wait until ``process`` has started ``n`` pool workers; return all its descendants."""
    main = psutil.Process(process.pid)

    def started():
        return sum("spawn_main" in " ".join(c.cmdline()) for c in main.children(recursive=True)) >= n

    _wait_for(started, what=f"{n} worker processes")
    return main.children(recursive=True)


def _reference(spec: Path) -> xr.Dataset:
    return dnpsim.sweep(spec, progress=False)


def _assert_same_data(path: Path, reference: xr.Dataset) -> None:
    with xr.open_dataset(path, engine="h5netcdf") as data:
        for name in ("nuclear_polarization", "electron_polarization"):
            np.testing.assert_array_equal(data[name].values, reference[name].values)


def test_killed_main_process_leaves_no_workers(tmp_path):
    """Item 1: SIGKILL of the main process (OOM killer, job manager) takes the pool
    workers and the resource tracker with it; the finished parts stay resumable."""
    spec = _profile_spec(tmp_path, n_electrons=8, points=5, realizations=40)
    output = tmp_path / "out.nc"
    process = _start(spec, output, "--executor", "processes", "--workers", "2")
    children = _workers(process, 2)
    _wait_for(lambda: len(_parts(output)) >= 1, what="a first part")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    _wait_for(lambda: not _alive(c.pid for c in children), timeout=10, what="the workers to die")
    kept = _parts(output)
    assert kept and (parts_directory(output) / "plan.json").exists()
    # resuming computes only the rest and gives the data of an uninterrupted sweep
    rerun = _start(spec, output)
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
    _assert_same_data(output, _reference(spec))
    assert not parts_directory(output).exists()


def test_killed_worker_names_the_point_and_resumes(tmp_path):
    """Item 10: a worker killed by a signal (as by the OOM killer) gives exit 1 with a
    message naming a grid point, saying what is kept and how to resume; no traceback."""
    spec = _profile_spec(tmp_path, n_electrons=8, points=5, realizations=40)
    output = tmp_path / "out.nc"
    process = _start(spec, output, "--executor", "processes", "--workers", "2")
    _workers(process, 2)
    _wait_for(lambda: len(_parts(output)) >= 1, what="a first part")
    main = psutil.Process(process.pid)
    worker = next(c for c in main.children(recursive=True) if "spawn_main" in " ".join(c.cmdline())
                  and "resource_tracker" not in " ".join(c.cmdline()))
    worker.kill()
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    message = lines[0]
    assert "worker process died" in message
    assert "realization" in message and "seed" in message
    assert "run the same command again" in message
    assert str(parts_directory(output)) in message
    _wait_for(lambda: not _alive(c.pid for c in main.children(recursive=True)) if psutil.pid_exists(process.pid)
              else True, timeout=10, what="the other workers to stop")
    kept = len(_parts(output))
    assert kept >= 1 and f"{kept} of 40 tasks" in message
    rerun = _start(spec, output)
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
    _assert_same_data(output, _reference(spec))


def test_ctrl_c_keeps_running_tasks_and_says_how_to_resume(tmp_path):
    """Item 15: SIGINT to the whole process group (Ctrl-C in a terminal): no worker
    traceback, tasks that were running finish and are kept, the message says what is
    saved and that the same command resumes; the workers are gone afterwards."""
    spec = _profile_spec(tmp_path, n_electrons=10, points=3, realizations=8)
    output = tmp_path / "out.nc"
    process = _start(spec, output, "--executor", "processes", "--workers", "2")
    children = _workers(process, 2)
    _wait_for(lambda: len(_parts(output)) >= 1, what="a first part")
    before = len(_parts(output))
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "run the same command again" in err
    after = len(_parts(output))
    assert after >= before
    assert f"{after} of 8 tasks are finished and kept" in err
    if "waiting for" in err:  # tasks were running when Ctrl-C came: they were saved
        assert after > before
    _wait_for(lambda: not _alive(c.pid for c in children), timeout=10, what="the workers to stop")
    rerun = _start(spec, output)
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read()
    _assert_same_data(output, _reference(spec))


def test_second_sweep_to_the_same_output_is_refused(tmp_path):
    """Item 3: while one sweep writes an output, a second one to the same output exits
    2 naming the holder, and touches nothing; the first completes."""
    spec = _profile_spec(tmp_path, n_electrons=10, points=3, realizations=4)
    output = tmp_path / "out.nc"
    first = _start(spec, output)
    _wait_for(lambda: len(_parts(output)) >= 1, what="a first part")
    second = _start(spec, output)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "in use by another sweep" in err and f"pid {first.pid}" in err
    assert first.wait(timeout=300) == 0, first.stderr.read()
    with xr.open_dataset(output, engine="h5netcdf") as data:
        assert np.isfinite(data["nuclear_polarization"].values).all()
        assert data.sizes["realization"] == 4
    assert not parts_directory(output).exists()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (["--executor", "processes", "--workers", "0"], "--workers"),
        (["--executor", "processes", "--workers", "-3"], "--workers"),
        (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler"),
        (["--executor", "processes", "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler"),
    ],
)
def test_bad_executor_options_write_nothing(tmp_path, options, field, capsys):
    """Item 4: executor options are checked before anything is written (exit 2)."""
    from dnpsim.cli import main

    spec = _profile_spec(tmp_path, n_electrons=4, points=2, realizations=1)
    output = tmp_path / "out.nc"
    assert main(["sweep", str(spec), "-o", str(output), "-q", *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dnpsim: error: {field}: ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def test_unreachable_scheduler_writes_nothing(tmp_path, capsys, monkeypatch):
    """Item 4: a scheduler nobody answers at is refused (exit 2) and leaves no plan, so
    the next sweep of an edited spec is not refused as "a different spec"."""
    pytest.importorskip("distributed")
    from dnpsim.cli import main

    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "1s")
    import dask

    dask.config.refresh()
    spec = _profile_spec(tmp_path, n_electrons=4, points=2, realizations=1)
    output = tmp_path / "out.nc"
    port = _free_port()
    code = main(["sweep", str(spec), "-o", str(output), "-q", "--executor", "dask",
                 "--scheduler", f"tcp://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("dnpsim: error: --scheduler: cannot reach a dask scheduler") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]
    # the edited spec runs
    spec.write_text(spec.read_text().replace("realizations = 1", "realizations = 2"))
    assert main(["sweep", str(spec), "-o", str(output), "-q"]) == 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------- damaged state, in process


def _counting_compute(spec, variants, seed):
    """A cheap compute: the value is a function of the point and the seed."""
    scale = spec["model"]["couplings"]["scale"]
    return [{"value": float(scale) * 1e-6 + (seed % 1000) * 1e-3 + i} for i, _ in enumerate(variants)]


def _accept(point):
    return None


def _small_sweep() -> dict:
    return {
        "model": {"kind": "dipolar_electrons", "couplings": {"scale": 1e6}},
        "environment": {"mw_frequency": 1.0},
        "sweep": {"model.couplings.scale": [1e6, 2e6], "environment.mw_frequency": [1.0, 2.0, 3.0],
                  "realizations": 3, "seed": 4},
    }


def _interrupted(tmp_path: Path) -> Path:
    """A sweep to ``out.nc`` whose parts are all written but whose result is not (as
    after a kill during the final write)."""
    output = tmp_path / "out.nc"

    def fail_at_assembly(*args, **kwargs):
        raise KeyboardInterrupt

    import dnpsim.experiments.sweep as sweep_module

    original = sweep_module.assemble_dataset
    sweep_module.assemble_dataset = fail_at_assembly
    try:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(_small_sweep(), output, compute=_counting_compute, validate=_accept, progress=False)
    finally:
        sweep_module.assemble_dataset = original
    assert len(_parts(output)) == 6
    return output


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "other_task", "pickle_inside"])
def test_damaged_part_is_recomputed(tmp_path, damage):
    """Items 5 and 6: a damaged part is detected, recomputed and reported; a part
    holding a pickle is never unpickled (the parts are data-only npz)."""
    output = _interrupted(tmp_path)
    directory = parts_directory(output)
    victim = directory / "g000001_r000002.npz"
    if damage == "truncated":
        victim.write_bytes(victim.read_bytes()[:-40])
    elif damage == "empty":
        victim.write_bytes(b"")
    elif damage == "garbage":
        victim.write_bytes(os.urandom(300))
    elif damage == "other_task":
        victim.write_bytes((directory / "g000000_r000000.npz").read_bytes())
    elif damage == "pickle_inside":
        # an npz whose member is an object array: loading it would unpickle
        marker = tmp_path / "pwned"
        payload = np.array([_Planted(str(marker))], dtype=object)
        with zipfile.ZipFile(victim, "w") as archive:
            with archive.open("header.npy", "w") as member:
                np.lib.format.write_array(member, payload, allow_pickle=True)
    with pytest.warns(UserWarning, match=r"1 damaged part file\(s\) .*g000001_r000002\.npz"):
        data = run_sweep(_small_sweep(), output, compute=_counting_compute, validate=_accept, progress=False)
    reference = run_sweep(_small_sweep(), None, compute=_counting_compute, validate=_accept, progress=False)
    np.testing.assert_array_equal(data["value"].values, reference["value"].values)
    assert not directory.exists()
    assert not (tmp_path / "pwned").exists()


class _Planted:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_stale_temporary_files_are_removed(tmp_path):
    """Item 15: a SIGKILL during the final NetCDF write leaves ``.out.nc.<pid>.tmp``;
    the rerun (which holds the lock on this output) removes it."""
    output = _interrupted(tmp_path)
    stale = tmp_path / f".{output.name}.999999.tmp"
    stale.write_bytes(b"half a NetCDF file")
    stale_part = parts_directory(output) / ".g000000_r000001.npz.999999.tmp"
    stale_part.write_bytes(b"half a part")
    run_sweep(_small_sweep(), output, compute=_counting_compute, validate=_accept, progress=False)
    assert output.exists() and not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]


def test_task_error_names_point_and_realization(tmp_path):
    """Item 10: a failing task's message says which grid point and realization."""
    output = tmp_path / "out.nc"
    with pytest.raises(SweepTaskError) as info:
        run_sweep(_small_sweep(), output, compute=_failing_compute, validate=_accept, progress=False)
    message = str(info.value)
    assert "model.couplings.scale = 2000000.0" in message
    assert "all 3 points of environment.mw_frequency" in message
    assert "realization 1 (seed " in message
    assert "ZeroDivisionError" in message and "run the same command again" in message
    assert "np.float64" not in message
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def _failing_compute(spec, variants, seed):
    from dnpsim.experiments.sweep import realization_seeds

    if spec["model"]["couplings"]["scale"] == 2e6 and seed == realization_seeds(4, 3)[1]:
        raise ZeroDivisionError("injected")
    return _counting_compute(spec, variants, seed)


def test_sweeping_model_seed_is_refused():
    """Item 11: model.seed cannot be swept (each realization's seed overrides it)."""
    from dnpsim.errors import SpecError
    from dnpsim.experiments.sweep import parse_sweep

    spec = _small_sweep()
    spec["sweep"] = {"model.seed": [1, 2, 3]}
    with pytest.raises(SpecError, match=r"^sweep\.model\.seed: cannot be swept: .*realizations"):
        parse_sweep(spec)


@pytest.mark.parametrize(
    ("sweep", "field"),
    [
        ({"model.couplings.scale": [1e6], "realizations": 10**9}, "sweep.realizations"),
        ({"model.couplings.scale": {"start": 1e6, "stop": 2e6, "num": 10**12}}, "sweep.model.couplings.scale"),
    ],
)
def test_sweeps_too_large_are_refused_at_once(tmp_path, sweep, field):
    """Item 7: sizes are checked before validation and before anything is written."""
    from dnpsim.errors import SpecError

    spec = _small_sweep()
    spec["sweep"] = sweep
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        run_sweep(spec, tmp_path / "out.nc", compute=_counting_compute, validate=_accept, progress=False)
    assert info.value.field == field
    assert time.perf_counter() - start < 5
    assert list(tmp_path.iterdir()) == []


def test_large_grid_is_validated_without_visiting_every_point(monkeypatch):
    """Item 7: a grid larger than MAX_POINTS_VALIDATED_EACH validates each value and
    the corners, not every point, and still finds a violation at a corner."""
    from dnpsim.errors import SpecError

    seen = []

    def validate(point):
        seen.append(point["environment"]["mw_frequency"])
        if point["environment"]["mw_frequency"] > 9.99e5 and point["model"]["couplings"]["scale"] > 1.5e6:
            raise SpecError("environment.mw_frequency", "too high with this scale")

    spec = _small_sweep()
    spec["sweep"] = {"model.couplings.scale": [1e6, 2e6],
                     "environment.mw_frequency": {"start": 0.0, "stop": 1e6, "num": 30_000}}
    with pytest.raises(SpecError, match="too high"):
        run_sweep(spec, None, compute=_counting_compute, validate=validate, progress=False)
    assert len(seen) < 30_010  # not 60 000


def test_part_files_round_trip_every_dtype_and_shape(tmp_path):
    """A part gives back exactly the arrays written: dtype, shape, values, dims."""
    from dnpsim.experiments.sweep import _encode_part, _read_part

    rng = np.random.default_rng(0)
    records = [
        {"values": {"p": np.float64(0.25), "n": np.int64(-3), "ok": np.bool_(True), "pe": rng.random(5),
                    "grid": rng.random((2, 3)), "empty": np.zeros(0), "counts": np.arange(4, dtype=np.int32)},
         "dims": {"p": (), "n": (), "ok": (), "pe": ("electron",), "grid": ("a", "b"), "empty": ("e",),
                  "counts": ("c",)}},
        {"values": {"p": np.float64(-1e300), "pe": rng.random(3)}, "dims": {"p": (), "pe": ("electron",)}},
    ]
    path = tmp_path / "g000007_r000002.npz"
    path.write_bytes(_encode_part(7, 2, 2**63 + 5, records))
    back = _read_part(path, 7, 2)
    assert len(back) == 2
    for written, read in zip(records, back):
        assert read["dims"] == written["dims"]
        assert set(read["values"]) == set(written["values"])
        for name, array in written["values"].items():
            array = np.asarray(array)
            assert read["values"][name].dtype == array.dtype and read["values"][name].shape == array.shape
            np.testing.assert_array_equal(read["values"][name], array)
