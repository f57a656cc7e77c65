"""The public contract: spec validation, ``dnpsim run``, exit codes, nothing written on bad input."""

import json
import subprocess
import sys

import pytest

from dnpsim.cli import main
from dnpsim.errors import SpecError
import dnpsim
from dnpsim.spec import resolve_spec


def run_spec(spec):
    return dnpsim.run(spec).to_dict()

BASE = """
[model]
kind = "dipolar_electrons"
electron_larmor = "93.9 GHz"
offsets = {{ distribution = "equally_spaced", half_width = 54e6 }}
couplings = {{ distribution = "gaussian", scale = "15 MHz" }}
n_electrons = {n}
seed = 1

[model.nuclei]
larmor = 20e6
hyperfine = {{ distribution = "gaussian", scale = 1e6 }}

[environment]
temperature = "1.2 K"
mw_frequency = 93.88e9
mw_amplitude = "25 kHz"
t1e = 1.0
t2e = "1 us"

[method]
kind = "rate_equation"
"""


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_run_writes_contract_keys(tmp_path):
    spec = write(tmp_path, BASE.format(n=4))
    out = tmp_path / "result.json"
    assert main(["run", str(spec), "--output", str(out), "-q"]) == 0
    result = json.loads(out.read_text())
    for key in ("nuclear_polarization", "electron_polarization", "residual", "spec", "dnpsim_version", "git_revision"):
        assert key in result
    assert len(result["electron_polarization"]) == 4
    assert -1 <= result["nuclear_polarization"] <= 1
    assert result["residual"] < 1e-10
    drawn = result["spec"]["model"]
    assert len(drawn["offsets"]) == 4 and len(drawn["couplings"]) == 4 and len(drawn["nuclei"]["hyperfine"]) == 4
    assert drawn["offsets"][0] == pytest.approx(-54e6 * 3 / 4)


def test_resolved_spec_reproduces_the_run(tmp_path):
    """Running the resolved spec (explicit arrays, no draw) gives the same numbers."""
    spec = write(tmp_path, BASE.format(n=3))
    first = run_spec(__import__("dnpsim.spec", fromlist=["load_spec"]).load_spec(spec))
    second = run_spec(first["spec"])
    assert second["nuclear_polarization"] == pytest.approx(first["nuclear_polarization"], abs=1e-14)
    assert second["electron_polarization"] == pytest.approx(first["electron_polarization"], abs=1e-14)


def test_json_spec_is_accepted(tmp_path):
    import tomllib

    data = tomllib.loads(BASE.format(n=2))
    spec = write(tmp_path, json.dumps(data), "spec.json")
    out = tmp_path / "r.json"
    assert main(["run", str(spec), "-o", str(out), "-q"]) == 0


BAD = [
    ("[model]\nkind = 'dipolar_electrons'\n", "environment"),
    (BASE.format(n=3).replace("t1e = 1.0", "t1e = -1.0"), "environment.t1e"),
    (BASE.format(n=3).replace("t2e = \"1 us\"", "t2e = \"1 GHz\""), "environment.t2e"),
    (BASE.format(n=3).replace('temperature = "1.2 K"', "temperature = 0"), "environment.temperature"),
    (BASE.format(n=3).replace("seed = 1", "seed = 1\ncolour = 'red'"), "model.colour"),
    (BASE.format(n=3).replace("n_electrons = 3", "n_electrons = 'three'"), "model.n_electrons"),
    (BASE.format(n=3).replace("n_electrons = 3", "n_electrons = 40"), "model.n_electrons"),
    (BASE.format(n=3).replace("seed = 1\n", ""), "model.seed"),
    (BASE.format(n=3).replace('kind = "rate_equation"', 'kind = "nonsecular"'), "method.kind"),
    (BASE.format(n=3).replace('couplings = { distribution = "gaussian", scale = "15 MHz" }',
                              "couplings = [[0, 1e6, 0], [2e6, 0, 0], [0, 0, 0]]"), "model.couplings[0][1]"),
    (BASE.format(n=3).replace('couplings = { distribution = "gaussian", scale = "15 MHz" }',
                              "couplings = { distribution = 'lorentzian', scale = 1 }"), "model.couplings.distribution"),
    (BASE.format(n=3).replace("mw_frequency = 93.88e9", "mw_frequency = '3 K'"), "environment.mw_frequency"),
    (BASE.format(n=3).replace("[method]", "[method]\ntol = 2"), "method.tol"),
    # T1e and T2e swapped: T2 > 2 T1 is refused before any work
    (BASE.format(n=3).replace('t1e = 1.0', 't1e = "1 us"').replace('t2e = "1 us"', 't2e = 1.0'), "environment.t2e"),
]


@pytest.mark.parametrize("text,field", BAD)
def test_bad_specs_name_the_field_exit_2_and_write_nothing(tmp_path, capsys, text, field):
    spec = write(tmp_path, text)
    out = tmp_path / "result.json"
    assert main(["run", str(spec), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"error: {field}:" in err
    assert err.count("\n") == 1  # one clear message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def test_memory_guard_names_the_field():
    import tomllib

    spec = tomllib.loads(BASE.format(n=3))
    spec["model"]["n_electrons"] = 16
    with pytest.raises(SpecError) as info:
        resolve_spec(spec)
    assert info.value.field == "model.n_electrons" and "GiB" in str(info.value)


def test_output_suffix_and_directory_are_checked(tmp_path, capsys):
    spec = write(tmp_path, BASE.format(n=2))
    assert main(["run", str(spec), "-o", str(tmp_path / "r.txt")]) == 2
    assert main(["run", str(spec), "-o", str(tmp_path / "missing" / "r.json")]) == 2
    assert "--output" in capsys.readouterr().err


def test_python_dash_m_and_info():
    out = subprocess.run([sys.executable, "-m", "dnpsim", "info"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "dnpsim" in out.stdout and "cores" in out.stdout and "memory" in out.stdout


def test_errors_survive_pickling():
    """Worker processes send exceptions back pickled; custom signatures must round-trip."""
    import pickle

    from dnpsim.errors import ConvergenceError, ModelError

    for error in (SpecError("model.seed", "is required"), ModelError("model.couplings", "bad"),
                  ConvergenceError("did not converge", 1e-3)):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)


def test_figure_options_a_figure_does_not_take_are_refused(tmp_path, capsys):
    """`--electrons` means nothing to the cross-effect figures, `--size` nothing to the
    2016 ones: exit 2 naming the flag, nothing written."""
    assert main(["figure", "cross-effect-fig1c", "--quick", "--electrons", "3", "--output-dir", str(tmp_path)]) == 2
    assert "--electrons" in capsys.readouterr().err
    assert main(["figure", "spin-temperature-fig2", "--quick", "--size", "6", "--output-dir", str(tmp_path)]) == 2
    assert "--size" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_figure_size_and_electrons_reach_the_figures_that_take_them():
    """The refusal above must not refuse the options a figure does take."""
    import inspect

    from dnpsim.experiments.figures import FIGURES

    for name, make in FIGURES.items():
        params = inspect.signature(make.target()).parameters
        assert {"quick", "output_dir", "realizations", "workers"} <= set(params), name
        if name.startswith("anderson-"):
            assert "L" in params, name
        if name.startswith(("spin-temperature-", "zeno-fig2", "zeno-figS")):
            assert "n_electrons" in params, name


def test_figure_size_flag_end_to_end(tmp_path):
    """`dnpsim figure anderson-fig3 --size 4` runs the L = 4 lattice (a few seconds)."""
    import xarray as xr

    assert main(["figure", "anderson-fig3", "--quick", "--size", "4", "--realizations", "2", "-q",
                 "--output-dir", str(tmp_path)]) == 0
    with xr.open_dataset(tmp_path / "anderson-fig3.nc", engine="h5netcdf") as data:
        assert data.sizes["realization"] == 2
        assert int(data.attrs["L"]) == 4
